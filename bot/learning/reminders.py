"""The opt-in streak reminder: one DM at the member's local time, only while a streak is at stake.

Each member who opts in has one daily "learning.reminder" schedule in the scheduling core, at
their time in their zone (moved when either zone changes). A `learning_reminders` row (guild,
member, local day) is claimed before sending, so a second run of the same day (another process,
a rescheduled time) sends nothing: never two a day. A member who met the goal gets none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import date, time, timedelta

from sqlalchemy import select

from bot.clock import Clock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.guilds.service import ensure_guild_row
from bot.learning.models import LearningMember, LearningReminder
from bot.learning.records import Goal
from bot.learning.service import LearningService, goal_of, member_row
from bot.learning.streaks import Streak
from bot.members.models import MemberProfile
from bot.members.service import member_zone
from bot.recap.window import parse_local_time
from bot.scheduling import OutboxScope, Recurrence, SchedulingCore, SlotContext
from bot.scheduling.claims import claim_delivery
from bot.scheduling.schedules import BOT_ACTOR

REMINDER_KIND = "learning.reminder"
REMINDER_GRACE = timedelta(hours=2)
DMS_CLOSED = "dms_closed"

# Sends the reminder through the run's outbox; returns "sent" or DMS_CLOSED.
Deliver = Callable[[int, int, int, Streak, OutboxScope], Awaitable[str]]


class ReminderService:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        learning: LearningService,
        core: SchedulingCore,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._learning = learning
        self._core = core

    async def turn_on(
        self, guild_id: int, guild_name: str, user_id: int, at: str | None = None
    ) -> Goal:
        wanted = f"{parse_local_time(at):%H:%M}" if at is not None else None
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            row = await member_row(session, guild_id, user_id, now)
            row.remind, row.updated_at = True, now
            if wanted is not None:
                row.remind_at = wanted
        await self.reschedule(guild_id, guild_name, user_id)
        return await self._learning.goal(guild_id, user_id)

    async def turn_off(self, guild_id: int, user_id: int) -> bool:
        """False when no reminder was on."""
        async with self._sessions() as session, session.begin():
            row = await session.get(LearningMember, (guild_id, user_id))
            if row is None or not row.remind:
                return False
            row.remind, row.updated_at = False, self._clock.now()
        await self._drop(guild_id, user_id)
        await self._core.changed()
        return True

    async def reschedule(self, guild_id: int, guild_name: str, user_id: int) -> None:
        """(Re)create the member's daily schedule at their time in their current zone."""
        await self._drop(guild_id, user_id)
        async with self._sessions() as session:
            goal = await goal_of(session, guild_id, user_id)
        if not goal.remind:
            await self._core.changed()
            return
        hours, minutes = (int(p) for p in goal.remind_at.split(":"))
        rule = Recurrence(
            frequency="daily",
            local_time=time(hours, minutes),
            timezone=goal.timezone,
            starts_on=self._clock.now().date() - timedelta(days=2),
        )
        # The bot's own schedule on the member's behalf: not listed to moderators.
        schedule = await self._core.schedules.create(
            guild_id,
            guild_name,
            BOT_ACTOR,
            kind=REMINDER_KIND,
            rule=rule,
            label=f"learning reminder for {user_id}",
            payload={"user_id": user_id},
            audit=False,
        )
        async with self._sessions() as session, session.begin():
            row = await session.get(LearningMember, (guild_id, user_id))
            if row is not None:
                row.schedule_id = schedule.id
        await self._core.changed()

    async def follow_guild_timezone(self, guild_id: int, guild_name: str) -> int:
        """Move the reminders of members on the server's zone to its new zone."""
        async with self._sessions() as session:
            users = (
                await session.scalars(
                    select(LearningMember.user_id).where(
                        LearningMember.guild_id == guild_id,
                        LearningMember.remind.is_(True),
                        ~select(MemberProfile.user_id)
                        .where(
                            MemberProfile.guild_id == guild_id,
                            MemberProfile.user_id == LearningMember.user_id,
                        )
                        .exists(),
                    )
                )
            ).all()
        for user_id in users:
            await self.reschedule(guild_id, guild_name, int(user_id))
        return len(users)

    async def claim(self, guild_id: int, user_id: int, day: date, *, resume: bool = False) -> bool:
        """Claim the member's reminder of this local day; False if it was claimed before, unless
        `resume` (a run taken over after a crash) finds the claim it left unfinished."""
        claim = LearningReminder(
            guild_id=guild_id,
            user_id=user_id,
            local_day=day,
            status="claimed",
            claimed_at=self._clock.now(),
        )
        return await claim_delivery(self._sessions, claim, (guild_id, user_id, day), resume=resume)

    async def delivered(self, guild_id: int, user_id: int, day: date, status: str) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(LearningReminder, (guild_id, user_id, day))
            if row is not None:
                row.status = status

    async def sent_days(self, guild_id: int, user_id: int) -> list[date]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(LearningReminder.local_day)
                .where(
                    LearningReminder.guild_id == guild_id,
                    LearningReminder.user_id == user_id,
                    LearningReminder.status == "sent",
                )
                .order_by(LearningReminder.local_day)
            )
            return list(rows)

    async def zone_of(self, guild_id: int, user_id: int) -> str:
        async with self._sessions() as session:
            return (await member_zone(session, guild_id, user_id)).timezone

    async def _drop(self, guild_id: int, user_id: int) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(LearningMember, (guild_id, user_id))
            schedule_id = row.schedule_id if row is not None else None
            if row is not None:
                row.schedule_id = None
        if schedule_id is not None:
            with suppress(UserFacingError):  # already gone: nothing to drop
                await self._core.schedules.delete(guild_id, schedule_id, BOT_ACTOR, audit=False)


class ReminderSlots:
    """The reminder kind's handler: goal not met, a streak at stake, not reminded today: DM."""

    def __init__(
        self, learning: LearningService, reminders: ReminderService, deliver: Deliver
    ) -> None:
        self._learning = learning
        self._reminders = reminders
        self._deliver = deliver

    async def run_slot(self, slot: SlotContext) -> str | None:
        guild_id = slot.schedule.guild_id
        user_id = int(slot.schedule.payload["user_id"])
        goal = await self._learning.goal(guild_id, user_id)
        if not goal.remind:
            return "reminder is off"
        today, minutes, streak = await self._learning.today_status(guild_id, user_id)
        if streak.today_met:
            return "goal met"
        if not streak.at_stake:
            return "no streak at stake"
        if not await self._reminders.claim(guild_id, user_id, today, resume=slot.recovered):
            return "already reminded today"
        status = await self._deliver(guild_id, user_id, goal.minutes - minutes, streak, slot.outbox)
        await self._reminders.delivered(guild_id, user_id, today, status)
        if status == DMS_CLOSED:
            await self._reminders.turn_off(guild_id, user_id)
        return f"reminder {status}"
