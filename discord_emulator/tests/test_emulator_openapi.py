"""Request bodies are checked against Discord's OpenAPI spec; the emulator's responses too.

Needs the spec file named by $PLNBOT_DISCORD_OPENAPI (CI sets it); skipped otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import discord
import pytest
import yarl
from _support import api, make_bot
from discord.gateway import DiscordWebSocket
from discord.http import Route

from discord_emulator import OPENAPI_ENV_VAR, DiscordEmulator
from discord_emulator.openapi import load_validator, spec_path_from_env


@pytest.fixture
def spec_path() -> Path:
    path = spec_path_from_env()
    if path is None:
        pytest.skip(f"set {OPENAPI_ENV_VAR} to Discord's openapi.json to validate against it")
    return path


@pytest.fixture
async def checked_emu(spec_path: Path) -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(openapi_spec=spec_path) as emulator:
        yield emulator
        emulator.assert_no_violations()


@pytest.fixture
def endpoints(checked_emu: DiscordEmulator) -> Iterator[None]:
    old = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = checked_emu.api_base_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(checked_emu.gateway_url)
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old


async def test_a_body_that_breaks_the_schema_is_a_violation(checked_emu: DiscordEmulator) -> None:
    guild = checked_emu.create_guild("PLN")
    channel = checked_emu.create_channel(guild, "general")
    status, body = await api(
        checked_emu, "POST", f"/channels/{channel.id}/messages", {"content": "hi", "tts": "yes"}
    )
    assert (status, body["code"]) == (400, 50035)
    violation = checked_emu.take_violations()[0]
    assert "OpenAPI" in violation.reason and "tts" in violation.reason


async def test_discord_py_traffic_matches_the_schema(
    checked_emu: DiscordEmulator, endpoints: None
) -> None:
    emu = checked_emu
    guild = emu.create_guild("PLN")
    general = emu.create_channel(guild, "general")
    alice = emu.create_member(guild, "alice")
    bot = make_bot()

    @bot.tree.command(name="hello", description="Say hello")
    async def hello(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(
            f"hi {name}", embed=discord.Embed(title="t"), ephemeral=True
        )

    await bot.login(emu.token)
    try:
        await bot.tree.sync()
        channel = await bot.fetch_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        message = await channel.send("x", allowed_mentions=discord.AllowedMentions(users=[alice]))
        await message.add_reaction("✅")
        await message.edit(content="y")
        dguild = await bot.fetch_guild(guild.id)
        role = await dguild.create_role(
            name="r", permissions=discord.Permissions(view_channel=True)
        )
        await role.edit(name="r2")
    finally:
        await bot.close()
    emu.assert_no_violations()


async def test_emulator_responses_match_the_schema(spec_path: Path) -> None:
    validator = load_validator(str(spec_path))
    async with DiscordEmulator(openapi_spec=None) as emu:
        guild = emu.create_guild("PLN")
        channel = emu.create_channel(guild, "general")
        commands = [{"name": "pln", "description": "PLN", "type": 1, "options": []}]
        calls = [
            ("GET", "/users/@me", "/users/@me", None),
            (
                "POST",
                "/channels/{channel_id}/messages",
                f"/channels/{channel.id}/messages",
                {"content": "hi"},
            ),
            ("GET", "/channels/{channel_id}", f"/channels/{channel.id}", None),
            ("GET", "/guilds/{guild_id}/roles", f"/guilds/{guild.id}/roles", None),
            (
                "PUT",
                "/applications/{application_id}/commands",
                f"/applications/{emu.application_id}/commands",
                commands,
            ),
        ]
        for method, template, path, body in calls:
            status, data = await api(emu, method, path, body)
            assert validator.response_errors(method, template, status, data) == [], template


def test_the_spec_is_loaded_once_per_process(spec_path: Path) -> None:
    assert load_validator(str(spec_path)) is load_validator(str(spec_path))
