"""Sending ephemeral answers and turning errors into one friendly reply, for commands and views."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.ui.context import OUTSIDE_A_SERVER
from bot.wording import discord_timestamp

log = logging.getLogger(__name__)

GENERIC_FAILURE = (
    "Something went wrong on my side and nothing was changed. If it keeps happening, give a "
    "moderator this error id: `{error_id}`."
)


async def send_ephemeral(interaction: discord.Interaction[Any], content: str) -> None:
    """Answer privately whether or not the interaction was already answered or deferred."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=True)
        else:
            await interaction.response.send_message(content, ephemeral=True)
    except discord.HTTPException:
        # The interaction expired or was deleted; there is no one left to tell.
        log.warning("Could not deliver an error reply for interaction %s", interaction.id)


def user_message_for(error: BaseException) -> str | None:
    """The text a member should see for an expected error, or None for a bug."""
    original: BaseException = error
    if isinstance(error, app_commands.CommandInvokeError):
        original = error.original
    elif isinstance(error, app_commands.TransformerError) and error.__cause__ is not None:
        original = error.__cause__
    if isinstance(original, UserFacingError):
        return str(original)
    if isinstance(error, app_commands.CommandOnCooldown):
        retry_at = discord.utils.utcnow().timestamp() + error.retry_after
        return f"Slow down a little: you can use this again {discord_timestamp(retry_at + 1, 'R')}."
    if isinstance(error, app_commands.TransformerError):
        return f"`{str(error.value)[:100]}` is not a valid value here."
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"I need the {missing} permission here to do that. A server admin can grant it."
    if isinstance(error, app_commands.NoPrivateMessage):
        return OUTSIDE_A_SERVER
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You are not allowed to use this command."
    return None


async def report_error(
    interaction: discord.Interaction[Any], error: BaseException, *, where: str
) -> None:
    """The one error path: friendly text for expected errors, a logged error id for bugs."""
    message = user_message_for(error)
    if message is None:
        error_id = secrets.token_hex(4)
        original = getattr(error, "original", None) or error.__cause__ or error
        log.error(
            "Error id %s in %s (guild %s, channel %s, user %s)",
            error_id,
            where,
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            exc_info=original,
        )
        message = GENERIC_FAILURE.format(error_id=error_id)
    await send_ephemeral(interaction, message)
