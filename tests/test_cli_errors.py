"""Every set-up mistake an operator can make ends in one clear line and the promised exit code.

Each case runs `plnbot` as a child process, as an operator would, and checks the exit code (2
for a setting that is invalid in itself, 1 when the machine, the database or Discord does not
cooperate; `health` answers 1 for everything, as Docker reserves 2), the one line on standard
error, and that no traceback is shown.

Unwritable folders are made honestly even though the tests run as root, whom permission bits do
not stop: the child runs without the two capabilities that let root override them
(`support.cli.as_plain_user`), so a folder with mode 0o555 refuses it as it refuses any user.
A missing PostgreSQL driver is a child in which `import asyncpg` fails exactly as it does
without the package (`support.cli.WITHOUT_ASYNCPG`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support.cli import WITHOUT_ASYNCPG, PlnbotCommand, run_plnbot

from bot import __version__

# Each test starts plnbot as a child process (a second or more each).
pytestmark = pytest.mark.slow

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabc.rejected-secret-value"
Setup = Callable[[Path], None]


def read_only(name: str, mode: int = 0o555) -> Setup:
    def make(root: Path) -> None:
        (root / name).mkdir()
        (root / name).chmod(mode)

    return make


def a_file(name: str) -> Setup:
    return lambda root: (root / name).write_text("not a folder\n")


def a_database(path: str = "data/pln.db") -> Setup:
    def make(root: Path) -> None:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        database = sqlite3.connect(root / path)
        database.execute("CREATE TABLE t (x)")
        database.close()

    return make


def a_config(text: str) -> Setup:
    return lambda root: (root / "bad.toml").write_text(text)


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    code: int
    line: str  # what the one line on standard error says (standard output for code 0)
    env: dict[str, str] = field(default_factory=dict)
    setup: tuple[Setup, ...] = ()
    cwd: str = "."  # relative to the test's folder
    plain_user: bool = False
    prelude: str = ""
    not_in_output: tuple[str, ...] = ()


CASES = [
    # A read-only working directory: data/ cannot be created.
    Case(
        "read-only-cwd-check",
        ("check",),
        1,
        "The SQLite database data/pln.db cannot be written: cannot create files in",
        setup=(read_only("ro"),),
        cwd="ro",
        plain_user=True,
        not_in_output=("Database: reached", "Database: SQLite file"),
    ),
    Case(
        "read-only-cwd-migrate",
        ("migrate",),
        1,
        "Cannot create the folder data for the database (database.url = "
        "sqlite+aiosqlite:///data/pln.db): permission denied. Run plnbot where it may write",
        setup=(read_only("ro"),),
        cwd="ro",
        plain_user=True,
    ),
    Case(
        "read-only-cwd-run",
        ("run",),
        1,
        "Cannot create the folder data for the database",
        env={"DISCORD_TOKEN": TOKEN},
        setup=(read_only("ro"),),
        cwd="ro",
        plain_user=True,
    ),
    Case(
        "database-folder-is-a-file",
        ("migrate",),
        1,
        "Cannot create the folder notes for the database (database.url = "
        "sqlite+aiosqlite:///notes/pln.db): notes is a file, not a folder.",
        env={"PLNBOT_DATABASE_URL": "sqlite:///notes/pln.db"},
        setup=(a_file("notes"),),
    ),
    Case(
        "check-folder-exists-but-is-not-writable",
        ("check",),
        1,
        "The SQLite database locked/pln.db cannot be written: cannot create files in",
        env={"PLNBOT_DATABASE_URL": "sqlite:///locked/pln.db"},
        setup=(read_only("locked"),),
        plain_user=True,
        not_in_output=("Database: reached",),
    ),
    Case(
        "sqlite-cannot-open-says-permission",
        ("migrate",),
        1,
        "Cannot open the SQLite database locked/pln.db: unable to open database file "
        "(cannot create files in",
        env={"PLNBOT_DATABASE_URL": "sqlite:///locked/pln.db"},
        setup=(read_only("locked"),),
        plain_user=True,
        not_in_output=("database server is running",),
    ),
    Case(
        "postgres-without-its-driver",
        ("check",),
        1,
        "database.url is a PostgreSQL URL, but the PostgreSQL driver (asyncpg) is not installed. "
        "Install the bot with its postgres extra: pip install 'pln-bot[postgres]'.",
        env={"PLNBOT_DATABASE_URL": "postgresql://pln@127.0.0.1:5432/pln"},
        prelude=WITHOUT_ASYNCPG,
    ),
    Case(
        "port-is-not-a-number",
        ("check",),
        2,
        "Invalid setting: database.url = 'postgresql://pln:***@db.example:abc/pln': the port "
        "'abc' is not a number from 1 to 65535",
        env={"PLNBOT_DATABASE_URL": "postgresql://pln:secret@db.example:abc/pln"},
        not_in_output=("secret",),
    ),
    Case(
        "log-file-in-a-missing-folder",
        ("check",),
        1,
        "Cannot write the log file logs/plnbot.log (logging.file): the folder logs does not "
        "exist. Create its folder, or set logging.file to a file plnbot may write.",
        env={"PLNBOT_LOGGING_FILE": "logs/plnbot.log"},
    ),
    Case(
        "backup-to-a-folder-it-cannot-write",
        ("backup", "locked/copy.db"),
        1,
        "Cannot write the backup locked/copy.db: cannot create files in",
        setup=(a_database(), read_only("locked")),
        plain_user=True,
    ),
    Case(
        "backup-to-a-folder-that-is-a-file",
        ("backup", "notes/copy.db"),
        1,
        "Cannot create the folder notes for the backup: notes is a file, not a folder.",
        setup=(a_database(), a_file("notes")),
    ),
    Case(
        "health-under-an-unreadable-folder",
        ("health",),
        1,
        "Cannot read the heartbeat file locked/heartbeat (health.heartbeat_file): permission "
        "denied.",
        env={"PLNBOT_HEALTH_HEARTBEAT_FILE": "locked/heartbeat"},
        setup=(read_only("locked", 0o000),),
        plain_user=True,
    ),
    Case(
        "health-under-a-regular-file",
        ("health",),
        1,
        "Cannot read the heartbeat file notes/heartbeat (health.heartbeat_file): notes is a "
        "file, not a folder.",
        env={"PLNBOT_HEALTH_HEARTBEAT_FILE": "notes/heartbeat"},
        setup=(a_file("notes"),),
    ),
    Case(
        "health-in-a-missing-folder",
        ("health",),
        1,
        "Cannot read the heartbeat file run/heartbeat (health.heartbeat_file): the folder run "
        "does not exist",
        env={"PLNBOT_HEALTH_HEARTBEAT_FILE": "run/heartbeat"},
    ),
    Case(
        "health-with-an-invalid-setting-still-answers-1",
        ("health",),
        1,
        "Invalid setting: discord.shard_count = 'x'",
        env={"PLNBOT_DISCORD_SHARD_COUNT": "x"},
    ),
    # Lists from the environment: one value, comma-separated values or JSON.
    Case(
        "one-shard-id-from-the-environment",
        ("check",),
        0,
        "Config: valid.",
        env={"PLNBOT_DISCORD_SHARD_COUNT": "2", "PLNBOT_DISCORD_SHARD_IDS": "0"},
    ),
    Case(
        "one-ignored-host-from-the-environment",
        ("check",),
        0,
        "Config: valid.",
        env={"PLNBOT_LIBRARY_IGNORED_HOSTS": "example.com"},
    ),
    Case(
        "a-list-that-is-not-json",
        ("check",),
        2,
        "PLNBOT_DISCORD_SHARD_IDS = '[0,' is not a valid JSON list",
        env={"PLNBOT_DISCORD_SHARD_COUNT": "2", "PLNBOT_DISCORD_SHARD_IDS": "[0,"},
    ),
    Case(
        "a-malformed-token",
        ("check",),
        2,
        "discord.token (or DISCORD_TOKEN) is malformed: a bot token has three parts separated by "
        "dots. Copy the token again from the Developer Portal (Bot → Reset Token).",
        env={"DISCORD_TOKEN": "abc"},
        not_in_output=("set discord.token first", "Config: valid"),
    ),
    Case(
        "a-malformed-token-stops-run-before-connecting",
        ("run",),
        2,
        "discord.token (or DISCORD_TOKEN) is malformed",
        env={"DISCORD_TOKEN": "Bot " + TOKEN},
        not_in_output=(TOKEN,),
    ),
    Case("version", ("--version",), 0, f"plnbot {__version__}"),
    Case(
        "config-before-the-command",
        ("--config", "bad.toml", "check"),
        2,
        "Invalid setting: commands.per_user_rate = 0: expected a whole number >= 1",
        setup=(a_config("[commands]\nper_user_rate = 0\n"),),
    ),
    Case(
        "config-after-the-command",
        ("check", "--config", "bad.toml"),
        2,
        "Invalid setting: commands.per_user_rate = 0",
        setup=(a_config("[commands]\nper_user_rate = 0\n"),),
    ),
]


@pytest.fixture(params=CASES, ids=[case.id for case in CASES])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Case]:
    case: Case = request.param
    for make in case.setup:
        make(tmp_path)
    yield case
    for path in tmp_path.rglob("*"):  # let pytest remove what was locked
        if path.is_dir():
            path.chmod(0o755)


async def test_each_mistake_ends_in_one_clear_line(case: Case, tmp_path: Path) -> None:
    result = await run_plnbot(
        *case.args,
        cwd=tmp_path / case.cwd,
        env=case.env,
        prelude=case.prelude,
        plain_user=case.plain_user,
    )
    output = result.out + result.err
    assert "Traceback" not in output, output
    assert result.code == case.code, output
    for absent in case.not_in_output:
        assert absent not in output, output
    if case.code == 0:
        assert case.line in result.out.splitlines(), output
        return
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("plnbot: ") and case.line in lines[0], output


async def test_debug_shows_the_traceback_before_or_after_the_command(
    plnbot: PlnbotCommand, tmp_path: Path
) -> None:
    (tmp_path / "notes").write_text("a file")
    env = {"PLNBOT_DATABASE_URL": "sqlite:///notes/pln.db"}
    for args in (("--debug", "migrate"), ("migrate", "--debug")):
        result = await plnbot(*args, cwd=tmp_path, env=env)
        assert result.code == 1
        assert "Traceback" in result.err and "notes is a file, not a folder" in result.err
