"""The week's ranking on both backends: the formula and every rule around it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.library import Library

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.recap import ranking
from bot.recap.window import week_ending

GUILD = 1
DAY = timedelta(days=1)


async def top(sessions: SessionFactory, clock: FakeClock, guild_id: int = GUILD, limit: int = 10):
    week = week_ending(clock.now(), "UTC")
    async with sessions() as session:
        return await ranking.run(session, ranking.top_query(guild_id, week.start, week.end, limit))


async def test_distinct_sharers_rank_first_and_one_member_counts_once(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    lib = Library(sessions, GUILD, clock.now())
    spam = await lib.resource("https://a.example/spam")
    popular = await lib.resource("https://b.example/popular")
    for _ in range(5):
        await lib.share(spam, 1, 2 * DAY)
    for member in (1, 2, 3):
        await lib.share(popular, member, 3 * DAY)
    ranked = await top(sessions, clock)
    assert [(r.resource_id, r.sharers) for r in ranked] == [(popular, 3), (spam, 1)]


async def test_votes_and_saves_break_ties_but_self_votes_and_bots_do_not_count(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    lib = Library(sessions, GUILD, clock.now())
    await lib.member(99, "Robot", bot=True)
    first = await lib.resource("https://a.example/1")
    second = await lib.resource("https://b.example/2")
    await lib.share(first, 1, 5 * DAY)  # earlier share
    await lib.share(second, 2, 4 * DAY)
    # first: only its own sharer's vote and save, and a bot's vote: all ignored
    await lib.vote(first, 1, DAY)
    await lib.save(first, 1, DAY)
    await lib.vote(first, 99, DAY)
    # second: one real vote (two emoji = two votes) and one real save
    await lib.vote(second, 3, DAY, "⭐")
    await lib.vote(second, 3, DAY, "👍")
    await lib.save(second, 4, DAY)
    ranked = await top(sessions, clock)
    assert [(r.resource_id, r.engagement) for r in ranked] == [(second, 3), (first, 0)]


async def test_bot_shares_never_count(sessions: SessionFactory, clock: FakeClock) -> None:
    lib = Library(sessions, GUILD, clock.now())
    botted = await lib.resource("https://a.example/bot")
    human = await lib.resource("https://b.example/human")
    for member in (90, 91, 92):
        await lib.share(botted, member, DAY, bot=True)
    await lib.share(human, 1, DAY)
    ranked = await top(sessions, clock)
    assert [r.resource_id for r in ranked] == [human]


async def test_earliest_share_breaks_remaining_ties(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    lib = Library(sessions, GUILD, clock.now())
    late = await lib.resource("https://a.example/late")
    early = await lib.resource("https://b.example/early")
    await lib.share(late, 1, DAY)
    await lib.share(early, 2, 6 * DAY)
    assert [r.resource_id for r in await top(sessions, clock)] == [early, late]


async def test_removed_resources_never_appear(sessions: SessionFactory, clock: FakeClock) -> None:
    lib = Library(sessions, GUILD, clock.now())
    gone = await lib.resource("https://a.example/gone", deleted=True)
    for member in (1, 2, 3):
        await lib.share(gone, member, DAY)
    assert await top(sessions, clock) == []


async def test_old_resource_reshared_counts_this_weeks_shares_only(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    lib = Library(sessions, GUILD, clock.now())
    old = await lib.resource("https://a.example/old", ago=60 * DAY)
    fresh = await lib.resource("https://b.example/new")
    for member in (1, 2, 3, 4):
        await lib.share(old, member, 60 * DAY)  # long ago: not this week
    await lib.vote(old, 7, 50 * DAY)
    await lib.share(old, 5, DAY)
    await lib.share(fresh, 1, 2 * DAY)
    await lib.share(fresh, 2, 2 * DAY)
    ranked = await top(sessions, clock)
    assert [(r.resource_id, r.sharers, r.engagement) for r in ranked] == [
        (fresh, 2, 0),
        (old, 1, 0),
    ]


async def test_window_is_the_seven_days_ending_at_the_slot(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    lib = Library(sessions, GUILD, clock.now())
    edge = await lib.resource("https://a.example/edge")
    outside = await lib.resource("https://b.example/outside")
    await lib.share(edge, 1, 7 * DAY)  # exactly at the start: inside
    await lib.share(outside, 1, 7 * DAY + timedelta(seconds=1))
    assert [r.resource_id for r in await top(sessions, clock)] == [edge]


async def test_guilds_never_see_each_other(sessions: SessionFactory, clock: FakeClock) -> None:
    mine = Library(sessions, GUILD, clock.now())
    theirs = Library(sessions, 2, clock.now())
    a = await mine.resource("https://a.example/x")
    b = await theirs.resource("https://a.example/x")
    await mine.share(a, 1, DAY)
    await theirs.share(b, 1, DAY)
    await theirs.share(b, 2, DAY)
    await theirs.vote(b, 3, DAY)
    ranked = await top(sessions, clock)
    assert [(r.resource_id, r.sharers, r.engagement) for r in ranked] == [(a, 1, 0)]


async def test_per_channel_ranking_keeps_three_per_topic_channel(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    lib = Library(sessions, GUILD, clock.now())
    ids = [await lib.resource(f"https://a.example/{i}") for i in range(5)]
    for i, resource in enumerate(ids):
        for member in range(i + 1):
            await lib.share(resource, member + 1, DAY, channel_id=700)
    other = await lib.resource("https://b.example/other")
    await lib.share(other, 1, DAY, channel_id=800)
    week = week_ending(clock.now(), "UTC")
    async with sessions() as session:
        ranked = await ranking.run(
            session, ranking.per_channel_query(GUILD, week.start, week.end, [700, 800], 3)
        )
    assert [(r.group, r.resource_id) for r in ranked] == [
        (700, ids[4]),
        (700, ids[3]),
        (700, ids[2]),
        (800, other),
    ]


async def test_digest_filter_narrows_to_channels_or_tags_without_own_shares(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    lib = Library(sessions, GUILD, clock.now())
    in_channel = await lib.resource("https://a.example/channel")
    tagged = await lib.resource("https://b.example/tagged", tags=("math",))
    own = await lib.resource("https://c.example/own", tags=("math",))
    elsewhere = await lib.resource("https://d.example/else")
    await lib.share(in_channel, 1, DAY, channel_id=700)
    await lib.share(tagged, 1, DAY, channel_id=900)
    await lib.share(own, 42, DAY, channel_id=700)
    await lib.share(elsewhere, 1, DAY, channel_id=900)
    week = week_ending(clock.now(), "UTC")
    where = ranking.Filter(channel_ids=[700], tags=["math"], exclude_member_id=42)
    async with sessions() as session:
        ranked = await ranking.run(
            session, ranking.top_query(GUILD, week.start, week.end, 10, where)
        )
    assert sorted(r.resource_id for r in ranked) == sorted([in_channel, tagged])


def test_week_spanning_dst_is_seven_local_days() -> None:
    # New York springs forward on 2026-03-08: Monday 09:00 to Monday 09:00 is 167 hours.
    slot = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # 09:00 EDT
    week = week_ending(slot, "America/New_York")
    assert week.start == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert week.end - week.start == timedelta(hours=167)


async def test_own_share_means_shared_this_week_or_first_brought_it(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    lib = Library(sessions, GUILD, clock.now())
    old = await lib.resource("https://a.example/old", sharer=1, ago=60 * DAY)
    await lib.share(old, 1, 60 * DAY)  # member 1 brought it to the library long ago
    await lib.share(old, 2, 40 * DAY)  # member 2 re-shared it in an earlier week
    await lib.share(old, 3, DAY)  # this week's re-share
    await lib.vote(old, 1, DAY)  # the first sharer: their own share, ignored
    await lib.vote(old, 3, DAY)  # this week's sharer: ignored
    await lib.vote(old, 2, DAY)  # counts
    await lib.save(old, 4, DAY)  # counts
    [ranked] = await top(sessions, clock)
    assert (ranked.sharers, ranked.engagement) == (1, 2)
