"""The learning log end to end: the real bot on the emulator, driven by a FakeClock."""

from __future__ import annotations

import io
from collections.abc import Awaitable
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from support.world import MakeWorld, World, text_of

from bot.learning.heatmap import SHADES, cell_center
from discord_emulator import Member, Message

pytestmark = pytest.mark.e2e


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


async def log(world: World, who: Member, minutes: int, **options: object) -> Message:
    _, answer = await world.followup(who, "learn log", {"minutes": minutes, **options})
    return answer


async def zone(world: World, who: Member, name: str) -> None:
    reply = await world.run(who, "me timezone", {"name": name})
    assert name in reply.content, reply.content


async def test_members_in_three_zones_log_around_their_midnight_and_keep_streaks(
    make_world: MakeWorld,
) -> None:
    world = await make_world(timezone="Europe/London")
    await zone(world, world.alice, "Pacific/Auckland")
    await zone(world, world.bob, "America/Los_Angeles")
    choices = await world.autocomplete(world.carol, "me timezone", {"name": "Auck"}, focused="name")
    assert "Pacific/Auckland" in [c["value"] for c in choices]
    await zone(world, world.carol, "Asia/Tokyo")
    back = await world.run(world.carol, "me timezone", {"name": "server"})
    assert "Europe/London (the server's)" in back.content, back.content
    wrong = await world.run(world.carol, "me timezone", {"name": "Europe/Londn"})
    assert "Did you mean Europe/London" in wrong.content, wrong.content
    # 23:55 and 00:05 local, ten minutes apart: two days for each member, in their own zone.
    plan = [
        (utc(2026, 3, 3, 10, 55), world.alice),  # 23:55 on 3 March in Auckland (UTC+13)
        (utc(2026, 3, 3, 11, 5), world.alice),
        (utc(2026, 3, 3, 23, 55), world.carol),  # London, the server's zone (UTC+0)
        (utc(2026, 3, 4, 0, 5), world.carol),
        (utc(2026, 3, 4, 7, 55), world.bob),  # 23:55 on 3 March in Los Angeles (UTC-8)
        (utc(2026, 3, 4, 8, 5), world.bob),
    ]
    answers: dict[int, Message] = {}
    for instant, who in plan:
        world.clock.set(instant)
        answers[who.id] = await log(world, who, 20)
    for who in (world.alice, world.bob, world.carol):
        assert "🔥 2 days" in answers[who.id].content, answers[who.id].content
        assert "goal of 20 min met" in answers[who.id].content


async def test_a_grace_day_saves_a_streak_and_a_second_missed_day_ends_it(
    make_world: MakeWorld,
) -> None:
    world = await make_world(timezone="America/New_York")
    day = utc(2026, 3, 2, 17, 0)  # noon in New York
    for offset in (0, 1, 2):
        world.clock.set(day + timedelta(days=offset))
        await log(world, world.alice, 20)
    world.clock.set(day + timedelta(days=4))  # the 4th day was missed
    saved = await log(world, world.alice, 20)
    assert "🔥 4 days (kept alive by 1 grace day)" in saved.content, saved.content
    world.clock.set(day + timedelta(days=7))  # two more missed days
    ended = await log(world, world.alice, 20)
    assert "🔥 1 day " in ended.content and "best 4 days" in ended.content, ended.content


async def test_the_reminder_comes_once_at_the_members_time_and_not_after_the_goal(
    make_world: MakeWorld, database_url: str
) -> None:
    world = await make_world(database_url=database_url, timezone="Europe/London")
    alice = world.alice
    await zone(world, alice, "America/Los_Angeles")
    await world.run(alice, "learn goal", {"minutes": 30})
    _, on = await world.followup(alice, "learn remind on", {"time": "20:00"})
    assert "20:00 (America/Los_Angeles)" in on.content, on.content
    world.clock.set(utc(2026, 3, 2, 18, 0))  # 10:00 on 2 March in Los Angeles
    await log(world, alice, 30)  # a 1-day streak
    await world.tick_to(utc(2026, 3, 3, 4, 0))  # 20:00 on 2 March: goal met, no DM
    assert world.emu.dm_history(alice) == []
    await world.tick_to(utc(2026, 3, 4, 3, 59))
    assert world.emu.dm_history(alice) == []  # not before her time
    await world.tick_to(utc(2026, 3, 4, 4, 0))  # 20:00 on 3 March: the streak is at stake
    [dm] = world.emu.dm_history(alice)
    assert "1-day learning streak" in dm.content and "30 more minutes" in dm.content
    # Moving the reminder later the same evening does not bring a second one.
    _, later = await world.followup(alice, "learn remind on", {"time": "21:00"})
    assert "21:00" in later.content
    await world.tick_to(utc(2026, 3, 4, 5, 0))
    assert len(world.emu.dm_history(alice)) == 1
    # The next day she meets her goal before her time: no reminder.
    world.clock.set(utc(2026, 3, 4, 18, 0))
    await log(world, alice, 30)
    await world.tick_to(utc(2026, 3, 5, 5, 30))
    assert len(world.emu.dm_history(alice)) == 1
    _, off = await world.followup(alice, "learn remind off")
    assert "off" in off.content


async def test_progress_is_private_with_its_heatmap_and_shared_with_a_button(
    make_world: MakeWorld,
) -> None:
    world = await make_world(timezone="UTC", channels=("maths",))
    await world.run(world.mod, "mod topic create", {"name": "Maths"})
    world.clock.set(utc(2026, 3, 2, 12, 0))
    answer = await log(world, world.alice, 25, topic="Maths", what="fractions")
    quick = await world.emu.click(world.alice, answer, "+10")
    more = await world.emu.wait_for_response(quick)
    assert "Logged 10 min on **Maths**" in more.content and "35 min today" in more.content
    _, progress = await world.followup(world.alice, "learn progress")
    assert progress.flags & 64  # ephemeral
    text = text_of(progress)
    assert "35 min today" in text and "Maths: 35 min" in text
    heatmap = next(a for a in progress.attachments if a.filename == "heatmap.png")
    image = Image.open(io.BytesIO(heatmap.data)).convert("RGB")
    today = date(2026, 3, 2)
    assert image.getpixel(cell_center(today, today)) == SHADES[3]  # goal met, not doubled
    assert image.getpixel(cell_center(today, today - timedelta(days=1))) == SHADES[0]
    assert {a.filename for a in progress.attachments} == {"heatmap.png", "topics.png"}
    shown = await world.emu.click(world.alice, progress, "Show in channel")
    public = await world.emu.wait_for_response(shown)
    assert not public.flags & 64 and len(public.attachments) == 2
    # Bob sees her streak only once she allows it.
    _, hidden = await world.followup(world.bob, "learn progress", {"member": world.alice})
    assert "keeps their learning progress private" in hidden.content
    await world.run(world.alice, "me privacy", {"progress": True})
    _, visible = await world.followup(world.bob, "learn progress", {"member": world.alice})
    assert "🔥 1 day" in text_of(visible) and "35 min" not in text_of(visible)
    assert not visible.attachments


async def test_bad_input_gets_short_private_answers_and_changes_nothing(
    make_world: MakeWorld,
) -> None:
    world = await make_world()
    await log(world, world.alice, 600)
    await log(world, world.alice, 600)
    too_much = await log(world, world.alice, 300)
    assert "more than 24 hours" in too_much.content and too_much.flags & 64
    unknown = await log(world, world.alice, 10, topic="Nope")
    assert "no topic called" in unknown.content
    nothing = await world.run(world.bob, "learn undo")
    assert "nothing to undo" in nothing.content
    no_path = await world.run(world.mod, "mod topic create", {"name": "Art"})
    assert no_path
    missing = await world.run(world.bob, "path show", {"topic": "Art"})
    assert "no path yet" in missing.content
    progress = await world.bot.services.learning.progress(world.guild.id, world.alice.id)
    assert progress.today_minutes == 1200


async def test_a_moderator_builds_a_two_level_path_and_a_member_levels_up(
    make_world: MakeWorld, database_url: str
) -> None:
    world = await make_world(database_url=database_url, channels=("assessment",))
    await world.run(world.mod, "mod topic create", {"name": "Assessment"})
    for name in ("rubrics", "feedback", "portfolios"):
        await world.run(world.alice, "share", {"url": f"https://example.org/{name}", "title": name})
    for resource_id, level in ((1, 1), (2, 1), (3, 2)):
        added = await world.run(
            world.mod,
            "mod path add",
            {"topic": "Assessment", "resource_id": resource_id, "level": level},
        )
        assert f"at level {level}" in added.content, added.content
    refused = await world.run(world.mod, "mod path add", {"topic": "Assessment", "resource_id": 99})
    assert "no resource #99" in refused.content
    moved = await world.run(
        world.mod,
        "mod path move",
        {"topic": "Assessment", "resource_id": 2, "level": 1, "position": 1},
    )
    assert "position 1" in moved.content
    shown = await world.run(world.bob, "path show", {"topic": "Assessment"})
    assert "Level 1 · start here" in text_of(shown) and "Level 2" in text_of(shown)
    started = await world.run(world.bob, "path start", {"topic": "Assessment"})
    assert "level 1" in started.content and "#2 **feedback**" in started.content
    nxt = await world.run(world.bob, "path next")
    assert "#2" in nxt.content
    first = await world.run(world.bob, "path done")
    assert "Done: #2" in first.content and "Levelled" not in first.content
    second = await world.run(world.bob, "path done", {"resource_id": 1})
    assert "🎉 Levelled up in Assessment: level 2" in second.content
    mine = await world.run(world.bob, "topic mine")
    assert "**Assessment** level 2" in mine.content, mine.content
    # Logging time with the last resource's link marks it done: the path is finished.
    finished = await log(world, world.bob, 20, link="https://example.org/portfolios")
    assert "🏁 Finished the Assessment path!" in finished.content
    assert "already in the library as resource #3" in finished.content
    _, progress = await world.followup(world.bob, "learn progress")
    assert "Assessment: path finished (3/3 done)" in text_of(progress)
    removed = await world.run(
        world.mod, "mod path remove", {"topic": "Assessment", "resource_id": 3}
    )
    assert "Removed #3" in removed.content
    member_refused = await world.run(
        world.carol,
        "mod path remove",
        {"topic": "Assessment", "resource_id": 1},
        bypass_default_permissions=True,  # even where a server shows members /mod
    )
    assert "moderator" in member_refused.content.lower()


async def test_the_weekly_recap_shows_the_communitys_learning_time(make_world: MakeWorld) -> None:
    world = await make_world(timezone="America/New_York", channels=("recap",))
    await world.emu.wait_for_followup(
        await world.invoke(
            world.mod,
            "mod recap settings",
            {"channel": world.channels["recap"], "weekday": 1, "time": "09:00"},
        )
    )
    await world.run(world.alice, "share", {"url": "https://example.org/pizza", "title": "Pizza"})
    await log(world, world.alice, 50)
    await log(world, world.bob, 40)
    await world.run(world.bob, "me privacy", {"progress": True})
    await world.tick_to(utc(2026, 3, 3, 14, 0))  # Tuesday 09:00 in New York
    posted = "\n".join(text_of(m) for m in world.bot_posts(world.channels["recap"]))
    assert "**2 members** logged **1 h 30 min** of learning" in posted, posted
    assert "longest streaks: bob 🔥 1" in posted, posted
    assert "alice 🔥" not in posted
    # The posted recap keeps its line: /recap week reads it back from storage.
    interaction = await world.invoke(world.carol, "recap week", {"date": "2026-03-02"})
    await world.emu.wait_for_followup(interaction, 0)
    stored = await world.emu.wait_until(
        lambda: (
            "\n".join(
                text_of(m)
                for m in world.emu.ephemeral_messages(world.carol)
                if m.interaction_id == interaction.id
            )
            if any("logged" in text_of(m) for m in world.emu.ephemeral_messages(world.carol))
            else None
        )
    )
    assert "**2 members** logged **1 h 30 min** of learning · longest streaks: bob 🔥 1" in stored


async def _reminder_zone(world: World, who: Member) -> str | None:
    schedules = await world.bot.services.scheduling.schedules.for_guild(world.guild.id)
    found = [s for s in schedules if s.payload.get("user_id") == who.id]
    return found[0].rule.timezone if found else None


async def test_the_reminder_follows_the_members_zone_and_stops_on_closed_dms(
    make_world: MakeWorld,
) -> None:
    world = await make_world(timezone="Europe/London")
    bob, carol = world.bob, world.carol
    world.clock.set(utc(2026, 3, 2, 9, 0))
    for who in (bob, carol):
        _, on = await world.followup(who, "learn remind on", {"time": "20:00"})
        assert "20:00 (Europe/London)" in on.content, on.content
        await log(world, who, 20)
    await zone(world, bob, "Asia/Tokyo")  # his 20:00 is now 11:00 UTC
    await world.eventually(lambda: _is(_reminder_zone(world, bob), "Asia/Tokyo"))
    world.emu.set_dms_closed(carol)
    await world.tick_to(utc(2026, 3, 2, 11, 0))  # 20:00 in Tokyo: his goal is met today
    await world.tick_to(utc(2026, 3, 3, 11, 0))  # the next day's 20:00: at stake
    [dm] = world.emu.dm_history(bob)
    assert "1-day learning streak" in dm.content
    await world.tick_to(utc(2026, 3, 3, 20, 0))  # London's 20:00: nothing more for him
    assert len(world.emu.dm_history(bob)) == 1
    assert world.emu.dm_history(carol) == []
    goal = await world.bot.services.learning.goal(world.guild.id, carol.id)
    assert not goal.remind  # closed DMs switched her reminder off
    # The server's zone changing moves the reminders of members on the server's zone.
    _, again = await world.followup(carol, "learn remind on", {"time": "20:00"})
    assert "Europe/London" in again.content
    await world.followup(world.mod, "mod settings", {"timezone": "America/New_York"})
    await world.eventually(lambda: _is(_reminder_zone(world, carol), "America/New_York"))
    assert await _reminder_zone(world, bob) == "Asia/Tokyo"


async def _is(value: Awaitable[str | None], expected: str) -> bool:
    return await value == expected
