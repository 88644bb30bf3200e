"""The safe fetcher never reaches the host's own network, however the address is spelled.

A real server on 127.0.0.1 counts the requests it gets; every test of the block runs with
`allow_loopback_for_tests` off and expects that server to count none. Redirect tests start at
a second server on 127.0.0.1 that only their fetcher admits (by its port), and the controls
prove that the same spellings do reach the counting server when it is admitted.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from aiohttp.typedefs import Handler
from yarl import URL

from bot.settings import WebSettings
from bot.web.fetcher import (
    AddressPolicy,
    BlockedAddress,
    FetchError,
    GuardedConnector,
    SafeFetcher,
    address_allowed,
    check_url,
)
from bot.web.hosts import host_address

LOOPBACK = ipaddress.ip_address("127.0.0.1")
PAGE = "<html><head><title>Inside</title></head></html>"

# Every spelling of an address on this machine that some layer would connect to.
LOOPBACK_HOSTS = [
    "127.0.0.1",
    "①②⑦.0.0.1",  # circled digits
    "１２７.０.０.１",  # fullwidth digits
    "127。0。0。1",  # ideographic full stops
    "１２７．０．０．１",  # fullwidth digits and full stops
    "127.0.0.1.",
    "2130706433",  # decimal
    "0177.0.0.1",  # octal
    "0x7f.1",  # hex, short form
    "0x7f000001",
    "127.1",  # short form
    "0.0.0.0",  # the unspecified address, which Linux connects to this machine
    "0",
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:7f00:1]",
    "[::1]",
    "[::127.0.0.1]",  # IPv4-compatible
    "[2002:7f00:1::]",  # 6to4
    "[64:ff9b::127.0.0.1]",  # NAT64
    "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo, client 127.0.0.1
    "localhost",  # a name the system resolves to loopback
    "loopback.example",  # a name the test's resolver maps to loopback
]
# Spellings the HTTP client would turn into 127.0.0.1 and connect to (the controls).
REACHABLE_WHEN_ADMITTED = [
    "127.0.0.1",
    "①②⑦.0.0.1",
    "１２７.０.０.１",
    "127。0。0。1",
    "１２７．０．０．１",
    "loopback.example",
]
# Never a destination, and no server of ours is there: refused before any connection.
ELSEWHERE_HOSTS = [
    "169.254.169.254",  # cloud metadata
    "⑯⑨.②⑤④.⑯⑨.②⑤④",
    "[fe80::1%25eth0]",
    "10.0.0.1",
    "[fd00::1]",
    "[2002:a00:1::]",  # 6to4 of 10.0.0.1
    "[64:ff9b:1::a00:1]",  # local-use NAT64
]


class MapResolver(AbstractResolver):
    """Names the test knows resolve to its address; any other goes to the system resolver."""

    def __init__(self, names: dict[str, str]) -> None:
        self._names = names
        self._system = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self._names:
            return await self._system.resolve(host, port, family)
        return [
            {
                "hostname": host,
                "host": self._names[host],
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        await self._system.close()


@dataclass
class Server:
    port: int
    hits: list[str] = field(default_factory=list)

    def url(self, host: str = "127.0.0.1", path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"


async def _serve(app: web.Application) -> AsyncIterator[Server]:
    server = Server(port=0)

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        server.hits.append(request.path_qs)
        return await handler(request)

    app.middlewares.append(count)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.port = runner.addresses[0][1]
    yield server
    await runner.cleanup()


@pytest.fixture
async def inside() -> AsyncIterator[Server]:
    """The server an attacker wants reached: it must count no request."""

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    async for server in _serve(app):
        yield server


@pytest.fixture
async def redirector() -> AsyncIterator[Server]:
    """The first hop: it sends the client on to `?to=`, exactly as given."""

    async def go(request: web.Request) -> web.Response:
        # A raw header: web.HTTPFound would normalise the URL before the client sees it.
        return web.Response(status=302, headers={"Location": request.query["to"]})

    app = web.Application()
    app.router.add_get("/go", go)
    async for server in _serve(app):
        yield server


def _fetcher(*admitted: Server) -> SafeFetcher:
    settings = WebSettings(allow_loopback_for_tests=False, timeout_seconds=3)
    return SafeFetcher(
        settings,
        resolver=MapResolver({"loopback.example": "127.0.0.1"}),
        test_peers=[(LOOPBACK, server.port) for server in admitted],
    )


def _via(redirector: Server, target: str) -> str:
    return str(URL(redirector.url(path="/go")).with_query(to=target))


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
async def test_loopback_is_refused_in_every_spelling(inside: Server, host: str) -> None:
    fetcher = _fetcher()
    try:
        with pytest.raises(BlockedAddress):
            await fetcher.fetch_html(inside.url(host))
    finally:
        await fetcher.close()
    assert inside.hits == []


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
async def test_loopback_is_refused_after_a_redirect(
    inside: Server, redirector: Server, host: str
) -> None:
    fetcher = _fetcher(redirector)
    try:
        with pytest.raises(BlockedAddress):
            await fetcher.fetch_html(_via(redirector, inside.url(host)))
    finally:
        await fetcher.close()
    assert len(redirector.hits) == 1
    assert inside.hits == []


@pytest.mark.parametrize(
    "location",
    ["//①②⑦.0.0.1:{port}/", "http://127。0。0。1:{port}/", "http://%31%32%37.0.0.1:{port}/"],
)
async def test_odd_redirect_locations_are_refused(
    inside: Server, redirector: Server, location: str
) -> None:
    fetcher = _fetcher(redirector)
    try:
        with pytest.raises(FetchError):
            await fetcher.fetch_html(_via(redirector, location.format(port=inside.port)))
    finally:
        await fetcher.close()
    assert inside.hits == []


@pytest.mark.parametrize("host", ELSEWHERE_HOSTS)
async def test_private_and_link_local_addresses_are_refused(redirector: Server, host: str) -> None:
    fetcher = _fetcher(redirector)
    try:
        with pytest.raises(BlockedAddress):
            await fetcher.fetch_html(f"http://{host}/latest/meta-data/")
        with pytest.raises(BlockedAddress):
            await fetcher.fetch_html(_via(redirector, f"http://{host}/latest/meta-data/"))
    finally:
        await fetcher.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://%31%32%37.0.0.1/", "not a valid host name"),  # yarl keeps it; DNS cannot
        ("http://a..b/", "not a valid host name"),
        ("http://[]@/", "not a valid web address"),  # yarl itself fails on it (IndexError)
        ("http://a\\@127.0.0.1/", "not a valid web address"),
    ],
)
def test_hosts_no_client_could_use_are_refused(url: str, reason: str) -> None:
    with pytest.raises(FetchError, match=reason):
        check_url(url)


@pytest.mark.parametrize("host", REACHABLE_WHEN_ADMITTED)
async def test_control_the_same_spellings_reach_the_server_when_admitted(
    inside: Server, redirector: Server, host: str
) -> None:
    fetcher = _fetcher(inside, redirector)
    try:
        direct = await fetcher.fetch_html(inside.url(host))
        redirected = await fetcher.fetch_html(_via(redirector, inside.url(host)))
    finally:
        await fetcher.close()
    assert direct.body == redirected.body == PAGE.encode()
    assert inside.hits == ["/", "/"]


async def test_the_test_setting_admits_127_0_0_1_only(inside: Server) -> None:
    fetcher = SafeFetcher(WebSettings(allow_loopback_for_tests=True))
    try:
        assert (await fetcher.fetch_html(inside.url())).body == PAGE.encode()
        for host in ("127.0.0.2", "[::1]", "0.0.0.0", "[2002:7f00:1::]"):
            with pytest.raises(BlockedAddress):
                await fetcher.fetch_html(inside.url(host))
    finally:
        await fetcher.close()
    assert inside.hits == ["/"]


# --- the connector on its own: no URL check and no vetting resolver in front of it ---------


async def _get_through_connector(connector: GuardedConnector, url: str) -> int:
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(url, allow_redirects=False) as response,
    ):
        return response.status


@pytest.mark.parametrize("host", ["127.0.0.1", "①②⑦.0.0.1", "127。0。0。1", "loopback.example"])
async def test_the_connector_alone_refuses_loopback(inside: Server, host: str) -> None:
    connector = GuardedConnector(
        policy=AddressPolicy(), resolver=MapResolver({"loopback.example": "127.0.0.1"})
    )
    with pytest.raises(BlockedAddress):
        await _get_through_connector(connector, inside.url(host))
    assert inside.hits == []


class _BlindBeforeConnecting(GuardedConnector):
    """Skips the check before connecting, so only the check on the connected socket is left."""

    def _refuse_before_connecting(self, addr_infos: object) -> None:
        return None


async def test_the_connected_socket_is_checked_too(inside: Server) -> None:
    with pytest.raises(BlockedAddress, match="connected to"):
        await _get_through_connector(_BlindBeforeConnecting(policy=AddressPolicy()), inside.url())
    assert inside.hits == []


async def test_control_the_connector_admits_an_admitted_peer(inside: Server) -> None:
    policy = AddressPolicy(frozenset({(LOOPBACK, inside.port)}))
    assert await _get_through_connector(GuardedConnector(policy=policy), inside.url()) == 200
    assert inside.hits == ["/"]


# --- judging addresses, without connecting -------------------------------------------------


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7F.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("::ffff:7f00:1", "::ffff:7f00:1"),
        ("[::1]", "::1"),
        ("fe80::1%25eth0", "fe80::1"),
        ("example.com", None),
        ("cafe.be", None),
        ("09.0.0.1", None),
        ("1.2.3.4.5", None),
    ],
)
def test_ip_literals_in_any_spelling(host: str, address: str | None) -> None:
    expected = None if address is None else ipaddress.ip_address(address)
    assert host_address(host) == expected


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("2002:5db8:d822::1", True),  # 6to4 of a public address
        ("2002:7f00:1::", False),
        ("2002:a9fe:a9fe::", False),  # 6to4 of 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),
        ("64:ff9b:1::5db8:d822", False),  # local-use NAT64
        ("::7f00:1", False),  # IPv4-compatible
        ("::ffff:169.254.169.254", False),
    ],
)
def test_addresses_inside_ipv6_addresses_are_judged(address: str, allowed: bool) -> None:
    assert address_allowed(ipaddress.ip_address(address)) is allowed


def test_a_test_peer_is_one_address_and_port() -> None:
    policy = AddressPolicy(frozenset({(LOOPBACK, 8080)}))
    assert policy.allows(LOOPBACK, 8080)
    assert policy.allows(ipaddress.ip_address("::ffff:127.0.0.1"), 8080)
    assert not policy.allows(LOOPBACK, 8081)
    assert not policy.allows(ipaddress.ip_address("127.0.0.2"), 8080)
    assert not policy.allows_socket(("127.0.0.1", 8081))
    assert policy.allows_socket(("127.0.0.1", 8080))
    assert not policy.allows_socket(None)
