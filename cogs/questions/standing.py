"""What `/me stats` and `/pln contributors` show (used by the members' and the server's cogs)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import discord

from bot.questions.records import ContributorScore, Counts, MemberStats
from bot.questions.rules import WEIGHTS
from bot.ui.text import safe_text
from bot.wording import discord_timestamp, plural


def counts_text(counts: Counts) -> str:
    return (
        f"Score **{counts.score}**\n"
        f"Accepted answers: {counts.answers}\n"
        f"Thanks received: {counts.thanks}\n"
        f"Shares: {counts.shares}\n"
        f"Votes and saves received: {counts.votes_received + counts.saves_received}\n"
        f"Chat-hour answers: {counts.chat_answers}"
    )


def stats_embed(stats: MemberStats, member: discord.abc.User) -> discord.Embed:
    embed = discord.Embed(title=f"Your contributions, {member.display_name}")
    embed.add_field(name="Last 30 days", value=counts_text(stats.last_30_days))
    embed.add_field(name="All time", value=counts_text(stats.all_time))
    milestones = []
    if stats.first_share_at is not None:
        milestones.append(
            f"🌱 First share {discord_timestamp(stats.first_share_at.timestamp(), 'D')}"
        )
    if stats.first_answer_at is not None:
        milestones.append(
            f"🏅 First accepted answer {discord_timestamp(stats.first_answer_at.timestamp(), 'D')}"
        )
    embed.add_field(
        name="Milestones",
        value="\n".join(milestones) or "Share a link or answer a question to earn the first ones.",
        inline=False,
    )
    embed.set_footer(
        text=f"You gave {plural(stats.thanks_given, 'thanks', 'thanks')}. {SCORE_RULE}"
    )
    return embed


SCORE_RULE = (
    "Score: "
    + ", ".join(
        f"{label} ×{WEIGHTS[name]}"
        for name, label in (
            ("answers", "accepted answer"),
            ("thanks_scored", "thanks (once a day per member)"),
            ("chat_answers", "chat-hour answer"),
            ("shares", "share"),
            ("votes_received", "vote or save received"),
        )
    )
    + "."
)


def contributors_embed(
    scores: Sequence[ContributorScore], days: int, name_of: Callable[[int], str]
) -> discord.Embed:
    lines = [
        f"{i}. **{safe_text(name_of(s.member_id))}** — {s.counts.score} "
        f"({plural(s.counts.answers, 'answer')}, {s.counts.thanks} thanks, "
        f"{plural(s.counts.shares, 'share')})"
        for i, s in enumerate(scores, start=1)
    ]
    embed = discord.Embed(
        title=f"Top contributors, last {days} days",
        description="\n".join(lines) or "Nobody has contributed in this period yet.",
        colour=discord.Colour.gold(),
    )
    embed.set_footer(text=SCORE_RULE + " Opt out with /me privacy.")
    return embed
