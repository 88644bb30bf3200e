"""The fetcher's conditional requests: headers sent, a 304 page, error statuses with Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support.feeds import FeedServer, entry

from bot.clock import FakeClock
from bot.settings import WebSettings
from bot.web.fetcher import FetchError, HTTPStatusError, SafeFetcher


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    feed_server = FeedServer()
    await feed_server.start()
    yield feed_server
    await feed_server.close()


@pytest.fixture
async def fetcher() -> AsyncIterator[SafeFetcher]:
    safe = SafeFetcher(WebSettings(allow_loopback_for_tests=True))
    yield safe
    await safe.close()


async def test_conditional_requests_and_error_statuses(
    server: FeedServer, fetcher: SafeFetcher, clock: FakeClock
) -> None:
    url = server.rss("/f.xml", "F", [entry("1", "One", clock.now())])
    first = await fetcher.fetch(url, headers={"User-Agent": "feeds-test"})
    assert first.status == 200 and b"One" in first.body and first.headers["etag"]
    assert server.user_agents[-1] == "feeds-test"
    again = await fetcher.fetch(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status == 304 and again.body == b""
    server.fail("/f.xml", 429, retry_after="120")
    with pytest.raises(HTTPStatusError) as caught:
        await fetcher.fetch(url)
    assert caught.value.status == 429 and caught.value.retry_after == "120"
    # HTML pages only, as before, for titles.
    with pytest.raises(FetchError, match="not HTML"):
        await fetcher.fetch_html(server.rss("/g.xml", "G", []))
