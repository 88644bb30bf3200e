"""Chats: validation, schedules, a run's steps, counted answers and the summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.chats.service import (
    ANNOUNCE_KIND,
    START_KIND,
    ChatService,
    answer_number,
    clean_questions,
    next_action,
)
from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.scheduling import ScheduleService, parse_when

GUILD, MOD, CHANNEL = 3001, 5, 777
QUESTIONS = ("What worked?", "What did not?", "What next?")


async def make_chat(sessions: SessionFactory, clock: FakeClock, **kw: object) -> int:
    rule = parse_when("weekly on thu at 19:00", "America/New_York", clock.now())
    options: dict[str, object] = {"questions": QUESTIONS, "duration": 60, "interval": 10} | kw
    info = await ChatService(sessions, clock).create(
        GUILD,
        "PLN",
        MOD,
        title="EdChat",
        rule=rule,
        channel_id=CHANNEL,
        **options,  # type: ignore[arg-type]
    )
    return info.id


async def test_a_chat_gets_a_start_and_an_announcement_24_hours_ahead(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    chat_id = await make_chat(sessions, clock)
    chat = await ChatService(sessions, clock).get(GUILD, chat_id)
    assert chat.next_start == datetime(2026, 3, 6, 0, 0, tzinfo=UTC)  # Thu 19:00 EST
    schedules = {s.kind: s for s in await ScheduleService(sessions, clock).for_guild(GUILD)}
    assert schedules[START_KIND].next_run_at == chat.next_start
    assert schedules[ANNOUNCE_KIND].next_run_at == chat.next_start - timedelta(hours=24)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"questions": tuple(f"Q{n}" for n in range(11))}, "at most 10"),
        ({"questions": ("x" * 1001,)}, "over 1000"),
        ({"duration": 30, "interval": 15, "questions": QUESTIONS}, "need at least 31 minutes"),
        ({"duration": 5}, "between 15 and 360"),
        ({"title": ""}, "title"),
    ],
)
async def test_bad_chats_are_refused_and_nothing_saved(
    sessions: SessionFactory, clock: FakeClock, options: dict[str, object], message: str
) -> None:
    options = dict(options)
    with pytest.raises(UserFacingError, match=message):
        rule = parse_when("weekly on thu at 19:00", "UTC", clock.now())
        title = str(options.pop("title", "EdChat"))
        await ChatService(sessions, clock).create(
            GUILD,
            "PLN",
            MOD,
            title=title,
            rule=rule,
            channel_id=CHANNEL,
            **options,  # type: ignore[arg-type]
        )
    assert await ChatService(sessions, clock).for_guild(GUILD) == []
    assert await ScheduleService(sessions, clock).for_guild(GUILD) == []


async def test_a_run_posts_questions_then_sums_up_then_archives(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service = ChatService(sessions, clock)
    chat_id = await make_chat(sessions, clock)
    chat = await service.get(GUILD, chat_id)
    assert chat.next_start is not None
    clock.set(chat.next_start)
    run = await service.begin_run(GUILD, chat_id, chat.next_start)
    assert (await service.begin_run(GUILD, chat_id, chat.next_start)).id == run.id  # idempotent
    await service.set_thread(GUILD, run.id, 900)
    for message_id in (1, 2, 3):
        assert next_action(chat, run, clock.now())[0] == "question"
        run = await service.add_question_message(GUILD, run.id, message_id)
    assert next_action(chat, run, clock.now()) == ("none", run.ends_at)
    # Answers: "A<n>" or a reply to the question message; other talk is not counted.
    assert await service.record_reply(GUILD, 900, 10, 71, "A1 lots", None) == 1
    assert await service.record_reply(GUILD, 900, 11, 72, "**a1** me too", None) == 1
    assert await service.record_reply(GUILD, 900, 12, 71, "", replied_to=2) == 2
    assert await service.record_reply(GUILD, 900, 13, 73, "hello all", None) is None
    assert await service.record_reply(GUILD, 900, 14, 73, "A9 nope", None) is None
    assert await service.record_reply(GUILD, 901, 15, 73, "A1 wrong thread", None) is None
    assert await service.record_reply(GUILD, 900, 10, 71, "A1 lots", None) == 1  # redelivered
    clock.set(run.ends_at)
    assert next_action(chat, run, clock.now())[0] == "summary"
    summary = await service.summary(GUILD, run.id)
    assert [(q.replies, q.participants) for q in summary.questions] == [(2, 2), (1, 1), (0, 0)]
    assert summary.participants == 2
    run = await service.set_state(GUILD, run.id, "ended")
    assert run.archive_at == clock.now() + timedelta(hours=24)
    assert next_action(chat, run, clock.now())[0] == "none"
    clock.advance(timedelta(hours=24))
    assert next_action(chat, run, clock.now())[0] == "archive"


async def test_pause_extend_and_cancel(sessions: SessionFactory, clock: FakeClock) -> None:
    service = ChatService(sessions, clock)
    chat_id = await make_chat(sessions, clock)
    chat = await service.get(GUILD, chat_id)
    assert chat.next_start is not None
    run = await service.begin_run(GUILD, chat_id, chat.next_start)
    await service.plan_step(GUILD, run.id, chat.next_start + timedelta(minutes=10))
    paused = await service.set_state(GUILD, run.id, "paused", actor_id=MOD)
    assert next_action(chat, paused, clock.now()) == ("none", None)
    steps = [
        s for s in await ScheduleService(sessions, clock).for_guild(GUILD) if s.kind == "chat.step"
    ]
    assert steps == []  # the pending step went with the pause
    extended = await service.set_state(
        GUILD, run.id, "running", ends_at=run.ends_at + timedelta(minutes=15)
    )
    assert extended.ends_at - run.ends_at == timedelta(minutes=15)
    await service.cancel(GUILD, chat_id, MOD)
    assert await service.for_guild(GUILD) == []
    kinds = {s.kind for s in await ScheduleService(sessions, clock).for_guild(GUILD)}
    assert START_KIND not in kinds and ANNOUNCE_KIND not in kinds
    with pytest.raises(UserFacingError, match="no chat"):
        await service.get(GUILD, chat_id)


async def test_questions_can_be_replaced_and_edits_move_the_schedules(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service = ChatService(sessions, clock)
    chat_id = await make_chat(sessions, clock, questions=())
    updated = await service.set_questions(GUILD, chat_id, MOD, "One\n\nTwo\n")
    assert updated.questions == ("One", "Two")
    rule = parse_when("weekly on fri at 18:00", "Europe/London", clock.now())
    edited = await service.edit(GUILD, chat_id, MOD, title="New", rule=rule)
    assert edited.title == "New"
    assert edited.next_start == datetime(2026, 3, 6, 18, tzinfo=UTC)
    with pytest.raises(UserFacingError, match="no chat"):
        await service.edit(GUILD + 1, chat_id, MOD, title="Theirs")


def test_answer_numbers_and_question_cleaning() -> None:
    assert [answer_number(t) for t in ("A1", "a2: yes", "A 3", "Answer", "", "A12x")] == [
        1,
        2,
        3,
        None,
        None,
        None,
    ]
    assert clean_questions(" a \n\n b ") == ("a", "b")
