"""Feeds end to end: the real bot on the emulator, a real loopback feed server, a FakeClock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from support.feeds import FeedServer, entry
from support.world import MakeWorld, World, text_of

from bot.feeds.opml import parse_opml
from bot.settings import FeedSettings, WebSettings
from discord_emulator import Channel, Message
from discord_emulator.models import ChannelType, Upload

pytestmark = pytest.mark.e2e
HOUR = timedelta(hours=1)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    feed_server = FeedServer()
    await feed_server.start()
    yield feed_server
    await feed_server.close()


async def feed_world(make_world: MakeWorld, database_url: str, **feeds: Any) -> World:
    return await make_world(
        database_url=database_url,
        channels=("reading",),
        web=WebSettings(allow_loopback_for_tests=True),
        feeds=FeedSettings(**feeds),
    )


async def poll(world: World, delta: timedelta = HOUR) -> Any:
    world.clock.advance(delta)
    return await world.bot.services.feed_poller.run_due()


def saved_feeds(world: World) -> list[Message]:
    return [m for m in world.emu.ephemeral_messages(world.mod) if "Following feed #" in m.content]


async def add_feed(world: World, options: dict[str, Any], button: str = "Save") -> Message:
    """/mod feed add, then a click on the preview; returns the outcome."""
    before = len(saved_feeds(world))
    _, preview = await world.followup(world.mod, "mod feed add", options)
    assert preview.ephemeral and preview.embeds, preview.content
    await world.emu.click(world.mod, preview, button)
    return await world.emu.wait_until(
        lambda: saved_feeds(world)[-1] if len(saved_feeds(world)) > before else None
    )


def feed_posts(world: World, channel: Channel) -> list[tuple[str, str]]:
    return [
        (e.get("title", ""), e.get("description", ""))
        for m in world.bot_posts(channel)
        for e in m.embeds
    ]


async def test_a_page_is_followed_nothing_old_is_posted_and_a_new_item_once(
    make_world: MakeWorld, database_url: str, server: FeedServer
) -> None:
    world = await feed_world(make_world, database_url)
    now = world.clock.now()
    server.rss("/feed.xml", "Ada's notes", [entry("1", "An old post", now - 5 * HOUR)])
    page = server.page("/blog", "/feed.xml")

    _, preview = await world.followup(
        world.mod, "mod feed add", {"url": page, "channel": world.channels["reading"]}
    )
    shown = text_of(preview)
    assert "Ada's notes" in shown and "An old post" in shown
    assert "each item its own message" in shown
    await world.emu.click(world.mod, preview, "Save")
    await world.emu.wait_until(
        lambda: (
            any("Following feed #1" in m.content for m in world.emu.ephemeral_messages(world.mod))
            or None
        )
    )
    reading = world.channels["reading"]
    report = await poll(world)
    assert report.not_modified == 1 and report.parsed == 0
    assert world.bot_posts(reading) == []

    server.rss(
        "/feed.xml",
        "Ada's notes",
        [
            entry(
                "2",
                "Retrieval practice @everyone",
                now,
                "<p>Test <b>yourself</b> <@123456789012345678>, often.</p>",
            ),
            entry("1", "An old post", now - 5 * HOUR),
        ],
    )
    await poll(world)
    posts = world.bot_posts(reading)
    assert len(posts) == 1
    title, description = feed_posts(world, reading)[0]
    assert title == "Retrieval practice @everyone"
    assert (
        "Test yourself" in description
        and "<b>" not in description
        and "<@123456789012345678>" not in description
    )
    assert not posts[0].mention_everyone and posts[0].mentions == []

    reply = await world.run(world.alice, "search", {"query": "retrieval practice"})
    assert "Retrieval practice" in text_of(reply)

    await world.restart()
    await poll(world)
    assert len(world.bot_posts(reading)) == 1
    listing = await world.run(world.alice, "feed list")
    listed = text_of(listing)
    assert "Ada's notes" in listed and "ok" in listed and "1 item posted" in listed


async def test_thread_mode_opens_a_thread_and_a_forum_gets_forum_posts(
    make_world: MakeWorld, database_url: str, server: FeedServer
) -> None:
    world = await feed_world(make_world, database_url)
    forum = world.emu.create_channel(world.guild, "videos", type=ChannelType.GUILD_FORUM)
    now = world.clock.now()
    server.rss("/a.xml", "Thread blog", [])
    server.atom("/b.xml", "Forum blog", [])
    await add_feed(world, {"url": server.url("/a.xml"), "mode": "thread"})
    await add_feed(world, {"url": server.url("/b.xml"), "channel": forum})
    server.rss("/a.xml", "Thread blog", [entry("t1", "Let's discuss", now)])
    server.atom("/b.xml", "Forum blog", [entry("f1", "A forum item", now)])
    await poll(world)
    assert [t for t, _ in feed_posts(world, world.general)] == ["Let's discuss"]
    assert [t.name for t in world.threads(world.general)] == ["Let's discuss"]
    assert [t.name for t in world.threads(forum)] == ["A forum item"]


async def test_save_and_post_the_newest_posts_it_at_once(
    make_world: MakeWorld, database_url: str, server: FeedServer
) -> None:
    world = await feed_world(make_world, database_url)
    now = world.clock.now()
    server.rss(
        "/n.xml", "Newest", [entry("2", "The latest", now), entry("1", "Before", now - HOUR)]
    )
    outcome = await add_feed(world, {"url": server.url("/n.xml")}, "Save and post the newest")
    assert "being posted now" in outcome.content
    await world.emu.wait_until(lambda: world.bot_posts(world.general) or None)
    assert [t for t, _ in feed_posts(world, world.general)] == ["The latest"]
    await poll(world)
    assert len(world.bot_posts(world.general)) == 1


async def test_digest_mode_posts_one_daily_message(
    make_world: MakeWorld, database_url: str, server: FeedServer
) -> None:
    world = await feed_world(make_world, database_url)
    now = world.clock.now()  # Monday 12:00 UTC
    server.rss("/d.xml", "Daily", [])
    await add_feed(world, {"url": server.url("/d.xml"), "mode": "digest", "digest_time": "13:00"})
    # The server moves to Paris (UTC+1 in March): the digest follows, 13:00 there is 12:00 UTC.
    await world.run(world.mod, "mod settings", {"timezone": "Europe/Paris"})
    await world.eventually(lambda: _digest_at(world, now + timedelta(days=1)))
    server.rss(
        "/d.xml", "Daily", [entry("1", "Morning read", now), entry("2", "Noon read", now + HOUR)]
    )
    await poll(world)
    assert world.bot_posts(world.general) == []
    await world.tick_to(now + timedelta(days=1))
    posts = world.bot_posts(world.general)
    assert len(posts) == 1
    text = text_of(posts[0])
    assert "Daily: 2 new items" in text and "Morning read" in text and "Noon read" in text
    await world.tick(timedelta(days=1))
    assert len(world.bot_posts(world.general)) == 1  # nothing new: no empty digest


async def _digest_at(world: World, instant: Any) -> bool:
    schedules = await world.bot.services.scheduling.schedules.for_guild(world.guild.id)
    return any(s.kind == "feeds.digest" and s.next_run_at == instant for s in schedules)


async def test_a_failing_feed_warns_is_disabled_and_retry_revives_it(
    make_world: MakeWorld, database_url: str, server: FeedServer
) -> None:
    world = await feed_world(make_world, database_url, disable_after_failures=4)
    server.rss("/f.xml", "Fragile", [])
    await add_feed(world, {"url": server.url("/f.xml")})
    server.fail("/f.xml", 503, retry_after="60")
    service = world.bot.services.feeds
    for _ in range(4):
        info = (await service.for_guild(world.guild.id))[0]
        assert info.next_check_at is not None
        world.clock.set(info.next_check_at)
        await world.bot.services.feed_poller.run_due()
    log = [m.content for m in world.bot_posts(world.log)]
    assert len(log) == 2
    assert "failed 3 checks" in log[0] and "HTTP 503" in log[0]
    assert "disabled" in log[1] and "/mod feed retry 1" in log[1]
    listed = text_of(await world.run(world.alice, "feed list"))
    assert "disabled" in listed

    server.rss("/f.xml", "Fragile", [])
    _, answer = await world.followup(world.mod, "mod feed retry", {"id": 1})
    assert "ok" in answer.content
    assert "works again" in world.bot_posts(world.log)[-1].content


async def test_opml_import_adds_feeds_and_export_parses_back(
    make_world: MakeWorld, database_url: str, server: FeedServer
) -> None:
    world = await feed_world(make_world, database_url, max_feeds_per_guild=2)
    for n in range(3):
        server.rss(
            f"/f{n}.xml", f"Feed {n}", [entry("old", f"Archive {n}", world.clock.now() - HOUR)]
        )
    opml = (
        '<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>'
        + "".join(
            f'<outline text="Feed {n}" xmlUrl="{server.url(f"/f{n}.xml")}"/>' for n in range(3)
        )
        + "</body></opml>"
    ).encode()
    _, preview = await world.followup(
        world.mod, "mod feed import", {"file": Upload("feeds.opml", opml, "text/xml")}
    )
    assert (
        "Import 2 feeds" in preview.content and "Over this server's feed limit" in preview.content
    )
    await world.emu.click(world.mod, preview, "Save")
    await world.emu.wait_until(
        lambda: (
            any(
                "Following 2 more feeds" in m.content
                for m in world.emu.ephemeral_messages(world.mod)
            )
            or None
        )
    )
    await poll(world)
    assert world.bot_posts(world.general) == []  # imported: their archives are not posted
    _, exported = await world.followup(world.mod, "mod feed export")
    outlines = parse_opml(world.emu.attachment_bytes(exported))
    assert [o.url for o in outlines] == [server.url("/f0.xml"), server.url("/f1.xml")]


async def test_private_addresses_and_pages_without_feeds_are_refused(
    make_world: MakeWorld, database_url: str, server: FeedServer
) -> None:
    world = await feed_world(make_world, database_url)
    server.serve("/nothing", "<html><head><title>No feed</title></head></html>", "text/html")
    for url, why in (
        ("http://10.1.2.3/feed.xml", "may not fetch"),
        ("http://127.0.0.5/feed.xml", "may not fetch"),
        (server.url("/nothing"), "links no feed"),
    ):
        _, answer = await world.followup(world.mod, "mod feed add", {"url": url})
        assert why in answer.content and answer.ephemeral
    assert await world.bot.services.feeds.for_guild(world.guild.id) == []


async def test_a_member_suggests_a_feed_and_a_moderator_approves_it(
    make_world: MakeWorld, database_url: str, server: FeedServer
) -> None:
    world = await feed_world(make_world, database_url)
    server.rss("/s.xml", "Suggested", [])
    reply = await world.run(
        world.alice, "feed suggest", {"url": server.url("/s.xml"), "why": "Great explanations"}
    )
    assert "went to the moderators" in reply.content
    card = world.bot_posts(world.log)[-1]
    assert "suggests a feed" in card.content
    await world.emu.click(world.mod, card, "Approve")
    feeds = await world.eventually(lambda: world.bot.services.feeds.for_guild(world.guild.id))
    assert [f.title for f in feeds] == ["Suggested"] and feeds[0].channel_id == world.general.id


async def test_each_server_sees_only_its_own_feeds(
    make_world: MakeWorld, database_url: str, server: FeedServer
) -> None:
    world = await feed_world(make_world, database_url)
    server.rss("/mine.xml", "Mine", [])
    await add_feed(world, {"url": server.url("/mine.xml")})
    other = world.emu.create_guild("Elsewhere")
    general = world.emu.create_channel(other, "general")
    stranger = world.emu.create_member(other, "stranger")
    await world.emu.wait_until(lambda: world.bot.get_guild(other.id))
    interaction = await world.emu.invoke(stranger, "feed list", channel=general)
    listing = await world.emu.wait_for_response(interaction)
    assert "Mine" not in text_of(listing) and "no feeds" in text_of(listing)


@pytest.mark.parametrize("reached_discord", [False, True], ids=["lost", "delivered"])
async def test_an_item_cut_off_mid_post_by_a_crash_appears_exactly_once_after_a_restart(
    make_world: MakeWorld, database_url: str, server: FeedServer, reached_discord: bool
) -> None:
    world = await feed_world(make_world, database_url)
    now = world.clock.now()
    server.rss("/c.xml", "Crashy", [])
    await add_feed(world, {"url": server.url("/c.xml")})
    server.rss("/c.xml", "Crashy", [entry("1", "Survives the crash", now)])
    stall = world.emu.faults.stall(
        "POST", "/channels/{channel_id}/messages", after_handler=reached_discord
    )
    world.clock.advance(HOUR)
    checking = asyncio.create_task(world.bot.services.feed_poller.run_due())
    await stall.wait()  # the item is claimed and its post is on its way
    checking.cancel()
    await asyncio.gather(checking, return_exceptions=True)
    stall.drop()
    before = [m.id for m in world.bot_posts(world.general)]
    assert len(before) == (1 if reached_discord else 0)

    await world.restart(timedelta(minutes=11))  # past the lease, and Discord's nonce window
    await poll(world)
    posts = world.bot_posts(world.general)
    assert [t for t, _ in feed_posts(world, world.general)] == ["Survives the crash"]
    if reached_discord:
        assert posts[0].id == before[0]  # found on Discord, not posted again
    await poll(world)
    assert len(world.bot_posts(world.general)) == 1


async def test_a_moderator_edits_pauses_resumes_and_removes_a_feed(
    make_world: MakeWorld, database_url: str, server: FeedServer
) -> None:
    world = await feed_world(make_world, database_url)
    now = world.clock.now()
    server.rss("/e.xml", "Editable", [])
    await add_feed(world, {"url": server.url("/e.xml")})
    _, edited = await world.followup(
        world.mod,
        "mod feed edit",
        {"id": 1, "channel": world.channels["reading"], "filter": "chess", "tags": "games"},
    )
    shown = text_of(edited)
    assert "chess" in shown and "`games`" in shown and str(world.channels["reading"].id) in shown
    paused = await world.run(world.mod, "mod feed pause", {"id": 1})
    assert "is paused" in paused.content
    server.rss(
        "/e.xml", "Editable", [entry("1", "Chess openings", now), entry("2", "Cooking", now)]
    )
    assert (await poll(world)).checked == 0
    assert "paused" in text_of(await world.run(world.alice, "feed list"))
    await world.run(world.mod, "mod feed resume", {"id": 1})
    await poll(world)
    assert [t for t, _ in feed_posts(world, world.channels["reading"])] == ["Chess openings"]
    [resource] = await world.bot.services.library.search(world.guild.id, "chess")
    assert resource.tags == ("games",)
    info = await world.run(world.mod, "mod feed info", {"id": 1})
    assert "1 item posted" in text_of(info)
    _, removed = await world.followup(world.mod, "mod feed remove", {"id": 1})
    assert "no longer followed" in removed.content
    assert "no feeds" in text_of(await world.run(world.alice, "feed list"))
    # A member may not use the moderators' commands.
    refused = await world.run(
        world.alice, "mod feed pause", {"id": 1}, bypass_default_permissions=True
    )
    assert refused.ephemeral and "moderator" in refused.content.lower()


async def test_a_feed_for_a_topic_posts_in_its_channel_with_its_tags(
    make_world: MakeWorld, database_url: str, server: FeedServer
) -> None:
    world = await feed_world(make_world, database_url)
    reply = await world.run(world.mod, "mod topic create", {"name": "Maths", "tags": "math"})
    assert "Maths" in reply.content, reply.content
    maths = world.channel_named("maths")
    assert maths is not None
    now = world.clock.now()
    server.rss("/m.xml", "Numberphile notes", [])
    outcome = await add_feed(
        world, {"url": server.url("/m.xml"), "topic": "Maths", "tags": "video"}
    )
    assert str(maths.id) in outcome.content
    server.rss("/m.xml", "Numberphile notes", [entry("1", "Primes, visually", now)])
    await poll(world)
    assert [t for t, _ in feed_posts(world, maths)] == ["Primes, visually"]
    [resource] = await world.bot.services.library.search(world.guild.id, "primes")
    assert resource.tags == ("math", "video")
