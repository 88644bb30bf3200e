"""Library benchmark: search, tag autocomplete and share ingest on big libraries.

    .venv/bin/python bench/library.py --sizes 10000 100000
    .venv/bin/python bench/library.py --sizes 10000 --postgres-url postgresql+asyncpg://root@127.0.0.1/test

Builds a library per size with Zipf-distributed words (titles, notes, tags), then prints, in one
run, the service-level figures (LibraryService.search through SQLAlchemy, p50/p99) next to the
raw floor (the same statements on plain sqlite3 or asyncpg: the ranking, then the results
loaded for display), tag autocomplete p99, and the ingest
rate of /share-style writes (each share its own transaction) with commit p99.
Targets at 10^6: every search class p99 <= 50 ms, autocomplete p99 <= 20 ms, ingest >= 500/s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import multiprocessing
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _fresh import fresh_postgres
from _library_floors import (
    GUILD,
    START,
    autocomplete_floor,
    ingest_floor,
    postgres_floor,
    postgres_ingest_floor,
    raw_floor,
    uncapped,
)
from sqlalchemy.engine import make_url

from bot.clock import FakeClock
from bot.database import create_engine, create_session_factory, migrate_to_head
from bot.library.service import LibraryService, search_text_for

VOCABULARY = 30_000
TAGS = 300
SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["th", "ch", "sh", "qu"]


def make_words(rng: random.Random, count: int) -> list[str]:
    seen: set[str] = set()
    words: list[str] = []
    while len(words) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class Zipf:
    def __init__(self, items: list[str], s: float, rng: random.Random) -> None:
        self.items = items
        self.cum = list(itertools.accumulate(1 / (rank**s) for rank in range(1, len(items) + 1)))
        self.rng = rng

    def sample(self, k: int) -> list[str]:
        return self.rng.choices(self.items, cum_weights=self.cum, k=k)


Row = tuple[object, ...]
Batch = tuple[list[Row], list[Row], list[Row]]


def generate(size: int, rng: random.Random) -> tuple[list[str], list[str], Iterator[Batch]]:
    """The vocabulary, the tags, and batches of (resources, shares, tags) rows."""
    words = make_words(rng, VOCABULARY)
    tags = make_words(rng, TAGS)
    word_dist, tag_dist = Zipf(words, 1.07, rng), Zipf(tags, 1.2, rng)
    step = timedelta(days=700) / size

    def batches() -> Iterator[Batch]:
        resources: list[Row] = []
        shares: list[Row] = []
        tag_rows: list[Row] = []
        for rid in range(1, size + 1):
            title = " ".join(word_dist.sample(rng.randint(4, 10)))
            note = " ".join(word_dist.sample(rng.randint(0, 20))) or None
            chosen = sorted(set(tag_dist.sample(rng.randint(0, 4))))
            domain = f"{rng.choice(words[:2000])}.example"
            url = f"https://{domain}/{'/'.join(word_dist.sample(2))}/{rid}"
            when = START + step * rid
            member = rng.randint(1, 500)
            text = search_text_for(title, [note], url, chosen)
            resources.append((rid, GUILD, url, url, domain, title, note, member, when, text))
            shares.append((GUILD, rid, member, rid * 10, when))
            tag_rows.extend((rid, tag, GUILD) for tag in chosen)
            if len(resources) >= 5000 or rid == size:
                yield resources, shares, tag_rows
                resources, shares, tag_rows = [], [], []

    return words, tags, batches()


def _sqlite_time(row: Row, index: int) -> Row:
    when = row[index]
    assert isinstance(when, datetime)
    return (*row[:index], when.strftime("%Y-%m-%d %H:%M:%S.%f"), *row[index + 1 :])


def build_sqlite(path: Path, size: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """Fill a migrated SQLite database quickly (raw inserts; the FTS and tag-count triggers run)."""
    words, tags, batches = generate(size, rng)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute(
        "INSERT INTO guilds (id, name, timezone, joined_at) VALUES (?, 'bench', 'UTC', ?)",
        (GUILD, "2024-01-01 00:00:00.000000"),
    )
    for resources, shares, tag_rows in batches:
        db.executemany(
            "INSERT INTO library_resources (id, guild_id, canonical_url, url, domain, title, "
            "title_source, note, first_sharer_id, first_shared_at, search_text) "
            "VALUES (?, ?, ?, ?, ?, ?, 'member', ?, ?, ?, ?)",
            [_sqlite_time(r, 8) for r in resources],
        )
        db.executemany(
            "INSERT INTO library_shares (guild_id, resource_id, member_id, member_is_bot, "
            "channel_id, message_id, source, shared_at) VALUES (?, ?, ?, 0, 5, ?, 'command', ?)",
            [_sqlite_time(r, 4) for r in shares],
        )
        db.executemany(
            "INSERT OR IGNORE INTO library_tags (resource_id, tag, guild_id) VALUES (?, ?, ?)",
            tag_rows,
        )
    db.commit()
    db.execute("INSERT INTO library_search(library_search) VALUES ('optimize')")
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return words, tags


async def build_postgres(url: str, size: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """Fill a migrated PostgreSQL database with COPY, then compute the tsvectors in one UPDATE."""
    import asyncpg  # type: ignore[import-untyped]  # the postgres extra

    words, tags, batches = generate(size, rng)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    db = await asyncpg.connect(dsn)
    try:
        await db.execute(
            "INSERT INTO guilds (id, name, timezone, joined_at) VALUES ($1, 'bench', 'UTC', $2)",
            GUILD,
            START,
        )
        for resources, shares, tag_rows in batches:
            await db.copy_records_to_table(
                "library_resources",
                records=[(*r, "member") for r in resources],
                columns=[
                    "id",
                    "guild_id",
                    "canonical_url",
                    "url",
                    "domain",
                    "title",
                    "note",
                    "first_sharer_id",
                    "first_shared_at",
                    "search_text",
                    "title_source",
                ],
            )
            await db.copy_records_to_table(
                "library_shares",
                records=[(*r, False, 5, "command") for r in shares],
                columns=[
                    "guild_id",
                    "resource_id",
                    "member_id",
                    "message_id",
                    "shared_at",
                    "member_is_bot",
                    "channel_id",
                    "source",
                ],
            )
            await db.copy_records_to_table(
                "library_tags", records=tag_rows, columns=["resource_id", "tag", "guild_id"]
            )
        await db.execute(
            "UPDATE library_resources SET search_vector = to_tsvector('simple', search_text)"
        )
        await db.execute(
            "SELECT setval(pg_get_serial_sequence('library_resources', 'id'), $1)", size
        )
        # The UPDATE left every row's old version behind, doubling the table; a library the bot
        # filled share by share has no such bloat (its vector is written with the row).
        await db.execute("VACUUM FULL library_resources")
        await db.execute("VACUUM ANALYZE")
    finally:
        await db.close()
    return words, tags


def query_classes(words: list[str], rng: random.Random) -> dict[str, list[str]]:
    def pick(lo: int, hi: int, n: int = 100) -> list[str]:
        return [words[rng.randint(lo, hi)] for _ in range(n)]

    return {
        "rare (rank 5k-20k)": pick(5000, 20000),
        "mid (rank 300-1k)": pick(300, 1000),
        "common (rank 20-50)": pick(20, 50),
        "very common (top 3)": pick(0, 2),
        "two words": [f"{a} {b}" for a, b in zip(pick(20, 200), pick(100, 2000), strict=True)],
        "prefix (3 letters*)": [w[:3] + "*" for w in pick(0, 500)],
    }


def percentile(samples: list[float], pct: float) -> float:
    """Nearest rank: of 100 samples, p99 is the 99th (not the worst), p50 the 50th."""
    ordered = sorted(samples)
    return ordered[max(math.ceil(len(ordered) * pct / 100) - 1, 0)]


async def timed(run: Callable[[], Awaitable[object]], samples: list[float]) -> None:
    started = time.perf_counter()
    await run()
    samples.append((time.perf_counter() - started) * 1000)


async def bench_size(
    size: int, postgres_url: str | None, candidates: int, *, sqlite: bool = True
) -> None:
    if sqlite:
        await bench_sqlite(size, candidates)
    if postgres_url:
        await bench_postgres(size, postgres_url, candidates)


async def bench_sqlite(size: int, candidates: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        engine = create_engine(url)
        await migrate_to_head(engine)
        await engine.dispose()
        started = time.perf_counter()
        rng = random.Random(size)
        words, tags = build_sqlite(path, size, rng)
        print(f"\n== {size:,} resources (SQLite; built in {time.perf_counter() - started:.1f} s)")
        await run_figures(url, path, words, tags, rng, candidates)


async def bench_postgres(size: int, postgres_url: str, candidates: int) -> None:
    async with fresh_postgres(postgres_url) as url:
        engine = create_engine(url)
        await migrate_to_head(engine)
        await engine.dispose()
        started = time.perf_counter()
        rng = random.Random(size)
        words, tags = await build_postgres(url, size, rng)
        elapsed = time.perf_counter() - started
        print(f"\n== {size:,} resources (PostgreSQL; built in {elapsed:.1f} s)")
        await run_figures(url, None, words, tags, rng, candidates)


async def run_figures(
    url: str,
    path: Path | None,
    words: list[str],
    tags: list[str],
    rng: random.Random,
    candidates: int,
) -> None:
    """Service figures; next to them the raw sqlite3 floor when `path` is a SQLite file."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    clock = FakeClock(START + timedelta(days=701))
    library = LibraryService(sessions, clock, search_candidates=candidates)
    print(
        f"{'search class':24} {'p50 ms':>8} {'p99 ms':>8} {'raw p50':>8} {'raw p99':>8} "
        f"{'x p50':>6} {'x p99':>6} {'uncapped p50':>13}"
    )
    for name, queries in query_classes(words, rng).items():
        service: list[float] = []
        for query in queries:
            await timed(lambda q=query: library.search(GUILD, q), service)  # type: ignore[misc]
        line = f"{name:24} {percentile(service, 50):8.1f} {percentile(service, 99):8.1f}"
        today = clock.now().timestamp() / 86400
        if path is not None:
            raw = raw_floor(path, queries, candidates, today)
        else:
            raw = await postgres_floor(url, queries, candidates, today)
        line += (
            f" {percentile(raw, 50):8.1f} {percentile(raw, 99):8.1f}"
            f" {percentile(service, 50) / percentile(raw, 50):6.1f}"
            f" {percentile(service, 99) / percentile(raw, 99):6.1f}"
        )
        if path is not None:
            full = [uncapped(path, q) for q in queries[:10]]
            line += f" {statistics.median(full):13.1f}"
        print(line)
    auto: list[float] = []
    prefixes = [t[:n] for t in rng.sample(tags, 50) for n in (1, 2)] + [""]
    for prefix in prefixes * 3:
        await timed(lambda p=prefix: library.autocomplete_tags(GUILD, p), auto)  # type: ignore[misc]
    floor = await autocomplete_floor(url, path, prefixes * 3)
    print(
        f"tag autocomplete         p50 {percentile(auto, 50):.2f} ms, p99 "
        f"{percentile(auto, 99):.2f} ms; floor ({'sqlite3' if path else 'asyncpg'}, the same "
        f"SQL) p50 {percentile(floor, 50):.2f} ms, p99 {percentile(floor, 99):.2f} ms; "
        f"x{percentile(auto, 50) / percentile(floor, 50):.1f} at p50 (target <= 5x)"
    )
    # The first batch pays for warming caches (statement compilation, pages read in); the
    # second is what a running bot sees. Each line beside the floor run right after it.
    for batch in ("cold", "warm"):
        rate = await ingest(library, words, tags, rng, 1, prefix=f"https://{batch}.example")
        line = f"share ingest ({batch})"
        floor_prefix = f"https://floor-{batch}.example"
        if path is not None:
            floor = ingest_floor(path, words, tags, rng, prefix=floor_prefix)
            print(f"{line:24} {rate}; floor (sqlite3, the same statements) {floor:.0f}/s")
        else:
            floor = await postgres_ingest_floor(url, words, tags, rng, prefix=floor_prefix)
            print(f"{line:24} {rate}; floor (asyncpg, the same statement) {floor:.0f}/s")
    rate = await ingest(library, words, tags, rng, 8, prefix="https://ingest8.example")
    print(f"{'  8 members at once':24} {rate}")
    await engine.dispose()
    if path is None:  # PostgreSQL's scale-out: several bot processes share one database
        ingest_in_processes(url, words[:5000], tags[:50], processes=2)


async def ingest(
    library: LibraryService,
    words: list[str],
    tags: list[str],
    rng: random.Random,
    sharers: int,
    *,
    prefix: str,
    count: int = 1000,
) -> str:
    """`count` /share-style writes, each its own transaction, by `sharers` members at once."""
    commits: list[float] = []
    numbers = iter(range(count))

    async def member(member_id: int) -> None:
        for number in numbers:
            tag_text = " ".join(rng.sample(tags[:50], 2))
            title = " ".join(rng.choices(words[:5000], k=6))
            await timed(
                lambda n=number, t=title, g=tag_text: library.share(  # type: ignore[misc]
                    GUILD, 5, member_id, f"{prefix}/{n}", tags=g, title=t
                ),
                commits,
            )

    started = time.perf_counter()
    await asyncio.gather(*(member(42 + i) for i in range(sharers)))
    rate = count / (time.perf_counter() - started)
    return f"{rate:.0f} shares/s, p99 {percentile(commits, 99):.1f} ms"


def ingest_in_processes(url: str, words: list[str], tags: list[str], *, processes: int) -> None:
    """`processes` bot-like processes sharing at once into one database; their total rate."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(target=_ingest_process, args=(url, words, tags, i, ready, results))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    spans = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    count = sum(n for n, _, _ in spans)
    elapsed = max(end for _, _, end in spans) - min(start for _, start, _ in spans)
    print(f"  {processes} processes at once  {count / elapsed:.0f} shares/s in all")


def _ingest_process(
    url: str, words: list[str], tags: list[str], index: int, ready: Any, results: Any
) -> None:
    async def run() -> tuple[int, float, float]:
        engine = create_engine(url)
        clock = FakeClock(START + timedelta(days=701))
        library = LibraryService(create_session_factory(engine), clock)
        rng = random.Random(index)
        await library.share(GUILD, 5, 42, f"https://warm{index}.example/", tags=tags[0])
        ready.wait()  # every process connected and warm: start together
        started = time.time()
        for n in range(1000):
            title = " ".join(rng.choices(words, k=6))
            tag_text = " ".join(rng.sample(tags, 2))
            url_n = f"https://process{index}.example/{n}"
            await library.share(GUILD, 5, 42 + index, url_n, tags=tag_text, title=title)
        ended = time.time()
        await engine.dispose()
        return 1000, started, ended

    results.put(asyncio.run(run()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--postgres-only", action="store_true", help="skip SQLite")
    parser.add_argument("--smoke", action="store_true", help="10^4 only, for CI")
    args = parser.parse_args()
    for size in [10_000] if args.smoke else args.sizes:
        run = bench_size(size, args.postgres_url, args.candidates, sqlite=not args.postgres_only)
        asyncio.run(run)


if __name__ == "__main__":
    main()
