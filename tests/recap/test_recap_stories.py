"""The weekly recap end to end: the real bot on the emulator, driven by a FakeClock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import discord
import pytest
from support.world import MakeWorld, World, embeds_of, eventually

from bot.scheduling import ScheduleInfo
from discord_emulator import Member, Message, Permission

pytestmark = pytest.mark.e2e

TUESDAY_9AM = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # 09:00 EST


@pytest.fixture
async def world(make_world: MakeWorld) -> World:
    return await make_world(timezone="America/New_York", channels=("recap", "maths"))


def _bot_channel(world: World, channel_id: int) -> discord.TextChannel:
    channel = world.bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def _share(world: World, who: Member, url: str, title: str | None = None) -> Message:
    options = {"url": url, **({"title": title} if title else {})}
    return await world.run(who, "share", options)


async def test_a_week_of_shares_becomes_the_recap_at_the_slot_exactly_as_previewed(
    world: World,
) -> None:
    reply = await world.emu.wait_for_followup(
        await world.invoke(
            world.mod,
            "mod recap settings",
            {"channel": world.channels["recap"], "weekday": 1, "time": "09:00", "top": 5},
        )
    )
    assert "every Tuesday at 09:00 (America/New_York)" in reply.content, reply.content
    pizza = "https://example.org/pizza?utm_source=newsletter&utm_medium=email"
    await _share(world, world.alice, pizza, "Fractions with pizza")
    world.clock.advance(timedelta(hours=1))
    await _share(world, world.bob, "http://www.example.org/pizza/")  # a re-share: 2 members
    await _share(world, world.carol, "https://example.org/geometry", "Geometry @everyone")
    poem = await _share(world, world.alice, "https://example.org/poem", "Poetry")
    await _share(world, world.alice, "https://example.org/poem")  # same member: counts once
    await world.emu.react(world.carol, poem, "⭐")  # counts
    await world.emu.react(world.alice, poem, "⭐")  # her own share: does not count
    library = world.bot.services.library

    async def both_votes_recorded() -> bool:
        found = await library.search(world.guild.id, "Poetry")
        return bool(found) and found[0].votes == 2

    await eventually(both_votes_recorded)

    world.clock.set(TUESDAY_9AM - timedelta(minutes=5))
    interaction, _ = await world.followup(world.mod, "mod recap preview")

    def preview_parts() -> list[Message]:
        return [
            m
            for m in world.emu.ephemeral_messages(world.mod)
            if m.interaction_id == interaction.id and m.embeds
        ]

    report = await world.tick_to(TUESDAY_9AM)
    assert len(report.done) == 1, report
    posted = world.bot_posts(world.channels["recap"])
    assert posted, "the recap was posted"
    preview = await world.emu.wait_until(
        lambda: parts if len(parts := preview_parts()) >= len(posted) else None
    )
    text = "\n".join(d for _, d, _ in embeds_of(posted))
    assert text.index("Fractions with pizza") < text.index("Poetry") < text.index("Geometry")
    assert "shared by 2 members · 0 ⭐" in text
    assert "shared by 1 member · 1 ⭐" in text
    assert "@everyone" not in text  # escaped
    assert "(https://example.org/pizza)" in text and "utm_" not in text  # the clean link
    assert "first by alice" in text  # named, never pinged
    assert all(m.mentions == [] for m in posted if hasattr(m, "mentions"))
    assert "Ranked by distinct members" in embeds_of(posted)[-1][2]
    # The preview (5 minutes earlier, same shares) is what was posted, week dates aside.
    assert [t for t, _, _ in embeds_of(preview)] == [t for t, _, _ in embeds_of(posted)]
    entries = [d.split("\n\n", 1)[-1] for _, d, _ in embeds_of(preview)]
    assert entries == [d.split("\n\n", 1)[-1] for _, d, _ in embeds_of(posted)]
    # Exactly once: woken again, nothing more.
    assert (await world.tick_to(TUESDAY_9AM + timedelta(minutes=1))).done == []
    assert len(world.bot_posts(world.channels["recap"])) == len(posted)
    # Members look back at it.
    history = await world.run(world.mod, "mod recap history")
    assert str(posted[0].id) in history.embeds[0]["description"]
    _, week = await world.followup(world.alice, "recap week", {"date": "2026-03-02"})
    assert "Fractions with pizza" in embeds_of([week])[0][1]
    unknown = await world.run(world.alice, "recap week", {"date": "2020-01-01"})
    assert "no recap" in unknown.content.lower()


async def test_bad_settings_are_refused_and_nothing_is_saved(world: World) -> None:
    bad_top = await world.run(
        world.mod, "mod recap settings", {"channel": world.channels["recap"], "top": 26}
    )
    assert "1 to 25" in bad_top.content
    bad_time = await world.run(
        world.mod, "mod recap settings", {"channel": world.channels["recap"], "time": "25:99"}
    )
    assert "not a time" in bad_time.content
    not_mod = await world.run(
        world.alice,
        "mod recap settings",
        {"channel": world.channels["recap"]},
        bypass_default_permissions=True,
    )
    assert "moderators" in not_mod.content
    world.emu.set_overwrite(
        world.channels["recap"], world.emu.bot_member(world.guild), deny=int(Permission.EMBED_LINKS)
    )
    await world.emu.wait_until(  # the CHANNEL_UPDATE reached the bot
        lambda: (
            not _bot_channel(world, world.channels["recap"].id)
            .permissions_for(_bot_channel(world, world.channels["recap"].id).guild.me)
            .embed_links
        )
    )
    closed = await world.run(world.mod, "mod recap settings", {"channel": world.channels["recap"]})
    assert "I need Embed Links" in closed.content, closed.content
    assert await world.bot.services.scheduling.schedules.for_guild(world.guild.id) == []
    assert not (await world.bot.get_cog("Recap").service.config(world.guild.id)).enabled  # type: ignore[union-attr]


async def test_a_member_leaves_the_top_contributors(world: World) -> None:
    reply = await world.run(world.alice, "me privacy", {"top_contributors": False})
    assert "are not listed" in reply.content and reply.flags & 64
    await _share(world, world.alice, "https://example.org/pizza", "Fractions with pizza")
    await world.emu.wait_for_followup(
        await world.invoke(
            world.mod, "mod recap settings", {"channel": world.channels["recap"], "weekday": 1}
        )
    )
    report = await world.tick_to(TUESDAY_9AM)
    assert len(report.done) == 1
    text = "\n".join(d for _, d, _ in embeds_of(world.bot_posts(world.channels["recap"])))
    assert "Fractions with pizza" in text  # her link still ranks
    assert "Top contributors" not in text  # and she is not listed


async def test_a_restart_during_posting_finishes_without_duplicates(world: World) -> None:
    library = world.bot.services.library
    for i in range(25):  # long titles: the recap needs several messages
        for who in [world.alice, world.bob, world.carol][: 1 + i % 3]:
            await library.share(
                world.guild.id,
                world.general.id,
                who.id,
                f"https://example.org/{i}",
                title=f"Resource {i:02d} " + "with a long descriptive title " * 9,
                guild_name="PLN",
            )
    await world.emu.wait_for_followup(
        await world.invoke(
            world.mod,
            "mod recap settings",
            {"channel": world.channels["recap"], "weekday": 1, "time": "09:00", "top": 25},
        )
    )
    # The process dies once Discord made the first part, before the bot heard back: the part
    # is out but not recorded, and the run is left "claimed".
    stall = world.emu.faults.stall("POST", "/channels/{channel_id}/messages", after_handler=True)
    await world.crash_at(TUESDAY_9AM, stall)
    first_try = world.bot_posts(world.channels["recap"])
    assert len(first_try) == 1
    await world.restart(timedelta(minutes=15))  # the claim is stale: the new process resumes it
    posts = world.bot_posts(world.channels["recap"])
    assert len(posts) >= 2 and posts[0].id == first_try[0].id
    text = "\n".join(d for _, d, _ in embeds_of(posts))
    for i in range(25):
        assert text.count(f"Resource {i:02d} ") == 1, i  # every link once, none twice
    runs = await world.bot.services.scheduling.schedules.runs(world.guild.id)
    assert [r.status for r in runs] == ["done"]


async def test_recap_and_digests_follow_a_change_of_the_servers_time_zone(world: World) -> None:
    await world.emu.wait_for_followup(
        await world.invoke(
            world.mod, "mod recap settings", {"channel": world.channels["recap"], "weekday": 1}
        )
    )
    await world.emu.wait_for_followup(
        await world.invoke(world.alice, "digest on", {"weekday": 4, "time": "18:00"})
    )

    changed = await world.run(world.mod, "mod settings", {"timezone": "Europe/London"})
    assert "Settings saved." in changed.content

    async def moved() -> list[ScheduleInfo] | None:
        found = await world.bot.services.scheduling.schedules.for_guild(world.guild.id)
        kinds = {info.kind for info in found}
        in_london = all(info.rule.timezone == "Europe/London" for info in found)
        return found if kinds == {"recap", "digest"} and in_london else None

    schedules = await eventually(moved)
    recap = next(info for info in schedules if info.kind == "recap")
    assert recap.next_run_at is not None
    local = recap.next_run_at.astimezone(ZoneInfo("Europe/London"))
    assert (local.weekday(), local.hour, local.minute) == (1, 9, 0)  # Tuesday 09:00, London
