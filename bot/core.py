"""The bot: opens resources in `setup_hook`, loads every cog, and releases it all in `close()`."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import __version__
from bot.clean import clean_text
from bot.clock import Clock
from bot.database import SessionFactory, migrate_to_head, pending_migrations
from bot.errors import StartupError
from bot.paths import explain
from bot.services import Services
from bot.settings import Settings
from bot.tree import PLNCommandTree
from bot.ui.moderation import moderation_root
from bot.ui.modlog import ModLog
from bot.wording import plural

if TYPE_CHECKING:
    from bot.webui.server import Site

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
# Shutdown within Docker's 10 s stop timeout, whatever a background task or handler does: each
# step of closing gets this long before the next one goes ahead without it.
BACKGROUND_STOP_SECONDS = 1.0
SCHEDULING_STOP_SECONDS = 4.0
GATEWAY_CLOSE_SECONDS = 2.0
RELEASE_SECONDS = 1.0


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
        site: Site | None = None,
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
        # The library on the web ([web_ui] enabled): served from this process, read-only.
        self.site = site
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
        if self.site is not None:
            await self.site.start()
        # What exists by now (modules, models, commands, templates) lives as long as the
        # process: the collector's full passes stop walking it. Such a pass over the whole heap
        # stalled the event loop, the gateway's with it, by 100-345 ms.
        gc.collect()  # garbage first: a frozen cycle would never be freed
        gc.freeze()
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
        # Every step runs, within its time, whatever the one before it did: a failed background
        # task must never keep the gateway open.
        await self._stop_background()
        if self.site is not None:
            await _step("the web pages", self.site.stop, RELEASE_SECONDS)
        await _step("the scheduled runs", self._stop_scheduling, SCHEDULING_STOP_SECONDS)
        await _step("the gateway", super().close, GATEWAY_CLOSE_SECONDS)  # and the cogs
        await _step("the web fetcher", self.services.fetcher.close, RELEASE_SECONDS)
        await _step("the database", self.engine.dispose, RELEASE_SECONDS)

    async def _stop_background(self) -> None:
        tasks = [task for task in self._background if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=BACKGROUND_STOP_SECONDS)
            for task in stuck:
                log.warning("The background task %s did not stop; closing anyway", task.get_name())
        for task in self._background:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error(
                    "The background task %s had failed", task.get_name(), exc_info=task.exception()
                )

    async def _stop_scheduling(self) -> None:
        self.services.scheduling.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        # Runs cut short here are taken over by the next start's recovery (bot/scheduling).
        await self.services.scheduling.wait_idle()

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
        failing = False
        while not self.is_closed():
            if self.is_ready() and all(not s.is_closed() for s in self.shards.values()):
                try:
                    await asyncio.to_thread(path.touch)
                except OSError as exc:
                    if not failing:  # once, not every 30 s
                        log.error(
                            "Cannot write the heartbeat file %s (health.heartbeat_file): %s. "
                            "`plnbot health` reports the bot unhealthy until it can.",
                            path,
                            explain(exc, path),
                        )
                    failing = True
                else:
                    if failing:
                        log.info("The heartbeat file %s is written again.", path)
                    failing = False
            await asyncio.sleep(HEARTBEAT_SECONDS)


async def _step(what: str, release: Callable[[], Awaitable[object]], seconds: float) -> None:
    """One step of closing: logged, never raised, and given up on after `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            await release()
    except TimeoutError:
        log.warning("Closing %s took longer than %.0f s; going on without it", what, seconds)
    except Exception:
        log.exception("Closing %s failed; going on", what)
