"""Prompts and weekly chats end to end: the real bot on the emulator, driven by a FakeClock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.core import PLNBot
from bot.emulator import Channel, DiscordEmulator, Guild, Member, Message
from bot.scheduling import RunReport

from .conftest import launch_bot, scheduling_caught_up, stop_bot

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # Monday, EST in New York


@dataclass
class World:
    emu: DiscordEmulator
    clock: FakeClock
    database_url: str
    bot: PLNBot
    task: asyncio.Task[None]
    guild: Guild
    general: Channel
    log: Channel
    mod: Member
    alice: Member

    async def run(
        self, who: Member, command: str, options: dict[str, Any] | None = None
    ) -> Message:
        interaction = await self.invoke(who, command, options)
        return await self.emu.wait_for_response(interaction)

    async def invoke(
        self,
        who: Member,
        command: str,
        options: dict[str, Any] | None = None,
        channel: Channel | None = None,
    ) -> Any:
        # Moderators get the commands through Server Settings → Integrations (an admin override).
        return await self.emu.invoke(
            who, command, options, channel=channel or self.general, bypass_default_permissions=True
        )

    async def tick(self, delta: timedelta) -> RunReport:
        """Move time on and let the runner do what is due (what the APScheduler alarm does)."""
        self.clock.advance(delta)
        report = await self.bot.scheduling.runner.run_due()
        # A change (/chat skip) re-arms the real alarm for "now": its pass may have claimed the
        # slot, and runs it in the background; wait for that too.
        await self.bot.scheduling.runner.join()
        return report

    async def restart(self, down_for: timedelta) -> None:
        await stop_bot(self.bot, self.task)
        self.clock.advance(down_for)
        self.bot, self.task = await launch_bot(self.emu, self.database_url, self.clock)
        await scheduling_caught_up(self.bot)

    def threads(self) -> list[Channel]:
        return [c for c in self.emu.state.channels.values() if c.parent_id == self.general.id]


@pytest.fixture
async def world(database_url: str, _restore_discord_endpoints: None) -> AsyncIterator[World]:
    clock = FakeClock(START)
    async with DiscordEmulator(clock=clock.now) as emu:
        guild = emu.create_guild("PLN")
        general = emu.create_channel(guild, "general")
        log = emu.create_channel(guild, "mod-log")
        mod_role = emu.create_role(guild, "Moderators")
        mod = emu.create_member(guild, "mod", roles=[mod_role])
        alice = emu.create_member(guild, "alice")
        bot, task = await launch_bot(emu, database_url, clock)
        await scheduling_caught_up(bot)
        await bot.guild_service.update_settings(
            guild.id,
            guild.name,
            0,
            moderator_role_id=mod_role.id,
            log_channel_id=log.id,
            timezone="America/New_York",
        )
        state = World(emu, clock, database_url, bot, task, guild, general, log, mod, alice)
        try:
            yield state
        finally:
            await stop_bot(state.bot, state.task)
        emu.assert_no_violations()


def bot_posts(world: World, channel: Channel) -> list[Message]:
    bot_id = world.emu.state.bot_user.id
    return [
        m for m in world.emu.history(channel) if m.author.id == bot_id and m.interaction_id is None
    ]


def text_of(message: Message) -> str:
    parts = [message.content]
    for embed in message.embeds:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)


async def schedule_prompts(world: World, when: str, **options: Any) -> None:
    for text in ("What surprised you this week?", "Share one tool you love.", "What will you try?"):
        reply = await world.run(world.mod, "prompt add", {"text": text})
        assert "Added prompt" in reply.content, reply.content
    interaction = await world.invoke(
        world.mod, "prompt schedule", {"when": when, "channel": world.general, **options}
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
    posts = bot_posts(world, world.general)
    assert len(posts) == 1 and "What surprised you this week?" in posts[0].content
    assert "late" not in posts[0].content
    assert len(world.threads()) == 1  # a thread for replies
    # Woken again at the same instant: nothing more.
    assert (await world.tick(timedelta(seconds=1))).done == []
    await world.tick(timedelta(days=1))
    posts = bot_posts(world, world.general)
    assert len(posts) == 2 and "Share one tool you love." in posts[1].content
    listing = await world.run(world.mod, "schedule list")
    assert "every day at 09:00 (America/New" in text_of(listing)


async def test_a_restart_over_a_slot_posts_late_within_grace_and_reports_older_ones(
    world: World,
) -> None:
    await schedule_prompts(world, "daily at 09:00")
    await world.tick(timedelta(hours=2))  # posted at 09:00 on Monday
    assert len(bot_posts(world, world.general)) == 1
    # Down from Monday 09:00 to Tuesday 10:00 local: Tuesday's slot is 1 h late, within 2 h.
    await world.restart(timedelta(days=1, hours=1))
    posts = bot_posts(world, world.general)
    assert len(posts) == 2 and "Posted late" in posts[1].content
    # Down for three days: the latest slot is 3 h old (beyond grace), so all are missed.
    await world.restart(timedelta(days=3, hours=2))
    assert len(bot_posts(world, world.general)) == 2  # nothing posted, and never twice
    reports = [m.content for m in bot_posts(world, world.log)]
    assert any("missed 3 run(s)" in r for r in reports), reports


async def test_a_dst_week_keeps_the_local_time(world: World) -> None:
    await schedule_prompts(world, "daily at 09:00")
    posted_at = []
    for _ in range(8 * 24):  # a week that crosses 8 March 2026 (spring forward)
        report = await world.tick(timedelta(hours=1))
        posted_at += [slot for _, slot in report.done]
    hours = [slot.hour for slot in posted_at]
    assert hours[:6] == [14] * 6 and hours[6:] == [13, 13]  # 09:00 EST, then 09:00 EDT


async def test_an_empty_bank_posts_nothing_and_tells_the_moderators(world: World) -> None:
    interaction = await world.invoke(world.mod, "prompt post-now", {"channel": world.general})
    reply = await world.emu.wait_for_followup(interaction)
    assert "empty" in reply.content
    assert bot_posts(world, world.general) == []


async def schedule_chat(world: World) -> None:
    emu = world.emu
    interaction = await world.invoke(
        world.mod,
        "chat schedule",
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
    assert "Scheduled chat #1 with 3 question(s)" in done.content, done.content


async def test_a_weekly_chat_runs_from_event_to_archive(world: World) -> None:
    emu = world.emu
    await schedule_chat(world)
    events = list(world.guild.scheduled_events.values())
    assert len(events) == 1
    assert events[0].name == "EdChat" and events[0].location == "#general"
    assert events[0].scheduled_start_time.startswith("2026-03-06T00:00:00")  # Thu 19:00 EST

    # Wednesday 19:00 New York: the announcement, 24 h ahead, with the questions.
    await world.tick(datetime(2026, 3, 5, 0, 0, tzinfo=UTC) - world.clock.now())
    announcement = bot_posts(world, world.general)[-1]
    assert "EdChat" in text_of(announcement) and "What next?" in text_of(announcement)

    # Thursday 19:00: a thread with the intro and Q1.
    await world.tick(timedelta(hours=24))
    [thread] = world.threads()
    assert thread.name == "EdChat · 2026-03-05"
    in_thread = bot_posts(world, thread)
    assert "A1" in in_thread[0].content and in_thread[1].content.startswith("**Q1**")
    assert events[0].status == 2  # active
    await emu.post_message(world.alice, thread, "A1 Projects! https://example.com/pbl")
    await emu.post_message(world.mod, thread, "Nice", reply_to=in_thread[1])
    await world.tick(timedelta(minutes=10))
    assert bot_posts(world, thread)[-1].content.startswith("**Q2**")
    await emu.post_message(world.alice, thread, "A2 grading")
    await world.tick(timedelta(minutes=10))
    assert bot_posts(world, thread)[-1].content.startswith("**Q3**")
    await world.tick(timedelta(minutes=10))
    summary = bot_posts(world, thread)[-1].content
    assert "summary" in summary
    assert "2 answer(s) from 2 member(s)" in summary and "1 answer(s) from 1 member(s)" in summary
    assert "summary" in bot_posts(world, world.general)[-1].content
    # The next week's event replaces the finished one.
    upcoming = [e for e in world.guild.scheduled_events.values() if e.status == 1]
    assert [e.scheduled_start_time[:10] for e in upcoming] == ["2026-03-12"]  # 19:00 EDT
    # Late answers stay welcome for 24 h, then the thread is archived.
    await world.tick(timedelta(hours=23))
    assert not thread.archived
    await world.tick(timedelta(hours=1, minutes=1))
    assert thread.archived


async def test_two_bot_processes_sharing_one_database_post_each_slot_once(world: World) -> None:
    await schedule_prompts(world, "daily at 09:00")
    second, second_task = await launch_bot(world.emu, world.database_url, world.clock)
    try:
        await scheduling_caught_up(second)
        world.clock.advance(timedelta(hours=2))  # Monday 09:00 New York
        for _ in range(3):
            await asyncio.gather(
                world.bot.scheduling.runner.run_due(),
                second.scheduling.runner.run_due(),
            )
            world.clock.advance(timedelta(days=1))
        assert len(bot_posts(world, world.general)) == 3
        texts = [m.content for m in bot_posts(world, world.general)]
        assert len(set(texts)) == 3  # three different prompts, each once
    finally:
        await stop_bot(second, second_task)


async def test_moderators_steer_a_running_chat(world: World) -> None:
    await schedule_chat(world)
    await world.tick(datetime(2026, 3, 6, 0, 0, tzinfo=UTC) - world.clock.now())
    [thread] = world.threads()

    async def control(command: str, options: dict[str, Any] | None = None) -> str:
        interaction = await world.invoke(world.mod, f"chat {command}", options, channel=thread)
        return (await world.emu.wait_for_response(interaction)).content

    def last() -> str:
        return bot_posts(world, thread)[-1].content

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
    reports = [m.content for m in bot_posts(world, world.log)]
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
    intro = bot_posts(world, thread)[0].content
    assert "Started late" in intro
    assert bot_posts(world, thread)[1].content.startswith("**Q1**")


async def test_a_chat_whose_bot_lost_permissions_is_paused_and_moderators_told(
    world: World,
) -> None:
    from bot.emulator.permissions import Permission

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
    reports = [m.content for m in bot_posts(world, world.log)]
    assert any("is paused" in r and "Create Public Threads" in r for r in reports), reports
    assert not any("failed" in r for r in reports)  # one clear message, not two
    listing = text_of(await world.run(world.mod, "schedule list"))
    assert listing.count("paused") == 2  # the chat and its announcement


async def test_a_member_suggests_a_prompt_and_a_moderator_approves_it(world: World) -> None:
    reply = await world.run(world.alice, "prompt suggest", {"text": "What made you smile?"})
    assert "went to the moderators" in reply.content
    card = bot_posts(world, world.log)[-1]
    assert "What made you smile?" in card.content and card.components
    click = await world.emu.click(world.mod, card, "Approve")
    assert "approved" in (await world.emu.wait_for_followup(click)).content
    listing = await world.run(world.mod, "prompt list")
    assert "What made you smile?" in text_of(listing)


def bot_cannot_create_threads(world: World) -> bool:
    guild = world.bot.get_guild(world.guild.id)
    channel = guild.get_channel(world.general.id) if guild else None
    assert guild is not None and channel is not None
    return not channel.permissions_for(guild.me).create_public_threads


async def test_a_chat_on_a_forum_topic_is_refused_with_a_way_out(world: World) -> None:
    created = await world.run(world.mod, "topic create", {"name": "Reading", "kind": "forum"})
    assert "Created" in created.content, created.content

    refused = await world.run(
        world.mod,
        "chat schedule",
        {"title": "Book club", "when": "weekly on thu at 19:00", "topic": "Reading"},
    )

    assert "Weekly chats run in a thread of a text channel" in refused.content
    assert refused.flags & 64  # ephemeral
    assert await world.bot.scheduling.schedules.for_guild(world.guild.id) == []
