"""A real loopback feed server for feed tests: RSS, Atom, pages, ETags and failures.

server = FeedServer()
await server.start()
server.rss("/blog.xml", "Blog", [entry("a", "First post", when)])
server.fail("/down.xml", 503, retry_after="3600")
server.hits["/blog.xml"], server.not_modified["/blog.xml"]
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from aiohttp import web


@dataclass(frozen=True)
class Entry:
    guid: str
    title: str
    published: datetime
    summary: str = ""
    link: str | None = None
    categories: tuple[str, ...] = ()


def entry(guid: str, title: str, published: datetime, summary: str = "", **kw: object) -> Entry:
    return Entry(guid, title, published, summary, **kw)  # type: ignore[arg-type]


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/rss+xml"
    etag: bool = True
    headers: dict[str, str] = field(default_factory=dict)


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.user_agents: list[str] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.origin}{path}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path_qs
        self.hits[path] += 1
        self.user_agents.append(request.headers.get("User-Agent", ""))
        route = self.routes.get(path)
        if route is None:
            return web.Response(status=404)
        if route.status != 200:
            return web.Response(status=route.status, headers=route.headers)
        tag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
        headers = dict(route.headers)
        if route.etag:
            headers["ETag"] = tag
            if request.headers.get("If-None-Match") == tag:
                self.not_modified[path] += 1
                return web.Response(status=304, headers=headers)
        return web.Response(body=route.body, content_type=route.content_type, headers=headers)

    def serve(self, path: str, body: bytes | str, content_type: str, **kw: object) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(200, data, content_type, **kw)  # type: ignore[arg-type]

    def rss(self, path: str, title: str, entries: list[Entry], **kw: object) -> str:
        items = "".join(
            f"<item><guid>{escape(e.guid)}</guid><title>{escape(e.title)}</title>"
            f"<link>{escape(e.link or self.url('/posts/' + e.guid))}</link>"
            f"<pubDate>{format_datetime(e.published)}</pubDate>"
            f"<description>{escape(e.summary)}</description>"
            + "".join(f"<category>{escape(c)}</category>" for c in e.categories)
            + "</item>"
            for e in entries
        )
        body = (
            '<?xml version="1.0"?><rss version="2.0"><channel>'
            f"<title>{escape(title)}</title><link>{self.url('/')}</link>{items}</channel></rss>"
        )
        self.serve(path, body, "application/rss+xml", **kw)
        return self.url(path)

    def atom(self, path: str, title: str, entries: list[Entry], **kw: object) -> str:
        items = "".join(
            f"<entry><id>{escape(e.guid)}</id><title>{escape(e.title)}</title>"
            f'<link href="{escape(e.link or self.url("/posts/" + e.guid))}"/>'
            f"<updated>{e.published.isoformat()}</updated>"
            f'<summary type="html">{escape(e.summary)}</summary></entry>'
            for e in entries
        )
        body = (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(title)}</title><id>{self.url(path)}</id>{items}</feed>"
        )
        self.serve(path, body, "application/atom+xml", **kw)
        return self.url(path)

    def page(self, path: str, feed_path: str, title: str = "A blog") -> str:
        body = (
            f"<!doctype html><html><head><title>{title}</title>"
            f'<link rel="alternate" type="application/rss+xml" href="{feed_path}">'
            "</head><body><p>Hello</p></body></html>"
        )
        self.serve(path, body, "text/html")
        return self.url(path)

    def fail(self, path: str, status: int, *, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after else {}
        self.routes[path] = Route(status=status, headers=headers)
