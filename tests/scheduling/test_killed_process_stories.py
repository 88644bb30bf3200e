"""Exactly once, with a real `plnbot run` killed (SIGKILL) between claiming a slot and posting it.

The emulator holds the bot's post to the channel (a stall), before Discord makes it or once it
has; the test kills the process there, then starts a new one on the same database. The claim of
a dead process is taken over once it is 10 minutes old: the test ages it (and the emulator's
clock, past Discord's nonce window) rather than waiting. Both backends.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from support.cli import spawn_plnbot
from support.world import READY_TIMEOUT, eventually

from bot.clock import FakeClock
from bot.database import create_engine, create_session_factory, migrate_to_head
from bot.guilds.service import GuildService
from bot.prompts.service import PromptService
from bot.scheduling import ScheduleService, parse_when
from bot.scheduling.models import ScheduleRun
from cogs.prompts._poster import PROMPT_KIND, PromptTarget
from discord_emulator import Channel, DiscordEmulator, Guild, Message

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MESSAGES = "/channels/{channel_id}/messages"
PROMPT = "What surprised you this week?"


class Community:
    def __init__(self, emu: DiscordEmulator, clock: FakeClock) -> None:
        self.emu = emu
        self.clock = clock
        self.guild: Guild = emu.create_guild("PLN")
        self.general: Channel = emu.create_channel(self.guild, "general")
        self.log: Channel = emu.create_channel(self.guild, "mod-log")

    def posts(self, channel: Channel) -> list[Message]:
        bot_id = self.emu.state.bot_user.id
        return [m for m in self.emu.history(channel) if m.author.id == bot_id]


@pytest.fixture
async def community() -> AsyncIterator[Community]:
    # The bot in its own process reads the system clock: the emulator's starts there too, so
    # message ids and the bot's instants agree, and moves only when the test moves it.
    clock = FakeClock(datetime.now(UTC))
    async with DiscordEmulator(clock=clock.now) as emu:
        yield Community(emu, clock)
        emu.assert_no_violations()


async def _prepare(database_url: str, community: Community) -> None:
    """Migrated, with the server's log channel, one prompt, and a daily prompt schedule whose
    slot (this very minute) is due when the bot starts."""
    engine = create_engine(database_url)
    try:
        await migrate_to_head(engine)
        sessions = create_session_factory(engine)
        slot = datetime.now(UTC).replace(second=0, microsecond=0)
        clock = FakeClock(slot - timedelta(minutes=1))
        guild = community.guild
        await GuildService(sessions, clock).update_settings(
            guild.id, guild.name, 0, log_channel_id=community.log.id
        )
        await PromptService(sessions, clock).add(guild.id, guild.name, 0, PROMPT)
        rule = parse_when(f"daily at {slot:%H:%M}", "UTC", clock.now())
        await ScheduleService(sessions, clock).create(
            guild.id,
            guild.name,
            0,
            kind=PROMPT_KIND,
            rule=rule,
            label="daily prompt",
            payload=PromptTarget(community.general.id).payload(),
        )
    finally:
        await engine.dispose()


async def _runs(database_url: str) -> list[str]:
    """The status of each slot's run."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            return list(await session.scalars(select(ScheduleRun.status)))
    finally:
        await engine.dispose()


async def _age_claims(database_url: str, by: timedelta) -> None:
    """What 11 minutes of downtime do to the dead process's claim (it becomes stale)."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            [(claimed_at,)] = (
                await session.execute(
                    select(ScheduleRun.claimed_at).where(ScheduleRun.status == "claimed")
                )
            ).all()
            await session.execute(
                update(ScheduleRun)
                .where(ScheduleRun.status == "claimed")
                .values(claimed_at=claimed_at - by)
            )
    finally:
        await engine.dispose()


def _env(emu: DiscordEmulator, database_url: str) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": emu.token,
        "PLNBOT_DISCORD_API_BASE_URL": emu.api_base_url,
        "PLNBOT_DISCORD_GATEWAY_URL": emu.gateway_url,
        "PLNBOT_DISCORD_GUILD_READY_TIMEOUT": "0.01",
        "PLNBOT_DATABASE_URL": database_url,
    }


async def _stop(bot: asyncio.subprocess.Process) -> str:
    if bot.returncode is None:
        bot.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(bot.communicate(), READY_TIMEOUT)
    return err.decode()


@pytest.mark.parametrize("reached_discord", [False, True], ids=["lost", "delivered"])
async def test_a_prompt_killed_mid_post_appears_exactly_once_after_a_restart(
    community: Community, database_url: str, tmp_path: Path, reached_discord: bool
) -> None:
    emu = community.emu
    await _prepare(database_url, community)
    env = _env(emu, database_url)
    stall = emu.faults.stall(
        "POST", MESSAGES, after_handler=reached_discord, limit=2 * READY_TIMEOUT
    )

    doomed = await spawn_plnbot("run", cwd=tmp_path, env=env)
    try:
        await stall.wait()  # the slot is claimed; its post is held
        doomed.kill()
        await doomed.wait()
    finally:
        if doomed.returncode is None:
            doomed.kill()
            await doomed.wait()
    stall.drop()  # a post held before Discord made it never will be
    assert doomed.returncode == -signal.SIGKILL
    assert await _runs(database_url) == ["claimed"]
    before = [m.id for m in community.posts(community.general)]
    assert len(before) == (1 if reached_discord else 0)

    await _age_claims(database_url, timedelta(minutes=11))
    community.clock.advance(timedelta(minutes=11))  # Discord has forgotten the nonce by now
    restarted = await spawn_plnbot("run", cwd=tmp_path, env=env)
    try:

        async def finished() -> bool:
            return await _runs(database_url) == ["done"]

        await eventually(finished)
    finally:
        err = await _stop(restarted)
    assert restarted.returncode == 0, err
    [post] = community.posts(community.general)
    assert PROMPT in post.content
    if reached_discord:
        assert post.id == before[0]  # found on Discord, not posted again
    else:
        assert "Posted late" in post.content  # posted after the restart, and says so
    assert community.posts(community.log) == []  # nothing lost, so no report, no false alarm
