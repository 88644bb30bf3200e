"""The runner: finds due slots, claims each exactly once, runs the kind's handler, records it.

Exactly once: a `schedule_runs` row (schedule_id, slot_at) under a UNIQUE constraint is inserted,
in its own transaction together with a compare-and-set of `schedules.next_run_at`, before the
handler runs. A second process (or a restart) that reaches the same slot fails the insert or the
compare-and-set, rolls back and does nothing.

Downtime: all slots between the stored `next_run_at` and now collapse into the latest one. It
runs (marked late when more than `LATE_AFTER` behind) if within the kind's grace; every other
slot is recorded as `missed` and reported to the moderators once per schedule.

Crash recovery: a `claimed` row older than `stale_after` belongs to a process that died mid-run.
The first process to see it takes it over with a compare-and-set and re-runs the handler (kinds
that declare `resume_after_crash`, within their grace), marked late and recovered. Handlers post
through the run's outbox scope (bot/scheduling/outbox), which skips what was posted, finds on
Discord what was sent but not recorded, and sends the rest: each post happens once. A slot that
cannot be resumed (a kind without it, or past its grace) is marked `failed` and reported.

Passes: a pass claims its slots under the runner's lock, then runs their handlers outside it, one
task per slot, so a long pass (thousands of paced digests) never holds back the next pass and its
other kinds. A slot waits for its kind's own limit before the shared one, so a kind at its limit
holds no shared slot. At shutdown the slots that have not started are released (the next start
runs them, late, within the kind's grace); handlers already running are waited for.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update

from bot.clock import Clock
from bot.database import SessionFactory
from bot.models.base import table_of
from bot.scheduling.claims import Plan, insert_new, move_on
from bot.scheduling.models import Schedule, ScheduleRun
from bot.scheduling.outbox import Outbox
from bot.scheduling.registry import KindRegistry, KindSpec, SlotContext
from bot.scheduling.schedules import ScheduleInfo, info_of
from bot.wording import discord_timestamp, plural

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(minutes=1)
STALE_AFTER = timedelta(minutes=10)
RECOVER_EVERY = timedelta(minutes=1)
# Missed slots recorded per schedule per catch-up (the count reported is exact regardless).
MAX_MISSED_ROWS = 100
# Schedules claimed per statement: a busy second is one batch; a long catch-up stays bounded.
CLAIM_BATCH = 200

Reporter = Callable[[int, str], Awaitable[None]]


async def _no_report(_guild_id: int, _text: str) -> None:
    return None


@dataclass
class RunReport:
    """What one `run_due` pass did (for tests, logs and the benchmark)."""

    done: list[tuple[int, datetime]] = field(default_factory=list)
    failed: list[tuple[int, datetime]] = field(default_factory=list)
    missed: list[tuple[int, datetime]] = field(default_factory=list)
    skipped_claims: int = 0
    recovered: list[tuple[int, datetime]] = field(default_factory=list)
    lateness: list[timedelta] = field(default_factory=list)


@dataclass(frozen=True)
class _Claim:
    run_id: int
    schedule: ScheduleInfo
    slot_at: datetime
    late: bool
    recovered: bool = False
    # `schedules.next_run_at` as the claim left it: releasing the slot moves it back only if so.
    following: datetime | None = None


# One executemany for a batch of outcomes. Core, not the ORM's bulk update by primary key: a run
# whose schedule was deleted meanwhile (its rows go with it) matches nothing, which must not fail
# the others.
_RUNS = table_of(ScheduleRun)
FINISH_RUN = (
    update(_RUNS)
    .where(_RUNS.c.id == bindparam("run_id"))
    .values(
        status=bindparam("outcome"),
        note=bindparam("outcome_note"),
        finished_at=bindparam("finished"),
    )
)


@dataclass
class _Finish:
    """A run's outcome waiting to be written; `recorded` once its batch has committed."""

    values: dict[str, Any]
    recorded: bool = False


@dataclass(frozen=True)
class _Flight:
    claim: _Claim
    task: asyncio.Task[None]


class RunPass:
    """The slots one pass claimed, running in the background; `wait()` gives the full report."""

    def __init__(self, report: RunReport, tasks: list[asyncio.Task[None]]) -> None:
        self.report = report
        self.tasks = tasks

    async def wait(self) -> RunReport:
        """Wait until every slot of the pass has run (or was released at shutdown)."""
        if self.tasks:
            await asyncio.wait(self.tasks)
        return self.report


def default_owner() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Runner:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        registry: KindRegistry,
        *,
        guild_visible: Callable[[int], bool] = lambda _guild_id: True,
        report: Reporter = _no_report,
        owner: str | None = None,
        stale_after: timedelta = STALE_AFTER,
        concurrency: int = 25,
        outbox: Outbox | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.registry = registry
        self._outbox = outbox or Outbox(sessions, clock)
        self._visible = guild_visible
        self._report = report
        self.owner = owner or default_owner()
        self._stale_after = stale_after
        self._limit = asyncio.Semaphore(concurrency)
        self._kind_limits: dict[str, tuple[int, asyncio.Semaphore]] = {}
        # Held while a pass recovers and claims, never while handlers run.
        self._lock = asyncio.Lock()
        self._recovered_at: datetime | None = None
        # Runner writes go one at a time in this process: SQLite has one writer anyway, and its
        # busy handler sleeps (adding lateness) when connections of one process contend.
        self._writes = asyncio.Lock()
        self._finishing: list[_Finish] = []
        # Claimed slots by run id: waiting for a limit, or in their handler. Both hold strong
        # references to their tasks, and recovery leaves both alone (they are not stale).
        self._queued: dict[int, _Flight] = {}
        self._started: dict[int, _Flight] = {}
        self.stopping = False

    async def run_due(self) -> RunReport:
        """Run every due slot of the visible guilds once, and return when they have run.

        Safe to call at any time, also while an earlier pass is still running: each slot is
        claimed once. Cancelling it cancels the slots it claimed (as a process that dies would).
        """
        started = await self.start_due()
        try:
            return await started.wait()
        except asyncio.CancelledError:
            for task in started.tasks:
                task.cancel()
            raise

    async def start_due(self) -> RunPass:
        """Claim every due slot and start running them; returns once they are claimed."""
        async with self._lock:
            report = RunReport()
            if self.stopping:
                return RunPass(report, [])
            now = self._clock.now()
            claims: list[_Claim] = []
            # Stale claims are looked for at start-up and then every few minutes, not on
            # every wake-up of a busy minute.
            if self._recovered_at is None or now - self._recovered_at >= RECOVER_EVERY:
                self._recovered_at = now
                await self._renew(now)
                claims += await self._recover(report)
            query = select(Schedule).where(
                Schedule.paused.is_(False),
                Schedule.next_run_at.is_not(None),
                Schedule.next_run_at <= now,
            )
            async with self._sessions() as session:
                rows = (await session.scalars(query)).all()
            due = [
                info_of(row)
                for row in rows
                if self._visible(row.guild_id) and row.kind in self.registry
            ]
            if due:
                claims += await self._claim_all(due, now, report)
            # Launched under the lock, so that `wait_idle` sees every claim a pass took.
            return RunPass(report, [self._launch(claim, report) for claim in claims])

    async def join(self) -> None:
        """Wait until no claimed slot is queued or running (tests; the benchmark)."""
        while True:
            flights = [*self._queued.values(), *self._started.values()]
            # After `stop()`, slots that did not start stay queued (for `wait_idle`), done.
            pending = [flight.task for flight in flights if not flight.task.done()]
            if not pending:
                return
            await asyncio.wait(pending)

    def stop(self) -> None:
        """Start no more passes nor handlers (`wait_idle` then releases what did not start)."""
        self.stopping = True

    async def wait_idle(self) -> None:
        """At shutdown, before the database closes: release the claimed slots whose handler has
        not started (the next start runs them, late, within their grace) and wait for the
        handlers that are running."""
        self.stop()
        async with self._lock:  # a pass still claiming launches its slots first
            queued = list(self._queued.values())
            self._queued.clear()
        for flight in queued:
            flight.task.cancel()
        # Slots taken over from a dead process stay claimed: the next start's recovery resumes
        # them, since `next_run_at` has long moved past them.
        fresh = [flight.claim for flight in queued if not flight.claim.recovered]
        if fresh:
            await self._release(fresh)
        running = [flight.task for flight in self._started.values()]
        if running:
            await asyncio.wait(running)
        if queued:
            await asyncio.wait([flight.task for flight in queued])

    async def next_due(self) -> datetime | None:
        """The earliest next run of an active schedule in a visible guild."""
        first = (
            select(Schedule.guild_id, Schedule.next_run_at)
            .where(Schedule.paused.is_(False), Schedule.next_run_at.is_not(None))
            .order_by(Schedule.next_run_at)
            .limit(50)
        )
        async with self._sessions() as session:
            soonest = (await session.execute(first)).all()
        for guild_id, at in soonest:  # usually the very first row (the index's order)
            if self._visible(guild_id):
                return at
        if len(soonest) < 50:
            return None
        query = (
            select(Schedule.guild_id, func.min(Schedule.next_run_at))
            .where(Schedule.paused.is_(False), Schedule.next_run_at.is_not(None))
            .group_by(Schedule.guild_id)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        due = [at for guild_id, at in rows if at is not None and self._visible(guild_id)]
        return min(due, default=None)

    async def _claim_all(
        self, due: list[ScheduleInfo], now: datetime, report: RunReport
    ) -> list[_Claim]:
        """Claim every due schedule's slot in one transaction, set-based (one commit and, per
        `CLAIM_BATCH` schedules, two statements for a busy second).

        One UPDATE moves each schedule's `next_run_at` on with a compare-and-set of the value
        this pass read (a second process that read the same value updates nothing and is told
        so by RETURNING), and one INSERT … ON CONFLICT DO NOTHING adds the slot rows of the
        schedules it moved, so a slot someone else holds is skipped, never duplicated.
        """
        plans = [self._plan(info, now) for info in due]
        claims: list[_Claim] = []
        reports: list[tuple[ScheduleInfo, list[datetime], datetime | None]] = []
        async with self._writes, self._sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            for first in range(0, len(plans), CLAIM_BATCH):
                batch = plans[first : first + CLAIM_BATCH]
                moved = set(await session.scalars(move_on(batch)))
                report.skipped_claims += len(batch) - len(moved)
                mine = [plan for plan in batch if plan.info.id in moved]
                rows = [row for plan in mine for row in self._rows_of(plan, now)]
                inserted: dict[tuple[int, datetime], int] = {}
                if rows:
                    result = await session.execute(insert_new(dialect), rows)
                    inserted = {(sid, slot): rid for rid, sid, slot in result}
                for plan in mine:
                    info, latest = plan.info, plan.latest
                    run_id = None if latest is None else inserted.get((info.id, latest))
                    if latest is not None and run_id is None:
                        report.skipped_claims += 1
                    elif latest is not None and run_id is not None:
                        late = now - latest > LATE_AFTER
                        claims.append(_Claim(run_id, info, latest, late, following=plan.following))
                        report.lateness.append(now - latest)
                    if plan.missed:
                        reports.append((info, plan.missed, latest if run_id is not None else None))
        for info, missed, ran in reports:
            report.missed.extend((info.id, slot) for slot in missed)
            if self.registry.get(info.kind).report_missed:
                await self._safe_report(info.guild_id, _missed_text(info, missed, ran=ran))
        return claims

    def _rows_of(self, plan: Plan, now: datetime) -> list[dict[str, Any]]:
        """The run rows a moved schedule's claim inserts: its missed slots, then the one to run."""
        info = plan.info
        recorded = plan.missed[-MAX_MISSED_ROWS:]
        rows = [self._run_values(info, slot, "missed", now) for slot in recorded]
        if plan.latest is not None:
            late = now - plan.latest > LATE_AFTER
            rows.append(self._run_values(info, plan.latest, "claimed", now, late=late))
        return rows

    def _plan(self, info: ScheduleInfo, now: datetime) -> Plan:
        """The missed slots, the slot to run (or None) and the next slot after now."""
        assert info.next_run_at is not None
        spec = self.registry.get(info.kind)
        slots = info.slots_between(info.next_run_at, now)
        runnable = bool(slots) and now - slots[-1] <= spec.grace_for(info)
        missed = slots[:-1] if runnable else slots
        latest = slots[-1] if runnable else None
        return Plan(info, missed, latest, info.next_slot_after(now))

    def _run_values(
        self, info: ScheduleInfo, slot: datetime, status: str, now: datetime, *, late: bool = False
    ) -> dict[str, Any]:
        return {
            "guild_id": info.guild_id,
            "schedule_id": info.id,
            "slot_at": slot,
            "status": status,
            "late": late,
            "owner": self.owner,
            "claimed_at": now,
            "finished_at": now if status != "claimed" else None,
            "note": "bot offline" if status == "missed" else "",
        }

    def _launch(self, claim: _Claim, report: RunReport) -> asyncio.Task[None]:
        task = asyncio.create_task(
            self._execute(claim, report), name=f"scheduling-run-{claim.run_id}"
        )
        self._queued[claim.run_id] = _Flight(claim, task)
        task.add_done_callback(_log_failure)
        return task

    def _kind_limit(self, spec: KindSpec | None) -> AbstractAsyncContextManager[Any]:
        if spec is None or spec.concurrency is None:
            return nullcontext()
        held = self._kind_limits.get(spec.name)
        # A kind re-registered with another limit gets a new semaphore; slots holding the old
        # one finish on it (a brief overshoot while a cog reloads).
        if held is None or held[0] != spec.concurrency:
            held = (spec.concurrency, asyncio.Semaphore(spec.concurrency))
            self._kind_limits[spec.name] = held
        return held[1]

    async def _execute(self, claim: _Claim, report: RunReport) -> None:
        kind = claim.schedule.kind
        spec = self.registry.get(kind) if kind in self.registry else None  # a cog may unload
        try:
            # The kind's limit first: a kind at its limit must not sit on shared slots.
            async with self._kind_limit(spec), self._limit:
                if self.stopping:
                    return  # not started: `wait_idle` releases it
                flight = self._queued.pop(claim.run_id)
                self._started[claim.run_id] = flight
                status, note = await self._call(spec, claim)
        except asyncio.CancelledError:
            self._queued.pop(claim.run_id, None)
            self._started.pop(claim.run_id, None)
            raise
        try:
            values = {"run_id": claim.run_id, "outcome": status, "outcome_note": note[:500]}
            await self._record(_Finish({**values, "finished": self._clock.now()}))
            target = report.done if status == "done" else report.failed
            target.append((claim.schedule.id, claim.slot_at))
            if status == "failed":
                await self._safe_report(
                    claim.schedule.guild_id,
                    f"Schedule #{claim.schedule.id} ({_label(claim.schedule)}) failed: "
                    f"{note[:300]}",
                )
        finally:
            self._started.pop(claim.run_id, None)

    async def _record(self, finish: _Finish) -> None:
        """Write a run's outcome; outcomes that wait for the writer meanwhile go in one batch.

        The lock is first come, first served and is held until the batch commits, so an
        outcome a batch took is durable by the time its own turn comes; a failed batch puts
        its outcomes back for the next turn.
        """
        self._finishing.append(finish)
        async with self._writes:
            if finish.recorded:
                return
            batch, self._finishing = self._finishing, []
            try:
                async with self._sessions() as session, session.begin():
                    await session.execute(FINISH_RUN, [f.values for f in batch])
            except BaseException:
                self._finishing[:0] = [f for f in batch if f is not finish]
                raise
            for done in batch:
                done.recorded = True

    async def _call(self, spec: KindSpec | None, claim: _Claim) -> tuple[str, str]:
        """Run the handler: ("done", its note) or ("failed", the error)."""
        if spec is None:
            return "failed", f"no handler for kind {claim.schedule.kind!r}"
        context = SlotContext(
            schedule=claim.schedule,
            slot_at=claim.slot_at,
            now=self._clock.now(),
            late=claim.late,
            recovered=claim.recovered,
            run_id=claim.run_id,
            outbox=self._outbox.scope(claim.schedule.guild_id, f"run:{claim.run_id}"),
        )
        try:
            result = await spec.handler(context)
        except Exception as exc:
            log.exception("schedule #%s (%s) failed", claim.schedule.id, claim.schedule.kind)
            return "failed", f"{type(exc).__name__}: {exc}"[:500]
        return "done", result or ""

    async def _release(self, claims: list[_Claim]) -> None:
        """Give back claimed slots that never started, in one transaction.

        Per slot: `next_run_at` moves back to the slot with a compare-and-set (only if no one
        moved it since), and the run row is deleted, so the next start claims the slot again.
        Latest slots first, so that of two queued slots of one schedule the earlier one is
        restored and the next start applies the usual downtime rules to both. A slot that
        cannot be put back (the schedule was edited, paused, or a later slot already ran) is
        recorded `missed`: it never ran, and nothing will run it now.
        """
        now = self._clock.now()
        gone: list[int] = []
        async with self._writes, self._sessions() as session, session.begin():
            for claim in sorted(claims, key=lambda c: c.slot_at, reverse=True):
                unchanged = (
                    Schedule.next_run_at.is_(None)
                    if claim.following is None
                    else Schedule.next_run_at == claim.following
                )
                moved = await session.execute(
                    update(Schedule)
                    .where(Schedule.id == claim.schedule.id, Schedule.paused.is_(False), unchanged)
                    .values(next_run_at=claim.slot_at)
                )
                if moved.rowcount == 1:  # type: ignore[attr-defined]
                    gone.append(claim.run_id)
                    continue
                await session.execute(
                    update(ScheduleRun)
                    .where(ScheduleRun.id == claim.run_id, ScheduleRun.status == "claimed")
                    .values(status="missed", finished_at=now, note="bot stopped before it ran")
                )
            for first in range(0, len(gone), 500):  # bounded IN lists
                await session.execute(
                    delete(ScheduleRun).where(
                        ScheduleRun.id.in_(gone[first : first + 500]),
                        ScheduleRun.status == "claimed",
                    )
                )
        log.info("released %d queued slot(s) at shutdown (%d put back)", len(claims), len(gone))

    async def _renew(self, now: datetime) -> None:
        """Refresh the claims this runner still has queued or running, so that a peer process
        sharing the database never takes them for those of a process that died (passes come
        at least every alarm sweep, well within `stale_after`)."""
        ids = [*self._queued, *self._started]
        if not ids:
            return
        async with self._writes, self._sessions() as session, session.begin():
            for first in range(0, len(ids), 500):  # bounded IN lists
                await session.execute(
                    update(ScheduleRun)
                    .where(
                        ScheduleRun.id.in_(ids[first : first + 500]),
                        ScheduleRun.status == "claimed",
                        ScheduleRun.owner == self.owner,
                    )
                    .values(claimed_at=now)
                )

    async def _recover(self, report: RunReport) -> list[_Claim]:
        """Take over runs left `claimed` by a process that stopped mid-run; returns the ones to
        resume. This runner's own claims, queued or running, are not stale however old."""
        now = self._clock.now()
        query = select(ScheduleRun, Schedule).join(Schedule, Schedule.id == ScheduleRun.schedule_id)
        query = query.where(
            ScheduleRun.status == "claimed", ScheduleRun.claimed_at <= now - self._stale_after
        )
        async with self._sessions() as session:
            stale = [(run, schedule) for run, schedule in await session.execute(query)]
        resumed: list[_Claim] = []
        for run, schedule in stale:
            if run.id in self._queued or run.id in self._started:
                continue
            if not self._visible(run.guild_id) or schedule.kind not in self.registry:
                continue
            info = info_of(schedule)
            spec = self.registry.get(info.kind)
            resume = spec.resume_after_crash and now - run.slot_at <= spec.grace_for(info)
            async with self._sessions() as session, session.begin():
                taken = await session.execute(
                    update(ScheduleRun)
                    .where(
                        ScheduleRun.id == run.id,
                        ScheduleRun.status == "claimed",
                        ScheduleRun.owner == run.owner,
                    )
                    .values(
                        owner=self.owner,
                        claimed_at=now,
                        status="claimed" if resume else "failed",
                        finished_at=None if resume else now,
                        note="" if resume else "interrupted: the bot stopped mid-run, not resumed",
                    )
                )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue
            report.recovered.append((info.id, run.slot_at))
            if resume:
                resumed.append(_Claim(run.id, info, run.slot_at, late=True, recovered=True))
            else:
                report.failed.append((info.id, run.slot_at))
                why = (
                    "it was too late to finish it when the bot came back"
                    if spec.resume_after_crash
                    else "this kind of run is never repeated"
                )
                await self._safe_report(
                    info.guild_id,
                    f"Schedule #{info.id} ({_label(info)}) was interrupted mid-run at "
                    f"{discord_timestamp(run.slot_at.timestamp())} (the bot stopped), and {why}. "
                    "Part of it may have been posted: check the channel.",
                )
        return resumed

    async def _safe_report(self, guild_id: int, text: str) -> None:
        try:
            await self._report(guild_id, text)
        except Exception:
            log.exception("could not report to the moderators of guild %s", guild_id)


def _log_failure(task: asyncio.Task[None]) -> None:
    """A slot's task failed outside its handler (e.g. recording the run): say so; its claim
    stays `claimed`, and recovery deals with it once it is stale."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("a scheduled run could not be recorded", exc_info=error)


def _label(info: ScheduleInfo) -> str:
    return info.label or info.kind


def _missed_text(info: ScheduleInfo, missed: list[datetime], *, ran: datetime | None) -> str:
    last = missed[-1]
    what = (
        plural(len(missed), "run")
        if len(missed) > 1
        else f"the run of {discord_timestamp(last.timestamp())}"
    )
    tail = " The latest one was posted late instead." if ran is not None else ""
    return (
        f"Schedule #{info.id} ({_label(info)}) missed {what} while the bot was offline "
        f"(latest missed: {discord_timestamp(last.timestamp())}).{tail}"
    )
