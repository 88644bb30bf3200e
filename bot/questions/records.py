"""What the questions services return: frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

QuestionState = Literal["open", "solved", "closed", "gone"]
# What /questions lists: "unanswered" is open with no reply from anyone but the asker.
ListedState = Literal["open", "unanswered", "solved", "all"]


@dataclass(frozen=True)
class QuestionInfo:
    id: int
    guild_id: int
    topic_id: int | None
    channel_id: int
    thread_id: int
    message_id: int | None
    asker_id: int
    title: str
    details: str
    state: QuestionState
    created_at: datetime
    last_activity_at: datetime
    first_reply_at: datetime | None
    nudged_at: datetime | None
    asked_at: datetime | None
    solved_at: datetime | None
    solver_id: int | None
    solution_message_id: int | None
    solution_excerpt: str
    closed_at: datetime | None

    @property
    def answered(self) -> bool:
        return self.first_reply_at is not None


@dataclass(frozen=True)
class Solved:
    question: QuestionInfo
    # False when the asker marked their own message (no credit) or nobody's (the button).
    credited: bool


@dataclass(frozen=True)
class ThanksGiven:
    receiver_id: int
    received_total: int
    # False when the giver already thanked the receiver in the last 24 hours (not scored again).
    scored: bool
    given_today: int


@dataclass(frozen=True)
class Counts:
    shares: int = 0
    votes_received: int = 0
    saves_received: int = 0
    answers: int = 0
    thanks: int = 0
    # thanks that count toward the score: at most one a day from the same member
    thanks_scored: int = 0
    chat_answers: int = 0
    score: int = 0


@dataclass(frozen=True)
class MemberStats:
    last_30_days: Counts
    all_time: Counts
    first_share_at: datetime | None
    first_answer_at: datetime | None
    thanks_given: int


@dataclass(frozen=True)
class ContributorScore:
    member_id: int
    counts: Counts


@dataclass(frozen=True)
class HelperRole:
    guild_id: int
    role_id: int | None
    threshold: int
