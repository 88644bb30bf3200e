"""Passes that overlap: a long pass never holds back other kinds, per-kind limits, shutdown.

Handlers are held on an `asyncio.Event`, so "a pass is still running" is a state, not a timing.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.scheduling import (
    KindRegistry,
    Runner,
    RunPass,
    RunReport,
    ScheduleService,
    SlotContext,
    parse_when,
)
from bot.scheduling.models import Schedule, ScheduleRun

GUILD = 1001
MOD = 42
ONE_PM = datetime(2026, 3, 2, 13, tzinfo=UTC)


class Gate:
    """A handler that waits until the gate opens, counting how many wait at once."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.started: list[SlotContext] = []
        self.finished: list[SlotContext] = []
        self.running = 0
        self.most = 0
        self._waiters: list[tuple[int, asyncio.Event]] = []

    async def handle(self, slot: SlotContext) -> str:
        self.started.append(slot)
        self.running += 1
        self.most = max(self.most, self.running)
        for count, reached in self._waiters:
            if len(self.started) >= count:
                reached.set()
        try:
            await self.open.wait()
        finally:
            self.running -= 1
        self.finished.append(slot)
        return "ok"

    async def started_at_least(self, count: int) -> None:
        reached = asyncio.Event()
        self._waiters.append((count, reached))
        if len(self.started) >= count:
            reached.set()
        await reached.wait()


class Quick:
    def __init__(self) -> None:
        self.slots: list[SlotContext] = []

    async def handle(self, slot: SlotContext) -> str:
        self.slots.append(slot)
        return "ok"


async def create(
    sessions: SessionFactory, clock: FakeClock, kind: str, count: int, when: str = "daily at 13:00"
) -> list[int]:
    service = ScheduleService(sessions, clock)
    rule = parse_when(when, "UTC", clock.now())
    infos = [
        await service.create(GUILD, "PLN", MOD, kind=kind, rule=rule, audit=False)
        for _ in range(count)
    ]
    return [info.id for info in infos]


async def busy_runner(
    sessions: SessionFactory, clock: FakeClock, *, slots: int, running: int
) -> tuple[Gate, KindRegistry, Runner, list[int], RunPass]:
    """`slots` due slots of a "slow" kind limited to `running` at once, those already started."""
    gate = Gate()
    registry = KindRegistry()
    registry.register("slow", gate.handle, grace=timedelta(hours=2), concurrency=running)
    runner = Runner(sessions, clock, registry, owner="stopping")
    ids = await create(sessions, clock, "slow", slots)
    clock.set(ONE_PM)
    first = await runner.start_due()
    await gate.started_at_least(running)
    return gate, registry, runner, ids, first


async def run_rows(sessions: SessionFactory) -> list[tuple[int, datetime, str]]:
    async with sessions() as session:
        rows = (await session.scalars(select(ScheduleRun).order_by(ScheduleRun.id))).all()
    return [(row.schedule_id, row.slot_at, row.status) for row in rows]


async def test_a_long_pass_of_a_slow_kind_does_not_hold_back_another_kinds_slot(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    slow, quick = Gate(), Quick()
    registry = KindRegistry()
    registry.register("slow", slow.handle, grace=timedelta(hours=2), concurrency=3)
    registry.register("quick", quick.handle, grace=timedelta(hours=2))
    # Five shared slots: were the slow kind to take shared slots before its own limit, its
    # queued slots would fill them and the quick kind would wait.
    runner = Runner(sessions, clock, registry, owner="test", concurrency=5)
    slow_ids = await create(sessions, clock, "slow", 20)
    (quick_id,) = await create(sessions, clock, "quick", 1, "daily at 13:05")
    clock.set(ONE_PM)
    first = await runner.start_due()
    await slow.started_at_least(3)
    clock.advance(timedelta(minutes=5))
    second = await runner.run_due()  # returns while the first pass is still running
    assert second.done == [(quick_id, ONE_PM + timedelta(minutes=5))]
    assert len(quick.slots) == 1 and not quick.slots[0].late
    assert len(slow.started) == 3 and slow.finished == []
    slow.open.set()
    report = await first.wait()
    assert sorted(report.done) == sorted((i, ONE_PM) for i in slow_ids)
    assert slow.most == 3


async def test_at_most_the_kinds_limit_of_handlers_run_at_once(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    limited = Gate()
    registry = KindRegistry()
    registry.register("limited", limited.handle, grace=timedelta(hours=2), concurrency=4)
    runner = Runner(sessions, clock, registry, owner="test")
    await create(sessions, clock, "limited", 12)
    clock.set(ONE_PM)
    started = await runner.start_due()
    await limited.started_at_least(4)
    assert limited.running == 4
    limited.open.set()
    report = await started.wait()
    assert len(report.done) == 12 and len(limited.finished) == 12
    assert limited.most == 4


def test_a_kinds_limit_is_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        KindRegistry().register("broken", Quick().handle, concurrency=0)


async def test_overlapping_passes_never_run_a_slot_twice(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    gate = Gate()
    registry = KindRegistry()
    registry.register("slow", gate.handle, grace=timedelta(hours=2))
    # Days pass on the fake clock between passes: no claim may look stale here (another test
    # covers recovery).
    days = timedelta(days=7)
    runner = Runner(sessions, clock, registry, owner="a", concurrency=5, stale_after=days)
    peer = Runner(sessions, clock, registry, owner="b", concurrency=5, stale_after=days)
    ids = await create(sessions, clock, "slow", 12)
    clock.set(ONE_PM)
    passes: list[RunPass] = []
    for _day in range(3):
        # Day after day, while the earlier days' slots are still blocked or queued.
        passes += await asyncio.gather(runner.start_due(), runner.start_due(), peer.start_due())
        clock.advance(timedelta(days=1))
    gate.open.set()
    reports = [await started.wait() for started in passes]
    ran = sorted((slot.schedule.id, slot.slot_at) for slot in gate.started)
    assert len(ran) == len(set(ran)) == 36
    assert sorted(done for report in reports for done in report.done) == ran
    rows = await run_rows(sessions)
    assert sorted((i, at) for i, at, status in rows if status == "done") == ran
    assert {i for i, _ in ran} == set(ids)


@pytest.mark.parametrize("resume", [False, True])
async def test_recovery_leaves_the_runners_own_claims_alone_however_long_they_take(
    sessions: SessionFactory, clock: FakeClock, resume: bool
) -> None:
    gate = Gate()
    registry = KindRegistry()
    registry.register(
        "slow", gate.handle, grace=timedelta(hours=2), resume_after_crash=resume, concurrency=1
    )
    runner = Runner(sessions, clock, registry, owner="test")
    ids = await create(sessions, clock, "slow", 2)  # one running, one queued behind the limit
    clock.set(ONE_PM)
    started = await runner.start_due()
    await gate.started_at_least(1)
    clock.advance(timedelta(minutes=11))  # both claims are now older than STALE_AFTER
    later = await runner.run_due()
    assert later.recovered == [] and later.failed == [] and later.done == []
    assert [status for *_, status in await run_rows(sessions)] == ["claimed", "claimed"]
    gate.open.set()
    report = await started.wait()
    assert sorted(report.done) == [(i, ONE_PM) for i in ids]
    assert len(gate.started) == 2 and not any(slot.recovered for slot in gate.started)
    assert [status for *_, status in await run_rows(sessions)] == ["done", "done"]


async def test_a_peer_process_does_not_take_over_claims_that_are_still_in_flight(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    gate = Gate()
    registry = KindRegistry()
    registry.register("slow", gate.handle, grace=timedelta(hours=2), concurrency=1)
    runner = Runner(sessions, clock, registry, owner="busy")
    peer = Runner(sessions, clock, registry, owner="peer")
    await create(sessions, clock, "slow", 2)
    clock.set(ONE_PM)
    started = await runner.start_due()
    await gate.started_at_least(1)
    clock.advance(timedelta(minutes=11))
    await runner.run_due()  # the busy runner's passes keep its claims fresh
    assert (await peer.run_due()).recovered == []
    gate.open.set()
    assert len((await started.wait()).done) == 2
    assert len(gate.started) == 2


async def test_shutdown_releases_queued_slots_and_waits_for_running_handlers(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    gate, registry, runner, ids, first = await busy_runner(sessions, clock, slots=5, running=2)
    runner.stop()
    stopping = asyncio.create_task(runner.wait_idle())
    # The three queued slots are released in one transaction; the two running ones are not.
    while len(await run_rows(sessions)) != 2:
        assert not stopping.done()
    assert [status for *_, status in await run_rows(sessions)] == ["claimed", "claimed"]
    assert not stopping.done()  # still waiting for the two running handlers
    gate.open.set()
    await stopping
    report = await first.wait()
    running = {slot.schedule.id for slot in gate.started}
    queued = set(ids) - running
    assert len(running) == 2 and len(gate.finished) == 2
    assert sorted(report.done) == sorted((i, ONE_PM) for i in running)
    assert await runner.run_due() == RunReport()  # a stopped runner starts nothing
    async with sessions() as session:
        next_runs = dict((await session.execute(select(Schedule.id, Schedule.next_run_at))).all())
    assert {i: next_runs[i] for i in queued} == dict.fromkeys(queued, ONE_PM)
    assert {next_runs[i] for i in running} == {ONE_PM + timedelta(days=1)}

    # The next start (another process) runs the released slots, late, within their grace.
    restarted_gate = Gate()
    restarted_gate.open.set()
    registry.register("slow", restarted_gate.handle, grace=timedelta(hours=2), concurrency=2)
    restarted = Runner(sessions, clock, registry, owner="restarted")
    clock.advance(timedelta(minutes=30))
    later = await restarted.run_due()
    assert sorted(later.done) == sorted((i, ONE_PM) for i in queued)
    assert all(slot.late for slot in restarted_gate.started)
    rows = await run_rows(sessions)
    assert sorted((i, status) for i, _, status in rows) == sorted((i, "done") for i in ids)


async def test_a_released_slot_that_cannot_be_put_back_is_recorded_missed(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    gate, _, runner, ids, first = await busy_runner(sessions, clock, slots=2, running=1)
    (queued,) = set(ids) - {gate.started[0].schedule.id}
    await ScheduleService(sessions, clock).set_paused(GUILD, queued, MOD, paused=True)
    runner.stop()
    stopping = asyncio.create_task(runner.wait_idle())
    while "missed" not in {status for *_, status in await run_rows(sessions)}:
        assert not stopping.done()
    gate.open.set()
    await stopping
    await first.wait()
    rows = {i: status for i, _, status in await run_rows(sessions)}
    assert rows == {gate.started[0].schedule.id: "done", queued: "missed"}
