"""The site's pages and feeds: each handler reads through the services and renders a template.

A page belongs to one published guild, named by its slug; any other slug, a removed resource or
an unknown tag is a 404. Nothing here writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.clock import Clock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.library.listing import LibraryListing, Page
from bot.library.records import Resource
from bot.library.search import parse_since
from bot.library.service import LibraryService
from bot.recap.records import PastRecap
from bot.recap.service import RecapService
from bot.tags import normalise_tag
from bot.topics.service import TopicService
from bot.webui import feeds
from bot.webui.names import NameResolver, public_names
from bot.webui.publishing import Publication, PublishingService, public_url
from bot.webui.ratelimit import RateLimiter
from bot.webui.render import local_date, local_day, path_part, render

PAGE_SIZE = 25
FEED_SIZE = 50
SEARCH_RESULTS = 50
MAX_QUERY_LENGTH = 200
MAX_PAGE_NUMBER = 400  # 10,000 resources deep; beyond, search is the way in
RECAP_WEEKS = 520
MAX_CACHED_PAGES = 2000
BUILDERS = 4
SEARCHERS = 1
HTML = "text/html"
TOO_MANY = "Please wait a minute and search again."
ATOM = "application/atom+xml"


@dataclass(frozen=True)
class SiteServices:
    """What the site reads: the services the bot already built, and the same database."""

    publishing: PublishingService
    library: LibraryService
    listing: LibraryListing
    topics: TopicService
    recap: RecapService
    sessions: SessionFactory
    clock: Clock
    names: NameResolver | None = None


@dataclass(frozen=True)
class SiteView:
    """What every template knows about the site it is part of."""

    name: str
    root: str  # the published library's path, e.g. /g/<slug>
    static: str
    max_query: int = MAX_QUERY_LENGTH


Handler = Callable[[web.Request], Awaitable[web.Response]]
PageHandler = Callable[[web.Request, Publication], Awaitable[web.Response]]


class BadRequest(Exception):
    """A reader's input we cannot use: shown on the page with status 400."""


class Pages:
    def __init__(
        self,
        services: SiteServices,
        *,
        base_url: str,
        limiter: RateLimiter,
        client_address: Callable[[web.Request], str],
        cache_seconds: float = 0.0,
    ) -> None:
        self.s = services
        self.base_url = base_url.rstrip("/")
        self.base_path = urlsplit(self.base_url).path.rstrip("/")
        self.limiter = limiter
        self.client_address = client_address
        self.cache_seconds = cache_seconds
        # (slug, names shown, path and query) -> (until, body, content type), oldest first.
        self._pages: dict[tuple[str, bool, str], tuple[float, bytes, str]] = {}
        # Pages built from the database at once; the rest wait their turn here, not in the
        # database's threads, so a crowd of readers leaves the bot's own work room on the CPU.
        self._builders = asyncio.Semaphore(BUILDERS)
        # A search keeps a core busy for tens of milliseconds: one at a time leaves the other
        # core to the bot (two at once were hardly faster in all, bench/web.py).
        self._searchers = asyncio.Semaphore(SEARCHERS)

    def routes(self) -> list[web.RouteDef]:
        g = "/g/{slug}"
        cached, live = self.cached, self.live
        return [
            web.get(f"{g}/", cached(self.library_page)),
            web.get(f"{g}/feed.atom", cached(self.library_feed)),
            # Always fresh: a search is counted against its address's limit first, and a
            # removed resource's page must be gone at once.
            web.get(f"{g}/search", live(self.search_page)),
            web.get(f"{g}/r/{{resource_id:[0-9]{{1,18}}}}", live(self.resource_page)),
            web.get(f"{g}/tags", cached(self.tags_page)),
            web.get(f"{g}/tag/{{tag}}", cached(self.tag_page)),
            web.get(f"{g}/tag/{{tag}}/feed.atom", cached(self.tag_feed)),
            web.get(f"{g}/topic/{{name}}", cached(self.topic_page)),
            web.get(f"{g}/topic/{{name}}/feed.atom", cached(self.topic_feed)),
            web.get(f"{g}/recaps", cached(self.recaps_page)),
            web.get(f"{g}/recaps/feed.atom", cached(self.recaps_feed)),
            web.get(
                f"{g}/recaps/{{week:[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}}}", cached(self.recap_page)
            ),
        ]

    def live(self, page: PageHandler) -> Handler:
        """`page` of the published library the request's slug names (else 404)."""

        async def serve(request: web.Request) -> web.Response:
            pub = await self._published(request)
            async with self._builders:
                return await page(request, pub)

        return serve

    def cached(self, page: PageHandler) -> Handler:
        """`handler`'s page, kept for `cache_seconds`: lists and feeds that many readers and
        crawlers ask for at once are built once. Whether the library is published is read
        live on every request, so unpublishing still takes the page down at once."""

        async def serve(request: web.Request) -> web.Response:
            pub = await self._published(request)
            if self.cache_seconds <= 0:
                async with self._builders:
                    return await page(request, pub)
            key = (pub.slug, pub.include_names, request.path_qs)
            now = self.s.clock.now().timestamp()
            kept = self._pages.get(key)
            if kept is not None and kept[0] > now:
                return self._respond(kept[1], content_type=kept[2])
            async with self._builders:
                response = await page(request, pub)
            if response.status == 200 and isinstance(response.body, bytes):
                self._pages.pop(key, None)
                self._pages[key] = (now + self.cache_seconds, response.body, response.content_type)
                while len(self._pages) > MAX_CACHED_PAGES:
                    del self._pages[next(iter(self._pages))]
            return response

        return serve

    def public_url(self, publication: Publication) -> str:
        return public_url(self.base_url, publication.slug)

    # --- pages ---------------------------------------------------------------------------

    async def library_page(self, request: web.Request, pub: Publication) -> web.Response:
        page = await self.s.listing.page(pub.guild_id, _page_number(request), size=PAGE_SIZE)
        _require_page(page)
        tags = await self.s.library.tag_counts(pub.guild_id, limit=30) if page.number == 1 else []
        topics = await self.s.topics.active_topics(pub.guild_id) if page.number == 1 else []
        return await self._html(
            "library.html", pub, page.resources, page=page, tags=tags, topics=topics
        )

    async def tags_page(self, request: web.Request, pub: Publication) -> web.Response:
        tags = await self.s.library.tag_counts(pub.guild_id, limit=500)
        topics = await self.s.topics.active_topics(pub.guild_id)
        return await self._html("tags.html", pub, (), tags=tags, topics=topics)

    async def tag_page(self, request: web.Request, pub: Publication) -> web.Response:
        tag = _tag(request)
        page = await self.s.listing.page(pub.guild_id, _page_number(request), tag=tag)
        if not page.resources:
            raise web.HTTPNotFound()
        return await self._html("tag.html", pub, page.resources, page=page, tag=tag)

    async def topic_page(self, request: web.Request, pub: Publication) -> web.Response:
        topic, page = await self._topic(request, pub)
        _require_page(page)
        return await self._html("topic.html", pub, page.resources, page=page, topic=topic)

    async def resource_page(self, request: web.Request, pub: Publication) -> web.Response:
        resource = await self._resource(request, pub)
        notes = await self.s.listing.notes(pub.guild_id, resource.id)
        names = await self._names(pub, [resource.first_sharer_id, *(n.member_id for n in notes)])
        body = render_page("resource.html", self._view(pub), pub, names, r=resource, notes=notes)
        return self._respond(body)

    async def search_page(self, request: web.Request, pub: Publication) -> web.Response:
        query = request.query.get("q", "").strip()
        tag_text = request.query.get("tag", "").strip()
        since_text = request.query.get("since", "").strip()
        searched = bool(query or tag_text or since_text)
        results: list[Resource] = []
        error = ""
        status = 200
        try:
            if len(query) > MAX_QUERY_LENGTH:
                raise BadRequest(f"A search takes at most {MAX_QUERY_LENGTH} characters.")
            if searched:
                retry = self.limiter.allow(self.client_address(request))
                if retry is not None:
                    body = _error_html("Too many searches", TOO_MANY, self._static())
                    limited = self._respond(body, status=429)
                    limited.headers["Retry-After"] = str(int(retry))
                    return limited
                tag = _user_tag(tag_text)
                since = parse_since(since_text, self.s.clock.now()) if since_text else None
                async with self._searchers:
                    results = await self.s.library.search(
                        pub.guild_id, query, tag=tag, since=since, limit=SEARCH_RESULTS
                    )
        except (BadRequest, UserFacingError) as exc:
            error, status, searched = str(exc).replace("`", ""), 400, False
        names = await self._names(pub, [r.first_sharer_id for r in results])
        body = render_page(
            "search.html",
            self._view(pub),
            pub,
            names,
            query=query[:MAX_QUERY_LENGTH],
            tag=tag_text[:40],
            since=since_text[:10],
            results=results,
            searched=searched,
            error=error,
            noindex=True,
        )
        return self._respond(body, status=status)

    async def recaps_page(self, request: web.Request, pub: Publication) -> web.Response:
        weeks = [
            {"key": _week_key(r, pub), "label": local_day(r.week.start, pub.timezone)}
            for r in await self._posted_recaps(pub)
        ]
        return self._respond(render_page("recaps.html", self._view(pub), pub, {}, weeks=weeks))

    async def recap_page(self, request: web.Request, pub: Publication) -> web.Response:
        key = request.match_info["week"]
        past = next((r for r in await self._posted_recaps(pub) if _week_key(r, pub) == key), None)
        if past is None:
            raise web.HTTPNotFound()
        recap = await self.s.recap.load(pub.guild_id, past.recap_id)
        ids = [e.first_sharer_id for e in recap.entries] + [c.member_id for c in recap.contributors]
        names = await self._names(pub, ids)
        shown = [c for c in recap.contributors if c.member_id in names]
        contributors = [(names[c.member_id], c.links) for c in shown]
        body = render_page(
            "recap.html",
            self._view(pub),
            pub,
            names,
            recap=recap,
            contributors=contributors,
            label=local_day(past.week.start, pub.timezone),
        )
        return self._respond(body)

    # --- feeds ---------------------------------------------------------------------------

    async def library_feed(self, request: web.Request, pub: Publication) -> web.Response:
        page = await self.s.listing.page(pub.guild_id, size=FEED_SIZE)
        return await self._resources_feed(pub, page, f"{pub.guild_name}: new resources", "/")

    async def tag_feed(self, request: web.Request, pub: Publication) -> web.Response:
        tag = _tag(request)
        page = await self.s.listing.page(pub.guild_id, tag=tag, size=FEED_SIZE)
        if not page.resources:
            raise web.HTTPNotFound()
        return await self._resources_feed(
            pub, page, f"{pub.guild_name}: #{tag}", f"/tag/{_quoted(tag)}"
        )

    async def topic_feed(self, request: web.Request, pub: Publication) -> web.Response:
        topic, page = await self._topic(request, pub, size=FEED_SIZE)
        return await self._resources_feed(
            pub, page, f"{pub.guild_name}: {topic.name}", f"/topic/{_quoted(topic.name)}"
        )

    async def recaps_feed(self, request: web.Request, pub: Publication) -> web.Response:
        posted = []
        for past in (await self._posted_recaps(pub))[:20]:
            posted.append(
                feeds.PostedRecap(
                    view=await self.s.recap.load(pub.guild_id, past.recap_id),
                    page_url=f"{self._absolute(pub)}/recaps/{_week_key(past, pub)}",
                    label=local_day(past.week.start, pub.timezone),
                    posted_at=past.week.end,
                )
            )
        info = self._feed_info(pub, f"{pub.guild_name}: weekly recaps", "/recaps")
        return self._respond(feeds.recaps_feed(info, posted), content_type=ATOM)

    # --- helpers -------------------------------------------------------------------------

    async def _published(self, request: web.Request) -> Publication:
        pub = await self.s.publishing.by_slug(request.match_info["slug"])
        if pub is None:
            raise web.HTTPNotFound()
        return pub

    async def _resource(self, request: web.Request, pub: Publication) -> Resource:
        try:
            return await self.s.library.get(pub.guild_id, int(request.match_info["resource_id"]))
        except UserFacingError:  # removed, or another guild's
            raise web.HTTPNotFound() from None

    async def _topic(self, request: web.Request, pub: Publication, size: int = PAGE_SIZE) -> Any:
        topic = await self.s.topics.by_name(pub.guild_id, request.match_info["name"][:100])
        if topic is None or topic.state != "active":
            raise web.HTTPNotFound()
        page = await self.s.listing.page(
            pub.guild_id,
            _page_number(request),
            size=size,
            channel_ids=[topic.channel_id] if topic.channel_id else [],
            tags_any=topic.default_tags,
        )
        return topic, page

    async def _posted_recaps(self, pub: Publication) -> list[PastRecap]:
        seen: set[str] = set()
        posted = []
        for past in await self.s.recap.history(pub.guild_id, limit=RECAP_WEEKS):
            key = _week_key(past, pub)
            if past.status == "posted" and key not in seen:
                seen.add(key)
                posted.append(past)
        return posted

    async def _names(self, pub: Publication, member_ids: list[int]) -> dict[int, str]:
        if not pub.include_names:
            return {}
        return await public_names(self.s.sessions, pub.guild_id, member_ids, self.s.names)

    async def _html(
        self, template: str, pub: Publication, resources: Any, **values: Any
    ) -> web.Response:
        names = await self._names(pub, [r.first_sharer_id for r in resources])
        return self._respond(render_page(template, self._view(pub), pub, names, **values))

    async def _resources_feed(
        self, pub: Publication, page: Page, title: str, path: str
    ) -> web.Response:
        root = self._absolute(pub)
        urls = {r.id: f"{root}/r/{r.id}" for r in page.resources}
        names = await self._names(pub, [r.first_sharer_id for r in page.resources])
        body = feeds.resources_feed(self._feed_info(pub, title, path), page.resources, urls, names)
        return self._respond(body, content_type=ATOM)

    def _feed_info(self, pub: Publication, title: str, path: str) -> feeds.FeedInfo:
        root = self._absolute(pub)
        page_url = root + path if path != "/" else root + "/"
        feed_url = (root + path).rstrip("/") + "/feed.atom" if path != "/" else root + "/feed.atom"
        return feeds.FeedInfo(title, page_url, feed_url, datetime(2020, 1, 1, tzinfo=UTC))

    def _absolute(self, pub: Publication) -> str:
        return f"{self.base_url}/g/{pub.slug}"

    def _view(self, pub: Publication) -> SiteView:
        return SiteView(pub.guild_name or "Our", f"{self.base_path}/g/{pub.slug}", self._static())

    def _static(self) -> str:
        return f"{self.base_path}/static"

    def _respond(
        self, body: str | bytes, *, status: int = 200, content_type: str = HTML
    ) -> web.Response:
        data = body.encode() if isinstance(body, str) else body
        return web.Response(body=data, status=status, content_type=content_type, charset="utf-8")


def render_page(
    template: str, site: SiteView, pub: Publication, names: Mapping[int, str], **values: Any
) -> str:
    def day(instant: datetime) -> str:
        return local_day(instant, pub.timezone)

    return render(template, site=site, names=names, day=day, **values)


def _error_html(title: str, message: str, static: str) -> str:
    return render("error.html", title=title, message=message, static=static)


def _page_number(request: web.Request) -> int:
    text = request.query.get("page", "1")
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_NUMBER:
        raise web.HTTPNotFound()
    return int(text)


def _require_page(page: Page) -> None:
    if page.number > 1 and not page.resources:
        raise web.HTTPNotFound()


def _tag(request: web.Request) -> str:
    try:
        tag = normalise_tag(request.match_info["tag"][:64])
    except UserFacingError:
        raise web.HTTPNotFound() from None
    if not tag:
        raise web.HTTPNotFound()
    return tag


def _user_tag(text: str) -> str | None:
    if not text:
        return None
    try:
        return normalise_tag(text.lstrip("#")[:64])
    except UserFacingError as exc:
        raise BadRequest(str(exc)) from None


def _quoted(value: str) -> str:
    return path_part(value)


def _week_key(past: PastRecap, pub: Publication) -> str:
    return local_date(past.week.start, pub.timezone)
