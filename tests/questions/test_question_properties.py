"""Property test: no question, thanks or count of one guild is visible from another."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.questions.contributions import ContributionService
from bot.questions.rules import Timing
from bot.questions.service import QuestionService

_guilds = itertools.count(20_000, 10)
MEMBERS = (1, 2, 3)

event_strategy = st.tuples(
    st.sampled_from(["ask", "solve", "thank"]),
    st.integers(0, 2),  # which guild
    st.sampled_from(MEMBERS),  # who acts
    st.sampled_from(MEMBERS),  # who is thanked or credited
)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=st.lists(event_strategy, min_size=1, max_size=12))
async def test_no_guild_sees_another_guilds_questions_thanks_or_counts(
    sessions: SessionFactory, clock: FakeClock, events: list[tuple[str, int, int, int]]
) -> None:
    questions = QuestionService(sessions, clock, Timing(timedelta(hours=12), timedelta(hours=48)))
    contributions = ContributionService(sessions, clock, thanks_per_day=100)
    base = next(_guilds)
    guilds = [base, base + 1, base + 2]
    threads: dict[int, list[int]] = {g: [] for g in guilds}
    thanks: dict[int, dict[int, int]] = {g: dict.fromkeys(MEMBERS, 0) for g in guilds}
    answers: dict[int, dict[int, int]] = {g: dict.fromkeys(MEMBERS, 0) for g in guilds}
    thread_ids = itertools.count(base * 1000)
    for kind, which, actor, other in events:
        guild = guilds[which]
        if kind == "ask":
            thread_id = next(thread_ids)
            await questions.ask(
                guild, None, actor, title="q", details="", topic_id=None,
                channel_id=1, thread_id=thread_id, message_id=None,
            )  # fmt: skip
            threads[guild].append(thread_id)
        elif kind == "solve" and threads[guild]:
            found = await questions.by_thread(guild, threads[guild][-1])
            assert found is not None
            if found.state == "open":
                await questions.solve(
                    guild, found.thread_id, found.asker_id, actor_is_moderator=False,
                    solver_id=other,
                )  # fmt: skip
                if other != found.asker_id:
                    answers[guild][other] += 1
        elif kind == "thank":
            try:
                await contributions.thank(
                    guild, None, actor, other, receiver_is_bot=False, channel_id=1
                )
            except UserFacingError:
                assert actor == other
            else:
                thanks[guild][other] += 1
    for guild in guilds:
        listed = {q.thread_id for q in await questions.listing(guild)}
        assert listed == set(threads[guild])
        for other_guild in guilds:
            if other_guild != guild:
                for thread_id in threads[other_guild]:
                    assert await questions.by_thread(guild, thread_id) is None
        for member in MEMBERS:
            stats = await contributions.stats(guild, member)
            assert stats.all_time.thanks == thanks[guild][member]
            assert stats.all_time.answers == answers[guild][member]
            assert await contributions.thanks_received(guild, member) == thanks[guild][member]
        ranked = {s.member_id for s in await contributions.contributors(guild, 30)}
        expected = {m for m in MEMBERS if thanks[guild][m] or answers[guild][m]}
        assert ranked == expected
