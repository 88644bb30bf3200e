"""/recap week: a past week's recap for members; the moderators' commands are /mod recap."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import PLNBot
from bot.recap.posting import RECAP_GRACE, RECAP_KIND, RecapSlots, sync_schedule
from bot.recap.window import WEEKDAYS
from bot.ui.context import guild_of
from cogs.recap._mod import RecapModeration
from cogs.recap._publisher import RecapPublisher
from cogs.recap.render import send_privately

WEEKDAY_CHOICES = [app_commands.Choice(name=name, value=i) for i, name in enumerate(WEEKDAYS)]
HISTORY_PER_PAGE = 10


@app_commands.guild_only()
class Recap(
    commands.GroupCog, group_name="recap", group_description="The weekly recap of shared links"
):
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.service = bot.services.recap
        self.core = bot.services.scheduling
        self.publisher = RecapPublisher(bot, self.service, self.core.outbox)
        self.slots = RecapSlots(self.service, self.publisher.publish)
        self.moderation = RecapModeration(self.service, self.core, self.publisher, bot.clock)
        super().__init__()

    async def cog_load(self) -> None:
        # Restart-safe: a slot interrupted mid-post is re-run and finishes the parts not sent.
        self.core.registry.register(
            RECAP_KIND, self.slots.run_slot, grace=RECAP_GRACE, resume_after_crash=True
        )
        self.bot.moderation.add_command(self.moderation)

    async def cog_unload(self) -> None:
        self.bot.moderation.remove_command(self.moderation.name)
        self.core.registry.unregister(RECAP_KIND)

    @commands.Cog.listener()
    async def on_guild_timezone_changed(self, guild: discord.Guild, actor_id: int) -> None:
        """The recap runs in the server's time zone: move its schedule with the zone."""
        config = await self.service.config(guild.id)
        if config.schedule_id is not None:
            await sync_schedule(
                self.core, self.service, config, guild.name, actor_id, self.bot.clock.now()
            )

    @app_commands.command(name="week", description="Show a past week's recap (only to you)")
    @app_commands.guild_only()
    @app_commands.describe(date="A day in that week, YYYY-MM-DD; default: the latest recap")
    async def week(self, interaction: discord.Interaction[PLNBot], date: str | None = None) -> None:
        guild = guild_of(interaction)
        if date is None:
            past = await self.service.history(guild.id, limit=1)
            if not past:
                await interaction.response.send_message(
                    "No recap has been posted here yet.", ephemeral=True
                )
                return
            view = await self.service.load(guild.id, past[0].recap_id)
        else:
            view = await self.service.week_of(guild.id, date)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await send_privately(interaction, view)
