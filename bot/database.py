"""Engine, sessions and migrations: one code path for SQLite and PostgreSQL."""

from __future__ import annotations

import ast
import asyncio
import functools
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Insert, Select, event, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_only

from bot import sqlite_driver
from bot.errors import StartupError
from bot.paths import ensure_folder, explain, file_problem

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Table
    from sqlalchemy.orm import DeclarativeBase

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_MMAP_BYTES = 2**31

SessionFactory = async_sessionmaker[AsyncSession]

# asyncpg prepares every statement; from its sixth run on a connection PostgreSQL may switch to a
# generic plan, which cannot know how many rows a guild, a week or a search word selects. The
# bot's statements are few and their best plans depend on their parameters (a recap's per-topic
# ranking is many times slower on its generic plan), so every session plans each run anew.
POSTGRES_SESSION_SETTINGS = {"plan_cache_mode": "force_custom_plan"}

# A pre-ping would cost three round trips (BEGIN, ";", ROLLBACK) on every checkout. Instead a
# checkout refuses a connection whose socket asyncpg already saw close (a server restart or a
# terminated backend: no round trip); a connection that sat idle in the pool for over a minute is
# pinged first (one round trip, bounded), since that is when a firewall or NAT drops connections
# without a word and the first statement would otherwise wait on a dead socket; a connection is
# retired after half an hour; and SQLAlchemy invalidates the pool when a statement fails on a
# lost connection. A busy bot's connections are never idle that long, so it pays no pings.
POSTGRES_POOL_RECYCLE_SECONDS = 1800
POSTGRES_IDLE_PING_SECONDS = 60.0
POSTGRES_PING_TIMEOUT_SECONDS = 5.0


def create_engine(url: str, *, echo: bool = False, create_folder: bool = True) -> AsyncEngine:
    """An async engine; SQLite gets its folder created (unless `create_folder` is false, for
    checks that must leave nothing behind) and its pragmas on every connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        try:
            engine = create_async_engine(
                url,
                echo=echo,
                pool_recycle=POSTGRES_POOL_RECYCLE_SECONDS,
                connect_args={"server_settings": POSTGRES_SESSION_SETTINGS},
            )
        except ModuleNotFoundError as exc:
            if exc.name != "asyncpg":
                raise
            raise StartupError(
                "database.url is a PostgreSQL URL, but the PostgreSQL driver (asyncpg) is not "
                "installed. Install the bot with its postgres extra: "
                "pip install 'pln-bot[postgres]'."
            ) from exc
        event.listen(engine.sync_engine, "checkin", _note_checkin)
        event.listen(engine.sync_engine, "checkout", _refuse_dead_connection)
        return engine
    path = sqlite_path(url)
    if path is not None and create_folder:
        ensure_folder(
            path.parent,
            purpose=f"the database (database.url = {url})",
            fix="Run plnbot where it may write, or set database.url to a path it may write.",
        )
    engine = create_async_engine(
        url,
        echo=echo,
        async_creator=sqlite_driver.async_creator(parsed, SQLITE_BUSY_TIMEOUT_MS / 1000),
        # Up to 16 sessions at once keep their connection (the web UI's readers among them);
        # past the pool, each checkout would open and close a connection with its thread.
        pool_size=16,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    if path is not None:
        _add_loop_reader(engine, path)
    return engine


class QuickRead:
    """A small read that runs on every keystroke (autocomplete), built once and run the
    cheapest way its backend allows: on SQLite through the engine's `LoopReader` on the event
    loop, on PostgreSQL on a pooled connection's driver, outside any transaction (one round
    trip, as on the plain driver). Its columns must be ones both drivers return as they are
    (text, integers): neither way does type conversion."""

    def __init__(self, statement: Select[Any], keys: Sequence[str]) -> None:
        self.statement = statement
        self._sqlite = sqlite_driver.SQLiteStatement(statement, keys)
        self._postgres: Any = None  # compiled for asyncpg on first use

    async def rows(self, engine: AsyncEngine, values: Mapping[str, Any]) -> list[Any]:
        reader = _loop_readers.get(engine.sync_engine)
        if reader is not None and (rows := reader.read(self._sqlite, values)) is not None:
            return rows
        if engine.dialect.name != "postgresql":
            async with engine.connect() as connection:
                return list(await connection.execute(self.statement, values))
        if self._postgres is None:
            self._postgres = self.statement.compile(dialect=engine.dialect)
        compiled = self._postgres
        every = compiled.construct_params(values)  # with the statement's own literals
        arguments = [every[name] for name in compiled.positiontup or []]
        async with engine.connect() as connection:
            # The driver's own fetch: SQLAlchemy's adapter would open a transaction first
            # (BEGIN and ROLLBACK around one read) and build its result objects.
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            return list(await driver.fetch(str(compiled), *arguments))


# One loop reader per file-backed SQLite engine, closed with it.
_loop_readers: weakref.WeakKeyDictionary[Engine, sqlite_driver.LoopReader] = (
    weakref.WeakKeyDictionary()
)


def _add_loop_reader(engine: AsyncEngine, path: Path) -> None:
    def open_reader(_connection: Any, _record: Any) -> None:
        # After the first connection has made the file (and set WAL), not before.
        if engine.sync_engine not in _loop_readers:
            _loop_readers[engine.sync_engine] = sqlite_driver.LoopReader(str(path))

    def close_reader(_engine: Any) -> None:
        reader = _loop_readers.pop(engine.sync_engine, None)
        if reader is not None:
            reader.close()

    event.listen(engine.sync_engine, "connect", open_reader)
    event.listen(engine.sync_engine, "engine_disposed", close_reader)


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info["idle_since"] = time.monotonic()


def _refuse_dead_connection(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Raising DisconnectionError makes the pool discard the connection and check out (or open)
    another."""
    # The adapted asyncpg connection keeps the driver's connection as `_connection`.
    driver = dbapi_connection._connection
    if driver.is_closed():
        raise DisconnectionError("the server closed this connection")
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < POSTGRES_IDLE_PING_SECONDS:
        return
    try:
        # Checkout runs in SQLAlchemy's greenlet for the async engine, as its own pre-ping does.
        await_only(driver.execute(";", timeout=POSTGRES_PING_TIMEOUT_SECONDS))
    except Exception as exc:  # whatever stops `;` from answering, the connection is no good
        driver.terminate()  # no goodbye on a socket nobody answers
        raise DisconnectionError(f"an idle connection did not answer: {exc!r}") from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (search, recap) run while a share is written; NORMAL is safe under WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Reads through a memory map skip a read() and a copy per page, which the many row lookups
    # of a search feel. SQLite caps the size at its build's maximum (2 GiB by default); a bigger
    # file is read as usual past it.
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite database URL; None for PostgreSQL and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def check_sqlite_writable(url: str) -> None:
    """Raise a StartupError unless the SQLite database (or, if it does not exist yet, the
    folder it would be created in) can be written; nothing is left behind."""
    path = sqlite_path(url)
    if path is None:
        return
    problem = file_problem(path)
    if problem is not None:
        raise StartupError(
            f"The SQLite database {path} cannot be written: {problem}. Run plnbot where it may "
            "write, or set database.url to a path it may write."
        )


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


def engine_of(sessions: SessionFactory) -> AsyncEngine:
    """The engine behind a session factory, for Core work that needs no unit of work."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return engine


def backend_name(engine: AsyncEngine) -> str:
    return "SQLite" if engine.dialect.name == "sqlite" else "PostgreSQL"


def insert_ignoring_conflicts(
    dialect_name: str,
    table: Table | type[DeclarativeBase],
    index_elements: Sequence[Any] | None = None,
) -> Insert:
    """INSERT … ON CONFLICT [(index_elements)] DO NOTHING, in the backend's own dialect."""
    if dialect_name == "postgresql":
        # The PostgreSQL dialect package loads every PostgreSQL driver's dialect (about 1.5 MiB),
        # which a bot on SQLite would carry for nothing.
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table).on_conflict_do_nothing(index_elements=index_elements)
    return sqlite_insert(table).on_conflict_do_nothing(index_elements=index_elements)


# --- migrations -------------------------------------------------------------------------------


# Alembic and what it loads (Mako, Pygments) take about 11 MiB that a running bot never needs
# again, so it is imported only when a migration is due: a start on an up-to-date database
# compares the version table with the revisions the migration files name, and stops there.


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _script() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revisions() -> set[str]:
    return set(_script().get_heads())


@functools.cache
def _heads_named_in_files() -> frozenset[str]:
    """The head revisions, read from the migration files' `revision` / `down_revision`
    assignments without Alembic (the same files Alembic reads; a test keeps the two equal)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target: ast.expr
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                target, expression = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, expression = node.targets[0], node.value
            else:
                continue
            if not isinstance(target, ast.Name) or target.id not in ("revision", "down_revision"):
                continue
            value = ast.literal_eval(expression)
            if target.id == "revision":
                revisions.add(value)
            elif target.id == "down_revision" and value is not None:
                parents.update([value] if isinstance(value, str) else value)
    return frozenset(revisions - parents)


async def _at_head(connection: AsyncConnection) -> bool:
    """Whether the database records exactly the head revisions (no Alembic needed to know)."""
    try:
        async with connection.begin_nested() if connection.in_transaction() else connection.begin():
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            recorded = {row[0] for row in rows}
    except DBAPIError:
        return False  # no version table yet: a new database
    return recorded == _heads_named_in_files()


def _current_revisions(connection: Connection) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())


# The SQLite full-text index (an FTS5 virtual table and its shadow tables) is written by hand in
# migration 0003; no model can describe it, so schema comparisons look past it.
HAND_WRITTEN_TABLE_PREFIXES = ("library_search",)


def include_object(
    _object: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's filter for autogenerate and for the models-match-migrations test."""
    hand_written = (
        type_ == "table"
        and reflected
        and compare_to is None
        and name is not None
        and name.startswith(HAND_WRITTEN_TABLE_PREFIXES)
    )
    return not hand_written


def _pending(connection: Connection) -> list[str]:
    script = _script()
    current = _current_revisions(connection)
    known = {rev.revision for rev in script.walk_revisions()}
    ahead = current - known
    if ahead:
        raise StartupError(
            f"The database is at migration {', '.join(sorted(ahead))}, which this version of "
            "pln-bot does not know: it was migrated by a newer version. Upgrade pln-bot, or "
            "restore a backup made before that upgrade."
        )
    applied: set[str] = set()
    for revision in current:
        applied.update(rev.revision for rev in script.iterate_revisions(revision, "base"))
    pending = [rev.revision for rev in script.walk_revisions() if rev.revision not in applied]
    return list(reversed(pending))


async def pending_migrations(engine: AsyncEngine) -> list[str]:
    """Migrations not yet applied, oldest first; raises if the database is ahead of the code."""
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is not None and not await asyncio.to_thread(path.exists):
        # Checking must not create the file: a start that fails later leaves nothing behind.
        return [rev.revision for rev in reversed(list(_script().walk_revisions()))]
    async with _connect(engine) as connection:
        if await _at_head(connection):
            return []
        return await connection.run_sync(_pending)


async def migrate_to_head(engine: AsyncEngine) -> list[str]:
    """Apply every pending migration in one transaction; returns what was applied."""

    def upgrade(connection: Connection) -> list[str]:
        from alembic import command

        pending = _pending(connection)
        if pending:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
        return pending

    async with _connect(engine) as connection:
        if await _at_head(connection):
            return []
        applied = await connection.run_sync(upgrade)
        await connection.commit()
    return applied


@asynccontextmanager
async def _connect(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """`engine.connect()` that turns "cannot reach the database" into a readable StartupError."""
    try:
        connection = await engine.connect()
    except (OperationalError, DBAPIError, OSError, TimeoutError) as exc:
        raise StartupError(_unreachable(engine, exc)) from exc
    try:
        yield connection
    finally:
        await connection.close()


def _unreachable(engine: AsyncEngine, exc: BaseException) -> str:
    where = engine.url.render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    path = sqlite_path(where)
    if path is not None:
        problem = file_problem(path)
        why = f" ({problem})" if problem else ""
        return (
            f"Cannot open the SQLite database {path}: {reason}{why}. Check [database] url in "
            "the config (or PLNBOT_DATABASE_URL) and that plnbot may write there."
        )
    return (
        f"Cannot reach the database at {where}: {reason}. Check [database] url in the config "
        "(or PLNBOT_DATABASE_URL) and that the database server is running."
    )


# --- backups ----------------------------------------------------------------------------------


def backup_sqlite(database_url: str, destination: Path) -> int:
    """Copy a live SQLite database with the online backup API; returns the pages copied."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise StartupError(
            "plnbot backup copies the embedded SQLite database. For PostgreSQL use pg_dump, "
            "e.g. `pg_dump --format=custom --file pln.dump DATABASE`."
        )
    source_path = Path(parsed.database)
    if not source_path.exists():
        raise StartupError(f"There is no database at {source_path} to back up.")
    fix = "Choose a backup path in a folder plnbot may write."
    ensure_folder(destination.parent, purpose="the backup", fix=fix)
    if destination.exists():
        raise StartupError(f"{destination} already exists; choose a new file name.")
    problem = file_problem(destination)
    if problem is not None:
        raise StartupError(f"Cannot write the backup {destination}: {problem}. {fix}")
    copied = 0

    def progress(_status: int, _remaining: int, total: int) -> None:
        nonlocal copied
        copied = total

    try:
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StartupError(f"Cannot read the database {source_path}: {exc}.") from exc
    try:
        target = sqlite3.connect(destination)
        try:
            # Small steps let the running bot keep writing between them.
            source.backup(target, pages=256, progress=progress, sleep=0.005)
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise StartupError(f"Cannot write the backup {destination}: {exc}. {fix}") from exc
    except OSError as exc:
        reason = explain(exc, destination)
        raise StartupError(f"Cannot write the backup {destination}: {reason}. {fix}") from exc
    finally:
        source.close()
    return copied
