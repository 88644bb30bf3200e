"""Memory benchmark: the bot's resident memory with a 10,000-member guild, beside a bare client.

    .venv/bin/python bench/memory.py [--members 10000]

The local Discord emulator serves one guild of that many members. Three fresh processes connect
to it in turn, each with the bot's intents and message cache: a bare discord.py client (the
floor); the same client carrying the rest of the required stack (discord.py's commands
extension, SQLAlchemy's asyncio ORM with aiosqlite, APScheduler), used once (one mapped table,
one query, a started scheduler), which is what any bot on this stack carries; and the bot as
`plnbot run` starts it on an up-to-date SQLite database (cogs, schedules). Each reports its RSS
once connected with every member cached, and after its imports alone. Target: bot <= 1.5x the
bare client.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

READY_SECONDS = 120.0


def rss_mib() -> float:
    """This process's resident set size, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


# --- the two clients, each in a process of its own ----------------------------------------------


# What the user chose beside the bare client, imported as the bot imports it on SQLite.
STACK = (
    "discord.ext.commands",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "aiosqlite",
    "apscheduler.schedulers.asyncio",
)


async def use_the_stack(database: str) -> object:
    """One mapped table created, written and read through the asyncio ORM, and a scheduler
    started with one job: the stack's first-use costs, without the bot. Returns the scheduler."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from sqlalchemy import Integer, String, select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.orm import DeclarativeBase, mapped_column

    class Base(DeclarativeBase):
        pass

    class Note(Base):
        __tablename__ = "stack_notes"
        # Not annotated: this module's annotations are strings, and the class is local.
        id = mapped_column(Integer, primary_key=True)
        text = mapped_column(String(50))

    engine = create_async_engine(f"sqlite+aiosqlite:///{database}.stack")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with async_sessionmaker(engine)() as session, session.begin():
        session.add(Note(text="first"))
        await session.flush()
        (await session.execute(select(Note))).scalars().all()
    scheduler = AsyncIOScheduler()
    scheduler.add_job(print, "interval", hours=1)
    scheduler.start()
    return scheduler


async def bare_client(
    api: str, gateway: str, token: str, members: int, database: str, stack: bool = False
) -> dict[str, float]:
    import importlib

    import discord
    import yarl

    if stack:
        for module in STACK:
            importlib.import_module(module)
    imported = rss_mib()
    # Held until the process exits, as the bot holds its engine and scheduler.
    in_use = await use_the_stack(database) if stack else None
    discord.http.Route.BASE = api
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    intents = discord.Intents.none()
    intents.guilds = intents.guild_messages = intents.guild_reactions = True
    intents.guild_scheduled_events = intents.dm_messages = intents.members = True
    intents.message_content = True
    client = discord.Client(intents=intents, max_messages=1000)
    async with client:
        await client.login(token)
        connecting = asyncio.create_task(client.connect(reconnect=False))
        await _wait_for_members(client, members, connecting)
        connected = rss_mib()
        await client.close()
        await asyncio.gather(connecting, return_exceptions=True)
    del in_use
    return {"imported": imported, "connected": connected}


async def the_bot(
    api: str, gateway: str, token: str, members: int, database: str
) -> dict[str, float]:
    from bot.app import build_bot
    from bot.cli import serve
    from bot.settings import DatabaseSettings, DiscordSettings, Secret, Settings, WebSettings

    imported = rss_mib()
    settings = Settings(
        discord=DiscordSettings(
            token=Secret(token),
            api_base_url=api,
            gateway_url=gateway,
            message_content_intent=True,
            members_intent=True,
            guild_ready_timeout=0.01,
        ),
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{database}"),
        web=WebSettings(fetch_pages=False),
    )
    bot = build_bot(settings)
    async with bot:
        serving = asyncio.create_task(serve(bot, token))
        await _wait_for_members(bot, members, serving)
        started = bot.scheduling_started()
        if started is not None:
            await asyncio.wait_for(started, READY_SECONDS)
        connected = rss_mib()
        await bot.close()
        await asyncio.gather(serving, return_exceptions=True)
    return {"imported": imported, "connected": connected}


async def _wait_for_members(client: object, members: int, task: asyncio.Task[None]) -> None:
    import discord

    assert isinstance(client, discord.Client)
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if task.done():
            task.result()
            raise RuntimeError("the client stopped before it was ready")
        if client.is_ready() and client.guilds and len(client.guilds[0].members) >= members:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"not connected with {members:,} members within {READY_SECONDS:.0f} s")


# --- the parent: the emulator and the comparison ------------------------------------------------


def child(kind: str, urls: dict[str, str], members: int, database: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", kind, "--members", str(members)]
    command += ["--urls", json.dumps(urls), "--database", database]
    done = subprocess.run(command, capture_output=True, text=True, timeout=READY_SECONDS * 2)
    if done.returncode != 0:
        raise SystemExit(f"the {kind} process failed:\n{done.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


async def parent(members: int) -> None:
    from bot.database import create_engine, migrate_to_head
    from discord_emulator import DiscordEmulator

    # An installed bot has its bytecode written at install time, as the libraries have theirs
    # (pip compiles both); a source tree under PYTHONDONTWRITEBYTECODE would compile each module
    # at every start, and the compiler's memory would count as the bot's.
    for package in ("bot", "cogs"):
        compileall.compile_dir(REPO / package, quiet=1)

    emulator = DiscordEmulator(openapi_spec=None)
    guild = emulator.create_guild("Big PLN")
    for n in range(members - len(guild.members)):
        emulator.create_member(guild, f"member{n}")
    async with emulator:
        urls = {
            "api": emulator.api_base_url,
            "gateway": emulator.gateway_url,
            "token": emulator.token,
        }
        with tempfile.TemporaryDirectory() as tmp:
            database = str(Path(tmp) / "memory.db")
            # Migrated beforehand: the figure is a bot restarting on its database, which is
            # every start but the first.
            engine = create_engine(f"sqlite+aiosqlite:///{database}")
            await migrate_to_head(engine)
            await engine.dispose()
            # The emulator answers from this process: run the children off its event loop.
            bare = await asyncio.to_thread(child, "bare", urls, members, database)
            stack = await asyncio.to_thread(child, "stack", urls, members, database)
            bot = await asyncio.to_thread(child, "bot", urls, members, database)
    print(f"resident memory with a {members:,}-member guild (target: bot <= 1.5x the floor)")
    print(f"  floor, bare discord.py client:        {bare['connected']:6.1f} MiB")
    print(
        f"  the same with the stack, used once:   {stack['connected']:6.1f} MiB   "
        f"x{stack['connected'] / bare['connected']:.2f}"
    )
    print(
        f"  the bot (SQLite):                     {bot['connected']:6.1f} MiB   "
        f"x{bot['connected'] / bare['connected']:.2f} (x{bot['connected'] / stack['connected']:.2f}"
        " of the stack's)"
    )
    print(
        f"  after imports alone: bare {bare['imported']:.1f} MiB, stack "
        f"{stack['imported']:.1f} MiB, bot {bot['imported']:.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--smoke", action="store_true", help="500 members, for CI")
    parser.add_argument("--child", choices=["bare", "stack", "bot"], help=argparse.SUPPRESS)
    parser.add_argument("--urls", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    members = 500 if args.smoke else args.members
    if args.child is None:
        asyncio.run(parent(members))
        return
    urls = json.loads(args.urls)
    if args.child in ("bare", "stack"):
        figures = asyncio.run(
            bare_client(
                urls["api"],
                urls["gateway"],
                urls["token"],
                members,
                args.database,
                stack=args.child == "stack",
            )
        )
    else:
        figures = asyncio.run(
            the_bot(urls["api"], urls["gateway"], urls["token"], members, args.database)
        )
    print(json.dumps(figures))
    sys.stdout.flush()
    os._exit(0)  # figures are out; skip interpreter teardown


if __name__ == "__main__":
    main()
