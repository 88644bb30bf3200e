"""APScheduler as the alarm clock: one `DateTrigger` job that wakes the runner at the next due slot.

Why a single "next due" job rather than one job per schedule: start-up costs one query however
many schedules exist, a change re-arms one job instead of diffing thousands, and APScheduler's job
store never holds state that could disagree with the database. The alarm also fires at least every
`sweep` so that stale claims are recovered and changes made by another process are noticed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock
from bot.scheduling.runner import Runner

log = logging.getLogger(__name__)

JOB_ID = "scheduling-next-due"
SWEEP = timedelta(minutes=5)


class Alarm:
    def __init__(
        self, runner: Runner, scheduler: Any, clock: Clock, *, sweep: timedelta = SWEEP
    ) -> None:
        self._runner = runner
        self._scheduler = scheduler
        self._clock = clock
        self._sweep = sweep
        self.armed_for: datetime | None = None

    async def arm(self) -> datetime:
        """(Re)arm the wake-up for the earliest due slot (or the next sweep); returns its time."""
        now = self._clock.now()
        due = await self._runner.next_due()
        wake = min(due, now + self._sweep) if due is not None else now + self._sweep
        self.armed_for = wake
        # APScheduler sleeps in real time; the injected clock only says how long to wait, so a
        # test's fake clock never makes the alarm fire in a loop (tests call run_due themselves).
        delay = max(wake - now, timedelta(0))
        self._scheduler.add_job(
            self._fire,
            DateTrigger(run_date=datetime.now(UTC) + delay),
            id=JOB_ID,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
        )
        return wake

    async def _fire(self) -> None:
        # Re-armed as soon as the slots are claimed: their handlers run in the runner's tasks,
        # and a long pass (thousands of paced digests) must not hold back the next due slot.
        try:
            await self._runner.start_due()
        except Exception:
            log.exception("the scheduling runner failed; retrying at the next wake-up")
        finally:
            if not self._runner.stopping:
                await self.arm()

    def disarm(self) -> None:
        if self._scheduler.get_job(JOB_ID) is not None:
            self._scheduler.remove_job(JOB_ID)
        self.armed_for = None
