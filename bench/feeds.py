"""Feeds benchmark: the poller checking 1,000 feeds on a loopback feed server.

    .venv/bin/python bench/feeds.py [--feeds N] [--database URL] [--smoke]

The server runs in its own process (so its CPU is not counted): realistic feeds of 20-50 items,
1% of them about 1 MB, ETags, 1% slow (300 ms), 2% failing (HTTP 500). Figures, each beside its
floor: a cycle where nothing changed (all 304), a cycle where 5% changed, the CPU a feed costs per
day at a 10-minute interval, the longest event-loop stall, memory. Floors: the same conditional
requests made by a bare aiohttp loop, and feedparser alone on the changed feeds' bytes. Without a
URL it uses a temporary SQLite file. Prints figures; it is not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import multiprocessing
import os
import random
import resource
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
import feedparser
from aiohttp import web
from sqlalchemy import insert, update

from bot.clock import FakeClock
from bot.database import create_engine, create_session_factory, migrate_to_head
from bot.feeds.discovery import Discovery
from bot.feeds.models import Feed
from bot.feeds.poller import FeedPoller
from bot.feeds.records import FeedInfo, Posted
from bot.guilds.models import Guild
from bot.library.service import LibraryService
from bot.scheduling import Outbox, OutboxScope, Outgoing
from bot.settings import FeedSettings, WebSettings
from bot.topics.service import TopicService
from bot.web.fetcher import SafeFetcher

GUILD = 1
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
INTERVAL_MINUTES = 10
PROFILE = False


# --- the feed server (its own process) ---------------------------------------------------------


def _feed_body(feed: int, version: int) -> bytes:
    rng = random.Random(feed)
    items = rng.randint(20, 50)
    padding = "x" * 40_000 if feed % 100 == 7 else ""  # 1% about 1 MB
    start = NOW - timedelta(hours=50)  # the newest items are recent: a new one is posted
    entries = []
    for n in range(items):
        number = version + n  # a new version adds one item at the top, the oldest drops out
        when = start + timedelta(hours=number)
        entries.append(
            f"<item><guid>f{feed}-{number}</guid><title>Post {number} of feed {feed}</title>"
            f"<link>https://blog{feed}.example/{number}</link>"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>&lt;p&gt;Item {number} says &lt;b&gt;something&lt;/b&gt; "
            f"useful.{padding}&lt;/p&gt;</description></item>"
        )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>'
        f"<link>https://blog{feed}.example/</link>{''.join(reversed(entries))}</channel></rss>"
    ).encode()


def _serve(port: Any, feeds: int) -> None:
    versions = dict.fromkeys(range(feeds), 0)
    cache: dict[tuple[int, int], bytes] = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        feed = int(request.match_info["feed"])
        if feed % 50 == 3:
            return web.Response(status=500)
        if feed % 100 == 11:
            await asyncio.sleep(0.3)
        version = versions[feed]
        tag = f'"{feed}-{version}"'
        if request.headers.get("If-None-Match") == tag:
            return web.Response(status=304, headers={"ETag": tag})
        body = cache.get((feed, version))
        if body is None:
            body = cache[(feed, version)] = _feed_body(feed, version)
        return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": tag})

    async def bump(request: web.Request) -> web.Response:
        share = float(request.query["share"])
        count = max(1, int(feeds * share)) if share > 0 else 0
        chosen = random.Random(int(request.query["seed"])).sample(range(feeds), count)
        for feed in chosen:
            versions[feed] += 1
        return web.json_response(chosen)

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{feed}.xml", handle)
        app.router.add_post("/bump", bump)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.value = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


# --- the bot's side ----------------------------------------------------------------------------


class CountingDeliverer:
    """Posts through the outbox as the Discord side does (no Discord): the database work stays."""

    def __init__(self) -> None:
        self.posted = 0

    async def item(
        self, feed: FeedInfo, payload: dict[str, Any], scope: OutboxScope, part: str
    ) -> Posted:
        async def send(_nonce: str) -> int:
            self.posted += 1
            return 10_000_000 + self.posted

        sent = await scope.once(part, Outgoing("message", feed.channel_id, part, send))
        return Posted(feed.channel_id, sent.id, 1)

    async def digest(
        self, feed: FeedInfo, payloads: list[dict[str, Any]], scope: OutboxScope, keys: list[str]
    ) -> Posted:
        raise NotImplementedError


class StallWatch:
    """The longest time the event loop did not run a 5 ms timer on time."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - began - 0.005)

    def __enter__(self) -> StallWatch:
        self.worst = 0.0
        self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


WORKERS: list[int] = []  # the parsing worker processes, whose CPU counts too


class GCWatch:
    """The longest pause of Python's cyclic garbage collector (it runs on the event loop's
    thread: a full collection of a big heap is a stall no feed work causes)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.worst = max(self.worst, time.perf_counter() - self._started)


def cpu_seconds() -> float:
    """CPU of this process (all threads) and of the parsing workers."""
    total = time.process_time()
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in WORKERS:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


async def measured(work: Callable[[], Awaitable[Any]]) -> tuple[float, float, float, Any]:
    """Wall seconds, CPU seconds (with the parsing worker), the worst stall, the result."""
    with StallWatch() as stall:
        wall, cpu = time.perf_counter(), cpu_seconds()
        result = await work()
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        await asyncio.sleep(0.01)
    return wall, cpu, stall.worst, result


def line(what: str, value: float, floor: float, unit: str) -> None:
    ratio = f"{value / floor:6.1f}x" if floor > 0 else "   n/a"
    print(f"  {what:<44} {value:9.3f} {unit:<4} floor {floor:9.3f} {unit:<4} {ratio}")


async def bare_cycle(origin: str, feeds: int, tags: dict[int, str], limit: int) -> None:
    """The floor: the same conditional GETs, with the same concurrency, and nothing else."""
    gate = asyncio.Semaphore(limit)
    async with aiohttp.ClientSession() as session:

        async def one(feed: int) -> None:
            async with gate:
                headers = {"If-None-Match": tags[feed]} if feed in tags else {}
                async with session.get(f"{origin}/feed/{feed}.xml", headers=headers) as response:
                    await response.read()
                    if response.headers.get("ETag"):
                        tags[feed] = response.headers["ETag"]

        await asyncio.gather(*(one(feed) for feed in range(feeds)))


async def run(feeds: int, url: str | None, concurrency: int, freeze_gc: bool) -> None:
    port = multiprocessing.Value("i", 0)
    server = multiprocessing.Process(target=_serve, args=(port, feeds), daemon=True)
    server.start()
    try:
        while port.value == 0:  # noqa: ASYNC110 (a child process fills it in)
            await asyncio.sleep(0.05)
        await _bench(f"http://127.0.0.1:{port.value}", feeds, url, concurrency, freeze_gc)
    finally:
        server.terminate()


async def _bench(
    origin: str, feeds: int, url: str | None, concurrency: int, freeze_gc: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        await migrate_to_head(engine)
        sessions = create_session_factory(engine)
        clock = FakeClock(NOW)
        settings = FeedSettings(
            max_concurrent_fetches=concurrency,
            max_per_host=concurrency,
            poll_interval_minutes=INTERVAL_MINUTES,
        )
        fetcher = SafeFetcher(WebSettings(allow_loopback_for_tests=True))
        library = LibraryService(sessions, clock)
        poller = FeedPoller(
            sessions,
            clock,
            settings,
            Discovery(fetcher, settings),
            library,
            TopicService(sessions, clock),
            Outbox(sessions, clock),
        )
        deliverer = CountingDeliverer()
        poller.deliverer = deliverer
        async with sessions() as session, session.begin():
            await session.execute(insert(Guild).values(id=GUILD, name="bench", joined_at=NOW))
            await session.execute(
                insert(Feed),
                [
                    {
                        "guild_id": GUILD,
                        "url": f"{origin}/feed/{n}.xml",
                        "title": f"Feed {n}",
                        "channel_id": 5,
                        "tags": [],
                        "mode": "post",
                        "filter": "",
                        "no_shorts": False,
                        "digest_time": "18:00",
                        "next_check_at": NOW,
                        "checked_at": None,  # the first cycle records what is there
                        "failures": 0,
                        "warned": False,
                        "paused": False,
                        "items_posted": 0,
                        "created_by": 1,
                        "created_at": NOW,
                    }
                    for n in range(feeds)
                ],
            )

        async def cycle() -> Any:
            clock.advance(timedelta(minutes=INTERVAL_MINUTES * 2))
            async with sessions() as session, session.begin():  # failing feeds stay failing, due
                await session.execute(update(Feed).values(next_check_at=clock.now(), failures=0))
            return await poller.run_due()

        async def bump(share: float, seed: int) -> list[int]:
            async with aiohttp.ClientSession() as session:
                query = {"share": str(share), "seed": str(seed)}
                async with session.post(f"{origin}/bump", params=query) as response:
                    chosen: list[int] = await response.json()
                    return chosen

        print(f"Feeds benchmark: {feeds} feeds, {concurrency} fetches at once, loopback server")
        if freeze_gc:
            # What the bot's setup_hook does: its long-lived objects are never scanned again.
            gc.collect()
            gc.freeze()
        collector = GCWatch()
        wall, cpu, stall, first = await measured(cycle)
        print(
            "  first cycle (everything parsed, recorded as seen; starts the worker): "
            f"{wall:.2f} s wall, {cpu:.2f} s CPU, stall {stall * 1000:.0f} ms, "
            f"parsed {first.parsed}"
        )
        pool = poller.parsers._pool
        WORKERS.extend(pool._processes if pool is not None else ())
        tags: dict[int, str] = {}
        await bare_cycle(origin, feeds, tags, concurrency)  # the floor learns the ETags

        if PROFILE:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
        wall, cpu, stall, report = await measured(cycle)
        if PROFILE:
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        floor_wall, floor_cpu, floor_stall, _ = await measured(
            lambda: bare_cycle(origin, feeds, tags, concurrency)
        )
        print(f"nothing changed: {report.not_modified} answered 304, {report.parsed} parsed")
        line("all-304 cycle, wall", wall, floor_wall, "s")
        line("all-304 cycle, CPU", cpu, floor_cpu, "s")
        stalls = [stall]

        changed = await bump(0.05, 1)
        bodies = [_feed_body(feed, 1) for feed in changed]
        wall5, cpu5, stall, report = await measured(cycle)
        floor_parse = time.process_time()
        for body in bodies:
            feedparser.parse(body)
        floor_parse = time.process_time() - floor_parse
        floor_wall5, floor_cpu5, _, _ = await measured(
            lambda: bare_cycle(origin, feeds, tags, concurrency)
        )
        stalls.append(stall)
        print(f"5% changed: {report.parsed} parsed, {report.posted} posted, {report.failed} failed")
        line("5%-changed cycle, wall", wall5, floor_wall5, "s")
        line("5%-changed cycle, CPU", cpu5, floor_cpu5 + floor_parse, "s")
        per_day = cpu5 / feeds * (24 * 60 / INTERVAL_MINUTES)
        floor_day = (floor_cpu5 + floor_parse) / feeds * (24 * 60 / INTERVAL_MINUTES)
        line("CPU per feed per day (10-minute interval)", per_day * 1000, floor_day * 1000, "ms")
        core_share = cpu5 / (INTERVAL_MINUTES * 60) * 100
        line("share of one core, 10-minute interval", core_share, 0.0, "%")
        line(
            "longest event-loop stall (target <= 50 ms)",
            max(stalls) * 1000,
            floor_stall * 1000,
            "ms",
        )
        print(f"  longest garbage-collector pause: {collector.worst * 1000:.1f} ms")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak memory (RSS): {rss:.0f} MB")
        await fetcher.close()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--database", default=None, help="a database URL (default: SQLite)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--no-freeze-gc",
        dest="freeze_gc",
        action="store_false",
        help="leave out the bot's gc.freeze() before the cycles",
    )
    parser.add_argument("--smoke", action="store_true", help="40 feeds, for CI")
    args = parser.parse_args()
    feeds = 40 if args.smoke else args.feeds
    asyncio.run(run(feeds, args.database, args.concurrency, args.freeze_gc))


if __name__ == "__main__":
    main()
