"""The `plnbot` command as an operator uses it: real processes, real databases, loopback only."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from aiohttp import web
from support.cli import PlnbotCommand

from bot.invite import REQUIRED_PERMISSIONS

# Each test starts plnbot as a child process (a second or more each).
pytestmark = pytest.mark.slow

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabc.rejected-secret-value"  # id 123456789012345678


@pytest.fixture
async def rejecting_discord() -> AsyncIterator[str]:
    """A loopback stand-in for Discord that rejects every token, as Discord does a bad one."""

    async def unauthorized(_request: web.Request) -> web.Response:
        return web.Response(
            status=401,
            body=b'{"message": "401: Unauthorized", "code": 0}',
            content_type="application/json",
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", unauthorized)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/api/v10"
    await runner.cleanup()


async def test_help_lists_every_command(plnbot: PlnbotCommand, tmp_path: Path) -> None:
    result = await plnbot("--help", cwd=tmp_path)
    assert result.code == 0
    for command in ("run", "migrate", "check", "sync-commands", "backup", "health", "demo"):
        assert command in result.out
    assert "--version" in result.out and "--config PATH" in result.out
    sub_help = await plnbot("sync-commands", "--help", cwd=tmp_path)
    assert "--guild ID" in sub_help.out and "--config PATH" in sub_help.out


async def test_migrate_then_check_on_both_backends(
    plnbot: PlnbotCommand, database_url: str, tmp_path: Path
) -> None:
    env = {"PLNBOT_DATABASE_URL": database_url, "DISCORD_TOKEN": TOKEN}
    before = await plnbot("check", cwd=tmp_path, env=env)
    assert before.code == 0, before.err
    assert "pending" in before.out
    migrated = await plnbot("migrate", cwd=tmp_path, env=env)
    assert migrated.code == 0, migrated.err
    assert "Applied" in migrated.out
    after = await plnbot("check", cwd=tmp_path, env=env)
    assert after.code == 0 and "Migrations: up to date." in after.out
    assert TOKEN not in after.out + after.err
    invite = next(line for line in after.out.splitlines() if line.startswith("Invite URL: "))
    query = parse_qs(urlparse(invite.removeprefix("Invite URL: ")).query)
    assert query["client_id"] == ["123456789012345678"]
    assert query["permissions"] == [str(REQUIRED_PERMISSIONS.value)]
    assert set(query["scope"][0].split()) == {"bot", "applications.commands"}


async def test_invalid_config_exits_2_before_connecting(
    plnbot: PlnbotCommand, tmp_path: Path
) -> None:
    (tmp_path / "bad.toml").write_text('[database]\nurl = "mysql://nope"\n')
    result = await plnbot("run", "--config", "bad.toml", cwd=tmp_path)
    assert result.code == 2
    assert "database.url = 'mysql://nope'" in result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "data").exists()


async def test_run_without_a_token_says_how_to_set_it(
    plnbot: PlnbotCommand, tmp_path: Path
) -> None:
    result = await plnbot("run", cwd=tmp_path)
    assert result.code == 2 and "DISCORD_TOKEN" in result.err


async def test_rejected_token_is_a_clear_error_and_writes_nothing(
    plnbot: PlnbotCommand, tmp_path: Path, rejecting_discord: str
) -> None:
    env = {"DISCORD_TOKEN": TOKEN, "PLNBOT_DISCORD_API_BASE_URL": rejecting_discord}
    result = await plnbot("run", cwd=tmp_path, env=env)
    assert result.code == 1
    assert "Discord rejected the token" in result.err
    assert "Traceback" not in result.err
    assert TOKEN not in result.out + result.err
    assert not (tmp_path / "data" / "pln.db").exists()


async def test_unreachable_discord_is_a_clear_network_error(
    plnbot: PlnbotCommand, tmp_path: Path
) -> None:
    env = {"DISCORD_TOKEN": TOKEN, "PLNBOT_DISCORD_API_BASE_URL": "http://127.0.0.1:9/api/v10"}
    result = await plnbot("run", cwd=tmp_path, env=env)
    assert result.code == 1
    assert "Cannot reach Discord at http://127.0.0.1:9/api/v10" in result.err
    assert "Traceback" not in result.err
    debug = await plnbot("run", "--debug", cwd=tmp_path, env=env)
    assert debug.code == 1 and "Traceback" in debug.err


async def test_unreachable_database_is_a_clear_error(plnbot: PlnbotCommand, tmp_path: Path) -> None:
    env = {"DISCORD_TOKEN": TOKEN, "PLNBOT_DATABASE_URL": "postgresql://x@127.0.0.1:1/none"}
    result = await plnbot("run", cwd=tmp_path, env=env)
    assert result.code == 1
    assert "Cannot reach the database at postgresql+asyncpg://x@127.0.0.1:1/none" in result.err


async def test_database_ahead_of_the_code_refuses_to_start(
    plnbot: PlnbotCommand, tmp_path: Path
) -> None:
    env = {"DISCORD_TOKEN": TOKEN}
    assert (await plnbot("migrate", cwd=tmp_path, env=env)).code == 0
    database = sqlite3.connect(tmp_path / "data" / "pln.db")
    with database:
        database.execute("UPDATE alembic_version SET version_num = '9999_future'")
    database.close()
    result = await plnbot("run", cwd=tmp_path, env=env)
    assert result.code == 1
    assert "9999_future" in result.err and "newer version" in result.err


async def test_backup_copies_the_database(plnbot: PlnbotCommand, tmp_path: Path) -> None:
    assert (await plnbot("migrate", cwd=tmp_path)).code == 0
    result = await plnbot("backup", "backups/today.db", cwd=tmp_path)
    assert result.code == 0, result.err
    copy = sqlite3.connect(tmp_path / "backups" / "today.db")
    assert copy.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    copy.close()
    again = await plnbot("backup", "backups/today.db", cwd=tmp_path)
    assert again.code == 1 and "already exists" in again.err


async def test_health_reflects_the_heartbeat_age(plnbot: PlnbotCommand, tmp_path: Path) -> None:
    heartbeat = tmp_path / "heartbeat"
    env = {"PLNBOT_HEALTH_HEARTBEAT_FILE": str(heartbeat)}
    assert (await plnbot("health", cwd=tmp_path, env=env)).code == 1
    heartbeat.touch()
    assert (await plnbot("health", cwd=tmp_path, env=env)).code == 0
    stale = time.time() - 600
    os.utime(heartbeat, (stale, stale))
    result = await plnbot("health", cwd=tmp_path, env=env)
    assert result.code == 1 and "not connected" in result.err
