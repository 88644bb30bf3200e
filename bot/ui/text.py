"""Making member and web text safe and short enough for Discord."""

from __future__ import annotations

import re
from typing import Any

import discord

ELLIPSIS = "…"

# C0 and C1 control characters (and DEL) mean nothing in Discord text, and PostgreSQL refuses
# U+0000 outright; a lone surrogate cannot be encoded for either database. Tab and newline keep
# their meaning in multi-line text; CR is a newline.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_NEWLINES = re.compile(r"\r\n?")


def clean_text(text: str) -> str:
    """Member text without control characters: CR and CRLF become LF, tab and LF stay."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub("", _NEWLINES.sub("\n", text))


def clean_payload(value: Any) -> Any:
    """Every string inside an interaction's (or message's) JSON, cleaned, in place for dicts
    and lists; keys are Discord's and left alone."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = clean_payload(item)
    elif isinstance(value, list):
        value[:] = [clean_payload(item) for item in value]
    return value


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


def discord_timestamp(epoch_seconds: float, style: str = "F") -> str:
    """A `<t:…>` tag that each reader sees in their own time zone."""
    return f"<t:{int(epoch_seconds)}:{style}>"
