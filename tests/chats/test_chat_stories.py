"""Weekly chats end to end: the real bot on the emulator, driven by a FakeClock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.world import MakeWorld, World, text_of

# Mondays at noon UTC (the clock fixture), EST in New York; both backends.
pytestmark = pytest.mark.e2e


@pytest.fixture
async def world(make_world: MakeWorld, database_url: str) -> World:
    return await make_world(database_url=database_url, timezone="America/New_York")


async def schedule_chat(world: World) -> None:
    emu = world.emu
    interaction = await world.invoke(
        world.mod,
        "mod chat schedule",
        {
            "title": "EdChat",
            "when": "weekly on thu at 19:00",
            "channel": world.general,
            "duration": 30,
            "interval": 10,
        },
    )
    submitted = await emu.submit_modal(
        world.mod,
        interaction,
        {"questions": "What worked?\nWhat did not?\nWhat next?"},
    )
    done = await emu.wait_for_followup(submitted)
    assert "Scheduled chat #1 with 3 questions" in done.content, done.content


async def test_a_weekly_chat_runs_from_event_to_archive(world: World) -> None:
    emu = world.emu
    await schedule_chat(world)
    events = list(world.guild.scheduled_events.values())
    assert len(events) == 1
    assert events[0].name == "EdChat" and events[0].location == "#general"
    assert events[0].scheduled_start_time.startswith("2026-03-06T00:00:00")  # Thu 19:00 EST

    # Wednesday 19:00 New York: the announcement, 24 h ahead, with the questions.
    await world.tick(datetime(2026, 3, 5, 0, 0, tzinfo=UTC) - world.clock.now())
    announcement = world.bot_posts(world.general)[-1]
    assert "EdChat" in text_of(announcement) and "What next?" in text_of(announcement)

    # Thursday 19:00: a thread with the intro and Q1.
    await world.tick(timedelta(hours=24))
    [thread] = world.threads()
    assert thread.name == "EdChat · 2026-03-05"
    in_thread = world.bot_posts(thread)
    assert "A1" in in_thread[0].content and in_thread[1].content.startswith("**Q1**")
    assert events[0].status == 2  # active
    await emu.post_message(world.alice, thread, "A1 Projects! https://example.com/pbl")
    await emu.post_message(world.mod, thread, "Nice", reply_to=in_thread[1])
    await world.tick(timedelta(minutes=10))
    assert world.bot_posts(thread)[-1].content.startswith("**Q2**")
    await emu.post_message(world.alice, thread, "A2 grading")
    await world.tick(timedelta(minutes=10))
    assert world.bot_posts(thread)[-1].content.startswith("**Q3**")
    await world.tick(timedelta(minutes=10))
    summary = world.bot_posts(thread)[-1].content
    assert "summary" in summary
    assert "2 answers from 2 members" in summary and "1 answer from 1 member" in summary
    assert "summary" in world.bot_posts(world.general)[-1].content
    # The next week's event replaces the finished one.
    upcoming = [e for e in world.guild.scheduled_events.values() if e.status == 1]
    assert [e.scheduled_start_time[:10] for e in upcoming] == ["2026-03-12"]  # 19:00 EDT
    # Late answers stay welcome for 24 h, then the thread is archived.
    await world.tick(timedelta(hours=23))
    assert not thread.archived
    await world.tick(timedelta(hours=1, minutes=1))
    assert thread.archived


async def test_moderators_steer_a_running_chat(world: World) -> None:
    await schedule_chat(world)
    await world.tick(datetime(2026, 3, 6, 0, 0, tzinfo=UTC) - world.clock.now())
    [thread] = world.threads()

    async def control(command: str, options: dict[str, Any] | None = None) -> str:
        interaction = await world.invoke(world.mod, f"mod chat {command}", options, channel=thread)
        return (await world.emu.wait_for_response(interaction)).content

    def last() -> str:
        return world.bot_posts(thread)[-1].content

    assert last().startswith("**Q1**")
    assert "next question comes now" in await control("skip")
    await world.tick(timedelta(seconds=1))
    assert last().startswith("**Q2**")
    assert "Paused" in await control("pause")
    await world.tick(timedelta(minutes=15))
    assert last().startswith("**Q2**")  # nothing while paused
    assert "Resumed" in await control("resume")
    await world.tick(timedelta(seconds=1))
    assert last().startswith("**Q3**")
    assert "Extended" in await control("extend", {"minutes": 15})
    await world.tick(timedelta(minutes=20))  # the original end has passed: still running
    assert last().startswith("**Q3**")
    assert "summary comes now" in await control("end")
    await world.tick(timedelta(seconds=1))
    assert "summary" in last()
    assert "no chat running" in await control("skip")  # over: a friendly, private error


async def test_a_chat_missed_while_the_bot_was_down_is_reported_not_run(world: World) -> None:
    await schedule_chat(world)
    await world.tick(datetime(2026, 3, 5, 0, 0, tzinfo=UTC) - world.clock.now())  # announced
    # Down from Wednesday 19:00 until Thursday 19:45: the 30-minute chat window has closed.
    await world.restart(timedelta(hours=24, minutes=45))
    assert world.threads() == []
    reports = [m.content for m in world.bot_posts(world.log)]
    assert any("EdChat" in r and "missed" in r for r in reports), reports
    # The next week still happens, at 19:00 EDT after the DST change.
    report = await world.tick(datetime(2026, 3, 12, 23, 0, tzinfo=UTC) - world.clock.now())
    assert any(slot == datetime(2026, 3, 12, 23, 0, tzinfo=UTC) for _, slot in report.done)
    assert len(world.threads()) == 1


async def test_a_chat_started_late_within_its_window_says_so(world: World) -> None:
    await schedule_chat(world)
    await world.tick(datetime(2026, 3, 5, 23, 0, tzinfo=UTC) - world.clock.now())
    await world.restart(timedelta(hours=1, minutes=10))  # back at 19:10, window open until 19:30
    [thread] = world.threads()
    intro = world.bot_posts(thread)[0].content
    assert "Started late" in intro
    assert world.bot_posts(thread)[1].content.startswith("**Q1**")


async def test_a_chat_whose_bot_lost_permissions_is_paused_and_moderators_told(
    world: World,
) -> None:
    from discord_emulator.permissions import Permission

    await schedule_chat(world)
    bot_role = world.emu.bot_role(world.guild)
    world.emu.set_overwrite(world.general, bot_role, deny=int(Permission.CREATE_PUBLIC_THREADS))
    await world.emu.wait_until(
        lambda: (
            bot_cannot_create_threads(world) or None  # the CHANNEL_UPDATE reached the bot
        )
    )
    await world.tick(datetime(2026, 3, 6, 0, 0, tzinfo=UTC) - world.clock.now())
    assert world.threads() == []
    reports = [m.content for m in world.bot_posts(world.log)]
    assert any("is paused" in r and "Create Public Threads" in r for r in reports), reports
    assert not any("failed" in r for r in reports)  # one clear message, not two
    listing = text_of(await world.run(world.mod, "mod schedule list"))
    assert listing.count("paused") == 2  # the chat and its announcement


def bot_cannot_create_threads(world: World) -> bool:
    guild = world.bot.get_guild(world.guild.id)
    channel = guild.get_channel(world.general.id) if guild else None
    assert guild is not None and channel is not None
    return not channel.permissions_for(guild.me).create_public_threads


async def test_a_chat_on_a_forum_topic_is_refused_with_a_way_out(world: World) -> None:
    created = await world.run(world.mod, "mod topic create", {"name": "Reading", "kind": "forum"})
    assert "Created" in created.content, created.content

    refused = await world.run(
        world.mod,
        "mod chat schedule",
        {"title": "Book club", "when": "weekly on thu at 19:00", "topic": "Reading"},
    )

    assert "Weekly chats run in a thread of a text channel" in refused.content
    assert refused.flags & 64  # ephemeral
    assert await world.bot.services.scheduling.schedules.for_guild(world.guild.id) == []


async def test_a_chat_interrupted_by_crashes_posts_each_step_exactly_once(world: World) -> None:
    emu = world.emu
    messages, threads = "/channels/{channel_id}/messages", "/channels/{channel_id}/threads"
    await schedule_chat(world)
    # Wednesday 19:00: the bot dies sending the announcement, before Discord made it.
    stall = emu.faults.stall("POST", messages)
    await world.crash_at(datetime(2026, 3, 5, 0, 0, tzinfo=UTC), stall)
    assert world.bot_posts(world.general) == []
    await world.restart(timedelta(minutes=11))  # the stale run is taken over: posted late
    [announcement] = world.bot_posts(world.general)
    assert "Posted late" in text_of(announcement)

    # Thursday 19:00: it dies once Discord made the thread, before the bot heard back.
    stall = emu.faults.stall("POST", threads, after_handler=True)
    await world.crash_at(datetime(2026, 3, 6, 0, 0, tzinfo=UTC), stall)
    assert len(world.threads()) == 1 and world.bot_posts(world.threads()[0]) == []
    await world.restart(timedelta(minutes=11))  # within the 30-minute chat: it starts late
    [thread] = world.threads()
    intro, q1 = world.bot_posts(thread)
    assert "Started late" in intro.content and q1.content.startswith("**Q1**")

    # Q2 is due at 19:21 (Q1 went out late): it dies once Discord made it.
    stall = emu.faults.stall("POST", messages, after_handler=True)
    await world.crash_at(datetime(2026, 3, 6, 0, 21, tzinfo=UTC), stall)
    await world.restart(timedelta(minutes=11))  # 19:32: the chat's half hour is over
    texts = [m.content for m in world.bot_posts(thread)]
    assert texts[2].startswith("**Q2**") and "summary" in texts[3] and len(texts) == 4
    assert world.bot_posts(world.log) == []  # nothing lost: nothing to report
