"""The composition root: settings in, a fully wired bot out. Nothing else builds these pieces."""

from __future__ import annotations

from datetime import UTC, datetime

import discord.gateway
import discord.http
import yarl
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock, SystemClock
from bot.core import PLNBot
from bot.database import create_engine, create_session_factory
from bot.services import build_services
from bot.settings import DiscordSettings, Settings
from bot.ui import outbox

# One package per feature under cogs/; each one's __init__ adds its cogs (`setup`). Named here,
# not imported, so the bot package never depends on its cogs.
EXTENSIONS = (
    "cogs.server",
    "cogs.members",
    "cogs.topics",
    "cogs.library",
    "cogs.schedules",
    "cogs.prompts",
    "cogs.chats",
    "cogs.recap",
    "cogs.digests",
    "cogs.questions",
    "cogs.feeds",
    "cogs.learning",
)


def apply_discord_endpoints(settings: DiscordSettings) -> None:
    """Point discord.py at the configured REST and gateway URLs (a proxy or a local emulator).

    discord.py keeps these as class attributes, so they are per process; one process runs one bot.
    """
    discord.http.Route.BASE = settings.api_base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def build_bot(
    settings: Settings, *, clock: Clock | None = None, background_jobs: bool = True
) -> PLNBot:
    apply_discord_endpoints(settings.discord)
    clock = clock or SystemClock()
    engine = create_engine(settings.database.url, echo=settings.database.echo)
    sessions = create_session_factory(engine)
    scheduler = AsyncIOScheduler(timezone=UTC)

    # The services ask four things of Discord; the bot answers them once it exists (they are
    # only called after it has connected).
    def guild_visible(guild_id: int) -> bool:
        return bot.get_guild(guild_id) is not None

    async def report(guild_id: int, text: str) -> None:
        await bot.modlog.post(guild_id, text)

    async def find_post(kind: str, channel_id: int, printed: str, since: datetime) -> int | None:
        return await outbox.find_post(bot, kind, channel_id, printed, since)

    def member_name(guild_id: int, member_id: int) -> str | None:
        guild = bot.get_guild(guild_id)
        member = guild.get_member(member_id) if guild is not None else None
        return member.display_name if member is not None else None

    services = build_services(
        settings,
        sessions,
        clock,
        scheduler=scheduler if background_jobs else None,
        guild_visible=guild_visible,
        report=report,
        find_post=find_post,
        member_name=member_name,
    )
    site = None
    if settings.web_ui.enabled:
        # Imported here: its templates, Jinja2 and feedgen (with lxml) cost a bot that serves
        # no pages several MiB.
        from bot.webui.server import build_site

        site = build_site(settings.web_ui, services, sessions, clock, member_name)
    bot = PLNBot(
        settings=settings,
        engine=engine,
        sessions=sessions,
        scheduler=scheduler,
        clock=clock,
        services=services,
        extensions=EXTENSIONS,
        background_jobs=background_jobs,
        site=site,
    )
    return bot
