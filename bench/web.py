"""Web UI benchmark: a published library's pages and throughput, next to a bare aiohttp floor.

    .venv/bin/python bench/web.py             # 10^5 resources (SQLite)
    .venv/bin/python bench/web.py --smoke     # 10^3, a few seconds, for CI

Builds a published library (the same generator as bench/library.py: Zipf words and tags), serves
it with the bot's own site (bot/webui) in a child process, once building every page and once
with lists cached (the default), and measures from this process over loopback: p50/p99 of the
library page, a search and a tag page (one request after another), then requests per second
with 16 clients at once, for each. The floor is a bare aiohttp handler returning a fixed page of
about the library page's size, measured the same way. The server also records how late its
event loop ran a 10 ms timer during each throughput run: the stall the bot's gateway work would
see. Targets: p99 <= 50 ms per page at 10^5, >= 300 pages/s, loop stall <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
from aiohttp import web
from library import GUILD, build_sqlite, percentile

from bot.clock import SystemClock
from bot.database import create_engine, create_session_factory, migrate_to_head
from bot.library.listing import LibraryListing
from bot.library.service import LibraryService
from bot.recap.service import RecapService
from bot.settings import WebUISettings
from bot.topics.service import TopicService
from bot.webui.pages import SiteServices
from bot.webui.publishing import PublishingService
from bot.webui.server import Site

SLUG = "benchbenchbench1"
CONCURRENCY = 16


def serve(kind: str, url: str, floor_size: int, ready: Any, stop: Any, result: Any) -> None:
    asyncio.run(_serve(kind, url, floor_size, ready, stop, result))


async def _serve(kind: str, url: str, floor_size: int, ready: Any, stop: Any, result: Any) -> None:
    cleanup: list[Any] = []
    if kind == "floor":
        page = b"<!doctype html><title>floor</title>" + b"x" * floor_size

        async def fixed(_request: web.Request) -> web.Response:
            return web.Response(body=page, content_type="text/html")

        app = web.Application()
        app.router.add_get("/{tail:.*}", fixed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        cleanup.append(runner.cleanup)
    else:
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        clock = SystemClock()
        topics = TopicService(sessions, clock)
        services = SiteServices(
            publishing=PublishingService(sessions, clock),
            library=LibraryService(sessions, clock),
            listing=LibraryListing(sessions),
            topics=topics,
            recap=RecapService(sessions, clock, topics),
            sessions=sessions,
            clock=clock,
        )
        cache = 0.0 if kind == "site" else WebUISettings().cache_seconds
        settings = WebUISettings(
            enabled=True, port=0, search_per_minute=10_000, cache_seconds=cache
        )
        site = Site(settings, services)
        await site.start()
        # As the bot's setup_hook does once it has started: the heap that exists now (here,
        # the seeding's) is out of the collector's reach.
        gc.collect()
        gc.freeze()
        port = site.port
        cleanup += [site.stop, engine.dispose]
    stalls: list[tuple[float, float]] = []  # (when, ms late) of every late timer

    async def watch() -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            late = (time.perf_counter() - started - 0.01) * 1000
            if late > 1:
                stalls.append((time.time(), late))

    watcher = asyncio.create_task(watch())
    ready.put(port)
    await asyncio.get_running_loop().run_in_executor(None, stop.wait)
    watcher.cancel()
    for step in cleanup:
        await step()
    result.put(stalls)


class Server:
    """A server in a child process, so the clients never share its event loop."""

    def __init__(self, kind: str, url: str = "", floor_size: int = 0) -> None:
        context = multiprocessing.get_context("spawn")
        self.ready, self.result, self.stop = context.Queue(), context.Queue(), context.Event()
        self.process = context.Process(
            target=serve, args=(kind, url, floor_size, self.ready, self.stop, self.result)
        )

    def __enter__(self) -> str:
        self.process.start()
        return f"http://127.0.0.1:{self.ready.get(timeout=120)}"

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.stalls: list[tuple[float, float]] = self.result.get(timeout=60)

    def stall_ms(self, window: tuple[float, float]) -> float:
        """The longest the server's loop was late within `window` (wall-clock seconds)."""
        return max((ms for at, ms in self.stalls if window[0] <= at <= window[1]), default=0.0)
        self.process.join(timeout=30)


async def latencies(http: aiohttp.ClientSession, url: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        async with http.get(url) as answer:
            await answer.read()
            assert answer.status == 200, (url, answer.status)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def throughput(http: aiohttp.ClientSession, urls: list[str], seconds: float) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        nonlocal done
        n = offset
        while time.perf_counter() < deadline:
            async with http.get(urls[n % len(urls)]) as answer:
                await answer.read()
                assert answer.status == 200
            done += 1
            n += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(CONCURRENCY)))
    return done / (time.perf_counter() - started)


async def measure(base: str, paths: dict[str, str], count: int, seconds: float) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:
        figures: dict[str, Any] = {}
        for name, path in paths.items():
            await latencies(http, base + path, 3)  # warm up
            samples = await latencies(http, base + path, count)
            began = time.time()
            rps = await throughput(http, [base + path], seconds)
            window = (began, time.time())
            figures[name] = (percentile(samples, 50), percentile(samples, 99), rps, window)
        return figures


async def page_size(base: str, path: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(base + path) as answer:
        return len(await answer.read())


async def prepare(path: Path, size: int) -> tuple[str, list[str], list[str]]:
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    await migrate_to_head(engine)
    await engine.dispose()
    words, tags = build_sqlite(path, size, random.Random(size))
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.exec_driver_sql(
            "INSERT INTO published_libraries (guild_id, slug, published, include_names, "
            f"updated_by, updated_at) VALUES ({GUILD}, '{SLUG}', 1, 0, 1, '2024-01-01 00:00:00')"
        )
    await engine.dispose()
    return url, words, tags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300, help="per page, for p50/p99")
    parser.add_argument("--seconds", type=float, default=10.0, help="of the throughput run")
    parser.add_argument("--smoke", action="store_true", help="10^3 resources, a few seconds")
    args = parser.parse_args()
    size, count, seconds = (
        (1000, 30, 1.0) if args.smoke else (args.size, args.requests, args.seconds)
    )
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        url, words, tags = asyncio.run(prepare(Path(folder) / "web.db", size))
        built = time.perf_counter() - started
        print(f"== {size:,} resources, published (SQLite; built in {built:.1f} s)")
        paths = {
            "library page": f"/g/{SLUG}/",
            "search": f"/g/{SLUG}/search?q={words[40]}",
            "tag page": f"/g/{SLUG}/tag/{tags[0]}",
        }
        floor = Server("floor", floor_size=20_000)
        with floor as base:
            floor_figures = asyncio.run(measure(base, {"fixed page": "/"}, count, seconds))
        for kind, label in (("site", "every page built"), ("cached", "lists cached")):
            site = Server(kind, url)
            with site as base:
                body = asyncio.run(page_size(base, paths["library page"]))
                figures = asyncio.run(measure(base, paths, count, seconds))
            report(label, paths, figures, floor_figures, site, floor)
    print(f"\n(the library page is {body:,} bytes; the floor returns a fixed page of 20,000)")


def report(
    label: str,
    paths: dict[str, str],
    figures: dict[str, Any],
    floor: dict[str, Any],
    site: Server,
    floor_server: Server,
) -> None:
    floor_p50, floor_p99, floor_rps, floor_window = floor["fixed page"]
    floor_stall = floor_server.stall_ms(floor_window)
    print(f"\n-- the site, {label}")
    print(f"{'what':<28}{'site':>10}{'floor':>10}{'ratio':>8}   target")
    for name in paths:
        p50, p99, rps, window = figures[name]
        row(f"{name} p50 (ms)", p50, floor_p50)
        row(f"{name} p99 (ms)", p99, floor_p99, "<= 50")
        row(f"{name} /s, 16 clients", rps, floor_rps, ">= 300")
        row("  its loop stall max (ms)", site.stall_ms(window), floor_stall, "<= 50")


def row(what: str, figure: float, floor: float, target: str = "") -> None:
    print(f"{what:<28}{figure:>10.1f}{floor:>10.1f}{figure / max(floor, 0.01):>8.2f}   {target}")


if __name__ == "__main__":
    main()
