"""The one recap/digest renderer: a RecapView → messages of embeds, within all Discord limits.

Each entry is built with bounded pieces (title, URL, names, tags are cut or left out), packed into
embed descriptions (≤ 4096, ≤ EMBED_BUDGET characters an embed) and the embeds into messages
(≤ 10 embeds and ≤ 6000 characters a message). Rendering is deterministic: the preview of a
recap renders exactly like the stored recap that is then posted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.learning.records import MemberWeek
from bot.questions.summaries import QuestionLine
from bot.recap.ranking import FORMULA
from bot.recap.records import RecapEntry, RecapView
from bot.ui.text import safe_text, shorten
from bot.wording import discord_timestamp
from cogs.learning.lines import learning_line, own_week_line
from cogs.questions.summaries import question_sections, waiting_text

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
EMBEDS_PER_MESSAGE = 10
MESSAGE_TOTAL = 6000
CONTENT_LIMIT = 2000
# Room left in each embed for a footer, so no packing decision depends on the footer.
EMBED_BUDGET = 5000
ENTRY_TITLE = 150
URL_LINKED = 512
NAME = 64
TAGS_SHOWN = 5
COLOUR = discord.Colour.gold()


@dataclass(frozen=True)
class Part:
    """One message: optional content and up to ten embeds."""

    content: str | None
    embeds: tuple[discord.Embed, ...]


def jump_url(guild_id: int, channel_id: int, message_id: int | None) -> str | None:
    if message_id is None:
        return None
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def _link_text(text: str) -> str:
    return safe_text(text, ENTRY_TITLE).replace("]", "\\]")


def _safe_url(url: str) -> str | None:
    if len(url) > URL_LINKED or not url.startswith(("http://", "https://")):
        return None
    for raw, encoded in (("(", "%28"), (")", "%29"), (" ", "%20"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(raw, encoded)
    return url


def entry_text(guild_id: int, entry: RecapEntry) -> str:
    """One resource, at most ~1,100 characters whatever the data."""
    title = _link_text(entry.title or entry.url)
    url = _safe_url(entry.url)
    head = f"**{entry.rank}. [{title}]({url})**" if url else f"**{entry.rank}. {title}**"
    domain = safe_text(entry.domain, 60)
    lines = [f"{head} · {domain}" if domain else head]
    details: list[str] = []
    if entry.tags:
        shown = " ".join(f"`{safe_text(t, 32).replace('`', '')}`" for t in entry.tags[:TAGS_SHOWN])
        more = len(entry.tags) - TAGS_SHOWN
        details.append(shown + (f" +{more}" if more > 0 else ""))
    members = "member" if entry.sharers == 1 else "members"
    details.append(f"shared by {entry.sharers} {members} · {entry.engagement} ⭐")
    name = safe_text(entry.first_sharer_name, NAME) if entry.first_sharer_name else None
    # Named, never pinged: plain text, and allowed mentions stay none.
    who = f"first by {name}" if name else "first share"
    jump = jump_url(guild_id, entry.channel_id, entry.message_id)
    details.append(f"[{who}]({jump})" if jump else who)
    lines.append(" · ".join(details))
    return "\n".join(lines)


def feed_entry_text(guild_id: int, entry: RecapEntry) -> str:
    """A feed item members liked: its title, where, the week's votes and saves, its post."""
    title = _link_text(entry.title or entry.url)
    url = _safe_url(entry.url)
    head = f"**{entry.rank}. [{title}]({url})**" if url else f"**{entry.rank}. {title}**"
    domain = safe_text(entry.domain, 60)
    jump = jump_url(guild_id, entry.channel_id, entry.message_id)
    post = f"[the post]({jump})" if jump else "posted by a feed"
    return f"{head} · {domain}\n{entry.engagement} ⭐ and 🔖 this week · {post}"


def _numbers_text(view: RecapView) -> str:
    n = view.numbers
    lines = [
        f"🔗 **{n.links_shared}** links shared",
        f"👋 **{n.new_sharers}** members shared for the first time",
    ]
    if n.new_topics:
        names = ", ".join(safe_text(t, 100) for t in n.new_topics)
        lines.append(shorten(f"🆕 New topics: {names}", 1000))
    if n.chats:
        chats = ", ".join(
            f"[{_link_text(label)}]({url})" if _safe_url(url) else _link_text(label)
            for label, url in n.chats[:10]
        )
        lines.append(f"💬 Chats held: {chats}")
    if n.learning.members:
        lines.append(learning_line(n.learning))
    return "\n".join(lines)


def _contributors_text(view: RecapView) -> str:
    return "\n".join(
        f"{i}. {safe_text(c.name, NAME) if c.name else 'a member'} · {c.links} "
        f"{'link' if c.links == 1 else 'links'}"
        for i, c in enumerate(view.contributors, start=1)
    )


def _sections(view: RecapView) -> list[tuple[str, list[str]]]:
    start = discord_timestamp(view.week.start.timestamp(), "D")
    end = discord_timestamp(view.week.end.timestamp(), "D")
    intro = f"The week from {start} to {end}."
    if view.empty:
        return [
            ("📚 Weekly recap", [intro, "No links were shared this week."]),
            *question_sections(view.guild_id, view.questions),
        ]
    sections: list[tuple[str, list[str]]] = [
        (
            f"📚 Weekly recap: the top {len(view.entries)}",
            [intro, *(entry_text(view.guild_id, e) for e in view.entries)],
        )
    ]
    for topic in view.topics:
        sections.append(
            (
                shorten(f"# {topic.name}", TITLE_LIMIT),
                [entry_text(view.guild_id, e) for e in topic.entries],
            )
        )
    if view.feeds:
        sections.append(
            ("📰 From your feeds", [feed_entry_text(view.guild_id, e) for e in view.feeds])
        )
    numbers = [_numbers_text(view)]
    if view.contributors:
        numbers.append("**Top contributors**\n" + _contributors_text(view))
    sections.append(("📊 The week in numbers", numbers))
    sections += question_sections(view.guild_id, view.questions)
    return sections


def _embeds(sections: Sequence[tuple[str, list[str]]]) -> list[discord.Embed]:
    embeds: list[discord.Embed] = []
    for title, blocks in sections:
        current: list[str] = []
        heading = title

        def flush(heading: str, current: list[str]) -> None:
            embeds.append(
                discord.Embed(
                    title=shorten(heading, TITLE_LIMIT),
                    description="\n\n".join(current),
                    colour=COLOUR,
                )
            )

        for block in blocks:
            block = block[: DESCRIPTION_LIMIT - 100]
            size = len("\n\n".join([*current, block])) + len(heading)
            if current and (size > DESCRIPTION_LIMIT or size > EMBED_BUDGET):
                flush(heading, current)
                current = []
                heading = shorten(f"{title} (continued)", TITLE_LIMIT)
            current.append(block)
        flush(heading, current)
    return embeds


def render(view: RecapView) -> list[Part]:
    """The recap as messages; the ranking formula is the footer of the last embed."""
    embeds = _embeds(_sections(view))
    embeds[-1].set_footer(text=FORMULA[:FOOTER_LIMIT])
    return pack(embeds)


def pack(embeds: Sequence[discord.Embed]) -> list[Part]:
    parts: list[Part] = []
    current: list[discord.Embed] = []
    total = 0
    for embed in embeds:
        size = len(embed)
        if current and (len(current) == EMBEDS_PER_MESSAGE or total + size > MESSAGE_TOTAL):
            parts.append(Part(None, tuple(current)))
            current, total = [], 0
        current.append(embed)
        total += size
    if current:
        parts.append(Part(None, tuple(current)))
    return parts


def render_digest(
    guild_id: int,
    guild_name: str,
    entries: Sequence[RecapEntry],
    open_questions: Sequence[QuestionLine] = (),
    learning: MemberWeek | None = None,
) -> list[Part]:
    """A member's weekly digest (DM): their topics' and tags' top links, their own week in the
    learning log, and open questions."""
    title = shorten(f"📬 Your weekly digest from {guild_name}", TITLE_LIMIT)
    blocks = [entry_text(guild_id, e) for e in entries] or ["Nothing new in your topics this week."]
    if learning is not None and (line := own_week_line(learning)):
        blocks.append(line)
    sections = [(title, blocks)]
    if open_questions:
        sections.append(
            ("❔ Waiting for an answer in your topics", [waiting_text(guild_id, open_questions)])
        )
    embeds = _embeds(sections)
    embeds[-1].set_footer(text="Change it with /digest in the server; stop it with /digest off.")
    return pack(embeds)


async def send_privately(interaction: discord.Interaction[Any], view: RecapView) -> None:
    """Every part of a recap as the member's private follow-ups (the interaction is deferred)."""
    for part in render(view):
        await interaction.followup.send(
            content=part.content or discord.utils.MISSING,
            embeds=list(part.embeds),
            ephemeral=True,
        )
