"""/pln about and /pln settings: the bot's own status and the server's settings (`/mod settings`
changes them)."""

from __future__ import annotations

import math
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import PLNBot
from bot.database import backend_name
from bot.ui.context import guild_of
from bot.wording import discord_timestamp
from cogs.questions.standing import contributors_embed
from cogs.server._mod import moderator_settings, settings_embed

ClearableSetting = Literal["moderator role", "log channel"]


@app_commands.guild_only()
class PLN(commands.GroupCog, group_name="pln", group_description="About this bot and its settings"):
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.moderation = moderator_settings(bot)
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.moderation.add_command(self.moderation)

    async def cog_unload(self) -> None:
        self.bot.moderation.remove_command(self.moderation.name)

    @app_commands.command(name="about", description="Version, uptime, latency and database")
    @app_commands.guild_only()
    @app_commands.checks.cooldown(2, 10.0, key=lambda i: i.user.id)
    async def about(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        counts = await self.bot.services.guilds.counts(guild.id)
        latency = self.bot.latency
        embed = discord.Embed(title="PLN bot", colour=discord.Colour.blurple())
        embed.add_field(name="Version", value=self.bot.version)
        embed.add_field(
            name="Up since", value=discord_timestamp(self.bot.started_at.timestamp(), "R")
        )
        embed.add_field(
            name="Gateway latency",
            value="connecting"
            if math.isinf(latency) or math.isnan(latency)
            else f"{latency * 1000:.0f} ms",
        )
        embed.add_field(name="Database", value=backend_name(self.bot.engine))
        embed.add_field(name="Members seen here", value=str(counts.members_seen))
        embed.add_field(name="Moderator actions logged", value=str(counts.audit_entries))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="settings", description="This server's settings")
    async def settings(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        current = await self.bot.services.guilds.settings(guild.id)
        await interaction.response.send_message(embed=settings_embed(current), ephemeral=True)

    @app_commands.command(name="contributors", description="Who helped most lately")
    @app_commands.describe(period="The last 7 or 30 days")
    async def contributors(
        self,
        interaction: discord.Interaction[PLNBot],
        period: Literal["7 days", "30 days"] = "7 days",
    ) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        days = int(period.split()[0])
        scores = await self.bot.services.contributions.contributors(guild.id, days)

        def name_of(member_id: int) -> str:
            member = guild.get_member(member_id)
            return member.display_name if member is not None else f"member {member_id}"

        await interaction.followup.send(
            embed=contributors_embed(scores, days, name_of), ephemeral=True
        )

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        await self.bot.services.guilds.member_seen(
            member.guild.id, member.guild.name, member.id, member.display_name, is_bot=member.bot
        )

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self.bot.services.guilds.member_left(payload.guild_id, payload.user.id)
