"""The one world for end-to-end stories: the real bot, built by `build_bot`, against the emulator.

Every story starts from the same community (a guild with #general and #mod-log, a Moderators
role, a moderator and three members) and the same way to start, restart and stop the bot:

    world = await make_world(timezone="America/New_York", channels=("maths",))
    await world.run(world.alice, "share", {"url": ...})
    await world.tick(timedelta(hours=1))   # what the scheduler's alarm would do
    await world.restart(timedelta(hours=3))

`emulator` fails the test at teardown if the bot used a route the emulator does not know or broke
one of Discord's rules.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import discord.gateway
import discord.http
import msgspec
import pytest

from bot.app import build_bot
from bot.clock import FakeClock
from bot.core import PLNBot
from bot.scheduling import RunReport
from bot.settings import DatabaseSettings, DiscordSettings, Settings
from discord_emulator import Channel, DiscordEmulator, Guild, Member, Message, Permission, Stall
from discord_emulator.models import Role
from discord_emulator.permissions import channel_permissions

READY_TIMEOUT = 10.0
T = TypeVar("T")
BeforeSync = Callable[[PLNBot], None]


async def eventually(check: Callable[[], Awaitable[T | None]]) -> T:
    """Poll an async check (the database, which the emulator cannot watch) until it holds."""
    async with asyncio.timeout(READY_TIMEOUT):
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.02)


def text_of(message: Message) -> str:
    """What a member reads in a message: its content and every embed's text."""
    parts = [message.content]
    for embed in message.embeds:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
        parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(parts)


def embeds_of(messages: list[Message]) -> list[tuple[str, str, str]]:
    """Each embed's title, description and footer text, in order."""
    return [
        (e.get("title", ""), e.get("description", ""), (e.get("footer") or {}).get("text", ""))
        for m in messages
        for e in m.embeds
    ]


def e2e_settings(emulator: DiscordEmulator, database_url: str) -> Settings:
    return Settings(
        discord=DiscordSettings(
            token=emulator.token,
            api_base_url=emulator.api_base_url,
            gateway_url=emulator.gateway_url,
            message_content_intent=True,
            members_intent=True,
            guild_ready_timeout=0.01,
        ),
        database=DatabaseSettings(url=database_url, auto_migrate=True),
    )


async def launch_bot(
    emulator: DiscordEmulator,
    database_url: str,
    clock: FakeClock | None = None,
    *,
    before_sync: BeforeSync | None = None,
    **sections: Any,
) -> tuple[PLNBot, asyncio.Task[None]]:
    """The real bot, logged in, connected, ready and with its commands synced.

    `sections` replace settings sections (e.g. `web=WebSettings(...)`); `before_sync(bot)` may add
    test-only commands to the tree first. Stop it with `stop_bot`.
    """
    settings = msgspec.structs.replace(e2e_settings(emulator, database_url), **sections)
    bot = build_bot(settings, clock=clock)
    began = time.perf_counter()
    await bot.login(emulator.token)  # runs setup_hook: migrations, cogs, scheduler
    task = asyncio.create_task(bot.connect(), name="pln-bot-connect")
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait(
        {ready, task}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
    )
    if ready not in done:
        ready.cancel()
        if task in done:
            task.result()
        await bot.close()
        raise TimeoutError("the bot did not become ready")
    print(f"\n[e2e] login + connect to READY: {(time.perf_counter() - began) * 1000:.0f} ms")
    if before_sync is not None:
        before_sync(bot)
    await bot.tree.sync()  # global, so the emulator knows the commands members can use
    started = bot.scheduling_started()
    if started is not None:  # recovery and catch-up after the first READY
        await asyncio.wait_for(started, READY_TIMEOUT)
    return bot, task


async def stop_bot(bot: PLNBot, task: asyncio.Task[None]) -> None:
    await bot.close()
    await asyncio.wait_for(task, READY_TIMEOUT)
    assert task.exception() is None


@dataclass
class World:
    emu: DiscordEmulator
    clock: FakeClock
    database_url: str
    guild: Guild
    general: Channel
    log: Channel
    mod_role: Role
    mod: Member
    alice: Member
    bob: Member
    carol: Member
    channels: dict[str, Channel]
    sections: dict[str, Any]
    bot: PLNBot = field(init=False)
    task: asyncio.Task[None] = field(init=False)

    async def start(self, before_sync: BeforeSync | None = None) -> PLNBot:
        self.bot, self.task = await launch_bot(
            self.emu, self.database_url, self.clock, before_sync=before_sync, **self.sections
        )
        return self.bot

    async def stop(self) -> None:
        if not self.bot.is_closed():
            await stop_bot(self.bot, self.task)

    async def restart(self, down_for: timedelta = timedelta()) -> PLNBot:
        """Stop the bot, let time pass, start it again on the same database."""
        await self.stop()
        self.clock.advance(down_for)
        return await self.start()

    async def invoke(
        self,
        who: Member,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        channel: Channel | None = None,
        **kw: Any,
    ) -> Any:
        # The server's admins gave the Moderators role the moderator commands (Server Settings →
        # Integrations), which Discord hides from members by default.
        kw.setdefault("bypass_default_permissions", who is self.mod)
        return await self.emu.invoke(who, command, options, channel=channel or self.general, **kw)

    async def autocomplete(
        self, who: Member, command: str, options: dict[str, Any], *, focused: str
    ) -> list[Any]:
        """The choices the bot offers while `who` types option `focused` in #general."""
        return await self.emu.autocomplete(
            who,
            command,
            options,
            focused=focused,
            channel=self.general,
            bypass_default_permissions=who is self.mod,
        )

    async def run(
        self,
        who: Member,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        channel: Channel | None = None,
        **kw: Any,
    ) -> Message:
        """Invoke a slash command and return the bot's (first) answer."""
        interaction = await self.invoke(who, command, options, channel=channel, **kw)
        return await self.emu.wait_for_response(interaction)

    async def followup(
        self, who: Member, command: str, options: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[Any, Message]:
        """A deferred command: the interaction and its first follow-up."""
        interaction = await self.invoke(who, command, options, **kw)
        return interaction, await self.emu.wait_for_followup(interaction, 0)

    async def tick(self, delta: timedelta) -> RunReport:
        """Move time on and let the runner do what is due (what the APScheduler alarm does)."""
        return await self.tick_to(self.clock.now() + delta)

    async def tick_to(self, instant: datetime) -> RunReport:
        self.clock.set(instant)
        runner = self.bot.services.scheduling.runner
        report = await runner.run_due()
        # A change (/mod chat skip) re-arms the real alarm for "now": its pass may have claimed the
        # slot, and runs it in the background; wait for that too.
        await runner.join()
        return report

    async def crash_at(self, instant: datetime, stall: Stall) -> None:
        """Run what is due at `instant` and die where `stall` holds a request to Discord, as a
        process killed there would: the runs stop where they are (their claims stay `claimed`,
        nothing after that point is recorded), the held request never gets its answer, and the
        bot is gone. `restart` starts a new one on the same database."""
        ticking = asyncio.create_task(self.tick_to(instant))
        await stall.wait()
        # Every slot in flight dies, also one the real alarm started (a chat's next step).
        dying = [ticking] + [
            task for task in asyncio.all_tasks() if task.get_name().startswith("scheduling-run-")
        ]
        for task in dying:
            task.cancel()
        await asyncio.wait(dying)
        stall.drop()  # held before its handler: it never reaches it
        await self.stop()

    async def eventually(self, check: Callable[[], Awaitable[T | None]]) -> T:
        return await eventually(check)

    def bot_posts(self, channel: Channel) -> list[Message]:
        """What the bot posted on its own (not answers to commands) in a channel."""
        bot_id = self.emu.state.bot_user.id
        return [
            m
            for m in self.emu.history(channel)
            if m.author.id == bot_id and m.interaction_id is None
        ]

    def threads(self, parent: Channel | None = None) -> list[Channel]:
        parent_id = (parent or self.general).id
        return [c for c in self.emu.state.channels.values() if c.parent_id == parent_id]

    def channel_named(self, name: str) -> Channel | None:
        for channel in self.emu.state.guild_channels(self.guild):
            if channel.name == name:
                return channel
        return None

    def role_named(self, name: str) -> Role | None:
        return next((r for r in self.guild.roles.values() if r.name == name), None)

    def can_see(self, member: Member, channel: Channel) -> bool:
        parent = self.emu.state.channels.get(channel.parent_id or 0)
        perms = channel_permissions(self.guild, member, channel, parent)
        return bool(perms & Permission.VIEW_CHANNEL)


class MakeWorld(Protocol):
    async def __call__(
        self,
        *,
        database_url: str | None = None,
        timezone: str | None = None,
        channels: Sequence[str] = (),
        before_sync: BeforeSync | None = None,
        **sections: Any,
    ) -> World: ...


@pytest.fixture
def _restore_discord_endpoints() -> Iterator[None]:
    """build_bot sets discord.py's class-level endpoints; put them back for other tests."""
    old = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old


@pytest.fixture
async def emulator(clock: FakeClock) -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(clock=clock.now) as emu:
        yield emu
        emu.assert_no_violations()


@pytest.fixture
async def make_world(
    emulator: DiscordEmulator, sqlite_url: str, clock: FakeClock, _restore_discord_endpoints: None
) -> AsyncIterator[MakeWorld]:
    """`await make_world(...)`: the community, the bot started against it, its settings made.

    `database_url` defaults to a fresh SQLite file; `timezone` is the server's; `channels` are
    extra text channels (`world.channels[name]`); `sections` replace settings sections.
    """
    made: list[World] = []

    async def make(
        *,
        database_url: str | None = None,
        timezone: str | None = None,
        channels: Sequence[str] = (),
        before_sync: BeforeSync | None = None,
        **sections: Any,
    ) -> World:
        emu = emulator
        guild = emu.create_guild("PLN")
        general = emu.create_channel(guild, "general")
        log = emu.create_channel(guild, "mod-log")
        extra = {name: emu.create_channel(guild, name) for name in channels}
        mod_role = emu.create_role(guild, "Moderators")
        world = World(
            emu=emu,
            clock=clock,
            database_url=database_url or sqlite_url,
            guild=guild,
            general=general,
            log=log,
            mod_role=mod_role,
            mod=emu.create_member(guild, "mod", roles=[mod_role]),
            alice=emu.create_member(guild, "alice"),
            bob=emu.create_member(guild, "bob"),
            carol=emu.create_member(guild, "carol"),
            channels=extra,
            sections=sections,
        )
        bot = await world.start(before_sync)
        made.append(world)
        await bot.services.guilds.update_settings(
            guild.id,
            guild.name,
            0,
            moderator_role_id=mod_role.id,
            log_channel_id=log.id,
            **({"timezone": timezone} if timezone else {}),
        )
        return world

    yield make
    for world in made:
        await world.stop()
    await _no_tasks_left_behind()


async def _no_tasks_left_behind() -> None:
    """Tasks still running after bot.close() would hang the event loop's shutdown (and the test
    until pytest-timeout). Cancel them, and fail with their names if they will not stop."""
    current = asyncio.current_task()
    left = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    if not left:
        return
    for task in left:
        task.cancel()
    _, stuck = await asyncio.wait(left, timeout=5)
    names = ", ".join(f"{t.get_name()} ({t.get_coro()})" for t in left)
    print(f"\n[e2e] tasks still running after bot.close(), cancelled: {names}")
    assert not stuck, f"tasks survive bot.close() and cancellation: {stuck}"
