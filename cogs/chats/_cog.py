"""/chat: weekly chat hours (the #edchat format) with questions in a thread, and their events.

Members see what is coming (`/chat upcoming`); moderators define and steer chats (`_mod.py`).
"""

from __future__ import annotations

from datetime import timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.chats.service import (
    ANNOUNCE_AHEAD,
    ANNOUNCE_KIND,
    DEFAULT_DURATION,
    START_KIND,
    STEP_KIND,
)
from bot.core import PLNBot
from bot.scheduling import ScheduleInfo
from bot.ui.context import guild_of
from bot.ui.paginator import Paginator
from cogs.chats._mod import ChatModeration
from cogs.chats._render import chat_pages
from cogs.chats._runner import ChatRunner

STEP_GRACE = timedelta(days=2)


def _start_grace(schedule: ScheduleInfo) -> timedelta:
    """A chat starts late only while its window is still open."""
    return timedelta(minutes=int(schedule.payload.get("duration", DEFAULT_DURATION)))


@app_commands.guild_only()
class Chats(commands.GroupCog, group_name="chat", group_description="Weekly chat hours"):
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.service = bot.services.chats
        self.topics = bot.services.topics
        self.runner = ChatRunner(bot, self.service)
        self.core = bot.services.scheduling
        self.moderation = ChatModeration(
            self.service, self.topics, bot.services.guilds, self.core, self.runner, bot.clock
        )
        super().__init__()

    async def cog_load(self) -> None:
        registry = self.core.registry
        # Every post goes through the outbox, so a slot interrupted by a crash is finished once.
        registry.register(
            ANNOUNCE_KIND, self.runner.announce, grace=ANNOUNCE_AHEAD, resume_after_crash=True
        )
        registry.register(
            START_KIND, self.runner.start, grace=_start_grace, resume_after_crash=True
        )
        registry.register(
            STEP_KIND, self.runner.step, grace=STEP_GRACE, resume_after_crash=True, listed=False
        )
        self.bot.moderation.add_command(self.moderation)

    async def cog_unload(self) -> None:
        self.bot.moderation.remove_command(self.moderation.name)
        for kind in (ANNOUNCE_KIND, START_KIND, STEP_KIND):
            self.core.registry.unregister(kind)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None or message.author.bot:
            return
        if isinstance(message.channel, discord.Thread):
            await self.runner.on_thread_message(message)

    @app_commands.command(name="upcoming", description="Upcoming chats, in your own time zone")
    async def upcoming(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        chats = [c for c in await self.service.for_guild(guild.id) if c.next_start]
        chats.sort(key=lambda c: c.next_start or self.bot.clock.now())
        await Paginator(
            interaction.user.id, chat_pages("Upcoming chats", chats, detail=False)
        ).send(interaction)
