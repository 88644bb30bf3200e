"""The "recap" kind through the scheduling core: slot → post, restart mid-post, missed slots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.library import Library

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.recap.posting import RECAP_GRACE, RECAP_KIND, RecapSlots, post_remaining, sync_schedule
from bot.recap.records import RecapView
from bot.recap.service import RecapService
from bot.scheduling import Outgoing, SchedulingCore
from bot.topics.service import TopicService

GUILD = 1
DAY = timedelta(days=1)


class Channel:
    """A fake channel: records messages; can be told to fail after n sends (a crash)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int, str]] = []  # (recap id, part, text)
        self.fail_after: int | None = None

    async def send(self, recap_id: int, index: int, text: str) -> int:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise ConnectionError("the bot stopped")
        self.sent.append((recap_id, index, text))
        return 10_000 + len(self.sent)


def _parts(view: RecapView) -> list[str]:
    # Stand-in for the renderer: one part per entry plus a footer part.
    return [e.title for e in view.entries] + ["footer"]


@pytest.fixture
def reports() -> list[tuple[int, str]]:
    return []


@pytest.fixture
def setup(sessions: SessionFactory, clock: FakeClock, reports: list[tuple[int, str]]):  # type: ignore[no-untyped-def]
    service = RecapService(sessions, clock, TopicService(sessions, clock))
    channel = Channel()

    async def publish(view: RecapView) -> str:
        assert view.recap_id is not None
        recap_id = view.recap_id

        def outgoing(index: int, part: str) -> Outgoing:
            async def send(_nonce: str) -> int:
                return await channel.send(recap_id, index, part)

            return Outgoing("message", 55, part, send)

        ids = await post_remaining(core.outbox, service, view, _parts(view), outgoing)
        return f"posted {len(ids)} messages"

    async def report(guild_id: int, text: str) -> None:
        reports.append((guild_id, text))

    core = SchedulingCore(
        sessions, clock, None, guild_visible=lambda _g: True, report=report, owner="test"
    )
    core.registry.register(
        RECAP_KIND,
        RecapSlots(service, publish).run_slot,
        grace=RECAP_GRACE,
        resume_after_crash=True,
    )
    return service, core, channel


async def _enable(service: RecapService, core: SchedulingCore, clock: FakeClock) -> None:
    config = await service.configure(GUILD, "g", 9, channel_id=55, weekday=0, local_time="09:00")
    await sync_schedule(core, service, config, "g", 9, clock.now())


async def _seed(sessions: SessionFactory, clock: FakeClock, at_slot) -> None:  # type: ignore[no-untyped-def]
    lib = Library(sessions, GUILD, at_slot)
    a = await lib.resource("https://a.example/1", "One")
    b = await lib.resource("https://b.example/2", "Two")
    await lib.share(a, 1, DAY)
    await lib.share(a, 2, DAY)
    await lib.share(b, 3, 2 * DAY)


async def test_the_slot_posts_the_recap_once(setup, sessions, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    service, core, channel = setup
    await _enable(service, core, clock)  # now: Monday 12:00 UTC; next slot Monday 09:00 + 7d
    slot = clock.now() + 7 * DAY - timedelta(hours=3)
    await _seed(sessions, clock, slot)
    clock.set(slot)
    report = await core.runner.run_due()
    assert len(report.done) == 1
    assert [text for _, _, text in channel.sent] == ["One", "Two", "footer"]
    again = await core.runner.run_due()
    assert again.done == [] and len(channel.sent) == 3
    [past] = await service.history(GUILD)
    assert past.status == "posted" and past.week.end == slot


async def test_a_restart_mid_post_finishes_without_duplicates(
    setup, sessions, clock: FakeClock
) -> None:  # type: ignore[no-untyped-def]
    service, core, channel = setup
    await _enable(service, core, clock)
    slot = clock.now() + 7 * DAY - timedelta(hours=3)
    await _seed(sessions, clock, slot)
    clock.set(slot)
    channel.fail_after = 1
    first = await core.runner.run_due()
    assert len(first.failed) == 1  # the handler died after one message
    # Simulate a process that died instead of failing cleanly: the run is still "claimed".
    from sqlalchemy import update

    from bot.scheduling.models import ScheduleRun

    async with sessions() as session, session.begin():
        await session.execute(update(ScheduleRun).values(status="claimed", finished_at=None))
    channel.fail_after = None
    clock.advance(timedelta(minutes=11))  # the claim is stale: another process takes it over
    second = await core.runner.run_due()
    assert len(second.recovered) == 1 and len(second.done) == 1
    assert [(part, text) for _, part, text in channel.sent] == [
        (0, "One"),
        (1, "Two"),
        (2, "footer"),
    ]


async def test_a_slot_missed_by_less_than_a_day_is_posted_late(
    setup, sessions, clock: FakeClock
) -> None:  # type: ignore[no-untyped-def]
    service, core, channel = setup
    await _enable(service, core, clock)
    slot = clock.now() + 7 * DAY - timedelta(hours=3)
    await _seed(sessions, clock, slot)
    clock.set(slot + timedelta(hours=20))
    report = await core.runner.run_due()
    assert len(report.done) == 1 and len(channel.sent) == 3
    [past] = await service.history(GUILD)
    assert past.week.end == slot  # the week of the slot, not of the late run


async def test_an_older_missed_slot_is_recorded_and_reported(
    setup, sessions, clock: FakeClock, reports
) -> None:  # type: ignore[no-untyped-def]
    service, core, channel = setup
    await _enable(service, core, clock)
    slot = clock.now() + 7 * DAY - timedelta(hours=3)
    clock.set(slot + timedelta(hours=25))
    report = await core.runner.run_due()
    assert report.done == [] and len(report.missed) == 1
    assert channel.sent == [] and await service.history(GUILD) == []
    assert reports and reports[0][0] == GUILD and "missed" in reports[0][1]
    runs = await core.schedules.runs(GUILD)
    assert [r.status for r in runs] == ["missed"]


async def test_changing_the_settings_moves_the_one_schedule(setup, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    service, core, _ = setup
    await _enable(service, core, clock)
    config = await service.configure(GUILD, "g", 9, weekday=4, local_time="17:30")
    config = await sync_schedule(core, service, config, "g", 9, clock.now())
    schedules = await core.schedules.for_guild(GUILD, kind=RECAP_KIND)
    assert len(schedules) == 1 and schedules[0].id == config.schedule_id
    assert schedules[0].next_run_at is not None
    assert schedules[0].next_run_at.weekday() == 4
    assert schedules[0].next_run_at.strftime("%H:%M") == "17:30"
