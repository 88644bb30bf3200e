"""Questions: what may be asked, who marks the solution, the timed steps, thread changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.members.service import MemberService
from bot.questions import summaries
from bot.questions.rules import Timing, question_details, question_title
from bot.questions.service import CHECK_KIND, QuestionService
from bot.questions.summaries import QuestionsSummary
from bot.scheduling import ScheduleService

GUILD, OTHER_GUILD, ASKER, HELPER, MOD = 4001, 4002, 11, 12, 13
TIMING = Timing(nudge_after=timedelta(hours=12), close_after=timedelta(hours=48))


def service(sessions: SessionFactory, clock: FakeClock) -> QuestionService:
    return QuestionService(sessions, clock, TIMING)


async def ask(questions: QuestionService, thread_id: int = 900, guild_id: int = GUILD) -> int:
    info = await questions.ask(
        guild_id,
        "PLN",
        ASKER,
        title="How do I start a class blog?",
        details="",
        topic_id=None,
        channel_id=800,
        thread_id=thread_id,
        message_id=thread_id + 1,
    )
    return info.id


@pytest.mark.parametrize("text", ["", "   ", "x" * 300])
def test_empty_or_300_character_questions_are_refused(text: str) -> None:
    with pytest.raises(UserFacingError):
        question_title(text)


def test_a_question_keeps_its_words_on_one_line_and_details_are_bounded() -> None:
    assert question_title("  How   do\nI start?  ") == "How do I start?"
    assert len(question_title("y" * 299)) == 299
    with pytest.raises(UserFacingError):
        question_details("z" * 2001)


async def test_the_asker_or_a_moderator_marks_the_solution_and_the_helper_is_credited(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    questions = service(sessions, clock)
    await ask(questions)
    with pytest.raises(UserFacingError, match="Only the member who asked"):
        await questions.solve(GUILD, 900, HELPER, actor_is_moderator=False, solver_id=HELPER)
    with pytest.raises(UserFacingError, match="bot's message"):
        await questions.solve(
            GUILD, 900, ASKER, actor_is_moderator=False, solver_id=99, solver_is_bot=True
        )
    with pytest.raises(UserFacingError, match="question's thread"):
        await questions.solve(GUILD, 901, ASKER, actor_is_moderator=False, solver_id=HELPER)
    still = await questions.by_thread(GUILD, 900)
    assert still is not None and still.state == "open"

    solved = await questions.solve(
        GUILD,
        900,
        MOD,
        actor_is_moderator=True,
        solver_id=HELPER,
        solution_message_id=950,
        excerpt="Use a   free host\nand post weekly",
    )
    assert solved.credited and solved.question.state == "solved"
    assert solved.question.solution_excerpt == "Use a free host and post weekly"
    with pytest.raises(UserFacingError, match="already solved"):
        await questions.solve(GUILD, 900, ASKER, actor_is_moderator=False, solver_id=HELPER)


async def test_an_unanswered_question_is_nudged_once_then_the_asker_asked_after_3_quiet_days(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    questions = service(sessions, clock)
    question_id = await ask(questions)
    schedules = ScheduleService(sessions, clock)
    [check] = await schedules.for_guild(GUILD, CHECK_KIND)
    assert check.next_run_at == clock.now() + timedelta(hours=12)

    clock.advance(timedelta(hours=11))
    assert (await questions.due(GUILD, question_id))[1] is None
    clock.advance(timedelta(hours=1))
    _, step = await questions.due(GUILD, question_id)
    assert step is not None and step.action == "nudge"
    await questions.step_done(GUILD, question_id, "nudge")
    # the nudge is not repeated: the next step is the 3-day question to the asker
    [check] = await schedules.for_guild(GUILD, CHECK_KIND)
    assert check.next_run_at == clock.now() + timedelta(days=3) - timedelta(hours=12)

    clock.advance(timedelta(days=1))
    assert await questions.message_posted(GUILD, 900, HELPER)  # a reply resets the silence
    clock.advance(timedelta(days=2))
    assert (await questions.due(GUILD, question_id))[1] is None  # planned again for later
    clock.advance(timedelta(days=1))
    _, step = await questions.due(GUILD, question_id)
    assert step is not None and step.action == "ask"
    await questions.step_done(GUILD, question_id, "ask")
    assert await schedules.for_guild(GUILD, CHECK_KIND) == []  # nothing more to do while open


async def test_a_reply_by_someone_else_answers_it_the_askers_own_does_not(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    questions = service(sessions, clock)
    await ask(questions)
    assert not await questions.message_posted(GUILD, 12345, HELPER)  # not a question thread
    await questions.message_posted(GUILD, 900, ASKER)
    assert [q.id for q in await questions.listing(GUILD, state="unanswered")] != []
    await questions.message_posted(GUILD, 900, HELPER)
    assert await questions.listing(GUILD, state="unanswered") == []
    assert len(await questions.listing(GUILD, state="open")) == 1


async def test_a_solved_thread_closes_after_the_quiet_hours_and_follows_hand_changes(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    questions = service(sessions, clock)
    question_id = await ask(questions)
    await questions.solve(GUILD, 900, ASKER, actor_is_moderator=False, solver_id=HELPER)
    clock.advance(timedelta(hours=47))
    assert (await questions.due(GUILD, question_id))[1] is None
    clock.advance(timedelta(hours=1))
    _, step = await questions.due(GUILD, question_id)
    assert step is not None and step.action == "close"
    await questions.step_done(GUILD, question_id, "close")
    closed = await questions.get(GUILD, question_id)
    assert closed is not None and closed.state == "closed"
    # a member reopens the thread by hand: solved again, to be closed again later
    reopened = await questions.thread_changed(GUILD, 900, archived=False)
    assert reopened is not None and reopened.state == "solved"
    gone = await questions.thread_changed(GUILD, 900, deleted=True)
    assert gone is not None and gone.state == "gone"
    assert await questions.listing(GUILD) == []
    assert await ScheduleService(sessions, clock).for_guild(GUILD, CHECK_KIND) == []


async def test_an_open_thread_archived_by_hand_is_closed_and_reopened_open(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    questions = service(sessions, clock)
    await ask(questions)
    closed = await questions.thread_changed(GUILD, 900, archived=True)
    assert closed is not None and closed.state == "closed"
    assert await questions.listing(GUILD, state="open") == []
    reopened = await questions.thread_changed(GUILD, 900, archived=False)
    assert reopened is not None and reopened.state == "open"


async def test_one_guild_never_sees_another_guilds_questions(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    questions = service(sessions, clock)
    question_id = await ask(questions, thread_id=900, guild_id=GUILD)
    await ask(questions, thread_id=700, guild_id=OTHER_GUILD)
    assert await questions.by_thread(OTHER_GUILD, 900) is None
    assert await questions.get(OTHER_GUILD, question_id) is None
    assert [q.thread_id for q in await questions.listing(OTHER_GUILD)] == [700]
    with pytest.raises(UserFacingError):
        await questions.solve(OTHER_GUILD, 900, ASKER, actor_is_moderator=True, solver_id=HELPER)
    assert not await questions.message_posted(OTHER_GUILD, 900, HELPER)
    mine = await questions.get(GUILD, question_id)
    assert mine is not None and mine.first_reply_at is None


async def test_lists_are_newest_first_and_the_recap_reads_the_oldest_waiting(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    questions = service(sessions, clock)
    first = await ask(questions, thread_id=900)
    clock.advance(timedelta(hours=1))
    second = await ask(questions, thread_id=910)
    assert [q.id for q in await questions.listing(GUILD)] == [second, first]
    waiting = await questions.waiting(GUILD, before=clock.now() + timedelta(seconds=1))
    assert [q.id for q in waiting] == [first, second]
    start = clock.now()
    await questions.solve(GUILD, 910, ASKER, actor_is_moderator=False, solver_id=HELPER)
    solved = await questions.solved_between(GUILD, start, clock.now() + timedelta(days=7))
    assert [q.id for q in solved] == [second]


async def test_search_finds_solved_questions_by_question_or_solution_words(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    questions = service(sessions, clock)
    await ask(questions, thread_id=900)
    await ask(questions, thread_id=910, guild_id=OTHER_GUILD)
    assert await questions.search_solved(GUILD, "blog") == []  # not solved yet
    await questions.solve(
        GUILD, 900, ASKER, actor_is_moderator=False, solver_id=HELPER, excerpt="Try 100% WordPress"
    )
    await questions.solve(OTHER_GUILD, 910, ASKER, actor_is_moderator=False, solver_id=HELPER)
    assert [q.thread_id for q in await questions.search_solved(GUILD, "Class BLOG")] == [900]
    assert [q.thread_id for q in await questions.search_solved(GUILD, "wordpress")] == [900]
    assert await questions.search_solved(GUILD, "blog pizza") == []
    assert await questions.search_solved(GUILD, "100%") != []  # % is a word, not a wildcard
    assert [q.thread_id for q in await questions.search_solved(OTHER_GUILD, "blog")] == [910]


async def test_the_recap_names_who_solved_unless_they_opted_out(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    questions = service(sessions, clock)
    start = clock.now()
    await ask(questions, thread_id=900)
    await ask(questions, thread_id=910)
    await ask(questions, thread_id=920)
    await questions.solve(GUILD, 900, ASKER, actor_is_moderator=False, solver_id=HELPER)
    await questions.solve(GUILD, 910, ASKER, actor_is_moderator=False, solver_id=MOD)
    await MemberService(sessions, clock).set_privacy(GUILD, "PLN", MOD, hide_from_contributors=True)
    end = clock.now() + timedelta(minutes=1)
    async with sessions() as session:
        summary = await summaries.for_recap(session, GUILD, start, end)
        other = await summaries.for_recap(session, OTHER_GUILD, start, end)
    assert [(q.thread_id, q.solver_id) for q in summary.solved] == [(900, HELPER), (910, None)]
    assert [q.thread_id for q in summary.waiting] == [920]
    assert QuestionsSummary.from_json(summary.to_json()) == summary  # as the snapshot stores it
    assert other == QuestionsSummary()
