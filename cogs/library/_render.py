"""Embeds for the library: the share card, resource details, result pages, tag lists.

Everything member- or web-provided goes through `safe_text`, and every piece is cut to Discord's
limits, so any resource (long titles, ten tags, unicode) renders within them.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.library.records import Resource, ShareRef, TagCount
from bot.ui.text import safe_text, shorten
from bot.wording import discord_timestamp

CARD_COLOUR = discord.Colour.teal()
PAGE_SIZE = 5
MAX_EMBED_URL = 2000


def _url(resource: Resource) -> str | None:
    # Embed links must be http(s) and reasonably short; the canonical form is always both.
    for candidate in (resource.url, resource.canonical_url):
        if len(candidate) <= MAX_EMBED_URL and candidate.startswith(("https://", "http://")):
            return candidate
    return None


def _tags(resource: Resource) -> str:
    return " ".join(f"`{tag}`" for tag in resource.tags) or "none"


def share_card(resource: Resource, sharer_id: int, note: str | None) -> discord.Embed:
    """The public card posted by /share; reactions on it count as votes."""
    embed = discord.Embed(
        title=safe_text(resource.display_title, 256),
        url=_url(resource),
        description=safe_text(note, 1000) if note else None,
        colour=CARD_COLOUR,
    )
    embed.add_field(name="Site", value=safe_text(resource.domain, 200))
    embed.add_field(name="Tags", value=shorten(_tags(resource), 1024))
    embed.add_field(name="Shared by", value=f"<@{sharer_id}>")
    embed.set_footer(text=f"Resource #{resource.id} · ⭐ or 👍 to vote · 🔖 or Save to keep it")
    return embed


def duplicate_notice(first: ShareRef, guild_id: int, member_id: int) -> str:
    """A re-share's private answer: who shared the link first, when, and where."""
    when = discord_timestamp(first.shared_at.timestamp(), "R")
    where = (
        f" — [jump to it](https://discord.com/channels/{guild_id}/{first.channel_id}/"
        f"{first.message_id})"
        if first.message_id
        else f" in <#{first.channel_id}>"
    )
    who = "You shared this" if first.member_id == member_id else f"<@{first.member_id}> shared this"
    return (
        f"Already in the library: {who} {when}{where}. Counted as your share, with your tags "
        "and note; nothing was posted in the channel."
    )


def resource_info(resource: Resource, shares: Sequence[ShareRef], guild_id: int) -> discord.Embed:
    embed = discord.Embed(
        title=safe_text(resource.display_title, 256), url=_url(resource), colour=CARD_COLOUR
    )
    if resource.note:
        embed.description = safe_text(resource.note, 1000)
    embed.add_field(name="Site", value=safe_text(resource.domain, 200))
    embed.add_field(name="Tags", value=shorten(_tags(resource), 1024))
    embed.add_field(
        name="Shares · votes · saves",
        value=f"{resource.shares} · {resource.votes} · {resource.saves}",
    )
    lines = []
    for share in shares[:10]:
        when = discord_timestamp(share.shared_at.timestamp(), "d")
        link = (
            f" [message](https://discord.com/channels/{guild_id}/{share.channel_id}/"
            f"{share.message_id})"
            if share.message_id
            else ""
        )
        lines.append(f"<@{share.member_id}> {when}{link}")
    if len(shares) > 10:
        lines.append(f"…and {len(shares) - 10} more")
    embed.add_field(name="Shared by", value=shorten("\n".join(lines) or "—", 1024), inline=False)
    embed.set_footer(text=f"Resource #{resource.id}")
    return embed


def _line(resource: Resource) -> str:
    title = safe_text(resource.display_title, 120)
    url = _url(resource)
    head = f"**#{resource.id}** [{title}]({url})" if url else f"**#{resource.id}** {title}"
    tags = " ".join(f"`{t}`" for t in resource.tags[:10])
    meta = f"{safe_text(resource.domain, 60)} · ⭐ {resource.votes} · shared {resource.shares}×"
    return shorten(f"{head}\n{meta}" + (f"\n{tags}" if tags else ""), 700)


def result_pages(resources: Sequence[Resource], *, title: str, empty: str) -> list[discord.Embed]:
    """Pages of at most five resources each (one page saying `empty` if there are none)."""
    if not resources:
        return [discord.Embed(title=shorten(title, 256), description=empty, colour=CARD_COLOUR)]
    pages = []
    total = len(resources)
    for start in range(0, total, PAGE_SIZE):
        chunk = resources[start : start + PAGE_SIZE]
        embed = discord.Embed(
            title=shorten(title, 256),
            description="\n\n".join(_line(r) for r in chunk),
            colour=CARD_COLOUR,
        )
        embed.set_footer(text=f"Results {start + 1}-{start + len(chunk)} of {total}")
        pages.append(embed)
    return pages


def tag_list(counts: Sequence[TagCount]) -> list[discord.Embed]:
    if not counts:
        return [discord.Embed(title="Library tags", description="No tags yet.")]
    pages: list[discord.Embed] = []
    for start in range(0, len(counts), 50):
        chunk = counts[start : start + 50]
        text = "\n".join(f"`{c.tag}` — {c.count}" for c in chunk)
        pages.append(
            discord.Embed(title="Library tags", description=shorten(text, 4000), colour=CARD_COLOUR)
        )
    return pages
