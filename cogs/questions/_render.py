"""What members read: the guide, the solved note, the nudges, the lists and the counts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import discord

from bot.questions.records import ContributorScore, Counts, MemberStats, QuestionInfo
from bot.questions.rules import WEIGHTS
from bot.ui.text import safe_text, shorten
from bot.wording import discord_timestamp, plural

PER_PAGE = 10
SOLVED_PREFIX = "✅ "
THREAD_NAME_MAX = 100

GUIDE = (
    "**How to get a good answer**\n"
    "• Say what you tried and what you expected; links and examples help.\n"
    "• Answer in this thread, so the question and its answers stay together.\n"
    "• When an answer solves it, {asker} (or a moderator) marks it: open the answer's menu → "
    "**Apps** → **Mark as solution**, or type `/solved` here.\n"
    "• Thank whoever helped with 🙏 on their message or `/thanks`."
)


def thread_name(title: str, *, solved: bool = False) -> str:
    prefix = SOLVED_PREFIX if solved else ""
    return prefix + shorten(title, THREAD_NAME_MAX - len(prefix))


def question_text(asker: discord.abc.User, title: str, details: str) -> str:
    text = f"**Question from {asker.mention}:** {safe_text(title)}"
    if details:
        text += "\n\n" + safe_text(details)
    return text[:2000]


def guide_text(asker: discord.abc.User) -> str:
    return GUIDE.format(asker=asker.mention)


def solved_text(question: QuestionInfo, marker_id: int) -> str:
    if question.solver_id is None:
        return f"✅ Marked solved by <@{marker_id}>."
    quote = "\n".join(
        f"> {line}" for line in safe_text(question.solution_excerpt, 300).splitlines()
    )
    return f"✅ **Solved by <@{question.solver_id}>**\n{quote or '> (no text)'}"[:2000]


def when(instant: datetime) -> str:
    return discord_timestamp(instant.timestamp(), "R")


def question_line(question: QuestionInfo, guild_id: int) -> str:
    link = f"https://discord.com/channels/{guild_id}/{question.thread_id}"
    if question.solved_at is not None:
        state = f"✅ solved {when(question.solved_at)}"
        if question.solver_id is not None:
            state += f" by <@{question.solver_id}>"
    elif question.answered:
        state = "💬 open"
    else:
        state = "❔ unanswered"
    title = safe_text(shorten(question.title, 90))
    return f"[{title}]({link}) — {state}, asked {when(question.created_at)}"


def question_pages(
    questions: Sequence[QuestionInfo], guild_id: int, title: str
) -> list[discord.Embed]:
    if not questions:
        return [discord.Embed(title=title, description="No questions yet. Ask one with `/ask`.")]
    pages = []
    for start in range(0, len(questions), PER_PAGE):
        chunk = questions[start : start + PER_PAGE]
        embed = discord.Embed(
            title=title,
            description="\n".join(question_line(q, guild_id) for q in chunk),
            colour=discord.Colour.blurple(),
        )
        embed.set_footer(text=f"{plural(len(questions), 'question')}, newest first")
        pages.append(embed)
    return pages


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
