"""Cleaning text that comes from outside (members' commands, forms and messages; web pages) of
characters no one can see and the databases refuse. Discord-free: the Discord entry points
(bot/tree.py, bot/ui/forms.py, bot/core.py) and the page-title reader use the same rule."""

from __future__ import annotations

import re
from typing import Any

# C0 and C1 control characters (and DEL) mean nothing in Discord text, and PostgreSQL refuses
# U+0000 outright; a lone surrogate cannot be encoded for either database. Tab and newline keep
# their meaning in multi-line text; CR is a newline.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_NEWLINES = re.compile(r"\r\n?")


def clean_text(text: str) -> str:
    """Text without control characters: CR and CRLF become LF, tab and LF stay."""
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
