"""The one time-zone helper: parse IANA names with suggestions, list them for autocomplete."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import UserFacingError


@cache
def all_timezones() -> tuple[str, ...]:
    # "posix/" and "right/" duplicates are noise for members picking a zone.
    names = (n for n in available_timezones() if not n.startswith(("posix/", "right/")))
    return tuple(sorted(names))


@cache
def _by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in all_timezones()}


def parse_timezone(name: str) -> ZoneInfo:
    """The zone for an IANA name (case-insensitive), or a UserFacingError suggesting close names."""
    cleaned = name.strip().replace(" ", "_")
    canonical = _by_lower_name().get(cleaned.lower())
    if canonical is not None:
        try:
            return ZoneInfo(canonical)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    suggestions = suggest_timezones(cleaned)
    hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
    raise UserFacingError(
        f"`{cleaned[:64]}` is not a time zone I know. Use an IANA name such as "
        f"`America/New_York` or `Europe/London`.{hint}"
    )


def suggest_timezones(text: str, limit: int = 3) -> list[str]:
    import difflib  # here, not at start-up: only a zone nobody knows needs it

    lowered = _by_lower_name()
    cities = {name.rsplit("/", 1)[-1].lower(): name for name in all_timezones()}
    key = text.strip().lower().replace(" ", "_")
    close = difflib.get_close_matches(key, lowered, n=limit, cutoff=0.6)
    found = [lowered[match] for match in close]
    for match in difflib.get_close_matches(key.rsplit("/", 1)[-1], cities, n=limit, cutoff=0.7):
        if cities[match] not in found:
            found.append(cities[match])
    return found[:limit]


def search_timezones(text: str, limit: int = 25) -> list[str]:
    """Zones whose name contains `text` (prefix matches on the city first), for autocomplete."""
    needle = text.strip().lower().replace(" ", "_")
    if not needle:
        return list(all_timezones()[:limit])
    starts, contains = [], []
    for name in all_timezones():
        lowered = name.lower()
        if lowered.rsplit("/", 1)[-1].startswith(needle) or lowered.startswith(needle):
            starts.append(name)
        elif needle in lowered:
            contains.append(name)
        if len(starts) >= limit:
            break
    return (starts + contains)[:limit]
