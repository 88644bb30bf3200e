"""The Discord side of the outbox (bot/scheduling/outbox): posts described, and found again.

    sent = await slot.outbox.once("prompt", message_post(channel, content=text))

A post's fingerprint is a hash of what a member reads in it (content, and each embed's title
and description; a thread's name), computed the same way from what the bot sends and from a
message it fetches back. Discord keeps a nonce only for a few minutes and never returns it with
a fetched message, so finding a post of a crashed run means reading the channel after the
moment its outbox row was written and matching the bot's messages by fingerprint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

import discord

from bot.scheduling import Memo, OutboxScope, Outgoing
from bot.scheduling.outbox import fresh_nonce

# The bot's clock and Discord's may differ by this much. A post goes out within seconds of its
# row (a minute or two if Discord rate-limits the bot), so it is among the messages of the
# minutes after the row, if anywhere: the lookup reads those, however busy the channel.
CLOCK_SKEW = timedelta(minutes=2)
SENT_WITHIN = timedelta(minutes=10)


# A channel, thread or DM the bot posts in.
Postable = discord.TextChannel | discord.Thread | discord.DMChannel


def fingerprint(content: str | None, embeds: Sequence[discord.Embed] = ()) -> str:
    parts = [(content or "").strip()]
    for embed in embeds:
        parts += [(embed.title or "").strip(), (embed.description or "").strip()]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def message_post(
    channel: Postable,
    *,
    content: str | None = None,
    embeds: Sequence[discord.Embed] = (),
    allowed_mentions: discord.AllowedMentions | None = None,
    memo: Memo | None = None,
) -> Outgoing:
    """A message for the outbox; members are never pinged unless `allowed_mentions` says so."""

    async def send(nonce: str) -> int:
        message = await channel.send(
            content,
            embeds=list(embeds) if embeds else discord.utils.MISSING,
            nonce=nonce,
            allowed_mentions=allowed_mentions or discord.AllowedMentions.none(),
        )
        return message.id

    return Outgoing("message", channel.id, fingerprint(content, embeds), send, memo or {})


def thread_post(channel: discord.TextChannel, name: str) -> Outgoing:
    """A public thread (without a starter message) for the outbox; its id is the post's."""

    async def send(_nonce: str) -> int:  # Discord takes no nonce for a thread
        thread = await channel.create_thread(
            name=name, type=discord.ChannelType.public_thread, auto_archive_duration=1440
        )
        return thread.id

    return Outgoing("thread", channel.id, fingerprint(name), send)


async def post_once(scope: OutboxScope | None, part: str, outgoing: Outgoing) -> int:
    """Through the outbox when there is a scope (a slot), else straight away (a command)."""
    if scope is None:
        return await outgoing.send(fresh_nonce())
    return (await scope.once(part, outgoing)).id


async def find_post(
    bot: discord.Client, kind: str, channel_id: int, printed: str, since: datetime
) -> int | None:
    """The id of the bot's post with this fingerprint made in the channel since `since`."""
    if bot.user is None:
        return None
    after = discord.utils.time_snowflake(since - CLOCK_SKEW)
    if kind == "thread":
        parent = bot.get_channel(channel_id)
        # A text channel's threads, or a forum's posts.
        threads = (
            parent.threads if isinstance(parent, discord.TextChannel | discord.ForumChannel) else []
        )
        for thread in sorted(threads, key=lambda t: t.id):
            mine = thread.owner_id == bot.user.id and thread.id > after
            if mine and fingerprint(thread.name) == printed:
                return thread.id
        return None
    until = since + SENT_WITHIN + CLOCK_SKEW
    channel = bot.get_partial_messageable(channel_id)
    history = channel.history(limit=None, after=discord.Object(after), oldest_first=True)
    async for message in history:
        if message.created_at > until:
            break
        if (
            message.author.id == bot.user.id
            and fingerprint(message.content, message.embeds) == printed
        ):
            return message.id
    return None
