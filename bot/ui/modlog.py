"""Posting to the moderators' log channel (`/pln settings log_channel`), politely."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

if TYPE_CHECKING:
    from bot.core import PLNBot

log = logging.getLogger(__name__)


async def post_to_mod_log(
    bot: PLNBot,
    guild_id: int,
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
) -> discord.Message | None:
    """Send to the guild's log channel; None when it is unset, gone or the bot may not post."""
    settings = await bot.guild_service.settings(guild_id)
    channel_id = settings.log_channel_id
    if channel_id is None:
        return None
    channel = bot.get_channel(channel_id)
    if not isinstance(channel, discord.TextChannel | discord.Thread):
        log.info(
            "Log channel %s of guild %s is gone; skipping a mod-log post", channel_id, guild_id
        )
        return None
    try:
        return await channel.send(
            content=content,
            embed=embed if embed is not None else discord.utils.MISSING,
            view=view if view is not None else discord.utils.MISSING,
            allowed_mentions=discord.AllowedMentions.none(),
        )
    except discord.Forbidden:
        log.warning("No permission to post in log channel %s of guild %s", channel_id, guild_id)
    except discord.HTTPException:
        log.exception("Could not post in log channel %s of guild %s", channel_id, guild_id)
    return None
