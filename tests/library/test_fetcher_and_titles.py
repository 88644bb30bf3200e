"""The safe fetcher's guard (decided without connecting) and title extraction.

Only 127.0.0.1 test servers are contacted, and only with the explicit test setting.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.library.titles import extract_title
from bot.settings import WebSettings
from bot.web.fetcher import (
    BlockedAddress,
    FetchError,
    SafeFetcher,
    address_allowed,
    check_url,
)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("127.8.8.8", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("0.0.0.0", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_address_guard(address: str, allowed: bool) -> None:
    assert address_allowed(ipaddress.ip_address(address)) is allowed


def test_test_setting_admits_only_127_0_0_1() -> None:
    assert address_allowed(ipaddress.ip_address("127.0.0.1"), allow_loopback=True)
    assert not address_allowed(ipaddress.ip_address("127.0.0.2"), allow_loopback=True)
    assert not address_allowed(ipaddress.ip_address("::1"), allow_loopback=True)
    assert not address_allowed(ipaddress.ip_address("10.0.0.1"), allow_loopback=True)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/",
        "http://10.0.0.1/",
        "http://[::1]:8080/",
        "gopher://x",
    ],
)
def test_urls_refused_without_resolving(url: str) -> None:
    with pytest.raises(BlockedAddress):
        check_url(url)


class FixedResolver(AbstractResolver):
    """Pretends every name resolves to one address; never touches DNS."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        return [
            {
                "hostname": host,
                "host": self.address,
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        return None


async def test_names_resolving_to_private_addresses_are_refused() -> None:
    resolver = FixedResolver("192.168.0.10")
    fetcher = SafeFetcher(WebSettings(), resolver=resolver)
    try:
        with pytest.raises(BlockedAddress):
            await fetcher.fetch_html("http://intranet.example/")
    finally:
        await fetcher.close()
    assert resolver.asked == ["intranet.example"]


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async def page(_request: web.Request) -> web.Response:
        return web.Response(
            text="<html><head><title> Plain  title </title>"
            '<meta property="og:title" content="OG &amp; title"></head><body>x</body></html>',
            content_type="text/html",
        )

    async def big(_request: web.Request) -> web.Response:
        return web.Response(
            body=b"<html><title>Big</title>" + b"x" * 3_000_000, content_type="text/html"
        )

    async def image(_request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG", content_type="image/png")

    async def hop(request: web.Request) -> web.Response:
        left = int(request.match_info["left"])
        target = "/page" if left == 0 else f"/hop/{left - 1}"
        raise web.HTTPFound(target)

    async def to_private(_request: web.Request) -> web.Response:
        raise web.HTTPFound("http://10.0.0.1/admin")

    app = web.Application()
    app.router.add_get("/page", page)
    app.router.add_get("/big", big)
    app.router.add_get("/image", image)
    app.router.add_get("/hop/{left}", hop)
    app.router.add_get("/private", to_private)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_fetches_a_page_from_an_allowed_test_server(server: str) -> None:
    fetcher = SafeFetcher(WebSettings(allow_loopback_for_tests=True, max_bytes=100_000))
    try:
        page = await fetcher.fetch_html(f"{server}/page")
        assert extract_title(page.body, page.charset) == "OG & title"
        big = await fetcher.fetch_html(f"{server}/big")
        assert big.truncated and len(big.body) == 100_000
        assert (await fetcher.fetch_html(f"{server}/hop/4")).url.endswith("/page")
        with pytest.raises(FetchError, match="redirects"):
            await fetcher.fetch_html(f"{server}/hop/5")
        with pytest.raises(BlockedAddress):
            await fetcher.fetch_html(f"{server}/private")
        with pytest.raises(FetchError, match="not HTML"):
            await fetcher.fetch_html(f"{server}/image")
    finally:
        await fetcher.close()


async def test_loopback_is_refused_without_the_test_setting(server: str) -> None:
    fetcher = SafeFetcher(WebSettings())
    try:
        with pytest.raises(BlockedAddress):
            await fetcher.fetch_html(f"{server}/page")
    finally:
        await fetcher.close()


@pytest.mark.parametrize(
    ("html", "title"),
    [
        (b"<title>Only title</title>", "Only title"),
        (b'<meta name="twitter:title" content="Tw"><title>T</title>', "Tw"),
        (b"<html><head></head><body>none</body></html>", None),
        ("<title>Caf\xe9 \u00e9t\u00e9</title>".encode(), "Caf\xe9 \u00e9t\u00e9"),
        (b"<title>@everyone <b>x</b></title>", "@everyone x"),
        # A raw NUL or escape code in a page would be refused by PostgreSQL: dropped.
        (b"<title>Nul\x00l \x1b[1mbold\r\nnext</title>", "Null [1mbold next"),
        (b'<meta property="og:title" content="O\x00G">', "OG"),
    ],
)
def test_title_extraction(html: bytes, title: str | None) -> None:
    assert extract_title(html) == title


async def test_with_fetching_switched_off_nothing_is_requested() -> None:
    """web.fetch_pages = false (plnbot demo runs so): not even an allowed server is asked."""
    hits: list[str] = []

    async def page(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="<title>x</title>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/page", page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/page"
    fetcher = SafeFetcher(WebSettings(allow_loopback_for_tests=True, fetch_pages=False))
    try:
        with pytest.raises(FetchError, match=r"switched off \(web\.fetch_pages = false\)"):
            await fetcher.fetch_html(url)
    finally:
        await fetcher.close()
        await runner.cleanup()
    assert hits == []
