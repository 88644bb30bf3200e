"""The library on the web: published guilds' read-only pages and Atom feeds. Discord-free."""
