"""The runner on a real database: exactly once, downtime, crash recovery, two processes, DST."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.scheduling import (
    Alarm,
    KindRegistry,
    Recurrence,
    Runner,
    ScheduleService,
    SlotContext,
    parse_when,
)
from bot.scheduling.runner import RunReport
from bot.scheduling.schedules import MAX_ACTIVE_PER_GUILD

GUILD = 1001
MOD = 42


class Recorder:
    def __init__(self) -> None:
        self.slots: list[SlotContext] = []
        self.reports: list[tuple[int, str]] = []

    async def handle(self, slot: SlotContext) -> str:
        self.slots.append(slot)
        return "ok"

    async def report(self, guild_id: int, text: str) -> None:
        self.reports.append((guild_id, text))


def make_runner(
    sessions: SessionFactory,
    clock: FakeClock,
    recorder: Recorder,
    *,
    grace: timedelta = timedelta(hours=2),
    resume: bool = False,
    visible: set[int] | None = None,
    owner: str = "test",
) -> Runner:
    registry = KindRegistry()
    registry.register("test", recorder.handle, grace=grace, resume_after_crash=resume)
    return Runner(
        sessions,
        clock,
        registry,
        guild_visible=(lambda g: visible is None or g in visible),
        report=recorder.report,
        owner=owner,
    )


async def daily(service: ScheduleService, clock: FakeClock, text: str = "daily at 13:00") -> int:
    rule = parse_when(text, "UTC", clock.now())
    info = await service.create(GUILD, "PLN", MOD, kind="test", rule=rule, label="daily test")
    return info.id


async def test_a_slot_runs_once_however_often_the_runner_is_woken(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service, recorder = ScheduleService(sessions, clock), Recorder()
    runner = make_runner(sessions, clock, recorder)
    schedule_id = await daily(service, clock)
    assert (await runner.run_due()).done == []  # 12:00, not yet
    clock.advance(timedelta(hours=1))
    first = await runner.run_due()
    again = await runner.run_due()
    assert first.done == [(schedule_id, datetime(2026, 3, 2, 13, tzinfo=UTC))]
    assert again.done == []
    assert [s.slot_at for s in recorder.slots] == [datetime(2026, 3, 2, 13, tzinfo=UTC)]
    assert not recorder.slots[0].late
    runs = await service.runs(GUILD, schedule_id)
    assert [(r.status, r.note) for r in runs] == [("done", "ok")]
    assert (await service.get(GUILD, schedule_id)).next_run_at == datetime(
        2026, 3, 3, 13, tzinfo=UTC
    )


async def test_two_processes_sharing_the_database_run_each_slot_once(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service, recorder = ScheduleService(sessions, clock), Recorder()
    ids = [await daily(service, clock, f"daily at 13:{m:02d}") for m in range(0, 50, 10)]
    first = make_runner(sessions, clock, recorder, owner="process-a")
    second = make_runner(sessions, clock, recorder, owner="process-b")
    clock.advance(timedelta(hours=2))
    for _ in range(3):
        await asyncio.gather(first.run_due(), second.run_due(), first.run_due())
        clock.advance(timedelta(days=1))
    ran = sorted((s.schedule.id, s.slot_at) for s in recorder.slots)
    assert len(ran) == len(set(ran))
    assert {schedule for schedule, _ in ran} == set(ids)
    for schedule_id in ids:
        statuses = [r.status for r in await service.runs(GUILD, schedule_id)]
        assert statuses.count("done") == 3


async def test_a_pass_that_read_a_slot_another_process_claimed_runs_only_the_others(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    # One set-based claim for the whole pass: the compare-and-set still holds row by row.
    service, recorder = ScheduleService(sessions, clock), Recorder()
    taken = await daily(service, clock, "daily at 13:00")
    rule = parse_when("daily at 13:10", "UTC", clock.now())
    free = (await service.create(GUILD + 1, "Other", MOD, kind="test", rule=rule)).id
    clock.advance(timedelta(hours=2))
    read_before = [await service.get(GUILD, taken), await service.get(GUILD + 1, free)]
    # Another process (which serves only GUILD) claims and runs `taken` in between.
    await make_runner(sessions, clock, recorder, owner="process-b", visible={GUILD}).run_due()
    late = make_runner(sessions, clock, recorder, owner="process-a")
    report = RunReport()
    claims = await late._claim_all(read_before, clock.now(), report)
    assert [claim.schedule.id for claim in claims] == [free]
    assert report.skipped_claims == 1
    assert [r.status for r in await service.runs(GUILD + 1, free)] == ["claimed"]
    assert [r.status for r in await service.runs(GUILD, taken)] == ["done"]  # process-b's
    for task in [late._launch(claim, report) for claim in claims]:
        await task
    assert sorted(slot.schedule.id for slot in recorder.slots) == sorted([taken, free])


async def test_a_run_whose_schedule_is_deleted_meanwhile_fails_no_other_run(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    # Outcomes are written in batches: one that matches no row (its schedule, and the run with
    # it, were deleted while it ran, as a one-off step deleting itself does) must not fail the
    # batch, nor be reported as a failure.
    service, recorder = ScheduleService(sessions, clock), Recorder()
    gone, kept = [await daily(service, clock, f"daily at 13:{m:02d}") for m in (0, 10)]
    both_started = asyncio.Event()
    started: list[int] = []

    async def handle(slot: SlotContext) -> str:
        started.append(slot.schedule.id)
        if len(started) == 2:
            both_started.set()
        await both_started.wait()  # both finish together: their outcomes share a batch
        if slot.schedule.id == gone:
            await service.delete(GUILD, gone, MOD)
        return "ok"

    registry = KindRegistry()
    registry.register("test", handle, grace=timedelta(hours=2))
    runner = Runner(sessions, clock, registry, report=recorder.report)
    clock.advance(timedelta(hours=2))
    report = await runner.run_due()
    assert sorted(schedule for schedule, _ in report.done) == sorted([gone, kept])
    assert [r.status for r in await service.runs(GUILD, kept)] == ["done"]
    assert recorder.reports == []


async def test_downtime_within_grace_posts_the_latest_slot_late_and_reports_the_rest(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service, recorder = ScheduleService(sessions, clock), Recorder()
    runner = make_runner(sessions, clock, recorder, grace=timedelta(hours=2))
    schedule_id = await daily(service, clock)
    clock.set(datetime(2026, 3, 5, 14, 30, tzinfo=UTC))  # down for 3 days; last slot 90 min ago
    report = await runner.run_due()
    assert report.done == [(schedule_id, datetime(2026, 3, 5, 13, tzinfo=UTC))]
    assert recorder.slots[0].late
    assert [slot.day for _, slot in report.missed] == [2, 3, 4]
    assert len(recorder.reports) == 1 and "missed 3 runs" in recorder.reports[0][1]
    statuses = [(r.slot_at.day, r.status, r.late) for r in await service.runs(GUILD, schedule_id)]
    assert statuses == [
        (2, "missed", False),
        (3, "missed", False),
        (4, "missed", False),
        (5, "done", True),
    ]
    assert (await runner.run_due()).done == []


async def test_downtime_beyond_grace_records_missed_and_tells_the_moderators_once(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service, recorder = ScheduleService(sessions, clock), Recorder()
    runner = make_runner(sessions, clock, recorder, grace=timedelta(hours=2))
    schedule_id = await daily(service, clock)
    clock.set(datetime(2026, 3, 2, 16, 0, tzinfo=UTC))  # 3 h late
    report = await runner.run_due()
    assert report.done == [] and recorder.slots == []
    assert report.missed == [(schedule_id, datetime(2026, 3, 2, 13, tzinfo=UTC))]
    assert len(recorder.reports) == 1 and "<t:" in recorder.reports[0][1]
    assert [r.status for r in await service.runs(GUILD, schedule_id)] == ["missed"]
    assert (await runner.run_due()).missed == []


async def _crash_mid_run(sessions: SessionFactory, clock: FakeClock) -> int:
    """Start a run whose handler never finishes, then kill it (the process 'dies')."""
    started = asyncio.Event()

    async def hang(_slot: SlotContext) -> None:
        started.set()
        await asyncio.Event().wait()

    registry = KindRegistry()
    registry.register("test", hang)
    dying = Runner(sessions, clock, registry, owner="dead-process")
    schedule_id = await daily(ScheduleService(sessions, clock), clock)
    clock.advance(timedelta(hours=1))
    task = asyncio.create_task(dying.run_due())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return schedule_id


async def test_a_run_interrupted_by_a_crash_is_marked_failed_and_reported_not_repeated(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    schedule_id = await _crash_mid_run(sessions, clock)
    recorder = Recorder()
    restarted = make_runner(sessions, clock, recorder)
    assert (await restarted.run_due()).recovered == []  # still fresh: maybe a live peer
    clock.advance(timedelta(minutes=11))
    report = await restarted.run_due()
    assert report.recovered == [(schedule_id, datetime(2026, 3, 2, 13, tzinfo=UTC))]
    assert recorder.slots == []
    assert "interrupted" in recorder.reports[0][1]
    runs = await ScheduleService(sessions, clock).runs(GUILD, schedule_id)
    assert [r.status for r in runs] == ["failed"]
    assert (await restarted.run_due()).recovered == []


async def test_a_resumable_kind_finishes_an_interrupted_run_within_its_grace(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    schedule_id = await _crash_mid_run(sessions, clock)
    recorder = Recorder()
    restarted = make_runner(sessions, clock, recorder, resume=True)
    clock.advance(timedelta(minutes=11))
    report = await restarted.run_due()
    assert report.done == [(schedule_id, datetime(2026, 3, 2, 13, tzinfo=UTC))]
    assert recorder.slots[0].recovered and recorder.slots[0].late
    runs = await ScheduleService(sessions, clock).runs(GUILD, schedule_id)
    assert [r.status for r in runs] == ["done"]


async def test_a_failing_handler_is_recorded_and_reported(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    async def boom(_slot: SlotContext) -> None:
        raise RuntimeError("channel gone")

    recorder = Recorder()
    registry = KindRegistry()
    registry.register("test", boom)
    runner = Runner(sessions, clock, registry, report=recorder.report)
    schedule_id = await daily(ScheduleService(sessions, clock), clock)
    clock.advance(timedelta(hours=1))
    report = await runner.run_due()
    assert report.failed == [(schedule_id, datetime(2026, 3, 2, 13, tzinfo=UTC))]
    assert "channel gone" in recorder.reports[0][1]
    # The schedule carries on to the next day.
    clock.advance(timedelta(days=1))
    assert len((await runner.run_due()).failed) == 1


async def test_guilds_this_process_cannot_see_are_left_to_the_process_that_can(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    recorder = Recorder()
    other_shard = make_runner(sessions, clock, recorder, visible={999})
    await daily(ScheduleService(sessions, clock), clock)
    clock.advance(timedelta(hours=1))
    assert (await other_shard.run_due()).done == []
    assert await other_shard.next_due() is None
    assert len((await make_runner(sessions, clock, recorder).run_due()).done) == 1


async def test_pause_resume_and_delete(sessions: SessionFactory, clock: FakeClock) -> None:
    service, recorder = ScheduleService(sessions, clock), Recorder()
    runner = make_runner(sessions, clock, recorder)
    schedule_id = await daily(service, clock)
    paused = await service.set_paused(GUILD, schedule_id, MOD, paused=True)
    assert paused.paused and paused.next_run_at is None
    clock.advance(timedelta(days=2))
    assert (await runner.run_due()).done == []
    resumed = await service.set_paused(GUILD, schedule_id, MOD, paused=False)
    # Slots inside the pause are skipped, not reported as missed.
    assert resumed.next_run_at == datetime(2026, 3, 4, 13, tzinfo=UTC)
    clock.advance(timedelta(hours=1))
    report = await runner.run_due()
    assert len(report.done) == 1 and report.missed == [] and recorder.reports == []
    await service.delete(GUILD, schedule_id, MOD)
    assert await service.for_guild(GUILD) == []
    with pytest.raises(UserFacingError, match="no schedule #"):
        await service.set_paused(GUILD + 1, schedule_id, MOD, paused=True)


async def test_another_guilds_schedule_cannot_be_touched(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service = ScheduleService(sessions, clock)
    schedule_id = await daily(service, clock)
    for action in (
        service.get(GUILD + 1, schedule_id),
        service.delete(GUILD + 1, schedule_id, MOD),
        service.set_paused(GUILD + 1, schedule_id, MOD, paused=True),
    ):
        with pytest.raises(UserFacingError):
            await action
    assert await service.for_guild(GUILD + 1) == []


async def test_more_than_fifty_active_schedules_are_refused(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service = ScheduleService(sessions, clock)
    for _ in range(MAX_ACTIVE_PER_GUILD):
        await daily(service, clock)
    with pytest.raises(UserFacingError, match="already has 50"):
        await daily(service, clock)
    assert len(await service.for_guild(GUILD)) == MAX_ACTIVE_PER_GUILD


async def test_a_dst_week_keeps_the_local_time_when_run_by_the_clock(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service, recorder = ScheduleService(sessions, clock), Recorder()
    runner = make_runner(sessions, clock, recorder)
    zone = ZoneInfo("America/New_York")
    rule = Recurrence("weekly", time(19), "America/New_York", clock.now().date(), weekdays=(3,))
    await service.create(GUILD, "PLN", MOD, kind="test", rule=rule)
    while clock.now() < datetime(2026, 3, 20, tzinfo=UTC):
        clock.advance(timedelta(minutes=30))
        await runner.run_due()
    assert [s.slot_at.astimezone(zone).strftime("%a %H:%M") for s in recorder.slots] == [
        "Thu 19:00"
    ] * 3
    assert not any(s.late for s in recorder.slots)
    assert [s.slot_at.hour for s in recorder.slots] == [0, 23, 23]


async def test_offsets_run_ahead_of_the_occurrence(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service, _recorder = ScheduleService(sessions, clock), Recorder()
    rule = parse_when("weekly on thu at 19:00", "UTC", clock.now())
    info = await service.create(
        GUILD, "PLN", MOD, kind="test", rule=rule, offset=-timedelta(hours=24)
    )
    assert info.next_run_at == datetime(2026, 3, 4, 19, tzinfo=UTC)


class FakeScheduler:
    def __init__(self) -> None:
        self.jobs: dict[str, Any] = {}

    def add_job(self, func: Any, trigger: Any, *, id: str, **_options: Any) -> None:
        self.jobs[id] = (func, trigger)

    def get_job(self, job_id: str) -> Any:
        return self.jobs.get(job_id)

    def remove_job(self, job_id: str) -> None:
        del self.jobs[job_id]


async def test_the_alarm_wakes_for_the_next_due_slot_and_rearms_after_firing(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service, recorder = ScheduleService(sessions, clock), Recorder()
    runner = make_runner(sessions, clock, recorder)
    scheduler = FakeScheduler()
    alarm = Alarm(runner, scheduler, clock, sweep=timedelta(hours=6))
    assert await alarm.arm() == clock.now() + timedelta(hours=6)  # nothing scheduled: a sweep
    await daily(service, clock)
    assert await alarm.arm() == datetime(2026, 3, 2, 13, tzinfo=UTC)
    trigger = scheduler.jobs["scheduling-next-due"][1]
    # The fake clock says "due in one hour"; APScheduler waits that hour in real time.
    real_due = datetime.now(UTC) + timedelta(hours=1)
    assert abs(trigger.run_date - real_due) < timedelta(seconds=30)
    clock.advance(timedelta(hours=1))
    await scheduler.jobs["scheduling-next-due"][0]()  # APScheduler fires the job
    await runner.join()  # the slots run in the background, after the alarm re-armed
    assert len(recorder.slots) == 1
    assert alarm.armed_for == clock.now() + timedelta(hours=6)
    alarm.disarm()
    assert scheduler.jobs == {}
