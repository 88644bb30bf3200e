"""The one safe fetcher for member-supplied URLs.

Rules: http/https only; every address a host name resolves to must be public (not loopback,
private, link-local, multicast, reserved or unspecified) and aiohttp connects only to the vetted
addresses this resolver returns; redirects are followed by hand (at most `max_redirects`) and
each hop is checked the same way; the whole fetch has one timeout; at most `max_bytes` are read;
a clear User-Agent. `allow_loopback_for_tests` admits 127.0.0.1 and nothing else.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from bot.settings import WebSettings

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = ("text/html", "application/xhtml+xml")
TEST_LOOPBACK = ipaddress.ip_address("127.0.0.1")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """The page could not be fetched (refused, blocked, too slow, not HTML...)."""


class BlockedAddress(FetchError):
    """The URL leads to an address the bot must not reach (e.g. the host's own network)."""


@dataclass(frozen=True)
class FetchedPage:
    url: str
    content_type: str
    charset: str | None
    body: bytes
    truncated: bool


def address_allowed(address: IPAddress, *, allow_loopback: bool = False) -> bool:
    """True for public unicast addresses (and 127.0.0.1 when a test allows it)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if allow_loopback and address == TEST_LOOPBACK:
        return True
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


class VettingResolver(AbstractResolver):
    """Resolves with the system resolver, then refuses the host if any address is not allowed."""

    def __init__(self, *, allow_loopback: bool, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or DefaultResolver()
        self._allow_loopback = allow_loopback

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            address = ipaddress.ip_address(result["host"].split("%", 1)[0])
            if not address_allowed(address, allow_loopback=self._allow_loopback):
                raise BlockedAddress(f"{host} resolves to a non-public address")
        if not results:
            raise FetchError(f"{host} has no address")
        return results

    async def close(self) -> None:
        await self._inner.close()


def check_url(url: str, *, allow_loopback: bool = False) -> None:
    """Refuse non-web schemes and IP-literal hosts that are not public (no DNS, no connection)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise BlockedAddress(f"{parts.scheme or 'no'} scheme is not fetched")
    host = parts.hostname
    if not host:
        raise BlockedAddress("no host")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return  # a name: the resolver vets what it resolves to
    if not address_allowed(literal, allow_loopback=allow_loopback):
        raise BlockedAddress(f"{host} is not a public address")


class SafeFetcher:
    """Owns its HTTP session (with the vetting resolver); close it when done."""

    def __init__(self, settings: WebSettings, *, resolver: AbstractResolver | None = None) -> None:
        self._settings = settings
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            resolver = VettingResolver(
                allow_loopback=self._settings.allow_loopback_for_tests, inner=self._resolver
            )
            connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False, limit=8)
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
        try:
            async with asyncio.timeout(self._settings.timeout_seconds):
                return await self._fetch(url)
        except TimeoutError:
            raise FetchError(f"{url} took longer than {self._settings.timeout_seconds} s") from None
        except aiohttp.ClientError as exc:
            raise FetchError(f"{url}: {type(exc).__name__}") from None

    async def _fetch(self, url: str) -> FetchedPage:
        allow = self._settings.allow_loopback_for_tests
        for _hop in range(self._settings.max_redirects + 1):
            check_url(url, allow_loopback=allow)
            async with self._client().get(url, allow_redirects=False) as response:
                if response.status in REDIRECT_STATUSES:
                    location = response.headers.get("Location")
                    if not location:
                        raise FetchError("redirect without a Location")
                    url = urljoin(url, location)
                    continue
                if response.status != 200:
                    raise FetchError(f"HTTP {response.status}")
                content_type = response.content_type.lower()
                if content_type not in HTML_TYPES:
                    raise FetchError(f"not HTML ({content_type})")
                limit = self._settings.max_bytes
                body = await _read_at_most(response, limit + 1)
                return FetchedPage(
                    url=str(response.url),
                    content_type=content_type,
                    charset=response.charset,
                    body=body[:limit],
                    truncated=len(body) > limit,
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
