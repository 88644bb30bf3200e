"""Every page of a published library, as a reader's browser or feed reader gets it."""

from __future__ import annotations

import re
from datetime import timedelta

import feedparser
from support.webui import (
    ALICE,
    BASE_URL,
    BOB,
    CHANNEL,
    GUILD,
    GUILD_NAMES,
    MOD,
    OTHER_GUILD,
    Web,
    serve_site,
)

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.webui.server import CSP


async def share(web: Web, url: str, *, by: int = ALICE, guild: int = GUILD, **kw: object) -> int:
    result = await web.library.share(guild, CHANNEL, by, url, guild_name=GUILD_NAMES[guild], **kw)  # type: ignore[arg-type]
    web.clock.advance(timedelta(minutes=5))
    return result.resource.id


def titles_in(html: str) -> list[str]:
    return re.findall(r'<h3><a href="[^"]*/r/\d+">([^<]*)</a></h3>', html)


async def test_the_library_page_lists_the_newest_first_and_pages_on(web: Web) -> None:
    for n in range(30):
        await share(web, f"https://example.com/{n}", title=f"Article {n}", tags="math")
    pub = await web.publish()

    status, html, response = await web.get(web.path(pub))
    assert status == 200
    assert titles_in(html)[:3] == ["Article 29", "Article 28", "Article 27"]
    assert len(titles_in(html)) == 25
    assert 'href="/g/' + pub.slug + '/?page=2"' in html
    assert response.headers["Content-Security-Policy"] == CSP
    assert "script" not in CSP

    status, html, _ = await web.get(web.path(pub, "?page=2"))
    assert status == 200 and titles_in(html) == [f"Article {n}" for n in range(4, -1, -1)]
    status, _, _ = await web.get(web.path(pub, "?page=3"))
    assert status == 404


async def test_nothing_is_public_until_published_and_unpublishing_takes_every_page_down(
    web: Web,
) -> None:
    resource_id = await share(web, "https://example.com/a", title="A", tags="math")
    pub = await web.publish()
    pages = ["", "search?q=a", "tags", "tag/math", f"r/{resource_id}", "recaps", "feed.atom"]
    pages += ["tag/math/feed.atom", "recaps/feed.atom"]
    for page in pages:
        status, _, _ = await web.get(web.path(pub, page))
        assert status == 200, page

    await web.publishing.publish(GUILD, "Maple PLN", ALICE, published=False, include_names=False)
    for page in pages:
        status, html, _ = await web.get(web.path(pub, page))
        assert status == 404, page
        assert "A</a>" not in html
    status, _, _ = await web.get(f"{web.origin}/g/not-a-slug/")
    assert status == 404

    again = await web.publish()
    assert again.slug == pub.slug  # readers' bookmarks and feeds keep working


async def test_another_guilds_resource_and_a_removed_one_are_not_found(web: Web) -> None:
    ours = await share(web, "https://example.com/ours", title="Ours")
    theirs = await share(web, "https://example.com/theirs", title="Theirs", guild=OTHER_GUILD)
    pub = await web.publish()
    await web.publish(OTHER_GUILD)

    status, html, _ = await web.get(web.path(pub, f"r/{ours}"))
    assert status == 200 and "Ours" in html
    status, _, _ = await web.get(web.path(pub, f"r/{theirs}"))
    assert status == 404
    _, html, _ = await web.get(web.path(pub))
    assert "Theirs" not in html

    await web.library.remove(GUILD, ours, ALICE)
    status, _, _ = await web.get(web.path(pub, f"r/{ours}"))
    assert status == 404
    _, html, _ = await web.get(web.path(pub))
    assert "Ours" not in html


async def test_a_script_in_a_title_or_note_is_shown_as_text(web: Web) -> None:
    rid = await share(
        web,
        "https://example.com/x",
        title="<script>alert('t')</script>",
        note='<img src=x onerror="alert(1)">',
        tags="safe",
    )
    pub = await web.publish()
    for page in ("", f"r/{rid}", "tag/safe", "search?q=example"):
        _, html, _ = await web.get(web.path(pub, page))
        assert "<script>" not in html and "<img src=x" not in html, page
        assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in html, page


async def test_the_resource_page_shows_what_a_reader_needs(web: Web) -> None:
    rid = await share(web, "https://example.com/r", title="Fractions", tags="math k-5", note="Hi")
    await share(web, "https://example.com/r", by=BOB, note="Still good")
    pub = await web.publish()
    status, html, _ = await web.get(web.path(pub, f"r/{rid}"))
    assert status == 200
    assert "<h1>Fractions</h1>" in html
    assert 'href="https://example.com/r"' in html
    assert "#k-5" in html and "#math" in html
    assert "Hi" in html and "Still good" in html
    assert "<dt>Shares</dt><dd>2</dd>" in html
    assert str(GUILD) not in html and str(ALICE) not in html  # no ids anywhere


async def test_sharers_are_named_only_when_chosen_and_never_after_opting_out(web: Web) -> None:
    rid = await share(web, "https://example.com/n", title="Named", note="from alice")
    await web.guilds.member_seen(GUILD, "Maple PLN", BOB, "Bob Seen", is_bot=False)
    bob_rid = await share(web, "https://example.com/b", by=BOB, title="Bobs")

    pub = await web.publish(names=False)
    _, html, _ = await web.get(web.path(pub))
    assert "Alice Live" not in html and "Bob Seen" not in html

    pub = await web.publish(names=True)
    _, html, _ = await web.get(web.path(pub))
    assert "by Alice Live" in html and "by Bob Seen" in html
    _, feed, _ = await web.get(web.path(pub, "feed.atom"))
    assert "Alice Live" in feed

    await web.members.set_privacy(GUILD, "Maple PLN", ALICE, hide_from_contributors=True)
    for page in ("", f"r/{rid}", f"r/{bob_rid}", "feed.atom", "search?q=named"):
        _, html, _ = await web.get(web.path(pub, page))
        assert "Alice Live" not in html, page
    _, html, _ = await web.get(web.path(pub))
    assert "by Bob Seen" in html


async def test_search_uses_the_library_ranking_with_tag_and_date_filters(web: Web) -> None:
    await share(web, "https://example.com/old", title="Photosynthesis basics", tags="biology")
    web.clock.advance(timedelta(days=40))
    await share(web, "https://example.com/new", title="Photosynthesis lab", tags="lab")
    await share(web, "https://example.com/other", title="Volcanoes", tags="lab")
    pub = await web.publish()

    _, html, _ = await web.get(web.path(pub, "search?q=photosynthesis"))
    assert set(titles_in(html)) == {"Photosynthesis basics", "Photosynthesis lab"}
    ranked = await web.library.search(GUILD, "photosynthesis")
    assert titles_in(html) == [r.display_title for r in ranked]

    _, html, _ = await web.get(web.path(pub, "search?q=photosynthesis&tag=lab"))
    assert titles_in(html) == ["Photosynthesis lab"]
    since = (web.clock.now() - timedelta(days=10)).date().isoformat()
    _, html, _ = await web.get(web.path(pub, f"search?q=photosynthesis&since={since}"))
    assert titles_in(html) == ["Photosynthesis lab"]

    status, html, _ = await web.get(web.path(pub, "search?q=" + "a" * 201))
    assert status == 400 and "at most 200 characters" in html
    status, html, _ = await web.get(web.path(pub, "search?q=x&since=yesterday-ish"))
    assert status == 400 and "since" in html.lower()


async def test_search_is_rate_limited_per_address(web: Web) -> None:
    await share(web, "https://example.com/s", title="Searchable")
    pub = await web.publish()
    for _ in range(5):  # the fixture allows 5 a minute
        status, _, _ = await web.get(web.path(pub, "search?q=searchable"))
        assert status == 200
    status, html, response = await web.get(web.path(pub, "search?q=searchable"))
    assert status == 429 and "wait a minute" in html
    assert int(response.headers["Retry-After"]) >= 1
    status, _, _ = await web.get(web.path(pub))  # reading is not limited
    assert status == 200
    web.clock.advance(timedelta(minutes=1, seconds=1))
    status, _, _ = await web.get(web.path(pub, "search?q=searchable"))
    assert status == 200


async def test_etags_let_a_crawler_reread_for_almost_nothing(web: Web) -> None:
    await share(web, "https://example.com/e", title="Cached", tags="t")
    pub = await web.publish()
    for page in ("", "tag/t", "feed.atom"):
        status, body, response = await web.get(web.path(pub, page))
        etag = response.headers["ETag"]
        assert "no-cache" in response.headers["Cache-Control"]
        status, body, _ = await web.get(web.path(pub, page), **{"If-None-Match": etag})
        assert status == 304 and body == ""
    _, _, response = await web.get(web.path(pub))
    etag = response.headers["ETag"]
    await share(web, "https://example.com/f", title="Fresh")
    status, body, _ = await web.get(web.path(pub), **{"If-None-Match": etag})
    assert status == 200 and "Fresh" in body


async def test_tag_and_topic_pages_and_their_feeds(web: Web) -> None:
    await share(web, "https://example.com/t1", title="Tagged one", tags="reading")
    await share(web, "https://example.com/t2", title="Untagged")
    await share(web, "https://example.com/t3", title="Tagged two", tags="reading writing")
    new = await web.topics.prepare(
        GUILD, "Literacy", description="Reading & writing", tags="writing"
    )
    await web.topics.create(GUILD, "Maple PLN", ALICE, new, channel_id=None, role_id=None)
    pub = await web.publish()

    status, html, _ = await web.get(web.path(pub, "tag/reading"))
    assert status == 200 and titles_in(html) == ["Tagged two", "Tagged one"]
    assert "Reading list" in html or "reading list" in html
    status, _, _ = await web.get(web.path(pub, "tag/nothing-here"))
    assert status == 404

    status, html, _ = await web.get(web.path(pub, "topic/Literacy"))
    assert status == 200 and titles_in(html) == ["Tagged two"]
    assert "Reading &amp; writing" in html
    status, _, _ = await web.get(web.path(pub, "topic/Unknown"))
    assert status == 404

    _, text, _ = await web.get(web.path(pub, "tag/reading/feed.atom"))
    feed = feedparser.parse(text)
    assert not feed.bozo
    assert feed.feed.title == "Maple PLN: #reading"
    assert [e.title for e in feed.entries] == ["Tagged two", "Tagged one"]
    assert feed.entries[0].link == "https://example.com/t3"
    assert feed.entries[0].id.startswith(f"{BASE_URL}/g/{pub.slug}/r/")
    assert "#reading" in feed.entries[0].summary

    _, text, _ = await web.get(web.path(pub, "topic/Literacy/feed.atom"))
    assert [e.title for e in feedparser.parse(text).entries] == ["Tagged two"]
    _, text, _ = await web.get(web.path(pub, "feed.atom"))
    feed = feedparser.parse(text)
    assert not feed.bozo and [e.title for e in feed.entries] == [
        "Tagged two",
        "Untagged",
        "Tagged one",
    ]


async def test_healthz_and_the_stylesheet_print_a_tag_page_as_a_reading_list(web: Web) -> None:
    status, body, _ = await web.get(f"{web.origin}/healthz")
    assert status == 200 and body.strip() == "ok"
    status, css, response = await web.get(f"{web.origin}/static/site.css")
    assert status == 200 and response.content_type == "text/css"
    assert "@media print" in css
    status, _, _ = await web.get(f"{web.origin}/g/")
    assert status == 404


async def test_lists_are_reused_for_a_few_seconds_but_unpublishing_is_at_once(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    async for web in serve_site(sessions, clock, cache_seconds=5.0):
        await share(web, "https://example.com/c1", title="First", tags="t")
        pub = await web.publish()
        _, html, _ = await web.get(web.path(pub))
        assert titles_in(html) == ["First"]
        shared = await web.library.share(
            GUILD, CHANNEL, BOB, "https://example.com/c2", title="Second"
        )
        second = shared.resource.id

        web.clock.advance(timedelta(seconds=2))
        _, html, _ = await web.get(web.path(pub))
        assert titles_in(html) == ["First"]  # built 2 s ago, reused
        status, html, _ = await web.get(web.path(pub, f"r/{second}"))
        assert status == 200 and "Second" in html  # a resource's own page is always live

        web.clock.advance(timedelta(seconds=4))
        _, html, _ = await web.get(web.path(pub))
        assert titles_in(html) == ["Second", "First"]

        await web.publishing.publish(GUILD, "Maple PLN", MOD, published=False, include_names=False)
        status, _, _ = await web.get(web.path(pub))
        assert status == 404  # at once, although the page was just built


async def test_behind_a_proxy_under_a_path_every_link_keeps_the_prefix(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    async for web in serve_site(sessions, clock, base_url="https://school.example/pln/"):
        rid = await share(web, "https://example.com/p", title="Prefixed", tags="t")
        pub = await web.publish()
        _, html, _ = await web.get(web.path(pub))
        assert f'href="/pln/g/{pub.slug}/r/{rid}"' in html
        assert 'href="/pln/static/site.css"' in html
        status, html, _ = await web.get(f"{web.origin}/g/nothing/")
        assert status == 404 and "/pln/static/site.css" in html
        _, feed, _ = await web.get(web.path(pub, "feed.atom"))
        assert f"https://school.example/pln/g/{pub.slug}/r/{rid}" in feed
        async with web.http.post(web.path(pub)) as answer:
            assert answer.status == 405  # read-only
