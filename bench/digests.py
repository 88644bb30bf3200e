"""Benchmark personal digests: N weekly DMs through the real bot, under Discord's rate limits.

    .venv/bin/python bench/digests.py --smoke          # 40 digests, about 15 s (CI)
    .venv/bin/python bench/digests.py                  # 10,000 digests, about 45 minutes

The real bot runs against the emulator with Discord's rate limits on (50 requests a second for
the whole bot, per-route buckets; see discord_emulator/ratelimits.py). N members follow a topic with
a week of shares and chose the same hour for their digest. The fake clock then jumps to the end
of that hour, so every digest is due at once: the worst case (the bot was down for the hour),
which leaves all the pacing to the bot. Prints how long the digests took, the requests a second,
the 429s by scope, and whether every member got exactly one DM.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from bot.app import build_bot
from bot.clock import FakeClock
from bot.core import PLNBot
from bot.digests.models import DigestDelivery
from bot.settings import DatabaseSettings, DiscordSettings, Secret, Settings
from bot.topics.models import Topic, TopicFollower
from cogs.digests._cog import DigestCog
from discord_emulator import Channel, DiscordEmulator, Guild, Member, RateLimits

MONDAY_8AM = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
END_OF_HOUR = MONDAY_8AM + timedelta(hours=2)  # digests chose Monday 09:00 (UTC guild)
LINKS = 30


async def launch(emulator: DiscordEmulator, url: str, clock: FakeClock) -> PLNBot:
    settings = Settings(
        discord=DiscordSettings(
            token=Secret(emulator.token),
            api_base_url=emulator.api_base_url,
            gateway_url=emulator.gateway_url,
            members_intent=True,
            guild_ready_timeout=0.01,
        ),
        database=DatabaseSettings(url=url),
    )
    bot = build_bot(settings, clock=clock)
    await bot.login(emulator.token)
    bot.loop.create_task(bot.connect(), name="bench-connect")
    await asyncio.wait_for(bot.wait_until_ready(), 60)
    started = bot.scheduling_started()
    if started is not None:
        await started
    return bot


async def seed(
    bot: PLNBot, guild: Guild, maths: Channel, sharers: list[Member], people: list[Member]
) -> None:
    """A week of shares by `sharers` in the maths topic, which `people` follow and digest."""
    library = bot.services.library
    for i in range(LINKS):
        for sharer in sharers[: 1 + i % 3]:
            await library.share(
                guild.id, maths.id, sharer.user.id, f"https://maths.example/{i}", title=f"Maths {i}"
            )
    async with bot.sessions() as session, session.begin():
        topic = Topic(
            guild_id=guild.id,
            name="Maths",
            name_key="maths",
            channel_id=maths.id,
            default_tags=[],
            created_by=sharers[0].user.id,
            created_at=MONDAY_8AM,
        )
        session.add(topic)
        await session.flush()
        session.add_all(
            TopicFollower(
                topic_id=topic.id, user_id=m.user.id, guild_id=guild.id, followed_at=MONDAY_8AM
            )
            for m in people
        )
    cog = next(c for c in bot.cogs.values() if isinstance(c, DigestCog))
    started = time.perf_counter()
    for m in people:
        await cog.service.turn_on(guild.id, guild.name, m.user.id, weekday=0, local_time="09:00")
    print(f"{len(people):,} members opted in ({time.perf_counter() - started:.0f} s)")


async def sent_count(bot: PLNBot) -> Counter[str]:
    async with bot.sessions() as session:
        rows = await session.execute(
            select(DigestDelivery.status, func.count()).group_by(DigestDelivery.status)
        )
        return Counter({status: count for status, count in rows})


async def bench(members: int, url: str) -> None:
    clock = FakeClock(MONDAY_8AM)
    limits = RateLimits()
    async with DiscordEmulator(clock=clock.now, rate_limits=limits, openapi_spec=None) as emu:
        guild = emu.create_guild("PLN")
        emu.create_channel(guild, "general")
        maths = emu.create_channel(guild, "maths")
        sharers = [emu.create_member(guild, f"sharer{i}") for i in range(3)]
        people = [emu.create_member(guild, f"member{i}") for i in range(members)]
        bot = await launch(emu, url, clock)
        try:
            await seed(bot, guild, maths, sharers, people)
            limits.reset()
            before = len(emu.requests)
            clock.set(END_OF_HOUR)
            started = time.perf_counter()
            progress = asyncio.create_task(report_progress(bot, members, started))
            report = await bot.services.scheduling.runner.run_due()
            elapsed = time.perf_counter() - started
            progress.cancel()
            stats = limits.stats()
            counts = await sent_count(bot)
            dms = Counter(len(emu.dm_history(m)) for m in people)
        finally:
            await bot.close()
    print(
        f"{counts['sent']:,} digests sent in {elapsed:.0f} s ({elapsed / 60:.1f} min, "
        f"{counts['sent'] / elapsed:.1f} a second); runs done {len(report.done):,}, "
        f"failed {len(report.failed)}"
    )
    print(
        f"requests: {len(emu.requests) - before:,}, at most {stats.peak_per_second} in one "
        f"second (Discord's global limit: {limits.global_per_second})"
    )
    print(f"429s: global {stats.global_429s}, per route {stats.route_429s}")
    exactly_once = dms == Counter({1: members})
    print(f"every member got exactly one DM: {'yes' if exactly_once else f'no ({dict(dms)})'}")
    if not exactly_once or stats.global_429s:
        raise SystemExit(1)


async def report_progress(bot: PLNBot, members: int, started: float) -> None:
    while True:
        await asyncio.sleep(60)
        sent = (await sent_count(bot))["sent"]
        minutes = (time.perf_counter() - started) / 60
        print(f"  {minutes:4.0f} min: {sent:,} of {members:,} sent", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--url", default=None, help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--smoke", action="store_true", help="40 digests, for CI")
    args = parser.parse_args()
    members = 40 if args.smoke else args.members
    with tempfile.TemporaryDirectory() as directory:
        url = args.url or f"sqlite+aiosqlite:///{directory}/digests.db"
        print(f"== {members:,} digests due at once, against Discord's rate limits")
        asyncio.run(bench(members, url))


if __name__ == "__main__":
    main()
