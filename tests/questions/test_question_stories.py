"""Questions end to end: asking in a forum and a text topic, the solution, nudges, closing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.world import MakeWorld, World, text_of

from bot.questions.records import QuestionInfo
from discord_emulator import Channel, Member, Message, wire
from discord_emulator.state import GatewayEvent, Intent

pytestmark = pytest.mark.e2e


@pytest.fixture
async def world(make_world: MakeWorld, database_url: str) -> World:
    return await make_world(database_url=database_url)


async def topic(world: World, name: str, kind: str) -> Channel:
    reply = await world.run(world.mod, "mod topic create", {"name": name, "kind": kind})
    assert "Created" in reply.content, reply.content
    channel = world.channel_named(name.lower())
    assert channel is not None
    return channel


async def ask(world: World, options: dict[str, str], *, channel: Channel | None = None) -> Channel:
    _, answer = await world.followup(world.alice, "ask", options, channel=channel)
    assert "Your question is up" in answer.content, answer.content
    threads = [c for c in world.emu.state.channels.values() if c.is_thread]
    return max(threads, key=lambda t: t.id)


async def question(world: World, thread: Channel) -> QuestionInfo:
    found = await world.bot.services.questions.by_thread(world.guild.id, thread.id)
    assert found is not None
    return found


def tag_names(world: World, thread: Channel) -> set[str]:
    forum = world.emu.state.channels[thread.parent_id or 0]
    names = {int(t["id"]): t["name"] for t in forum.available_tags}
    return {names[t] for t in thread.applied_tags}


async def reply(world: World, who: object, thread: Channel, text: str) -> Message:
    message = await world.emu.post_message(who, thread, text)  # type: ignore[arg-type]
    return message


async def test_a_member_asks_in_a_forum_topic_and_marks_the_answer_that_solved_it(
    world: World,
) -> None:
    emu = world.emu
    reading = await topic(world, "Reading", "forum")
    await world.run(world.bob, "topic join", {"name": "Reading"})

    thread = await ask(
        world,
        {
            "question": "Which book on feedback should I read first?",
            "topic": "Reading",
            "details": "I liked https://example.org/hattie-visible-learning a lot.",
        },
    )
    assert thread.parent_id == reading.id
    assert thread.name == "Which book on feedback should I read first?"
    assert tag_names(world, thread) == {"open"}
    starter, guide = emu.history(thread)[:2]
    assert "Which book on feedback" in starter.content and "hattie" in starter.content
    assert "Mark as solution" in guide.content and "/solved" in guide.content

    answer = await reply(world, world.bob, thread, "Start with https://example.org/wiliam-embedded")
    await world.eventually(lambda: _answered(world, thread))

    # carol is not the asker; a bot's message is no solution; nothing changes
    denied = await emu.invoke_message_command(world.carol, "Mark as solution", answer)
    assert "Only the member who asked" in (await emu.wait_for_followup(denied)).content
    refused = await emu.invoke_message_command(world.alice, "Mark as solution", guide)
    assert "bot's message" in (await emu.wait_for_followup(refused)).content
    assert tag_names(world, thread) == {"open"}

    marked = await emu.invoke_message_command(world.alice, "Mark as solution", answer)
    assert "Marked solved" in (await emu.wait_for_followup(marked)).content
    assert tag_names(world, thread) == {"solved"}
    note = world.bot_posts(thread)[-1]
    assert "Solved by" in note.content and str(world.bob.id) in note.content
    assert note.mentions == []  # named, not pinged
    assert "wiliam-embedded" in note.content
    solved = await question(world, thread)
    assert solved.state == "solved" and solved.solver_id == world.bob.id

    # both links are in the library, with the source "question"
    library = world.bot.services.library
    found = await library.search(world.guild.id, "wiliam")
    assert [r.url for r in found] == ["https://example.org/wiliam-embedded"]
    assert [r.url for r in await library.search(world.guild.id, "hattie")] != []

    # /search finds the solved question by words of its question or its solution
    for words in ("feedback book", "wiliam"):
        found = await world.run(world.carol, "search", {"query": words, "kind": "questions"})
        assert "Which book on feedback" in text_of(found), words
    nothing = await world.run(world.carol, "search", {"query": "pizza", "kind": "questions"})
    assert "No solved question matches" in text_of(nothing)

    listed = await world.followup(world.carol, "questions", {"state": "solved"})
    assert "Which book on feedback" in text_of(listed[1])

    # quiet for the close-after hours: the thread is closed
    await world.tick(timedelta(hours=49))
    assert thread.archived
    assert (await question(world, thread)).state == "closed"


async def private_text(world: World, who: Member, command: str, wanted: str) -> str:
    """The text of the private answers to a command, once one of them says `wanted`."""
    interaction = await world.invoke(who, command, {})

    def parts() -> str | None:
        texts = [
            text_of(m)
            for m in world.emu.ephemeral_messages(who)
            if m.interaction_id == interaction.id
        ]
        joined = "\n".join(texts)
        return joined if wanted in joined else None

    return await world.emu.wait_until(parts)


async def _answered(world: World, thread: Channel) -> bool:
    found = await world.bot.services.questions.by_thread(world.guild.id, thread.id)
    return found is not None and found.answered


async def test_a_text_topic_question_is_nudged_once_and_the_asker_asked_after_three_days(
    world: World,
) -> None:
    emu = world.emu
    maths = await topic(world, "Maths", "text")
    thread = await ask(world, {"question": "How do you teach fractions?"}, channel=maths)
    assert thread.parent_id == maths.id
    await reply(world, world.alice, thread, "Any year group, really.")  # the asker's own

    await world.tick(timedelta(hours=11))
    assert not any("Waiting for an answer" in m.content for m in world.bot_posts(maths))
    await world.tick(timedelta(hours=1, minutes=1))
    nudges = [m for m in world.bot_posts(maths) if "Waiting for an answer" in m.content]
    assert len(nudges) == 1 and "fractions" in nudges[0].content
    assert nudges[0].mention_roles == []  # pings are off in this server
    await world.tick(timedelta(hours=12))
    assert len([m for m in world.bot_posts(maths) if "Waiting for an answer" in m.content]) == 1

    # the weekly recap lists it as waiting; bob, who follows Maths, sees it in his digest
    assert "fractions" in await private_text(world, world.mod, "mod recap preview", "Waiting")
    await world.run(world.bob, "topic join", {"name": "Maths"})
    digest = await private_text(world, world.bob, "digest preview", "Waiting for an answer")
    assert "How do you teach fractions?" in digest

    await world.tick(timedelta(days=3))
    ask_post = world.bot_posts(thread)[-1]
    assert "quiet for 3 days" in ask_post.content and str(world.alice.id) in ask_post.content
    kept = await emu.click(world.alice, ask_post, "Still open")
    assert "stays open" in (await emu.wait_for_response(kept)).content
    assert (await question(world, thread)).state == "open"
    await world.restart()  # the buttons outlive the process
    denied = await emu.click(world.bob, ask_post, "Solved")
    assert "Only the member who asked" in (await emu.wait_for_followup(denied)).content
    clicked = await emu.click(world.alice, ask_post, "Solved")
    assert "Marked solved" in (await emu.wait_for_followup(clicked)).content
    assert thread.name.startswith("✅ ")
    assert (await question(world, thread)).state == "solved"
    world.clock.advance(timedelta(minutes=1))
    recap = await private_text(world, world.mod, "mod recap preview", "Solved this week")
    assert "fractions" in recap.split("Solved this week", 1)[1]
    assert "Waiting for an answer" not in recap


async def test_the_nudge_mentions_the_followers_role_when_the_server_allows_pings(
    world: World,
) -> None:
    await world.run(world.mod, "mod topic settings", {"ping": True})
    maths = await topic(world, "Maths", "text")
    thread = await ask(world, {"question": "Best warm-up for algebra?"}, channel=maths)
    await world.tick(timedelta(hours=12, minutes=1))
    role = world.role_named("Maths")
    assert role is not None
    [nudge] = [m for m in world.bot_posts(thread) if "waiting for an answer" in m.content]
    assert f"<@&{role.id}>" in nudge.content


async def test_bad_questions_and_solved_outside_a_thread_are_refused(world: World) -> None:
    await world.run(world.mod, "mod topic settings", {"visibility": "opt-in"})
    await topic(world, "Maths", "text")
    _, unseen = await world.followup(world.alice, "ask", {"question": "Hi?", "topic": "Maths"})
    assert "join the topic first" in unseen.content
    empty = await world.run(world.alice, "ask", {"question": " "})
    assert "needs some words" in empty.content
    long = await world.run(world.alice, "ask", {"question": "x" * 300})
    assert "under 300 characters" in long.content
    _, outside = await world.followup(world.alice, "solved", {})
    assert "question's thread" in outside.content
    assert [c for c in world.emu.state.channels.values() if c.is_thread] == []
    assert await world.bot.services.questions.listing(world.guild.id) == []


async def test_a_question_thread_archived_or_deleted_by_hand_is_followed(world: World) -> None:
    questions = world.bot.services.questions
    thread = await ask(world, {"question": "Where are the slides?"})
    assert thread.parent_id == world.general.id
    assert thread.name == "Where are the slides?"
    assert world.emu.history(world.general)[-1].content.startswith("**Question from")

    by_hand(world, thread, "UPDATE", archived=True)
    await world.eventually(lambda: _state_is(world, thread, "closed"))
    assert await questions.listing(world.guild.id, state="open") == []
    by_hand(world, thread, "UPDATE", archived=False)
    await world.eventually(lambda: _state_is(world, thread, "open"))
    by_hand(world, thread, "DELETE")
    await world.eventually(lambda: _state_is(world, thread, "gone"))
    _, listed = await world.followup(world.alice, "questions", {})
    assert "Where are the slides" not in text_of(listed)


def by_hand(world: World, thread: Channel, event: str, *, archived: bool = False) -> None:
    """A member archives, reopens or deletes the thread in Discord's own client."""
    state = world.emu.state
    if event == "UPDATE":
        thread.archived = archived
    data = wire.channel(thread, state)
    if event == "DELETE":
        del state.channels[thread.id]
    state.emit(GatewayEvent(f"THREAD_{event}", data, intent=Intent.GUILDS))


async def _state_is(world: World, thread: Channel, state: str) -> bool:
    found = await world.bot.services.questions.by_thread(world.guild.id, thread.id)
    return found is not None and found.state == state


async def test_a_nudge_discord_refuses_is_tried_again_an_hour_later_once(world: World) -> None:
    maths = await topic(world, "Maths", "text")
    await ask(world, {"question": "Good apps for times tables?"}, channel=maths)
    world.emu.faults.server_error("POST", "/channels/{channel_id}/messages", times=1, status=503)
    await world.tick(timedelta(hours=12, minutes=1))
    assert world.emu.faults.pending() == 0

    def nudges() -> list[Message]:
        return [m for m in world.bot_posts(maths) if "Waiting for an answer" in m.content]

    assert nudges() == []
    await world.tick(timedelta(hours=1))
    assert len(nudges()) == 1
    await world.tick(timedelta(hours=1))
    assert len(nudges()) == 1
