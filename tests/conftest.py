"""Shared fixtures: real databases (temp SQLite, PostgreSQL when configured) and a clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from support.cli import PlnbotCommand, run_plnbot

from bot.clock import FakeClock
from bot.database import SessionFactory, create_engine, create_session_factory, migrate_to_head

# The end-to-end world (emulator, make_world) for every feature's stories.
pytest_plugins = ("support.world",)

POSTGRES_ENV = "PLNBOT_TEST_POSTGRES_URL"
# A Monday at noon UTC, far from DST changes, so tests that do not care about dates stay simple.
DEFAULT_NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def postgres_server_url() -> str:
    """The configured PostgreSQL server, or skip (fail in CI, where it must run)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        reason = (
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+asyncpg://root@127.0.0.1/test)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run them")
        pytest.skip(reason)
    return url


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_postgres_database() -> str:
    """A fresh, empty database on the test server; returns its SQLAlchemy URL."""
    server = make_url(postgres_server_url())
    name = f"plnbot_test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(_asyncpg_dsn(server.render_as_string(hide_password=False)))
    try:
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    finally:
        await connection.close()
    return server.set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(url: str) -> None:
    target = make_url(url)
    server = target.set(database=make_url(postgres_server_url()).database)
    connection = await asyncpg.connect(_asyncpg_dsn(server.render_as_string(hide_password=False)))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture
def plnbot() -> PlnbotCommand:
    return run_plnbot


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/pln.db"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    url = await create_postgres_database()
    yield url
    await drop_postgres_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> AsyncIterator[str]:
    """An empty database on each backend: every service test runs on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_url
        return
    url = await create_postgres_database()
    yield url
    await drop_postgres_database(url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated database."""
    engine = create_engine(database_url)
    await migrate_to_head(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return create_session_factory(engine)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(DEFAULT_NOW)
