"""What feeds look like on Discord: an item's embed, a digest, previews, the list. Feed text is
untrusted: it is plain text already (bot/feeds/parsing), escaped here, cut to Discord's limits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import discord

from bot.feeds.discovery import Fetched
from bot.feeds.opml import Outline
from bot.feeds.records import FeedInfo
from bot.ui.text import safe_text, shorten
from bot.wording import discord_timestamp, plural

FEEDS_PER_PAGE = 8
DIGEST_LINES = 20


def _link(url: object) -> str | None:
    text = str(url or "")
    return text if text.startswith(("http://", "https://")) and len(text) <= 2000 else None


def item_embed(feed: FeedInfo, payload: dict[str, Any]) -> discord.Embed:
    """Title linked, the source, the date (embed timestamp), a short summary, a thumbnail."""
    embed = discord.Embed(
        title=shorten(str(payload.get("title") or "(untitled)"), 256),
        url=_link(payload.get("link")),
        description=safe_text(str(payload.get("summary") or ""), 350) or None,
        colour=discord.Colour.orange(),
    )
    embed.set_author(name=shorten(feed.title, 200))
    published = payload.get("published")
    if isinstance(published, int | float):
        embed.timestamp = datetime.fromtimestamp(published, UTC)
    thumbnail = _link(payload.get("thumbnail"))
    if thumbnail:
        embed.set_thumbnail(url=thumbnail)
    more = payload.get("more")
    footer = f"Feed #{feed.id}"
    if isinstance(more, int) and more > 0:
        footer += f" · and {plural(more, 'more new item')} in this feed"
    embed.set_footer(text=footer)
    return embed


def digest_embed(feed: FeedInfo, payloads: Sequence[dict[str, Any]]) -> discord.Embed:
    lines = []
    for payload in payloads[:DIGEST_LINES]:
        title = safe_text(str(payload.get("title") or "(untitled)"), 150).replace("]", "")
        link = _link(payload.get("link"))
        lines.append(f"• [{title}](<{link}>)" if link else f"• {title}")
    if len(payloads) > DIGEST_LINES:
        lines.append(f"…and {plural(len(payloads) - DIGEST_LINES, 'more item')}")
    return discord.Embed(
        title=shorten(f"{feed.title}: {plural(len(payloads), 'new item')}", 256),
        description="\n".join(lines)[:4000],
        colour=discord.Colour.orange(),
    ).set_footer(text=f"Daily digest of feed #{feed.id}")


def where(feed_channel_id: int, mode: str, digest_time: str) -> str:
    how = {
        "post": "each item its own message",
        "thread": "each item with a discussion thread",
        "digest": f"one digest a day at {digest_time}",
    }[mode]
    return f"<#{feed_channel_id}>, {how}"


def preview_embed(
    fetched: Fetched, channel_id: int, mode: str, digest_time: str, filter: str, tags: Sequence[str]
) -> discord.Embed:
    embed = discord.Embed(
        title=shorten(f"Follow “{fetched.feed.title}”?", 256),
        description=f"Feed: <{fetched.url}>\nGoes to: {where(channel_id, mode, digest_time)}",
        colour=discord.Colour.orange(),
    )
    newest = fetched.feed.items[:3]
    lines = [
        f"• {safe_text(item.title, 150)}"
        + (f" ({discord_timestamp(item.published.timestamp(), 'd')})" if item.published else "")
        for item in newest
    ]
    embed.add_field(name="Newest items", value="\n".join(lines) or "none yet", inline=False)
    if filter:
        embed.add_field(name="Filter", value=safe_text(filter, 400), inline=False)
    if tags:
        embed.add_field(name="Tags", value=" ".join(f"`{t}`" for t in tags), inline=False)
    embed.set_footer(
        text=f"{plural(len(fetched.feed.items), 'current item')}: saved as seen, none posted "
        "unless you pick “Save and post the newest”."
    )
    return embed


def health(feed: FeedInfo) -> str:
    if feed.disabled_reason:
        return f"⛔ disabled: {safe_text(feed.disabled_reason, 200)} (`/mod feed retry {feed.id}`)"
    if feed.paused:
        return "⏸️ paused"
    if feed.failures and feed.failing_since:
        since = discord_timestamp(feed.failing_since.timestamp(), "R")
        return f"⚠️ failing since {since}: {safe_text(feed.last_error or '', 150)}"
    return "✅ ok"


def _when(instant: datetime | None) -> str:
    return discord_timestamp(instant.timestamp(), "R") if instant else "never"


def feed_lines(feed: FeedInfo) -> str:
    next_check = (
        "—"
        if feed.disabled_reason or feed.paused or not feed.next_check_at
        else _when(feed.next_check_at)
    )
    return (
        f"{health(feed)}\n<#{feed.channel_id}> · {feed.mode} · "
        f"{plural(feed.items_posted, 'item')} posted\n"
        f"last new item {_when(feed.last_item_at)} · next check {next_check}"
    )


def list_pages(feeds: Sequence[FeedInfo]) -> list[discord.Embed]:
    if not feeds:
        return [
            discord.Embed(
                title="Feeds",
                description="This server follows no feeds yet. Moderators add them with "
                "`/mod feed add`; anyone can `/feed suggest` one.",
            )
        ]
    pages = []
    for start in range(0, len(feeds), FEEDS_PER_PAGE):
        embed = discord.Embed(title=f"Feeds ({len(feeds)})", colour=discord.Colour.orange())
        for feed in feeds[start : start + FEEDS_PER_PAGE]:
            embed.add_field(
                name=shorten(f"#{feed.id} {feed.title}", 256), value=feed_lines(feed), inline=False
            )
        pages.append(embed)
    return pages


def info_embed(feed: FeedInfo) -> discord.Embed:
    embed = discord.Embed(
        title=shorten(f"Feed #{feed.id}: {feed.title}", 256),
        description=f"<{feed.url}>\n{feed_lines(feed)}",
        colour=discord.Colour.orange(),
    )
    embed.add_field(name="Goes to", value=where(feed.channel_id, feed.mode, feed.digest_time))
    embed.add_field(name="Filter", value=safe_text(feed.filter, 400) or "none")
    embed.add_field(name="Tags", value=" ".join(f"`{t}`" for t in feed.tags) or "none")
    if feed.no_shorts:
        embed.add_field(name="YouTube", value="Shorts left out")
    embed.add_field(name="Added", value=discord_timestamp(feed.created_at.timestamp(), "D"))
    return embed


def import_preview(
    new: Sequence[Outline], known: Sequence[Outline], over: Sequence[Outline], channel_id: int
) -> str:
    def shown(outline: Outline) -> str:
        return f"• {safe_text(outline.title or outline.url, 80)} <{shorten(outline.url, 200)}>"

    lines = [f"**Import {plural(len(new), 'feed')}** into <#{channel_id}>:"]
    lines += [shown(o) for o in new[:10]]
    if len(new) > 10:
        lines.append(f"…and {len(new) - 10} more")
    if known:
        lines.append(f"Already followed, skipped: {len(known)}.")
    if over:
        lines.append(
            f"Over this server's feed limit, not added: {len(over)} "
            f"(first: {safe_text(over[0].title or over[0].url, 80)})."
        )
    lines.append("Their current items are recorded as seen; only new ones will be posted.")
    return shorten("\n".join(lines), 1900)
