"""/pln about and /pln settings: the bot's own status and the guild's settings."""

from __future__ import annotations

import math
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import NotModerator, is_moderator
from bot.core import PLNBot
from bot.database import backend_name
from bot.errors import UserFacingError
from bot.guilds.service import GuildSettings
from bot.timezones import search_timezones
from bot.ui.context import guild_of
from bot.ui.permissions import require_can_post
from bot.ui.text import discord_timestamp
from bot.unset import UNSET

ClearableSetting = Literal["moderator role", "log channel"]


class PLN(commands.GroupCog, group_name="pln", group_description="About this bot and its settings"):
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        super().__init__()

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

    @app_commands.command(
        name="settings", description="View this server's settings; moderators change them"
    )
    @app_commands.guild_only()
    @app_commands.describe(
        timezone="IANA time zone used for schedules, e.g. America/New_York",
        moderator_role="Members with this role can use moderator commands",
        log_channel="Where the bot reports moderator actions and problems",
        clear="Remove one setting",
    )
    async def settings(
        self,
        interaction: discord.Interaction[PLNBot],
        timezone: str | None = None,
        moderator_role: discord.Role | None = None,
        log_channel: discord.TextChannel | None = None,
        clear: ClearableSetting | None = None,
    ) -> None:
        guild = interaction.guild
        assert guild is not None
        wants_change = any(v is not None for v in (timezone, moderator_role, log_channel, clear))
        if not wants_change:
            current = await self.bot.services.guilds.settings(guild.id)
            await interaction.response.send_message(embed=_settings_embed(current), ephemeral=True)
            return
        if not await is_moderator(interaction):
            raise NotModerator()
        if log_channel is not None:
            require_can_post(log_channel)
        if moderator_role is not None and moderator_role.is_default():
            raise UserFacingError("@everyone cannot be the moderator role; choose a real role.")
        updated = await self.bot.services.guilds.update_settings(
            guild.id,
            guild.name,
            interaction.user.id,
            timezone=timezone if timezone is not None else UNSET,
            moderator_role_id=_choice(moderator_role, clear == "moderator role"),
            log_channel_id=_choice(log_channel, clear == "log channel"),
        )
        await interaction.response.send_message(
            "Settings saved.", embed=_settings_embed(updated), ephemeral=True
        )
        if timezone is not None:
            # Features that run "in the server's time zone" (recap, digests) follow the change.
            self.bot.dispatch("guild_timezone_changed", guild, interaction.user.id)

    @settings.autocomplete("timezone")
    async def _timezone_choices(
        self, _interaction: discord.Interaction[PLNBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in search_timezones(current)]

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        await self.bot.services.guilds.member_seen(
            member.guild.id, member.guild.name, member.id, member.display_name, is_bot=member.bot
        )

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self.bot.services.guilds.member_left(payload.guild_id, payload.user.id)


def _choice(value: discord.abc.Snowflake | None, clear: bool) -> int | None:
    if clear:
        return None
    return value.id if value is not None else UNSET


def _settings_embed(settings: GuildSettings) -> discord.Embed:
    embed = discord.Embed(title="Server settings", colour=discord.Colour.blurple())
    embed.add_field(name="Time zone", value=settings.timezone)
    role = settings.moderator_role_id
    embed.add_field(
        name="Moderator role", value=f"<@&{role}>" if role else "not set (Manage Server only)"
    )
    log_channel = settings.log_channel_id
    embed.add_field(name="Log channel", value=f"<#{log_channel}>" if log_channel else "not set")
    return embed
