"""The one tag rule of the bot (library resources, topics' default tags, digests, feeds):
comma or space separated, lower case, `#` stripped, 1-32 characters, at most 10."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.errors import UserFacingError

MAX_TAGS = 10
MAX_TAG_LENGTH = 32
_VALID = re.compile(r"^[\w+.\-]{1,32}$")


def parse_tags(text: str | None, *, owner: str = "A resource") -> list[str]:
    """Tags from a member's text, normalised and deduplicated in order; friendly error if bad."""
    if not text:
        return []
    pieces = re.split(r"[,\s]+", text)
    return normalise_tags(pieces, owner=owner)


def normalise_tags(tags: Iterable[str], *, owner: str = "A resource") -> list[str]:
    result: list[str] = []
    for raw in tags:
        tag = normalise_tag(raw)
        if tag and tag not in result:
            result.append(tag)
    if len(result) > MAX_TAGS:
        raise UserFacingError(f"{owner} can have at most {MAX_TAGS} tags.")
    return result


def normalise_tag(raw: str) -> str:
    """One tag in stored form ('' for blank input); raises for characters not allowed."""
    tag = "-".join(raw.strip().lstrip("#").lower().split())
    if not tag:
        return ""
    if len(tag) > MAX_TAG_LENGTH:
        raise UserFacingError(f"Tags are at most {MAX_TAG_LENGTH} characters (`{tag[:40]}`).")
    if not _VALID.match(tag):
        shown = tag[:40].replace("`", "")
        raise UserFacingError(
            f"`{shown}` is not a valid tag: use letters, digits, `-`, `_`, `+` and `.`."
        )
    return tag


def merge_tags(existing: Iterable[str], added: Iterable[str]) -> list[str]:
    merged = list(dict.fromkeys([*existing, *added]))
    if len(merged) > MAX_TAGS:
        raise UserFacingError(f"A resource can have at most {MAX_TAGS} tags.")
    return merged
