"""Benchmark the weekly recap: ranking query, whole build + render, event-loop blocking.

    .venv/bin/python bench/recap.py --smoke                    # small and fast (CI)
    .venv/bin/python bench/recap.py                            # 10^6 shares, 10^5 this week
    .venv/bin/python bench/recap.py --postgres postgresql+asyncpg://root@127.0.0.1/test

One guild gets `--total` shares over a year, `--week` of them in the 7 days before the slot
(Zipf-like popularity), plus votes and saves; a few other guilds get noise. Prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _fresh import fresh_postgres
from sqlalchemy import insert, text

from bot.clock import FakeClock
from bot.database import (
    SessionFactory,
    create_engine,
    create_session_factory,
    migrate_to_head,
)
from bot.guilds.models import Guild, GuildMember
from bot.library.models import (
    LibraryResource,
    LibrarySave,
    LibraryShare,
    LibraryVote,
)
from bot.recap import ranking
from bot.recap.models import RecapSettings
from bot.recap.posting import post_remaining
from bot.recap.service import RecapService
from bot.recap.window import week_ending
from bot.scheduling import Outbox, Outgoing
from bot.topics.models import Topic
from bot.topics.service import TopicService
from cogs.recap.render import Part, render

SLOT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GUILD = 1
BATCH = 20_000


def _popular(rng: random.Random, resources: int) -> int:
    """A heavy tail: the most shared link gets ~8% of the week's shares."""
    return min(resources, int(rng.paretovariate(0.9) * 10))


async def _bulk(sessions: SessionFactory, table: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        async with sessions() as session, session.begin():
            await session.execute(insert(table), rows[i : i + BATCH])


async def seed(sessions: SessionFactory, total: int, week: int, guilds: int) -> None:
    rng = random.Random(7)
    members = max(50, week // 20)
    resources = max(100, total // 5)
    async with sessions() as session, session.begin():
        for g in range(1, guilds + 1):
            session.add(Guild(id=g, name=f"g{g}", timezone="Europe/Paris", joined_at=SLOT))
        session.add_all(
            GuildMember(
                guild_id=GUILD,
                user_id=m,
                display_name=f"member {m}",
                is_bot=m == 1,
                first_seen_at=SLOT,
                last_seen_at=SLOT,
            )
            for m in range(1, members + 1)
        )
        session.add_all(
            Topic(
                guild_id=GUILD,
                name=f"topic {t}",
                name_key=f"topic {t}",
                channel_id=1000 + t,
                default_tags=[],
                created_by=2,
                created_at=SLOT - timedelta(days=30),
            )
            for t in range(20)
        )
    year = 365 * 24 * 3600
    await _bulk(
        sessions,
        LibraryResource.__table__,
        [
            {
                "id": r,
                "guild_id": GUILD if r <= resources else 2 + r % max(1, guilds - 1),
                "canonical_url": f"https://site{r % 997}.example/{r}",
                "url": f"https://site{r % 997}.example/{r}",
                "domain": f"site{r % 997}.example",
                "title": f"Resource number {r} about teaching",
                "title_source": "page",
                "first_sharer_id": 2,
                "first_shared_at": SLOT - timedelta(seconds=year),
                "search_text": f"resource {r}",
                "deleted_at": SLOT if r % 101 == 0 else None,
            }
            for r in range(1, resources + guilds + 1)
        ],
    )
    shares: list[dict[str, Any]] = []
    for i in range(total):
        in_week = i < week
        ago = rng.uniform(0, 7 * 24 * 3600) if in_week else rng.uniform(7 * 24 * 3600, year)
        resource = _popular(rng, resources) if in_week else rng.randint(1, resources)
        shares.append(
            {
                "guild_id": GUILD,
                "resource_id": resource,
                "member_id": rng.randint(1, members),
                "member_is_bot": rng.random() < 0.02,
                "channel_id": 1000 + rng.randint(0, 39),
                "message_id": 10**17 + i,
                "source": "command",
                "shared_at": SLOT - timedelta(seconds=ago),
            }
        )
    await _bulk(sessions, LibraryShare.__table__, shares)
    seen: set[tuple[int, int]] = set()
    votes, saves = [], []
    for _ in range(week // 2):
        resource = _popular(rng, resources)
        member = rng.randint(1, members)
        if (resource, member) in seen:
            continue
        seen.add((resource, member))
        at = SLOT - timedelta(seconds=rng.uniform(0, 7 * 24 * 3600))
        if rng.random() < 0.7:
            votes.append(
                {
                    "guild_id": GUILD,
                    "resource_id": resource,
                    "member_id": member,
                    "emoji": "⭐",
                    "message_id": 1,
                    "voted_at": at,
                }
            )
        else:
            saves.append(
                {"guild_id": GUILD, "resource_id": resource, "member_id": member, "saved_at": at}
            )
    await _bulk(sessions, LibraryVote.__table__, votes)
    await _bulk(sessions, LibrarySave.__table__, saves)
    # Planner statistics, as a live database has them (autovacuum; SQLite's optimize).
    async with sessions() as session, session.begin():
        await session.execute(text("ANALYZE"))


async def timed(fn: Callable[[], Awaitable[Any]], runs: int) -> tuple[list[float], float]:
    """(each run's ms, max event-loop stall ms) over `runs` runs.

    Runs enough times that pooled connections reuse a prepared statement past its sixth run, where
    PostgreSQL may switch to a generic plan: a statement slower on its 10th run than on its 1st
    shows that cliff."""
    stalls: list[float] = []
    stop = asyncio.Event()

    async def watch() -> None:
        tick = 0.005
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(tick)
            stalls.append((time.perf_counter() - before - tick) * 1000)

    watcher = asyncio.create_task(watch())
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - start) * 1000)
    stop.set()
    await watcher
    return times, max(stalls, default=0.0)


async def bench(url: str, total: int, week: int, guilds: int, runs: int) -> None:
    engine = create_engine(url)
    await migrate_to_head(engine)
    sessions = create_session_factory(engine)
    started = time.perf_counter()
    await seed(sessions, total, week, guilds)
    print(
        f"  seeded {total:,} shares ({week:,} this week) in {time.perf_counter() - started:.1f} s"
    )
    clock = FakeClock(SLOT)
    service = RecapService(sessions, clock, TopicService(sessions, clock))
    span = week_ending(SLOT, "Europe/Paris")

    async def rank() -> None:
        async with sessions() as session:
            await ranking.run(session, ranking.top_query(GUILD, span.start, span.end, 25))

    async def per_topic() -> None:
        async with sessions() as session:
            await ranking.run(
                session,
                ranking.per_channel_query(GUILD, span.start, span.end, range(1000, 1020), 3),
            )

    async def whole() -> None:
        view = await service.build(GUILD, SLOT, 25)
        render(view)

    for label, fn in (
        ("ranking query (top 25)", rank),
        ("per-topic top 3 (20 topics)", per_topic),
        ("whole recap built + rendered", whole),
    ):
        times, stall = await timed(fn, runs)
        print(
            f"  {label:32s} median {statistics.median(times):8.1f} ms   1st {times[0]:8.1f} ms"
            f"   last {times[-1]:8.1f} ms   max event-loop stall {stall:6.1f} ms"
        )
    await engine.dispose()


async def many_guilds(url: str, guilds: int, shares_each: int) -> None:
    """`guilds` recaps due at the same hour: each built, stored and rendered (sending faked),
    25 at a time as the scheduling core runs them."""
    engine = create_engine(url)
    await migrate_to_head(engine)
    sessions = create_session_factory(engine)
    rng = random.Random(3)
    async with sessions() as session, session.begin():
        for g in range(1, guilds + 1):
            session.add(Guild(id=g, name=f"g{g}", timezone="UTC", joined_at=SLOT))
            session.add(RecapSettings(guild_id=g, channel_id=g, updated_by=1, updated_at=SLOT))
    await _bulk(
        sessions,
        LibraryResource.__table__,
        [
            {
                "id": g * 1000 + r,
                "guild_id": g,
                "canonical_url": f"https://x.example/{g}/{r}",
                "url": f"https://x.example/{g}/{r}",
                "domain": "x.example",
                "title": f"Link {r}",
                "title_source": "page",
                "first_sharer_id": 1,
                "first_shared_at": SLOT - timedelta(days=1),
                "search_text": "",
            }
            for g in range(1, guilds + 1)
            for r in range(shares_each // 2)
        ],
    )
    await _bulk(
        sessions,
        LibraryShare.__table__,
        [
            {
                "guild_id": g,
                "resource_id": g * 1000 + rng.randrange(shares_each // 2),
                "member_id": rng.randint(1, 40),
                "member_is_bot": False,
                "channel_id": g,
                "message_id": g * 10_000 + i,
                "source": "command",
                "shared_at": SLOT - timedelta(seconds=rng.uniform(0, 7 * 86400)),
            }
            for g in range(1, guilds + 1)
            for i in range(shares_each)
        ],
    )
    async with sessions() as session, session.begin():
        await session.execute(text("ANALYZE"))
    clock = FakeClock(SLOT)
    service = RecapService(sessions, clock, TopicService(sessions, clock))
    outbox = Outbox(sessions, clock)
    limit = asyncio.Semaphore(25)

    async def one(guild_id: int) -> None:
        async with limit:
            view = await service.prepare(guild_id, SLOT, trigger="schedule")

            def outgoing(index: int, _part: Part) -> Outgoing:
                async def sent(_nonce: str) -> int:  # Discord's part: not measured here
                    return index + 1

                return Outgoing("message", guild_id, str(index), sent)

            await post_remaining(outbox, service, view, render(view), outgoing)

    started = time.perf_counter()
    await asyncio.gather(*(one(g) for g in range(1, guilds + 1)))
    seconds = time.perf_counter() - started
    print(
        f"  {guilds:,} guilds ({shares_each} shares each) recapped at the same hour in "
        f"{seconds:.1f} s (sending not included)"
    )
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="small sizes, for CI")
    parser.add_argument("--postgres", help="also run on this (empty, disposable) PostgreSQL URL")
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--week", type=int, default=100_000)
    parser.add_argument("--guilds", type=int, default=1000, help="recaps due at the same hour")
    args = parser.parse_args()
    total, week, runs = (10_000, 1_000, 3) if args.smoke else (args.total, args.week, 10)
    guilds = 20 if args.smoke else args.guilds
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite ({total:,} shares, {week:,} in the week)")
        asyncio.run(bench(f"sqlite+aiosqlite:///{tmp}/bench.db", total, week, 5, runs))
        asyncio.run(many_guilds(f"sqlite+aiosqlite:///{tmp}/many.db", guilds, 200))
    if args.postgres:
        print(f"PostgreSQL ({total:,} shares, {week:,} in the week)")
        asyncio.run(_on_fresh_postgres(args.postgres, total, week, runs))


async def _on_fresh_postgres(server_url: str, total: int, week: int, runs: int) -> None:
    async with fresh_postgres(server_url) as url:
        await bench(url, total, week, 5, runs)


if __name__ == "__main__":
    main()
