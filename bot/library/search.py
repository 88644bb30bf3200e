"""Full-text search per backend: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

Member input never reaches the query syntax: it is cut into words (letters and digits), each
quoted (FTS5) or passed as a plain lexeme (tsquery); a trailing `*` asks for a prefix. Only the
newest `candidates` matches are ranked, so a very common word costs the same as a rare one.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    column,
    exists,
    func,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot import sqlite_driver
from bot.errors import UserFacingError
from bot.library.models import LibraryResource, LibraryShare, LibraryTag
from bot.sqlite_driver import run_in_thread

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

MAX_QUERY_WORDS = 8
_WORD = re.compile(r"([^\W_]+)(\*?)")
# Relevance counts most; an old resource keeps at least half its score (half-life 180 days).
RECENCY_HALF_LIFE_DAYS = 180.0
# Days since 1970 of the stored (naive UTC) timestamp, as a float: no datetime objects per row.
SQLITE_EPOCH_DAYS = "(julianday(library_resources.first_shared_at) - 2440587.5)"


# The rowid where the guild's newest `candidates` matches end (NULL if it has fewer), and the
# newest rowid of all: how densely the words occur among recent resources.
SQLITE_FLOOR = (
    "SELECT (SELECT library_search.rowid FROM library_search "
    "JOIN library_resources ON library_resources.id = library_search.rowid "
    "WHERE library_search MATCH :match AND library_resources.guild_id = :guild "
    "ORDER BY library_search.rowid DESC LIMIT 1 OFFSET :offset), "
    "(SELECT max(id) FROM library_resources)"
)
# The candidates with their relevance (higher is better). bm25 is negative, hence the minus.
SQLITE_BM25 = (
    "SELECT rowid AS rid, -bm25(library_search, 0.0, 1.0) AS score FROM library_search "
    "WHERE library_search MATCH :match AND rowid >= :floor"
)
# BM25's term-frequency part (k1 = 1.2, b = 0.75; length in characters), with the word's
# occurrences counted by highlight(), which marks each with one character.
SQLITE_TERM_FREQUENCY = (
    "SELECT rid, tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * size / avg(size) OVER ())) AS score "
    "FROM (SELECT rowid AS rid, length(search_text) AS size, "
    "length(highlight(library_search, 1, char(1), '')) - length(search_text) AS tf "
    "FROM library_search WHERE library_search MATCH :match AND rowid >= :floor)"
)
# bm25 first counts every match of each word, for its IDF, which is slow for a word most of the
# library contains. The term-frequency score costs more per candidate (highlight() reads and
# tokenizes the text) but nothing per match. Past this many estimated matches it is the cheaper
# of the two (docs/library.md has the figures); a wrong estimate costs time, never a different
# order.
BM25_MATCHES_LIMIT = 100_000
# A prefix matches many words (`gun*`: gun, gunnar, gundam...), and on PostgreSQL each match
# costs a read of its row, so a prefix search ranks the matches among the newest this many
# resources, and looks further back only when those hold less than a page of results. At 10^6
# resources this took a common prefix from 96 ms to 14 ms (docs/library.md).
POSTGRES_PREFIX_WINDOW = 20_000


@dataclass(frozen=True)
class SearchFilters:
    guild_id: int
    query: str
    tag: str | None
    by: int | None
    since: datetime | None
    limit: int
    candidates: int
    now: datetime


@dataclass(frozen=True)
class QueryWord:
    word: str
    prefix: bool


def parse_query(query: str) -> list[QueryWord]:
    """Words from member input; every character FTS5 or tsquery would treat as syntax is dropped."""
    words: list[QueryWord] = []
    for match in _WORD.finditer(query.lower()):
        word = QueryWord(match.group(1), bool(match.group(2)))
        if word not in words:
            words.append(word)
    return words[:MAX_QUERY_WORDS]


def fts5_match(words: list[QueryWord]) -> str:
    """An FTS5 MATCH expression: rows containing every word (the guild is filtered by a join)."""
    return " AND ".join(f'"{w.word}"' + ("*" if w.prefix else "") for w in words)


def tsquery_text(words: list[QueryWord]) -> str:
    return " & ".join(w.word + (":*" if w.prefix else "") for w in words)


async def search_resource_ids(session: AsyncSession, filters: SearchFilters) -> list[int]:
    words = parse_query(filters.query)
    if not words:
        if filters.query.strip() and not (filters.tag or filters.by or filters.since):
            return []  # only punctuation was typed: nothing to find, and no error
        return await _newest(session, filters)
    if session.get_bind().dialect.name == "postgresql":
        return await _postgres_ranked(session, filters, words)
    return await _sqlite_ranked(session, filters, words)


def recency_sql(days_expression: str) -> str:
    """SQL for the recency factor: 1 for today, 3/4 at the half-life, towards 1/2 for old ones.

    Plain arithmetic (no pow/exp), so it runs the same on every SQLite build and PostgreSQL.
    """
    age = f"(CASE WHEN :today > {days_expression} THEN :today - {days_expression} ELSE 0 END)"
    return f"(0.5 + 0.5 / (1.0 + {age} / {RECENCY_HALF_LIFE_DAYS}))"


def _filter_clauses(filters: SearchFilters) -> list[ColumnElement[bool]]:
    """The filters as named parameters, so that one shape of filters is one statement (built
    once per shape, see `_sqlite_ranking`). Typed by their columns: a statement built from a
    shape's placeholder values must not take a snowflake for a 32-bit integer."""
    clauses: list[ColumnElement[bool]] = [
        LibraryResource.guild_id
        == bindparam("guild", filters.guild_id, type_=LibraryResource.guild_id.type),
        LibraryResource.deleted_at.is_(None),
    ]
    if filters.tag:
        clauses.append(
            exists().where(
                LibraryTag.resource_id == LibraryResource.id,
                LibraryTag.tag == bindparam("tag", filters.tag, type_=LibraryTag.tag.type),
            )
        )
    if filters.by is not None:
        clauses.append(
            exists().where(
                LibraryShare.resource_id == LibraryResource.id,
                LibraryShare.member_id
                == bindparam("by", filters.by, type_=LibraryShare.member_id.type),
            )
        )
    if filters.since is not None:
        since = bindparam("since", filters.since, type_=LibraryResource.first_shared_at.type)
        clauses.append(LibraryResource.first_shared_at >= since)
    return clauses


async def _newest(session: AsyncSession, filters: SearchFilters) -> list[int]:
    rows = await session.scalars(
        select(LibraryResource.id)
        .where(and_(*_filter_clauses(filters)))
        .order_by(LibraryResource.first_shared_at.desc(), LibraryResource.id.desc())
        .limit(filters.limit)
    )
    return list(rows)


async def _sqlite_ranked(
    session: AsyncSession, filters: SearchFilters, words: list[QueryWord]
) -> list[int]:
    """Both statements in one trip to SQLite's thread: the floor, then the ranking it picks."""
    # The guild's newest N matches end at the floor: FTS5 walks matches newest first and each is
    # checked against its guild by primary key (cheap when one guild holds most rows, still
    # correct for a small guild beside big ones; a guild token in MATCH would cost more).
    shape = _shape_of(filters)
    values = {
        "match": fts5_match(words),
        "guild": filters.guild_id,
        "offset": filters.candidates - 1,
        "tag": filters.tag,
        "by": filters.by,
        "since": filters.since,
        "today": _today(filters),
        "limit": filters.limit,
    }

    def rank(db: sqlite3.Connection) -> list[int]:
        floor, newest = db.execute(SQLITE_FLOOR, values).fetchone()
        by_frequency = sqlite_ranks_by_term_frequency(words, floor, newest, filters.candidates)
        ranking = _sqlite_ranking(by_frequency, *shape)
        rows = db.execute(ranking.sql, ranking.parameters(values | {"floor": floor or 0}))
        return [rid for (rid,) in rows]

    connection = await session.connection()
    return await run_in_thread(connection, rank, writer=False)


@functools.cache
def _sqlite_ranking(
    by_frequency: bool, tag: bool, by: bool, since: bool
) -> sqlite_driver.SQLiteStatement:
    """The ranking statement for one shape of filters, compiled once."""
    shape = _shape(tag, by, since)
    scoring = SQLITE_TERM_FREQUENCY if by_frequency else SQLITE_BM25
    matched = text(scoring).columns(column("rid"), column("score")).subquery("matched")
    rid: Any = matched.c.rid
    combined = text(f"(matched.score * {recency_sql(SQLITE_EPOCH_DAYS)}) DESC")
    statement = (
        select(LibraryResource.id)
        .join(matched, LibraryResource.id == rid)
        .where(and_(*_filter_clauses(shape)))
        .order_by(combined, LibraryResource.id.desc())
        .limit(bindparam("limit"))
    )
    keys = ("match", "floor", "guild", "tag", "by", "since", "today", "limit")
    return sqlite_driver.SQLiteStatement(statement, keys)


def sqlite_ranks_by_term_frequency(
    words: list[QueryWord], floor: int | None, newest: int | None, candidates: int
) -> bool:
    """Whether to score by term frequency instead of bm25: for one word only, whose IDF is then a
    constant factor that changes no order, and when that word is so common that bm25's count of
    its matches (estimated from how recent the floor is) would cost more than the scoring."""
    if len(words) != 1 or not floor or not newest:
        return False
    estimated_matches = candidates * newest / max(newest - floor, 1)
    return estimated_matches > BM25_MATCHES_LIMIT


async def _postgres_ranked(
    session: AsyncSession, filters: SearchFilters, words: list[QueryWord]
) -> list[int]:
    prefix = any(word.prefix for word in words)
    statement = _postgres_ranking(prefix, *_shape_of(filters))
    parameters = {
        "tsquery": tsquery_text(words),
        "today": _today(filters),
        "guild": filters.guild_id,
        "tag": filters.tag,
        "by": filters.by,
        "since": filters.since,
        "candidates": filters.candidates,
        "limit": filters.limit,
        "window": POSTGRES_PREFIX_WINDOW,
    }
    return list(await session.scalars(statement, parameters))


@functools.cache
def _postgres_ranking(prefix: bool, tag: bool, by: bool, since: bool) -> Select[int]:
    """The ranking statement for one shape of filters, built once."""
    tsquery: Any = text("to_tsquery('simple', :tsquery)")
    vector: Any = LibraryResource.search_vector
    # The candidates carry what ranking needs, so no row is read twice (a second read by primary
    # key cost as much as finding them: 2,000 more page reads on a big library).
    matching = (
        select(LibraryResource.id, vector, LibraryResource.first_shared_at)
        .where(and_(*_filter_clauses(_shape(tag, by, since))))
        .where(vector.op("@@")(tsquery))
    )
    newest_first = (LibraryResource.id.desc(),)
    candidates: Any
    if prefix:
        window_start = select(func.max(LibraryResource.id)).scalar_subquery() - bindparam("window")
        recent = (
            matching.where(LibraryResource.id > window_start)
            .order_by(*newest_first)
            .limit(bindparam("candidates"))
            .cte("recent")
        )
        # Run only when the window held too few: PostgreSQL skips a branch whose condition
        # on the materialised `recent` is false.
        too_few = select(func.count()).select_from(recent).scalar_subquery() < bindparam("limit")
        older = (
            matching.where(LibraryResource.id <= window_start, too_few)
            .order_by(*newest_first)
            .limit(bindparam("candidates"))
        )
        candidates = union_all(select(recent), older).subquery("candidates")
    else:
        candidates = (
            matching.order_by(*newest_first).limit(bindparam("candidates")).subquery("candidates")
        )
    # date_part is double precision; extract() would make every row's arithmetic numeric.
    days = "(date_part('epoch', candidates.first_shared_at) / 86400.0)"
    combined = text(
        "(ts_rank(candidates.search_vector, to_tsquery('simple', :tsquery))"
        f" * {recency_sql(days)}) DESC"
    )
    candidate_id: Any = candidates.c.id
    return select(candidate_id).order_by(combined, candidate_id.desc()).limit(bindparam("limit"))


def _shape_of(filters: SearchFilters) -> tuple[bool, bool, bool]:
    """Which filters are set: the statements are built once per shape."""
    return bool(filters.tag), filters.by is not None, filters.since is not None


def _shape(tag: bool, by: bool, since: bool) -> SearchFilters:
    """Filters of this shape, for building its statement (the values come at execution)."""
    return SearchFilters(
        0, "", "t" if tag else None, 0 if by else None, _EPOCH if since else None, 0, 0, _EPOCH
    )


def _today(filters: SearchFilters) -> float:
    return filters.now.timestamp() / 86400


_SINCE = re.compile(r"^\s*(\d{1,4})\s*(d|day|days|w|week|weeks|m|month|months|y|year|years)\s*$")
_SINCE_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def parse_since(text: str, now: datetime) -> datetime:
    """`7d`, `2w`, `3m`, `1y` ago, or a date `2026-01-31` (UTC); friendly error otherwise."""
    match = _SINCE.match(text.lower())
    if match:
        days = int(match.group(1)) * _SINCE_DAYS[match.group(2)[0]]
        return now - timedelta(days=min(days, 36500))
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise UserFacingError(
            "`since` takes a period like `7d`, `2w`, `3m`, `1y`, or a date like `2026-01-31`."
        ) from None
