"""Prompts end to end: the real bot on the emulator, driven by a FakeClock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from support.world import MakeWorld, World, launch_bot, stop_bot, text_of

# Mondays at noon UTC (the clock fixture), EST in New York; both backends.
pytestmark = pytest.mark.e2e


@pytest.fixture
async def world(make_world: MakeWorld, database_url: str) -> World:
    return await make_world(database_url=database_url, timezone="America/New_York")


async def schedule_prompts(world: World, when: str, **options: Any) -> None:
    for text in ("What surprised you this week?", "Share one tool you love.", "What will you try?"):
        reply = await world.run(world.mod, "mod prompt add", {"text": text})
        assert "Added prompt" in reply.content, reply.content
    interaction = await world.invoke(
        world.mod, "mod prompt schedule", {"when": when, "channel": world.general, **options}
    )
    preview = await world.emu.wait_for_response(interaction)
    assert "Next runs:" in preview.content and preview.content.count("<t:") >= 10
    saved = await world.emu.click(world.mod, preview, "Save")
    await world.emu.wait_until(
        lambda: (
            "Saved prompt schedule" in world.emu.ephemeral_messages(world.mod)[-1].content or None
        )
    )
    del saved


async def test_a_moderator_schedules_daily_prompts_and_they_post_on_time_once(world: World) -> None:
    await schedule_prompts(world, "daily at 09:00", thread=True)
    assert (await world.tick(timedelta(hours=1))).done == []  # 08:00 New York
    report = await world.tick(timedelta(hours=1))  # 14:00 UTC = 09:00 EST
    assert len(report.done) == 1
    posts = world.bot_posts(world.general)
    assert len(posts) == 1 and "What surprised you this week?" in posts[0].content
    assert "late" not in posts[0].content
    assert len(world.threads()) == 1  # a thread for replies
    # Woken again at the same instant: nothing more.
    assert (await world.tick(timedelta(seconds=1))).done == []
    await world.tick(timedelta(days=1))
    posts = world.bot_posts(world.general)
    assert len(posts) == 2 and "Share one tool you love." in posts[1].content
    listing = await world.run(world.mod, "mod schedule list")
    assert "every day at 09:00 (America/New" in text_of(listing)


async def test_a_restart_over_a_slot_posts_late_within_grace_and_reports_older_ones(
    world: World,
) -> None:
    await schedule_prompts(world, "daily at 09:00")
    await world.tick(timedelta(hours=2))  # posted at 09:00 on Monday
    assert len(world.bot_posts(world.general)) == 1
    # Down from Monday 09:00 to Tuesday 10:00 local: Tuesday's slot is 1 h late, within 2 h.
    await world.restart(timedelta(days=1, hours=1))
    posts = world.bot_posts(world.general)
    assert len(posts) == 2 and "Posted late" in posts[1].content
    # Down for three days: the latest slot is 3 h old (beyond grace), so all are missed.
    await world.restart(timedelta(days=3, hours=2))
    assert len(world.bot_posts(world.general)) == 2  # nothing posted, and never twice
    reports = [m.content for m in world.bot_posts(world.log)]
    assert any("missed 3 runs" in r for r in reports), reports


async def test_a_dst_week_keeps_the_local_time(world: World) -> None:
    await schedule_prompts(world, "daily at 09:00")
    posted_at = []
    for _ in range(8 * 24):  # a week that crosses 8 March 2026 (spring forward)
        report = await world.tick(timedelta(hours=1))
        posted_at += [slot for _, slot in report.done]
    hours = [slot.hour for slot in posted_at]
    assert hours[:6] == [14] * 6 and hours[6:] == [13, 13]  # 09:00 EST, then 09:00 EDT


async def test_an_empty_bank_posts_nothing_and_tells_the_moderators(world: World) -> None:
    interaction = await world.invoke(world.mod, "mod prompt post-now", {"channel": world.general})
    reply = await world.emu.wait_for_followup(interaction)
    assert "empty" in reply.content
    assert world.bot_posts(world.general) == []


async def test_two_bot_processes_sharing_one_database_post_each_slot_once(world: World) -> None:
    await schedule_prompts(world, "daily at 09:00")
    second, second_task = await launch_bot(world.emu, world.database_url, world.clock)
    try:
        world.clock.advance(timedelta(hours=2))  # Monday 09:00 New York
        for _ in range(3):
            await asyncio.gather(
                world.bot.services.scheduling.runner.run_due(),
                second.services.scheduling.runner.run_due(),
            )
            world.clock.advance(timedelta(days=1))
        assert len(world.bot_posts(world.general)) == 3
        texts = [m.content for m in world.bot_posts(world.general)]
        assert len(set(texts)) == 3  # three different prompts, each once
    finally:
        await stop_bot(second, second_task)


async def test_a_member_suggests_a_prompt_and_a_moderator_approves_it(world: World) -> None:
    reply = await world.run(world.alice, "prompt suggest", {"text": "What made you smile?"})
    assert "went to the moderators" in reply.content
    card = world.bot_posts(world.log)[-1]
    assert "What made you smile?" in card.content and card.components
    click = await world.emu.click(world.mod, card, "Approve")
    assert "approved" in (await world.emu.wait_for_followup(click)).content
    listing = await world.run(world.mod, "mod prompt list")
    assert "What made you smile?" in text_of(listing)


MESSAGES = "/channels/{channel_id}/messages"


@pytest.mark.parametrize("reached_discord", [False, True], ids=["lost", "delivered"])
async def test_a_prompt_interrupted_by_a_crash_is_posted_exactly_once_after_the_restart(
    world: World, reached_discord: bool
) -> None:
    await schedule_prompts(world, "daily at 09:00", thread=True)
    # Monday 09:00 New York: the bot dies while sending the prompt, before Discord made it
    # (lost) or once it had, before the bot heard back (delivered).
    stall = world.emu.faults.stall("POST", MESSAGES, after_handler=reached_discord)
    await world.crash_at(world.clock.now() + timedelta(hours=2), stall)
    assert len(world.bot_posts(world.general)) == (1 if reached_discord else 0)
    # Back 15 minutes later: the interrupted run is taken over and finished.
    await world.restart(timedelta(minutes=15))
    [post] = world.bot_posts(world.general)
    assert "What surprised you this week?" in post.content  # the prompt it had taken
    assert ("Posted late" in post.content) is not reached_discord
    assert len(world.threads()) == 1  # its thread, once
    assert world.bot_posts(world.log) == []  # nothing lost, nothing to report
    runs = await world.bot.services.scheduling.schedules.runs(world.guild.id)
    assert [r.status for r in runs] == ["done"]
    await world.tick(timedelta(days=1))  # the bank moves on: no prompt was skipped
    assert "Share one tool you love." in world.bot_posts(world.general)[-1].content


async def test_a_delivered_prompt_is_found_in_a_busy_channel(world: World) -> None:
    await schedule_prompts(world, "daily at 09:00")
    # A lively minute before the slot: the lookup reads past more than one page of history.
    world.clock.advance(timedelta(hours=2) - timedelta(seconds=30))
    for number in range(150):
        await world.emu.post_message(world.alice, world.general, f"chatter {number}")
    stall = world.emu.faults.stall("POST", MESSAGES, after_handler=True)
    await world.crash_at(world.clock.now() + timedelta(seconds=30), stall)
    await world.restart(timedelta(minutes=15))
    [post] = world.bot_posts(world.general)
    assert "What surprised you this week?" in post.content and "late" not in post.content
