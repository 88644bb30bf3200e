"""Publishing a guild's library on the web: on, off, and which guild a slug names."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from bot.clock import Clock
from bot.database import SessionFactory
from bot.guilds.models import Guild
from bot.guilds.service import ensure_guild_row, record_audit
from bot.webui.models import PublishedLibrary

# 16 URL-safe characters (96 random bits): a published library cannot be found by guessing.
SLUG_BYTES = 12
# How long a process trusts what it read about a slug. Publishing in this process forgets it at
# once; another process sharing the database sees the change within this time.
SLUG_SECONDS = 1.0
MAX_SLUGS = 10_000


@dataclass(frozen=True)
class Publication:
    guild_id: int
    slug: str
    published: bool
    include_names: bool
    guild_name: str = ""
    timezone: str = "UTC"


def public_url(base_url: str, slug: str) -> str:
    """Where readers find a published library (`[web_ui] base_url` plus the slug)."""
    return f"{base_url.rstrip('/')}/g/{slug}/"


class PublishingService:
    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        # slug -> (read at, the published library or None); every page asks, many per second.
        self._slugs: dict[str, tuple[float, Publication | None]] = {}

    async def publish(
        self, guild_id: int, guild_name: str, actor_id: int, *, published: bool, include_names: bool
    ) -> Publication:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            row = await session.get(PublishedLibrary, guild_id)
            if row is None:
                row = PublishedLibrary(guild_id=guild_id, slug=secrets.token_urlsafe(SLUG_BYTES))
                session.add(row)
            row.published, row.include_names = published, include_names and published
            row.updated_by, row.updated_at = actor_id, now
            await record_audit(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action="site.publish" if published else "site.unpublish",
                target="library",
                now=now,
                details={"include_names": row.include_names},
            )
            publication = _publication(row, guild_name)
        self._slugs.pop(publication.slug, None)  # this process's pages change at once
        return publication

    async def status(self, guild_id: int) -> Publication | None:
        async with self._sessions() as session:
            row = await session.get(PublishedLibrary, guild_id)
            return _publication(row) if row is not None else None

    async def by_slug(self, slug: str) -> Publication | None:
        """The published library at `slug`; None when there is none or it was unpublished
        (at once in this process, within SLUG_SECONDS in another one on the same database)."""
        if not 1 <= len(slug) <= 32:
            return None
        now = self._clock.now().timestamp()
        known = self._slugs.get(slug)
        if known is not None and 0 <= now - known[0] < SLUG_SECONDS:
            return known[1]
        found = await self._read_slug(slug)
        if len(self._slugs) >= MAX_SLUGS:
            self._slugs.clear()
        self._slugs[slug] = (now, found)
        return found

    async def _read_slug(self, slug: str) -> Publication | None:
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(PublishedLibrary, Guild.name, Guild.timezone)
                    .join(Guild, Guild.id == PublishedLibrary.guild_id)
                    .where(
                        PublishedLibrary.slug == slug,
                        PublishedLibrary.published.is_(True),
                        Guild.left_at.is_(None),  # a server the bot left shows nothing
                    )
                )
            ).first()
        if found is None:
            return None
        row, name, timezone = found
        return _publication(row, name, timezone)


def _publication(row: PublishedLibrary, name: str = "", timezone: str = "UTC") -> Publication:
    return Publication(row.guild_id, row.slug, row.published, row.include_names, name, timezone)
