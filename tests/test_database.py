"""The database layer on both backends: pragmas, migrations agreeing with the models, backups."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, bindparam, event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from support.wire import Relay

from bot import database
from bot.database import (
    QuickRead,
    _heads_named_in_files,
    backup_sqlite,
    create_engine,
    create_session_factory,
    head_revisions,
    include_object,
    migrate_to_head,
    pending_migrations,
)
from bot.errors import StartupError
from bot.guilds.models import Guild
from bot.schema import Base


async def test_sqlite_connections_get_the_pragmas(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        for _ in range(2):  # a second pooled connection gets them too
            async with engine.connect() as connection:
                values = {
                    pragma: (await connection.execute(text(f"PRAGMA {pragma}"))).scalar()
                    for pragma in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
                }
                assert values == {
                    "journal_mode": "wal",
                    "foreign_keys": 1,
                    "busy_timeout": 5000,
                    "synchronous": 1,  # NORMAL
                }
    finally:
        await engine.dispose()


def _schema_diff(connection: Connection) -> list[object]:
    opts = {"compare_type": True, "include_object": include_object}
    context = MigrationContext.configure(connection, opts=opts)
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_build_exactly_the_models(engine: AsyncEngine) -> None:
    """Upgrade from empty, then autogenerate finds nothing to change (SQLite and PostgreSQL)."""
    async with engine.connect() as connection:
        assert await connection.run_sync(_schema_diff) == []
    assert await pending_migrations(engine) == []


async def test_migrate_is_idempotent_and_reports_what_it_applied(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        first = await migrate_to_head(engine)
        assert first and set(first) >= head_revisions()
        assert await migrate_to_head(engine) == []
    finally:
        await engine.dispose()


async def test_database_newer_than_the_code_is_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate_to_head(engine)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))
        with pytest.raises(StartupError, match="newer version"):
            await pending_migrations(engine)
    finally:
        await engine.dispose()


async def test_unreachable_database_is_a_readable_error() -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        with pytest.raises(StartupError, match=r"Cannot reach the database at .*127\.0\.0\.1:1"):
            await pending_migrations(engine)
    finally:
        await engine.dispose()


async def test_checking_a_missing_sqlite_database_does_not_create_it(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/new/pln.db")
    try:
        pending = await pending_migrations(engine)
        assert pending[0] == "0001" and pending[-1] in head_revisions()
        assert not (tmp_path / "new" / "pln.db").exists()
    finally:
        await engine.dispose()


async def test_backup_of_a_live_database_while_it_is_written(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = create_engine(sqlite_url)
    await migrate_to_head(engine)
    stop = asyncio.Event()
    fifty_written = asyncio.Event()
    written = 0

    async def keep_writing() -> None:
        nonlocal written
        while not stop.is_set():
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO guilds (id, name, timezone, joined_at) "
                        "VALUES (:id, 'g', 'UTC', '2026-01-01 00:00:00')"
                    ),
                    {"id": written + 1},
                )
            written += 1
            if written == 50:
                fifty_written.set()
            await asyncio.sleep(0)

    writer = asyncio.create_task(keep_writing())
    await fifty_written.wait()
    destination = tmp_path / "backups" / "copy.db"
    pages = await asyncio.to_thread(backup_sqlite, sqlite_url, destination)
    stop.set()
    await writer
    await engine.dispose()

    assert pages > 0
    copy = sqlite3.connect(destination)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        copied = copy.execute("SELECT count(*) FROM guilds").fetchone()[0]
        assert 50 <= copied <= written
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        copy.close()


async def test_backup_refuses_to_overwrite_and_explains_postgres(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = create_engine(sqlite_url)
    await migrate_to_head(engine)
    await engine.dispose()
    existing = tmp_path / "exists.db"
    existing.write_bytes(b"")
    with pytest.raises(StartupError, match="already exists"):
        backup_sqlite(sqlite_url, existing)
    with pytest.raises(StartupError, match="pg_dump"):
        backup_sqlite("postgresql+asyncpg://root@127.0.0.1/test", tmp_path / "x.db")


@pytest.mark.postgres
async def test_every_postgres_session_plans_each_statement_for_its_parameters(
    postgres_url: str,
) -> None:
    # A generic plan (PostgreSQL's choice from a prepared statement's sixth run) cannot know how
    # much of a guild or a week a query selects; the bot's connections never use one.
    engine = create_engine(postgres_url)
    try:
        for _ in range(3):  # fresh and pooled connections alike
            async with engine.connect() as connection:
                for _ in range(8):  # past the sixth run of one prepared statement
                    await connection.execute(text("SELECT :n + 1"), {"n": 1})
                mode = await connection.scalar(text("SHOW plan_cache_mode"))
                assert mode == "force_custom_plan"
    finally:
        await engine.dispose()


def _log_simple_queries(engine: AsyncEngine, queries: list[str]) -> None:
    """Record every query sent through asyncpg's own execute and fetch (BEGIN, ROLLBACK, a
    ping's ";", a quick read); SQLAlchemy's prepared statements do not show here."""

    @event.listens_for(engine.sync_engine, "connect")
    def log(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection._connection.add_query_logger(lambda record: queries.append(record.query))


@pytest.mark.postgres
async def test_a_postgres_checkout_costs_no_round_trip(postgres_url: str) -> None:
    # A pre-ping would add BEGIN, ";" and ROLLBACK to every checkout: 8 round trips for a
    # search whose floor is 5.
    engine = create_engine(postgres_url)
    queries: list[str] = []
    _log_simple_queries(engine, queries)
    sessions = create_session_factory(engine)
    try:
        for _ in range(3):  # a fresh connection, then pooled ones
            async with sessions() as session:
                await session.execute(text("SELECT 1"))
        assert queries == ["BEGIN;", "ROLLBACK;"] * 3
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_connection_the_server_closed_is_replaced_at_checkout(postgres_url: str) -> None:
    # A server restart or a terminated backend: the next operation gets a new connection
    # instead of failing on the dead one.
    engine = create_engine(postgres_url)
    sessions = create_session_factory(engine)
    admin = create_engine(postgres_url)
    try:
        async with sessions() as session:
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
            driver = (await (await session.connection()).get_raw_connection()).driver_connection
        async with admin.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # The server closes the socket; the driver sees it on the event loop, as a bot idle
        # between interactions would.
        for _ in range(1000):
            if driver.is_closed():
                break
            await asyncio.sleep(0.005)
        else:
            raise AssertionError("the driver never saw the server close the connection")
        assert engine.pool.checkedin() == 1  # the dead connection waits in the pool
        async with sessions() as session:
            new_pid = await session.scalar(text("SELECT pg_backend_pid()"))
        assert new_pid != pid
    finally:
        await engine.dispose()
        await admin.dispose()


@pytest.mark.postgres
async def test_a_connection_idle_past_the_threshold_that_went_silent_is_replaced(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing tells the driver such a connection is dead; without the ping, the next operation
    # would wait on it for TCP's own timeout (many minutes).
    monkeypatch.setattr(database, "POSTGRES_IDLE_PING_SECONDS", 0.0)  # every checkout is "idle"
    monkeypatch.setattr(database, "POSTGRES_PING_TIMEOUT_SECONDS", 0.5)
    async with Relay(postgres_url) as line:
        engine = create_engine(line.url)
        sessions = create_session_factory(engine)
        try:
            async with sessions() as session:
                pid = await session.scalar(text("SELECT pg_backend_pid()"))
            line.speaking.clear()
            async with asyncio.timeout(10):
                async with sessions() as session:
                    new_pid = await session.scalar(text("SELECT pg_backend_pid()"))
            assert new_pid is not None and new_pid != pid
        finally:
            line.speaking.set()
            await engine.dispose()


@pytest.mark.postgres
async def test_a_connection_back_in_the_pool_a_moment_ago_is_not_pinged(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url)
    queries: list[str] = []
    _log_simple_queries(engine, queries)
    sessions = create_session_factory(engine)
    try:
        for _ in range(3):
            async with sessions() as session:
                await session.execute(text("SELECT 1"))
        assert ";" not in queries  # the ping is a simple-protocol ";"
    finally:
        await engine.dispose()


def test_the_heads_read_from_the_migration_files_are_alembics() -> None:
    # An up-to-date start trusts the files' own revision lines instead of importing Alembic.
    assert _heads_named_in_files() == head_revisions()
    # Features built side by side each add a migration: they must form one chain.
    assert len(head_revisions()) == 1


async def test_a_start_on_an_up_to_date_database_never_imports_alembic(sqlite_url: str) -> None:
    # Alembic and what it loads cost a running bot about 11 MiB it would never use again.
    engine = create_engine(sqlite_url)
    await migrate_to_head(engine)
    await engine.dispose()
    program = (
        "import asyncio, sys\n"
        "from bot.database import create_engine, migrate_to_head, pending_migrations\n"
        "async def main():\n"
        f"    engine = create_engine({sqlite_url!r})\n"
        "    assert await pending_migrations(engine) == []\n"
        "    assert await migrate_to_head(engine) == []\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-c", program, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await done.communicate()
    assert done.returncode == 0
    assert out.decode().strip() == "False"


async def test_starting_the_bot_loads_no_library_a_rare_command_needs() -> None:
    # Pillow (pictures), BeautifulSoup with lxml (page titles, feed discovery), feedparser and
    # defusedxml (feeds, OPML) add about 13 MiB to every bot; each loads on its first use. The
    # PostgreSQL dialect (every PostgreSQL driver's, about 1.5 MiB) loads only for PostgreSQL,
    # and ElementTree with its expat parser only to write OPML, difflib only to suggest a time
    # zone for a name nobody knows.
    rare = {
        "difflib",
        "PIL",
        "bs4",
        "lxml",
        "feedparser",
        "defusedxml",
        "sqlalchemy.dialects.postgresql",
        "xml.etree.ElementTree",
        "pyexpat",
    }
    program = (
        "import importlib, sys\n"
        "from bot.app import EXTENSIONS\n"
        "for name in EXTENSIONS: importlib.import_module(name)\n"
        f"print(sorted({rare!r} & set(sys.modules)))\n"
    )
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-c", program, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await done.communicate()
    assert done.returncode == 0
    assert out.decode().strip() == "[]"


async def test_a_quick_read_on_sqlite_sees_what_was_just_committed(sqlite_url: str) -> None:
    # The loop reader is a connection of its own: it must never serve a stale snapshot.
    engine = create_engine(sqlite_url)
    await migrate_to_head(engine)
    read = QuickRead(select(Guild.name).where(Guild.id == bindparam("guild_id")), ["guild_id"])
    try:
        assert await read.rows(engine, {"guild_id": 7}) == []
        for name in ("first", "second"):
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO guilds (id, name, timezone, joined_at) VALUES "
                        "(7, :name, 'UTC', '2026-01-01 00:00:00.000000') "
                        "ON CONFLICT (id) DO UPDATE SET name = excluded.name"
                    ),
                    {"name": name},
                )
            assert await read.rows(engine, {"guild_id": 7}) == [(name,)]
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_quick_read_on_postgres_is_one_round_trip(postgres_url: str) -> None:
    # Autocomplete runs on every keystroke: no BEGIN and ROLLBACK around its one statement.
    engine = create_engine(postgres_url)
    queries: list[str] = []
    _log_simple_queries(engine, queries)
    read = QuickRead(select(text("1")).where(bindparam("n") == 1), ["n"])
    try:
        for _ in range(3):
            assert [tuple(row) for row in await read.rows(engine, {"n": 1})] == [(1,)]
        assert len(queries) == 3  # the read itself, each time
        assert not any(query.startswith(("BEGIN", "ROLLBACK")) for query in queries)
    finally:
        await engine.dispose()
