"""The composition root: settings in, a fully wired bot out. Nothing else builds these pieces."""

from __future__ import annotations

from datetime import UTC

import discord.gateway
import discord.http
import yarl
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock, SystemClock
from bot.core import PLNBot
from bot.database import create_engine, create_session_factory
from bot.settings import DiscordSettings, Settings


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
    engine = create_engine(settings.database.url, echo=settings.database.echo)
    return PLNBot(
        settings=settings,
        engine=engine,
        sessions=create_session_factory(engine),
        scheduler=AsyncIOScheduler(timezone=UTC),
        clock=clock or SystemClock(),
        background_jobs=background_jobs,
    )
