"""The one-trip SQLite connections: aiosqlite's results, with fewer trips to its thread."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
import pytest
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.database import create_engine
from bot.models.base import UTCDateTime
from bot.sqlite_driver import SQLiteStatement, async_creator, run_in_thread


@pytest.fixture
async def engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url)
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT UNIQUE)")
        )
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The name of every function sent to SQLite's thread, in order."""
    sent: list[str] = []
    original: Callable[..., Any] = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(fn, "__name__", "?"))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    yield sent


async def count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one())


async def test_a_statement_is_one_trip_and_a_committed_checkin_none(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        await connection.execute(text("SELECT body FROM notes"))
    # Stock aiosqlite under SQLAlchemy: cursor, execute, close; cursor, execute, fetch, close;
    # commit; the pool's rollback: 9 trips.
    assert trips == ["_run", "_run", "commit"]


async def test_results_carry_rows_rowcount_and_lastrowid(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        first = await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        second = await connection.execute(text("INSERT INTO notes (body) VALUES ('b')"))
        assert (first.lastrowid, second.lastrowid) == (1, 2)
        many = await connection.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": f"n{i}"} for i in range(50)]
        )
        assert many.rowcount == 50
        updated = await connection.execute(text("UPDATE notes SET body = body || '!'"))
        assert updated.rowcount == 52
        rows = (await connection.execute(text("SELECT id, body FROM notes ORDER BY id"))).all()
        assert len(rows) == 52 and tuple(rows[0]) == (1, "a!")


async def test_streamed_results_arrive_whole_and_in_order(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO notes (body) VALUES (:body)"),
            [{"body": f"{i:04}"} for i in range(300)],
        )
    async with engine.connect() as connection:
        stream = await connection.stream(text("SELECT body FROM notes ORDER BY body"))
        seen = [row.body async for row in stream]
        first = await connection.execute(text("SELECT body FROM notes ORDER BY body"))
        assert first.fetchone() is not None and len(first.fetchmany(10)) == 10
    assert seen == [f"{i:04}" for i in range(300)]


async def test_a_failed_statement_rolls_its_transaction_back(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('fresh')"))
            await connection.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
    assert await count(engine) == 1  # 'fresh' went with the failed transaction


async def test_an_uncommitted_transaction_is_rolled_back_on_checkin(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('draft')"))
    assert trips[-1] == "rollback"
    assert await count(engine) == 0


def test_an_engine_left_open_does_not_hang_the_exit(sqlite_url: str) -> None:
    program = (
        "import asyncio\n"
        "from sqlalchemy import text\n"
        "from bot.database import create_engine\n"
        "async def main():\n"
        f"    engine = create_engine({sqlite_url!r})\n"
        "    async with engine.connect() as connection:\n"
        "        await connection.execute(text('SELECT 1'))\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", program], timeout=30, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()


async def test_a_second_writer_queues_behind_the_first_and_readers_do_not_wait(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as first, engine.connect() as reader:
        await first.execute(text("INSERT INTO notes (body) VALUES ('first')"))
        second = asyncio.create_task(_insert(engine, "second"))
        # The reader sees the last committed state at once, while a write is open and queued.
        assert (await reader.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 0
        await asyncio.sleep(0)
        assert not second.done()
        await first.commit()
        await second
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT body FROM notes ORDER BY id"))).scalars()
        assert list(rows) == ["first", "second"]


async def test_a_writer_waiting_past_the_busy_timeout_fails_as_sqlite_would(
    sqlite_url: str, engine: AsyncEngine
) -> None:
    impatient = create_async_engine(
        sqlite_url, async_creator=async_creator(make_url(sqlite_url), busy_timeout=0.05)
    )
    try:
        async with impatient.connect() as first:
            await first.execute(text("INSERT INTO notes (body) VALUES ('held')"))
            with pytest.raises(OperationalError, match="database is locked"):
                await _insert(impatient, "late")
            await first.rollback()  # releases the lock: the next writer goes straight in
        await _insert(impatient, "after")
    finally:
        await impatient.dispose()
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT body FROM notes"))).scalars()
        assert list(rows) == ["after"]


async def test_a_failed_write_releases_the_writers_queue(engine: AsyncEngine) -> None:
    await _insert(engine, "taken")
    with pytest.raises(IntegrityError):
        await _insert(engine, "taken")
    async with asyncio.timeout(2):  # not the 5 s busy timeout: nobody holds the lock
        await _insert(engine, "next")
    assert await count(engine) == 2


async def _insert(engine: AsyncEngine, body: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})


async def test_a_writer_cancelled_mid_transaction_does_not_block_the_next(
    engine: AsyncEngine,
) -> None:
    holding = asyncio.Event()

    async def cancelled_writer() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('abandoned')"))
            holding.set()
            await asyncio.Event().wait()  # until cancelled, holding the write

    task = asyncio.create_task(cancelled_writer())
    await holding.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(2):  # not the 5 s busy timeout, nor "database is locked"
        await _insert(engine, "next")
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT body FROM notes"))).scalars()
        assert list(rows) == ["next"]


async def test_a_connection_terminated_mid_write_frees_the_writers_queue(sqlite_url: str) -> None:
    # What SQLAlchemy does with a connection it can no longer close gracefully (e.g. garbage
    # collected mid-transaction): stop() it.
    connect = async_creator(make_url(sqlite_url), busy_timeout=1.0)
    abandoned, other = await connect(), await connect()
    cursor = await abandoned.cursor()
    await cursor.execute("CREATE TABLE notes (body TEXT)")
    await abandoned.commit()
    await cursor.execute("INSERT INTO notes VALUES ('abandoned')")
    stopped = abandoned.stop()
    assert stopped is not None
    await stopped  # SQLite's connection is closed, its transaction gone
    writer = await other.cursor()
    await writer.execute("INSERT INTO notes VALUES ('next')")  # no "database is locked"
    await other.commit()
    await other.close()


def _insert_two(first: str, second: str) -> Callable[[sqlite3.Connection], list[int | None]]:
    def work(db: sqlite3.Connection) -> list[int | None]:
        return [
            db.execute("INSERT INTO notes (body) VALUES (?)", (body,)).lastrowid
            for body in (first, second)
        ]

    return work


async def test_several_statements_run_in_one_trip_inside_the_callers_transaction(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.begin() as connection:
        ids = await run_in_thread(connection, _insert_two("a", "b"))
    assert ids == [1, 2]
    assert trips == ["run", "commit"]
    async with engine.connect() as connection:
        await run_in_thread(connection, _insert_two("c", "d"))
        await connection.rollback()  # the caller's rollback undoes the work
    assert await count(engine) == 2


async def test_work_in_the_thread_queues_behind_a_writer_and_its_errors_are_sqlalchemys(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as first:
        await first.execute(text("INSERT INTO notes (body) VALUES ('first')"))

        async def second_writer() -> None:
            async with engine.begin() as connection:
                await run_in_thread(connection, _insert_two("second", "third"))

        second = asyncio.create_task(second_writer())
        await asyncio.sleep(0.05)
        assert not second.done()  # waiting for the first writer, not failing on SQLite's lock
        await first.commit()
        await second
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await run_in_thread(connection, _insert_two("fourth", "first"))
    async with asyncio.timeout(2):  # the failed work released the writers' queue
        await _insert(engine, "fifth")
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT body FROM notes ORDER BY id"))).scalars()
        assert list(rows) == ["first", "second", "third", "fifth"]


async def test_a_prepared_statement_writes_what_the_engine_would(sqlite_url: str) -> None:
    metadata = MetaData()
    events = Table(
        "events",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("at", UTCDateTime),
        Column("done", Boolean),
        Column("label", String(20)),
    )
    engine = create_engine(sqlite_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        # An aware time in another zone, as members' clocks give them: stored as UTC.
        at = datetime(2026, 7, 1, 9, 30, 15, 250, tzinfo=ZoneInfo("Europe/Paris"))
        values = {"at": at, "done": True, "label": "x"}
        prepared = SQLiteStatement(insert(events), ("at", "done", "label"))
        async with engine.begin() as connection:
            await connection.execute(insert(events), values)
            await run_in_thread(
                connection, lambda db: db.execute(prepared.sql, prepared.parameters(values))
            )
        async with engine.connect() as connection:
            raw = await connection.exec_driver_sql("SELECT at, done, label FROM events")
            by_engine, by_thread = raw.all()
            read = (await connection.execute(select(events.c.at))).scalars().all()
        assert by_thread == by_engine
        assert read == [at, at] and read[0].tzinfo is not None
    finally:
        await engine.dispose()


async def test_work_that_commits_leaves_the_callers_commit_nothing_to_do(
    engine: AsyncEngine, trips: list[str]
) -> None:
    def insert_and_commit(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO notes (body) VALUES ('done')")
        db.commit()

    async with engine.begin() as connection:
        await run_in_thread(connection, insert_and_commit)
        # The write is committed and the writers' queue free before the caller's block ends.
        async with asyncio.timeout(2):
            await _insert(engine, "meanwhile")
    assert trips[0] == "run" and trips.count("commit") == 1  # only the other writer's
    assert await count(engine) == 2
