"""The library service on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from support.wire import Relay

from bot.clock import FakeClock
from bot.database import SessionFactory, create_engine, create_session_factory, migrate_to_head
from bot.errors import UserFacingError
from bot.guilds.models import AuditEntry, Guild
from bot.library.models import LibraryShare
from bot.library.service import LibraryService

GUILD, OTHER_GUILD = 1001, 2002
CHANNEL = 11
ALICE, BOB, MOD = 501, 502, 503


@pytest.fixture
def library(sessions: SessionFactory, clock: FakeClock) -> LibraryService:
    return LibraryService(sessions, clock, ignored_hosts=["spam.example"])


async def test_share_then_duplicate_with_tracking_is_recognised(
    library: LibraryService, clock: FakeClock
) -> None:
    first = await library.share(
        GUILD, CHANNEL, ALICE, "https://example.com/article", tags="math, k-12", note="great"
    )
    assert not first.duplicate
    assert first.resource.tags == ("k-12", "math")
    await library.attach_message(GUILD, first.share_id, 9001)
    clock.advance(timedelta(hours=2))
    second = await library.share(
        GUILD,
        12,
        BOB,
        "https://www.example.com/article/?utm_source=newsletter#top",
        tags="#Science",
    )
    assert second.duplicate and second.first_share is not None
    assert second.resource.id == first.resource.id
    assert second.first_share.member_id == ALICE
    assert second.first_share.message_id == 9001
    assert second.first_share.shared_at == clock.now() - timedelta(hours=2)
    assert second.resource.tags == ("k-12", "math", "science")
    assert second.resource.shares == 2
    assert second.resource.url == "https://example.com/article"  # the first form is kept


async def test_bad_input_changes_nothing(library: LibraryService, sessions: SessionFactory) -> None:
    for kwargs in (
        {"url": "javascript:alert(1)"},
        {"url": "https://example.com", "note": "x" * 501},
        {"url": "https://example.com", "tags": "a b c d e f g h i j k"},
        {"url": "https://example.com", "tags": "bad/tag"},
        {"url": "https://example.com", "title": "t" * 301},
    ):
        with pytest.raises(UserFacingError):
            await library.share(GUILD, CHANNEL, ALICE, **kwargs)  # type: ignore[arg-type]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(LibraryShare)) == 0


async def test_resharing_cannot_exceed_ten_tags(library: LibraryService) -> None:
    await library.share(GUILD, CHANNEL, ALICE, "https://e.example/", tags="a b c d e f g h i")
    with pytest.raises(UserFacingError, match="at most 10"):
        await library.share(GUILD, CHANNEL, BOB, "https://e.example/", tags="j k")
    resource = (await library.search(GUILD, tag="a"))[0]
    assert resource.shares == 1


async def test_capture_links_follows_the_rules(library: LibraryService) -> None:
    content = (
        "Look: https://edu.example/one and https://tenor.com/view/x and "
        "https://discord.com/channels/1/2/3 and https://news.spam.example/a\n"
        "```\nhttps://code.example/\n```\nhttps://cdn.discordapp.com/attachments/1/2/x.png "
        "https://edu.example/one?utm_medium=x https://two.example/"
    )
    captured = await library.capture_links(GUILD, CHANNEL, 7001, ALICE, content, tags=["Math"])
    assert [c.canonical_url for c in captured] == [
        "https://edu.example/one",
        "https://two.example/",
    ]
    # The same message seen again (e.g. the context menu after capture) records nothing new.
    assert await library.capture_links(GUILD, CHANNEL, 7001, ALICE, content) == []
    found = await library.search(GUILD, tag="math")
    assert {r.canonical_url for r in found} == {"https://edu.example/one", "https://two.example/"}


async def test_capture_channels_upsert_and_remove(library: LibraryService) -> None:
    await library.set_capture_channel(GUILD, 77, ["Math", "#science"], source="topic")
    await library.set_capture_channel(GUILD, 77, ["math"], source="moderator")
    await library.set_capture_channel(OTHER_GUILD, 88, [], source="topic")
    channel = await library.capture_channel(GUILD, 77)
    assert channel is not None and channel.default_tags == ("math",)
    assert channel.source == "moderator"
    assert [c.channel_id for c in await library.capture_channels(GUILD)] == [77]
    await library.remove_capture_channel(GUILD, 77)
    assert await library.capture_channel(GUILD, 77) is None
    assert await library.capture_channels(OTHER_GUILD) != []


async def test_votes_and_saves_by_reaction(library: LibraryService) -> None:
    shared = await library.share(GUILD, CHANNEL, ALICE, "https://vote.example/")
    await library.attach_message(GUILD, shared.share_id, 9100)
    assert await library.add_reaction(GUILD, 9100, BOB, "⭐") == 1
    assert await library.add_reaction(GUILD, 9100, BOB, "⭐") == 0
    assert await library.add_reaction(GUILD, 9100, BOB, "👍") == 1
    assert await library.add_reaction(GUILD, 9100, BOB, "🎉") == 0
    assert await library.add_reaction(OTHER_GUILD, 9100, BOB, "⭐") == 0
    resource = await library.get(GUILD, shared.resource.id)
    assert resource.votes == 1  # once per member, whatever the emoji
    assert await library.remove_reaction(GUILD, 9100, BOB, "⭐") == 1
    assert await library.remove_reaction(GUILD, 9100, BOB, "👍") == 1
    assert (await library.get(GUILD, shared.resource.id)).votes == 0
    assert await library.add_reaction(GUILD, 9100, BOB, "🔖") == 1
    assert [r.id for r in await library.saved(GUILD, BOB)] == [shared.resource.id]
    assert await library.remove_reaction(GUILD, 9100, BOB, "🔖") == 1
    assert await library.saved(GUILD, BOB) == []
    assert await library.save(GUILD, shared.resource.id, BOB)
    assert not await library.save(GUILD, shared.resource.id, BOB)
    assert await library.saved(OTHER_GUILD, BOB) == []
    with pytest.raises(UserFacingError):
        await library.save(OTHER_GUILD, shared.resource.id, BOB)


async def test_tags_edit_and_removal_permissions(
    library: LibraryService, sessions: SessionFactory
) -> None:
    shared = await library.share(GUILD, CHANNEL, ALICE, "https://edit.example/", tags="old")
    rid = shared.resource.id
    with pytest.raises(UserFacingError, match="shared this resource or a moderator"):
        await library.edit_tags(GUILD, rid, BOB, add="new")
    edited = await library.edit_tags(GUILD, rid, ALICE, add="new, other", remove="old")
    assert edited.tags == ("new", "other")
    edited = await library.edit_tags(GUILD, rid, MOD, remove="other", is_moderator=True)
    assert edited.tags == ("new",)
    with pytest.raises(UserFacingError):
        await library.remove(GUILD, rid, BOB)
    with pytest.raises(UserFacingError, match="no resource"):
        await library.remove(OTHER_GUILD, rid, MOD, is_moderator=True)
    await library.remove(GUILD, rid, MOD, is_moderator=True)
    with pytest.raises(UserFacingError, match="no resource"):
        await library.get(GUILD, rid)
    assert await library.search(GUILD, "edit") == []
    assert await library.tag_counts(GUILD) == []
    async with sessions() as session:
        audit = (await session.scalars(select(AuditEntry))).one()
    assert (audit.action, audit.actor_id, audit.target) == (
        "library.remove",
        MOD,
        f"resource {rid}",
    )


async def test_page_title_never_overrides_a_member_title(library: LibraryService) -> None:
    given = await library.share(GUILD, CHANNEL, ALICE, "https://t1.example/", title="Mine")
    fetched = await library.share(GUILD, CHANNEL, ALICE, "https://t2.example/")
    assert not await library.set_page_title(GUILD, given.resource.id, "Page")
    assert await library.set_page_title(GUILD, fetched.resource.id, "  Fetched\n title ")
    assert not await library.set_page_title(OTHER_GUILD, fetched.resource.id, "x")
    assert (await library.get(GUILD, fetched.resource.id)).title == "Fetched title"
    assert [r.id for r in await library.search(GUILD, "fetched")] == [fetched.resource.id]


async def test_search_ranks_filters_and_survives_syntax(
    library: LibraryService, clock: FakeClock
) -> None:
    old = await library.share(
        GUILD, CHANNEL, ALICE, "https://a.example/", title="Fractions with pizza", tags="math"
    )
    clock.advance(timedelta(days=400))
    new = await library.share(
        GUILD, CHANNEL, BOB, "https://b.example/", title="Pizza fractions game", tags="math"
    )
    await library.share(GUILD, CHANNEL, BOB, "https://c.example/", title="Poetry", note="pizza")
    await library.share(OTHER_GUILD, CHANNEL, BOB, "https://a.example/", title="Fractions pizza")
    assert [r.id for r in await library.search(GUILD, "fractions pizza")] == [
        new.resource.id,
        old.resource.id,
    ]
    assert [r.id for r in await library.search(GUILD, "pizza", by=ALICE)] == [old.resource.id]
    assert len(await library.search(GUILD, "pizza")) == 3
    assert [r.id for r in await library.search(GUILD, "frac*", tag="#Math", by=BOB)] == [
        new.resource.id
    ]
    since = clock.now() - timedelta(days=1)
    assert {r.id for r in await library.search(GUILD, "fractions", since=since)} == {
        new.resource.id
    }
    assert len(await library.search(GUILD, tag="math")) == 2
    assert [r.title for r in await library.search(GUILD, "b.example")] == ["Pizza fractions game"]
    for nasty in ('"', "AND", "pizza OR", "NEAR(", "*", "col:umn", "'); DROP", "a & | ! :*", "^"):
        await library.search(GUILD, nasty)  # never raises


async def test_search_in_a_real_discord_guild_by_a_real_member(library: LibraryService) -> None:
    # Discord ids are 64-bit snowflakes: every filter of every shape must carry them whole.
    guild, member = 1477998909849600003, 1477998909849600777
    shared = await library.share(
        guild, CHANNEL, member, "https://s.example/", title="Snowflake sized", tags="ids"
    )
    since = shared.resource.first_shared_at - timedelta(days=1)
    for filters in ({}, {"by": member}, {"tag": "ids"}, {"since": since}):
        found = await library.search(guild, "snowflake", **filters)  # type: ignore[arg-type]
        assert [r.id for r in found] == [shared.resource.id], filters
        assert [r.id for r in await library.search(guild, **filters)] == [shared.resource.id]


async def test_search_ranks_only_the_newest_candidates(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    library = LibraryService(sessions, clock, search_candidates=100)
    for number in range(130):
        clock.advance(timedelta(minutes=1))
        await library.share(GUILD, CHANNEL, ALICE, f"https://n{number}.example/", title="common")
    found = await library.search(GUILD, "common", limit=200)
    assert len(found) == 100
    assert min(r.first_shared_at for r in found) > clock.now() - timedelta(minutes=100)


async def test_tag_counts_and_autocomplete(library: LibraryService) -> None:
    await library.share(GUILD, CHANNEL, ALICE, "https://1.example/", tags="math science")
    await library.share(GUILD, CHANNEL, ALICE, "https://2.example/", tags="math maker")
    await library.share(OTHER_GUILD, CHANNEL, ALICE, "https://3.example/", tags="mathematics")
    counts = await library.tag_counts(GUILD)
    assert [(c.tag, c.count) for c in counts] == [("math", 2), ("maker", 1), ("science", 1)]
    assert await library.autocomplete_tags(GUILD, "ma") == ["math", "maker"]
    assert await library.autocomplete_tags(GUILD, "science, #M") == ["math", "maker"]
    assert await library.autocomplete_tags(GUILD, "%") == []
    assert await library.autocomplete_tags(GUILD, "_") == []
    assert len(await library.autocomplete_tags(GUILD, "")) == 3


async def test_tag_counts_follow_every_change_of_tags_and_removals(
    library: LibraryService,
) -> None:
    async def counts() -> dict[str, int]:
        return {c.tag: c.count for c in await library.tag_counts(GUILD)}

    first = await library.share(GUILD, CHANNEL, ALICE, "https://a.example/", tags="math art")
    await library.share(GUILD, CHANNEL, BOB, "https://b.example/", tags="math")
    await library.share(GUILD, CHANNEL, BOB, "https://a.example/", tags="maker")  # re-share adds
    await library.capture_links(GUILD, CHANNEL, 7001, BOB, "see https://c.example/", tags=["art"])
    assert await counts() == {"math": 2, "art": 2, "maker": 1}
    rid = first.resource.id
    await library.edit_tags(GUILD, rid, ALICE, add="science", remove="art")
    assert await counts() == {"math": 2, "art": 1, "maker": 1, "science": 1}
    await library.remove(GUILD, rid, ALICE)
    assert await counts() == {"math": 1, "art": 1}
    # Shared again after removal: it is back with its tags, and the new one is counted once.
    await library.share(GUILD, CHANNEL, BOB, "https://a.example/", tags="history")
    assert await counts() == {"math": 2, "art": 1, "maker": 1, "science": 1, "history": 1}
    assert await library.tag_counts(OTHER_GUILD) == []


async def test_concurrent_captures_and_shares_do_not_duplicate(library: LibraryService) -> None:
    content = "https://race.example/a https://race.example/b"
    results = await asyncio.gather(
        library.capture_links(GUILD, CHANNEL, 8001, ALICE, content),
        library.capture_links(GUILD, CHANNEL, 8001, ALICE, content, source="chat"),
    )
    assert sorted(len(r) for r in results) == [0, 2]
    shares = await asyncio.gather(
        library.share(GUILD, CHANNEL, ALICE, "https://race.example/new"),
        library.share(GUILD, CHANNEL, BOB, "https://race.example/new/"),
    )
    assert shares[0].resource.id == shares[1].resource.id
    assert sorted(s.duplicate for s in shares) == [False, True]
    assert len(await library.shares_of(GUILD, shares[0].resource.id)) == 2


async def test_share_counts_by_channel_count_this_weeks_distinct_live_links(
    library: LibraryService, clock: FakeClock
) -> None:
    await library.share(GUILD, CHANNEL, ALICE, "https://example.com/old")
    clock.advance(timedelta(days=8))
    week_start = clock.now() - timedelta(days=7)
    await library.share(GUILD, CHANNEL, BOB, "https://example.com/old")  # re-shared this week
    await library.share(GUILD, CHANNEL, ALICE, "https://example.com/new")
    await library.share(GUILD, CHANNEL, BOB, "https://example.com/new?utm_source=x")
    removed = await library.share(GUILD, CHANNEL, ALICE, "https://example.com/removed")
    await library.remove(GUILD, removed.resource.id, ALICE, is_moderator=False)
    await library.capture_links(GUILD, 12, 77, 999, "https://example.com/bot", author_is_bot=True)
    await library.share(OTHER_GUILD, CHANNEL, ALICE, "https://example.com/elsewhere")

    counts = await library.share_counts_by_channel(GUILD, week_start)

    # "old" counts through its re-share this week; the removed link and the bot's do not.
    assert counts == {CHANNEL: 2}


async def test_a_new_link_on_sqlite_costs_one_trip(
    sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(sqlite_url)
    await migrate_to_head(engine)
    library = LibraryService(create_session_factory(engine), clock)
    for number in range(2):  # the first creates the guild's row, the second finds it
        await library.share(GUILD, CHANNEL, ALICE, f"https://warm{number}.example/")
    sent: list[str] = []
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any) -> Any:
        sent.append(getattr(fn, "__name__", "?"))
        return await original(self, fn, *args)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    shared = await library.share(GUILD, CHANNEL, BOB, "https://new.example/", tags="a b", note="n")
    monkeypatch.undo()
    assert sent == ["run"]  # resource, tags, share and commit in one trip to SQLite's thread
    found = await library.search(GUILD, "new")
    assert [(r.id, r.tags, r.note, r.shares) for r in found] == [
        (shared.resource.id, ("a", "b"), "n", 1)
    ]
    assert found[0].first_shared_at == clock.now()
    await engine.dispose()


async def test_a_share_after_the_guilds_row_was_removed_recreates_it(
    library: LibraryService, sessions: SessionFactory
) -> None:
    for number in range(2):  # the guild's row is then known to the service
        await library.share(GUILD, CHANNEL, ALICE, f"https://known{number}.example/")
    async with sessions() as session, session.begin():
        await session.execute(delete(Guild).where(Guild.id == GUILD))  # e.g. the bot was removed
    shared = await library.share(GUILD, CHANNEL, BOB, "https://after.example/", tags="math")
    assert not shared.duplicate
    assert [r.canonical_url for r in await library.search(GUILD, tag="math")] == [
        "https://after.example/"
    ]


async def test_a_reshare_names_the_first_sharer_of_that_link(
    library: LibraryService, clock: FakeClock
) -> None:
    await library.share(GUILD, CHANNEL, ALICE, "https://older.example/")
    clock.advance(timedelta(hours=1))
    await library.share(GUILD, 12, BOB, "https://newer.example/")
    clock.advance(timedelta(hours=1))
    again = await library.share(GUILD, CHANNEL, MOD, "https://newer.example/?utm_source=x")
    assert again.first_share is not None
    assert (again.first_share.member_id, again.first_share.channel_id) == (BOB, 12)
    assert again.first_share.shared_at == clock.now() - timedelta(hours=1)


@pytest.mark.postgres
async def test_members_sharing_at_once_with_the_same_tags_in_any_order_never_deadlock(
    postgres_url: str, clock: FakeClock
) -> None:
    # Each new tag moves its guild-wide count row: two shares taking those row locks in opposite
    # orders would deadlock, and PostgreSQL would fail one of them.
    engine = create_engine(postgres_url)
    await migrate_to_head(engine)
    library = LibraryService(create_session_factory(engine), clock)
    await library.share(GUILD, 5, 1, "https://first.example/", tags="math science art")
    orders = ["math science art", "art science math", "science art math", "art math science"]

    async def member(member_id: int) -> None:
        for n in range(60):
            tags = orders[(n + member_id) % len(orders)]
            await library.share(GUILD, 5, member_id, f"https://{member_id}.example/{n}", tags=tags)

    try:
        await asyncio.gather(*(member(member_id) for member_id in range(10, 16)))
        counts = {tag.tag: tag.count for tag in await library.tag_counts(GUILD)}
        assert counts == {"math": 361, "science": 361, "art": 361}
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_share_and_a_search_on_postgres_take_the_round_trips_of_plain_asyncpg(
    postgres_url: str, clock: FakeClock
) -> None:
    # The floor: the statements the service sent (with BEGIN and the transaction's end)
    # replayed on plain asyncpg, each prepared once. A ping per checkout, a SET per session or
    # a prepare per call would each show as trips the floor does not take.
    async with Relay(postgres_url) as wire:
        engine = create_engine(wire.url)
        await migrate_to_head(engine)
        sent = _record_statements(engine)
        library = LibraryService(create_session_factory(engine), clock)
        shared = iter(range(100))

        async def share() -> object:
            url = f"https://trips.example/{next(shared)}"
            return await library.share(GUILD, CHANNEL, ALICE, url, tags="math, k-12")

        async def search() -> object:
            return await library.search(GUILD, "trips", tag="math")

        try:
            # A new link: one statement (resource, tags and share). A search: the ranking, then
            # the results loaded.
            statements = {"share": 1, "search": 2}
            for name, operation in (("share", share), ("search", search)):
                # The first share creates the guild's row, the second finds it (from then on it
                # is known); and each statement is prepared on the connection by now.
                await operation()
                await operation()
                sent.clear()
                wire.round_trips = 0
                await operation()
                trips = wire.round_trips
                assert len(sent) == 1 + statements[name] + 1, sent  # BEGIN … the end
                assert trips == await _replayed_trips(wire, sent), (name, sent)
        finally:
            await engine.dispose()


def _record_statements(engine: AsyncEngine) -> list[tuple[str, tuple[Any, ...]]]:
    sent: list[tuple[str, tuple[Any, ...]]] = []

    @event.listens_for(engine.sync_engine, "begin")
    def begin(_connection: Any) -> None:
        sent.append(("BEGIN", ()))

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def execute(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, tuple(parameters or ())))

    for end in ("commit", "rollback"):
        event.listen(engine.sync_engine, end, lambda _c, end=end: sent.append((end.upper(), ())))
    return sent


async def _replayed_trips(wire: Relay, sent: list[tuple[str, tuple[Any, ...]]]) -> int:
    import asyncpg  # type: ignore[import-untyped]  # the postgres extra

    dsn = make_url(wire.url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        for _ in range(2):  # the second time, every statement is prepared
            wire.round_trips = 0
            for statement, parameters in sent:
                if statement in ("BEGIN", "COMMIT", "ROLLBACK"):
                    await connection.execute(statement)
                else:
                    await connection.fetch(statement, *parameters)
        return wire.round_trips
    finally:
        await connection.close()
