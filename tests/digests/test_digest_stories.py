"""Personal digests end to end: the real bot on the emulator, driven by a FakeClock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support.world import MakeWorld, World, embeds_of

from bot.topics.models import Topic, TopicFollower
from discord_emulator import Member, Message

pytestmark = pytest.mark.e2e

TUESDAY_9AM = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # 09:00 EST


@pytest.fixture
async def world(make_world: MakeWorld) -> World:
    return await make_world(timezone="America/New_York", channels=("recap", "maths"))


async def _share(world: World, who: Member, url: str, title: str | None = None) -> Message:
    options = {"url": url, **({"title": title} if title else {})}
    return await world.run(who, "share", options)


async def _follow_maths(world: World, who: Member) -> None:
    async with world.bot.sessions() as session, session.begin():
        topic = Topic(
            guild_id=world.guild.id,
            name="Maths",
            name_key="maths",
            channel_id=world.channels["maths"].id,
            default_tags=[],
            created_by=world.mod.id,
            created_at=world.clock.now(),
        )
        session.add(topic)
        await session.flush()
        session.add(
            TopicFollower(
                topic_id=topic.id,
                user_id=who.id,
                guild_id=world.guild.id,
                followed_at=world.clock.now(),
            )
        )


async def test_a_member_who_opted_in_gets_a_dm_with_only_their_topics(world: World) -> None:
    await _follow_maths(world, world.alice)
    on = await world.emu.wait_for_followup(
        await world.invoke(world.alice, "digest on", {"weekday": 1, "time": "09:00"})
    )
    assert "Your weekly digest is on: Tuesdays at 09:00" in on.content
    maths = await world.emu.wait_for_response(
        await world.invoke(
            world.bob,
            "share",
            {"url": "https://example.org/algebra", "title": "Algebra"},
            channel=world.channels["maths"],
        )
    )
    assert maths is not None
    await _share(world, world.carol, "https://example.org/cooking", "Cooking")  # not her topic
    await world.emu.wait_for_response(
        await world.invoke(
            world.alice,
            "share",
            {"url": "https://example.org/mine", "title": "Mine"},
            channel=world.channels["maths"],
        )
    )  # her own share: left out
    for minutes in range(0, 70, 10):  # digests go out within the hour
        await world.tick_to(TUESDAY_9AM + timedelta(minutes=minutes))
    dms = world.emu.dm_history(world.alice)
    assert len(dms) == 1
    text = "\n".join(d for _, d, _ in embeds_of(dms))
    assert "Algebra" in text and "Cooking" not in text and "Mine" not in text
    assert world.emu.dm_history(world.bob) == []  # did not opt in: nothing
    await world.tick_to(TUESDAY_9AM + timedelta(hours=3))
    assert len(world.emu.dm_history(world.alice)) == 1  # once a week


async def test_a_member_with_closed_dms_is_switched_off_and_told(world: World) -> None:
    await _follow_maths(world, world.bob)
    await world.emu.wait_for_followup(
        await world.invoke(world.bob, "digest on", {"weekday": 1, "time": "09:00"})
    )
    await world.emu.wait_for_response(
        await world.invoke(
            world.alice,
            "share",
            {"url": "https://example.org/algebra", "title": "Algebra"},
            channel=world.channels["maths"],
        )
    )
    world.emu.set_dms_closed(world.bob)
    for minutes in range(0, 70, 10):
        await world.tick_to(TUESDAY_9AM + timedelta(minutes=minutes))
    interaction = await world.invoke(world.bob, "recap week")
    await world.emu.wait_for_response(interaction)
    notice = await world.emu.wait_for_followup(interaction, 0)
    assert "digest is switched off" in notice.content
    assert "direct messages" in notice.content


@pytest.mark.parametrize("reached_discord", [False, True], ids=["lost", "delivered"])
async def test_a_digest_interrupted_by_a_crash_is_sent_exactly_once(
    world: World, reached_discord: bool
) -> None:
    await _follow_maths(world, world.alice)
    await world.emu.wait_for_followup(
        await world.invoke(world.alice, "digest on", {"weekday": 1, "time": "09:00"})
    )
    await world.emu.wait_for_response(
        await world.invoke(
            world.bob,
            "share",
            {"url": "https://example.org/algebra", "title": "Algebra"},
            channel=world.channels["maths"],
        )
    )
    core = world.bot.services.scheduling
    [schedule] = [s for s in await core.schedules.for_guild(world.guild.id) if s.kind == "digest"]
    assert schedule.next_run_at is not None
    # The bot dies sending the DM: before Discord made it, or once it had.
    stall = world.emu.faults.stall(
        "POST", "/channels/{channel_id}/messages", after_handler=reached_discord
    )
    await world.crash_at(schedule.next_run_at, stall)
    assert len(world.emu.dm_history(world.alice)) == (1 if reached_discord else 0)
    await world.restart(timedelta(minutes=11))
    [dm] = world.emu.dm_history(world.alice)
    assert "Algebra" in "\n".join(d for _, d, _ in embeds_of([dm]))
    deliveries = await world.bot.services.digests.deliveries(world.guild.id, world.alice.id)
    assert [status for _, status, _ in deliveries] == ["sent"]
