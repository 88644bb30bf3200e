"""From what a moderator pastes to a feed: a feed URL, a page that links its feed, a YouTube
channel in any form or a playlist. Everything is fetched through the safe fetcher."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urljoin, urlsplit

from bot.errors import UserFacingError
from bot.feeds.parsing import NotAFeed, ParsedFeed, parse_feed
from bot.settings import FeedSettings
from bot.web.fetcher import BlockedAddress, FetchedPage, FetchError, SafeFetcher
from bot.web.html import read_html

if TYPE_CHECKING:
    from bs4 import BeautifulSoup

YOUTUBE_ORIGIN = "https://www.youtube.com"
YOUTUBE_HOSTS = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com"})
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)
ACCEPT = ", ".join([*FEED_TYPES[:3], "application/xml;q=0.9", "text/xml;q=0.9", "*/*;q=0.5"])
_CHANNEL_ID = re.compile(r"UC[0-9A-Za-z_-]{22}")
_CHANNEL_IN_PAGE = re.compile(r'"(?:channelId|externalId)"\s*:\s*"(UC[0-9A-Za-z_-]{22})"')


@dataclass(frozen=True)
class Fetched:
    """A feed fetched and parsed: its URL, what it says, and the validators for next time."""

    url: str
    feed: ParsedFeed
    etag: str | None
    last_modified: str | None
    youtube: bool


class Discovery:
    """`youtube_origin` is where YouTube's pages and feeds are (a test server in tests)."""

    def __init__(
        self, fetcher: SafeFetcher, settings: FeedSettings, *, youtube_origin: str = YOUTUBE_ORIGIN
    ) -> None:
        self._fetcher = fetcher
        self._settings = settings
        self._youtube = youtube_origin.rstrip("/")
        self._youtube_hosts = YOUTUBE_HOSTS | {urlsplit(youtube_origin).netloc}

    def headers(self, etag: str | None = None, last_modified: str | None = None) -> dict[str, str]:
        headers = {"User-Agent": self._settings.user_agent, "Accept": ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return headers

    async def get(self, url: str, headers: Mapping[str, str] | None = None) -> FetchedPage:
        page = await self._fetcher.fetch(
            url,
            headers=headers or self.headers(),
            timeout_seconds=self._settings.fetch_timeout_seconds,
            max_bytes=self._settings.max_feed_bytes,
        )
        if page.truncated:
            raise FetchError(f"it is larger than {self._settings.max_feed_bytes:,} bytes")
        return page

    async def resolve(self, url: str) -> Fetched:
        """The feed behind `url`; raises UserFacingError saying why there is none."""
        url = url.strip()
        if not re.match(r"https?://", url, re.IGNORECASE):
            url = f"https://{url}"
        try:
            youtube_feed = await self._youtube_feed(url)
            if youtube_feed is not None:
                return await self._feed_at(youtube_feed, youtube=True)
            page = await self.get(url)
            try:
                return await self._parsed(page, youtube=False)
            except NotAFeed:
                pass
            linked = await asyncio.to_thread(linked_feeds, page)
            if not linked:
                raise UserFacingError(
                    f"<{url}> is not a feed, and the page links no feed "
                    '(`<link rel="alternate">`). Try the site\'s RSS or Atom address.'
                )
            return await self._feed_at(linked[0], youtube=False)
        except BlockedAddress as exc:
            raise UserFacingError(f"I may not fetch <{url}>: {exc}. Nothing was saved.") from None
        except FetchError as exc:
            raise UserFacingError(f"I could not fetch <{url}>: {exc}. Nothing was saved.") from None

    async def _feed_at(self, url: str, *, youtube: bool) -> Fetched:
        page = await self.get(url)
        try:
            return await self._parsed(page, youtube=youtube)
        except NotAFeed:
            raise UserFacingError(
                f"<{url}> is not a feed (RSS or Atom). Nothing was saved."
            ) from None

    async def _parsed(self, page: FetchedPage, *, youtube: bool) -> Fetched:
        feed = await asyncio.to_thread(parse_feed, page.body, page.url)
        return Fetched(
            page.url,
            feed,
            page.headers.get("etag"),
            page.headers.get("last-modified"),
            youtube or urlsplit(page.url).netloc in self._youtube_hosts,
        )

    async def _youtube_feed(self, url: str) -> str | None:
        """The feed URL of a YouTube channel or playlist URL; None for other sites."""
        parts = urlsplit(url)
        if parts.netloc.lower() not in self._youtube_hosts:
            return None
        query = parse_qs(parts.query)
        if parts.path.startswith("/feeds/"):
            return url
        if parts.path == "/playlist" and query.get("list"):
            return f"{self._youtube}/feeds/videos.xml?playlist_id={query['list'][0]}"
        match = re.fullmatch(r"/channel/(UC[0-9A-Za-z_-]{22})/?.*", parts.path)
        if match:
            return f"{self._youtube}/feeds/videos.xml?channel_id={match.group(1)}"
        if re.match(r"/(@[^/]+|c/[^/]+|user/[^/]+)", parts.path):
            page = await self._fetcher.fetch(
                url,
                headers={"User-Agent": self._settings.user_agent},
                timeout_seconds=self._settings.fetch_timeout_seconds,
                max_bytes=self._settings.max_feed_bytes,
            )
            channel = await asyncio.to_thread(youtube_channel_id, page)
            if channel is None:
                raise UserFacingError(f"I found no YouTube channel at <{url}>. Nothing was saved.")
            return f"{self._youtube}/feeds/videos.xml?channel_id={channel}"
        raise UserFacingError(
            "That YouTube address is no channel or playlist. Use the channel's page "
            "(`youtube.com/@name`) or a playlist (`youtube.com/playlist?list=…`)."
        )


def _soup(page: FetchedPage) -> BeautifulSoup:
    return read_html(page.body, page.charset)


def linked_feeds(page: FetchedPage) -> list[str]:
    """The feeds a page links with `<link rel="alternate" type="…">`, absolute, in order."""
    found: list[str] = []
    for link in _soup(page).find_all("link", href=True):
        rel: Any = link.get("rel") or []
        rels = [str(r).lower() for r in (rel if isinstance(rel, list) else str(rel).split())]
        kind = str(link.get("type", "")).lower().split(";")[0].strip()
        if "alternate" in rels and kind in FEED_TYPES:
            href = urljoin(page.url, str(link["href"]))
            if href not in found:
                found.append(href)
    return found


def youtube_channel_id(page: FetchedPage) -> str | None:
    """The channel id a YouTube channel page names (meta, canonical link, or its page data)."""
    soup = _soup(page)
    meta = soup.find("meta", attrs={"itemprop": ["channelId", "identifier"]})
    if meta is not None and _CHANNEL_ID.fullmatch(str(meta.get("content", ""))):
        return str(meta["content"])
    for link in soup.find_all("link", href=True):
        match = re.search(r"/channel/(UC[0-9A-Za-z_-]{22})", str(link["href"]))
        if match:
            return match.group(1)
    match = _CHANNEL_IN_PAGE.search(page.body.decode(page.charset or "utf-8", "replace"))
    return match.group(1) if match else None
