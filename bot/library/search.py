"""Full-text search per backend: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

Member input never reaches the query syntax: it is cut into words (letters and digits), each
quoted (FTS5) or passed as a plain lexeme (tsquery); a trailing `*` asks for a prefix. Only the
newest `candidates` matches are ranked, so a very common word costs the same as a rare one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, literal_column, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserFacingError
from bot.models.library import LibraryResource, LibraryShare, LibraryTag

MAX_QUERY_WORDS = 8
_WORD = re.compile(r"([^\W_]+)(\*?)")
# Relevance counts most; an old resource keeps at least half its score (half-life 180 days).
RECENCY_HALF_LIFE_DAYS = 180.0
# Days since 1970 of the stored (naive UTC) timestamp, as a float: no datetime objects per row.
SQLITE_EPOCH_DAYS = "(julianday(library_resources.first_shared_at) - 2440587.5)"


SQLITE_FLOOR = (
    "SELECT library_search.rowid FROM library_search "
    "JOIN library_resources ON library_resources.id = library_search.rowid "
    "WHERE library_search MATCH :match AND library_resources.guild_id = :guild "
    "ORDER BY library_search.rowid DESC LIMIT 1 OFFSET :offset"
)
SQLITE_BM25 = "bm25(library_search, 0.0, 1.0)"


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
    clauses: list[ColumnElement[bool]] = [
        LibraryResource.guild_id == filters.guild_id,
        LibraryResource.deleted_at.is_(None),
    ]
    if filters.tag:
        clauses.append(
            exists().where(
                LibraryTag.resource_id == LibraryResource.id, LibraryTag.tag == filters.tag
            )
        )
    if filters.by is not None:
        clauses.append(
            exists().where(
                LibraryShare.resource_id == LibraryResource.id,
                LibraryShare.member_id == filters.by,
            )
        )
    if filters.since is not None:
        clauses.append(LibraryResource.first_shared_at >= filters.since)
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
    match = fts5_match(words)
    # The guild's newest N matches end at the rowid SQLITE_FLOOR finds: FTS5 walks matches
    # newest first and each is checked against its guild by primary key (cheap when one guild
    # holds most rows, still correct for a small guild beside big ones; a guild token in MATCH
    # would cost more). It runs once, as a scalar subquery, inside the ranking statement.
    matched = (
        select(
            literal_column("library_search.rowid").label("rid"),
            literal_column(SQLITE_BM25).label("score"),
        )
        .select_from(table("library_search"))
        .where(text("library_search MATCH :match"))
        .where(text(f"library_search.rowid >= coalesce(({SQLITE_FLOOR}), 0)"))
        .subquery("matched")
    )
    rid: Any = matched.c.rid
    # bm25 is negative (better matches more negative): negate, then weigh by recency.
    combined = text(f"(-matched.score * {recency_sql(SQLITE_EPOCH_DAYS)}) DESC")
    statement = (
        select(LibraryResource.id)
        .join(matched, LibraryResource.id == rid)
        .where(and_(*_filter_clauses(filters)))
        .order_by(combined, LibraryResource.id.desc())
        .limit(filters.limit)
    )
    parameters = {
        "match": match,
        "guild": filters.guild_id,
        "offset": filters.candidates - 1,
        "today": _today(filters),
    }
    return list(await session.scalars(statement, parameters))


async def _postgres_ranked(
    session: AsyncSession, filters: SearchFilters, words: list[QueryWord]
) -> list[int]:
    # A cached generic plan cannot know how common the words are and picks a full bitmap scan
    # (45-90 ms for very common words at 10^5 rows instead of ~5 ms): plan each search anew.
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    tsquery: Any = text("to_tsquery('simple', :tsquery)")
    vector: Any = LibraryResource.search_vector
    candidates = (
        select(LibraryResource.id)
        .where(and_(*_filter_clauses(filters)))
        .where(vector.op("@@")(tsquery))
        .order_by(LibraryResource.id.desc())
        .limit(filters.candidates)
        .scalar_subquery()
    )
    days = "(extract(epoch FROM library_resources.first_shared_at) / 86400.0)"
    combined = text(
        "(ts_rank(library_resources.search_vector, to_tsquery('simple', :tsquery))"
        f" * {recency_sql(days)}) DESC"
    )
    statement = (
        select(LibraryResource.id)
        .where(LibraryResource.id.in_(candidates))
        .order_by(combined, LibraryResource.id.desc())
        .limit(filters.limit)
    )
    parameters = {"tsquery": tsquery_text(words), "today": _today(filters)}
    return list(await session.scalars(statement, parameters))


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
