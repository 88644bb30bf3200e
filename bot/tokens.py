"""What a bot token looks like: the application id it carries, and why a value cannot be one.

A bot token is three parts separated by dots; the first is the bot's user id in base64, which
for a bot is its application id. Discord-free, so settings can judge a token before connecting.
"""

from __future__ import annotations

import base64
import binascii


def application_id_from_token(token: str) -> int | None:
    """The application id a bot token starts with, or None if its first part is not one."""
    first = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(decoded) if decoded.isdigit() else None


def token_problem(token: str) -> str | None:
    """Why `token` cannot be a bot token (a sentence), or None if it has a bot token's shape."""
    if token.startswith(("Bot ", "Bearer ")):
        return "leave out the word before the token (only the token itself goes in the setting)"
    if token != token.strip() or any(c.isspace() for c in token):
        return "it contains spaces or line breaks"
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return "a bot token has three parts separated by dots"
    if application_id_from_token(token) is None:
        return "its first part is not an application id in base64"
    return None
