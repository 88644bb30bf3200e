"""Posting to the moderators' log channel (`/mod settings log_channel`), politely."""

from __future__ import annotations

import logging

import discord

from bot.guilds.service import GuildService

log = logging.getLogger(__name__)


class ModLog:
    """The one way to tell a guild's moderators something; built once with the bot."""

    def __init__(self, client: discord.Client, guilds: GuildService) -> None:
        self._client = client
        self._guilds = guilds

    async def post(
        self,
        guild_id: int,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        view: discord.ui.View | None = None,
    ) -> discord.Message | None:
        """Send to the guild's log channel; None when it is unset, gone or the bot may not post."""
        settings = await self._guilds.settings(guild_id)
        channel_id = settings.log_channel_id
        if channel_id is None:
            return None
        channel = self._client.get_channel(channel_id)
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
