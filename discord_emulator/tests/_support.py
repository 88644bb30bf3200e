"""Helpers shared by the emulator's tests (imported relatively: `from _support import ...`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from discord_emulator import DiscordEmulator

StartBot = Callable[[commands.AutoShardedBot], Awaitable[commands.AutoShardedBot]]


def make_bot(*, intents: discord.Intents | None = None) -> commands.AutoShardedBot:
    """Like the PLN bot: an AutoShardedBot (so it asks GET /gateway/bot) with a tiny guild wait."""
    if intents is None:
        intents = discord.Intents.default()
        intents.members = True
        intents.message_content = True
    return commands.AutoShardedBot(
        command_prefix="!",
        intents=intents,
        guild_ready_timeout=0.01,
        help_command=None,
    )


async def api(
    emu: DiscordEmulator, method: str, path: str, body: Any = None, *, auth: bool = True
) -> tuple[int, Any]:
    """A raw REST call, for requests discord.py would refuse to send (to test the rules)."""
    headers = {"Authorization": f"Bot {emu.token}"} if auth else {}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, emu.api_base_url + path, json=body, headers=headers) as response,
    ):
        data = await response.json(content_type=None) if response.status != 204 else None
        return response.status, data
