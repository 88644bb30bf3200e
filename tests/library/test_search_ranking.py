"""SQLite's two ways to score one word (bm25, or its term-frequency part when the word is very
common) must rank alike; and the choice between them depends only on cost."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import text

from bot.clock import FakeClock
from bot.database import create_engine, create_session_factory, migrate_to_head
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
