"""/mod settings: the server's time zone, moderator role and log channel."""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands

from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.guilds.service import GuildSettings
from bot.ui.autocomplete import timezone_names
from bot.ui.context import guild_of
from bot.ui.permissions import require_can_post
from bot.unset import UNSET

ClearableSetting = Literal["moderator role", "log channel"]


def moderator_settings(bot: PLNBot) -> app_commands.Command[Any, ..., None]:
    """A command directly under /mod, so the /mod group's moderator check guards it."""
    guilds = bot.services.guilds

    @app_commands.command(name="settings", description="Change this server's settings")
    @app_commands.describe(
        timezone="IANA time zone used for schedules, e.g. America/New_York",
        moderator_role="Members with this role can use moderator commands",
        log_channel="Where the bot reports moderator actions and problems",
        clear="Remove one setting",
    )
    @app_commands.autocomplete(timezone=timezone_names)
    async def settings(
        interaction: discord.Interaction[PLNBot],
        timezone: str | None = None,
        moderator_role: discord.Role | None = None,
        log_channel: discord.TextChannel | None = None,
        clear: ClearableSetting | None = None,
    ) -> None:
        guild = guild_of(interaction)
        if all(v is None for v in (timezone, moderator_role, log_channel, clear)):
            current = await guilds.settings(guild.id)
            await interaction.response.send_message(embed=settings_embed(current), ephemeral=True)
            return
        if log_channel is not None:
            require_can_post(log_channel)
        if moderator_role is not None and moderator_role.is_default():
            raise UserFacingError("@everyone cannot be the moderator role; choose a real role.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        updated = await guilds.update_settings(
            guild.id,
            guild.name,
            interaction.user.id,
            timezone=timezone if timezone is not None else UNSET,
            moderator_role_id=_choice(moderator_role, clear == "moderator role"),
            log_channel_id=_choice(log_channel, clear == "log channel"),
        )
        await interaction.followup.send(
            "Settings saved.", embed=settings_embed(updated), ephemeral=True
        )
        if timezone is not None:
            # Features that run "in the server's time zone" (recap, digests) follow the change.
            bot.dispatch("guild_timezone_changed", guild, interaction.user.id)

    return settings


def _choice(value: discord.abc.Snowflake | None, clear: bool) -> int | None:
    if clear:
        return None
    return value.id if value is not None else UNSET


def settings_embed(settings: GuildSettings) -> discord.Embed:
    embed = discord.Embed(title="Server settings", colour=discord.Colour.blurple())
    embed.add_field(name="Time zone", value=settings.timezone)
    role = settings.moderator_role_id
    embed.add_field(
        name="Moderator role", value=f"<@&{role}>" if role else "not set (Manage Server only)"
    )
    log_channel = settings.log_channel_id
    embed.add_field(name="Log channel", value=f"<#{log_channel}>" if log_channel else "not set")
    return embed
