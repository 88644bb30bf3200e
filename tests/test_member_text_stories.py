"""Members' text with control characters, a NUL above all (PostgreSQL refuses U+0000), is cleaned
on the way in however it comes: command options, autocomplete, forms and captured messages.
On both backends; before the cleaning, PostgreSQL answered "Something went wrong"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support.world import MakeWorld, World, text_of

from discord_emulator import Message

pytestmark = pytest.mark.e2e

NUL = "\x00"


@pytest.fixture
async def world(make_world: MakeWorld, database_url: str) -> World:
    return await make_world(database_url=database_url, timezone="America/New_York")


def normal(reply: Message) -> str:
    text = text_of(reply)
    assert "Something went wrong" not in text, text
    assert NUL not in text and "\x07" not in text and "\x1b" not in text, repr(text)
    return text


async def test_control_characters_in_options_and_autocomplete_are_dropped(world: World) -> None:
    created = await world.run(
        world.mod,
        "mod topic create",
        {
            "name": f"Ma{NUL}ths",
            "description": f"Numbers\x07 and{NUL} more",
            "tags": f"alg{NUL}ebra",
        },
    )
    assert "Maths" in normal(created)
    assert world.channel_named("maths") is not None
    choices = await world.emu.autocomplete(
        world.alice, "topic join", {"name": f"ma{NUL}"}, focused="name", channel=world.general
    )
    assert [c["value"] for c in choices] == ["Maths"]
    normal(await world.run(world.alice, "topic join", {"name": f"Ma{NUL}ths"}))
    info = normal(await world.run(world.alice, "topic info", {"name": f"{NUL}Maths"}))
    assert "Numbers and more" in info

    added = await world.run(
        world.mod, "mod prompt add", {"text": f"What{NUL} surprised\x1b you?\r\nTell us."}
    )
    assert "Added prompt" in normal(added)
    suggested = await world.run(world.alice, "prompt suggest", {"text": f"Be{NUL}st tool?"})
    assert "went to the moderators" in normal(suggested)
    normal(await world.run(world.mod, "mod prompt list", {"topic": f"Ma{NUL}ths"}))
    assert "What surprised you?" in normal(await world.run(world.mod, "mod prompt list"))
    [prompt] = await world.bot.services.prompts.list_bank(world.guild.id)
    assert prompt.text == "What surprised you?\nTell us."

    card = await world.run(
        world.alice,
        "share",
        {"url": "https://nul.example/page", "note": f"gr{NUL}eat", "title": f"Ti{NUL}tle\x85"},
    )
    assert "Title" in normal(card)
    [found] = await world.bot.services.library.search(world.guild.id, query="Title")
    assert found.title == "Title"

    interaction = await world.invoke(
        world.mod, "mod prompt post-now", {"channel": world.general, "topic": f"Ma{NUL}ths"}
    )
    normal(await world.emu.wait_for_followup(interaction))
    assert "What surprised you?" in world.bot_posts(world.general)[-1].content


async def test_control_characters_in_forms_and_captured_messages_are_dropped(
    world: World,
) -> None:
    emu = world.emu
    await world.run(world.mod, "mod topic create", {"name": "Maths"})
    maths = world.channel_named("maths")
    assert maths is not None
    # A link posted in a topic channel is captured, without the NUL.
    await emu.post_message(world.alice, maths, f"look{NUL} https://cap.example/a{NUL}b")

    async def captured() -> list[str]:
        found = await world.bot.services.library.search(world.guild.id)
        return [r.canonical_url for r in found]

    assert await world.eventually(captured) == ["https://cap.example/ab"]

    # The questions form of /mod chat schedule.
    interaction = await world.invoke(
        world.mod,
        "mod chat schedule",
        {
            "title": f"Ed{NUL}Chat",
            "when": "weekly on thu at 19:00",
            "channel": world.general,
            "duration": 30,
        },
    )
    submitted = await emu.submit_modal(
        world.mod, interaction, {"questions": f"What{NUL} worked?\r\nWhat next?\x9b"}
    )
    done = normal(await emu.wait_for_followup(submitted))
    assert "with 2 questions" in done
    [chat] = await world.bot.services.chats.for_guild(world.guild.id)
    assert chat.title == "EdChat" and chat.questions == ("What worked?", "What next?")

    # A chat answer that starts with a control character still counts for its question.
    await world.tick(datetime(2026, 3, 6, 0, 0, tzinfo=UTC) - world.clock.now())
    [thread] = world.threads()
    await emu.post_message(world.bob, thread, f"{NUL}A1 pizza{NUL} https://ans.example/p")
    await world.eventually(captured_answer(world))
    await world.tick(timedelta(minutes=30))
    assert "1 answer from 1 member" in world.bot_posts(thread)[-1].content

    # The reason form of a rejected suggestion, as the member reads it.
    await world.run(world.bob, "topic suggest", {"name": "Chess", "why": f"fu{NUL}n"})
    card = await emu.wait_for_message(
        world.log, lambda m: bool(m.components) and "Chess" in text_of(m)
    )
    click = await emu.click(world.mod, card, "Reject")
    submitted = await emu.submit_modal(world.mod, click, {"reason": f"Off{NUL} topic\x07 here"})
    normal(await emu.wait_for_response(submitted))
    dm = await emu.wait_until(lambda: emu.dm_history(world.bob) or None)
    assert "Off topic here" in dm[-1].content


def captured_answer(world: World):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        found = await world.bot.services.library.search(world.guild.id)
        return "https://ans.example/p" in [r.canonical_url for r in found]

    return check
