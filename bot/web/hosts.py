"""The one host rule: a URL's host exactly as the HTTP client will connect to it.

The fetcher judges this form before it connects, and the library files links under it, so a
look-alike spelling (fullwidth digits, ideographic full stops, circled numbers) can neither slip
past the fetcher's checks nor make a second copy of a link.
"""

from __future__ import annotations

import ipaddress
import re
import socket

from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# What inet_aton may read as an IPv4 address: decimal, octal and hex parts, one to four of them.
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+", re.ASCII | re.IGNORECASE)
_HOST_LABEL = re.compile(r"[a-z0-9_-]{1,63}", re.ASCII)
_MAX_HOST_NAME = 253


def client_url(url: str | URL) -> URL:
    """`url` exactly as the HTTP client parses it: yarl, the library aiohttp uses.

    Host names come back UTS-46 mapped and IDNA encoded (fullwidth letters, ideographic full
    stops and circled digits become ASCII) and IP literals compressed, IPv6 without brackets.
    This is the one host rule: the fetcher judges this form, the library's canonical links use
    it. Raises ValueError if yarl cannot parse the URL (then the client could not request it).
    """
    if isinstance(url, URL):
        return url
    try:
        return URL(url)
    except IndexError as exc:  # yarl 1.25 on some bracketed authorities, e.g. `http://[]@`
        raise ValueError(f"cannot parse {url!r}") from exc


def host_address(host: str) -> IPAddress | None:
    """The address an IP-literal host connects to, None for a host name.

    Any spelling the socket layer reads as an address counts: `127.0.0.1`, `2130706433`,
    `0177.0.0.1`, `0x7f.1`, `127.1`, a trailing dot, an IPv6 zone.
    """
    bare = host.removeprefix("[").removesuffix("]").split("%", 1)[0].removesuffix(".")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(bare):
        try:
            # The same C routine getaddrinfo uses for numeric hosts.
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def valid_host_name(host: str) -> bool:
    """True for a DNS name (as `client_url` encodes it): labels of 1 to 63 characters."""
    name = host.removesuffix(".")
    return len(name) <= _MAX_HOST_NAME and all(
        _HOST_LABEL.fullmatch(label) for label in name.split(".")
    )
