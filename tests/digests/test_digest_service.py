"""Personal digests on both backends: opt-in, selection, exactly once, closed DMs."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from support.library import Library

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.digests.service import (
    DIGEST_GRACE,
    DIGEST_KIND,
    DMS_CLOSED,
    Digest,
    DigestService,
    DigestSlots,
    spread_minutes,
)
from bot.errors import UserFacingError
from bot.guilds.service import ensure_guild_row
from bot.scheduling import OutboxScope, Recurrence, SchedulingCore
from bot.topics.models import Topic, TopicFollower
from bot.topics.service import TopicService

GUILD = 1
DAY = timedelta(days=1)
ADA, BOB, CY = 11, 12, 13


class Mailbox:
    def __init__(self) -> None:
        self.sent: list[Digest] = []
        self.closed: set[int] = set()

    async def deliver(self, digest: Digest, _posts: OutboxScope) -> str:
        if digest.user_id in self.closed:
            return DMS_CLOSED
        self.sent.append(digest)
        return "sent"


@pytest.fixture
def world(sessions: SessionFactory, clock: FakeClock):  # type: ignore[no-untyped-def]
    core = SchedulingCore(
        sessions, clock, None, guild_visible=lambda _g: True, report=_ignore, owner="t"
    )
    service = DigestService(sessions, clock, TopicService(sessions, clock), core)
    mailbox = Mailbox()
    core.registry.register(
        DIGEST_KIND, DigestSlots(service, mailbox.deliver).run_slot, grace=DIGEST_GRACE
    )
    return service, core, mailbox


async def _ignore(_guild_id: int, _text: str) -> None:
    return None


async def _topic(sessions: SessionFactory, clock: FakeClock, name: str, channel: int) -> int:
    async with sessions() as session, session.begin():
        await ensure_guild_row(session, GUILD, "g", clock.now())
        row = Topic(
            guild_id=GUILD,
            name=name,
            name_key=name.casefold(),
            channel_id=channel,
            default_tags=[],
            created_by=1,
            created_at=clock.now() - 30 * DAY,
        )
        session.add(row)
        await session.flush()
        return row.id


async def _follow(sessions: SessionFactory, clock: FakeClock, topic_id: int, user: int) -> None:
    async with sessions() as session, session.begin():
        session.add(
            TopicFollower(topic_id=topic_id, user_id=user, guild_id=GUILD, followed_at=clock.now())
        )


async def _week(sessions: SessionFactory, clock: FakeClock, slot) -> dict[str, int]:  # type: ignore[no-untyped-def]
    maths = await _topic(sessions, clock, "Maths", 700)
    await _topic(sessions, clock, "Art", 800)
    await _follow(sessions, clock, maths, ADA)
    lib = Library(sessions, GUILD, slot)
    ids = {
        "maths": await lib.resource("https://a.example/maths", "Maths link"),
        "art": await lib.resource("https://b.example/art", "Art link"),
        "tagged": await lib.resource("https://c.example/t", "Tagged", tags=("poetry",)),
        "own": await lib.resource("https://d.example/own", "Ada's own"),
    }
    await lib.share(ids["maths"], BOB, DAY, channel_id=700)
    await lib.share(ids["art"], BOB, DAY, channel_id=800)
    await lib.share(ids["tagged"], BOB, DAY, channel_id=900)
    await lib.share(ids["own"], ADA, DAY, channel_id=700)
    return ids


async def _run_until(core: SchedulingCore, clock: FakeClock, until) -> None:  # type: ignore[no-untyped-def]
    while clock.now() < until:
        clock.advance(timedelta(minutes=30))
        await core.runner.run_due()


async def test_an_opted_in_member_gets_only_their_topics_and_tags_once(
    world, sessions, clock: FakeClock
) -> None:  # type: ignore[no-untyped-def]
    service, core, mailbox = world
    slot = clock.now() + 7 * DAY  # the next Monday 09:00 UTC + spread, a week away at most
    ids = await _week(sessions, clock, slot - 12 * 3600 * timedelta(seconds=1))
    await service.turn_on(GUILD, "g", ADA, weekday=0, local_time="09:00")
    await service.change_tag(GUILD, ADA, "#Poetry", add=True)
    [schedule] = await core.schedules.for_guild(GUILD, kind=DIGEST_KIND)
    assert schedule.offset == timedelta(minutes=spread_minutes(GUILD, ADA))
    await _run_until(core, clock, slot + DAY)
    assert len(mailbox.sent) == 1
    digest = mailbox.sent[0]
    assert [e.resource_id for e in digest.entries] == [ids["maths"], ids["tagged"]]
    assert digest.tags == ("poetry",)
    # Running the same slot's week again (a restart) sends nothing more.
    assert not await service.claim(GUILD, ADA, digest.week_end)
    assert [s for _, s, _ in await service.deliveries(GUILD, ADA)] == ["sent"]


async def test_members_who_did_not_opt_in_get_nothing(world, sessions, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    service, core, mailbox = world
    await _week(sessions, clock, clock.now() + 6 * DAY)
    await _run_until(core, clock, clock.now() + 8 * DAY)
    assert mailbox.sent == []
    assert await service.subscription(GUILD, BOB) is None


async def test_closed_dms_disable_the_digest_and_the_member_is_told_once(
    world, sessions, clock: FakeClock
) -> None:  # type: ignore[no-untyped-def]
    service, core, mailbox = world
    await _week(sessions, clock, clock.now() + 6 * DAY)
    await service.turn_on(GUILD, "g", ADA)
    mailbox.closed.add(ADA)
    await _run_until(core, clock, clock.now() + 8 * DAY)
    sub = await service.subscription(GUILD, ADA)
    assert sub is not None and not sub.enabled and sub.disabled_reason == DMS_CLOSED
    assert await core.schedules.for_guild(GUILD, kind=DIGEST_KIND) == []
    assert await service.pending_notices() == {(GUILD, ADA)}
    notice = await service.take_notice(GUILD, ADA)
    assert notice is not None and "direct messages" in notice
    assert await service.take_notice(GUILD, ADA) is None
    again = await service.turn_on(GUILD, "g", ADA)
    assert again.enabled and again.disabled_reason is None


async def test_off_removes_the_schedule_and_bad_input_saves_nothing(
    world, clock: FakeClock
) -> None:  # type: ignore[no-untyped-def]
    service, core, _ = world
    with pytest.raises(UserFacingError):
        await service.turn_on(GUILD, "g", ADA, local_time="noonish")
    assert await service.subscription(GUILD, ADA) is None
    with pytest.raises(UserFacingError):
        await service.change_tag(GUILD, ADA, "math", add=True)
    await service.turn_on(GUILD, "g", BOB)
    await service.turn_on(GUILD, "g", ADA, weekday=2, local_time="18:00")
    await service.turn_on(GUILD, "g", ADA, weekday=3)  # moves, never duplicates
    labels = sorted(s.label for s in await core.schedules.for_guild(GUILD, kind=DIGEST_KIND))
    assert labels == [f"digest for {ADA}", f"digest for {BOB}"]
    with pytest.raises(UserFacingError):
        await service.change_tag(GUILD, ADA, "bad tag!", add=True)
    with pytest.raises(UserFacingError):
        await service.change_tag(GUILD, ADA, "never-added", add=False)
    await service.turn_off(GUILD, ADA)
    left = await core.schedules.for_guild(GUILD, kind=DIGEST_KIND)
    assert [s.label for s in left] == [f"digest for {BOB}"]  # the other member's is untouched
    assert await service.take_notice(GUILD, ADA) is None


async def test_digests_are_the_bots_schedules_not_the_moderators(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    reports: list[str] = []

    async def report(_guild_id: int, text: str) -> None:
        reports.append(text)

    core = SchedulingCore(sessions, clock, None, guild_visible=lambda _g: True, report=report)
    service = DigestService(sessions, clock, TopicService(sessions, clock), core)
    core.registry.register(
        DIGEST_KIND,
        DigestSlots(service, Mailbox().deliver).run_slot,
        grace=DIGEST_GRACE,
        report_missed=False,
        listed=False,
    )
    core.registry.register("prompt", _nothing)
    for member in range(100, 160):  # more subscribers than the guild's 50-schedule limit
        await service.turn_on(GUILD, "g", member, weekday=0, local_time="09:00")

    # Moderators can still schedule their own things, and only theirs are listed.
    rule = Recurrence(
        frequency="daily", local_time=time(8, 0), timezone="UTC", starts_on=clock.now().date()
    )
    await core.schedules.create(GUILD, "g", 7, kind="prompt", rule=rule, label="mod's own")
    assert [s.label for s in await core.listed(GUILD)] == ["mod's own"]

    # The bot was down for three weeks: missed digests are recorded, not reported to moderators.
    clock.advance(21 * DAY)
    result = await core.runner.run_due()
    assert len(result.missed) > 60
    assert reports and all("mod's own" in text for text in reports)


async def _nothing(_slot: object) -> None:
    return None
