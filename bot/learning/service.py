"""The learning log: minutes on members' local days, goals, streaks, progress. No Discord here.

A member's day is their own (`/me timezone`, else the server's zone): each entry stores the
local day it was logged on, so a later change of zone never moves old entries between days.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.clock import Clock
from bot.database import SessionFactory, insert_ignoring_conflicts
from bot.errors import UserFacingError
from bot.guilds.models import Guild
from bot.guilds.service import ensure_guild_row
from bot.learning import paths
from bot.learning.models import LearningEntry, LearningMember
from bot.learning.records import (
    Goal,
    LogResult,
    Milestone,
    Progress,
    PublicProgress,
    TopicMinutes,
    UndoResult,
)
from bot.learning.streaks import Streak, local_day, streak_of
from bot.library.service import LibraryService
from bot.library.urls import parse_link
from bot.members.models import MemberProfile
from bot.members.service import member_zone
from bot.topics.models import Topic
from bot.topics.records import TopicInfo

MIN_MINUTES, MAX_MINUTES = 1, 600
DAY_MINUTES = 24 * 60
DEFAULT_GOAL = 20
MAX_NOTE = 200
# The heatmap's range: 52 weeks back from this week's Monday, plus this week.
HEATMAP_DAYS = 53 * 7
# How far back a streak is computed (a longer streak shows as at least this long).
STREAK_HORIZON = 800


class LearningService:
    def __init__(self, sessions: SessionFactory, clock: Clock, library: LibraryService) -> None:
        self._sessions = sessions
        self._clock = clock
        self._library = library
        # Guilds whose row is known to exist: saves a query per entry.
        self._known_guilds: set[int] = set()

    # --- the log ---------------------------------------------------------------------------

    async def log(
        self,
        guild_id: int,
        guild_name: str,
        channel_id: int,
        user_id: int,
        minutes: int,
        *,
        note: str | None = None,
        topic: TopicInfo | None = None,
        link: str | None = None,
    ) -> LogResult:
        """Record minutes on today's local day; bad input raises before anything is saved."""
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            raise UserFacingError(
                f"Log between {MIN_MINUTES} and {MAX_MINUTES} minutes at a time. Nothing was saved."
            )
        note = (note or "").strip()[:MAX_NOTE] or None
        if link is not None:
            parse_link(link)  # a bad link is refused before anything is saved
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            if guild_id not in self._known_guilds:
                await ensure_guild_row(session, guild_id, guild_name, now)
            # A write first: the member's row is locked (PostgreSQL) or this process's writer
            # lock taken (SQLite) before today's total is read, so two logs at once cannot both
            # pass the 24-hour check.
            await _lock_member(session, guild_id, user_id, now)
            zone, goal = await _zone_and_goal(session, guild_id, user_id)
            today = local_day(now, zone)
            # One query gives today's total (the 24-hour rule) and the days of the streak.
            days = await _minutes_by_day(
                session, guild_id, user_id, today - timedelta(days=STREAK_HORIZON), today
            )
            total = days.get(today, 0)
            if total + minutes > DAY_MINUTES:
                raise UserFacingError(
                    f"That would make more than 24 hours today ({total} minutes are logged "
                    "already). Nothing was saved."
                )
            entry = LearningEntry(
                guild_id=guild_id,
                user_id=user_id,
                local_day=today,
                logged_at=now,
                minutes=minutes,
                note=note,
                topic_id=topic.id if topic is not None else None,
            )
            session.add(entry)
            await session.flush()
            entry_id = entry.id
        self._known_guilds.add(guild_id)
        days[today] = total + minutes
        resource_id: int | None = None
        shared_new = False
        milestones: tuple[Milestone, ...] = ()
        if link is not None:
            shared = await self._library.share(
                guild_id,
                channel_id,
                user_id,
                link,
                tags=list(topic.default_tags) if topic is not None else None,
                guild_name=guild_name,
                source="learning",
            )
            resource_id, shared_new = shared.resource.id, not shared.duplicate
            async with self._sessions() as session, session.begin():
                row = await session.get(LearningEntry, entry_id)
                if row is not None:
                    row.resource_id = resource_id
                done = await paths.mark_done(session, guild_id, user_id, resource_id, now)
            milestones = tuple(m for d in done for m in d.milestones)
        return LogResult(
            entry_id=entry_id,
            minutes=minutes,
            day=today,
            today_total=days[today],
            goal=goal,
            streak=streak_of(days, goal, today),
            topic_id=topic.id if topic is not None else None,
            resource_id=resource_id,
            shared_new=shared_new,
            milestones=milestones,
        )

    async def undo(self, guild_id: int, user_id: int) -> UndoResult:
        """Remove the member's last entry of today (their local day)."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            zone = (await member_zone(session, guild_id, user_id)).timezone
            today = local_day(now, zone)
            last = await session.scalar(
                select(LearningEntry)
                .where(
                    LearningEntry.guild_id == guild_id,
                    LearningEntry.user_id == user_id,
                    LearningEntry.local_day == today,
                )
                .order_by(LearningEntry.logged_at.desc(), LearningEntry.id.desc())
                .limit(1)
            )
            if last is None:
                raise UserFacingError("You have logged nothing today, so there is nothing to undo.")
            minutes = last.minutes
            await session.delete(last)
            await session.flush()
            total = await _day_total(session, guild_id, user_id, today)
            goal = await _goal(session, guild_id, user_id)
        return UndoResult(minutes, total, goal)

    # --- goal and reminder -----------------------------------------------------------------

    async def goal(self, guild_id: int, user_id: int) -> Goal:
        async with self._sessions() as session:
            return await goal_of(session, guild_id, user_id)

    async def set_goal(self, guild_id: int, guild_name: str, user_id: int, minutes: int) -> Goal:
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            raise UserFacingError(
                f"A daily goal is {MIN_MINUTES} to {MAX_MINUTES} minutes. Nothing was changed."
            )
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            row = await member_row(session, guild_id, user_id, now)
            row.goal_minutes, row.updated_at = minutes, now
            return await goal_of(session, guild_id, user_id)

    # --- progress --------------------------------------------------------------------------

    async def progress(self, guild_id: int, user_id: int) -> Progress:
        now = self._clock.now()
        async with self._sessions() as session:
            zone, goal = await _zone_and_goal(session, guild_id, user_id)
            today = local_day(now, zone)
            first = today - timedelta(days=STREAK_HORIZON)
            days = await _minutes_by_day(session, guild_id, user_id, first, today)
            week_start = today - timedelta(days=today.weekday())
            week = await _by_topic(session, guild_id, user_id, week_start, today)
            month = await _by_topic(session, guild_id, user_id, today.replace(day=1), today)
            levels = await paths.member_levels(session, guild_id, user_id)
        heatmap_start = week_start - timedelta(weeks=52)
        return Progress(
            guild_id=guild_id,
            user_id=user_id,
            timezone=zone,
            today=today,
            today_minutes=days.get(today, 0),
            goal=goal,
            streak=streak_of(days, goal, today),
            week=week,
            month=month,
            levels=tuple(levels),
            days={d: m for d, m in days.items() if d >= heatmap_start},
        )

    async def public_progress(self, guild_id: int, user_id: int) -> PublicProgress:
        now = self._clock.now()
        async with self._sessions() as session:
            zone, goal = await _zone_and_goal(session, guild_id, user_id)
            today = local_day(now, zone)
            streak = await _streak(session, guild_id, user_id, goal, today)
            levels = await paths.member_levels(session, guild_id, user_id)
        return PublicProgress(user_id, streak, tuple(levels))

    async def topic_weeks(
        self, guild_id: int, user_id: int
    ) -> tuple[list[date], dict[str, list[int]]]:
        """Minutes per topic ("" for none) in each of the last 12 local weeks, oldest first."""
        now = self._clock.now()
        async with self._sessions() as session:
            zone = (await member_zone(session, guild_id, user_id)).timezone
            today = local_day(now, zone)
            mondays = [
                today - timedelta(days=today.weekday(), weeks=back) for back in range(11, -1, -1)
            ]
            rows = await session.execute(
                select(Topic.name, LearningEntry.local_day, LearningEntry.minutes)
                .select_from(LearningEntry)
                .outerjoin(Topic, Topic.id == LearningEntry.topic_id)
                .where(
                    LearningEntry.guild_id == guild_id,
                    LearningEntry.user_id == user_id,
                    LearningEntry.local_day >= mondays[0],
                    LearningEntry.local_day <= today,
                )
            )
            minutes: dict[str, list[int]] = {}
            for name, day, amount in rows:
                index = (day - mondays[0]).days // 7
                minutes.setdefault(name or "", [0] * len(mondays))[index] += int(amount)
        return mondays, dict(sorted(minutes.items(), key=lambda item: -sum(item[1])))

    async def today_status(self, guild_id: int, user_id: int) -> tuple[date, int, Streak]:
        """The member's local day now, its minutes and their streak (for the reminder)."""
        now = self._clock.now()
        async with self._sessions() as session:
            zone, goal = await _zone_and_goal(session, guild_id, user_id)
            today = local_day(now, zone)
            streak = await _streak(session, guild_id, user_id, goal, today)
            total = await _day_total(session, guild_id, user_id, today)
        return today, total, streak


async def member_row(
    session: AsyncSession, guild_id: int, user_id: int, now: datetime
) -> LearningMember:
    row = await session.get(LearningMember, (guild_id, user_id))
    if row is None:
        row = LearningMember(
            guild_id=guild_id,
            user_id=user_id,
            goal_minutes=DEFAULT_GOAL,
            remind=False,
            remind_at="20:00",
            updated_at=now,
        )
        session.add(row)
    return row


async def goal_of(session: AsyncSession, guild_id: int, user_id: int) -> Goal:
    row = await session.get(LearningMember, (guild_id, user_id))
    zone = (await member_zone(session, guild_id, user_id)).timezone
    if row is None:
        return Goal(guild_id, user_id, DEFAULT_GOAL, False, "20:00", zone)
    return Goal(guild_id, user_id, row.goal_minutes, bool(row.remind), row.remind_at, zone)


async def member_streak(session: AsyncSession, guild_id: int, user_id: int, at: datetime) -> Streak:
    """The member's streak as it stood at the instant `at` (on their local day then)."""
    zone, goal = await _zone_and_goal(session, guild_id, user_id)
    return await _streak(session, guild_id, user_id, goal, local_day(at, zone))


async def _lock_member(session: AsyncSession, guild_id: int, user_id: int, now: datetime) -> None:
    """Create the member's row if need be and hold it until the transaction ends: PostgreSQL
    locks the row; on SQLite the insert (a write) takes the database's one writer slot."""
    values = {
        "guild_id": guild_id,
        "user_id": user_id,
        "goal_minutes": DEFAULT_GOAL,
        "remind": False,
        "remind_at": "20:00",
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    await session.execute(insert_ignoring_conflicts(dialect, LearningMember).values(values))
    if dialect == "postgresql":
        await session.execute(
            select(LearningMember.user_id)
            .where(LearningMember.guild_id == guild_id, LearningMember.user_id == user_id)
            .with_for_update()
        )


async def _zone_and_goal(session: AsyncSession, guild_id: int, user_id: int) -> tuple[str, int]:
    """The member's zone (their own, else the server's) and daily goal, in one query."""
    own = aliased(MemberProfile)
    goal = aliased(LearningMember)
    row = (
        await session.execute(
            select(Guild.timezone, own.timezone, goal.goal_minutes)
            .select_from(Guild)
            .outerjoin(own, (own.guild_id == Guild.id) & (own.user_id == user_id))
            .outerjoin(goal, (goal.guild_id == Guild.id) & (goal.user_id == user_id))
            .where(Guild.id == guild_id)
        )
    ).first()
    if row is None:
        return "UTC", DEFAULT_GOAL
    server, mine, minutes = row
    return mine or server or "UTC", int(minutes) if minutes is not None else DEFAULT_GOAL


async def _goal(session: AsyncSession, guild_id: int, user_id: int) -> int:
    goal = await session.scalar(
        select(LearningMember.goal_minutes).where(
            LearningMember.guild_id == guild_id, LearningMember.user_id == user_id
        )
    )
    return int(goal) if goal is not None else DEFAULT_GOAL


async def _day_total(session: AsyncSession, guild_id: int, user_id: int, day: date) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LearningEntry.minutes), 0)).where(
            LearningEntry.guild_id == guild_id,
            LearningEntry.user_id == user_id,
            LearningEntry.local_day == day,
        )
    )
    return int(total or 0)


async def _minutes_by_day(
    session: AsyncSession, guild_id: int, user_id: int, first: date, last: date
) -> dict[date, int]:
    rows = await session.execute(
        select(LearningEntry.local_day, func.sum(LearningEntry.minutes))
        .where(
            LearningEntry.guild_id == guild_id,
            LearningEntry.user_id == user_id,
            LearningEntry.local_day >= first,
            LearningEntry.local_day <= last,
        )
        .group_by(LearningEntry.local_day)
    )
    return {day: int(minutes) for day, minutes in rows}


async def _streak(
    session: AsyncSession, guild_id: int, user_id: int, goal: int, today: date
) -> Streak:
    first = today - timedelta(days=STREAK_HORIZON)
    return streak_of(await _minutes_by_day(session, guild_id, user_id, first, today), goal, today)


async def _by_topic(
    session: AsyncSession, guild_id: int, user_id: int, first: date, last: date
) -> tuple[TopicMinutes, ...]:
    rows = await session.execute(
        select(Topic.name, func.sum(LearningEntry.minutes))
        .select_from(LearningEntry)
        .outerjoin(Topic, Topic.id == LearningEntry.topic_id)
        .where(
            LearningEntry.guild_id == guild_id,
            LearningEntry.user_id == user_id,
            LearningEntry.local_day >= first,
            LearningEntry.local_day <= last,
        )
        .group_by(Topic.name)
    )
    totals: dict[str, int] = defaultdict(int)
    for name, minutes in rows:
        totals[name or ""] += int(minutes)
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return tuple(TopicMinutes(name, minutes) for name, minutes in ordered)
