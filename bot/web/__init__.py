"""Fetching from the web safely: the one fetcher the library (titles) and feeds share."""
