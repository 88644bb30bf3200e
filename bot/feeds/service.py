"""Followed feeds, Discord-free: adding (after a preview), editing, health, OPML, suggestions.

The checks themselves are the poller's (bot/feeds/poller.py); this service owns the rows.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.feeds.discovery import Discovery, Fetched
from bot.feeds.models import Feed, FeedItem, FeedSuggestion
from bot.feeds.opml import Outline
from bot.feeds.parsing import ItemFilter
from bot.feeds.records import MODES, FeedInfo, info_of
from bot.guilds.models import Guild
from bot.guilds.service import ensure_guild_row
from bot.recap.window import parse_local_time
from bot.scheduling import SchedulingCore, parse_when
from bot.settings import FeedSettings
from bot.tags import parse_tags
from bot.unset import UNSET

DIGEST_KIND = "feeds.digest"
MAX_FILTER = 400


@dataclass(frozen=True)
class ImportPlan:
    """What an OPML import would do: the feeds it adds, the ones already followed, and those
    over the server's limit (not added)."""

    new: tuple[Outline, ...]
    known: tuple[Outline, ...]
    over_limit: tuple[Outline, ...]


def jittered(minutes: int, rng: random.Random) -> timedelta:
    """The poll interval, spread ±10% so that feeds added together do not fire together."""
    return timedelta(minutes=minutes) * rng.uniform(0.9, 1.1)


def check_filter(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_FILTER:
        raise UserFacingError(f"The filter may be at most {MAX_FILTER} characters.")
    return str(ItemFilter.parse(text))


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise UserFacingError(f"The mode is one of {', '.join(MODES)}.")
    return mode


class FeedService:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        settings: FeedSettings,
        discovery: Discovery,
        core: SchedulingCore,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.settings = settings
        self.discovery = discovery
        self._core = core
        self._rng = rng or random.Random()

    # --- adding ------------------------------------------------------------------------------

    async def preview(self, url: str) -> Fetched:
        """Fetch what `url` leads to once (discovery included); raises UserFacingError."""
        return await self.discovery.resolve(url)

    async def add(
        self,
        guild_id: int,
        guild_name: str,
        actor_id: int,
        fetched: Fetched,
        *,
        channel_id: int,
        topic_id: int | None = None,
        tags: Sequence[str] = (),
        mode: str = "post",
        filter: str = "",
        no_shorts: bool = False,
        digest_time: str = "18:00",
        post_newest: bool = False,
    ) -> FeedInfo:
        """Follow the previewed feed: every current item is seen (the newest one is queued for
        posting when `post_newest`), so nothing old is posted."""
        mode = check_mode(mode)
        filter = check_filter(filter)
        at = f"{parse_local_time(digest_time):%H:%M}"
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            await self._refuse_known(session, guild_id, fetched.url)
            await self._refuse_over_limit(session, guild_id, 1)
            row = Feed(
                guild_id=guild_id,
                url=fetched.url,
                site_url=fetched.feed.site_url,
                title=fetched.feed.title[:300],
                topic_id=topic_id,
                channel_id=channel_id,
                tags=list(tags),
                mode=mode,
                filter=filter,
                no_shorts=no_shorts and fetched.youtube,
                digest_time=at,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                checked_at=now,
                next_check_at=now if post_newest else now + self.interval(),
                created_by=actor_id,
                created_at=now,
            )
            session.add(row)
            await session.flush()
            for index, item in enumerate(fetched.feed.items):
                state = "seen"
                if index == 0 and post_newest:
                    state = "digest" if mode == "digest" else "claimed"
                session.add(
                    FeedItem(
                        feed_id=row.id,
                        key=item.key,
                        guild_id=guild_id,
                        state=state,
                        payload=item.payload(),
                        seen_at=now,
                    )
                )
        info = info_of(row)
        if mode == "digest":
            info = await self._schedule_digest(info, guild_name, actor_id)
        return info

    async def _refuse_over_limit(self, session: AsyncSession, guild_id: int, adding: int) -> None:
        count = await self._count(session, guild_id)
        limit = self.settings.max_feeds_per_guild
        if count + adding > limit:
            raise UserFacingError(
                f"This server follows {count} of at most {limit} feeds; remove one first "
                "(`/mod feed remove`). Nothing was saved."
            )

    async def _count(self, session: AsyncSession, guild_id: int) -> int:
        query = select(func.count()).select_from(Feed).where(Feed.guild_id == guild_id)
        return int(await session.scalar(query) or 0)

    async def _refuse_known(self, session: AsyncSession, guild_id: int, url: str) -> None:
        known = await session.scalar(
            select(Feed.id).where(Feed.guild_id == guild_id, Feed.url == url)
        )
        if known is not None:
            raise UserFacingError(
                f"This server already follows that feed (#{known}); change it with "
                f"`/mod feed edit {known}`. Nothing was saved."
            )

    def interval(self) -> timedelta:
        return jittered(self.settings.poll_interval_minutes, self._rng)

    # --- reading -----------------------------------------------------------------------------

    async def for_guild(self, guild_id: int) -> list[FeedInfo]:
        query = select(Feed).where(Feed.guild_id == guild_id).order_by(Feed.id)
        async with self._sessions() as session:
            return [info_of(row) for row in (await session.scalars(query)).all()]

    async def get(self, guild_id: int, feed_id: int) -> FeedInfo:
        async with self._sessions() as session:
            return info_of(await _feed(session, guild_id, feed_id))

    # --- changing ----------------------------------------------------------------------------

    async def edit(
        self,
        guild_id: int,
        guild_name: str,
        actor_id: int,
        feed_id: int,
        *,
        channel_id: int = UNSET,
        topic_id: int | None = UNSET,
        tags: str = UNSET,
        mode: str = UNSET,
        filter: str = UNSET,
        no_shorts: bool = UNSET,
        digest_time: str = UNSET,
    ) -> FeedInfo:
        changes: dict[str, Any] = {}
        if channel_id is not UNSET:
            changes["channel_id"] = channel_id
        if topic_id is not UNSET:
            changes["topic_id"] = topic_id
        if tags is not UNSET:
            changes["tags"] = parse_tags(tags)
        if mode is not UNSET:
            changes["mode"] = check_mode(mode)
        if filter is not UNSET:
            changes["filter"] = check_filter(filter)
        if no_shorts is not UNSET:
            changes["no_shorts"] = no_shorts
        if digest_time is not UNSET:
            changes["digest_time"] = f"{parse_local_time(digest_time):%H:%M}"
        async with self._sessions() as session, session.begin():
            row = await _feed(session, guild_id, feed_id)
            was_digest = row.mode == "digest"
            for name, value in changes.items():
                setattr(row, name, value)
            if was_digest and row.mode != "digest":  # what waited for the digest is posted now
                await session.execute(
                    update(FeedItem)
                    .where(FeedItem.feed_id == feed_id, FeedItem.state == "digest")
                    .values(state="claimed")
                )
                row.next_check_at = self._now()
        info = info_of(row)
        return await self._schedule_digest(info, guild_name, actor_id)

    async def set_paused(self, guild_id: int, feed_id: int, paused: bool) -> FeedInfo:
        async with self._sessions() as session, session.begin():
            row = await _feed(session, guild_id, feed_id)
            row.paused = paused
            if not paused and (row.next_check_at is None or row.next_check_at < self._now()):
                row.next_check_at = self._now()
        return info_of(row)

    async def retry(self, guild_id: int, feed_id: int) -> FeedInfo:
        """Check again at once; a disabled feed is enabled again, its failures forgotten."""
        async with self._sessions() as session, session.begin():
            row = await _feed(session, guild_id, feed_id)
            row.disabled_reason = None
            row.failures = 0
            row.failing_since = None
            row.paused = False  # `warned` stays: the log channel hears when it works again
            row.next_check_at = self._now()
        return info_of(row)

    async def remove(self, guild_id: int, feed_id: int) -> FeedInfo:
        async with self._sessions() as session, session.begin():
            row = await _feed(session, guild_id, feed_id)
            info = info_of(row)
            schedule_id = row.digest_schedule_id
            await session.execute(delete(FeedItem).where(FeedItem.feed_id == feed_id))
            await session.delete(row)
        if schedule_id is not None:
            await self._delete_schedule(guild_id, schedule_id)
        return info

    def _now(self) -> datetime:
        return self._clock.now()

    # --- digests -----------------------------------------------------------------------------

    async def _schedule_digest(self, info: FeedInfo, guild_name: str, actor_id: int) -> FeedInfo:
        """A digest feed has one daily schedule (the guild's zone); other modes none."""
        async with self._sessions() as session:
            row = await _feed(session, info.guild_id, info.id)
            guild = await session.get(Guild, info.guild_id)
            timezone = guild.timezone if guild is not None else "UTC"
            old = row.digest_schedule_id
        if old is not None:
            await self._delete_schedule(info.guild_id, old)
        new: int | None = None
        if info.mode == "digest":
            rule = parse_when(f"daily at {info.digest_time}", timezone, self._now())
            schedule = await self._core.schedules.create(
                info.guild_id,
                guild_name,
                actor_id,
                kind=DIGEST_KIND,
                rule=rule,
                label=f"feed #{info.id} digest",
                payload={"feed_id": info.id},
                audit=False,
            )
            new = schedule.id
        async with self._sessions() as session, session.begin():
            row = await _feed(session, info.guild_id, info.id)
            row.digest_schedule_id = new
        await self._core.changed()
        return info_of(row)

    async def follow_guild_timezone(self, guild_id: int, guild_name: str) -> int:
        """Move the guild's daily digests to its (new) time zone; returns how many."""
        digests = [f for f in await self.for_guild(guild_id) if f.mode == "digest"]
        for info in digests:
            await self._schedule_digest(info, guild_name, 0)
        return len(digests)

    async def _delete_schedule(self, guild_id: int, schedule_id: int) -> None:
        with contextlib.suppress(UserFacingError):  # already gone
            await self._core.schedules.delete(guild_id, schedule_id, 0, audit=False)
        await self._core.changed()

    # --- OPML ----------------------------------------------------------------------------------

    async def plan_import(self, guild_id: int, outlines: Sequence[Outline]) -> ImportPlan:
        async with self._sessions() as session:
            known_urls = set(
                (await session.scalars(select(Feed.url).where(Feed.guild_id == guild_id))).all()
            )
            room = self.settings.max_feeds_per_guild - await self._count(session, guild_id)
        new: list[Outline] = []
        known: list[Outline] = []
        for outline in outlines:
            if outline.url in known_urls or any(o.url == outline.url for o in new):
                known.append(outline)
            else:
                new.append(outline)
        room = max(room, 0)
        return ImportPlan(tuple(new[:room]), tuple(known), tuple(new[room:]))

    async def import_feeds(
        self,
        guild_id: int,
        guild_name: str,
        actor_id: int,
        plan: ImportPlan,
        *,
        channel_id: int,
        topic_id: int | None = None,
        tags: Sequence[str] = (),
    ) -> list[FeedInfo]:
        """Add the plan's new feeds. Never checked yet, each one's first check only records its
        current items as seen: an import posts nothing old."""
        now = self._now()
        added: list[Feed] = []
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            await self._refuse_over_limit(session, guild_id, len(plan.new))
            known = set(
                (await session.scalars(select(Feed.url).where(Feed.guild_id == guild_id))).all()
            )
            for outline in plan.new:
                if outline.url in known:
                    continue
                row = Feed(
                    guild_id=guild_id,
                    url=outline.url,
                    site_url=outline.site_url,
                    title=(outline.title or outline.url)[:300],
                    topic_id=topic_id,
                    channel_id=channel_id,
                    tags=list(tags),
                    mode="post",
                    filter="",
                    no_shorts=False,
                    digest_time="18:00",
                    checked_at=None,
                    next_check_at=now + timedelta(seconds=self._rng.uniform(0, 300)),
                    created_by=actor_id,
                    created_at=now,
                )
                session.add(row)
                added.append(row)
        return [info_of(row) for row in added]

    # --- suggestions -------------------------------------------------------------------------

    async def suggest(
        self,
        guild_id: int,
        guild_name: str,
        member_id: int,
        channel_id: int,
        url: str,
        why: str | None,
    ) -> int:
        url = url.strip()
        if not url or len(url) > 2048 or " " in url:
            raise UserFacingError("That is not a web address. Nothing was sent.")
        now = self._now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            row = FeedSuggestion(
                guild_id=guild_id,
                url=url,
                channel_id=channel_id,
                why=(why or "").strip()[:500] or None,
                suggested_by=member_id,
                created_at=now,
            )
            session.add(row)
            await session.flush()
            return row.id

    async def suggestion(self, guild_id: int, suggestion_id: int) -> FeedSuggestion:
        async with self._sessions() as session:
            row = await session.get(FeedSuggestion, suggestion_id)
        if row is None or row.guild_id != guild_id:
            raise UserFacingError("That suggestion no longer exists.")
        if row.status != "pending":
            raise UserFacingError(f"That suggestion was already {row.status}.")
        return row

    async def decide(
        self, guild_id: int, suggestion_id: int, moderator_id: int, *, approve: bool
    ) -> FeedSuggestion:
        async with self._sessions() as session, session.begin():
            row = await session.get(FeedSuggestion, suggestion_id)
            if row is None or row.guild_id != guild_id:
                raise UserFacingError("That suggestion no longer exists.")
            if row.status != "pending":
                raise UserFacingError(f"That suggestion was already {row.status}.")
            row.status = "approved" if approve else "rejected"
            row.decided_by = moderator_id
        return row


async def _feed(session: AsyncSession, guild_id: int, feed_id: int) -> Feed:
    row = await session.get(Feed, feed_id)
    if row is None or row.guild_id != guild_id:
        raise UserFacingError(f"This server follows no feed #{feed_id} (see `/feed list`).")
    return row
