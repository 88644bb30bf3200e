"""End-to-end fixtures: the real PLN bot, built by `build_bot`, against a fresh fake Discord.

`emulator` fails the test at teardown if the bot used a route the emulator does not know or broke
one of Discord's rules. `running_bot` is the bot logged in, connected, ready and with its command
tree synced (so members can invoke the commands it really registers).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import discord.gateway
import discord.http
import pytest

from bot.app import build_bot
from bot.clock import FakeClock
from bot.core import PLNBot
from bot.emulator import Channel, DiscordEmulator, Guild, Member, Permission
from bot.settings import DatabaseSettings, DiscordSettings, Settings

READY_TIMEOUT = 10.0


@dataclass
class Community:
    """The guild most stories happen in."""

    guild: Guild
    general: Channel
    moderator: Member
    member: Member


@dataclass
class RunningBot:
    bot: PLNBot
    emulator: DiscordEmulator


StartBot = Callable[..., Awaitable[RunningBot]]
T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T | None]]) -> T:
    """Poll an async check (the database, which the emulator cannot watch) until it holds."""
    async with asyncio.timeout(READY_TIMEOUT):
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.02)


@pytest.fixture
async def emulator(clock: FakeClock) -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(clock=clock.now) as emu:
        yield emu
        emu.assert_no_violations()


@pytest.fixture
def community(emulator: DiscordEmulator) -> Community:
    guild = emulator.create_guild("PLN")
    general = emulator.create_channel(guild, "general")
    moderator = emulator.create_member(guild, "mod", permissions=int(Permission.MANAGE_GUILD))
    member = emulator.create_member(guild, "alice")
    return Community(guild, general, moderator, member)


@pytest.fixture
def _restore_discord_endpoints() -> Iterator[None]:
    """build_bot sets discord.py's class-level endpoints; put them back for other tests."""
    old = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old


def e2e_settings(emulator: DiscordEmulator, database_url: str) -> Settings:
    return Settings(
        discord=DiscordSettings(
            token=emulator.token,
            api_base_url=emulator.api_base_url,
            gateway_url=emulator.gateway_url,
            message_content_intent=True,
            members_intent=True,
            guild_ready_timeout=0.01,
        ),
        database=DatabaseSettings(url=database_url, auto_migrate=True),
    )


async def launch_bot(
    emulator: DiscordEmulator,
    database_url: str,
    clock: FakeClock | None = None,
    *,
    before_sync: Callable[[PLNBot], None] | None = None,
    **sections: Any,
) -> tuple[PLNBot, asyncio.Task[None]]:
    """The real bot, logged in, connected, ready and with its commands synced.

    `sections` replace settings sections (e.g. `web=WebSettings(...)`); `before_sync(bot)` may add
    test-only commands to the tree first. Stop it with `stop_bot`.
    """
    settings = e2e_settings(emulator, database_url).model_copy(update=sections)
    bot = build_bot(settings, clock=clock)
    began = time.perf_counter()
    await bot.login(emulator.token)  # runs setup_hook: migrations, cogs, scheduler
    task = asyncio.create_task(bot.connect(), name="pln-bot-connect")
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait(
        {ready, task}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
    )
    if ready not in done:
        ready.cancel()
        if task in done:
            task.result()
        await bot.close()
        raise TimeoutError("the bot did not become ready")
    print(f"\n[e2e] login + connect to READY: {(time.perf_counter() - began) * 1000:.0f} ms")
    if before_sync is not None:
        before_sync(bot)
    await bot.tree.sync()  # global, so the emulator knows the commands members can use
    return bot, task


async def stop_bot(bot: PLNBot, task: asyncio.Task[None]) -> None:
    await bot.close()
    await asyncio.wait_for(task, READY_TIMEOUT)
    assert task.exception() is None


async def scheduling_caught_up(bot: PLNBot) -> None:
    """Wait for what the bot does after its first READY: recover interrupted runs, catch up."""
    started = bot.scheduling_started()
    if started is not None:
        await asyncio.wait_for(started, READY_TIMEOUT)


@pytest.fixture
async def start_bot(
    emulator: DiscordEmulator,
    community: Community,
    sqlite_url: str,
    clock: FakeClock,
    _restore_discord_endpoints: None,
) -> AsyncIterator[StartBot]:
    """`await start_bot(before_sync=...)`: the bot against the `community` guild."""
    started: list[tuple[PLNBot, asyncio.Task[None]]] = []

    async def start(before_sync: Callable[[PLNBot], None] | None = None) -> RunningBot:
        bot, task = await launch_bot(emulator, sqlite_url, clock, before_sync=before_sync)
        started.append((bot, task))
        return RunningBot(bot, emulator)

    yield start
    for bot, task in started:
        await stop_bot(bot, task)
    await _no_tasks_left_behind()


async def _no_tasks_left_behind() -> None:
    """Tasks still running after bot.close() would hang the event loop's shutdown (and the test
    until pytest-timeout). Cancel them, and fail with their names if they will not stop."""
    current = asyncio.current_task()
    left = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    if not left:
        return
    for task in left:
        task.cancel()
    _, stuck = await asyncio.wait(left, timeout=5)
    names = ", ".join(f"{t.get_name()} ({t.get_coro()})" for t in left)
    print(f"\n[e2e] tasks still running after bot.close(), cancelled: {names}")
    assert not stuck, f"tasks survive bot.close() and cancellation: {stuck}"


@pytest.fixture
async def running_bot(start_bot: StartBot) -> RunningBot:
    return await start_bot()
