"""Making member and web text safe and short enough for Discord."""

from __future__ import annotations

import discord

ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a nearby word boundary, with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return text[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    ends_at_word = text[len(cut)].isspace()
    space = cut.rfind(" ")
    if not ends_at_word and space >= len(cut) * 2 // 3:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def safe_text(text: str, limit: int | None = None) -> str:
    """Member or fetched text with markdown and mentions neutralised, then shortened."""
    cleaned = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    return shorten(cleaned, limit) if limit is not None else cleaned
