"""The one safe fetcher for member-supplied URLs.

Rules: http/https only. A URL is parsed once, by yarl as aiohttp parses it (UTS-46 mapping, so
`①②⑦.0.0.1` is already `127.0.0.1`), and that parsed URL is what is judged and what is
requested. Three checks, each sufficient for what it sees: an IP-literal host, in any spelling
the socket layer accepts, must be allowed (`check_url`); every address a name resolves to must
be allowed (`VettingResolver`); and the connector refuses a peer that is not allowed, before
connecting and again on the connected socket (`GuardedConnector`), whatever parsing said.
Allowed means public unicast, including any IPv4 address an IPv6 one carries (6to4, Teredo,
NAT64, IPv4-compatible). Redirects are followed by hand (at most `max_redirects`), each hop
judged the same way; one timeout for the whole fetch; at most `max_bytes` read; a clear
User-Agent. `allow_loopback_for_tests` admits 127.0.0.1 and nothing else.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.client_proto import ResponseHandler
from aiohttp.resolver import DefaultResolver
from yarl import URL

from bot.settings import WebSettings
from bot.web.hosts import IPAddress, client_url, host_address, valid_host_name

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = ("text/html", "application/xhtml+xml")
TEST_LOOPBACK = ipaddress.ip_address("127.0.0.1")

# An allowed peer: an address and a port, None for any port.
Peer = tuple[IPAddress, int | None]

# Prefixes whose addresses a translator delivers to the IPv4 address in their last 32 bits.
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# NAT64 for one network only (RFC 8215): never a public destination.
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class FetchError(Exception):
    """The page could not be fetched (refused, blocked, too slow, not HTML...)."""


class BlockedAddress(FetchError):
    """The URL leads to an address the bot must not reach (e.g. the host's own network)."""


class HTTPStatusError(FetchError):
    """The server answered with an error status; `retry_after` is its Retry-After header."""

    def __init__(self, status: int, retry_after: str | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class FetchedPage:
    url: str
    content_type: str
    charset: str | None
    body: bytes
    truncated: bool
    # 304 for a conditional request the server answered "not modified" (then `body` is empty).
    # `headers` are the response's, with lower-case names.
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


def _public(address: IPAddress) -> bool:
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses that a relay or translator delivers this IPv6 address's packets to."""
    found: list[ipaddress.IPv4Address] = []
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64_WELL_KNOWN or address in _IPV4_COMPATIBLE:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def address_allowed(address: IPAddress, *, allow_loopback: bool = False) -> bool:
    """True for public unicast addresses (and 127.0.0.1 when a test allows it)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address in _NAT64_LOCAL or not all(map(_public, _embedded_ipv4(address))):
            return False
    if allow_loopback and address == TEST_LOOPBACK:
        return True
    return _public(address)


@dataclass(frozen=True)
class AddressPolicy:
    """The peers the fetcher may reach: public unicast addresses, and exceptions for tests.

    An exception names a port as well, so a test can admit one server on 127.0.0.1 and still
    prove that another one there is never reached.
    """

    test_peers: frozenset[Peer] = frozenset()

    def allows(self, address: IPAddress, port: int | None) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if (address, None) in self.test_peers or (address, port) in self.test_peers:
            return True
        return address_allowed(address)

    def allows_socket(self, sockaddr: object) -> bool:
        """For a socket address as the socket layer gives it: (host, port, ...)."""
        if not isinstance(sockaddr, tuple) or len(sockaddr) < 2:
            return False
        host, port = sockaddr[0], sockaddr[1]
        try:
            address = ipaddress.ip_address(str(host).split("%", 1)[0])
        except ValueError:
            return False
        return isinstance(port, int) and self.allows(address, port)


PUBLIC_ONLY = AddressPolicy()


def check_url(url: str | URL, *, policy: AddressPolicy = PUBLIC_ONLY) -> URL:
    """The URL to request, once its scheme and host are judged (no DNS, no connection).

    Refuses non-web schemes, hosts that are no valid name, and IP-literal hosts the policy does
    not allow; what a name resolves to is judged by the resolver and the connector.
    """
    try:
        parsed = client_url(url)
    except ValueError:
        raise FetchError("not a valid web address") from None
    if parsed.scheme not in ("http", "https"):
        raise BlockedAddress(f"{parsed.scheme or 'no'} scheme is not fetched")
    host = parsed.raw_host
    if not host:
        raise BlockedAddress("no host")
    address = host_address(host)
    if address is None:
        if not valid_host_name(host):
            raise FetchError(f"{host} is not a valid host name")
    elif not policy.allows(address, parsed.port):
        raise BlockedAddress(f"{host} is not a public address")
    return parsed


class VettingResolver(AbstractResolver):
    """Resolves with the system resolver, then refuses the host if any address is not allowed."""

    def __init__(self, *, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or DefaultResolver()
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            address = ipaddress.ip_address(result["host"].split("%", 1)[0])
            if not self._policy.allows(address, result["port"]):
                raise BlockedAddress(f"{host} resolves to a non-public address")
        if not results:
            raise FetchError(f"{host} has no address")
        return results

    async def close(self) -> None:
        await self._inner.close()


class GuardedConnector(aiohttp.TCPConnector):
    """A TCPConnector that reaches only peers the policy allows, judged on socket addresses.

    This is below all URL parsing and name resolution, so no quirk there can lead it elsewhere.
    """

    def __init__(self, *, policy: AddressPolicy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._policy = policy

    async def _wrap_create_connection(
        self, *args: Any, **kwargs: Any
    ) -> tuple[asyncio.Transport, ResponseHandler]:
        self._refuse_before_connecting(kwargs.get("addr_infos", ()))
        transport, protocol = await super()._wrap_create_connection(*args, **kwargs)
        self._refuse_connected(transport)
        return transport, protocol

    def _refuse_before_connecting(self, addr_infos: Iterable[tuple[Any, ...]]) -> None:
        """Every address aiohttp is about to try, so nothing at all is sent to a refused one."""
        for addr_info in addr_infos:
            if not self._policy.allows_socket(addr_info[4]):
                raise BlockedAddress(f"{addr_info[4][0]} is not a public address")

    def _refuse_connected(self, transport: asyncio.Transport) -> None:
        """The socket's real peer, before a byte of the request is written.

        This holds even if aiohttp one day connects by another path than the addresses above.
        """
        peer = transport.get_extra_info("peername")
        if not self._policy.allows_socket(peer):
            transport.abort()
            raise BlockedAddress(f"connected to {peer!r}, which is not a public address")


class SafeFetcher:
    """Owns its HTTP session (vetting resolver, guarded connector); close it when done.

    `test_peers` is for tests only: peers admitted besides public addresses.
    """

    def __init__(
        self,
        settings: WebSettings,
        *,
        resolver: AbstractResolver | None = None,
        test_peers: Iterable[Peer] = (),
    ) -> None:
        self._settings = settings
        self._resolver = resolver
        peers = set(test_peers)
        if settings.allow_loopback_for_tests:
            peers.add((TEST_LOOPBACK, None))
        self._policy = AddressPolicy(frozenset(peers))
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            resolver = VettingResolver(policy=self._policy, inner=self._resolver)
            connector = GuardedConnector(
                policy=self._policy, resolver=resolver, use_dns_cache=False, limit=8
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self._settings.user_agent, "Accept": "text/html"},
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch_html(self, url: str) -> FetchedPage:
        """The start of an HTML page (at most max_bytes); raises FetchError for anything else."""
        return await self.fetch(url, content_types=HTML_TYPES)

    async def fetch(
        self,
        url: str,
        *,
        content_types: Iterable[str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_seconds: float | None = None,
        max_bytes: int | None = None,
    ) -> FetchedPage:
        """Like `fetch_html`, for any of `content_types` (None: any type), with extra request
        `headers` (e.g. If-None-Match, which may give a 304 page) and other limits. An error
        status raises HTTPStatusError (with its Retry-After)."""
        if not self._settings.fetch_pages:
            raise FetchError("fetching web pages is switched off (web.fetch_pages = false)")
        timeout = timeout_seconds or self._settings.timeout_seconds
        wanted = None if content_types is None else tuple(content_types)
        try:
            async with asyncio.timeout(timeout):
                return await self._fetch(
                    url, wanted, dict(headers or {}), max_bytes or self._settings.max_bytes
                )
        except TimeoutError:
            raise FetchError(f"{url} took longer than {timeout} s") from None
        except aiohttp.ClientError as exc:
            raise FetchError(f"{url}: {type(exc).__name__}") from None

    async def _fetch(
        self, url: str, wanted: tuple[str, ...] | None, headers: dict[str, str], limit: int
    ) -> FetchedPage:
        target = check_url(url, policy=self._policy)
        for _hop in range(self._settings.max_redirects + 1):
            # The very URL object that was judged is requested, so nothing re-parses it.
            request = self._client().get(target, allow_redirects=False, headers=headers)
            async with request as response:
                if response.status in REDIRECT_STATUSES:
                    location = response.headers.get("Location")
                    if not location:
                        raise FetchError("redirect without a Location")
                    try:
                        following = target.join(client_url(location))
                    except ValueError:
                        raise FetchError("redirect to an invalid URL") from None
                    target = check_url(following, policy=self._policy)
                    continue
                kept = {name.lower(): value for name, value in response.headers.items()}
                content_type = response.content_type.lower()
                if response.status == 304 and headers:
                    return FetchedPage(str(response.url), content_type, None, b"", False, 304, kept)
                if response.status != 200:
                    raise HTTPStatusError(response.status, response.headers.get("Retry-After"))
                if wanted is not None and content_type not in wanted:
                    raise FetchError(
                        f"not HTML ({content_type})"
                        if wanted == HTML_TYPES
                        else f"not a feed ({content_type})"
                    )
                body = await _read_at_most(response, limit + 1)
                return FetchedPage(
                    url=str(response.url),
                    content_type=content_type,
                    charset=response.charset,
                    body=body[:limit],
                    truncated=len(body) > limit,
                    headers=kept,
                )
        raise FetchError(f"more than {self._settings.max_redirects} redirects")


async def _read_at_most(response: aiohttp.ClientResponse, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await response.content.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
