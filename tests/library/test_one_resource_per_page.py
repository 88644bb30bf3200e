"""http and https are one resource; the library stores and shows the clean link (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FakeClock
from bot.database import SessionFactory, alembic_config, create_engine, migrate_to_head
from bot.library.service import LibraryService
from bot.library.urls import canonical_url, parse_link, resource_key
from bot.models.base import UTCDateTime

GUILD = 1000
ALICE, BOB, CAROL = 11, 12, 13


async def test_the_http_and_https_forms_are_one_resource_shown_as_https(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    library = LibraryService(sessions, clock)
    first = await library.share(GUILD, 500, ALICE, "http://example.org/a/?utm_source=x")
    assert first.resource.url == "http://example.org/a"  # clean, no tracking parameter
    clock.advance(timedelta(minutes=5))
    second = await library.share(GUILD, 500, BOB, "https://www.example.org/a?fbclid=1")
    assert second.duplicate and second.resource.id == first.resource.id
    assert second.resource.url == "https://example.org/a"  # the best form seen
    assert second.first_share is not None and second.first_share.member_id == ALICE
    assert len(await library.shares_of(GUILD, first.resource.id)) == 2


@st.composite
def page_forms(draw: st.DrawFn) -> tuple[str, str]:
    """One page written two ways a member might: scheme, www, slash, query order, tracking."""
    host = draw(st.sampled_from(["example.org", "edutopia.org", "site.example.com"]))
    path = "/" + "/".join(draw(st.lists(st.sampled_from(["a", "b", "read", "x-1"]), max_size=3)))
    params = draw(st.lists(st.sampled_from(["p=1", "q=two", "page=3"]), max_size=3, unique=True))

    def form() -> str:
        scheme = draw(st.sampled_from(["http", "https", "HTTPS"]))
        www = draw(st.sampled_from(["", "www.", "WWW."]))
        slash = draw(st.sampled_from(["", "/"])) if path != "/" else ""
        shuffled = draw(st.permutations(params))
        tracking = draw(st.sampled_from([[], ["utm_source=news"], ["fbclid=abc", "gclid=1"]]))
        query = "&".join([*shuffled, *tracking])
        return f"{scheme}://{www}{host}{path}{slash}" + (f"?{query}" if query else "")

    return form(), form()


@given(page_forms())
@settings(max_examples=300, deadline=None)
def test_two_forms_of_one_page_share_one_key_and_clean_forms_are_stable(
    forms: tuple[str, str],
) -> None:
    one, other = (parse_link(form) for form in forms)
    assert one.key == other.key
    for link in (one, other):
        assert canonical_url(link.canonical) == link.canonical  # idempotent
        assert resource_key(link.key) == link.key
        assert "utm_" not in link.canonical and "fbclid" not in link.canonical


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_the_migration_merges_a_library_keeping_every_share_vote_and_save(
    database_url: str,
) -> None:
    engine: AsyncEngine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, "0007")
            await connection.execute(
                text(
                    "INSERT INTO guilds (id, name, timezone, joined_at) "
                    "VALUES (:g, 'PLN', 'UTC', '2026-03-01 00:00:00')"
                ),
                {"g": GUILD},
            )
            rows = [
                (1, "http://example.org/a?utm_source=x", "http://example.org/a", ALICE, "09"),
                (2, "https://example.org/a", "https://example.org/a", BOB, "10"),
                (3, "https://other.example/", "https://other.example/", CAROL, "11"),
            ]
            for rid, url, canonical, member, hour in rows:
                await connection.execute(
                    text(
                        "INSERT INTO library_resources (id, guild_id, canonical_url, url, domain, "
                        "title_source, first_sharer_id, first_shared_at, search_text) VALUES "
                        "(:id, :g, :c, :u, 'example.org', '', :m, :at, '')"
                    ).bindparams(bindparam("at", type_=UTCDateTime())),
                    {
                        "id": rid,
                        "g": GUILD,
                        "c": canonical,
                        "u": url,
                        "m": member,
                        "at": datetime(2026, 3, 1, int(hour), tzinfo=UTC),
                    },
                )
                await connection.execute(
                    text(
                        "INSERT INTO library_shares (guild_id, resource_id, member_id, "
                        "member_is_bot, channel_id, message_id, source, shared_at) VALUES "
                        "(:g, :id, :m, false, 500, :msg, 'command', :at)"
                    ).bindparams(bindparam("at", type_=UTCDateTime())),
                    {
                        "g": GUILD,
                        "id": rid,
                        "m": member,
                        "msg": 9000 + rid,
                        "at": datetime(2026, 3, 1, int(hour), tzinfo=UTC),
                    },
                )
            for rid, member in [(1, CAROL), (2, CAROL), (2, ALICE)]:  # Carol voted on both
                await connection.execute(
                    text(
                        "INSERT INTO library_votes (guild_id, resource_id, member_id, emoji, "
                        "message_id, voted_at) VALUES (:g, :id, :m, '⭐', 1, '2026-03-01 12:00:00')"
                    ),
                    {"g": GUILD, "id": rid, "m": member},
                )
            for rid, member in [(1, BOB), (2, BOB), (2, CAROL)]:  # Bob saved both
                await connection.execute(
                    text(
                        "INSERT INTO library_saves (resource_id, member_id, guild_id, saved_at) "
                        "VALUES (:id, :m, :g, '2026-03-01 12:00:00')"
                    ),
                    {"g": GUILD, "id": rid, "m": member},
                )
            for rid, tag in [(1, "math"), (2, "math"), (2, "k-12")]:
                await connection.execute(
                    text(
                        "INSERT INTO library_tags (resource_id, tag, guild_id) VALUES (:id, :t, :g)"
                    ),
                    {"g": GUILD, "id": rid, "t": tag},
                )
        assert await migrate_to_head(engine) != []

        async with engine.connect() as connection:
            resources = (
                await connection.execute(
                    text("SELECT id, url, canonical_url FROM library_resources ORDER BY id")
                )
            ).all()
            assert [tuple(r) for r in resources] == [
                (1, "https://example.org/a", "https://example.org/a"),
                (3, "https://other.example/", "https://other.example/"),
            ]

            async def per_member(table: str) -> list[tuple[int, int]]:
                query = (
                    f"SELECT resource_id, member_id FROM {table} ORDER BY resource_id, member_id"
                )
                return [tuple(r) for r in (await connection.execute(text(query))).all()]

            assert await per_member("library_shares") == [(1, ALICE), (1, BOB), (3, CAROL)]
            assert await per_member("library_votes") == [(1, ALICE), (1, CAROL)]
            assert await per_member("library_saves") == [(1, BOB), (1, CAROL)]
            tags = (
                await connection.execute(
                    text("SELECT tag, resources FROM library_tag_counts ORDER BY tag")
                )
            ).all()
            assert [tuple(t) for t in tags] == [("k-12", 1), ("math", 1)]
    finally:
        await engine.dispose()
