"""The learning log on both backends: local days in several zones, DST, limits, paths, privacy."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.guilds.service import ensure_guild_row
from bot.learning.community import community_week, member_week
from bot.learning.models import LearningEntry
from bot.learning.paths import PathService
from bot.learning.service import LearningService
from bot.library.models import LibraryShare, LibraryTag
from bot.library.service import LibraryService
from bot.members.service import MemberService
from bot.topics.models import Topic
from bot.topics.records import TopicInfo
from bot.topics.service import TopicService

GUILD, OTHER = 1, 2
ANA, LEO, MO = 11, 12, 13  # Auckland, Los Angeles, a moderator
CHANNEL = 500


class Setup:
    def __init__(self, sessions: SessionFactory, clock: FakeClock) -> None:
        self.sessions, self.clock = sessions, clock
        self.library = LibraryService(sessions, clock)
        self.learning = LearningService(sessions, clock, self.library)
        self.members = MemberService(sessions, clock)
        self.paths = PathService(sessions, clock)
        self.topics = TopicService(sessions, clock)

    async def topic(
        self, name: str, guild_id: int = GUILD, tags: tuple[str, ...] = ()
    ) -> TopicInfo:
        async with self.sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, "g", self.clock.now())
            row = Topic(
                guild_id=guild_id,
                name=name,
                name_key=name.casefold(),
                default_tags=list(tags),
                created_by=MO,
                created_at=self.clock.now(),
            )
            session.add(row)
            await session.flush()
            topic_id = row.id
        found = await self.topics.get(guild_id, topic_id)
        assert found is not None
        return found

    async def at(self, instant: datetime, user: int, minutes: int, **kw: object) -> None:
        self.clock.set(instant)
        await self.learning.log(GUILD, "g", CHANNEL, user, minutes, **kw)  # type: ignore[arg-type]

    async def entries(self) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(LearningEntry)) or 0)


@pytest.fixture
async def s(sessions: SessionFactory, clock: FakeClock) -> Setup:
    setup = Setup(sessions, clock)
    async with sessions() as session, session.begin():
        await ensure_guild_row(session, GUILD, "g", clock.now())
    await setup.members.set_timezone(GUILD, "g", ANA, "Pacific/Auckland")
    await setup.members.set_timezone(GUILD, "g", LEO, "america/los_angeles")
    return setup


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


async def test_members_in_auckland_and_los_angeles_each_get_their_own_midnight(s: Setup) -> None:
    # Auckland is UTC+13 in March: 10:30 UTC is 23:30 there; 11:30 UTC is past its midnight.
    await s.at(utc(2026, 3, 2, 10, 30), ANA, 20)
    await s.at(utc(2026, 3, 2, 11, 30), ANA, 20)
    # Los Angeles is UTC-8: 07:30 UTC is 23:30 the day before; 08:30 UTC is after midnight.
    await s.at(utc(2026, 3, 2, 7, 30), LEO, 20)
    await s.at(utc(2026, 3, 2, 8, 30), LEO, 20)
    s.clock.set(utc(2026, 3, 2, 12, 0))
    ana = await s.learning.progress(GUILD, ANA)
    leo = await s.learning.progress(GUILD, LEO)
    assert ana.today == date(2026, 3, 3) and ana.days == {date(2026, 3, 2): 20, ana.today: 20}
    assert ana.streak.current == 2
    assert leo.today == date(2026, 3, 2) and leo.streak.current == 2
    assert leo.days == {date(2026, 3, 1): 20, date(2026, 3, 2): 20}
    assert ana.timezone == "Pacific/Auckland" and leo.timezone == "America/Los_Angeles"


async def test_streaks_survive_the_dst_changes_of_both_zones(s: Setup) -> None:
    # Los Angeles springs forward on 8 March 2026: 23:50 local is 07:50 UTC before, 06:50 after.
    for instant in (utc(2026, 3, 8, 7, 50), utc(2026, 3, 9, 6, 50), utc(2026, 3, 10, 6, 50)):
        await s.at(instant, LEO, 25)
    # Auckland falls back on 5 April 2026: 23:50 local is 10:50 UTC before, 11:50 after.
    for instant in (utc(2026, 4, 4, 10, 50), utc(2026, 4, 5, 11, 50), utc(2026, 4, 6, 11, 50)):
        await s.at(instant, ANA, 25)
    s.clock.set(utc(2026, 3, 10, 7, 0))
    leo = await s.learning.progress(GUILD, LEO)
    assert sorted(leo.days) == [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)]
    assert leo.streak.current == 3
    s.clock.set(utc(2026, 4, 6, 11, 55))  # 23:55 NZST
    ana = await s.learning.progress(GUILD, ANA)
    assert sorted(ana.days) == [date(2026, 4, 4), date(2026, 4, 5), date(2026, 4, 6)]
    assert ana.streak.current == 3 and ana.streak.today_met


async def test_members_without_a_zone_of_their_own_follow_the_servers(s: Setup) -> None:
    from bot.guilds.service import GuildService

    await GuildService(s.sessions, s.clock).update_settings(GUILD, "g", MO, timezone="Asia/Tokyo")
    await s.at(utc(2026, 3, 2, 15, 30), MO, 30)  # 00:30 on 3 March in Tokyo
    progress = await s.learning.progress(GUILD, MO)
    assert progress.today == date(2026, 3, 3) and progress.timezone == "Asia/Tokyo"
    zone = await s.members.timezone(GUILD, MO)
    assert (zone.timezone, zone.own) == ("Asia/Tokyo", False)
    back = await s.members.set_timezone(GUILD, "g", ANA, None)
    assert (back.timezone, back.own) == ("Asia/Tokyo", False)


async def test_bad_input_is_refused_and_changes_nothing(s: Setup) -> None:
    for minutes in (0, 601, -5):
        with pytest.raises(UserFacingError, match="between 1 and 600"):
            await s.learning.log(GUILD, "g", CHANNEL, ANA, minutes)
    with pytest.raises(UserFacingError):
        await s.learning.log(GUILD, "g", CHANNEL, ANA, 10, link="ftp://example.org/x")
    assert await s.entries() == 0
    await s.learning.log(GUILD, "g", CHANNEL, ANA, 600)
    await s.learning.log(GUILD, "g", CHANNEL, ANA, 600)
    with pytest.raises(UserFacingError, match="more than 24 hours"):
        await s.learning.log(GUILD, "g", CHANNEL, ANA, 241)
    await s.learning.log(GUILD, "g", CHANNEL, ANA, 240)  # exactly 24 hours is fine
    assert await s.entries() == 3
    with pytest.raises(UserFacingError, match="1 to 600"):
        await s.learning.set_goal(GUILD, "g", ANA, 0)
    assert (await s.learning.goal(GUILD, ANA)).minutes == 20
    with pytest.raises(UserFacingError):
        await s.members.set_timezone(GUILD, "g", ANA, "Mars/Olympus")
    assert (await s.members.timezone(GUILD, ANA)).timezone == "Pacific/Auckland"


async def test_undo_removes_only_todays_last_entry(s: Setup) -> None:
    with pytest.raises(UserFacingError, match="nothing to undo"):
        await s.learning.undo(GUILD, LEO)
    await s.at(utc(2026, 3, 2, 7, 30), LEO, 15)  # 1 March in Los Angeles
    await s.at(utc(2026, 3, 2, 9, 0), LEO, 10)  # 2 March
    await s.at(utc(2026, 3, 2, 9, 5), LEO, 25)
    undone = await s.learning.undo(GUILD, LEO)
    assert (undone.minutes, undone.today_total) == (25, 10)
    await s.learning.undo(GUILD, LEO)
    with pytest.raises(UserFacingError):
        await s.learning.undo(GUILD, LEO)  # yesterday's entry is not today's to undo
    assert (await s.learning.progress(GUILD, LEO)).days == {date(2026, 3, 1): 15}


async def test_the_goal_decides_which_days_count(s: Setup) -> None:
    await s.learning.set_goal(GUILD, "g", LEO, 45)
    await s.at(utc(2026, 3, 2, 18, 0), LEO, 30)
    progress = await s.learning.progress(GUILD, LEO)
    assert (progress.goal, progress.streak.current, progress.streak.today_met) == (45, 0, False)
    await s.at(utc(2026, 3, 2, 19, 0), LEO, 15)
    assert (await s.learning.progress(GUILD, LEO)).streak.current == 1


async def test_week_and_month_minutes_by_topic(s: Setup) -> None:
    maths = await s.topic("Maths")
    art = await s.topic("Art")
    await s.at(utc(2026, 2, 27, 20, 0), LEO, 30, topic=maths)  # Friday: last week, February
    await s.at(utc(2026, 3, 2, 20, 0), LEO, 20, topic=maths)  # Monday 2 March
    await s.at(utc(2026, 3, 3, 20, 0), LEO, 40, topic=art)
    await s.at(utc(2026, 3, 3, 21, 0), LEO, 5)
    progress = await s.learning.progress(GUILD, LEO)
    assert [(t.name, t.minutes) for t in progress.week] == [("Art", 40), ("Maths", 20), ("", 5)]
    assert progress.week_total == 65 and progress.month_total == 65
    weeks, minutes = await s.learning.topic_weeks(GUILD, LEO)
    assert len(weeks) == 12 and weeks[-1] == date(2026, 3, 2)
    assert minutes["Maths"][-2:] == [30, 20] and minutes["Art"][-1] == 40


async def test_a_logged_link_is_shared_with_the_topics_tags_and_marks_a_path_step_done(
    s: Setup,
) -> None:
    maths = await s.topic("Maths", tags=("math", "k12"))
    first = await s.library.share(GUILD, CHANNEL, MO, "https://example.org/fractions")
    second = await s.library.share(GUILD, CHANNEL, MO, "https://example.org/algebra")
    await s.paths.add(GUILD, "g", MO, maths, first.resource.id, 1)
    await s.paths.add(GUILD, "g", MO, maths, second.resource.id, 2)
    await s.paths.start(GUILD, "g", LEO, maths)
    result = await s.learning.log(
        GUILD, "g", CHANNEL, LEO, 20, topic=maths, link="https://example.org/fractions?utm_x=1"
    )
    assert result.resource_id == first.resource.id and not result.shared_new
    assert [m.text for m in result.milestones] == ["🎉 Levelled up in Maths: level 2"]
    fresh = await s.learning.log(
        GUILD, "g", CHANNEL, LEO, 10, topic=maths, link="https://example.org/new-one"
    )
    assert fresh.shared_new
    async with s.sessions() as session:
        tags = set(
            await session.scalars(
                select(LibraryTag.tag).where(LibraryTag.resource_id == fresh.resource_id)
            )
        )
        sharers = set(
            await session.scalars(
                select(LibraryShare.member_id).where(LibraryShare.resource_id == first.resource.id)
            )
        )
    assert tags == {"math", "k12"} and sharers == {MO, LEO}
    levels = await s.paths.levels(GUILD, LEO)
    assert [(lv.topic_name, lv.label) for lv in levels] == [("Maths", "level 2")]


async def test_paths_are_built_in_levels_and_walked_to_the_end(s: Setup) -> None:
    assess = await s.topic("Assessment")
    ids = [
        (await s.library.share(GUILD, CHANNEL, MO, f"https://example.org/{n}")).resource.id
        for n in ("a", "b", "c")
    ]
    with pytest.raises(UserFacingError, match="no path yet"):
        await s.paths.start(GUILD, "g", LEO, assess)
    await s.paths.add(GUILD, "g", MO, assess, ids[0], 1)
    await s.paths.add(GUILD, "g", MO, assess, ids[1])  # the last level: 1
    await s.paths.add(GUILD, "g", MO, assess, ids[2], 2)
    with pytest.raises(UserFacingError, match="already on"):
        await s.paths.add(GUILD, "g", MO, assess, ids[0], 2)
    with pytest.raises(UserFacingError, match="no resource #999"):
        await s.paths.add(GUILD, "g", MO, assess, 999, 1)
    moved = await s.paths.move(GUILD, assess, ids[1], 1, 1)
    assert moved.position == 1
    steps = await s.paths.steps(GUILD, assess, LEO)
    assert [(st.resource_id, st.level) for st in steps] == [(ids[1], 1), (ids[0], 1), (ids[2], 2)]
    start = await s.paths.start(GUILD, "g", LEO, assess)
    assert start.label == "level 1"
    upcoming = await s.paths.next_step(GUILD, LEO)
    assert upcoming is not None and upcoming[1].resource_id == ids[1]
    first = await s.paths.done(GUILD, "g", LEO)
    assert first.step.resource_id == ids[1] and not first.milestones
    second = await s.paths.done(GUILD, "g", LEO, ids[0])
    assert [m.text for m in second.milestones] == ["🎉 Levelled up in Assessment: level 2"]
    again = await s.paths.done(GUILD, "g", LEO, ids[0])
    assert not again.newly_done and not again.milestones
    last = await s.paths.done(GUILD, "g", LEO)
    assert [m.text for m in last.milestones] == ["🏁 Finished the Assessment path!"]
    assert await s.paths.next_step(GUILD, LEO) is None
    with pytest.raises(UserFacingError, match="on no topic's path"):
        await s.paths.done(GUILD, "g", LEO, 999)
    await s.paths.remove(GUILD, assess, ids[2])
    with pytest.raises(UserFacingError, match="not on the Assessment path"):
        await s.paths.remove(GUILD, assess, ids[2])


async def test_one_guild_never_sees_anothers_log_or_resources(s: Setup) -> None:
    await s.at(utc(2026, 3, 2, 20, 0), LEO, 50)
    resource = await s.library.share(GUILD, CHANNEL, MO, "https://example.org/only-here")
    elsewhere = await s.topic("Maths", guild_id=OTHER)
    with pytest.raises(UserFacingError, match="no resource"):
        await s.paths.add(OTHER, "o", MO, elsewhere, resource.resource.id, 1)
    progress = await s.learning.progress(OTHER, LEO)
    assert progress.days == {} and progress.streak.best == 0
    assert progress.timezone == "UTC"  # his Los Angeles zone is for the first server only
    async with s.sessions() as session:
        week = await community_week(
            session, OTHER, s.clock.now() - timedelta(days=7), s.clock.now()
        )
    assert week.members == 0


async def test_the_recap_line_counts_everyone_and_names_only_those_who_allow_it(s: Setup) -> None:
    for day in range(3):
        await s.at(utc(2026, 3, 2 + day, 20, 0), LEO, 30)
        await s.at(utc(2026, 3, 2 + day, 8, 0), ANA, 20)
    end = utc(2026, 3, 5, 0, 0)
    async with s.sessions() as session:
        hidden = await community_week(session, GUILD, end - timedelta(days=7), end)
    assert (hidden.members, hidden.minutes, hidden.streaks) == (2, 150, ())
    await s.members.set_privacy(GUILD, "g", LEO, show_progress=True)
    privacy = await s.members.privacy(GUILD, LEO)
    assert privacy.show_progress and not privacy.hide_from_contributors
    async with s.sessions() as session:
        shown = await community_week(session, GUILD, end - timedelta(days=7), end)
        mine = await member_week(session, GUILD, ANA, end - timedelta(days=7), end)
    assert [(member, days) for member, _name, days in shown.streaks] == [(LEO, 3)]
    assert (mine.minutes, mine.days, mine.streak) == (60, 3, 3)


async def test_two_logs_at_once_never_make_more_than_24_hours(s: Setup) -> None:
    await s.learning.log(GUILD, "g", CHANNEL, LEO, 600)
    await s.learning.log(GUILD, "g", CHANNEL, LEO, 600)
    results = await asyncio.gather(
        *(s.learning.log(GUILD, "g", CHANNEL, LEO, 100) for _ in range(8)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, UserFacingError)]
    assert len(refused) == 6, results  # room for two: 1,400 minutes, not more
    assert (await s.learning.progress(GUILD, LEO)).today_minutes == 1400
