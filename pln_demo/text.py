"""Discord's markup as a member reads it: mentions by name, timestamps in the reader's zone."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
_CHANNEL = re.compile(r"<#(\d+)>")
_EMOJI = re.compile(r"<a?:(\w+):\d+>")
_TIMESTAMP = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>")
_JUMP = re.compile(r"https?://(?:\w+\.)?discord(?:app)?\.com/channels/\d+/(\d+)(?:/\d+)?")
_LINK = re.compile(r"\[([^\]\n]+)\]\(<?(https?://[^)\s>]+)>?\)")
_ESCAPED = re.compile(r"\\([_*~`|>\\#-])")
_HEADING = re.compile(r"^#{1,3} (.+)$", re.MULTILINE)
_SUBTEXT = re.compile(r"^-# ", re.MULTILINE)
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)

Name = Callable[[int], str]


class Markup:
    """Turns message text into what a reader sees. `user`, `role` and `channel` name an id."""

    def __init__(self, *, user: Name, role: Name, channel: Name) -> None:
        self._user, self._role, self._channel = user, role, channel

    def readable(self, text: str, zone: ZoneInfo, now: datetime) -> str:
        # A link shows its label, as Discord shows it; a link to a message says where it is.
        text = _LINK.sub(self._link, text)
        text = _HEADING.sub(r"**\1**", text)
        text = _SUBTEXT.sub("", text)
        text = _USER.sub(lambda m: "@" + self._user(int(m[1])), text)
        text = _ROLE.sub(lambda m: "@" + self._role(int(m[1])), text)
        text = _CHANNEL.sub(lambda m: self._channel(int(m[1])), text)
        text = _EMOJI.sub(lambda m: f":{m[1]}:", text)
        text = _JUMP.sub(lambda m: f"→ {self._channel(int(m[1]))}", text)
        text = _TIMESTAMP.sub(lambda m: timestamp(int(m[1]), m[2] or "f", zone, now), text)
        return _ESCAPED.sub(r"\1", text)

    def _link(self, match: re.Match[str]) -> str:
        label, url = match[1], match[2]
        jump = _JUMP.fullmatch(url)
        return f"{label} (→ {self._channel(int(jump[1]))})" if jump else label


def timestamp(seconds: int, style: str, zone: ZoneInfo, now: datetime) -> str:
    """A Discord timestamp (`<t:…:F>`) as Discord shows it to a reader in `zone`."""
    moment = datetime.fromtimestamp(seconds, UTC).astimezone(zone)
    if style == "R":
        return relative(moment - now)
    zone_name = moment.tzname() or str(zone)
    formats = {
        "t": f"%H:%M {zone_name}",
        "T": f"%H:%M:%S {zone_name}",
        "d": "%d %b %Y",
        "D": "%d %B %Y",
        "f": f"%d %B %Y %H:%M {zone_name}",
        "F": f"%A %d %B %Y %H:%M {zone_name}",
    }
    return moment.strftime(formats.get(style, formats["f"]))


def relative(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    size = abs(seconds)
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if size >= length:
            count = round(size / length)
            words = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {words}" if seconds > 0 else f"{words} ago"
    return "now"


def bold_spans(text: str) -> list[tuple[str, bool]]:
    """`**bold**` split out: (text, is_bold) pieces in order."""
    pieces: list[tuple[str, bool]] = []
    last = 0
    for match in _BOLD.finditer(text):
        if match.start() > last:
            pieces.append((text[last : match.start()], False))
        pieces.append((match[1], True))
        last = match.end()
    if last < len(text):
        pieces.append((text[last:], False))
    return pieces


def plain(text: str) -> str:
    """Without `**` (a terminal that shows no bold shows no stars either)."""
    return "".join(piece for piece, _ in bold_spans(text))
