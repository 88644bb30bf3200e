"""The one URL normaliser: w3lib for the general rules, this module for the community's own.

Hosts follow the fetcher's one rule (`bot.web.hosts.client_url`), so a link is filed under
the host it is fetched from: `ｅｘａｍｐｌｅ．ｃｏｍ` is `example.com`, IPv6 keeps its brackets.

`canonical_url` gives a link's clean form, the one the bot stores and shows: scheme and host case,
default ports, fragments, ``www.``, trailing slashes, query order, tracking parameters and the many
forms of a YouTube video all collapse to one string. `resource_key` then folds http into https:
two links are "the same resource" when their keys are equal.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url
from yarl import URL

from bot.errors import UserFacingError
from bot.web.hosts import client_url, host_address, valid_host_name

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

# Parameters that say where a click came from, never what the page is.
TRACKING_PARAMETERS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "si", "ref_src", "xtor"}
)
TRACKING_PREFIXES = ("utm_",)

_YOUTUBE_HOSTS = frozenset({"youtube.com", "m.youtube.com", "music.youtube.com"})
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{6,20}$")
# Finds links in message text; stops at whitespace and the brackets that usually wrap a link.
_LINK = re.compile(r"https?://[^\s<>\"'`|]+", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?)]}*_~>'\""


@dataclass(frozen=True)
class Link:
    original: str
    # The clean form: what the bot stores and shows (no tracking parameters, no fragment...).
    canonical: str
    domain: str

    @property
    def key(self) -> str:
        """The resource's identity in the library (see `resource_key`)."""
        return resource_key(self.canonical)


def resource_key(canonical: str) -> str:
    """One resource whatever the scheme: `http://x/a` and `https://x/a` are the same page, as
    link aggregators treat them. The key is the canonical form with http read as https."""
    return (
        "https://" + canonical[len("http://") :] if canonical.startswith("http://") else canonical
    )


def parse_link(text: str) -> Link:
    """Check a member's URL and return it with its canonical form; raise a friendly error if bad."""
    raw = text.strip().strip("<>")
    if not raw:
        raise UserFacingError("Give a link starting with https:// or http://.")
    if len(raw) > MAX_URL_LENGTH:
        raise UserFacingError(f"That link is longer than {MAX_URL_LENGTH} characters.")
    scheme = raw.split(":", 1)[0].lower() if ":" in raw else ""
    if scheme not in ALLOWED_SCHEMES:
        raise UserFacingError("Only web links (https:// or http://) can be shared.")
    url = _web_url(raw)
    return Link(original=raw, canonical=_canonical(raw, url), domain=_readable_host(url))


def canonical_url(url: str) -> str:
    """The canonical form of an http(s) URL (see the module docstring for the rules).

    Contract: defined for every link `parse_link` accepts (it is that link's `canonical`) and for
    any other http(s) URL with a usable host, such as a page's final URL after redirects; a
    canonical form is its own canonical form. Anything else raises `UserFacingError` with a
    member-readable reason, never another exception. The host is the one the fetcher judges
    (`bot.web.hosts.client_url`).
    """
    raw = url.strip()
    return _canonical(raw, _web_url(raw))


def _web_url(raw: str) -> URL:
    """`raw` as the fetcher will parse it, or the member's reason why it is no web link."""
    try:
        raw.encode()  # a lone surrogate (decoded JSON may hold one) is no character at all
        url = client_url(raw)
        # The canonical path and query come from urlsplit, so it must accept the link too.
        urlsplit(raw)
    except ValueError:
        raise UserFacingError("That does not look like a valid web link.") from None
    if url.scheme not in ALLOWED_SCHEMES:
        raise UserFacingError("Only web links (https:// or http://) can be shared.")
    if not _usable_host(_bare_host(url)):
        raise UserFacingError("That link has no valid host name.")
    return url


def _bare_host(url: URL) -> str:
    return (url.raw_host or "").rstrip(".")


def _usable_host(host: str) -> bool:
    """An IP address in its usual form (yarl's), or a DNS name with a dot, or localhost."""
    if host_address(host) is not None:
        # Not `2130706433`, `0x7f.1` or a zone (`fe80::1%25eth0`): no one shares those.
        return "%" not in host and _is_ip_literal(host)
    return valid_host_name(host) and ("." in host or host == "localhost")


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _canonical(raw: str, url: URL) -> str:
    parts = urlsplit(raw)
    scheme = url.scheme
    host = _bare_host(url)
    if host.startswith("www."):
        host = host[4:]
    shown = f"[{host}]" if ":" in host else host
    port = url.explicit_port
    netloc = shown if port is None or DEFAULT_PORTS.get(scheme) == port else f"{shown}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(key)
    ]
    path = parts.path or "/"
    special = _community_rules(host, path, query)
    if special is not None:
        return special
    rebuilt = urlunsplit((scheme, netloc, path, urlencode(query), ""))
    canonical = canonicalize_url(rebuilt, keep_fragments=False)
    # A trailing slash is not part of the resource's identity (except for the bare root).
    head, sep, tail = canonical.partition("?")
    scheme_host_end = head.find("/", len(scheme) + 3)
    if scheme_host_end != -1 and len(head) > scheme_host_end + 1:
        head = head[: scheme_host_end + 1] + head[scheme_host_end + 1 :].rstrip("/")
    elif scheme_host_end == -1:
        head += "/"
    return head + (sep + tail if tail else "")


def _readable_host(url: URL) -> str:
    """The site as members read it: Unicode rather than punycode, brackets around IPv6."""
    host = _bare_host(url)
    if ":" in host:
        return f"[{host}]"
    with contextlib.suppress(UnicodeError):  # not valid IDNA: show the ASCII form
        host = (url.host or host).rstrip(".")
    return _display_domain(host)


def _is_tracking(key: str) -> bool:
    lowered = key.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


def _community_rules(host: str, path: str, query: list[tuple[str, str]]) -> str | None:
    """Links educators share in many forms: every YouTube video becomes one watch URL."""
    video: str | None = None
    if host == "youtu.be":
        video = path.strip("/").split("/")[0]
    elif host in _YOUTUBE_HOSTS:
        if path.rstrip("/") == "/watch":
            video = dict(query).get("v")
        elif path.startswith(("/shorts/", "/embed/", "/live/", "/v/")):
            video = path.split("/")[2]
    if video and _VIDEO_ID.match(video):
        return f"https://youtube.com/watch?v={video}"
    return None


DISCORD_HOSTS = frozenset(
    {"discord.com", "discordapp.com", "discord.gg", "cdn.discordapp.com", "media.discordapp.net"}
)
GIF_HOSTS = frozenset(
    {"tenor.com", "media.tenor.com", "giphy.com", "media.giphy.com", "gfycat.com"}
)


def host_matches(host: str, hosts: frozenset[str] | set[str]) -> bool:
    """True if `host` is one of `hosts` or a subdomain of one."""
    host = _display_domain(host.lower())
    return any(host == entry or host.endswith("." + entry) for entry in hosts)


def is_capturable(domain: str, ignored_hosts: frozenset[str] = frozenset()) -> bool:
    """Capture skips Discord's own links (messages, attachments), GIF hosts and ignored hosts."""
    return not host_matches(domain, DISCORD_HOSTS | GIF_HOSTS | ignored_hosts)


def _display_domain(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def find_links(text: str) -> list[str]:
    """Links in message text outside code blocks and inline code, in order, without repeats."""
    without_code = re.sub(r"```.*?(```|$)", " ", text, flags=re.DOTALL)
    without_code = re.sub(r"`[^`\n]*`", " ", without_code)
    found: list[str] = []
    for match in _LINK.finditer(without_code):
        link = match.group(0)
        # Keep balanced parentheses (Wikipedia); drop punctuation that ends the sentence.
        while link and link[-1] in _TRAILING_PUNCTUATION:
            if link[-1] == ")" and link.count("(") >= link.count(")"):
                break
            link = link[:-1]
        if link not in found:
            found.append(link)
    return found
