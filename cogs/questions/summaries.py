"""The questions' sections of the weekly recap and of digests (used by cogs/recap's renderer)."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.questions.records import QuestionInfo
from bot.questions.summaries import QuestionLine, QuestionsSummary
from bot.ui.text import safe_text, shorten
from bot.wording import discord_timestamp
from cogs.questions._render import question_pages

TITLE = 120


def _link(guild_id: int, line: QuestionLine) -> str:
    title = safe_text(shorten(line.title, TITLE)).replace("[", "(").replace("]", ")")
    return f"[{title}](https://discord.com/channels/{guild_id}/{line.thread_id})"


def waiting_text(guild_id: int, lines: Sequence[QuestionLine]) -> str:
    return "\n".join(
        f"• {_link(guild_id, q)} — asked {discord_timestamp(q.at.timestamp(), 'R')}" for q in lines
    )


def solved_text(guild_id: int, lines: Sequence[QuestionLine]) -> str:
    return "\n".join(
        f"• {_link(guild_id, q)}" + (f" — solved by <@{q.solver_id}>" if q.solver_id else "")
        for q in lines
    )


def question_sections(guild_id: int, summary: QuestionsSummary) -> list[tuple[str, list[str]]]:
    sections: list[tuple[str, list[str]]] = []
    if summary.waiting:
        sections.append(("❔ Waiting for an answer", [waiting_text(guild_id, summary.waiting)]))
    if summary.solved:
        sections.append(("✅ Solved this week", [solved_text(guild_id, summary.solved)]))
    return sections


def solved_search_pages(
    found: Sequence[QuestionInfo], guild_id: int, query: str | None
) -> list[discord.Embed]:
    """`/search kind:questions`: the solved questions found, as /questions shows them."""
    title = f'Solved questions: "{safe_text(query, 100)}"' if query else "Solved questions"
    if not found:
        return [discord.Embed(title=title, description="No solved question matches.")]
    return question_pages(found, guild_id, title)
