"""Can the bot post here? One check that names what is missing (recap, digests, and others)."""

from __future__ import annotations

import discord

from bot.errors import UserFacingError

POST_PERMISSIONS = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
}


def missing_post_permissions(
    channel: discord.abc.GuildChannel | discord.Thread, *, extra: dict[str, str] | None = None
) -> list[str]:
    needed = {**POST_PERMISSIONS, **(extra or {})}
    if isinstance(channel, discord.Thread):
        needed.pop("send_messages", None)
        needed["send_messages_in_threads"] = "Send Messages in Threads"
    permissions = channel.permissions_for(channel.guild.me)
    return [label for flag, label in needed.items() if not getattr(permissions, flag)]


def require_can_post(channel: discord.abc.GuildChannel | discord.Thread) -> None:
    """A friendly error naming each missing permission; nothing is saved by the caller."""
    missing = missing_post_permissions(channel)
    if missing:
        raise UserFacingError(
            f"I can't post in {channel.mention}: I need {', '.join(missing)} there. "
            "Grant it and try again; nothing was saved."
        )
