"""Feed bytes to items: identities, plain text, dates, thumbnails, filters, readable bozo feeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.feeds.discovery import linked_feeds, youtube_channel_id
from bot.feeds.parsing import ItemFilter, NotAFeed, ParsedItem, parse_feed, plain_text
from bot.web.fetcher import FetchedPage

RSS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Teach &amp; learn</title><link>https://blog.example/</link>
<item><guid>a-1</guid><title>Older</title><link>https://blog.example/older</link>
<pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate><description>one</description></item>
<item><title>No guid</title><link>https://blog.example/no-guid</link>
<pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>
<description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&amp;amp; \
&lt;script&gt;alert(1)&lt;/script&gt;more&lt;/p&gt;</description>
<media:thumbnail url="https://blog.example/t.jpg"/><category>Python</category></item>
</channel></rss>"""


def test_rss_items_newest_first_with_plain_text_and_thumbnail() -> None:
    feed = parse_feed(RSS, "https://blog.example/feed")
    assert feed.title == "Teach & learn" and feed.site_url == "https://blog.example/"
    assert [i.title for i in feed.items] == ["No guid", "Older"]
    newest = feed.items[0]
    assert newest.summary == "Hello world & more"
    assert newest.thumbnail == "https://blog.example/t.jpg"
    assert newest.categories == ("Python",)
    assert newest.published == datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_identity_survives_a_changed_title_and_order() -> None:
    moved = RSS.replace(b"<title>Older</title>", b"<title>Older, edited</title>")
    keys = {i.key for i in parse_feed(RSS, "u").items}
    assert {i.key for i in parse_feed(moved, "u").items} == keys


def test_a_malformed_but_readable_feed_works_and_json_feed_is_refused() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "JSON blog",
            "items": [
                {
                    "id": "j1",
                    "title": "From JSON",
                    "url": "https://j.example/1",
                    "content_html": "<p>Hi</p>",
                    "date_published": "2026-03-01T10:00:00Z",
                }
            ],
        }
    ).encode()
    with pytest.raises(NotAFeed):  # feedparser 6.0 does not read JSON Feed
        parse_feed(body, "https://j.example/feed.json")
    broken = RSS.replace(b"</channel></rss>", b"<item><title>cut off")
    assert "Older" in [i.title for i in parse_feed(broken, "u").items]


def test_what_is_no_feed_is_refused() -> None:
    with pytest.raises(NotAFeed):
        parse_feed(b"<!doctype html><html><body><p>Just a page</p></body></html>", "u")
    with pytest.raises(NotAFeed):
        parse_feed(b"\x89PNG\r\n\x1a\n", "u")


def test_plain_text_is_short_and_keeps_no_markup() -> None:
    assert plain_text("<p>a</p><p>b</p>") == "a b"
    long = plain_text("<p>" + "word " * 200 + "</p>", 50)
    assert len(long) <= 50 and long.endswith("…")
    assert plain_text("") == ""


def item(title: str, summary: str = "", categories: tuple[str, ...] = ()) -> ParsedItem:
    return ParsedItem("k", title, None, summary, categories)


@pytest.mark.parametrize(
    ("rule", "title", "accepted"),
    [
        ("", "Anything", True),
        ("python", "Learning PYTHON fast", True),
        ("python", "Pythonic ideas", False),  # whole words
        ('"machine learning"', "Machine  learning", False),
        ('"machine learning"', "A machine learning course", True),
        ("python -sponsored", "Python, sponsored post", False),
        ('-"paid post"', "A paid post", False),
        ('-"paid post"', "A free post", True),
        ("chess", "Openings", False),
    ],
)
def test_filters(rule: str, title: str, accepted: bool) -> None:
    assert ItemFilter.parse(rule).accepts(item(title)) is accepted


def test_filters_read_summaries_and_categories_and_print_back() -> None:
    rule = ItemFilter.parse('Python -"Paid Post"')
    assert rule.accepts(item("x", categories=("python",)))
    assert rule.accepts(item("x", "about python"))
    assert str(rule) == 'python -"paid post"'
    assert ItemFilter.parse(str(rule)) == rule


def test_shorts_are_recognised() -> None:
    assert ParsedItem("k", "Tip", "https://www.youtube.com/shorts/abc", "").is_short
    assert ParsedItem("k", "Tip #Shorts", "https://www.youtube.com/watch?v=1", "").is_short
    assert not ParsedItem("k", "Tip", "https://www.youtube.com/watch?v=1", "").is_short


def page(html: str, url: str = "https://site.example/blog/post") -> FetchedPage:
    return FetchedPage(url, "text/html", "utf-8", html.encode(), False)


def test_discovery_reads_alternate_links_and_youtube_channel_ids() -> None:
    html = (
        '<html><head><link rel="stylesheet" href="/s.css">'
        '<link rel="alternate" type="application/atom+xml" href="../atom.xml">'
        '<link rel="Alternate" type="application/rss+xml" href="https://feeds.example/rss">'
        "</head></html>"
    )
    assert linked_feeds(page(html)) == [
        "https://site.example/atom.xml",
        "https://feeds.example/rss",
    ]
    channel = "UC" + "x" * 22
    assert youtube_channel_id(page(f'<meta itemprop="channelId" content="{channel}">')) == channel
    assert (
        youtube_channel_id(page(f'<script>var d = {{"channelId":"{channel}"}}</script>')) == channel
    )
    assert youtube_channel_id(page("<p>no channel</p>")) is None
