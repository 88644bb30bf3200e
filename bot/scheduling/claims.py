"""The runner's claim statements: set-based, so a busy second costs two statements, not two
per slot (see `Runner._claim_all`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, literal, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import ReturningInsert, ReturningUpdate

from bot.database import SessionFactory, insert_ignoring_conflicts
from bot.models.base import Base
from bot.scheduling.models import Schedule, ScheduleRun
from bot.scheduling.schedules import ScheduleInfo


@dataclass(frozen=True)
class Plan:
    """What a pass will do with one due schedule (see `Runner._plan`)."""

    info: ScheduleInfo
    missed: list[datetime]
    latest: datetime | None
    following: datetime | None


def move_on(batch: list[Plan]) -> ReturningUpdate[int]:
    """UPDATE schedules SET next_run_at = <each one's next slot> WHERE id IN (…) AND
    next_run_at = <what this pass read for it> RETURNING id: one compare-and-set per row."""
    column_type = Schedule.next_run_at.type
    read = {plan.info.id: literal(plan.info.next_run_at, column_type) for plan in batch}
    following = {plan.info.id: literal(plan.following, column_type) for plan in batch}
    return (
        update(Schedule)
        .where(
            Schedule.id.in_(list(read)),
            Schedule.next_run_at == case(read, value=Schedule.id),
        )
        .values(next_run_at=case(following, value=Schedule.id))
        .returning(Schedule.id)
        .execution_options(synchronize_session=False)
    )


@functools.cache
def insert_new(dialect: str) -> ReturningInsert[int, int, datetime]:
    """INSERT … ON CONFLICT (schedule_id, slot_at) DO NOTHING RETURNING the rows it added, built
    once per backend: executed with a list of rows, SQLAlchemy sends it as one multi-row
    statement ("insertmanyvalues") compiled once, whatever the count."""
    return insert_ignoring_conflicts(dialect, ScheduleRun, ["schedule_id", "slot_at"]).returning(
        ScheduleRun.id, ScheduleRun.schedule_id, ScheduleRun.slot_at
    )


async def claim_delivery(
    sessions: SessionFactory, claim: Base, key: tuple[Any, ...], *, resume: bool
) -> bool:
    """Insert `claim` (a row whose `status` is "claimed", keyed by `key`) before a delivery that
    must happen once (a member's digest of a week, a reminder of a day); False if the key was
    claimed before, unless `resume` (a run taken over after a crash) finds that claim
    unfinished."""
    if resume:
        async with sessions() as session:
            found = await session.get(type(claim), key)
        if found is not None and getattr(found, "status", None) == "claimed":
            return True
    try:
        async with sessions() as session, session.begin():
            session.add(claim)
    except IntegrityError:
        return False
    return True
