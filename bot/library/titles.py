"""A page's title from its HTML: og:title, then twitter:title, then <title>."""

from __future__ import annotations

from bot.clean import clean_text
from bot.web.html import read_html

MAX_TITLE = 300


def extract_title(body: bytes, charset: str | None = None) -> str | None:
    head_end = body.lower().find(b"</head>")
    if head_end != -1:
        body = body[: head_end + 7]
    soup = read_html(body, charset)
    for attribute, name in (("property", "og:title"), ("name", "twitter:title")):
        tag = soup.find("meta", attrs={attribute: name})
        content = tag.get("content") if tag is not None else None
        if isinstance(content, str) and content.strip():
            return _clean(content)
    if soup.title is not None:
        return _clean(soup.title.get_text())
    return None


def _clean(text: str) -> str | None:
    # A page may carry a raw NUL or control codes: the one cleaner drops them (PostgreSQL refuses
    # U+0000), then whitespace runs become single spaces.
    cleaned = " ".join(clean_text(text).split())[:MAX_TITLE]
    return cleaned or None
