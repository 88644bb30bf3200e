"""Pure rules for topics: names, channel names, tags and Discord's per-guild caps."""

from __future__ import annotations

import re
import unicodedata

from bot import tags
from bot.errors import UserFacingError

NAME_MAX = 100
DESCRIPTION_MAX = 1024  # a text channel's topic; forum guidelines allow more, this fits both
EMOJI_MAX = 64
REASON_MAX = 1000

MAX_CHANNELS = 500
MAX_ROLES = 250
# Headroom kept below the caps so moderators and other features can still add a few by hand.
CHANNEL_HEADROOM = 5
ROLE_HEADROOM = 5

PAGE_SIZE = 25  # options in one select menu

KINDS = ("text", "forum")
VISIBILITIES = ("open", "opt-in")

_CHANNEL_JUNK = re.compile(r"[^\w-]+", re.UNICODE)
_DASHES = re.compile(r"-{2,}")
_CUSTOM_EMOJI = re.compile(r"<a?:\w{2,32}:\d{15,21}>")


def clean_name(name: str) -> str:
    """A topic name as shown: trimmed, inner whitespace collapsed, 1-100 characters."""
    cleaned = " ".join(unicodedata.normalize("NFC", name).split())
    if not cleaned:
        raise UserFacingError("A topic needs a name (1-100 characters).")
    if len(cleaned) > NAME_MAX:
        raise UserFacingError(f"Topic names are at most {NAME_MAX} characters.")
    if "@" in cleaned or "#" in cleaned:
        raise UserFacingError("Topic names cannot contain `@` or `#`.")
    channel_name(cleaned)  # refuse names that give no channel name
    return cleaned


def name_key(name: str) -> str:
    """The key duplicates are compared on: case-insensitive, whitespace-insensitive."""
    return " ".join(name.split()).casefold()[:NAME_MAX]


def channel_name(name: str) -> str:
    """The Discord channel name for a topic name: lowercase, dashes, letters, digits and `_`."""
    lowered = name.strip().lower().replace(" ", "-")
    slug = _DASHES.sub("-", _CHANNEL_JUNK.sub("-", lowered)).strip("-_")
    if not slug:
        raise UserFacingError(
            "That name has no letters or digits, so it cannot become a channel name."
        )
    return slug[:NAME_MAX]


def clean_description(description: str | None) -> str:
    text = (description or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise UserFacingError(f"Descriptions are at most {DESCRIPTION_MAX} characters.")
    return text


def clean_emoji(emoji: str | None) -> str | None:
    """One unicode emoji or a custom emoji tag, or None."""
    text = (emoji or "").strip()
    if not text:
        return None
    if _CUSTOM_EMOJI.fullmatch(text):
        return text
    if len(text) > 8 or any(ch.isalnum() for ch in text):
        raise UserFacingError("The emoji must be a single emoji, like 📚, or a server emoji.")
    return text


def parse_tags(text: str | None) -> tuple[str, ...]:
    """A topic's default tags: the library's one tag rule, since they tag the links shared there."""
    return tuple(tags.parse_tags(text, owner="A topic"))


def check_caps(*, channels: int, roles: int, new_channels: int = 1) -> None:
    """Refuse a new topic when the guild is near Discord's channel or role cap."""
    if channels + new_channels > MAX_CHANNELS - CHANNEL_HEADROOM:
        raise UserFacingError(
            f"This server has {channels} channels; Discord allows {MAX_CHANNELS}. Archive or "
            "delete some channels before creating another topic."
        )
    if roles + 1 > MAX_ROLES - ROLE_HEADROOM:
        raise UserFacingError(
            f"This server has {roles} roles; Discord allows {MAX_ROLES}. Remove some roles "
            "before creating another topic."
        )


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise UserFacingError("A topic is a `text` or a `forum` channel.")
    return kind


def check_visibility(visibility: str) -> str:
    if visibility not in VISIBILITIES:
        raise UserFacingError("Visibility is `open` or `opt-in`.")
    return visibility


def pages(count: int) -> int:
    """How many select menus `count` topics need."""
    return max(1, -(-count // PAGE_SIZE))


def shorten_name(name: str) -> str:
    """A name as echoed back in an error: bounded, so a 4000-char input stays readable."""
    text = " ".join(name.split())
    return text if len(text) <= 60 else text[:59] + "…"
