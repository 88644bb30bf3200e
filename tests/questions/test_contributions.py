"""Thanks and the contribution ledger: limits, anti-gaming, counts, privacy, the helper rule."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.chats.service import ChatService
from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.library.service import LibraryService
from bot.members.service import MemberService
from bot.questions.contributions import HELPERS_KIND, ContributionService
from bot.questions.rules import Timing
from bot.questions.service import QuestionService
from bot.scheduling import ScheduleService, parse_when

GUILD, OTHER_GUILD = 5001, 5002
ALICE, BOB, CAROL = 21, 22, 23
CHANNEL = 600


def contributions(
    sessions: SessionFactory, clock: FakeClock, per_day: int = 10
) -> ContributionService:
    return ContributionService(sessions, clock, thanks_per_day=per_day)


async def thank(
    service: ContributionService,
    giver: int,
    receiver: int,
    message_id: int | None = None,
    *,
    guild_id: int = GUILD,
    bot: bool = False,
) -> int:
    given = await service.thank(
        guild_id,
        "PLN",
        giver,
        receiver,
        receiver_is_bot=bot,
        channel_id=CHANNEL,
        message_id=message_id,
    )
    return given.received_total


async def test_thanks_are_refused_to_oneself_to_bots_and_twice_for_one_message(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service = contributions(sessions, clock)
    with pytest.raises(UserFacingError, match="yourself"):
        await thank(service, ALICE, ALICE)
    with pytest.raises(UserFacingError, match="Bots"):
        await thank(service, ALICE, 99, bot=True)
    assert await thank(service, ALICE, BOB, message_id=700) == 1
    with pytest.raises(UserFacingError, match="already thanked this message"):
        await thank(service, ALICE, BOB, message_id=700)
    assert await thank(service, CAROL, BOB, message_id=700) == 2  # another giver may
    assert await service.thanks_received(GUILD, BOB) == 2
    assert await service.thanks_received(GUILD, ALICE) == 0


async def test_at_most_the_daily_number_of_thanks_in_24_hours(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service = contributions(sessions, clock, per_day=3)
    for message_id in (1, 2, 3):
        await thank(service, ALICE, BOB, message_id)
    with pytest.raises(UserFacingError, match="most this server allows"):
        await thank(service, ALICE, CAROL, 4)
    assert await service.thanks_received(GUILD, CAROL) == 0
    await thank(service, BOB, CAROL, 4)  # the limit is the giver's
    clock.advance(timedelta(hours=24))
    assert await thank(service, ALICE, CAROL, 5) == 2


async def test_thanks_between_the_same_two_members_score_once_a_day(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service = contributions(sessions, clock)
    for message_id in (1, 2, 3):
        await thank(service, ALICE, BOB, message_id)
    stats = await service.stats(GUILD, BOB)
    assert stats.last_30_days.thanks == 3
    assert stats.last_30_days.thanks_scored == 1
    assert stats.last_30_days.score == 3
    await thank(service, CAROL, BOB, 4)
    clock.advance(timedelta(days=1, seconds=1))
    await thank(service, ALICE, BOB, 5)
    assert (await service.stats(GUILD, BOB)).last_30_days.score == 9


async def test_stats_count_shares_votes_saves_and_answers_not_on_ones_own(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    library = LibraryService(sessions, clock)
    service = contributions(sessions, clock)
    first_share_at = clock.now()
    shared = await library.share(
        GUILD, CHANNEL, ALICE, "https://example.org/blogs", guild_name="PLN"
    )
    await library.attach_message(GUILD, shared.share_id, 8001)
    await library.add_reaction(GUILD, 8001, BOB, "⭐")
    await library.add_reaction(GUILD, 8001, ALICE, "⭐")  # her own vote never counts
    await library.save(GUILD, shared.resource.id, CAROL)
    await library.save(GUILD, shared.resource.id, ALICE)  # nor her own save
    await library.share(GUILD, CHANNEL, 77, "https://example.org/bot", member_is_bot=True)

    questions = QuestionService(sessions, clock, Timing(timedelta(hours=12), timedelta(hours=48)))
    await questions.ask(
        GUILD, "PLN", BOB, title="Blogs?", details="", topic_id=None,
        channel_id=CHANNEL, thread_id=950, message_id=951,
    )  # fmt: skip
    clock.advance(timedelta(days=40))
    await questions.solve(GUILD, 950, BOB, actor_is_moderator=False, solver_id=ALICE)

    stats = await service.stats(GUILD, ALICE)
    assert (stats.all_time.shares, stats.all_time.votes_received) == (1, 1)
    assert (stats.all_time.saves_received, stats.all_time.answers) == (1, 1)
    assert stats.all_time.score == 1 + 1 + 1 + 5
    # the share was 40 days ago: only the answer is in the last 30 days
    assert (stats.last_30_days.shares, stats.last_30_days.answers) == (0, 1)
    assert stats.first_share_at == first_share_at
    assert stats.first_answer_at == clock.now()
    assert (await service.stats(GUILD, 77)).all_time.shares == 0  # bots never count
    assert (await service.stats(OTHER_GUILD, ALICE)).all_time.score == 0


async def test_contributors_rank_by_score_and_leave_out_those_who_opted_out(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service = contributions(sessions, clock)
    await thank(service, ALICE, BOB, 1)
    await thank(service, ALICE, CAROL, 2)
    await thank(service, BOB, CAROL, 3)
    await thank(service, CAROL, ALICE, 4, guild_id=OTHER_GUILD)
    ranked = await service.contributors(GUILD, 7)
    assert [(s.member_id, s.counts.score) for s in ranked] == [(CAROL, 6), (BOB, 3)]
    await MemberService(sessions, clock).set_privacy(
        GUILD, "PLN", CAROL, hide_from_contributors=True
    )
    assert [s.member_id for s in await service.contributors(GUILD, 7)] == [BOB]
    clock.advance(timedelta(days=8))
    assert await service.contributors(GUILD, 7) == []
    assert [s.member_id for s in await service.contributors(GUILD, 30)] == [BOB]
    assert [s.member_id for s in await service.contributors(OTHER_GUILD, 30)] == [ALICE]


async def test_the_helper_role_follows_the_30_day_score(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service = contributions(sessions, clock)
    assert (await service.helpers(GUILD))[1] == set()
    await service.set_helper_role(GUILD, "PLN", 777, 6, actor_id=ALICE)
    [refresh] = await ScheduleService(sessions, clock).for_guild(GUILD, HELPERS_KIND)
    assert refresh.next_run_at is not None
    await thank(service, ALICE, BOB, 1)
    assert (await service.helpers(GUILD))[1] == set()
    await thank(service, CAROL, BOB, 2)
    role, helpers = await service.helpers(GUILD)
    assert (role.role_id, role.threshold, helpers) == (777, 6, {BOB})
    assert (await service.helpers(GUILD, [BOB, CAROL]))[1] == {BOB}
    assert (await service.helpers(GUILD, [CAROL]))[1] == set()
    assert (await service.helpers(OTHER_GUILD))[1] == set()
    clock.advance(timedelta(days=31))
    assert (await service.helpers(GUILD))[1] == set()
    await service.set_helper_role(GUILD, "PLN", None, None, actor_id=ALICE)
    assert await ScheduleService(sessions, clock).for_guild(GUILD, HELPERS_KIND) == []
    with pytest.raises(UserFacingError):
        await service.set_helper_role(GUILD, "PLN", 777, 0, actor_id=ALICE)


async def test_chat_hour_answers_count_once_per_question(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    chats = ChatService(sessions, clock)
    rule = parse_when("weekly on thu at 19:00", "UTC", clock.now())
    chat = await chats.create(
        GUILD, "PLN", 5, title="EdChat", rule=rule, channel_id=CHANNEL,
        questions=("One?", "Two?"), duration=60, interval=10,
    )  # fmt: skip
    assert chat.next_start is not None
    clock.set(chat.next_start)
    run = await chats.begin_run(GUILD, chat.id, chat.next_start)
    await chats.set_thread(GUILD, run.id, 990)
    for message_id in (1, 2):
        await chats.add_question_message(GUILD, run.id, message_id)
    await chats.record_reply(GUILD, 990, 10, ALICE, "A1 lots", None)
    await chats.record_reply(GUILD, 990, 11, ALICE, "A1 and more", None)  # the same question
    await chats.record_reply(GUILD, 990, 12, ALICE, "A2 yes", None)
    await chats.record_reply(GUILD, 990, 13, BOB, "hello", None)  # not an answer
    stats = await contributions(sessions, clock).stats(GUILD, ALICE)
    assert (stats.all_time.chat_answers, stats.all_time.score) == (2, 4)
    assert (await contributions(sessions, clock).stats(GUILD, BOB)).all_time.chat_answers == 0
