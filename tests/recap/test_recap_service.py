"""Recap building, storing and history on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from support.library import Library

from bot.chats.models import Chat, ChatRun
from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.guilds.service import ensure_guild_row
from bot.library.models import LibraryResource
from bot.members.service import MemberService
from bot.recap.posting import recap_scope
from bot.recap.service import RecapService
from bot.scheduling import Outbox, Outgoing
from bot.topics.models import Topic
from bot.topics.service import TopicService

GUILD = 1
DAY = timedelta(days=1)


@pytest.fixture
def service(sessions: SessionFactory, clock: FakeClock) -> RecapService:
    return RecapService(sessions, clock, TopicService(sessions, clock))


async def _topic(sessions: SessionFactory, clock: FakeClock, name: str, channel_id: int) -> int:
    async with sessions() as session, session.begin():
        await ensure_guild_row(session, GUILD, "g", clock.now())
        row = Topic(
            guild_id=GUILD,
            name=name,
            name_key=name.casefold(),
            channel_id=channel_id,
            default_tags=[],
            created_by=1,
            created_at=clock.now() - 2 * DAY,
        )
        session.add(row)
        await session.flush()
        return row.id


async def _seed(sessions: SessionFactory, clock: FakeClock) -> tuple[Library, list[int]]:
    lib = Library(sessions, GUILD, clock.now())
    await lib.member(1, "Ada")
    await lib.member(2, "Bob @everyone")
    await lib.member(3, "Cy")
    a = await lib.resource("https://a.example/x", "Alpha", tags=("math", "k12"))
    b = await lib.resource("https://b.example/y", "Beta")
    for member in (2, 1, 3):
        await lib.share(a, member, (4 - member) * DAY, channel_id=700)
    await lib.share(b, 1, DAY)
    await lib.vote(b, 3, DAY)
    return lib, [a, b]


async def test_settings_default_off_and_bad_input_saves_nothing(service: RecapService) -> None:
    config = await service.config(GUILD)
    assert (config.enabled, config.weekday, config.local_time, config.top_n) == (
        False,
        0,
        "09:00",
        10,
    )
    for bad in ({"top_n": 0}, {"top_n": 26}, {"local_time": "25:00"}, {"weekday": 7}):
        with pytest.raises(UserFacingError):
            await service.configure(GUILD, "g", 9, channel_id=55, **bad)  # type: ignore[arg-type]
    assert not (await service.config(GUILD)).enabled
    saved = await service.configure(GUILD, "g", 9, channel_id=55, weekday=4, local_time="8:30")
    assert (saved.channel_id, saved.weekday, saved.local_time, saved.top_n) == (55, 4, "08:30", 10)


async def test_build_orders_entries_names_first_sharer_and_counts_the_week(
    service: RecapService, sessions: SessionFactory, clock: FakeClock
) -> None:
    topic = await _topic(sessions, clock, "Maths", 700)
    _, (a, b) = await _seed(sessions, clock)
    view = await service.build(GUILD, clock.now(), 10)
    assert [(e.resource_id, e.sharers, e.engagement) for e in view.entries] == [
        (a, 3, 0),
        (b, 1, 1),
    ]
    first = view.entries[0]
    assert (first.first_sharer_id, first.first_sharer_name, first.tags) == (
        1,
        "Ada",
        ("k12", "math"),
    )
    assert [(t.topic_id, [e.resource_id for e in t.entries]) for t in view.topics] == [(topic, [a])]
    assert view.numbers.links_shared == 4
    assert view.numbers.new_sharers == 3
    assert view.numbers.new_topics == ("Maths",)
    assert (view.contributors[0].member_id, view.contributors[0].links) == (1, 2)


async def test_contributor_opt_out(
    service: RecapService, sessions: SessionFactory, clock: FakeClock
) -> None:
    await _seed(sessions, clock)
    await MemberService(sessions, clock).set_privacy(GUILD, "g", 1, hide_from_contributors=True)
    view = await service.build(GUILD, clock.now(), 10)
    assert 1 not in [c.member_id for c in view.contributors]
    assert view.entries  # their links still rank


async def test_prepare_stores_a_snapshot_once_and_history_keeps_it(
    service: RecapService, sessions: SessionFactory, clock: FakeClock
) -> None:
    _, (a, _) = await _seed(sessions, clock)
    await service.configure(GUILD, "g", 9, channel_id=55)
    slot = clock.now()
    stored = await service.prepare(GUILD, slot, trigger="schedule")
    again = await service.prepare(GUILD, slot, trigger="schedule")
    assert stored.recap_id == again.recap_id
    async with sessions() as session, session.begin():
        await session.execute(
            update(LibraryResource)
            .where(LibraryResource.id == a)
            .values(title="Renamed", deleted_at=clock.now())
        )
    assert stored.recap_id is not None
    loaded = await service.load(GUILD, stored.recap_id)
    assert loaded.entries[0].title == "Alpha"
    assert loaded == stored
    posts = Outbox(sessions, clock).scope(GUILD, recap_scope(stored.recap_id))

    async def send(_nonce: str) -> int:
        return 1234

    await posts.once("0", Outgoing("message", 55, "part 0", send))
    assert await posts.sent() == {"0": 1234}
    assert await service.unfinished(GUILD) == [stored.recap_id]
    await service.mark_posted(GUILD, stored.recap_id)
    assert await service.unfinished(GUILD) == []
    [past] = await service.history(GUILD)
    assert (past.recap_id, past.first_message_id, past.status) == (stored.recap_id, 1234, "posted")
    clock.advance(3 * DAY)
    week = await service.week_of(GUILD, (slot - 2 * DAY).date().isoformat())
    assert week.recap_id == stored.recap_id
    with pytest.raises(UserFacingError):
        await service.week_of(GUILD, "2020-01-01")
    with pytest.raises(UserFacingError):
        await service.week_of(GUILD, "next tuesday")
    assert await service.history(2) == []


async def test_stored_view_matches_the_live_build(
    service: RecapService, sessions: SessionFactory, clock: FakeClock
) -> None:
    await _topic(sessions, clock, "Maths", 700)
    await _seed(sessions, clock)
    await service.configure(GUILD, "g", 9, channel_id=55)
    live = await service.preview(GUILD)
    stored = await service.prepare(GUILD, clock.now(), trigger="manual")
    assert stored == live.__class__(**{**live.__dict__, "recap_id": stored.recap_id})


async def test_prepare_without_a_channel_is_refused(
    service: RecapService, clock: FakeClock
) -> None:
    with pytest.raises(UserFacingError):
        await service.prepare(GUILD, clock.now(), trigger="manual")


async def test_the_week_in_numbers_links_the_chats_held(
    service: RecapService, sessions: SessionFactory, clock: FakeClock
) -> None:
    await _seed(sessions, clock)
    async with sessions() as session, session.begin():
        chat = Chat(
            guild_id=GUILD,
            title="Tuesday chat",
            channel_id=700,
            questions=["Q1"],
            duration_minutes=60,
            interval_minutes=10,
            created_by=1,
            created_at=clock.now() - 30 * DAY,
        )
        session.add(chat)
        await session.flush()
        for ago, thread in ((2 * DAY, 9001), (9 * DAY, 9002)):  # this week, and before
            session.add(
                ChatRun(
                    guild_id=GUILD,
                    chat_id=chat.id,
                    slot_at=clock.now() - ago,
                    thread_id=thread,
                    state="archived",
                    ends_at=clock.now() - ago + timedelta(hours=1),
                )
            )
    view = await service.build(GUILD, clock.now(), 10)
    assert view.numbers.chats == (("Tuesday chat", f"https://discord.com/channels/{GUILD}/9001"),)
