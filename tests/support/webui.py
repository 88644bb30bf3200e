"""The library on the web for tests: the real site on a loopback port, read with a real client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.guilds.service import GuildService
from bot.library.listing import LibraryListing
from bot.library.service import LibraryService
from bot.members.service import MemberService
from bot.recap.service import RecapService
from bot.settings import WebUISettings
from bot.topics.service import TopicService
from bot.webui.pages import SiteServices
from bot.webui.publishing import Publication, PublishingService
from bot.webui.server import Site

GUILD, OTHER_GUILD = 1001, 2002
CHANNEL = 11
ALICE, BOB, MOD = 501, 502, 503
BASE_URL = "https://pln.example"
GUILD_NAMES = {GUILD: "Maple PLN", OTHER_GUILD: "Birch PLN"}


@dataclass
class Web:
    """The site and what a test needs to fill the library and read the pages."""

    site: Site
    http: aiohttp.ClientSession
    library: LibraryService
    publishing: PublishingService
    topics: TopicService
    recap: RecapService
    members: MemberService
    guilds: GuildService
    sessions: SessionFactory
    clock: FakeClock

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.site.port}"

    async def publish(self, guild_id: int = GUILD, *, names: bool = False) -> Publication:
        return await self.publishing.publish(
            guild_id, GUILD_NAMES[guild_id], MOD, published=True, include_names=names
        )

    def path(self, pub: Publication, rest: str = "") -> str:
        # Pages link by path under base_url's path; the test server is at its root.
        return f"{self.origin}/g/{pub.slug}/{rest}"

    async def get(self, url: str, **headers: str) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.http.get(url, headers=headers) as response:
            return response.status, await response.text(), response


async def serve_site(
    sessions: SessionFactory, clock: FakeClock, **settings: Any
) -> AsyncIterator[Web]:
    """The site on a free loopback port, over the services it reads (the bot's own kinds)."""
    topics = TopicService(sessions, clock)
    library = LibraryService(sessions, clock)
    publishing = PublishingService(sessions, clock)
    recap = RecapService(sessions, clock, topics)
    names = {(GUILD, ALICE): "Alice Live"}
    services = SiteServices(
        publishing=publishing,
        library=library,
        listing=LibraryListing(sessions),
        topics=topics,
        recap=recap,
        sessions=sessions,
        clock=clock,
        names=lambda guild_id, member_id: names.get((guild_id, member_id)),
    )
    options = {"search_per_minute": 5, "cache_seconds": 0.0, "base_url": BASE_URL} | settings
    site = Site(WebUISettings(enabled=True, port=0, **options), services)
    await site.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Web(
                site,
                http,
                library,
                publishing,
                topics,
                recap,
                MemberService(sessions, clock),
                GuildService(sessions, clock),
                sessions,
                clock,
            )
    finally:
        await site.stop()
