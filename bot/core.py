"""The bot: opens resources in `setup_hook`, loads every cog, and releases it all in `close()`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import __version__
from bot.clean import clean_text
from bot.clock import Clock
from bot.database import SessionFactory, migrate_to_head, pending_migrations
from bot.errors import StartupError
from bot.services import Services
from bot.settings import Settings
from bot.tree import PLNCommandTree
from bot.ui.moderation import moderation_root
from bot.ui.modlog import ModLog
from bot.wording import plural

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30


def build_intents(settings: Settings) -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.guild_reactions = True
    intents.guild_scheduled_events = True
    intents.dm_messages = True
    # Privileged: members (follower counts, leaves) and message content (link capture).
    intents.members = settings.discord.members_intent
    intents.message_content = settings.discord.message_content_intent
    return intents


# A text bot: no voice, so no warnings about voice libraries at start-up.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


class PLNBot(commands.AutoShardedBot):
    def __init__(
        self,
        *,
        settings: Settings,
        engine: AsyncEngine,
        sessions: SessionFactory,
        scheduler: AsyncIOScheduler,
        clock: Clock,
        services: Services,
        extensions: Sequence[str],
        background_jobs: bool = True,
    ) -> None:
        # The command tree reads the settings while super().__init__ builds it.
        self.settings = settings
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=build_intents(settings),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=PLNCommandTree,
            shard_count=settings.discord.shard_count,
            # discord.py accepts None ("all shards") although its stub says list[int].
            shard_ids=list(ids) if (ids := settings.discord.shard_ids) else None,  # type: ignore[arg-type]
            guild_ready_timeout=settings.discord.guild_ready_timeout,
            max_messages=1000,
        )
        self.engine = engine
        self.sessions = sessions
        self.scheduler = scheduler
        self.clock = clock
        self.background_jobs = background_jobs
        self.version = __version__
        self.started_at: datetime = clock.now()
        self.services = services
        self.modlog = ModLog(self, services.guilds)
        # /mod: each feature's cog adds its moderators' group when it loads.
        self.moderation = moderation_root()
        self._extensions = tuple(extensions)
        self._background: list[asyncio.Task[None]] = []
        self._closing: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        # Runs after the token was accepted: migrating here means a rejected token writes nothing.
        await self._prepare_database()
        for name in self._extensions:
            await self.load_extension(name)
        if self.moderation.commands:
            self.tree.add_command(self.moderation)
        if self.background_jobs:
            self.scheduler.start()
            self._background.append(
                asyncio.create_task(self._start_scheduling(), name="plnbot-scheduling-start")
            )
            if self.settings.health.heartbeat_file:
                self._background.append(asyncio.create_task(self._beat(), name="plnbot-heartbeat"))

    async def _start_scheduling(self) -> None:
        # After the first READY, when this process knows which guilds it serves (its shards).
        await self.wait_until_ready()
        try:
            report = await self.services.scheduling.start()
        except Exception:
            log.exception("The scheduler could not catch up; its sweep retries in a few minutes")
            return
        log.info(
            "Scheduling started: %d run, %d missed, %d recovered",
            len(report.done),
            len(report.missed),
            len(report.recovered),
        )

    def scheduling_started(self) -> asyncio.Task[None] | None:
        """The start-up catch-up task (tests await it after a restart)."""
        return next(
            (t for t in self._background if t.get_name() == "plnbot-scheduling-start"), None
        )

    async def _prepare_database(self) -> None:
        pending = await pending_migrations(self.engine)
        if not pending:
            return
        if not self.settings.database.auto_migrate:
            raise StartupError(
                f"The database needs {plural(len(pending), 'migration')} "
                f"({', '.join(pending)}) and "
                "database.auto_migrate is false. Run `plnbot migrate` first."
            )
        applied = await migrate_to_head(self.engine)
        log.info("Applied migrations: %s", ", ".join(applied))

    async def close(self) -> None:
        # A signal handler and `async with bot` may both close: release everything once, and let
        # every caller wait for that one release to finish.
        if self._closing is None:
            self._closing = asyncio.create_task(self._release(), name="plnbot-close")
        await self._closing

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # discord.py's own __aexit__ waits only for its part of closing when a close is under
        # way (e.g. started by a signal handler); wait for ours, which releases the database.
        await self.close()

    async def _release(self) -> None:
        # Reverse order of setup_hook: background work stops before what it uses is released.
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.services.scheduling.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.services.scheduling.wait_idle()
        await super().close()  # gateway and cogs
        await self.services.fetcher.close()
        await self.engine.dispose()

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        # Every listener that captures what members write (links in topic channels, chat
        # answers) gets a message through here: its content is cleaned once, for all of them.
        if event_name == "message" and args and isinstance(args[0], discord.Message):
            args[0].content = clean_text(args[0].content)
        super().dispatch(event_name, *args, **kwargs)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.services.guilds.ensure_guild(guild.id, guild.name)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.services.guilds.mark_left(guild.id)

    async def _beat(self) -> None:
        path = Path(self.settings.health.heartbeat_file)
        await self.wait_until_ready()
        while not self.is_closed():
            if self.is_ready() and all(not s.is_closed() for s in self.shards.values()):
                await asyncio.to_thread(path.touch)
            await asyncio.sleep(HEARTBEAT_SECONDS)
