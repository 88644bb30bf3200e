"""/learn: the learning log (minutes a day), goals, the streak reminder and progress pictures."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import date

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import PLNBot
from bot.learning.records import Progress
from bot.learning.reminders import DMS_CLOSED, REMINDER_GRACE, REMINDER_KIND, ReminderSlots
from bot.learning.service import MAX_MINUTES, MIN_MINUTES
from bot.learning.streaks import Streak
from bot.scheduling import OutboxScope
from bot.ui.autocomplete import topic_names
from bot.ui.context import guild_of
from bot.ui.outbox import message_post
from bot.ui.text import safe_text
from cogs.learning._mod import PathModeration
from cogs.learning._render import (
    HEATMAP,
    TOPICS_CHART,
    goal_text,
    logged,
    progress_embed,
    public_embed,
    topics_embed,
)
from cogs.learning._views import QuickLog, ShowInChannel, quick_view

log = logging.getLogger(__name__)

CANNOT_DM = 50007
Minutes = app_commands.Range[int, MIN_MINUTES, MAX_MINUTES]


@app_commands.guild_only()
class Learn(commands.GroupCog, group_name="learn", group_description="Your learning log"):
    remind = app_commands.Group(name="remind", description="A DM when your streak is at stake")

    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.service = bot.services.learning
        self.reminders = bot.services.reminders
        self.core = bot.services.scheduling
        self.slots = ReminderSlots(self.service, self.reminders, self.deliver)
        self.moderation = PathModeration(bot.services.paths, bot.services.topics)
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(QuickLog)
        self.bot.moderation.add_command(self.moderation)
        self.core.registry.register(
            REMINDER_KIND,
            self.slots.run_slot,
            grace=REMINDER_GRACE,
            resume_after_crash=True,
            report_missed=False,
            listed=False,
            concurrency=4,
        )

    async def cog_unload(self) -> None:
        self.core.registry.unregister(REMINDER_KIND)
        self.bot.moderation.remove_command(self.moderation.name)
        self.bot.remove_dynamic_items(QuickLog)

    async def deliver(
        self, guild_id: int, user_id: int, missing: int, streak: Streak, posts: OutboxScope
    ) -> str:
        guild = self.bot.get_guild(guild_id)
        name = safe_text(guild.name, 100) if guild is not None else "your server"
        text = (
            f"⏰ Your {streak.current}-day learning streak in {name} is at stake: "
            f"{missing} more minutes today keep it. Log them there with `/learn log`."
        )
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            dm = user.dm_channel or await user.create_dm()
            await posts.once("reminder", message_post(dm, content=text))
        except discord.Forbidden as error:
            if error.code != CANNOT_DM:
                raise
            return DMS_CLOSED
        return "sent"

    @commands.Cog.listener()
    async def on_guild_timezone_changed(self, guild: discord.Guild, _actor_id: int) -> None:
        await self.reminders.follow_guild_timezone(guild.id, guild.name)

    @commands.Cog.listener()
    async def on_member_timezone_changed(self, guild: discord.Guild, user_id: int) -> None:
        await self.reminders.reschedule(guild.id, guild.name, user_id)

    # --- the log ---------------------------------------------------------------------------

    @app_commands.command(name="log", description="Log minutes you spent learning today")
    @app_commands.guild_only()
    @app_commands.describe(
        minutes=f"Minutes ({MIN_MINUTES}-{MAX_MINUTES})",
        what="What you did (optional note)",
        topic="The topic it was about",
        link="A link to what you read or watched; it is added to the library",
    )
    @app_commands.autocomplete(topic=topic_names)
    async def log_time(
        self,
        interaction: discord.Interaction[PLNBot],
        minutes: Minutes,
        what: app_commands.Range[str, 1, 200] | None = None,
        topic: str | None = None,
        link: app_commands.Range[str, 1, 2048] | None = None,
    ) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await self.bot.services.topics.require_if_named(guild.id, topic)
        result = await self.service.log(
            guild.id,
            guild.name,
            interaction.channel_id or 0,
            interaction.user.id,
            minutes,
            note=what,
            topic=found,
            link=link,
        )
        await interaction.followup.send(
            logged(result, found.name if found else None),
            view=quick_view(result.topic_id),
            ephemeral=True,
        )

    @app_commands.command(name="undo", description="Remove the last minutes you logged today")
    @app_commands.guild_only()
    async def undo(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        result = await self.service.undo(guild.id, interaction.user.id)
        await interaction.response.send_message(
            f"Removed {result.minutes} min. {goal_text(result.today_total, result.goal)}.",
            ephemeral=True,
        )

    @app_commands.command(name="goal", description="Set your daily learning goal")
    @app_commands.guild_only()
    @app_commands.describe(minutes="Minutes a day (default 20)")
    async def goal(self, interaction: discord.Interaction[PLNBot], minutes: Minutes) -> None:
        guild = guild_of(interaction)
        goal = await self.service.set_goal(guild.id, guild.name, interaction.user.id, minutes)
        await interaction.response.send_message(
            f"Your daily goal is {goal.minutes} minutes, on your local days ({goal.timezone}; "
            "change it with `/me timezone`).",
            ephemeral=True,
        )

    @remind.command(name="on", description="A DM at your time on days your streak is at stake")
    @app_commands.guild_only()
    @app_commands.describe(time="Your local time, 24-hour HH:MM (default 20:00)")
    async def remind_on(
        self, interaction: discord.Interaction[PLNBot], time: str | None = None
    ) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        goal = await self.reminders.turn_on(guild.id, guild.name, interaction.user.id, time)
        await interaction.followup.send(
            f"I'll DM you at {goal.remind_at} ({goal.timezone}) on days your goal of "
            f"{goal.minutes} minutes is not met yet while a streak is at stake; never twice a day. "
            "Stop with `/learn remind off`.",
            ephemeral=True,
        )

    @remind.command(name="off", description="No more streak reminders")
    @app_commands.guild_only()
    async def remind_off(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        was_on = await self.reminders.turn_off(guild.id, interaction.user.id)
        text = "Streak reminders are off." if was_on else "You had no streak reminder."
        await interaction.followup.send(text, ephemeral=True)

    # --- progress --------------------------------------------------------------------------

    @app_commands.command(name="progress", description="Your learning streak, minutes and heatmap")
    @app_commands.guild_only()
    @app_commands.describe(member="Someone else (if they share their progress)")
    async def progress(
        self, interaction: discord.Interaction[PLNBot], member: discord.Member | None = None
    ) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        if member is not None and member.id != interaction.user.id:
            privacy = await self.bot.services.members.privacy(guild.id, member.id)
            name = safe_text(member.display_name, 80)
            if not privacy.show_progress:
                await interaction.followup.send(
                    f"{name} keeps their learning progress private.", ephemeral=True
                )
                return
            public = await self.service.public_progress(guild.id, member.id)
            embeds = [public_embed(public, name)]
            await self._send(interaction, embeds, {})
            return
        progress = await self.service.progress(guild.id, interaction.user.id)
        weeks, topic_minutes = await self.service.topic_weeks(guild.id, interaction.user.id)
        files = await asyncio.to_thread(_pictures, progress, weeks, topic_minutes)
        name = safe_text(interaction.user.display_name, 80)
        embeds = [progress_embed(progress, name, chart=TOPICS_CHART in files)]
        if TOPICS_CHART in files:
            embeds.append(topics_embed())
        await self._send(interaction, embeds, files)

    async def _send(
        self,
        interaction: discord.Interaction[PLNBot],
        embeds: list[discord.Embed],
        files: dict[str, bytes],
    ) -> None:
        view = ShowInChannel(interaction.user.id, embeds, files)
        attachments = [discord.File(io.BytesIO(data), filename=n) for n, data in files.items()]
        view.message = await interaction.followup.send(
            embeds=embeds, files=attachments, view=view, ephemeral=True, wait=True
        )


def _pictures(
    progress: Progress, weeks: list[date], topic_minutes: dict[str, list[int]]
) -> dict[str, bytes]:
    """The PNGs, in a worker thread: the heatmap always, the topic chart when topics were used."""
    # Pillow loads with the first picture (about 20 ms, once), not at start-up: it adds about
    # 5 MiB that a bot whose members never ask for their progress should not carry.
    from bot.learning import heatmap

    files = {HEATMAP: heatmap.heatmap_png(progress.days, progress.today, progress.goal)}
    if any(name for name in topic_minutes):
        files[TOPICS_CHART] = heatmap.topic_weeks_png(weeks, topic_minutes)
    return files
