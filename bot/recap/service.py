"""The weekly recap, Discord-free: settings, building, storing, posting progress, history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, literal, select
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.guilds.models import Guild
from bot.guilds.service import ensure_guild_row, record_audit
from bot.learning.records import CommunityWeek
from bot.questions import summaries as question_summaries
from bot.questions.summaries import QuestionsSummary
from bot.recap import builder, ranking
from bot.recap.models import Recap, RecapItem, RecapSettings
from bot.recap.records import (
    Contributor,
    PastRecap,
    RecapConfig,
    RecapEntry,
    RecapView,
    TopicSection,
    WeekNumbers,
)
from bot.recap.window import Week, noon_of, parse_local_time, week_ending
from bot.scheduling.models import OutboxPost
from bot.topics.service import TopicService
from bot.unset import UNSET

DEFAULT_WEEKDAY = 0
DEFAULT_TIME = "09:00"
DEFAULT_TOP = 10
MAX_TOP = 25


# (guild id, member id) -> a display name, for members the database has not seen (the cog
# passes the Discord member cache); names are frozen into the stored recap.
NameResolver = Callable[[int, int], str | None]


class RecapService:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        topics: TopicService,
        names: NameResolver | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._topics = topics
        self._names = names

    # settings -------------------------------------------------------------------------------

    async def config(self, guild_id: int) -> RecapConfig:
        async with self._sessions() as session:
            row = await session.get(RecapSettings, guild_id)
            guild = await session.get(Guild, guild_id)
        timezone = guild.timezone if guild is not None else "UTC"
        if row is None:
            return RecapConfig(
                guild_id, None, DEFAULT_WEEKDAY, DEFAULT_TIME, DEFAULT_TOP, timezone, None
            )
        return _config(row, timezone)

    async def configure(
        self,
        guild_id: int,
        guild_name: str,
        actor_id: int,
        *,
        channel_id: int | None = UNSET,
        weekday: int = UNSET,
        local_time: str = UNSET,
        top_n: int = UNSET,
    ) -> RecapConfig:
        """Change the recap settings (validated first: bad input saves nothing), audited."""
        changes: dict[str, Any] = {}
        if weekday is not UNSET:
            if not 0 <= weekday <= 6:
                raise UserFacingError("The weekday must be Monday to Sunday. Nothing was saved.")
            changes["weekday"] = weekday
        if local_time is not UNSET:
            changes["local_time"] = f"{parse_local_time(local_time):%H:%M}"
        if top_n is not UNSET:
            if not 1 <= top_n <= MAX_TOP:
                raise UserFacingError(
                    f"The recap can show 1 to {MAX_TOP} links; {top_n} is outside that. "
                    "Nothing was saved."
                )
            changes["top_n"] = top_n
        if channel_id is not UNSET:
            changes["channel_id"] = channel_id
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            guild = await ensure_guild_row(session, guild_id, guild_name, now)
            row = await session.get(RecapSettings, guild_id)
            if row is None:
                row = RecapSettings(
                    guild_id=guild_id,
                    channel_id=None,
                    weekday=DEFAULT_WEEKDAY,
                    local_time=DEFAULT_TIME,
                    top_n=DEFAULT_TOP,
                    updated_by=actor_id,
                    updated_at=now,
                )
                session.add(row)
            for key, value in changes.items():
                setattr(row, key, value)
            row.updated_by = actor_id
            row.updated_at = now
            await record_audit(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action="recap.settings",
                target="recap",
                now=now,
                details={"changes": changes},
            )
            return _config(row, guild.timezone)

    async def link_schedule(self, guild_id: int, schedule_id: int | None) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(RecapSettings, guild_id)
            if row is not None:
                row.schedule_id = schedule_id

    # building -------------------------------------------------------------------------------

    async def build(self, guild_id: int, slot_at: datetime, top_n: int) -> RecapView:
        """The recap of the week ending at `slot_at`, computed now (nothing stored)."""
        config = await self.config(guild_id)
        week = week_ending(slot_at, config.timezone)
        topics = await self._topics.active_topics(guild_id)
        async with self._sessions() as session:
            ranked = await ranking.run(
                session, ranking.top_query(guild_id, week.start, week.end, top_n)
            )
            entries = await builder.ranked_entries(session, guild_id, week, ranked)
            sections = await builder.topic_sections(session, guild_id, week, topics)
            numbers = await builder.week_numbers(session, guild_id, week, topics)
            contributors = await builder.top_contributors(session, guild_id, week)
            questions = await question_summaries.for_recap(session, guild_id, week.start, week.end)
            feeds = await builder.feed_highlights(session, guild_id, week)
        name = self._name_of(guild_id)
        return RecapView(
            guild_id=guild_id,
            week=week,
            top_n=top_n,
            entries=tuple(name(e) for e in entries),
            topics=tuple(replace(t, entries=tuple(name(e) for e in t.entries)) for t in sections),
            numbers=replace(
                numbers, learning=numbers.learning.named(lambda m: self._lookup(guild_id, m))
            ),
            contributors=tuple(
                c if c.name else replace(c, name=self._lookup(guild_id, c.member_id))
                for c in contributors
            ),
            questions=questions,
            feeds=tuple(feeds),
        )

    def _lookup(self, guild_id: int, member_id: int) -> str:
        return (self._names(guild_id, member_id) if self._names else None) or ""

    def _name_of(self, guild_id: int) -> Callable[[RecapEntry], RecapEntry]:
        def named(entry: RecapEntry) -> RecapEntry:
            if entry.first_sharer_name:
                return entry
            return replace(entry, first_sharer_name=self._lookup(guild_id, entry.first_sharer_id))

        return named

    async def preview(self, guild_id: int) -> RecapView:
        config = await self.config(guild_id)
        return await self.build(guild_id, self._clock.now(), config.top_n)

    async def prepare(
        self, guild_id: int, slot_at: datetime, *, trigger: str, channel_id: int | None = None
    ) -> RecapView:
        """The stored recap for this slot: built and stored on first call, loaded afterwards.

        The unique (guild, trigger, slot) key makes a second caller (a restart, another process)
        load the first one's snapshot instead of building a different one.
        """
        existing = await self._find(guild_id, trigger, slot_at)
        if existing is not None:
            return existing
        config = await self.config(guild_id)
        target = channel_id if channel_id is not None else config.channel_id
        if target is None:
            raise UserFacingError(
                "The recap has no channel yet: a moderator sets one with `/mod recap settings`."
            )
        view = await self.build(guild_id, slot_at, config.top_n)
        now = self._clock.now()
        try:
            async with self._sessions() as session, session.begin():
                recap = Recap(
                    guild_id=guild_id,
                    trigger=trigger,
                    slot_at=slot_at,
                    window_start=view.week.start,
                    window_end=view.week.end,
                    timezone=view.week.timezone,
                    channel_id=target,
                    top_n=view.top_n,
                    numbers=_numbers_json(view),
                    status="posting",
                    created_at=now,
                )
                session.add(recap)
                await session.flush()
                session.add_all(_item_rows(recap.id, guild_id, view))
        except IntegrityError:
            found = await self._find(guild_id, trigger, slot_at)
            if found is None:
                raise
            return found
        return await self.load(guild_id, recap.id)

    # posting progress -----------------------------------------------------------------------

    async def mark_posted(self, guild_id: int, recap_id: int) -> None:
        async with self._sessions() as session, session.begin():
            recap = await session.get(Recap, recap_id)
            if recap is not None and recap.guild_id == guild_id:
                recap.status = "posted"
                recap.posted_at = self._clock.now()

    async def unfinished(self, guild_id: int) -> list[int]:
        """Recaps whose posting was interrupted (a restart finishes them)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Recap.id)
                .where(Recap.guild_id == guild_id, Recap.status == "posting")
                .order_by(Recap.id)
            )
            return [int(r) for r in rows]

    # history --------------------------------------------------------------------------------

    async def load(self, guild_id: int, recap_id: int) -> RecapView:
        async with self._sessions() as session:
            recap = await session.get(Recap, recap_id)
            if recap is None or recap.guild_id != guild_id:
                raise UserFacingError("That recap does not exist on this server.")
            items = list(
                await session.scalars(
                    select(RecapItem)
                    .where(RecapItem.guild_id == guild_id, RecapItem.recap_id == recap_id)
                    .order_by(RecapItem.position)
                )
            )
        return _view(recap, items)

    async def history(self, guild_id: int, limit: int = 25) -> list[PastRecap]:
        # The first part's message, from the outbox the recap was posted through ("recap:<id>").
        first_message = (
            select(OutboxPost.message_id)
            .where(
                OutboxPost.guild_id == Recap.guild_id,
                OutboxPost.scope == literal("recap:") + cast(Recap.id, String),
                OutboxPost.part == "0",
            )
            .scalar_subquery()
        )
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Recap, first_message)
                    .where(Recap.guild_id == guild_id)
                    .order_by(Recap.window_end.desc(), Recap.id.desc())
                    .limit(limit)
                )
            ).all()
        return [
            PastRecap(
                recap_id=r.id,
                week=Week(r.window_start, r.window_end, r.timezone),
                channel_id=r.channel_id,
                first_message_id=int(m) if m is not None else None,
                trigger=r.trigger,
                status=r.status,
            )
            for r, m in rows
        ]

    async def week_of(self, guild_id: int, day_text: str) -> RecapView:
        """The stored recap whose week contains `day_text` (YYYY-MM-DD, guild's calendar)."""
        from bot.recap.window import parse_date

        config = await self.config(guild_id)
        instant = noon_of(parse_date(day_text), config.timezone)
        async with self._sessions() as session:
            recap_id = await session.scalar(
                select(Recap.id)
                .where(
                    Recap.guild_id == guild_id,
                    Recap.window_start <= instant,
                    Recap.window_end > instant,
                )
                .order_by((Recap.trigger == "schedule").desc(), Recap.window_end.desc())
                .limit(1)
            )
        if recap_id is None:
            raise UserFacingError(f"There is no recap of the week of {day_text.strip()[:10]}.")
        return await self.load(guild_id, int(recap_id))

    async def _find(self, guild_id: int, trigger: str, slot_at: datetime) -> RecapView | None:
        async with self._sessions() as session:
            recap_id = await session.scalar(
                select(Recap.id).where(
                    Recap.guild_id == guild_id, Recap.trigger == trigger, Recap.slot_at == slot_at
                )
            )
        return None if recap_id is None else await self.load(guild_id, int(recap_id))


def _config(row: RecapSettings, timezone: str) -> RecapConfig:
    return RecapConfig(
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        weekday=row.weekday,
        local_time=row.local_time,
        top_n=row.top_n,
        timezone=timezone,
        schedule_id=row.schedule_id,
    )


def _numbers_json(view: RecapView) -> dict[str, Any]:
    n = view.numbers
    return {
        "links_shared": n.links_shared,
        "new_sharers": n.new_sharers,
        "new_topics": list(n.new_topics),
        "chats": [list(c) for c in n.chats],
        "learning": n.learning.stored(),
        "contributors": [[c.member_id, c.name, c.links] for c in view.contributors],
        "topics": [[t.topic_id, t.name] for t in view.topics],
        "questions": view.questions.to_json(),
    }


def _item_rows(recap_id: int, guild_id: int, view: RecapView) -> list[RecapItem]:
    sections: list[tuple[str, int | None, str, tuple[RecapEntry, ...]]] = [
        ("top", None, "", view.entries)
    ]
    sections += [("topic", t.topic_id, t.name, t.entries) for t in view.topics]
    sections.append(("feeds", None, "", view.feeds))
    rows: list[RecapItem] = []
    for section, topic_id, topic_name, entries in sections:
        for e in entries:
            rows.append(
                RecapItem(
                    recap_id=recap_id,
                    guild_id=guild_id,
                    position=len(rows),
                    section=section,
                    topic_id=topic_id,
                    topic_name=topic_name[:100],
                    rank=e.rank,
                    resource_id=e.resource_id,
                    title=e.title[:300],
                    url=e.url[:2048],
                    domain=e.domain[:255],
                    tags=list(e.tags),
                    sharers=e.sharers,
                    engagement=e.engagement,
                    first_sharer_id=e.first_sharer_id,
                    first_sharer_name=e.first_sharer_name[:100],
                    first_share_channel_id=e.channel_id,
                    first_share_message_id=e.message_id,
                    first_shared_at=e.first_shared_at,
                )
            )
    return rows


def _entry(row: RecapItem) -> RecapEntry:
    return RecapEntry(
        rank=row.rank,
        resource_id=row.resource_id,
        title=row.title,
        url=row.url,
        domain=row.domain,
        tags=tuple(row.tags or ()),
        sharers=row.sharers,
        engagement=row.engagement,
        first_sharer_id=row.first_sharer_id,
        first_sharer_name=row.first_sharer_name,
        channel_id=row.first_share_channel_id,
        message_id=row.first_share_message_id,
        first_shared_at=row.first_shared_at,
    )


def _view(recap: Recap, items: list[RecapItem]) -> RecapView:
    numbers = recap.numbers or {}
    topics: list[TopicSection] = []
    for topic_id, name in numbers.get("topics", []):
        entries = tuple(
            _entry(i) for i in items if i.section == "topic" and i.topic_id == int(topic_id)
        )
        topics.append(TopicSection(int(topic_id), str(name), entries))
    return RecapView(
        guild_id=recap.guild_id,
        week=Week(recap.window_start, recap.window_end, recap.timezone),
        top_n=recap.top_n,
        entries=tuple(_entry(i) for i in items if i.section == "top"),
        topics=tuple(topics),
        numbers=WeekNumbers(
            links_shared=int(numbers.get("links_shared", 0)),
            new_sharers=int(numbers.get("new_sharers", 0)),
            new_topics=tuple(str(t) for t in numbers.get("new_topics", [])),
            chats=tuple((str(a), str(b)) for a, b in numbers.get("chats", [])),
            learning=CommunityWeek.from_stored(numbers.get("learning")),
        ),
        contributors=tuple(
            Contributor(int(m), str(n), int(c)) for m, n, c in numbers.get("contributors", [])
        ),
        recap_id=recap.id,
        feeds=tuple(_entry(i) for i in items if i.section == "feeds"),
        channel_id=recap.channel_id,
        questions=QuestionsSummary.from_json(numbers.get("questions")),
    )
