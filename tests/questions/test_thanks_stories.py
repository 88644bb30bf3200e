"""Thanks and contributions end to end: /thanks, 🙏, /me stats, /pln contributors, helpers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.world import MakeWorld, World, text_of

from bot.settings import QuestionsSettings
from discord_emulator import Channel

pytestmark = pytest.mark.e2e


@pytest.fixture
async def world(make_world: MakeWorld, database_url: str) -> World:
    return await make_world(
        database_url=database_url, questions=QuestionsSettings(thanks_per_day=3)
    )


async def maths(world: World) -> Channel:
    await world.run(world.mod, "mod topic create", {"name": "Maths"})
    channel = world.channel_named("maths")
    assert channel is not None
    return channel


async def thanks_received(world: World, member_id: int) -> int:
    return await world.bot.services.contributions.thanks_received(world.guild.id, member_id)


async def test_thanks_by_command_and_reaction_with_the_refusals(world: World) -> None:
    emu = world.emu
    channel = await maths(world)
    _, sent = await world.followup(
        world.alice, "thanks", {"member": world.bob, "message": "Great tip"}
    )
    assert "Thanks sent" in sent.content
    [dm] = emu.dm_history(world.bob)
    assert "alice thanked you" in dm.content and "Great tip" in dm.content

    _, own = await world.followup(world.alice, "thanks", {"member": world.alice})
    assert "yourself" in own.content

    tip = await emu.post_message(world.bob, channel, "Try number talks every morning")
    await emu.react(world.carol, tip, "🙏")
    await world.eventually(lambda: _has(world, world.bob.id, 2))
    await emu.react(world.bob, tip, "🙏")  # his own message: nothing
    elsewhere = await emu.post_message(world.bob, world.general, "not a topic channel")
    await emu.react(world.carol, elsewhere, "🙏")
    await emu.react(world.carol, tip, "👍")
    # a later counted thanks proves the refused ones above were handled (events are in order)
    other = await emu.post_message(world.carol, channel, "Also try estimation jars")
    await emu.react(world.alice, other, "🙏")
    await world.eventually(lambda: _has(world, world.carol.id, 1))
    assert await thanks_received(world, world.bob.id) == 2
    assert len(emu.dm_history(world.bob)) == 2
    # a thread in a topic channel counts too
    side = emu.create_thread(channel, "Number talks", owner=world.bob)
    more = await emu.post_message(world.bob, side, "Here is how I run them")
    await emu.react(world.carol, more, "🙏")
    await world.eventually(lambda: _has(world, world.bob.id, 3))

    # the daily limit (3 here): alice has given 2; one more, then no more until tomorrow
    await world.followup(world.alice, "thanks", {"member": world.carol})
    _, over = await world.followup(world.alice, "thanks", {"member": world.bob})
    assert "most this server allows" in over.content
    assert await thanks_received(world, world.bob.id) == 3
    world.clock.advance(timedelta(hours=24))
    _, again = await world.followup(world.alice, "thanks", {"member": world.bob})
    assert "Thanks sent" in again.content

    # a helper who keeps DMs closed is still thanked (and simply not told)
    emu.set_dms_closed(world.mod)
    _, closed = await world.followup(world.bob, "thanks", {"member": world.mod})
    assert "Thanks sent" in closed.content
    assert await thanks_received(world, world.mod.id) == 1

    # one guild's thanks are not another's
    assert (
        await world.bot.services.contributions.thanks_received(world.guild.id + 1, world.bob.id)
        == 0
    )


async def _has(world: World, member_id: int, count: int) -> bool:
    return await thanks_received(world, member_id) >= count


async def test_stats_contributors_and_the_helper_role_follow_the_score(world: World) -> None:
    emu = world.emu
    helper = emu.create_role(world.guild, "Helper")
    above = emu.create_role(world.guild, "Admins", position=emu.bot_role(world.guild).position + 1)
    _, refused = await world.followup(world.mod, "mod questions settings", {"helper_role": above})
    assert "above the bot's own role" in refused.content
    await world.run(world.mod, "mod topic create", {"name": "Maths"})
    _, set_reply = await world.followup(
        world.mod, "mod questions settings", {"helper_role": helper, "threshold": 8}
    )
    assert "score of 8 or more" in set_reply.content

    await world.run(world.bob, "share", {"url": "https://example.org/number-talks"})
    # bob answers alice's question and she marks it: 5 points, then thanks: 3 more
    _, asked = await world.followup(
        world.alice, "ask", {"question": "Warm-ups for maths?", "topic": "Maths"}
    )
    assert "Your question is up" in asked.content
    thread = max((c for c in emu.state.channels.values() if c.is_thread), key=lambda c: c.id)
    answer = await emu.post_message(world.bob, thread, "Number talks, five minutes a day")
    marked = await emu.invoke_message_command(world.alice, "Mark as solution", answer)
    await emu.wait_for_followup(marked)
    member = world.guild.members[world.bob.id]
    assert helper.id not in member.roles  # 1 share + 5 = 6 < 8
    await world.followup(world.carol, "thanks", {"member": world.bob})
    await emu.wait_until(lambda: helper.id in member.roles or None)

    _, stats = await world.followup(world.bob, "me stats", {})
    text = text_of(stats)
    assert "Score **9**" in text and "Accepted answers: 1" in text and "Thanks received: 1" in text
    assert "First share" in text and "First accepted answer" in text
    assert stats.visible_to == world.bob.id

    _, top = await world.followup(world.alice, "pln contributors", {"period": "7 days"})
    assert "1. **bob** — 9" in text_of(top)
    await world.run(world.bob, "me privacy", {"top_contributors": False})
    _, hidden = await world.followup(world.alice, "pln contributors", {"period": "30 days"})
    assert "bob" not in text_of(hidden)

    # 31 days later the score has left the window: the daily pass takes the role back
    await world.tick(timedelta(days=31))
    await emu.wait_until(lambda: helper.id not in member.roles or None)
    _, later = await world.followup(world.bob, "me stats", {})
    assert "Score **0**" in text_of(later) and "Score **9**" in text_of(later)
