"""Shared by bench/library.py (not a benchmark itself): the floors, the same statements the
library service sends, replayed on plain sqlite3 or asyncpg."""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.engine import make_url

from bot.database import SQLITE_MMAP_BYTES, create_engine
from bot.library._store import _VIEWS_OF, NewShare, _new_link_postgresql
from bot.library._store import _write_new_sqlite as write_new_sqlite
from bot.library.search import (
    POSTGRES_PREFIX_WINDOW,
    SQLITE_BM25,
    SQLITE_EPOCH_DAYS,
    SQLITE_FLOOR,
    SQLITE_TERM_FREQUENCY,
    _postgres_ranking,
    fts5_match,
    parse_query,
    recency_sql,
    sqlite_ranks_by_term_frequency,
    tsquery_text,
)
from bot.library.service import TAGS_STARTING_WITH, TOP_CHARACTER, search_text_for

GUILD = 1
START = datetime(2024, 1, 1, tzinfo=UTC)


def views_statement(dialect: Any, ids: list[int]) -> tuple[str, list[object]]:
    """The statement that loads the results for display, as the service sends it for `ids`."""
    state = _VIEWS_OF.compile(dialect=dialect).construct_expanded_state(
        {"guild_id": GUILD, "ids": ids}
    )
    return state.statement, list(state.positional_parameters)


def raw_floor(path: Path, queries: list[str], candidates: int, today: float) -> list[float]:
    """The statements the service runs for each query, in plain sqlite3 (ms): the two FTS5
    ones, then the results loaded for display; on one connection, as the bot's are pooled."""
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")  # as the bot's connections read
    samples: list[float] = []
    try:
        for query in queries:
            words = parse_query(query)
            match = fts5_match(words)
            started = time.perf_counter()
            parameters = {"match": match, "guild": GUILD, "offset": candidates - 1}
            floor, newest = db.execute(SQLITE_FLOOR, parameters).fetchone()
            scoring = SQLITE_BM25
            if sqlite_ranks_by_term_frequency(words, floor, newest, candidates):
                scoring = SQLITE_TERM_FREQUENCY
            ids = db.execute(
                f"SELECT library_resources.id FROM library_resources JOIN ({scoring}) AS matched "
                "ON library_resources.id = matched.rid "
                "WHERE library_resources.guild_id = :guild "
                "AND library_resources.deleted_at IS NULL "
                f"ORDER BY (matched.score * {recency_sql(SQLITE_EPOCH_DAYS)}) DESC, "
                "library_resources.id DESC LIMIT 50",
                parameters | {"floor": floor or 0, "today": today},
            ).fetchall()
            elapsed = time.perf_counter() - started
            if ids:
                sql, values = views_statement(sqlite_dialect(), [rid for (rid,) in ids])
                started = time.perf_counter()
                db.execute(sql, values).fetchall()
                elapsed += time.perf_counter() - started
            samples.append(elapsed * 1000)
    finally:
        db.close()
    return samples


async def postgres_floor(
    url: str, queries: list[str], candidates: int, today: float
) -> list[float]:
    """The statements the service sends for each query (the ranking, then the results loaded
    for display), replayed on plain asyncpg (ms), planned per run as the bot's sessions plan
    it."""
    import asyncpg  # type: ignore[import-untyped]  # the postgres extra

    engine = create_engine(url)
    dialect = engine.dialect
    await engine.dispose()
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    samples: list[float] = []
    try:
        await connection.execute("SET plan_cache_mode = force_custom_plan")
        for query in queries:
            words = parse_query(query)
            statement = _postgres_ranking(any(w.prefix for w in words), False, False, False)
            compiled = statement.compile(dialect=dialect)
            given = {
                "tsquery": tsquery_text(words),
                "today": today,
                "guild": GUILD,
                "candidates": candidates,
                "limit": 50,
                "window": POSTGRES_PREFIX_WINDOW,
            }
            every = compiled.construct_params(given)
            values = [every[name] for name in compiled.positiontup or []]
            started = time.perf_counter()
            ids = [rid for (rid,) in await connection.fetch(str(compiled), *values)]
            elapsed = time.perf_counter() - started
            if ids:
                sql, view_values = views_statement(dialect, ids)
                started = time.perf_counter()
                await connection.fetch(sql, *view_values)
                elapsed += time.perf_counter() - started
            samples.append(elapsed * 1000)
    finally:
        await connection.close()
    return samples


async def autocomplete_floor(url: str, path: Path | None, prefixes: list[str]) -> list[float]:
    """The autocomplete statement the service sends, replayed on plain sqlite3 or asyncpg (ms)."""
    engine = create_engine(url)
    compiled = TAGS_STARTING_WITH.statement.compile(dialect=engine.dialect)
    await engine.dispose()
    samples: list[float] = []

    def values(prefix: str) -> list[object]:
        given = {"guild_id": GUILD, "low": prefix, "high": prefix + TOP_CHARACTER, "limit": 25}
        every = compiled.construct_params(given)  # with the statement's own literals
        return [every[name] for name in compiled.positiontup or []]

    if path is not None:
        db = sqlite3.connect(path)
        try:
            for prefix in prefixes:
                given = values(prefix)
                started = time.perf_counter()
                db.execute(str(compiled), given).fetchall()
                samples.append((time.perf_counter() - started) * 1000)
        finally:
            db.close()
        return samples
    import asyncpg  # type: ignore[import-untyped]  # the postgres extra

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        for prefix in prefixes:
            given = values(prefix)
            started = time.perf_counter()
            await connection.fetch(str(compiled), *given)
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        await connection.close()
    return samples


def uncapped(path: Path, query: str) -> float:
    db = sqlite3.connect(path)
    try:
        match = fts5_match(parse_query(query))
        started = time.perf_counter()
        db.execute(
            "SELECT rowid FROM library_search WHERE library_search MATCH ? "
            "ORDER BY bm25(library_search, 0.0, 1.0) LIMIT 50",
            (match,),
        ).fetchall()
        return (time.perf_counter() - started) * 1000
    finally:
        db.close()


def ingest_floor(
    path: Path, words: list[str], tags: list[str], rng: random.Random, *, prefix: str
) -> float:
    """The statements a new share writes (resource, tags, first share, commit), each share its
    own transaction, on plain sqlite3 with the bot's pragmas: shares per second."""
    db = sqlite3.connect(path, isolation_level="DEFERRED")
    db.execute("PRAGMA synchronous=NORMAL")
    started = time.perf_counter()
    count = 1000
    for n in range(count):
        title = " ".join(rng.choices(words[:5000], k=6))
        chosen = sorted(set(rng.sample(tags[:50], 2)))
        when = START + timedelta(days=701)
        url = f"{prefix}/{n}"
        values = {
            "guild_id": GUILD,
            "canonical_url": url,
            "url": url,
            "domain": prefix.removeprefix("https://"),
            "title": title,
            "title_source": "member",
            "note": None,
            "first_sharer_id": 42,
            "first_shared_at": when,
            "search_text": search_text_for(title, [None], url, chosen),
        }
        share = NewShare(42, False, 5, None, None, "command", when)
        write_new_sqlite(values, chosen, share, db, commit=True)
    rate = count / (time.perf_counter() - started)
    db.close()
    return rate


async def postgres_ingest_floor(
    url: str, words: list[str], tags: list[str], rng: random.Random, *, prefix: str
) -> float:
    """The statement a new share sends on PostgreSQL (resource, tags and first share in one),
    each share its own transaction, on plain asyncpg: shares per second."""
    import asyncpg  # type: ignore[import-untyped]  # the postgres extra

    engine = create_engine(url)
    compiled = _new_link_postgresql().compile(dialect=engine.dialect)
    await engine.dispose()
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    count = 1000
    try:
        statement = await connection.prepare(str(compiled))
        started = time.perf_counter()
        for n in range(count):
            title = " ".join(rng.choices(words[:5000], k=6))
            chosen = sorted(set(rng.sample(tags[:50], 2)))
            link = f"{prefix}/{n}"
            text = search_text_for(title, [None], link, chosen)
            given = {
                "guild_id": GUILD,
                "canonical_url": link,
                "url": link,
                "domain": prefix.removeprefix("https://"),
                "title": title,
                "title_source": "member",
                "note": None,
                "first_sharer_id": 42,
                "first_shared_at": START + timedelta(days=701),
                "search_text": text,
                "vector_text": text,
                "tags": chosen,
                "member_is_bot": False,
                "channel_id": 5,
                "message_id": None,
                "source": "command",
            }
            every = compiled.construct_params(given)
            async with connection.transaction():
                await statement.fetch(*[every[name] for name in compiled.positiontup or []])
        rate = count / (time.perf_counter() - started)
    finally:
        await connection.close()
    return rate
