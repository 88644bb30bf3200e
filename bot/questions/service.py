"""Questions: asking, replies, the solution, hand-made thread changes and the timed steps.

Each open or solved question owns at most one one-off `questions.check` schedule on the
scheduling core, due at its next step (`rules.next_step`). A reply does not move it: when it
runs and the step is not due any more (the thread spoke since), it plans the new instant.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.guilds.service import ensure_guild_row
from bot.questions import ledger
from bot.questions.models import Question
from bot.questions.records import ListedState, QuestionInfo, QuestionState, Solved
from bot.questions.rules import Action, Step, Timing, next_step
from bot.scheduling.recurrence import Recurrence
from bot.scheduling.schedules import BOT_ACTOR, add_schedule, delete_schedules

CHECK_KIND = "questions.check"
MAX_EXCERPT = 500
MAX_SEARCH_WORDS = 8
NOT_A_QUESTION = "This works in a question's thread (start one with `/ask`)."


class QuestionService:
    def __init__(self, sessions: SessionFactory, clock: Clock, timing: Timing) -> None:
        self._sessions = sessions
        self._clock = clock
        self.timing = timing

    async def ask(
        self,
        guild_id: int,
        guild_name: str | None,
        asker_id: int,
        *,
        title: str,
        details: str,
        topic_id: int | None,
        channel_id: int,
        thread_id: int,
        message_id: int | None,
    ) -> QuestionInfo:
        """Record a question whose thread exists (`rules.question_title` checked it before)."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            row = Question(
                guild_id=guild_id,
                topic_id=topic_id,
                channel_id=channel_id,
                thread_id=thread_id,
                message_id=message_id,
                asker_id=asker_id,
                title=title,
                details=details,
                state="open",
                created_at=now,
                last_activity_at=now,
                solution_excerpt="",
            )
            session.add(row)
            await session.flush()
            await self._plan(session, row)
            return info(row)

    async def get(self, guild_id: int, question_id: int) -> QuestionInfo | None:
        async with self._sessions() as session:
            row = await session.get(Question, question_id)
        return info(row) if row is not None and row.guild_id == guild_id else None

    async def by_thread(self, guild_id: int, thread_id: int) -> QuestionInfo | None:
        async with self._sessions() as session:
            row = await _by_thread(session, guild_id, thread_id)
        return info(row) if row is not None else None

    async def require_in_thread(self, guild_id: int, thread_id: int | None) -> QuestionInfo:
        found = await self.by_thread(guild_id, thread_id) if thread_id else None
        if found is None:
            raise UserFacingError(NOT_A_QUESTION)
        return found

    async def message_posted(self, guild_id: int, thread_id: int, author_id: int) -> bool:
        """A member spoke in a thread: its question (if any) is active; a reply by someone other
        than the asker makes it answered. False when the thread is no question's.

        Every thread message of every guild comes here: a read first, so the many messages in
        other threads never take the database's write lock."""
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(Question.id, Question.asker_id, Question.first_reply_at).where(
                        Question.guild_id == guild_id, Question.thread_id == thread_id
                    )
                )
            ).first()
        if found is None:
            return False
        question_id, asker_id, first_reply_at = found
        now = self._clock.now()
        values: dict[str, datetime] = {"last_activity_at": now}
        if author_id != asker_id and first_reply_at is None:
            values["first_reply_at"] = now
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Question)
                .where(Question.id == question_id, Question.guild_id == guild_id)
                .values(**values)
            )
        return True

    async def solve(
        self,
        guild_id: int,
        thread_id: int | None,
        actor_id: int,
        *,
        actor_is_moderator: bool,
        solver_id: int | None,
        solver_is_bot: bool = False,
        solution_message_id: int | None = None,
        excerpt: str = "",
    ) -> Solved:
        """Mark the thread's question solved by a message (or none: the "Solved" button).

        Refused, with nothing changed: outside a question thread, by anyone but the asker or a
        moderator, on a bot's message, or when it is already solved.
        """
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = await _by_thread(session, guild_id, thread_id) if thread_id else None
            if row is None:
                raise UserFacingError(NOT_A_QUESTION)
            if actor_id != row.asker_id and not actor_is_moderator:
                raise UserFacingError(
                    "Only the member who asked (or a moderator) marks the solution."
                )
            if solver_is_bot:
                raise UserFacingError(
                    "A bot's message cannot be the solution; pick a member's answer."
                )
            if row.state in ("solved", "closed") and row.solved_at is not None:
                raise UserFacingError("This question is already solved.")
            if row.state == "gone":
                raise UserFacingError("This question's thread is gone.")
            row.state = "solved"
            row.solved_at = now
            row.solved_by = actor_id
            row.solver_id = solver_id
            row.solution_message_id = solution_message_id
            row.solution_excerpt = " ".join(excerpt.split())[:MAX_EXCERPT]
            row.last_activity_at = now
            credited = solver_id is not None and solver_id != row.asker_id
            if credited:
                assert solver_id is not None
                ledger.add(session, guild_id, solver_id, "answer", now, ref_id=row.id)
            await self._plan(session, row)
            return Solved(info(row), credited)

    async def still_open(self, guild_id: int, question_id: int, actor_id: int) -> QuestionInfo:
        """The asker's "Still open": the question stays listed as open (the ask is not repeated)."""
        async with self._sessions() as session, session.begin():
            row = await _row(session, guild_id, question_id)
            if actor_id != row.asker_id:
                raise UserFacingError("Only the member who asked answers this.")
            row.last_activity_at = self._clock.now()
            return info(row)

    async def thread_changed(
        self, guild_id: int, thread_id: int, *, deleted: bool = False, archived: bool = False
    ) -> QuestionInfo | None:
        """A question's thread deleted, archived or reopened by hand: the state follows it."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = await _by_thread(session, guild_id, thread_id)
            if row is None or row.state == "gone":
                return None
            if deleted:
                row.state = "gone"
            elif archived and row.state != "closed":
                row.state, row.closed_at = "closed", now
            elif not archived and row.state == "closed":
                row.state = "solved" if row.solved_at is not None else "open"
                row.closed_at, row.last_activity_at = None, now
            else:
                return info(row)
            await self._plan(session, row)
            return info(row)

    # --- the timed steps -----------------------------------------------------------------

    async def due(self, guild_id: int, question_id: int) -> tuple[QuestionInfo, Step | None]:
        """The question and its next step if it is due now (else the check is planned again)."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = await _row(session, guild_id, question_id)
            step = next_step(info(row), self.timing)
            if step is not None and step.due_at <= now:
                return info(row), step
            await self._plan(session, row)
            return info(row), None

    async def step_done(self, guild_id: int, question_id: int, action: Action) -> None:
        """Record that a step happened (each happens once) and plan the next one."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = await _row(session, guild_id, question_id)
            if action == "nudge":
                row.nudged_at = now
            elif action == "ask":
                row.asked_at = now
            else:
                row.state, row.closed_at = "closed", now
            await self._plan(session, row)

    async def retry_later(self, guild_id: int, question_id: int, delay: timedelta) -> None:
        """A step failed on Discord's side: check again after `delay` (it is still due then)."""
        async with self._sessions() as session, session.begin():
            row = await _row(session, guild_id, question_id)
            await self._plan(session, row, not_before=self._clock.now() + delay)

    async def _plan(
        self, session: AsyncSession, row: Question, *, not_before: datetime | None = None
    ) -> None:
        if row.check_schedule_id is not None:
            await delete_schedules(session, row.guild_id, [row.check_schedule_id])
            row.check_schedule_id = None
        step = next_step(info(row), self.timing)
        if step is None:
            return
        now = self._clock.now()
        at = _ceil_second(max(step.due_at, now, not_before or now))
        schedule = await add_schedule(
            session,
            now - timedelta(seconds=1),
            row.guild_id,
            BOT_ACTOR,
            kind=CHECK_KIND,
            rule=Recurrence("once", at.time(), "UTC", at.date()),
            label=f"question #{row.id}",
            payload={"question_id": row.id},
            audit=False,
        )
        row.check_schedule_id = schedule.id

    # --- lists ---------------------------------------------------------------------------

    async def listing(
        self,
        guild_id: int,
        *,
        topic_id: int | None = None,
        state: ListedState = "all",
        limit: int = 250,
    ) -> list[QuestionInfo]:
        """Newest first."""
        query = select(Question).where(Question.guild_id == guild_id, Question.state != "gone")
        if topic_id is not None:
            query = query.where(Question.topic_id == topic_id)
        if state == "open":
            query = query.where(Question.state == "open")
        elif state == "unanswered":
            query = query.where(Question.state == "open", Question.first_reply_at.is_(None))
        elif state == "solved":
            query = query.where(Question.solved_at.is_not(None))
        query = query.order_by(Question.created_at.desc(), Question.id.desc()).limit(limit)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [info(r) for r in rows]

    async def search_solved(
        self, guild_id: int, query: str, *, limit: int = 50
    ) -> list[QuestionInfo]:
        """Solved questions whose question, details or solution contain every word, newest first."""
        words = [w for w in re.findall(r"\w+", query.casefold()) if len(w) > 1][:MAX_SEARCH_WORDS]
        text = func.lower(Question.title + " " + Question.details + " " + Question.solution_excerpt)
        found = select(Question).where(
            Question.guild_id == guild_id,
            Question.state != "gone",
            Question.solved_at.is_not(None),
            *(text.contains(word, autoescape=True) for word in words),
        )
        found = found.order_by(Question.solved_at.desc(), Question.id.desc()).limit(limit)
        async with self._sessions() as session:
            rows = (await session.scalars(found)).all()
        return [info(r) for r in rows]

    async def waiting(
        self,
        guild_id: int,
        *,
        before: datetime,
        topic_ids: Sequence[int] | None = None,
        limit: int = 5,
    ) -> list[QuestionInfo]:
        """The oldest open questions asked before `before` (in these topics, if given)."""
        query = select(Question).where(
            Question.guild_id == guild_id, Question.state == "open", Question.created_at < before
        )
        if topic_ids is not None:
            query = query.where(Question.topic_id.in_(list(topic_ids)))
        query = query.order_by(Question.created_at, Question.id).limit(limit)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [info(r) for r in rows]

    async def solved_between(
        self, guild_id: int, start: datetime, end: datetime, *, limit: int = 10
    ) -> list[QuestionInfo]:
        query = (
            select(Question)
            .where(
                Question.guild_id == guild_id,
                Question.state != "gone",
                Question.solved_at >= start,
                Question.solved_at < end,
            )
            .order_by(Question.solved_at, Question.id)
            .limit(limit)
        )
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [info(r) for r in rows]


async def _by_thread(session: AsyncSession, guild_id: int, thread_id: int) -> Question | None:
    return await session.scalar(
        select(Question).where(Question.guild_id == guild_id, Question.thread_id == thread_id)
    )


async def _row(session: AsyncSession, guild_id: int, question_id: int) -> Question:
    row = await session.get(Question, question_id)
    if row is None or row.guild_id != guild_id:
        raise UserFacingError(f"There is no question #{question_id} here.")
    return row


def _ceil_second(instant: datetime) -> datetime:
    floor = instant.replace(microsecond=0)
    return floor if floor == instant else floor + timedelta(seconds=1)


def info(row: Question) -> QuestionInfo:
    state: QuestionState = row.state  # type: ignore[assignment]
    return QuestionInfo(
        id=row.id,
        guild_id=row.guild_id,
        topic_id=row.topic_id,
        channel_id=row.channel_id,
        thread_id=row.thread_id,
        message_id=row.message_id,
        asker_id=row.asker_id,
        title=row.title,
        details=row.details,
        state=state,
        created_at=row.created_at,
        last_activity_at=row.last_activity_at,
        first_reply_at=row.first_reply_at,
        nudged_at=row.nudged_at,
        asked_at=row.asked_at,
        solved_at=row.solved_at,
        solver_id=row.solver_id,
        solution_message_id=row.solution_message_id,
        solution_excerpt=row.solution_excerpt,
        closed_at=row.closed_at,
    )
