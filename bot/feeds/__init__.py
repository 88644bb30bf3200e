"""Feeds: blogs, YouTube channels and podcasts followed into topic channels and the library."""
