"""Words for counts, the one way: "1 topic", "2 topics", "1 reply", "3 replies"."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`count` and the noun in the right number (`plural_form` for irregular nouns)."""
    word = singular if count == 1 else plural_form or f"{singular}s"
    return f"{count:,} {word}"
