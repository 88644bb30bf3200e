"""Topics benchmark: the database side of autocomplete, the picker and follower counts.

    .venv/bin/python bench/topics.py --topics 490 --members 2000

Creates a guild near Discord's channel cap (490 topics), lets every member follow 5-15 topics,
then prints p50/p99 of the calls the bot makes per interaction: `search` (autocomplete),
`active_topics` (picker render), `followed_by` (/topic mine), `follow` + `unfollow` (one toggle),
and `member_left`. SQLite on a temporary file.
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
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.clock import FakeClock
from bot.database import create_engine, create_session_factory, migrate_to_head
from bot.topics.service import TopicService

GUILD = 1


async def timed(runs: int, call: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    samples = []
    for i in range(runs):
        began = time.perf_counter()
        await call(i)
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


async def main(topics: int, members: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{folder}/bench.db")
        await migrate_to_head(engine)
        service = TopicService(create_session_factory(engine), FakeClock(datetime.now(UTC)))
        rng = random.Random(5)
        ids = []
        began = time.perf_counter()
        for i in range(topics):
            new = await service.prepare(GUILD, f"Topic {i} {rng.choice(['ai', 'math', 'art'])}")
            info = await service.create(GUILD, "Bench", 0, new, channel_id=10**6 + i, role_id=i)
            ids.append(info.id)
        create_ms = (time.perf_counter() - began) * 1000 / topics
        follows = 0
        for member in range(members):
            for topic_id in rng.sample(ids, rng.randint(5, 15)):
                await service.follow(GUILD, member, topic_id)
                follows += 1
        print(f"{topics} topics ({create_ms:.1f} ms each to validate + record), {follows} follows")
        rows = [
            ("search (autocomplete)", await timed(200, lambda i: service.search(GUILD, str(i)))),
            ("active_topics (picker)", await timed(100, lambda i: service.active_topics(GUILD))),
            ("followed_by (mine)", await timed(200, lambda i: service.followed_by(GUILD, i))),
            (
                "follow + unfollow",
                await timed(
                    200,
                    lambda i: _toggle(service, members + i, ids[i % len(ids)]),
                ),
            ),
            ("member_left", await timed(200, lambda i: service.member_left(GUILD, i))),
        ]
        for name, (p50, p99) in rows:
            print(f"{name:28} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
        await engine.dispose()


async def _toggle(service: TopicService, member: int, topic_id: int) -> None:
    await service.follow(GUILD, member, topic_id)
    await service.unfollow(GUILD, member, topic_id)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=490)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--smoke", action="store_true", help="50 topics, 200 members, for CI")
    args = parser.parse_args()
    if args.smoke:
        args.topics, args.members = 50, 200
    asyncio.run(main(args.topics, args.members))
