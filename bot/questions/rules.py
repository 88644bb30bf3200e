"""The questions' rules, Discord-free and pure: what a question may say, when each nudge is due,
and the contribution score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.clean import clean_text
from bot.errors import UserFacingError
from bot.questions.records import Counts, QuestionInfo

MAX_TITLE = 300
MAX_DETAILS = 2000
# After this much silence an open question's asker is asked whether it is solved.
SILENCE_ASK_AFTER = timedelta(days=3)
# The score: accepted answers and thanks weigh more than shares (README, "Contribution").
WEIGHTS = {
    "answers": 5,
    "thanks_scored": 3,
    "chat_answers": 2,
    "shares": 1,
    "votes_received": 1,
    "saves_received": 1,
}
Action = Literal["nudge", "ask", "close"]


@dataclass(frozen=True)
class Timing:
    nudge_after: timedelta
    close_after: timedelta


@dataclass(frozen=True)
class Step:
    action: Action
    due_at: datetime


def question_title(text: str) -> str:
    title = " ".join(clean_text(text).split())
    if not title:
        raise UserFacingError("A question needs some words; nothing was posted.")
    if len(title) >= MAX_TITLE:
        raise UserFacingError(
            f"Keep the question under {MAX_TITLE} characters (it is {len(title)}); put the rest "
            "in `details`. Nothing was posted."
        )
    return title


def question_details(text: str | None) -> str:
    details = clean_text(text or "").strip()
    if len(details) > MAX_DETAILS:
        raise UserFacingError(
            f"Details may be {MAX_DETAILS} characters at most (they are {len(details)}); "
            "nothing was posted."
        )
    return details


def next_step(question: QuestionInfo, timing: Timing) -> Step | None:
    """The question's next timed step, each at most once: the nudge to followers (nobody but the
    asker replied), the "is it solved?" to the asker (3 days of silence), closing when solved."""
    if question.state == "open":
        steps: list[Step] = []
        if question.nudged_at is None and question.first_reply_at is None:
            steps.append(Step("nudge", question.created_at + timing.nudge_after))
        if question.asked_at is None:
            steps.append(Step("ask", question.last_activity_at + SILENCE_ASK_AFTER))
        return min(steps, key=lambda s: s.due_at) if steps else None
    if question.state == "solved" and question.closed_at is None:
        quiet_since = max(question.last_activity_at, question.solved_at or question.created_at)
        return Step("close", quiet_since + timing.close_after)
    return None


def score(counts: Counts) -> int:
    return sum(getattr(counts, name) * weight for name, weight in WEIGHTS.items())
