"""Feeds on both backends, against a real loopback feed server: adding, checking, health, limits,
exactly-once posting across processes and crashes, OPML, per-guild isolation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from support.feeds import FeedServer, entry

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.feeds.discovery import Discovery
from bot.feeds.models import Feed, FeedItem
from bot.feeds.opml import parse_opml, write_opml
from bot.feeds.poller import FeedPoller
from bot.feeds.records import DeliveryBroken, FeedInfo, Posted
from bot.feeds.service import FeedService
from bot.library.service import LibraryService
from bot.scheduling import OutboxScope, Outgoing, SchedulingCore
from bot.settings import FeedSettings, WebSettings
from bot.topics.service import TopicService
from bot.web.fetcher import SafeFetcher

GUILD, OTHER = 1, 2
CHANNEL = 500
HOUR = timedelta(hours=1)


class FakeDeliverer:
    """Posts through the outbox like the Discord side, and remembers what it posted."""

    def __init__(self, first_id: int = 1000) -> None:
        self.posts: list[tuple[int, str]] = []
        self.digests: list[list[str]] = []
        self.broken: str | None = None
        self._next = first_id

    def _send(self, record: Any) -> Any:
        async def send(_nonce: str) -> int:
            record()
            self._next += 1
            return self._next

        return send

    async def item(
        self, feed: FeedInfo, payload: dict[str, Any], scope: OutboxScope, part: str
    ) -> Posted:
        if self.broken:
            raise DeliveryBroken(self.broken)
        title = str(payload["title"]) + (f" +{payload['more']}" if payload.get("more") else "")
        send = self._send(lambda: self.posts.append((feed.id, title)))
        sent = await scope.once(part, Outgoing("message", feed.channel_id, part, send))
        return Posted(feed.channel_id, sent.id, 99)

    async def digest(
        self, feed: FeedInfo, payloads: list[dict[str, Any]], scope: OutboxScope, keys: list[str]
    ) -> Posted:
        titles = [str(p["title"]) for p in payloads]
        send = self._send(lambda: self.digests.append(titles))
        outgoing = Outgoing("message", feed.channel_id, "digest", send, {"keys": keys})
        sent = await scope.once("digest", outgoing)
        return Posted(feed.channel_id, sent.id, 99)


@dataclass
class Rig:
    service: FeedService
    poller: FeedPoller
    library: LibraryService
    deliverer: FakeDeliverer
    server: FeedServer
    clock: FakeClock
    sessions: SessionFactory
    fetcher: SafeFetcher
    core: SchedulingCore
    reports: list[tuple[int, str]] = field(default_factory=list)
    deliverers: list[FakeDeliverer] = field(default_factory=list)

    def second_poller(self, owner: str) -> tuple[FeedPoller, FakeDeliverer]:
        poller = self.make_poller(owner)
        deliverer = FakeDeliverer(first_id=len(self.deliverers) * 100_000)
        self.deliverers.append(deliverer)
        poller.deliverer = deliverer
        return poller, deliverer

    def make_poller(self, owner: str) -> FeedPoller:
        return FeedPoller(
            self.sessions,
            self.clock,
            self.service.settings,
            self.service.discovery,
            self.library,
            TopicService(self.sessions, self.clock),
            self.core.outbox,
            report=self.report,
            owner=owner,
        )

    async def report(self, guild_id: int, text: str) -> None:
        self.reports.append((guild_id, text))

    async def add(self, url: str, guild_id: int = GUILD, **kw: Any) -> FeedInfo:
        fetched = await self.service.preview(url)
        return await self.service.add(guild_id, "g", 7, fetched, channel_id=CHANNEL, **kw)

    async def items(self, feed_id: int) -> dict[str, str]:
        async with self.sessions() as session:
            rows = await session.scalars(select(FeedItem).where(FeedItem.feed_id == feed_id))
            return {str(r.payload["title"]): r.state for r in rows.all()}


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    feed_server = FeedServer()
    await feed_server.start()
    yield feed_server
    await feed_server.close()


def _rig(sessions: SessionFactory, clock: FakeClock, server: FeedServer, **settings: Any) -> Rig:
    fetcher = SafeFetcher(WebSettings(allow_loopback_for_tests=True))
    # Parsing in a thread here; the stories (and one test below) use the worker process.
    feed_settings = FeedSettings(**{"parse_in_subprocess": False, **settings})
    discovery = Discovery(
        fetcher,
        feed_settings,
        youtube_origin=settings.get("youtube_origin", "https://www.youtube.com"),
    )
    core = SchedulingCore(sessions, clock, None, guild_visible=lambda _g: True, report=None)  # type: ignore[arg-type]
    library = LibraryService(sessions, clock)
    service = FeedService(sessions, clock, feed_settings, discovery, core)
    rig = Rig(
        service,
        None,  # type: ignore[arg-type]
        library,
        FakeDeliverer(),
        server,
        clock,
        sessions,
        fetcher,
        core,
    )
    rig.poller = rig.make_poller("first")
    rig.poller.deliverer = rig.deliverer
    return rig


MakeRig = Callable[..., Rig]


@pytest.fixture
async def make_rig() -> AsyncIterator[MakeRig]:
    made: list[Rig] = []

    def make(sessions: SessionFactory, clock: FakeClock, server: FeedServer, **kw: Any) -> Rig:
        made.append(_rig(sessions, clock, server, **kw))
        return made[-1]

    yield make
    for rig in made:
        await rig.fetcher.close()
        rig.poller.parsers.close()


@pytest.fixture
def rig(sessions: SessionFactory, clock: FakeClock, server: FeedServer, make_rig: MakeRig) -> Rig:
    return make_rig(sessions, clock, server)


@pytest.fixture
def rig_with_worker(
    sessions: SessionFactory, clock: FakeClock, server: FeedServer, make_rig: MakeRig
) -> Rig:
    return make_rig(sessions, clock, server, parse_in_subprocess=True)


async def test_a_page_leads_to_its_feed_and_nothing_old_is_posted(rig: Rig) -> None:
    now = rig.clock.now()
    rig.server.rss("/feed.xml", "Ada's blog", [entry("1", "Old news", now - 3 * HOUR)])
    page = rig.server.page("/", "/feed.xml")

    feed = await rig.add(page)
    assert feed.url == rig.server.url("/feed.xml")
    assert feed.title == "Ada's blog"
    assert await rig.items(feed.id) == {"Old news": "seen"}

    rig.clock.advance(HOUR)
    report = await rig.poller.run_due()
    assert report.checked == 1 and rig.deliverer.posts == []
    # An unchanged feed answers 304: nothing is parsed.
    assert report.not_modified == 1 and report.parsed == 0
    assert rig.server.not_modified["/feed.xml"] == 1
    assert set(rig.server.user_agents) == {FeedSettings().user_agent}


async def test_a_new_item_is_posted_once_and_filed_in_the_library(rig_with_worker: Rig) -> None:
    rig = rig_with_worker
    now = rig.clock.now()
    rig.server.rss("/feed.xml", "Blog", [entry("1", "Old", now - HOUR)])
    feed = await rig.add(rig.server.url("/feed.xml"), tags=["reading"])
    rig.server.rss(
        "/feed.xml",
        "Blog",
        [
            entry("2", "Spaced repetition works", now, "<p>A <b>study</b> <script>x</script></p>"),
            entry("1", "Old", now - HOUR),
        ],
    )
    rig.clock.advance(HOUR)
    first = await rig.poller.run_due()
    assert first.parsed == 1 and first.posted == 1
    assert rig.deliverer.posts == [(feed.id, "Spaced repetition works")]

    found = await rig.library.search(GUILD, "spaced repetition")
    assert [r.title for r in found] == ["Spaced repetition works"]
    assert found[0].tags == ("reading",)

    # Reordered and re-fetched: still posted once.
    rig.server.rss(
        "/feed.xml",
        "Blog",
        [entry("1", "Old", now - HOUR), entry("2", "Spaced repetition works", now)],
    )
    rig.clock.advance(HOUR)
    await rig.poller.run_due()
    assert len(rig.deliverer.posts) == 1
    info = await rig.service.get(GUILD, feed.id)
    assert info.items_posted == 1 and info.last_item_at is not None


async def test_limits_filters_age_and_the_more_line(
    sessions: SessionFactory, clock: FakeClock, server: FeedServer, make_rig: MakeRig
) -> None:
    rig = make_rig(sessions, clock, server, max_items_per_check=2, max_item_age_days=7)
    now = clock.now()
    server.rss("/f.xml", "F", [])
    feed = await rig.add(server.url("/f.xml"), filter='python -sponsored "machine learning"')
    server.rss(
        "/f.xml",
        "F",
        [
            entry("a", "Python tips", now - timedelta(minutes=1)),
            entry("b", "Python, sponsored", now - timedelta(minutes=2)),
            entry("c", "Gardening", now - timedelta(minutes=3)),
            entry("d", "Machine Learning basics", now - timedelta(minutes=4)),
            entry("e", "Python old", now - timedelta(days=9)),
            entry("f", "Python again", now - timedelta(minutes=5)),
        ],
    )
    clock.advance(HOUR)
    await rig.poller.run_due()
    # Newest two wanted items, oldest first; "and 1 more" on the newest.
    assert rig.deliverer.posts == [
        (feed.id, "Machine Learning basics"),
        (feed.id, "Python tips +1"),
    ]
    states = await rig.items(feed.id)
    assert states["Python, sponsored"] == states["Gardening"] == states["Python old"] == "skipped"
    assert states["Python again"] == "skipped"


async def test_failures_back_off_warn_once_disable_and_retry_revives(
    sessions: SessionFactory, clock: FakeClock, server: FeedServer, make_rig: MakeRig
) -> None:
    rig = make_rig(sessions, clock, server, disable_after_failures=5)
    server.rss("/f.xml", "Flaky", [])
    feed = await rig.add(server.url("/f.xml"))
    server.fail("/f.xml", 500)
    waits = []
    for _ in range(5):
        info = await rig.service.get(GUILD, feed.id)
        assert info.next_check_at is not None
        clock.set(info.next_check_at)
        before = clock.now()
        await rig.poller.run_due()
        after = await rig.service.get(GUILD, feed.id)
        if after.next_check_at:
            waits.append(after.next_check_at - before)
    info = await rig.service.get(GUILD, feed.id)
    assert info.state == "disabled" and "HTTP 500" in (info.disabled_reason or "")
    assert waits[1] > waits[0] * 1.5 and waits[2] > waits[1] * 1.5  # exponential
    texts = [text for _, text in rig.reports]
    assert len(texts) == 2
    assert "failed 3 checks" in texts[0] and "disabled" in texts[1]
    assert "/mod feed retry" in texts[1]
    # Disabled: never checked again on its own.
    clock.advance(timedelta(days=30))
    hits = server.hits["/f.xml"]
    await rig.poller.run_due()
    assert server.hits["/f.xml"] == hits

    server.rss("/f.xml", "Flaky", [])
    await rig.service.retry(GUILD, feed.id)
    await rig.poller.check_now(GUILD, feed.id)
    info = await rig.service.get(GUILD, feed.id)
    assert info.state == "ok" and info.failures == 0
    assert "works again" in rig.reports[-1][1]


async def test_retry_after_and_max_age_are_honoured(rig: Rig) -> None:
    rig.server.rss("/f.xml", "F", [])
    feed = await rig.add(rig.server.url("/f.xml"))
    rig.server.fail("/f.xml", 429, retry_after="7200")
    rig.clock.advance(HOUR)
    await rig.poller.run_due()
    info = await rig.service.get(GUILD, feed.id)
    assert info.next_check_at is not None
    assert info.next_check_at - rig.clock.now() >= timedelta(seconds=7200)

    rig.server.rss("/f.xml", "F", [], headers={"Cache-Control": "max-age=14400"})
    rig.clock.set(info.next_check_at)
    await rig.poller.run_due()
    info = await rig.service.get(GUILD, feed.id)
    assert info.state == "ok" and info.next_check_at is not None
    assert info.next_check_at - rig.clock.now() >= timedelta(hours=4)


async def test_two_processes_post_each_item_once(rig: Rig) -> None:
    now = rig.clock.now()
    urls = []
    for n in range(6):
        rig.server.rss(f"/f{n}.xml", f"F{n}", [])
        urls.append(rig.server.url(f"/f{n}.xml"))
    for url in urls:
        await rig.add(url)
    for n in range(6):
        rig.server.rss(
            f"/f{n}.xml",
            f"F{n}",
            [
                entry(f"x{n}", f"New {n}", now),
                entry(f"y{n}", f"Newer {n}", now + timedelta(seconds=1)),
            ],
        )
    other, other_deliverer = rig.second_poller("second")
    rig.clock.advance(HOUR)
    await asyncio.gather(rig.poller.run_due(), other.run_due(), rig.poller.run_due())
    posted = rig.deliverer.posts + other_deliverer.posts
    assert sorted(title for _, title in posted) == sorted(
        [f"New {n}" for n in range(6)] + [f"Newer {n}" for n in range(6)]
    )
    assert sum(rig.server.hits[f"/f{n}.xml"] for n in range(6)) == 12  # add + one check each


async def test_a_crash_between_claim_and_post_is_finished_once(rig: Rig) -> None:
    now = rig.clock.now()
    rig.server.rss("/f.xml", "F", [])
    feed = await rig.add(rig.server.url("/f.xml"))
    rig.server.rss("/f.xml", "F", [entry("n", "Fresh", now)])
    rig.deliverer.broken = "the channel is gone"
    rig.clock.advance(HOUR)
    report = await rig.poller.run_due()
    assert report.failed == 1 and (await rig.items(feed.id)) == {"Fresh": "claimed"}

    # The next process (a restart) finishes it, once, though the feed now answers 304.
    rig.deliverer.broken = None
    restarted, deliverer = rig.second_poller("restarted")
    info = await rig.service.get(GUILD, feed.id)
    assert info.next_check_at is not None
    rig.clock.set(info.next_check_at)
    await restarted.run_due()
    assert deliverer.posts == [(feed.id, "Fresh")]
    rig.clock.advance(timedelta(days=1))
    await restarted.run_due()
    assert deliverer.posts == [(feed.id, "Fresh")]


async def test_post_the_newest_now_and_limits_per_guild(
    sessions: SessionFactory, clock: FakeClock, server: FeedServer, make_rig: MakeRig
) -> None:
    rig = make_rig(sessions, clock, server, max_feeds_per_guild=2)
    now = clock.now()
    for n in range(3):
        server.rss(
            f"/f{n}.xml", f"F{n}", [entry("a", f"Top {n}", now), entry("b", "Older", now - HOUR)]
        )
    first = await rig.add(server.url("/f0.xml"), post_newest=True)
    await rig.poller.check_now(GUILD, first.id)
    assert rig.deliverer.posts == [(first.id, "Top 0")]
    await rig.add(server.url("/f1.xml"))
    with pytest.raises(UserFacingError, match="at most 2 feeds"):
        await rig.add(server.url("/f2.xml"))
    with pytest.raises(UserFacingError, match="already follows"):
        await rig.add(server.url("/f0.xml"))
    # Another guild has its own limit and sees nothing of this one.
    other = await rig.add(server.url("/f2.xml"), guild_id=OTHER)
    assert [f.id for f in await rig.service.for_guild(OTHER)] == [other.id]
    with pytest.raises(UserFacingError, match="no feed"):
        await rig.service.get(OTHER, first.id)
    with pytest.raises(UserFacingError, match="no feed"):
        await rig.service.remove(OTHER, first.id)


async def test_what_is_not_a_feed_or_not_public_is_refused(rig: Rig) -> None:
    rig.server.serve("/plain", "<html><head><title>x</title></head></html>", "text/html")
    with pytest.raises(UserFacingError, match="not a feed"):
        await rig.service.preview(rig.server.url("/plain"))
    for private in ("http://10.0.0.1/feed.xml", "http://[::1]/feed", "http://127.0.0.2/f"):
        with pytest.raises(UserFacingError, match="may not fetch"):
            await rig.service.preview(private)
    strict = SafeFetcher(WebSettings())
    discovery = Discovery(strict, FeedSettings())
    with pytest.raises(UserFacingError, match="may not fetch"):
        await discovery.resolve(rig.server.url("/plain"))
    await strict.close()


async def test_youtube_channel_forms_resolve_to_the_channel_feed(
    sessions: SessionFactory, clock: FakeClock, server: FeedServer, make_rig: MakeRig
) -> None:
    youtube = FeedServer()
    await youtube.start()
    channel = "UC" + "a" * 22
    youtube.serve(
        "/@learnwithme",
        f'<html><head><meta itemprop="channelId" content="{channel}"></head></html>',
        "text/html",
    )
    youtube.atom(
        f"/feeds/videos.xml?channel_id={channel}",
        "Learn with me",
        [
            entry("yt:1", "A long video", clock.now(), link=youtube.url("/watch?v=1")),
            entry("yt:2", "Quick tip #shorts", clock.now(), link=youtube.url("/shorts/2")),
        ],
    )
    youtube.atom("/feeds/videos.xml?playlist_id=PL123", "A playlist", [])
    rig = make_rig(sessions, clock, server, youtube_origin=youtube.origin)
    for url in (youtube.url("/@learnwithme"), youtube.url(f"/channel/{channel}")):
        fetched = await rig.service.preview(url)
        assert fetched.url == youtube.url(f"/feeds/videos.xml?channel_id={channel}")
        assert fetched.youtube and fetched.feed.title == "Learn with me"
    playlist = await rig.service.preview(youtube.url("/playlist?list=PL123"))
    assert playlist.feed.title == "A playlist"
    assert [i.is_short for i in fetched.feed.items] == [False, True]
    await youtube.close()


async def test_opml_import_skips_known_and_over_limit_and_posts_nothing_old(
    sessions: SessionFactory, clock: FakeClock, server: FeedServer, make_rig: MakeRig
) -> None:
    rig = make_rig(sessions, clock, server, max_feeds_per_guild=3)
    now = clock.now()
    for n in range(4):
        server.rss(f"/f{n}.xml", f"F{n}", [entry("a", f"Archive {n}", now - HOUR)])
    await rig.add(server.url("/f0.xml"))
    opml = (
        '<?xml version="1.0"?><opml version="1.0"><head/><body><outline text="folder">'
        + "".join(
            f'<outline type="rss" text="Feed {n}" xmlUrl="{server.url(f"/f{n}.xml")}"/>'
            for n in range(4)
        )
        + "</outline></body></opml>"
    ).encode()
    plan = await rig.service.plan_import(GUILD, parse_opml(opml))
    assert [o.title for o in plan.new] == ["Feed 1", "Feed 2"]
    assert [o.title for o in plan.known] == ["Feed 0"]
    assert [o.title for o in plan.over_limit] == ["Feed 3"]
    added = await rig.service.import_feeds(GUILD, "g", 7, plan, channel_id=CHANNEL)
    assert len(added) == 2
    clock.advance(HOUR)
    await rig.poller.run_due()
    assert rig.deliverer.posts == []  # the first check of an imported feed only records
    server.rss(
        "/f1.xml", "F1", [entry("b", "Brand new", clock.now()), entry("a", "Archive 1", now - HOUR)]
    )
    clock.advance(HOUR)
    await rig.poller.run_due()
    assert [t for _, t in rig.deliverer.posts] == ["Brand new"]

    feeds = await rig.service.for_guild(GUILD)
    from bot.feeds.opml import Outline

    exported = write_opml("PLN", [Outline(f.url, f.title) for f in feeds], now)
    assert [o.url for o in parse_opml(exported)] == [f.url for f in feeds]


def test_opml_refuses_what_is_not_opml_and_entity_bombs() -> None:
    with pytest.raises(UserFacingError, match="not OPML"):
        parse_opml(b"not xml at all <")
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b'<opml><body><outline xmlUrl="http://x.example/&lol2;"/></body></opml>'
    )
    with pytest.raises(UserFacingError):
        parse_opml(bomb)


async def test_digest_items_wait_for_the_daily_message(rig: Rig) -> None:
    now = rig.clock.now()
    rig.server.rss("/f.xml", "F", [])
    feed = await rig.add(rig.server.url("/f.xml"), mode="digest", digest_time="18:00")
    rig.server.rss(
        "/f.xml", "F", [entry("1", "One", now), entry("2", "Two", now + timedelta(seconds=5))]
    )
    rig.clock.advance(HOUR)
    await rig.poller.run_due()
    assert rig.deliverer.posts == [] and (await rig.items(feed.id)) == {
        "One": "digest",
        "Two": "digest",
    }
    scope = rig.core.outbox.scope(GUILD, "run:1")
    assert await rig.poller.post_digest(GUILD, feed.id, scope) == 2
    assert rig.deliverer.digests == [["One", "Two"]]
    assert await rig.poller.post_digest(GUILD, feed.id, scope) == 2  # the same run again
    assert rig.deliverer.digests == [["One", "Two"]]  # ... posts nothing twice
    schedules = await rig.core.schedules.for_guild(GUILD)
    assert [s.kind for s in schedules] == ["feeds.digest"]

    # Back to posting: what waits for a digest is posted at the next check; no schedule left.
    rig.server.rss("/f.xml", "F", [entry("3", "Three", now + timedelta(seconds=9))])
    rig.clock.advance(HOUR)
    await rig.poller.run_due()
    await rig.service.edit(GUILD, "g", 7, feed.id, mode="post")
    assert await rig.core.schedules.for_guild(GUILD) == []
    await rig.poller.run_due()
    assert [title for _, title in rig.deliverer.posts] == ["Three"]


async def test_a_lease_held_elsewhere_is_respected(rig: Rig) -> None:
    rig.server.rss("/f.xml", "F", [])
    feed = await rig.add(rig.server.url("/f.xml"))
    rig.clock.advance(HOUR)
    async with rig.sessions() as session, session.begin():
        await session.execute(
            update(Feed)
            .where(Feed.id == feed.id)
            .values(lease_owner="other", lease_until=rig.clock.now() + HOUR)
        )
    report = await rig.poller.run_due()
    assert report.checked == 0
    rig.clock.advance(2 * HOUR)  # the other process died: its lease runs out
    report = await rig.poller.run_due()
    assert report.checked == 1
