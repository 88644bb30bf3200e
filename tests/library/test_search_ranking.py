"""SQLite's two ways to score one word (bm25, or its term-frequency part when the word is very
common) must rank alike; and the choice between them depends only on cost."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.clock import FakeClock
from bot.database import create_engine, create_session_factory, migrate_to_head
from bot.library import search
from bot.library.search import (
    SQLITE_BM25,
    SQLITE_TERM_FREQUENCY,
    fts5_match,
    parse_query,
    sqlite_ranks_by_term_frequency,
)
from bot.library.service import LibraryService

GUILD = 7


async def test_term_frequency_scoring_ranks_one_word_as_bm25_does(
    sqlite_url: str, clock: FakeClock
) -> None:
    engine = create_engine(sqlite_url)
    await migrate_to_head(engine)
    library = LibraryService(create_session_factory(engine), clock)
    rng = random.Random(5)
    filler = ["pizza", "fractions", "games", "reading", "science", "maker", "lab", "notes"]
    for number in range(60):
        clock.advance(timedelta(minutes=1))
        words = rng.choices(filler, k=rng.randint(1, 12)) + ["math"] * rng.randint(1, 4)
        rng.shuffle(words)
        await library.share(GUILD, 1, 2, f"https://{number}.example/", title=" ".join(words))
    parameters = {"match": fts5_match(parse_query("math")), "floor": 0}
    async with engine.connect() as connection:
        by_bm25 = (await connection.execute(text(SQLITE_BM25), parameters)).all()
        by_frequency = (await connection.execute(text(SQLITE_TERM_FREQUENCY), parameters)).all()
    await engine.dispose()
    assert len(by_bm25) == len(by_frequency) == 60

    def top(rows: list[tuple[int, float]]) -> set[int]:
        return {rid for rid, _ in sorted(rows, key=lambda row: (-row[1], -row[0]))[:10]}

    # bm25 counts length in tokens, the other in characters, so near-ties may swap: the top tens
    # nearly agree, and so does nearly every pair of resources.
    assert len(top(by_bm25) & top(by_frequency)) >= 8
    bm25 = dict(by_bm25)
    pairs = [(bm25[rid], score) for rid, score in by_frequency]
    agreeing = sum((a[0] - b[0]) * (a[1] - b[1]) >= 0 for a in pairs for b in pairs if a is not b)
    assert agreeing / (len(pairs) * (len(pairs) - 1)) > 0.9


def test_term_frequency_scoring_is_chosen_for_one_very_common_word_only() -> None:
    one, two = parse_query("math"), parse_query("math games")
    # 2,000 newest matches within the newest 2,500 of 10^6 rows: ~800,000 matches in all.
    assert sqlite_ranks_by_term_frequency(one, 997_500, 1_000_000, 2000)
    assert not sqlite_ranks_by_term_frequency(two, 997_500, 1_000_000, 2000)  # IDF matters
    # Spread over the newest 100,000 rows: ~20,000 matches, which bm25 counts quickly.
    assert not sqlite_ranks_by_term_frequency(one, 900_000, 1_000_000, 2000)
    assert not sqlite_ranks_by_term_frequency(one, None, 1_000_000, 2000)  # fewer than 2,000


@pytest.mark.postgres
async def test_a_postgres_prefix_search_ranks_the_newest_window_and_looks_back_when_it_is_thin(
    postgres_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A window of the 10 newest resources stands in for the real 20,000.
    monkeypatch.setattr(search, "POSTGRES_PREFIX_WINDOW", 10)
    engine = create_engine(postgres_url)
    await migrate_to_head(engine)
    library = LibraryService(create_session_factory(engine), clock)
    # The old ones match `gun*` four times each, so they would rank first if they were candidates.
    titles = ["gundam gunpla gunbuster gundam"] * 4 + ["reading notes"] * 20 + ["gunnar maths"] * 5
    ids: dict[str, list[int]] = {}
    for number, title in enumerate(titles):
        clock.advance(timedelta(minutes=1))
        shared = await library.share(GUILD, 1, 2, f"https://{number}.example/", title=title)
        ids.setdefault(title.split()[0], []).append(shared.resource.id)
    clock.advance(timedelta(minutes=1))

    async def found(query: str, limit: int) -> set[int]:
        return {r.id for r in await library.search(GUILD, query, limit=limit)}

    try:
        # A page of 3 fills from the window: the old gundam posts are not candidates.
        assert await found("gun*", 3) <= set(ids["gunnar"])
        assert len(await found("gun*", 3)) == 3
        # A page of 50 does not: the search looks further back and finds every match.
        assert await found("gun*", 50) == set(ids["gunnar"] + ids["gundam"])
        # A prefix only old resources match is found, however many newer ones there are.
        assert len(await found("gund*", 3)) == 3
        assert await found("gund*", 50) == set(ids["gundam"])
        # Whole words are not windowed.
        assert await found("gundam", 50) == set(ids["gundam"])
    finally:
        await engine.dispose()
