"""Weekly chats: the chat definitions, their schedules, each run's progress, replies and summary.

A chat owns two schedules on the scheduling core: `chat.announce` (the occurrence minus 24 h) and
`chat.start`. A run then drives itself with one-off `chat.step` schedules (next question, summary,
archive), one at a time, so each step is claimed exactly once like any other slot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chats.models import Chat, ChatReply, ChatRun
from bot.clock import Clock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.guilds.service import ensure_guild_row, record_audit
from bot.scheduling.recurrence import Recurrence
from bot.scheduling.schedules import (
    BOT_ACTOR,
    ScheduleInfo,
    add_schedule,
    change_schedule,
    delete_schedules,
    guild_schedule,
    info_of,
    stop_schedule,
)

START_KIND, ANNOUNCE_KIND, STEP_KIND = "chat.start", "chat.announce", "chat.step"
ANNOUNCE_AHEAD = timedelta(hours=24)
MAX_QUESTIONS = 10
MAX_QUESTION_LENGTH = 1000
MAX_TITLE_LENGTH = 80
DEFAULT_DURATION = 60
DEFAULT_INTERVAL = 10
DEFAULT_OPEN_HOURS = 24
_ANSWER = re.compile(r"^\s*\**\s*A\s?(\d{1,2})\b", re.IGNORECASE)

RunState = Literal["running", "paused", "ended", "archived"]
Action = Literal["question", "summary", "archive", "none"]


@dataclass(frozen=True)
class ChatInfo:
    id: int
    guild_id: int
    title: str
    topic_id: int | None
    channel_id: int
    questions: tuple[str, ...]
    duration: timedelta
    interval: timedelta
    open_for: timedelta
    start_schedule_id: int | None
    announce_schedule_id: int | None
    next_start: datetime | None
    rule: Recurrence | None
    event_id: int | None
    event_start: datetime | None
    cancelled: bool


@dataclass(frozen=True)
class RunInfo:
    id: int
    guild_id: int
    chat_id: int
    slot_at: datetime
    thread_id: int | None
    question_message_ids: tuple[int, ...]
    state: RunState
    ends_at: datetime
    archive_at: datetime | None

    @property
    def questions_posted(self) -> int:
        return len(self.question_message_ids)


@dataclass(frozen=True)
class QuestionStats:
    number: int
    question: str
    replies: int
    participants: int


@dataclass(frozen=True)
class Summary:
    chat: ChatInfo
    run: RunInfo
    questions: tuple[QuestionStats, ...]
    participants: int


def clean_questions(lines: list[str] | str) -> tuple[str, ...]:
    items = lines.splitlines() if isinstance(lines, str) else lines
    questions = tuple(q.strip() for q in items if q.strip())
    if len(questions) > MAX_QUESTIONS:
        raise UserFacingError(f"A chat has at most {MAX_QUESTIONS} questions ({len(questions)}).")
    for number, question in enumerate(questions, 1):
        if len(question) > MAX_QUESTION_LENGTH:
            raise UserFacingError(
                f"Question {number} is over {MAX_QUESTION_LENGTH} characters; shorten it."
            )
    return questions


def check_timing(duration: int, interval: int, questions: int) -> None:
    if not 15 <= duration <= 360:
        raise UserFacingError("A chat lasts between 15 and 360 minutes.")
    if not 1 <= interval <= duration:
        raise UserFacingError("The interval is between 1 minute and the chat's duration.")
    if questions > 1 and interval * (questions - 1) >= duration:
        need = interval * (questions - 1) + 1
        raise UserFacingError(
            f"{questions} questions every {interval} minutes need at least {need} minutes; "
            f"lengthen the chat or shorten the interval."
        )


def next_action(chat: ChatInfo, run: RunInfo, now: datetime) -> tuple[Action, datetime | None]:
    """What a run does at `now`, and when its next step is due (None: no further step)."""
    if run.state == "paused" or run.state == "archived":
        return "none", None
    if run.state == "ended":
        return ("archive", None) if run.archive_at and now >= run.archive_at else ("none", None)
    if now >= run.ends_at:
        return "summary", None
    if run.questions_posted < len(chat.questions):
        return "question", None
    return "none", run.ends_at


def answer_number(content: str) -> int | None:
    match = _ANSWER.match(content or "")
    return int(match.group(1)) if match else None


class ChatService:
    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    # --- chat definitions ---------------------------------------------------------------------

    async def create(
        self,
        guild_id: int,
        guild_name: str,
        actor_id: int,
        *,
        title: str,
        rule: Recurrence,
        channel_id: int,
        topic_id: int | None = None,
        questions: tuple[str, ...] = (),
        duration: int = DEFAULT_DURATION,
        interval: int = DEFAULT_INTERVAL,
    ) -> ChatInfo:
        title = " ".join(title.split())
        if not 1 <= len(title) <= MAX_TITLE_LENGTH:
            raise UserFacingError(f"A chat title is 1 to {MAX_TITLE_LENGTH} characters.")
        questions = clean_questions(list(questions))
        check_timing(duration, interval, max(len(questions), 1))
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            chat = Chat(
                guild_id=guild_id,
                title=title,
                topic_id=topic_id,
                channel_id=channel_id,
                questions=list(questions),
                duration_minutes=duration,
                interval_minutes=interval,
                open_hours=DEFAULT_OPEN_HOURS,
                cancelled=False,
                created_by=actor_id,
                created_at=now,
            )
            session.add(chat)
            await session.flush()
            start = await add_schedule(
                session,
                now,
                guild_id,
                actor_id,
                kind=START_KIND,
                rule=rule,
                label=title,
                payload={"chat_id": chat.id, "duration": duration},
            )
            announce = await add_schedule(
                session,
                now,
                guild_id,
                BOT_ACTOR,
                kind=ANNOUNCE_KIND,
                rule=rule,
                label=f"{title} (announcement)",
                payload={"chat_id": chat.id},
                offset=-ANNOUNCE_AHEAD,
                audit=False,
            )
            chat.start_schedule_id, chat.announce_schedule_id = start.id, announce.id
            return await _chat_info(session, chat)

    async def get(self, guild_id: int, chat_id: int) -> ChatInfo:
        async with self._sessions() as session:
            return await _chat_info(session, await _chat(session, guild_id, chat_id))

    async def for_guild(self, guild_id: int) -> list[ChatInfo]:
        query = select(Chat).where(Chat.guild_id == guild_id, Chat.cancelled.is_(False))
        async with self._sessions() as session:
            chats = (await session.scalars(query.order_by(Chat.id))).all()
            return [await _chat_info(session, chat) for chat in chats]

    async def set_questions(
        self, guild_id: int, chat_id: int, actor_id: int, questions: list[str] | str
    ) -> ChatInfo:
        cleaned = clean_questions(questions)
        async with self._sessions() as session, session.begin():
            chat = await _chat(session, guild_id, chat_id)
            check_timing(chat.duration_minutes, chat.interval_minutes, max(len(cleaned), 1))
            chat.questions = list(cleaned)
            await self._audit(session, chat, actor_id, "chat.questions")
            return await _chat_info(session, chat)

    async def edit(
        self,
        guild_id: int,
        chat_id: int,
        actor_id: int,
        *,
        title: str | None = None,
        rule: Recurrence | None = None,
        duration: int | None = None,
        interval: int | None = None,
    ) -> ChatInfo:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            chat = await _chat(session, guild_id, chat_id)
            if title is not None:
                title = " ".join(title.split())
                if not 1 <= len(title) <= MAX_TITLE_LENGTH:
                    raise UserFacingError(f"A chat title is 1 to {MAX_TITLE_LENGTH} characters.")
                chat.title = title
            new_duration = duration or chat.duration_minutes
            new_interval = interval or chat.interval_minutes
            check_timing(new_duration, new_interval, max(len(chat.questions), 1))
            chat.duration_minutes, chat.interval_minutes = new_duration, new_interval
            for schedule_id in (chat.start_schedule_id, chat.announce_schedule_id):
                row = await guild_schedule(session, guild_id, schedule_id)
                if row is None:
                    continue
                is_start = row.kind == START_KIND
                change_schedule(
                    row,
                    now,
                    rule=rule,
                    label=chat.title if is_start else f"{chat.title} (announcement)",
                    payload={"chat_id": chat.id, "duration": new_duration} if is_start else None,
                )
            await self._audit(session, chat, actor_id, "chat.edit")
            return await _chat_info(session, chat)

    async def cancel(self, guild_id: int, chat_id: int, actor_id: int) -> ChatInfo:
        async with self._sessions() as session, session.begin():
            chat = await _chat(session, guild_id, chat_id)
            info = await _chat_info(session, chat)
            chat.cancelled = True
            ids = [i for i in (chat.start_schedule_id, chat.announce_schedule_id) if i]
            await delete_schedules(session, guild_id, ids)
            chat.start_schedule_id = chat.announce_schedule_id = None
            chat.event_id = None
            await self._audit(session, chat, actor_id, "chat.cancel")
        return info

    async def set_event(
        self, guild_id: int, chat_id: int, event_id: int | None, start: datetime | None
    ) -> None:
        async with self._sessions() as session, session.begin():
            chat = await _chat(session, guild_id, chat_id)
            chat.event_id, chat.event_start = event_id, start

    async def pause_schedules(self, guild_id: int, chat_id: int) -> None:
        """Stop a chat whose channel or permissions are gone (the moderators are told)."""
        async with self._sessions() as session, session.begin():
            chat = await _chat(session, guild_id, chat_id)
            for schedule_id in (chat.start_schedule_id, chat.announce_schedule_id):
                row = await guild_schedule(session, guild_id, schedule_id)
                if row is not None:
                    stop_schedule(row)

    # --- runs ---------------------------------------------------------------------------------

    async def begin_run(self, guild_id: int, chat_id: int, slot_at: datetime) -> RunInfo:
        """The run of this occurrence (created once; a retried start gets the same run)."""
        async with self._sessions() as session:
            chat = await _chat(session, guild_id, chat_id, include_cancelled=True)
        try:
            async with self._sessions() as session, session.begin():
                run = ChatRun(
                    guild_id=guild_id,
                    chat_id=chat_id,
                    slot_at=slot_at,
                    question_message_ids=[],
                    state="running",
                    ends_at=slot_at + timedelta(minutes=chat.duration_minutes),
                )
                session.add(run)
        except IntegrityError:
            pass  # a retried start: the run exists
        async with self._sessions() as session:
            query = select(ChatRun).where(ChatRun.chat_id == chat_id, ChatRun.slot_at == slot_at)
            return _run_info((await session.scalars(query)).one())

    async def run(self, guild_id: int, run_id: int) -> RunInfo:
        async with self._sessions() as session:
            return _run_info(await _run(session, guild_id, run_id))

    async def run_in(self, guild_id: int, channel_id: int) -> RunInfo:
        """The live run whose thread (or chat channel) this is."""
        async with self._sessions() as session:
            query = (
                select(ChatRun)
                .join(Chat, Chat.id == ChatRun.chat_id)
                .where(
                    ChatRun.guild_id == guild_id,
                    ChatRun.state.in_(("running", "paused")),
                    (ChatRun.thread_id == channel_id) | (Chat.channel_id == channel_id),
                )
                .order_by(ChatRun.slot_at.desc())
            )
            run = (await session.scalars(query)).first()
        if run is None:
            raise UserFacingError("There is no chat running here. Use it in the chat's thread.")
        return _run_info(run)

    async def set_thread(self, guild_id: int, run_id: int, thread_id: int) -> None:
        async with self._sessions() as session, session.begin():
            (await _run(session, guild_id, run_id)).thread_id = thread_id

    async def add_question_message(self, guild_id: int, run_id: int, message_id: int) -> RunInfo:
        async with self._sessions() as session, session.begin():
            run = await _run(session, guild_id, run_id)
            run.question_message_ids = [*run.question_message_ids, message_id]
            return _run_info(run)

    async def plan_step(self, guild_id: int, run_id: int, at: datetime) -> int:
        """Replace the run's pending step with one at `at` (rounded up to the second)."""
        at = _ceil_second(max(at, self._clock.now()))
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            run = await _run(session, guild_id, run_id)
            if run.step_schedule_id is not None:
                await delete_schedules(session, guild_id, [run.step_schedule_id])
            rule = Recurrence("once", at.time(), "UTC", at.date())
            step = await add_schedule(
                session,
                now - timedelta(seconds=1),
                guild_id,
                BOT_ACTOR,
                kind=STEP_KIND,
                rule=rule,
                label=f"chat run #{run_id}",
                payload={"run_id": run_id},
                audit=False,
            )
            run.step_schedule_id = step.id
            return step.id

    async def set_state(
        self,
        guild_id: int,
        run_id: int,
        state: RunState,
        *,
        actor_id: int | None = None,
        ends_at: datetime | None = None,
    ) -> RunInfo:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            run = await _run(session, guild_id, run_id)
            run.state = state
            if ends_at is not None:
                run.ends_at = ends_at
            if state == "ended":
                chat = await session.get(Chat, run.chat_id)
                hours = chat.open_hours if chat else DEFAULT_OPEN_HOURS
                run.archive_at = now + timedelta(hours=hours)
            if state == "paused" and run.step_schedule_id is not None:
                await delete_schedules(session, guild_id, [run.step_schedule_id])
                run.step_schedule_id = None
            if actor_id is not None:
                chat = await session.get(Chat, run.chat_id)
                assert chat is not None
                await self._audit(session, chat, actor_id, f"chat.{state}")
            return _run_info(run)

    async def record_reply(
        self,
        guild_id: int,
        thread_id: int,
        message_id: int,
        author_id: int,
        content: str,
        replied_to: int | None,
    ) -> int | None:
        """Count a message in a chat thread for its question; the question number or None."""
        async with self._sessions() as session:
            query = select(ChatRun).where(
                ChatRun.guild_id == guild_id,
                ChatRun.thread_id == thread_id,
                ChatRun.state != "archived",
            )
            run = (await session.scalars(query)).first()
            if run is None:
                return None
            question = None
            if replied_to is not None and replied_to in run.question_message_ids:
                question = run.question_message_ids.index(replied_to) + 1
            elif (number := answer_number(content)) is not None:
                question = number if 1 <= number <= len(run.question_message_ids) else None
        if question is None:
            return None
        try:
            async with self._sessions() as session, session.begin():
                session.add(
                    ChatReply(
                        guild_id=guild_id,
                        run_id=run.id,
                        question=question,
                        author_id=author_id,
                        message_id=message_id,
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            pass  # the same message delivered twice counts once
        return question

    async def summary(self, guild_id: int, run_id: int) -> Summary:
        async with self._sessions() as session:
            run = await _run(session, guild_id, run_id)
            chat = await _chat(session, guild_id, run.chat_id, include_cancelled=True)
            replies = (
                await session.execute(
                    select(ChatReply.question, ChatReply.author_id).where(
                        ChatReply.run_id == run_id
                    )
                )
            ).all()
            info = await _chat_info(session, chat)
        stats = []
        for number, question in enumerate(info.questions, 1):
            authors = [author for q, author in replies if q == number]
            stats.append(QuestionStats(number, question, len(authors), len(set(authors))))
        return Summary(info, _run_info(run), tuple(stats), len({a for _, a in replies}))

    async def _audit(self, session: AsyncSession, chat: Chat, actor_id: int, action: str) -> None:
        await record_audit(
            session,
            guild_id=chat.guild_id,
            actor_id=actor_id,
            action=action,
            target=f"chat #{chat.id}",
            now=self._clock.now(),
        )


def _ceil_second(instant: datetime) -> datetime:
    floor = instant.replace(microsecond=0)
    return floor if floor == instant else floor + timedelta(seconds=1)


async def _chat(
    session: AsyncSession, guild_id: int, chat_id: int, *, include_cancelled: bool = False
) -> Chat:
    chat = await session.get(Chat, chat_id)
    if chat is None or chat.guild_id != guild_id or (chat.cancelled and not include_cancelled):
        raise UserFacingError(f"There is no chat #{chat_id} on this server.")
    return chat


async def _run(session: AsyncSession, guild_id: int, run_id: int) -> ChatRun:
    run = await session.get(ChatRun, run_id)
    if run is None or run.guild_id != guild_id:
        raise UserFacingError(f"There is no chat run #{run_id} on this server.")
    return run


async def _chat_info(session: AsyncSession, chat: Chat) -> ChatInfo:
    start: ScheduleInfo | None = None
    row = await guild_schedule(session, chat.guild_id, chat.start_schedule_id)
    if row is not None:
        start = info_of(row)
    return ChatInfo(
        id=chat.id,
        guild_id=chat.guild_id,
        title=chat.title,
        topic_id=chat.topic_id,
        channel_id=chat.channel_id,
        questions=tuple(chat.questions or ()),
        duration=timedelta(minutes=chat.duration_minutes),
        interval=timedelta(minutes=chat.interval_minutes),
        open_for=timedelta(hours=chat.open_hours),
        start_schedule_id=chat.start_schedule_id,
        announce_schedule_id=chat.announce_schedule_id,
        next_start=start.next_run_at if start else None,
        rule=start.rule if start else None,
        event_id=chat.event_id,
        event_start=chat.event_start,
        cancelled=chat.cancelled,
    )


def _run_info(run: ChatRun) -> RunInfo:
    return RunInfo(
        id=run.id,
        guild_id=run.guild_id,
        chat_id=run.chat_id,
        slot_at=run.slot_at,
        thread_id=run.thread_id,
        question_message_ids=tuple(int(i) for i in run.question_message_ids or ()),
        state=cast(RunState, run.state),
        ends_at=run.ends_at,
        archive_at=run.archive_at,
    )


def question_due(chat: ChatInfo, run: RunInfo) -> datetime:
    """When the run's next question is due on the regular cadence (from the start)."""
    return run.slot_at + chat.interval * run.questions_posted
