"""The library on the web, end to end: members share in Discord, a moderator publishes, and a
reader uses the site in a real (headless Chromium) browser on a 360 px wide screen."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import aiohttp
import feedparser
import pytest
from support.browser import headless_chromium
from support.world import MakeWorld, text_of

from bot.settings import WebUISettings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_reader_finds_a_shared_link_by_search_and_by_tag(
    make_world: MakeWorld, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    world = await make_world(
        database_url=database_url,
        web_ui=WebUISettings(enabled=True, port=port, base_url=f"http://127.0.0.1:{port}"),
    )
    await world.run(
        world.alice,
        "share",
        {
            "url": "https://example.org/fractions-pizza",
            "title": "Fractions with <b>pizza</b>",
            "tags": "math, k-5",
            "note": "My class loved it",
        },
    )
    await world.run(
        world.bob,
        "share",
        {"url": "https://example.org/volcanoes", "title": "Volcano lab", "tags": "science"},
    )

    _, reply = await world.followup(
        world.mod, "mod library publish", {"state": "on", "include_names": True}
    )
    assert reply.ephemeral
    match = re.search(r"<(http://127\.0\.0\.1:\d+/g/[\w-]+/)>", text_of(reply))
    assert match, text_of(reply)
    url = match.group(1)

    async with headless_chromium(tmp_path / "artifacts") as browser:
        await browser.open(url)
        assert "PLN library" in await browser.title()
        titles = await browser.texts("li.resource h3")
        assert titles == ["Volcano lab", "Fractions with <b>pizza</b>"]  # newest first, as text
        await browser.screenshot("library")
        assert await browser.page_width() == (360, 360)  # a phone's width, no sideways scroll
        await browser.screenshot("library")

        await browser.type_and_submit("Search the library", "pizza")
        assert await browser.texts("li.resource h3") == ["Fractions with <b>pizza</b>"]
        assert "1 result" in await browser.text("main h2")

        await browser.click_link("#math")
        assert await browser.text("h1") == "Resources tagged #math"
        assert await browser.texts("li.resource h3") == ["Fractions with <b>pizza</b>"]
        await browser.screenshot("tag-math")
        await browser.emulate_media("print")  # the tag page as a printed reading list
        assert not await browser.displayed("header.site") and not await browser.displayed("form")
        assert await browser.displayed("li.resource .link")  # each link's address is printed
        await browser.screenshot("tag-math-print")
        await browser.emulate_media("")

        await browser.click_link("Fractions with <b>pizza</b>")
        page = await browser.text("main")
        assert "https://example.org/fractions-pizza" in page
        assert "My class loved it" in page
        assert "by alice" in page  # the guild chose to show names
        assert "#k-5" in page and "#math" in page
        assert str(world.guild.id) not in await browser.url()
        await browser.screenshot("resource")

        async with aiohttp.ClientSession() as http, http.get(f"{url}tag/math/feed.atom") as got:
            feed = feedparser.parse(await got.text())
        assert [e.link for e in feed.entries] == ["https://example.org/fractions-pizza"]

        _, reply = await world.followup(world.mod, "mod library publish", {"state": "off"})
        assert "404" in text_of(reply)
        await browser.open(url)
        assert await browser.text("h1") == "Not found"
        assert (tmp_path / "artifacts" / "resource.png").stat().st_size > 1000
