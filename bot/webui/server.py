"""The web server in the bot's process: aiohttp's own, read-only, behind strict headers.

Every answer carries a Content-Security-Policy that allows only this site's stylesheet (no
scripts at all), an ETag of its body (a reader or crawler that sends it back gets 304 and no
body), and `no-cache` so a published page is always revalidated: unpublishing, or removing a
resource, shows at once even through a caching proxy.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.database import SessionFactory
from bot.library.listing import LibraryListing
from bot.services import Services
from bot.settings import WebUISettings
from bot.webui.names import NameResolver
from bot.webui.pages import HTML, Pages, SiteServices
from bot.webui.publishing import Publication
from bot.webui.ratelimit import RateLimiter
from bot.webui.render import environment, render

log = logging.getLogger(__name__)

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
PAGE_CACHE = "public, no-cache"  # store, but ask (with the ETag) every time
STATIC_CACHE = "public, max-age=3600"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_site(
    settings: WebUISettings,
    services: Services,
    sessions: SessionFactory,
    clock: Clock,
    names: NameResolver | None = None,
) -> Site:
    listing = LibraryListing(sessions)
    reading = SiteServices(
        publishing=services.publishing,
        library=services.library,
        listing=listing,
        topics=services.topics,
        recap=services.recap,
        sessions=sessions,
        clock=clock,
        names=names,
    )
    return Site(settings, reading)


class Site:
    """Started by the bot's `setup_hook` when `[web_ui] enabled`, stopped by its `close()`."""

    def __init__(self, settings: WebUISettings, services: SiteServices) -> None:
        self.settings = settings
        self.pages = Pages(
            services,
            base_url=settings.base_url,
            limiter=RateLimiter(settings.search_per_minute, services.clock),
            client_address=self._client_address,
            cache_seconds=settings.cache_seconds,
        )
        self.app = build_app(self.pages)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None  # the bound port (settings.port may be 0: any free one)

    def public_url(self, publication: Publication) -> str:
        return self.pages.public_url(publication)

    async def start(self) -> None:
        # Templates are compiled now, not while the first reader waits (and the gateway with it).
        env = environment()
        for name in env.list_templates(extensions=["html"]):
            env.get_template(name)
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        tcp = web.TCPSite(runner, self.settings.bind, self.settings.port)
        await tcp.start()
        self._runner = runner
        addresses = runner.addresses
        self.port = int(addresses[0][1]) if addresses else self.settings.port
        log.info("The library's web pages are served on %s:%s", self.settings.bind, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _client_address(self, request: web.Request) -> str:
        if self.settings.trust_forwarded_for:
            forwarded = request.headers.getall("X-Forwarded-For", [])
            if forwarded:
                return forwarded[-1].split(",")[-1].strip()
        return request.remote or "unknown"


def build_app(pages: Pages) -> web.Application:
    app = web.Application(middlewares=[_headers, _errors_middleware(f"{pages.base_path}/static")])
    app.add_routes(pages.routes())
    app.add_routes([web.get("/healthz", healthz), web.get("/static/site.css", stylesheet)])
    return app


async def healthz(request: web.Request) -> web.Response:
    response = web.Response(text="ok\n", content_type="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


_STYLESHEET = resources.files("bot.webui").joinpath("static/site.css").read_bytes()


async def stylesheet(request: web.Request) -> web.Response:
    response = web.Response(body=_STYLESHEET, content_type="text/css", charset="utf-8")
    response.headers["Cache-Control"] = STATIC_CACHE
    return response


def _errors_middleware(static: str) -> Any:
    @web.middleware
    async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Errors as small pages of their own (a 404 says no more than "not here")."""
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return _error(static, 404, "Not found", "There is no page here.")
        except web.HTTPMethodNotAllowed:
            return _error(static, 405, "Not allowed", "This site can only be read.")
        except Exception:
            log.exception("A web page failed: %s", request.path)
            return _error(static, 500, "Something went wrong", "Try again later.")

    return errors


def _error(static: str, status: int, title: str, message: str) -> web.Response:
    body = render("error.html", title=title, message=message, static=static)
    response = web.Response(text=body, status=status, content_type=HTML)
    response.headers["Cache-Control"] = "no-store"
    return response


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.update(SECURITY_HEADERS)
    if (
        response.status == 200
        and isinstance(response, web.Response)
        and isinstance(response.body, bytes)
    ):
        tag = '"' + hashlib.blake2b(response.body, digest_size=12).hexdigest() + '"'
        response.headers["ETag"] = tag
        response.headers.setdefault("Cache-Control", PAGE_CACHE)
        if tag in _etags(request.headers.get("If-None-Match", "")):
            not_modified = web.Response(status=304)
            for name in ("ETag", "Cache-Control", *SECURITY_HEADERS):
                not_modified.headers[name] = response.headers[name]
            return not_modified
    return response


def _etags(header: str) -> set[str]:
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}
