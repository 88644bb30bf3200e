"""Schedule rows: create, list, pause, resume, delete; and their Recurrence/next-slot arithmetic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.guilds.service import ensure_guild_row, record_audit
from bot.scheduling.models import Schedule, ScheduleRun
from bot.scheduling.recurrence import Recurrence

MAX_ACTIVE_PER_GUILD = 50
PREVIEW_COUNT = 5
# The actor of schedules the bot makes for itself (a chat's next step): not counted or audited.
BOT_ACTOR = 0


@dataclass(frozen=True)
class ScheduleInfo:
    id: int
    guild_id: int
    kind: str
    label: str
    payload: dict[str, Any] = field(hash=False)
    rule: Recurrence
    offset: timedelta
    paused: bool
    next_run_at: datetime | None
    created_by: int

    @property
    def finished(self) -> bool:
        return self.next_run_at is None and not self.paused

    def slots_after(self, after: datetime, limit: int) -> list[datetime]:
        """The next run instants (occurrence + offset) strictly after `after`."""
        return [i + self.offset for i in self.rule.instants_after(after - self.offset, limit)]

    def next_slot_after(self, after: datetime) -> datetime | None:
        found = self.slots_after(after, 1)
        return found[0] if found else None

    def slots_between(self, start: datetime, end: datetime) -> list[datetime]:
        return [
            i + self.offset
            for i in self.rule.instants_between(start - self.offset, end - self.offset)
        ]


@dataclass(frozen=True)
class RunInfo:
    schedule_id: int
    slot_at: datetime
    status: str
    late: bool
    note: str


def preview(rule: Recurrence, now: datetime, count: int = PREVIEW_COUNT) -> list[datetime]:
    """The next `count` run instants of a rule that is not saved yet."""
    return rule.instants_after(now, count)


class ScheduleService:
    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def create(
        self,
        guild_id: int,
        guild_name: str,
        actor_id: int,
        *,
        kind: str,
        rule: Recurrence,
        label: str = "",
        payload: dict[str, Any] | None = None,
        offset: timedelta = timedelta(0),
        audit: bool = True,
    ) -> ScheduleInfo:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            return await add_schedule(
                session,
                now,
                guild_id,
                actor_id,
                kind=kind,
                rule=rule,
                label=label,
                payload=payload,
                offset=offset,
                audit=audit,
            )

    async def get(self, guild_id: int, schedule_id: int) -> ScheduleInfo:
        async with self._sessions() as session:
            row = await _row(session, guild_id, schedule_id)
        return _info(row)

    async def for_guild(self, guild_id: int, kind: str | None = None) -> list[ScheduleInfo]:
        query = select(Schedule).where(Schedule.guild_id == guild_id).order_by(Schedule.id)
        if kind is not None:
            query = query.where(Schedule.kind == kind)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [_info(row) for row in rows]

    async def set_paused(
        self, guild_id: int, schedule_id: int, actor_id: int, paused: bool
    ) -> ScheduleInfo:
        """Pause, or resume from now on (slots inside the pause are skipped, not 'missed')."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = await _row(session, guild_id, schedule_id)
            if (
                not paused
                and row.paused
                and await _active_count(session, guild_id) >= (MAX_ACTIVE_PER_GUILD)
            ):
                raise UserFacingError(
                    f"This server already has {MAX_ACTIVE_PER_GUILD} active schedules."
                )
            row.paused = paused
            row.next_run_at = None if paused else _info(row).next_slot_after(now)
            await record_audit(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action="schedule.pause" if paused else "schedule.resume",
                target=f"schedule #{row.id}",
                now=now,
            )
        return _info(row)

    async def update(
        self,
        guild_id: int,
        schedule_id: int,
        actor_id: int,
        *,
        rule: Recurrence | None = None,
        label: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> ScheduleInfo:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = await _row(session, guild_id, schedule_id)
            change_schedule(row, now, rule=rule, label=label, payload=payload)
            await record_audit(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action="schedule.edit",
                target=f"schedule #{row.id}",
                now=now,
            )
        return _info(row)

    async def delete(
        self, guild_id: int, schedule_id: int, actor_id: int, *, audit: bool = True
    ) -> ScheduleInfo:
        """Delete a schedule; `audit=False` for the bot's own schedules (see `add_schedule`)."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = await _row(session, guild_id, schedule_id)
            info = _info(row)
            await session.delete(row)
            if not audit:
                return info
            await record_audit(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action="schedule.delete",
                target=f"schedule #{schedule_id}",
                now=now,
                details={"kind": info.kind, "label": info.label},
            )
        return info

    async def runs(self, guild_id: int, schedule_id: int | None = None) -> list[RunInfo]:
        query = (
            select(ScheduleRun)
            .where(ScheduleRun.guild_id == guild_id)
            .order_by(ScheduleRun.slot_at, ScheduleRun.id)
        )
        if schedule_id is not None:
            query = query.where(ScheduleRun.schedule_id == schedule_id)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [RunInfo(r.schedule_id, r.slot_at, r.status, r.late, r.note) for r in rows]


async def add_schedule(
    session: AsyncSession,
    now: datetime,
    guild_id: int,
    actor_id: int,
    *,
    kind: str,
    rule: Recurrence,
    label: str = "",
    payload: dict[str, Any] | None = None,
    offset: timedelta = timedelta(0),
    audit: bool = True,
) -> ScheduleInfo:
    """Insert a schedule inside the caller's transaction (the guild row must exist).

    `audit=False` is for the bot's own one-off steps: no audit entry, no per-guild limit.
    """
    row = Schedule(
        guild_id=guild_id,
        kind=kind,
        label=label[:200],
        payload=dict(payload or {}),
        created_by=actor_id,
        created_at=now,
        paused=False,
        **rule_columns(rule),
        offset_minutes=int(offset.total_seconds() // 60),
    )
    row.next_run_at = _info(row).next_slot_after(now)
    if row.next_run_at is None:
        raise UserFacingError("That schedule has no run in the future; nothing was saved.")
    if audit and await _active_count(session, guild_id) >= MAX_ACTIVE_PER_GUILD:
        raise UserFacingError(
            f"This server already has {MAX_ACTIVE_PER_GUILD} active schedules. "
            "Delete or pause one first; nothing was saved."
        )
    session.add(row)
    await session.flush()
    if audit:
        await record_audit(
            session,
            guild_id=guild_id,
            actor_id=actor_id,
            action="schedule.create",
            target=f"schedule #{row.id}",
            now=now,
            details={"kind": kind, "rule": rule.describe()},
        )
    return _info(row)


# Session-level operations: for features whose own rows change with their schedules in one
# transaction (a chat and its start and announcement). They are the only other writers.


async def guild_schedule(
    session: AsyncSession, guild_id: int, schedule_id: int | None
) -> Schedule | None:
    """The guild's schedule row, or None (no id, deleted, or another guild's)."""
    if schedule_id is None:
        return None
    row = await session.get(Schedule, schedule_id)
    return row if row is not None and row.guild_id == guild_id else None


def change_schedule(
    row: Schedule,
    now: datetime,
    *,
    rule: Recurrence | None = None,
    label: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """A new rule (the next run follows it unless paused), label or payload."""
    if rule is not None:
        for name, value in rule_columns(rule).items():
            setattr(row, name, value)
        if not row.paused:
            row.next_run_at = _info(row).next_slot_after(now)
    if label is not None:
        row.label = label[:200]
    if payload is not None:
        row.payload = dict(payload)


def stop_schedule(row: Schedule) -> None:
    """Paused with no next run, until someone resumes it (`ScheduleService.set_paused`)."""
    row.paused, row.next_run_at = True, None


async def delete_schedules(session: AsyncSession, guild_id: int, ids: Sequence[int]) -> None:
    """Delete the guild's schedules with these ids (their claimed runs go with them)."""
    if ids:
        await session.execute(
            delete(Schedule).where(Schedule.guild_id == guild_id, Schedule.id.in_(ids))
        )


async def _row(session: AsyncSession, guild_id: int, schedule_id: int) -> Schedule:
    row = await session.get(Schedule, schedule_id)
    if row is None or row.guild_id != guild_id:
        raise UserFacingError(f"There is no schedule #{schedule_id} on this server.")
    return row


async def _active_count(session: AsyncSession, guild_id: int) -> int:
    query = select(func.count(Schedule.id)).where(
        Schedule.guild_id == guild_id,
        Schedule.paused.is_(False),
        Schedule.next_run_at.is_not(None),
        Schedule.created_by != BOT_ACTOR,
    )
    return int(await session.scalar(query) or 0)


def rule_columns(rule: Recurrence) -> dict[str, Any]:
    return {
        "frequency": rule.frequency,
        "interval": rule.interval,
        "weekdays": ",".join(str(d) for d in rule.weekdays),
        "month_day": rule.month_day,
        "month_week": rule.month_week,
        "local_time": rule.local_time.isoformat(timespec="seconds")[
            : 8 if rule.local_time.second else 5
        ],
        "timezone": rule.timezone,
        "starts_on": rule.starts_on,
        "ends_on": rule.ends_on,
        "count": rule.count,
    }


def rule_of(row: Schedule) -> Recurrence:
    return Recurrence(
        frequency=row.frequency,  # type: ignore[arg-type]
        local_time=time.fromisoformat(row.local_time),
        timezone=row.timezone,
        starts_on=row.starts_on,
        interval=row.interval,
        weekdays=tuple(int(d) for d in row.weekdays.split(",") if d),
        month_day=row.month_day,
        month_week=row.month_week,
        ends_on=row.ends_on,
        count=row.count,
    )


def _info(row: Schedule) -> ScheduleInfo:
    return ScheduleInfo(
        id=row.id,
        guild_id=row.guild_id,
        kind=row.kind,
        label=row.label,
        payload=dict(row.payload or {}),
        rule=rule_of(row),
        offset=timedelta(minutes=row.offset_minutes or 0),
        paused=bool(row.paused),
        next_run_at=row.next_run_at,
        created_by=row.created_by,
    )


info_of = _info
