"""Permission bitsets may be strings (as discord.py sends them) even where the spec says integer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _support import api

from discord_emulator import OPENAPI_ENV_VAR, DiscordEmulator
from discord_emulator.openapi import spec_path_from_env


@pytest.fixture
async def checked_emu() -> AsyncIterator[DiscordEmulator]:
    path: Path | None = spec_path_from_env()
    if path is None:
        pytest.skip(f"set {OPENAPI_ENV_VAR} to Discord's openapi.json to validate against it")
    async with DiscordEmulator(openapi_spec=path) as emulator:
        yield emulator


async def test_role_permissions_as_a_string_are_accepted(checked_emu: DiscordEmulator) -> None:
    guild = checked_emu.create_guild("PLN")
    status, body = await api(
        checked_emu,
        "POST",
        f"/guilds/{guild.id}/roles",
        {"name": "Readers", "permissions": "0", "mentionable": False},
    )
    assert status == 200, body
    assert checked_emu.take_violations() == []
