"""Benchmark the learning log: /learn log p99 and /learn progress (queries + PNGs) p50/p99.

    .venv/bin/python bench/learning.py --smoke                  # 50 members, seconds (CI)
    .venv/bin/python bench/learning.py [--members 10000] [--url DATABASE_URL]

N members in one guild with a year of entries each (one a day, some days two, a few topics). The
services run as the cogs call them: `log` (one entry, the 24-hour check, the streak), and
`progress` + `topic_weeks` queries with both pictures rendered in a worker thread, as
`/learn progress` does. A ticker on the event loop measures the longest stall meanwhile.
Each figure is printed beside its target and the ratio (figure / target; <= 1 meets it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from bot.clock import FakeClock
from bot.database import SessionFactory, create_engine, create_session_factory, migrate_to_head
from bot.guilds.service import ensure_guild_row
from bot.learning import heatmap
from bot.learning.models import LearningEntry
from bot.learning.service import LearningService
from bot.library.service import LibraryService
from bot.topics.models import Topic

GUILD = 1
NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
TARGETS = {"log p99": 20.0, "progress p99": 300.0, "event-loop stall": 50.0}
BATCH = 20_000


async def seed(sessions: SessionFactory, members: int, sqlite_file: str | None) -> list[int]:
    rng = random.Random(18)
    async with sessions() as session, session.begin():
        await ensure_guild_row(session, GUILD, "bench", NOW)
        topics = []
        for name in ("Maths", "Reading", "Science", "Art"):
            row = Topic(
                guild_id=GUILD,
                name=name,
                name_key=name.casefold(),
                default_tags=[],
                created_by=1,
                created_at=NOW,
            )
            session.add(row)
            await session.flush()
            topics.append(row.id)
    today = NOW.date()
    rows: list[dict[str, object]] = []

    async def flush() -> None:
        async with sessions() as session, session.begin():
            await session.execute(insert(LearningEntry), rows)
        rows.clear()

    for user in range(1, members + 1):
        for back in range(1, 366):
            if rng.random() < 0.15:
                continue  # a missed day now and then
            day: date = today - timedelta(days=back)
            for _ in range(1 + (rng.random() < 0.2)):
                rows.append(
                    {
                        "guild_id": GUILD,
                        "user_id": user,
                        "local_day": day,
                        "logged_at": datetime(day.year, day.month, day.day, 18, tzinfo=UTC),
                        "minutes": rng.choice((10, 15, 20, 30, 45)),
                        "topic_id": rng.choice([*topics, None]),
                    }
                )
        if len(rows) >= BATCH:
            if sqlite_file is not None:
                _sqlite_rows(sqlite_file, rows)
            else:
                await flush()
    if rows:
        if sqlite_file is not None:
            _sqlite_rows(sqlite_file, rows)
        else:
            await flush()
    return topics


def _sqlite_rows(path: str, rows: list[dict[str, object]]) -> None:
    """Seeding SQLite with the standard library: minutes, not the ORM's quarter of an hour."""
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO learning_entries (guild_id, user_id, local_day, logged_at, minutes, "
            "topic_id) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    r["guild_id"],
                    r["user_id"],
                    str(r["local_day"]),
                    f"{r['local_day']} 18:00:00.000000",
                    r["minutes"],
                    r["topic_id"],
                )
                for r in rows
            ],
        )
    rows.clear()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def line(label: str, value: float, target: str | None = None) -> None:
    if target is None:
        print(f"  {label:40s} {value:8.1f} ms")
    else:
        goal = TARGETS[target]
        ratio = value / goal
        print(f"  {label:40s} {value:8.1f} ms   target <= {goal:5.0f} ms   ratio {ratio:.2f}")


async def bench(url: str, members: int, runs: int) -> None:
    engine = create_engine(url)
    await migrate_to_head(engine)
    sessions = create_session_factory(engine)
    started = time.perf_counter()
    sqlite_file = url.split(":///", 1)[1] if url.startswith("sqlite") else None
    await seed(sessions, members, sqlite_file)
    print(f"  seeded {members:,} members x a year in {time.perf_counter() - started:.1f} s")
    clock = FakeClock(NOW)
    service = LearningService(sessions, clock, LibraryService(sessions, clock))
    rng = random.Random(7)

    stall = 0.0
    ticking = True

    async def ticker() -> None:
        nonlocal stall
        loop = asyncio.get_running_loop()
        while ticking:
            before = loop.time()
            await asyncio.sleep(0.005)
            stall = max(stall, (loop.time() - before - 0.005) * 1000)

    # Seeding made and dropped millions of objects, which a bot process never has: without this,
    # one full garbage collection of that heap stalls the loop for 100-220 ms mid-measurement.
    gc.collect()
    gc.freeze()
    today = NOW.date()
    began = time.perf_counter()
    await asyncio.to_thread(heatmap.heatmap_png, {}, today, 1)
    await asyncio.to_thread(heatmap.topic_weeks_png, [today], {"": [1]})
    first_pictures = (time.perf_counter() - began) * 1000
    tick = asyncio.create_task(ticker())
    await asyncio.sleep(2.0)  # nothing else running: the machine's own scheduling noise
    idle_stall, stall = stall, 0.0
    logs: list[float] = []
    for _ in range(runs):
        user = rng.randint(1, members)
        began = time.perf_counter()
        await service.log(GUILD, "bench", 1, user, 15)
        logs.append((time.perf_counter() - began) * 1000)
    stall_during_logs = stall
    stall = 0.0
    progress: list[float] = []
    for _ in range(runs):
        user = rng.randint(1, members)
        began = time.perf_counter()
        seen = await service.progress(GUILD, user)
        assert len(seen.days) > 250, "every member has most days of a year"
        weeks, minutes = await service.topic_weeks(GUILD, user)
        await asyncio.to_thread(heatmap.heatmap_png, seen.days, seen.today, seen.goal)
        await asyncio.to_thread(heatmap.topic_weeks_png, weeks, minutes)
        progress.append((time.perf_counter() - began) * 1000)
    ticking = False
    await tick
    line("/learn log p50", statistics.median(logs))
    line("/learn log p99", pct(logs, 0.99), "log p99")
    line("/learn progress p50 (query + PNGs)", statistics.median(progress))
    line("/learn progress p99 (query + PNGs)", pct(progress, 0.99), "progress p99")
    line("first pictures (font and encoder load)", first_pictures)
    line("event-loop stall, idle (machine noise)", idle_stall)
    line("event-loop stall, logging", stall_during_logs)
    line("event-loop stall, pictures rendering", stall, "event-loop stall")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--url", help="a database URL (default: a temporary SQLite file)")
    parser.add_argument("--smoke", action="store_true", help="small sizes, for CI")
    args = parser.parse_args()
    members, runs = (50, 30) if args.smoke else (args.members, args.runs)
    if args.url:
        print(f"{args.url.split(':')[0]} ({members:,} members)")
        asyncio.run(bench(args.url, members, runs))
        return
    with tempfile.TemporaryDirectory() as folder:
        print(f"SQLite ({members:,} members)")
        asyncio.run(bench(f"sqlite+aiosqlite:///{folder}/bench.db", members, runs))


if __name__ == "__main__":
    main()
