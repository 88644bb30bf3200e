"""Embeds for /topic info and /topic list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import discord

from bot.topics.service import TopicInfo, broken_message
from bot.ui.text import safe_text, shorten
from bot.wording import discord_timestamp, plural

TOPICS_PER_PAGE = 10
_STATE_MARK = {"active": "", "archived": " (archived)", "broken": " (broken)"}


def info_embed(topic: TopicInfo, *, following: bool) -> discord.Embed:
    embed = discord.Embed(
        title=shorten(f"{topic.emoji or ''} {topic.name}".strip(), 256),
        description=safe_text(topic.description, 4000) or "No description.",
        colour=discord.Colour.blurple() if topic.state == "active" else discord.Colour.dark_grey(),
    )
    embed.add_field(
        name="Channel", value=f"<#{topic.channel_id}>" if topic.channel_id else "missing"
    )
    embed.add_field(name="Followers", value=str(topic.follower_count))
    embed.add_field(name="Kind", value=topic.kind)
    embed.add_field(name="State", value=topic.state)
    if topic.default_tags:
        embed.add_field(
            name="Default tags", value=shorten(" ".join(f"`{t}`" for t in topic.default_tags), 1024)
        )
    embed.add_field(name="Created", value=discord_timestamp(topic.created_at.timestamp(), "D"))
    if topic.state == "broken":
        embed.add_field(name="Problem", value=shorten(broken_message(topic), 1024), inline=False)
    embed.set_footer(text="You follow this topic" if following else "Join with /topic join")
    return embed


def list_pages(
    topics: Sequence[TopicInfo], links_this_week: Mapping[int, int]
) -> list[discord.Embed]:
    """`links_this_week` maps a topic's channel id to the links shared there in the last 7 days."""
    if not topics:
        return [
            discord.Embed(
                title="Topics",
                description="No topics yet. Moderators create them with `/mod topic create`; "
                "anyone can suggest one with `/topic suggest`.",
                colour=discord.Colour.blurple(),
            )
        ]
    pages: list[discord.Embed] = []
    for start in range(0, len(topics), TOPICS_PER_PAGE):
        embed = discord.Embed(title="Topics", colour=discord.Colour.blurple())
        for topic in topics[start : start + TOPICS_PER_PAGE]:
            channel = f"<#{topic.channel_id}>" if topic.channel_id else "no channel"
            followers = plural(topic.follower_count, "follower")
            links = links_this_week.get(topic.channel_id or 0, 0)
            value = f"{channel} · {followers} · {plural(links, 'link')} this week"
            if topic.description:
                value += "\n" + safe_text(topic.description, 300)
            embed.add_field(
                name=shorten(f"{topic.emoji or '•'} {topic.name}{_STATE_MARK[topic.state]}", 256),
                value=shorten(value, 1024),
                inline=False,
            )
        embed.set_footer(text=plural(len(topics), "topic"))
        pages.append(embed)
    return pages
