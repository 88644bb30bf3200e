"""aiosqlite connections for the engine: one trip per statement, and writers queue in-process.

One trip: aiosqlite runs SQLite in a thread of its own, and every call is a round trip to it.
SQLAlchemy's adapter makes three or four per statement: open a
cursor, execute, fetch the rows, close the cursor. Here a statement is one trip that does all four
in SQLite's thread and hands back the rows with the cursor's description, rowcount and lastrowid;
a rollback with no transaction open (the pool's, after every commit or read) costs none. A new
/share (three statements and a commit) makes 4 trips instead of 14.

Writers queue: SQLite has one writer at a time. Two connections of this process writing at once
would make the second spin in SQLite's busy handler, which sleeps 1, 2, 5, 10... ms between tries,
so a burst of shares waits far longer than its writes take. So a connection about
to write first takes its engine's writer lock (FIFO), held until its transaction ends; readers
never wait (WAL).

Several statements in one trip: a hot write (a new share: resource, tags, first share) can run as
one function in SQLite's thread (`run_in_thread`), its statements compiled once from Core
(`SQLiteStatement`), inside the caller's transaction; when it is the transaction's last write it
may commit there too, and the caller's commit then costs nothing. A new /share is one trip, not 4,
and the next writer waits for no Python of this one's.

The engine gets these connections through SQLAlchemy's public `async_creator` hook.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiosqlite
from aiosqlite.context import contextmanager
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

T = TypeVar("T")
_DIALECT = SQLiteDialect_aiosqlite()
# How long a connection that failed to open may take to stop its thread.
THREAD_STOP_SECONDS = 5.0

Description = tuple[tuple[Any, ...], ...] | None

# The statements sqlite3 opens a write transaction for (its implicit BEGIN), by their verb.
_WRITES = re.compile(
    r"\s*(?:INSERT|UPDATE|DELETE|REPLACE|WITH\b.*\b(?:INSERT|UPDATE|DELETE))", re.I | re.S
)


@dataclass(frozen=True)
class _Outcome:
    description: Description
    rowcount: int
    lastrowid: int | None
    rows: list[Any] = field(default_factory=list)
    in_transaction: bool = False


def _run(connection: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> _Outcome:
    """In SQLite's thread: the whole life of a cursor, so nothing of it crosses threads."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return _Outcome(
            cursor.description, cursor.rowcount, cursor.lastrowid, rows, connection.in_transaction
        )
    finally:
        cursor.close()


class OneTripCursor:
    """The part of aiosqlite's Cursor that SQLAlchemy uses, with the rows fetched up front."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._outcome = _Outcome(None, -1, None)
        self._next_row = 0

    async def execute(self, sql: str, parameters: Any = ()) -> OneTripCursor:
        await self._start(sql, parameters, many=False)
        return self

    async def executemany(self, sql: str, parameters: Sequence[Any]) -> OneTripCursor:
        await self._start(sql, parameters, many=True)
        return self

    async def _start(self, sql: str, parameters: Any, *, many: bool) -> None:
        connection = self._connection
        if _WRITES.match(sql):
            await connection.take_writer_lock()
        run: Callable[..., Awaitable[_Outcome]] = connection._execute
        try:
            self._outcome = await run(_run, connection._conn, sql, parameters, many)
        except BaseException:
            connection.may_be_in_transaction = True  # a failed statement may leave one open
            raise
        connection.transaction_state(self._outcome.in_transaction)
        self._next_row = 0

    @property
    def description(self) -> Description:
        return self._outcome.description

    @property
    def rowcount(self) -> int:
        return self._outcome.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._outcome.lastrowid

    async def fetchone(self) -> Any | None:
        rows = await self.fetchmany(1)
        return rows[0] if rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        start = self._next_row
        self._next_row = min(len(self._outcome.rows), start + (size or self.arraysize))
        return self._outcome.rows[start : self._next_row]

    async def fetchall(self) -> list[Any]:
        start, self._next_row = self._next_row, len(self._outcome.rows)
        return self._outcome.rows[start:]

    async def close(self) -> None:
        # Results read rowcount and lastrowid after closing, as sqlite3 allows: keep those.
        self._next_row = len(self._outcome.rows)

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()


class WriterLock:
    """One engine's queue of writers; waiting longer than SQLite's busy timeout fails as SQLite
    would have ("database is locked")."""

    def __init__(self, wait: float) -> None:
        self.lock = asyncio.Lock()
        self.wait = wait


class OneTripConnection(aiosqlite.Connection):
    # Whether SQLite may hold an open transaction, as of the last trip; only its own statements,
    # commits and rollbacks move it, and all of them go through this connection.
    may_be_in_transaction = True

    def __init__(self, connector: Callable[[], sqlite3.Connection], writer: WriterLock) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._writer = writer
        self._writing = False

    # aiosqlite's own cursor() is a trip of its own; this one is free (the trip is in execute).
    @contextmanager
    async def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def take_writer_lock(self) -> None:
        if self._writing:
            return
        try:
            async with asyncio.timeout(self._writer.wait):
                await self._writer.lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        self._writing = True

    def transaction_state(self, in_transaction: bool) -> None:
        self.may_be_in_transaction = in_transaction
        if not in_transaction:
            self._release_writer_lock()  # e.g. a write in autocommit mode

    def _release_writer_lock(self) -> None:
        if self._writing:
            self._writing = False
            self._writer.lock.release()

    async def commit(self) -> None:
        # Nothing to commit after reads only, or after work that committed itself: no trip.
        if self.may_be_in_transaction:
            await super().commit()
        self.transaction_state(False)

    async def rollback(self) -> None:
        # The pool rolls back every connection it takes back, mostly after a commit or a read:
        # with no transaction open that rollback would do nothing, so it costs no trip either.
        try:
            if self.may_be_in_transaction:
                await super().rollback()
        finally:
            self.transaction_state(False)

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self._release_writer_lock()

    async def run(self, work: Callable[[sqlite3.Connection], T], *, writer: bool) -> T:
        """`work` on the sqlite3 connection in SQLite's thread, in one trip (as a writer: after
        taking the writer lock)."""
        if writer:
            await self.take_writer_lock()

        def run(connection: sqlite3.Connection) -> tuple[T, bool]:
            return work(connection), connection.in_transaction

        trip: Callable[..., Awaitable[tuple[T, bool]]] = self._execute
        try:
            result, in_transaction = await trip(run, self._conn)
        except BaseException:
            self.may_be_in_transaction = True  # a failed statement may leave one open
            raise
        self.transaction_state(in_transaction)
        return result

    def stop(self) -> asyncio.Future[Any] | None:
        # SQLAlchemy terminates a connection this way when a task is cancelled mid-transaction;
        # closing it ends the transaction, so the next writer may go.
        try:
            return super().stop()
        finally:
            self._release_writer_lock()


def async_creator(url: URL, busy_timeout: float) -> Callable[[], Awaitable[OneTripConnection]]:
    """SQLAlchemy's `async_creator` for `url` (the connect arguments of its aiosqlite dialect);
    the connections it makes share one writer lock."""
    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(url)
    (database,) = args
    writer = WriterLock(busy_timeout)

    async def connect() -> OneTripConnection:
        connection = OneTripConnection(lambda: sqlite3.connect(database, **kwargs), writer)
        # As SQLAlchemy does for aiosqlite: an engine left undisposed must not hang the exit.
        connection._thread.daemon = True
        try:
            await connection
        except BaseException:
            # aiosqlite has asked its thread to stop, which then reports to this event loop:
            # let it finish while the loop runs, or a quick exit (plnbot's one-line error) has
            # it print "Event loop is closed" from its thread.
            await asyncio.to_thread(connection._thread.join, THREAD_STOP_SECONDS)
            raise
        return connection

    return connect


class SQLiteStatement:
    """A Core statement compiled once for sqlite3, with the conversions SQLAlchemy would apply to
    its parameters (UTC datetimes to text, booleans to integers), so rows written through
    `run_in_thread` read back exactly like rows written by the engine."""

    def __init__(self, statement: ClauseElement, keys: Sequence[str]) -> None:
        compiled = statement.compile(dialect=_DIALECT, column_keys=list(keys))
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        names = compiled.positiontup or []
        self._converters = [
            (name, compiled.binds[name].type.dialect_impl(_DIALECT).bind_processor(_DIALECT))
            for name in names
        ]
        # The statement's own literals (`resources > 0`) are parameters too.
        self._literals = {
            name: compiled.binds[name].value
            for name in names
            if name not in keys and compiled.binds[name].value is not None
        }

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        given = {**self._literals, **values}
        return tuple(
            given[name] if convert is None else convert(given[name])
            for name, convert in self._converters
        )


async def run_in_thread(
    connection: AsyncConnection, work: Callable[[sqlite3.Connection], T], *, writer: bool = True
) -> T:
    """Run `work` on the connection's sqlite3 connection in SQLite's thread: several statements
    for the price of one trip, inside the caller's transaction (which the work may end with a
    commit, when it is its last write). A writer takes the writer lock first (`writer=False`
    for reads only); SQLite's errors come out as SQLAlchemy's (IntegrityError...)."""
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, OneTripConnection), "run_in_thread needs the engine of create_engine"
    try:
        return await driver.run(work, writer=writer)
    except sqlite3.Error as error:
        raise DBAPIError.instance(None, None, error, sqlite3.Error) from error


class LoopReader:
    """Tiny indexed reads on the event loop itself, through a read-only connection of their own.

    A trip to SQLite's thread and back costs several times a read that finds its rows in an
    index (tag autocomplete: about 20 us of SQLite, run on every keystroke). Under WAL a reader
    never waits for the writer, so such a read blocks the loop for no longer than it takes.
    If SQLite is ever busy (a WAL recovery), `read` returns None and the caller goes the usual
    way.
    """

    def __init__(self, path: str) -> None:
        self._connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self._connection.execute("PRAGMA busy_timeout=0")
        self._connection.execute("PRAGMA query_only=1")

    def read(self, statement: SQLiteStatement, values: Mapping[str, Any]) -> list[Any] | None:
        try:
            return self._connection.execute(statement.sql, statement.parameters(values)).fetchall()
        except sqlite3.OperationalError:
            return None

    def close(self) -> None:
        self._connection.close()
