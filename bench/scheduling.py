"""Scheduling benchmark: start-up with 10,000 schedules in 1,000 guilds, and firing lateness.

    .venv/bin/python bench/scheduling.py [postgresql-server-url]

Without a URL it uses a temporary SQLite file; with one, a throw-away database on that server.
Lateness is measured per slot and per pass (one second's slots are claimed together) under 50
interactions/s, beside the floor: bare APScheduler date jobs under the same load. Prints figures;
it is not a pass/fail test.
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

from _fresh import fresh_postgres
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import insert, select

from bot.clock import SystemClock
from bot.database import SessionFactory, create_engine, create_session_factory, migrate_to_head
from bot.guilds.models import Guild
from bot.scheduling import Recurrence, SchedulingCore, SlotContext
from bot.scheduling.models import Schedule
from bot.scheduling.schedules import add_schedule, info_of, rule_columns

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


async def under_load(
    sessions: SessionFactory, core: SchedulingCore, fired: list[tuple[datetime, float]]
) -> float:
    """Keep INTERACTIONS_PER_S `/mod schedule list`-like reads going until every firing was
    seen (or the window ran out); returns the interaction rate reached."""
    handled = 0

    async def interaction(n: int) -> None:
        nonlocal handled
        await core.schedules.for_guild(10_000 + n % GUILDS)
        handled += 1

    started = time.monotonic()
    tasks = []
    while len(fired) < FIRINGS and time.monotonic() < started + FIRING_WINDOW_S + 8:
        tasks.append(asyncio.create_task(interaction(len(tasks))))
        await asyncio.sleep(1 / INTERACTIONS_PER_S)
    elapsed = time.monotonic() - started
    await asyncio.gather(*tasks)
    return handled / elapsed


def firing_instants() -> list[datetime]:
    base = datetime.now(UTC) + timedelta(seconds=2)
    return [
        (base + timedelta(seconds=FIRING_WINDOW_S * n / FIRINGS)).replace(microsecond=0)
        for n in range(FIRINGS)
    ]


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * 0.99) - 1, 0)]


async def floor_lateness(
    sessions: SessionFactory, core: SchedulingCore, scheduler: AsyncIOScheduler
) -> tuple[float, float]:
    """The plainest way: one APScheduler date job per firing, under the same load (ms)."""
    fired: list[tuple[datetime, float]] = []

    async def job(at: datetime) -> None:
        fired.append((at, (datetime.now(UTC) - at).total_seconds()))

    for at in firing_instants():
        scheduler.add_job(job, DateTrigger(run_date=at), args=[at], misfire_grace_time=None)
    await under_load(sessions, core, fired)
    late = [lateness for _at, lateness in fired]
    return statistics.median(late) * 1000, p99(late) * 1000


async def lateness_figures(
    sessions: SessionFactory, core: SchedulingCore, scheduler: AsyncIOScheduler
) -> None:
    fired: list[tuple[datetime, float]] = []

    async def handler(slot: SlotContext) -> None:
        fired.append((slot.slot_at, (datetime.now(UTC) - slot.slot_at).total_seconds()))

    core.registry.register("bench.once", handler, grace=timedelta(minutes=5))
    # One transaction, so that the first slots are not already due while the rest are made.
    async with sessions() as session, session.begin():
        for n, at in enumerate(firing_instants()):
            rule = Recurrence("once", at.time(), "UTC", at.date())
            guild = 10_000 + n % GUILDS
            await add_schedule(
                session, datetime.now(UTC), guild, 1, kind="bench.once", rule=rule, audit=False
            )
    await core.changed()
    rate = await under_load(sessions, core, fired)
    late = [lateness for _at, lateness in fired]
    # A pass claims one second's slots together; its lateness is that of its last slot.
    passes: dict[datetime, float] = {}
    for at, lateness in fired:
        passes[at] = max(passes.get(at, 0.0), lateness)
    floor_p50, floor_p99 = await floor_lateness(sessions, core, scheduler)
    per_second = FIRINGS / FIRING_WINDOW_S
    print(
        f"firing lateness, {len(late)} slots ({per_second:.0f} due each second), "
        f"{rate:.0f} interactions/s (target: p99 <= 50 ms):"
    )
    print(
        f"  per slot: p50 {statistics.median(late) * 1000:.0f} ms, p99 {p99(late) * 1000:.0f} "
        f"ms; the latest of {len(passes)} passes: {max(passes.values()) * 1000:.0f} ms"
    )
    print(
        f"  floor (bare APScheduler date jobs, same load): p50 {floor_p50:.1f} ms, "
        f"p99 {floor_p99:.1f} ms; ratio at p99 x{p99(late) * 1000 / max(floor_p99, 0.1):.1f}"
    )


async def main(server_url: str | None) -> None:
    if server_url:
        async with fresh_postgres(server_url) as url:
            await bench(url)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            await bench(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")


async def bench(url: str) -> None:
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
    await lateness_figures(sessions, core, scheduler)
    print("Discord requests per chat occurrence with n questions: n + 10 (20 for 10 questions)")
    core.stop()
    await asyncio.sleep(0.1)  # let an alarm that is firing finish before the engine goes
    scheduler.shutdown(wait=False)
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "url",
        nargs="?",
        help="a PostgreSQL server URL: the run uses a throw-away database there "
        "(default: a temp SQLite file)",
    )
    parser.add_argument("--smoke", action="store_true", help="a tenth of the sizes, for CI")
    args = parser.parse_args()
    if args.smoke:
        GUILDS, SCHEDULES, FIRINGS, FIRING_WINDOW_S = 100, 1_000, 30, 3.0
    asyncio.run(main(args.url))
