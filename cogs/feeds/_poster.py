"""The Discord side of the poller: each item (or a day's digest) posted once, through the outbox.

A forum channel gets a forum post per item; `thread` mode in a text channel opens a thread on
the item's message. Never a ping: allowed mentions are off for everything a feed says.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.core import PLNBot
from bot.feeds.records import DeliveryBroken, FeedInfo, Posted
from bot.scheduling import Memo, OutboxScope, Outgoing
from bot.ui.outbox import fingerprint, message_post
from bot.ui.permissions import missing_post_permissions
from bot.ui.text import shorten
from cogs.feeds._render import digest_embed, item_embed

THREAD_EXISTS = 160004  # "A thread has already been created for this message"
NO_PINGS = discord.AllowedMentions.none()


def forum_post(
    forum: discord.ForumChannel, name: str, embed: discord.Embed, memo: Memo | None = None
) -> Outgoing:
    """A forum post for the outbox (its id is the thread's, which is its starter message's)."""

    async def send(_nonce: str) -> int:
        created = await forum.create_thread(name=name, embed=embed, allowed_mentions=NO_PINGS)
        return created.thread.id

    return Outgoing("thread", forum.id, fingerprint(name), send, memo or {})


class FeedPoster:
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot

    def _channel(self, feed: FeedInfo) -> discord.TextChannel | discord.ForumChannel:
        guild = self.bot.get_guild(feed.guild_id)
        channel = guild.get_channel(feed.channel_id) if guild else None
        if not isinstance(channel, discord.TextChannel | discord.ForumChannel):
            raise DeliveryBroken("the channel is gone")
        extra = {"create_public_threads": "Create Public Threads"} if feed.mode == "thread" else {}
        if isinstance(channel, discord.ForumChannel):
            extra = {"send_messages": "Create Posts"}
        missing = missing_post_permissions(channel, extra=extra)
        if missing:
            raise DeliveryBroken(f"I need {', '.join(missing)} there")
        return channel

    def _poster_id(self) -> int:
        return self.bot.user.id if self.bot.user else 0

    async def item(
        self, feed: FeedInfo, payload: dict[str, Any], scope: OutboxScope, part: str
    ) -> Posted:
        channel = self._channel(feed)
        embed = item_embed(feed, payload)
        name = shorten(str(payload.get("title") or feed.title), 100)
        try:
            if isinstance(channel, discord.ForumChannel):
                sent = await scope.once(part, forum_post(channel, name, embed))
                return Posted(sent.id, sent.id, self._poster_id())
            outgoing = message_post(channel, embeds=[embed], allowed_mentions=NO_PINGS)
            sent = await scope.once(part, outgoing)
            if feed.mode == "thread":
                await _open_thread(channel.get_partial_message(sent.id), name)
        except discord.Forbidden as exc:
            raise DeliveryBroken("I lost a permission there") from exc
        except discord.NotFound as exc:
            raise DeliveryBroken("the channel is gone") from exc
        return Posted(channel.id, sent.id, self._poster_id())

    async def digest(
        self, feed: FeedInfo, payloads: list[dict[str, Any]], scope: OutboxScope, keys: list[str]
    ) -> Posted:
        channel = self._channel(feed)
        embed = digest_embed(feed, payloads)
        memo = {"keys": keys}
        try:
            if isinstance(channel, discord.ForumChannel):
                name = shorten(embed.title or feed.title, 100)
                sent = await scope.once("digest", forum_post(channel, name, embed, memo))
                return Posted(sent.id, sent.id, self._poster_id())
            outgoing = message_post(channel, embeds=[embed], allowed_mentions=NO_PINGS, memo=memo)
            sent = await scope.once("digest", outgoing)
        except discord.Forbidden as exc:
            raise DeliveryBroken("I lost a permission there") from exc
        return Posted(channel.id, sent.id, self._poster_id())


async def _open_thread(message: discord.PartialMessage, name: str) -> None:
    """A thread for discussion, once: Discord refuses a second one on the same message."""
    try:
        await message.create_thread(name=name, auto_archive_duration=1440)
    except discord.HTTPException as exc:
        if exc.code != THREAD_EXISTS:
            raise
