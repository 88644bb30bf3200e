"""Fixtures for the emulator's own tests: a fresh emulator, and a small discord.py bot on it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest
import yarl
from _support import StartBot
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from discord_emulator import DiscordEmulator


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator() as emulator:
        yield emulator
        emulator.assert_no_violations()


@pytest.fixture
def discord_endpoints(emu: DiscordEmulator) -> Iterator[None]:
    """Point discord.py at the emulator (as the bot does from its settings), then restore."""
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = emu.api_base_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


@pytest.fixture
async def start_bot(emu: DiscordEmulator, discord_endpoints: None) -> AsyncIterator[StartBot]:
    running: list[tuple[commands.AutoShardedBot, asyncio.Task[None]]] = []

    async def start(bot: commands.AutoShardedBot) -> commands.AutoShardedBot:
        await bot.login(emu.token)
        task = asyncio.create_task(bot.connect())
        running.append((bot, task))
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait({ready, task}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            if task in done:
                task.result()  # re-raise why the connection ended
            raise TimeoutError("the bot did not become ready")
        return bot

    yield start
    for bot, task in running:
        await bot.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)
