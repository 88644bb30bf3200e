"""Scheduling benchmark: start-up with 10,000 schedules in 1,000 guilds, and firing lateness.

    .venv/bin/python bench/scheduling.py [database-url]

Without a URL it uses a temporary SQLite file. Prints figures; it is not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import insert, select

from bot.clock import SystemClock
from bot.database import SessionFactory, create_engine, create_session_factory, migrate_to_head
from bot.guilds.models import Guild
from bot.scheduling import Recurrence, SchedulingCore, SlotContext
from bot.scheduling.models import Schedule
from bot.scheduling.schedules import info_of, rule_columns

GUILDS = 1_000  # --smoke divides these by 10
SCHEDULES = 10_000
FIRINGS = 300
FIRING_WINDOW_S = 15.0
INTERACTIONS_PER_S = 50
ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]


async def seed(sessions: SessionFactory, now: datetime) -> None:
    guild_rows = [
        {"id": 10_000 + g, "name": f"guild {g}", "timezone": "UTC", "joined_at": now}
        for g in range(GUILDS)
    ]
    rows = []
    for n in range(SCHEDULES):
        rule = Recurrence(
            "weekly",
            wall_time(7 + n % 12, (n * 7) % 60),
            ZONES[n % len(ZONES)],
            date(2026, 1, 5),
            weekdays=(n % 7,),
        )
        row = Schedule(
            guild_id=10_000 + n % GUILDS,
            kind="bench.weekly",
            label="",
            payload={},
            paused=False,
            created_by=1,
            created_at=now,
            offset_minutes=0,
            **rule_columns(rule),
        )
        columns = {c.key: getattr(row, c.key) for c in Schedule.__table__.columns if c.key != "id"}
        columns["next_run_at"] = info_of(row).next_slot_after(now + timedelta(days=1))
        rows.append(columns)
    async with sessions() as session, session.begin():
        await session.execute(insert(Guild), guild_rows)
        for start in range(0, len(rows), 1000):
            await session.execute(insert(Schedule), rows[start : start + 1000])


async def startup_figures(sessions: SessionFactory, core: SchedulingCore) -> None:
    started = time.perf_counter()
    await core.start()  # recover + catch up + arm the alarm: what the bot does at start-up
    startup = time.perf_counter() - started
    started = time.perf_counter()
    async with sessions() as session:
        rows = (await session.scalars(select(Schedule))).all()
    now = datetime.now(UTC)
    for row in rows:
        info_of(row).next_slot_after(now)
    rebuild = time.perf_counter() - started
    print(f"start-up with {SCHEDULES:,} schedules in {GUILDS:,} guilds: {startup * 1000:.0f} ms")
    print(f"  full rebuild (load every rule, next instant of each): {rebuild * 1000:.0f} ms")


async def lateness_figures(sessions: SessionFactory, core: SchedulingCore) -> None:
    lateness: list[float] = []

    async def handler(slot: SlotContext) -> None:
        lateness.append((datetime.now(UTC) - slot.slot_at).total_seconds())

    core.registry.register("bench.once", handler, grace=timedelta(minutes=5))
    base = datetime.now(UTC) + timedelta(seconds=2)
    for n in range(FIRINGS):
        at = (base + timedelta(seconds=FIRING_WINDOW_S * n / FIRINGS)).replace(microsecond=0)
        rule = Recurrence("once", at.time(), "UTC", at.date())
        await core.schedules.create(
            10_000 + n % GUILDS, "g", 1, kind="bench.once", rule=rule, audit=False
        )
    await core.changed()

    handled = 0

    async def interaction(n: int) -> None:
        nonlocal handled
        await core.schedules.for_guild(10_000 + n % GUILDS)  # like a /mod schedule list
        handled += 1

    started = time.monotonic()
    tasks = []
    while len(lateness) < FIRINGS and time.monotonic() < started + FIRING_WINDOW_S + 8:
        tasks.append(asyncio.create_task(interaction(len(tasks))))
        await asyncio.sleep(1 / INTERACTIONS_PER_S)
    elapsed = time.monotonic() - started
    await asyncio.gather(*tasks)
    lateness.sort()
    p50 = statistics.median(lateness) * 1000
    p99 = lateness[int(len(lateness) * 0.99) - 1] * 1000
    rate = handled / elapsed
    print(
        f"firing lateness over {len(lateness)} slots (20 due each second) with {rate:.0f} "
        f"interactions/s: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {lateness[-1] * 1000:.0f} ms"
    )


async def main(url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_engine(url)
        await migrate_to_head(engine)
        sessions = create_session_factory(engine)
        now = datetime.now(UTC)
        await seed(sessions, now)
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.start()

        async def report(_guild_id: int, _text: str) -> None:
            return None

        core = SchedulingCore(
            sessions, SystemClock(), scheduler, guild_visible=lambda _g: True, report=report
        )
        core.registry.register("bench.weekly", lambda _slot: asyncio.sleep(0))
        print(f"database: {engine.dialect.name}")
        await startup_figures(sessions, core)
        await lateness_figures(sessions, core)
        print("Discord requests per chat occurrence with n questions: n + 10 (20 for 10 questions)")
        core.stop()
        await asyncio.sleep(0.1)  # let an alarm that is firing finish before the engine goes
        scheduler.shutdown(wait=False)
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="a PostgreSQL URL (default: a temp SQLite file)")
    parser.add_argument("--smoke", action="store_true", help="a tenth of the sizes, for CI")
    args = parser.parse_args()
    if args.smoke:
        GUILDS, SCHEDULES, FIRINGS, FIRING_WINDOW_S = 100, 1_000, 30, 3.0
    asyncio.run(main(args.url))
