"""Feed bytes into items: feedparser reads them (never its own HTTP client), BeautifulSoup turns
item HTML into plain text. CPU work that holds the GIL in long C calls (a thread would stall the
event loop by up to ~100 ms on a 1 MB feed), so `FeedParsers` runs it in a worker process.

An item's identity (`key`) is its guid/id, else its link, else a hash of its title and date, so a
reordered or re-published feed shows the same items under the same keys.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.web.html import read_html

SUMMARY_LENGTH = 300
TITLE_LENGTH = 250
_SPACES = re.compile(r"\s+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ParsedItem:
    key: str
    title: str
    link: str | None
    summary: str  # plain text, at most SUMMARY_LENGTH characters
    categories: tuple[str, ...] = ()
    published: datetime | None = None
    thumbnail: str | None = None

    def payload(self) -> dict[str, Any]:
        """What is stored with the item, so a post or a digest needs no new fetch."""
        return {
            "title": self.title,
            "link": self.link,
            "summary": self.summary,
            "thumbnail": self.thumbnail,
            "published": self.published.timestamp() if self.published else None,
        }

    @property
    def is_short(self) -> bool:
        """A YouTube Short (its link goes to /shorts/, or it says #shorts)."""
        return "/shorts/" in (self.link or "") or "#shorts" in self.title.casefold()


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    site_url: str | None
    items: list[ParsedItem] = field(default_factory=list)  # newest first


class NotAFeed(ValueError):
    """The bytes are no feed feedparser can read (an HTML page, an image...)."""


def plain_text(html: str, limit: int = SUMMARY_LENGTH) -> str:
    """HTML to one line of plain text (a real parser, so no tag or entity leaks through)."""
    if not html:
        return ""
    text = read_html(html).get_text(" ", strip=True)
    text = _SPACES.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def item_key(guid: str | None, link: str | None, title: str, date: str | None) -> str:
    if guid:
        identity = f"id:{guid.strip()}"
    elif link:
        identity = f"link:{link.strip()}"
    else:
        identity = f"title:{title.strip()}|{date or ''}"
    return hashlib.sha1(identity.encode(), usedforsecurity=False).hexdigest()


def _when(entry: Any) -> datetime | None:
    for name in ("published_parsed", "updated_parsed"):
        value = entry.get(name)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    return None


def _thumbnail(entry: Any) -> str | None:
    for media in entry.get("media_thumbnail") or []:
        if media.get("url"):
            return str(media["url"])
    for media in entry.get("media_content") or []:
        if media.get("url") and str(media.get("medium", media.get("type", ""))).startswith("image"):
            return str(media["url"])
    image = entry.get("image")
    if isinstance(image, dict) and image.get("href"):
        return str(image["href"])
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return str(link.get("href"))
    return None


def _item(entry: Any) -> ParsedItem:
    title = plain_text(entry.get("title", ""), TITLE_LENGTH) or "(untitled)"
    link = entry.get("link") or None
    summary_html = entry.get("summary", "")
    if not summary_html and entry.get("content"):
        summary_html = entry["content"][0].get("value", "")
    published = _when(entry)
    categories = tuple(str(tag.get("term")) for tag in entry.get("tags") or [] if tag.get("term"))
    return ParsedItem(
        key=item_key(entry.get("id"), link, title, entry.get("published") or entry.get("updated")),
        title=title,
        link=link,
        summary=plain_text(summary_html),
        categories=categories,
        published=published,
        thumbnail=_thumbnail(entry),
    )


def parse_feed(body: bytes, url: str) -> ParsedFeed:
    """The feed's title, link and items, newest first; raises NotAFeed.

    A malformed but readable feed (feedparser's `bozo`) is read as far as it goes.
    """
    # Imported on first parse: usually in the parsing worker, so a bot process without feed
    # previews never carries it.
    import feedparser

    parsed = feedparser.parse(body, response_headers={"content-location": url})
    if not parsed.get("version") and not parsed.entries:
        raise NotAFeed("this is not a feed (RSS or Atom)")
    meta = parsed.feed
    items = [_item(entry) for entry in parsed.entries]
    first: dict[str, ParsedItem] = {}
    for item in items:
        first.setdefault(item.key, item)
    unique = list(first.values())
    # Newest first; items without a date keep the feed's own order, after the dated ones.
    dated = [i for i in unique if i.published is not None]
    dated.sort(key=lambda i: i.published or _EPOCH, reverse=True)
    undated = [i for i in unique if i.published is None]
    return ParsedFeed(
        title=plain_text(meta.get("title", ""), TITLE_LENGTH) or url,
        site_url=meta.get("link") or None,
        items=dated + undated,
    )


@dataclass(frozen=True)
class ItemFilter:
    """Include/exclude words and "quoted phrases" (a leading `-` excludes), case-insensitive,
    matched as whole words on the title, summary and categories."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> ItemFilter:
        include: list[str] = []
        exclude: list[str] = []
        for match in re.finditer(r'(-?)"([^"]+)"|(-?)(\S+)', text or ""):
            negative = match.group(1) or match.group(3)
            term = (match.group(2) or match.group(4) or "").strip().casefold()
            if term and term != "-":
                (exclude if negative else include).append(term)
        return cls(tuple(include), tuple(exclude))

    def __str__(self) -> str:
        def shown(term: str) -> str:
            return f'"{term}"' if " " in term else term

        return " ".join([shown(t) for t in self.include] + [f"-{shown(t)}" for t in self.exclude])

    def accepts(self, item: ParsedItem) -> bool:
        text = " ".join([item.title, item.summary, *item.categories]).casefold()

        def found(term: str) -> bool:
            return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text) is not None

        if any(found(term) for term in self.exclude):
            return False
        return not self.include or any(found(term) for term in self.include)


def _started_pool() -> ProcessPoolExecutor:
    """The worker, started (in a thread: starting a process blocks). forkserver: the worker
    starts from a clean process, not a fork of this one (its threads and open connections)."""
    context = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
    pool.submit(int).result()
    return pool


class FeedParsers:
    """Where `parse_feed` runs: one worker process (the default), or a thread of this process
    (`in_subprocess=False`, for small installs and most tests). One parse at a time either way."""

    def __init__(self, *, in_subprocess: bool = True) -> None:
        self._in_subprocess = in_subprocess
        self._pool: ProcessPoolExecutor | None = None
        self._one_at_a_time = asyncio.Semaphore(1)

    async def parse(self, body: bytes, url: str) -> ParsedFeed:
        async with self._one_at_a_time:
            if not self._in_subprocess:
                return await asyncio.to_thread(parse_feed, body, url)
            if self._pool is None:
                self._pool = await asyncio.to_thread(_started_pool)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, parse_feed, body, url)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
