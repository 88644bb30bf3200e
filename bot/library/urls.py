"""The one URL normaliser: w3lib for the general rules, this module for the community's own.

`canonical_url` decides when two links are "the same resource": scheme and host case, default
ports, fragments, ``www.``, trailing slashes, query order, tracking parameters and the many forms
of a YouTube video all collapse to one string.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from bot.errors import UserFacingError

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
    canonical: str
    domain: str


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
    try:
        parts = urlsplit(raw)
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:
        raise UserFacingError("That does not look like a valid web link.") from None
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or ("." not in host and host != "localhost") or " " in host:
        raise UserFacingError("That link has no valid host name.")
    canonical = canonical_url(raw)
    return Link(original=raw, canonical=canonical, domain=_display_domain(host))


def canonical_url(url: str) -> str:
    """The canonical form of an http(s) URL (see the module docstring for the rules)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    with contextlib.suppress(UnicodeError):  # else keep the unicode host, lower-cased
        host = host.encode("idna").decode("ascii")
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
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
        head = head.rstrip("/")
    elif scheme_host_end == -1:
        head += "/"
    return head + (sep + tail if tail else "")


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
