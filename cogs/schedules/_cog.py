"""The schedules feature has no member commands: its cog adds `/mod schedule` (`_mod.py`)."""

from __future__ import annotations

from discord.ext import commands

from bot.core import PLNBot
from cogs.schedules._mod import ScheduleModeration


class Schedules(commands.Cog):
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        services = bot.services
        self.moderation = ScheduleModeration(services.scheduling, services.guilds, bot.clock)

    async def cog_load(self) -> None:
        self.bot.moderation.add_command(self.moderation)

    async def cog_unload(self) -> None:
        self.bot.moderation.remove_command(self.moderation.name)
