"""Shared by the benchmarks (not one itself): a throw-away PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url

from bot.database import create_engine


@asynccontextmanager
async def fresh_postgres(server_url: str) -> AsyncIterator[str]:
    """The URL of a new, empty database on the server of `server_url`, dropped afterwards, so a
    benchmark never meets what an earlier run (or a test) left behind."""
    server = make_url(server_url)
    name = f"plnbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url)
    try:
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()
