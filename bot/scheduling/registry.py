"""The job kinds the runner knows: `kind -> handler(slot)` plus each kind's downtime policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.scheduling.outbox import OutboxScope
from bot.scheduling.schedules import ScheduleInfo


@dataclass(frozen=True)
class SlotContext:
    """One slot being run: the schedule, the instant it was due, and how it came to run.

    `outbox` is the run's scope ("run:<run_id>") in the outbox: a handler posts through it, so
    that resumed after a crash (`recovered`) it neither repeats nor loses a post.
    """

    schedule: ScheduleInfo
    slot_at: datetime
    now: datetime
    late: bool
    recovered: bool
    run_id: int
    outbox: OutboxScope


# A handler may return a short note stored with the run (e.g. "posted prompt #12").
Handler = Callable[[SlotContext], Awaitable[str | None]]
Grace = timedelta | Callable[[ScheduleInfo], timedelta]


@dataclass(frozen=True)
class KindSpec:
    """How a kind runs: its handler, how late a missed slot may still run, crash behaviour.

    `resume_after_crash`: re-run a slot whose process died mid-run, within its grace (for
    handlers that post through the outbox, so they can tell what they already did); otherwise
    such a slot is marked failed and reported.
    `report_missed`: tell the moderators about slots missed while the bot was down, and
    `listed`: show the kind's schedules in /mod schedule list. Both are off for the bot's internal
    or per-member jobs (a chat's next step, digests), which are no moderator's business.
    `concurrency`: at most this many of the kind's handlers run at once (on top of the runner's
    shared limit), for kinds that wait a lot (paced digests) and must not fill the shared slots.
    """

    name: str
    handler: Handler
    grace: Grace = timedelta(0)
    resume_after_crash: bool = False
    report_missed: bool = True
    listed: bool = True
    concurrency: int | None = None

    def grace_for(self, schedule: ScheduleInfo) -> timedelta:
        return self.grace(schedule) if callable(self.grace) else self.grace


class KindRegistry:
    def __init__(self) -> None:
        self._kinds: dict[str, KindSpec] = {}

    def register(
        self,
        name: str,
        handler: Handler,
        *,
        grace: Grace = timedelta(0),
        resume_after_crash: bool = False,
        report_missed: bool = True,
        listed: bool = True,
        concurrency: int | None = None,
    ) -> KindSpec:
        """Register (or replace, e.g. when a cog reloads) the handler of a kind."""
        if concurrency is not None and concurrency < 1:
            raise ValueError(f"concurrency of {name!r} must be at least 1, not {concurrency}")
        spec = KindSpec(
            name, handler, grace, resume_after_crash, report_missed, listed, concurrency
        )
        self._kinds[name] = spec
        return spec

    def unregister(self, name: str) -> None:
        self._kinds.pop(name, None)

    def get(self, name: str) -> KindSpec:
        return self._kinds[name]

    def is_listed(self, name: str) -> bool:
        """Kinds no cog registered (e.g. a feature switched off) are listed, so they can be seen."""
        spec = self._kinds.get(name)
        return spec is None or spec.listed

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)
