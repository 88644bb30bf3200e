"""What members read about questions: the guide, the solved note, the lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord

from bot.questions.records import QuestionInfo
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
