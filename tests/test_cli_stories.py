"""An operator's `plnbot` commands against the local Discord: sync, online check, run, stop."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from support.cli import PlnbotCommand, spawn_plnbot
from support.world import READY_TIMEOUT, eventually

from discord_emulator import DiscordEmulator
from discord_emulator.state import Intent

# Each test starts plnbot as a child process (a second or more each).
pytestmark = pytest.mark.slow


def discord_env(emulator: DiscordEmulator, tmp_path: Path) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": emulator.token,
        "PLNBOT_DISCORD_API_BASE_URL": emulator.api_base_url,
        "PLNBOT_DISCORD_GATEWAY_URL": emulator.gateway_url,
        "PLNBOT_DISCORD_GUILD_READY_TIMEOUT": "0.01",
        "PLNBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/pln.db",
    }


async def test_sync_commands_publishes_the_tree_to_one_guild(
    plnbot: PlnbotCommand, emulator: DiscordEmulator, tmp_path: Path
) -> None:
    guild = emulator.create_guild("PLN")
    env = discord_env(emulator, tmp_path)
    result = await plnbot("sync-commands", "--guild", str(guild.id), cwd=tmp_path, env=env)

    assert result.code == 0, result.err
    names = {command["name"] for command in emulator.synced_commands(guild)}
    assert {"pln", "topic", "share", "search", "prompt", "chat", "recap", "mod"} <= names
    assert f"Synced {len(names)} commands to guild {guild.id}" in result.out
    assert emulator.synced_commands() == []  # nothing global was touched


async def test_online_check_verifies_the_token_and_the_intents(
    plnbot: PlnbotCommand, emulator: DiscordEmulator, tmp_path: Path
) -> None:
    env = discord_env(emulator, tmp_path)
    ok = await plnbot("check", "--online", cwd=tmp_path, env=env)
    assert ok.code == 0, ok.err
    assert "Token: accepted" in ok.out and "Privileged intents: enabled as configured." in ok.out

    emulator.enabled_privileged_intents = Intent.PRIVILEGED & ~Intent.GUILD_MEMBERS
    refused = await plnbot("check", "--online", cwd=tmp_path, env=env)
    assert refused.code == 1
    assert "lacks Server Members Intent" in refused.err

    # Shaped like a bot token, but not this application's: Discord (the emulator) rejects it.
    other = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabc.another-applications-secret"
    wrong = await plnbot("check", "--online", cwd=tmp_path, env={**env, "DISCORD_TOKEN": other})
    assert wrong.code == 1 and "Discord rejected the token" in wrong.err


async def test_run_with_auto_migrate_off_refuses_an_unmigrated_database(
    plnbot: PlnbotCommand, emulator: DiscordEmulator, tmp_path: Path
) -> None:
    env = {**discord_env(emulator, tmp_path), "PLNBOT_DATABASE_AUTO_MIGRATE": "false"}
    result = await plnbot("run", cwd=tmp_path, env=env)
    assert result.code == 1
    assert "database.auto_migrate is false. Run `plnbot migrate` first" in result.err


async def test_run_connects_reports_healthy_and_stops_cleanly_on_sigterm(
    plnbot: PlnbotCommand, emulator: DiscordEmulator, tmp_path: Path
) -> None:
    heartbeat = tmp_path / "heartbeat"
    env = {**discord_env(emulator, tmp_path), "PLNBOT_HEALTH_HEARTBEAT_FILE": str(heartbeat)}
    bot = await spawn_plnbot("run", cwd=tmp_path, env=env)

    async def heartbeat_written() -> bool:  # the bot writes it once the gateway is ready
        return await asyncio.to_thread(heartbeat.exists)

    try:
        await emulator.wait_for_bot_ready(READY_TIMEOUT)  # a new process, migrating first
        await eventually(heartbeat_written)
        health = await plnbot("health", cwd=tmp_path, env=env)
        assert health.code == 0 and "Healthy" in health.out

        bot.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(bot.communicate(), READY_TIMEOUT)
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    assert bot.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    assert (tmp_path / "pln.db").exists()  # migrated on the way up


async def test_run_with_an_unwritable_heartbeat_logs_it_once_and_stops_on_the_first_sigterm(
    emulator: DiscordEmulator, tmp_path: Path
) -> None:
    """The heartbeat's folder is missing: the bot says so once, naming the path, keeps serving,
    and a single SIGTERM still closes the gateway and ends the process within 10 s."""
    heartbeat = tmp_path / "missing" / "heartbeat"
    env = {**discord_env(emulator, tmp_path), "PLNBOT_HEALTH_HEARTBEAT_FILE": str(heartbeat)}
    bot = await spawn_plnbot("run", cwd=tmp_path, env=env)
    assert bot.stderr is not None
    logged: list[str] = []
    try:
        await emulator.wait_for_bot_ready(READY_TIMEOUT)  # a new process, migrating first
        async with asyncio.timeout(READY_TIMEOUT):
            while not any("heartbeat file" in line for line in logged):
                logged.append((await bot.stderr.readline()).decode())
        bot.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(bot.communicate(), 10)
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    err = "".join(logged) + rest.decode()
    assert bot.returncode == 0, err
    assert "Traceback" not in err
    problem = f"Cannot write the heartbeat file {heartbeat} (health.heartbeat_file)"
    assert err.count(problem) == 1, err
    assert f"the folder {heartbeat.parent} does not exist" in err
    sessions = emulator.hub.sessions.values()
    await emulator.wait_until(lambda: all(s.connection is None for s in sessions))  # closed
