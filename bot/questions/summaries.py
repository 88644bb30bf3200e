"""Questions as the weekly recap and the digests show them: the oldest still waiting, the week's
solved ones with who solved them (unless they opted out with /me privacy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.members.models import MemberPrivacy
from bot.questions.models import Question

RECAP_LIMIT = 5
DIGEST_LIMIT = 5


@dataclass(frozen=True)
class QuestionLine:
    title: str
    thread_id: int
    at: datetime  # asked (waiting) or solved
    solver_id: int | None = None  # None: nobody credited, or the solver opted out

    def to_json(self) -> list[Any]:
        return [self.title, self.thread_id, self.at.isoformat(), self.solver_id]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> QuestionLine:
        title, thread_id, at, solver_id = data
        solver = int(solver_id) if solver_id is not None else None
        return cls(str(title), int(thread_id), datetime.fromisoformat(str(at)), solver)


@dataclass(frozen=True)
class QuestionsSummary:
    waiting: tuple[QuestionLine, ...] = ()
    solved: tuple[QuestionLine, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "waiting": [q.to_json() for q in self.waiting],
            "solved": [q.to_json() for q in self.solved],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> QuestionsSummary:
        data = data or {}
        return cls(
            tuple(QuestionLine.from_json(q) for q in data.get("waiting", [])),
            tuple(QuestionLine.from_json(q) for q in data.get("solved", [])),
        )


async def for_recap(
    session: AsyncSession, guild_id: int, start: datetime, end: datetime
) -> QuestionsSummary:
    """The oldest questions open at the week's end, and those solved in the week."""
    waiting = await session.scalars(
        select(Question)
        .where(Question.guild_id == guild_id, Question.state == "open", Question.created_at < end)
        .order_by(Question.created_at, Question.id)
        .limit(RECAP_LIMIT)
    )
    solved = (
        await session.scalars(
            select(Question)
            .where(
                Question.guild_id == guild_id,
                Question.state != "gone",
                Question.solved_at >= start,
                Question.solved_at < end,
            )
            .order_by(Question.solved_at, Question.id)
            .limit(RECAP_LIMIT)
        )
    ).all()
    hidden = set(
        (
            await session.scalars(
                select(MemberPrivacy.user_id).where(
                    MemberPrivacy.guild_id == guild_id,
                    MemberPrivacy.hide_from_contributors.is_(True),
                    MemberPrivacy.user_id.in_([q.solver_id for q in solved if q.solver_id]),
                )
            )
        ).all()
    )
    return QuestionsSummary(
        waiting=tuple(QuestionLine(q.title, q.thread_id, q.created_at) for q in waiting),
        solved=tuple(
            QuestionLine(
                q.title,
                q.thread_id,
                q.solved_at or q.created_at,
                q.solver_id if q.solver_id not in hidden else None,
            )
            for q in solved
        ),
    )


async def open_in_topics(
    session: AsyncSession, guild_id: int, topic_ids: Sequence[int], member_id: int
) -> tuple[QuestionLine, ...]:
    """Open questions in these topics that others asked, oldest first (a member's digest)."""
    if not topic_ids:
        return ()
    rows = await session.scalars(
        select(Question)
        .where(
            Question.guild_id == guild_id,
            Question.state == "open",
            Question.topic_id.in_(list(topic_ids)),
            Question.asker_id != member_id,
        )
        .order_by(Question.created_at, Question.id)
        .limit(DIGEST_LIMIT)
    )
    return tuple(QuestionLine(q.title, q.thread_id, q.created_at) for q in rows)
