"""Personal weekly digests (opt-in), Discord-free: subscriptions, selection, exactly-once sends.

Each subscriber has one "digest" schedule in the scheduling core (weekly, their weekday and time
in the guild's zone) with a per-member offset of 0-59 minutes, so a guild's digests are spread
over the hour. A `digest_deliveries` row (guild, member, week) is claimed before sending: a
second run of the same week (another schedule of the member's, another process) finds it and
sends nothing. A run resumed after its process died mid-send finishes its own claim: its DMs go
through the run's outbox, which skips or finds the parts already sent.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.database import SessionFactory
from bot.digests.models import DigestDelivery, DigestSubscription
from bot.errors import UserFacingError
from bot.guilds.models import Guild
from bot.guilds.service import ensure_guild_row
from bot.learning.community import member_week
from bot.learning.records import MemberWeek
from bot.questions import summaries as question_summaries
from bot.questions.summaries import QuestionLine
from bot.recap import builder, ranking
from bot.recap.records import RecapEntry
from bot.recap.window import parse_local_time, week_ending
from bot.scheduling import OutboxScope, Recurrence, SchedulingCore, SlotContext
from bot.scheduling.claims import claim_delivery
from bot.scheduling.schedules import BOT_ACTOR
from bot.tags import MAX_TAGS, normalise_tag
from bot.topics.service import TopicService
from bot.unset import UNSET

DIGEST_KIND = "digest"
DIGEST_GRACE = timedelta(hours=12)
DIGEST_SIZE = 10
DMS_CLOSED = "dms_closed"


@dataclass(frozen=True)
class Subscription:
    guild_id: int
    user_id: int
    enabled: bool
    weekday: int
    local_time: str
    tags: tuple[str, ...]
    disabled_reason: str | None
    notice_pending: bool


@dataclass(frozen=True)
class Digest:
    guild_id: int
    user_id: int
    week_end: datetime
    entries: tuple[RecapEntry, ...]
    topics: tuple[str, ...]
    tags: tuple[str, ...]
    open_questions: tuple[QuestionLine, ...] = ()
    learning: MemberWeek | None = None  # the member's own week in the learning log


def spread_minutes(guild_id: int, user_id: int) -> int:
    """A stable minute 0-59 per member: a guild's digests go out over the hour, not at once."""
    return zlib.crc32(f"{guild_id}:{user_id}".encode()) % 60


class DigestService:
    def __init__(
        self, sessions: SessionFactory, clock: Clock, topics: TopicService, core: SchedulingCore
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._topics = topics
        self._core = core

    async def subscription(self, guild_id: int, user_id: int) -> Subscription | None:
        async with self._sessions() as session:
            row = await session.get(DigestSubscription, (guild_id, user_id))
        return None if row is None else _subscription(row)

    async def turn_on(
        self,
        guild_id: int,
        guild_name: str,
        user_id: int,
        *,
        weekday: int = UNSET,
        local_time: str = UNSET,
    ) -> Subscription:
        if weekday is not UNSET and not 0 <= weekday <= 6:
            raise UserFacingError("The weekday must be Monday to Sunday. Nothing was saved.")
        at = f"{parse_local_time(local_time):%H:%M}" if local_time is not UNSET else UNSET
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            guild = await ensure_guild_row(session, guild_id, guild_name, now)
            row = await _row(session, guild_id, user_id, now)
            row.enabled = True
            row.disabled_reason = None
            row.notice_pending = False
            if weekday is not UNSET:
                row.weekday = weekday
            if at is not UNSET:
                row.local_time = at
            row.updated_at = now
            timezone = guild.timezone
        info = _subscription(row)
        await self._reschedule(info, guild_name, timezone)
        return info

    async def follow_guild_timezone(self, guild_id: int, guild_name: str) -> int:
        """Move every active digest of the guild to its (new) time zone; returns how many."""
        async with self._sessions() as session:
            guild = await session.get(Guild, guild_id)
            rows = (
                await session.scalars(
                    select(DigestSubscription).where(
                        DigestSubscription.guild_id == guild_id,
                        DigestSubscription.enabled.is_(True),
                    )
                )
            ).all()
        if guild is None:
            return 0
        for row in rows:
            await self._reschedule(_subscription(row), guild_name, guild.timezone)
        return len(rows)

    async def turn_off(
        self, guild_id: int, user_id: int, *, reason: str | None = None
    ) -> Subscription | None:
        """Stop a digest; a `reason` (closed DMs) leaves a notice for the member's next command."""
        async with self._sessions() as session, session.begin():
            row = await session.get(DigestSubscription, (guild_id, user_id))
            if row is None:
                return None
            row.enabled = False
            row.disabled_reason = reason
            row.notice_pending = reason is not None
            row.updated_at = self._clock.now()
        info = _subscription(row)
        await self._unschedule(guild_id, user_id)
        return info

    async def take_notice(self, guild_id: int, user_id: int) -> str | None:
        """The pending notice for a member (once), e.g. after their DMs were found closed."""
        async with self._sessions() as session, session.begin():
            row = await session.get(DigestSubscription, (guild_id, user_id))
            if row is None or not row.notice_pending:
                return None
            row.notice_pending = False
            reason = row.disabled_reason
        if reason == DMS_CLOSED:
            return (
                "Your weekly digest is switched off: your direct messages were closed to me. "
                "Open them (Privacy Settings → Direct Messages) and use `/digest on`."
            )
        return "Your weekly digest was switched off."

    async def pending_notices(self) -> set[tuple[int, int]]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(DigestSubscription.guild_id, DigestSubscription.user_id).where(
                    DigestSubscription.notice_pending.is_(True)
                )
            )
            return {(int(g), int(u)) for g, u in rows}

    async def change_tag(self, guild_id: int, user_id: int, raw: str, *, add: bool) -> Subscription:
        tag = normalise_tag(raw)
        if not tag:
            raise UserFacingError("Give a tag, e.g. `math`.")
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = await session.get(DigestSubscription, (guild_id, user_id))
            if row is None:
                raise UserFacingError("Turn your digest on first with `/digest on`.")
            tags = list(row.tags or [])
            if add and tag not in tags:
                if len(tags) >= MAX_TAGS:
                    raise UserFacingError(f"A digest follows at most {MAX_TAGS} tags.")
                tags.append(tag)
            elif not add:
                if tag not in tags:
                    raise UserFacingError(f"Your digest does not follow `{tag}`.")
                tags.remove(tag)
            row.tags = sorted(tags)
            row.updated_at = now
        return _subscription(row)

    async def select(self, guild_id: int, user_id: int, week_end: datetime) -> Digest:
        """The week's top links in the member's followed topics and tags, minus their own."""
        async with self._sessions() as session:
            row = await session.get(DigestSubscription, (guild_id, user_id))
            guild = await session.get(Guild, guild_id)
        tags = tuple(row.tags or ()) if row is not None else ()
        followed = await self._topics.followed_by(guild_id, user_id)
        channels = [t.channel_id for t in followed if t.channel_id is not None]
        week = week_ending(week_end, guild.timezone if guild is not None else "UTC")
        entries: list[RecapEntry] = []
        if channels or tags:
            where = ranking.Filter(channel_ids=channels, tags=tags, exclude_member_id=user_id)
            async with self._sessions() as session:
                ranked = await ranking.run(
                    session, ranking.top_query(guild_id, week.start, week.end, DIGEST_SIZE, where)
                )
                entries = await builder.ranked_entries(session, guild_id, week, ranked)
        async with self._sessions() as session:
            waiting = await question_summaries.open_in_topics(
                session, guild_id, [t.id for t in followed], user_id
            )
            learning = await member_week(session, guild_id, user_id, week.start, week.end)
        return Digest(
            guild_id,
            user_id,
            week.end,
            tuple(entries),
            tuple(t.name for t in followed),
            tags,
            waiting,
            learning,
        )

    async def claim(
        self, guild_id: int, user_id: int, week_end: datetime, *, resume: bool = False
    ) -> bool:
        """Claim this member's digest of this week; False if it was claimed before, unless
        `resume` (a run taken over after a crash) finds the claim it left unfinished."""
        claim = DigestDelivery(
            guild_id=guild_id,
            user_id=user_id,
            week_end=week_end,
            status="claimed",
            claimed_at=self._clock.now(),
        )
        return await claim_delivery(
            self._sessions, claim, (guild_id, user_id, week_end), resume=resume
        )

    async def delivered(
        self, guild_id: int, user_id: int, week_end: datetime, status: str, items: int
    ) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(DigestDelivery, (guild_id, user_id, week_end))
            if row is not None:
                row.status = status
                row.items = items
                row.sent_at = self._clock.now() if status == "sent" else None

    async def deliveries(self, guild_id: int, user_id: int) -> list[tuple[datetime, str, int]]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(DigestDelivery.week_end, DigestDelivery.status, DigestDelivery.items)
                .where(DigestDelivery.guild_id == guild_id, DigestDelivery.user_id == user_id)
                .order_by(DigestDelivery.week_end)
            )
            return [(w, s, int(n)) for w, s, n in rows]

    async def _unschedule(self, guild_id: int, user_id: int) -> None:
        await self._drop_schedule(guild_id, user_id)
        await self._core.changed()

    async def _drop_schedule(self, guild_id: int, user_id: int) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(DigestSubscription, (guild_id, user_id))
            schedule_id = row.schedule_id if row is not None else None
            if row is not None:
                row.schedule_id = None
        if schedule_id is not None:
            with suppress(UserFacingError):  # already gone: nothing to drop
                await self._core.schedules.delete(guild_id, schedule_id, BOT_ACTOR, audit=False)

    async def _reschedule(self, info: Subscription, guild_name: str, timezone: str) -> None:
        await self._drop_schedule(info.guild_id, info.user_id)
        hours, minutes = (int(p) for p in info.local_time.split(":"))
        today = self._clock.now().date() - timedelta(days=1)
        rule = Recurrence(
            frequency="weekly",
            local_time=time(hours, minutes),
            timezone=timezone,
            starts_on=today,
            weekdays=(info.weekday,),
        )
        # The bot's own schedule on the member's behalf: not a moderator's, so it neither counts
        # toward the guild's schedule limit nor shows in /mod schedule list.
        schedule = await self._core.schedules.create(
            info.guild_id,
            guild_name,
            BOT_ACTOR,
            kind=DIGEST_KIND,
            rule=rule,
            label=f"digest for {info.user_id}",
            payload={"user_id": info.user_id},
            offset=timedelta(minutes=spread_minutes(info.guild_id, info.user_id)),
            audit=False,
        )
        async with self._sessions() as session, session.begin():
            row = await session.get(DigestSubscription, (info.guild_id, info.user_id))
            if row is not None:
                row.schedule_id = schedule.id
        await self._core.changed()


async def _row(
    session: AsyncSession, guild_id: int, user_id: int, now: datetime
) -> DigestSubscription:
    row = await session.get(DigestSubscription, (guild_id, user_id))
    if row is None:
        row = DigestSubscription(
            guild_id=guild_id,
            user_id=user_id,
            enabled=True,
            weekday=0,
            local_time="09:00",
            tags=[],
            notice_pending=False,
            updated_at=now,
        )
        session.add(row)
    return row


def _subscription(row: DigestSubscription) -> Subscription:
    return Subscription(
        guild_id=row.guild_id,
        user_id=row.user_id,
        enabled=bool(row.enabled),
        weekday=row.weekday,
        local_time=row.local_time,
        tags=tuple(row.tags or ()),
        disabled_reason=row.disabled_reason,
        notice_pending=bool(row.notice_pending),
    )


# Sends the digest through the run's outbox; returns "sent" or DMS_CLOSED.
Deliver = Callable[[Digest, OutboxScope], Awaitable[str]]


class DigestSlots:
    """The "digest" kind's handler: claim the member's week, select, deliver, record."""

    def __init__(self, service: DigestService, deliver: Deliver) -> None:
        self._service = service
        self._deliver = deliver

    async def run_slot(self, slot: SlotContext) -> str | None:
        guild_id = slot.schedule.guild_id
        user_id = int(slot.schedule.payload["user_id"])
        subscription = await self._service.subscription(guild_id, user_id)
        if subscription is None or not subscription.enabled:
            return "digest is off"
        if not await self._service.claim(guild_id, user_id, slot.slot_at, resume=slot.recovered):
            return "already sent this week"
        digest = await self._service.select(guild_id, user_id, slot.slot_at)
        if not digest.entries and not digest.open_questions:
            await self._service.delivered(guild_id, user_id, slot.slot_at, "empty", 0)
            return "nothing new in the member's topics"
        status = await self._deliver(digest, slot.outbox)
        if status == DMS_CLOSED:
            await self._service.turn_off(guild_id, user_id, reason=DMS_CLOSED)
        await self._service.delivered(guild_id, user_id, slot.slot_at, status, len(digest.entries))
        return f"digest {status}"
