"""Words the bot writes the one way: counts ("1 topic", "2 topics") and Discord timestamps."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`count` and the noun in the right number (`plural_form` for irregular nouns)."""
    word = singular if count == 1 else plural_form or f"{singular}s"
    return f"{count:,} {word}"


def discord_timestamp(epoch_seconds: float, style: str = "F") -> str:
    """A `<t:…>` tag that each reader sees in their own time zone."""
    return f"<t:{int(epoch_seconds)}:{style}>"
