"""Recurrence rules on local wall-clock time, turned into UTC instants with explicit DST rules.

A rule is expanded on *naive local* datetimes (dateutil's rrule), so 19:00 stays 19:00 on both
sides of a DST change; only then is each wall-clock time mapped to an instant:

- a local time that does not exist (spring forward) runs at the first valid instant after it,
  i.e. the instant of the transition (02:30 New York on the spring day → 03:00 EDT);
- an ambiguous local time (fall back) runs once, at its first occurrence (fold=0).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import rrule as _rr

from bot.errors import UserFacingError
from bot.timezones import parse_timezone

Frequency = Literal["once", "daily", "weekly", "monthly"]
FREQUENCIES: tuple[Frequency, ...] = ("once", "daily", "weekly", "monthly")
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RR_FREQ = {"daily": _rr.DAILY, "weekly": _rr.WEEKLY, "monthly": _rr.MONTHLY}
# An occurrence search never walks further than this many occurrences (a daily rule, ~27 years).
MAX_SCAN = 10_000


@dataclass(frozen=True)
class Recurrence:
    """When a schedule runs, in the terms a moderator uses.

    `weekdays` are 0=Monday..6=Sunday (weekly; empty means the start date's weekday).
    Monthly runs on `month_day` (1..31, or -1 for the last day), or on the `month_week`-th
    (1..5, -1 = last) of `weekdays[0]`, e.g. the 2nd Tuesday.
    """

    frequency: Frequency
    local_time: time
    timezone: str
    starts_on: date
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    month_day: int | None = None
    month_week: int | None = None
    ends_on: date | None = None
    count: int | None = None
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", parse_timezone(self.timezone))
        _validate(self)

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def wall_clock_times(self, after_local: datetime | None = None) -> Iterator[datetime]:
        """Naive local datetimes of the occurrences, in order (strictly after `after_local`)."""
        start = datetime.combine(self.starts_on, self.local_time)
        if self.frequency == "once":
            if after_local is None or start > after_local:
                yield start
            return
        rule = _rr.rrule(
            _RR_FREQ[self.frequency],
            dtstart=self._aligned_start(start, after_local),
            interval=self.interval,
            count=self.count,
            until=datetime.combine(self.ends_on, time.max) if self.ends_on else None,
            cache=False,
            **self._by_parts(),
        )
        iterator = rule.xafter(after_local, inc=False) if after_local else iter(rule)
        for index, occurrence in enumerate(iterator):
            if index >= MAX_SCAN:
                return
            yield occurrence

    def _aligned_start(self, start: datetime, after_local: datetime | None) -> datetime:
        """A later dtstart in the same phase, so a years-old rule does not replay its past.

        Only without `count` (which counts from the real start). Daily/weekly rules move by
        whole intervals; monthly ones to the first day of a month a whole interval away (the
        day is always given explicitly by bymonthday/byweekday).
        """
        if self.count is not None or after_local is None or after_local <= start:
            return start
        if self.frequency in ("daily", "weekly"):
            step = timedelta(days=self.interval * (7 if self.frequency == "weekly" else 1))
            return start + step * max((after_local - start) // step - 1, 0)
        months = (after_local.year - start.year) * 12 + after_local.month - start.month
        shift = max(months // self.interval - 1, 0) * self.interval
        if shift == 0:
            return start
        index = start.month - 1 + shift
        return start.replace(year=start.year + index // 12, month=index % 12 + 1, day=1)

    def _by_parts(self) -> dict[str, object]:
        if self.frequency == "weekly":
            return {"byweekday": self.weekdays or (self.starts_on.weekday(),)}
        if self.frequency == "monthly":
            if self.month_week is not None:
                weekday = _rr.weekday(self.weekdays[0])
                return {"byweekday": weekday(self.month_week)}
            return {"bymonthday": self.month_day or self.starts_on.day}
        return {}

    def instants_after(self, after: datetime, limit: int) -> list[datetime]:
        """The next `limit` UTC instants strictly after `after` (an aware instant)."""
        found: list[datetime] = []
        for instant in self.iter_instants(after):
            found.append(instant)
            if len(found) >= limit:
                break
        return found

    def next_after(self, after: datetime) -> datetime | None:
        return next(self.iter_instants(after), None)

    def iter_instants(self, after: datetime) -> Iterator[datetime]:
        # Start a day early in local time: the zone's offset and a gap can move a slot across.
        local_after = after.astimezone(self.zone).replace(tzinfo=None) - timedelta(days=1)
        for wall in self.wall_clock_times(local_after):
            instant = to_utc(wall, self.zone)
            if instant > after:
                yield instant

    def instants_between(self, start: datetime, end: datetime) -> list[datetime]:
        """UTC instants with start <= instant <= end (bounded by MAX_SCAN)."""
        found = []
        for instant in self.iter_instants(start - timedelta(microseconds=1)):
            if instant > end:
                break
            found.append(instant)
        return found

    def describe(self) -> str:
        """A short English description, e.g. 'every 2 weeks on Tue, Thu at 19:00 (UTC)'."""
        at = f"at {self.local_time:%H:%M} ({self.timezone})"
        if self.frequency == "once":
            return f"once on {self.starts_on.isoformat()} {at}"
        every = {"daily": "day", "weekly": "week", "monthly": "month"}[self.frequency]
        head = f"every {every}" if self.interval == 1 else f"every {self.interval} {every}s"
        if self.frequency == "weekly":
            days = self.weekdays or (self.starts_on.weekday(),)
            head += " on " + ", ".join(WEEKDAY_NAMES[d].title() for d in days)
        elif self.frequency == "monthly":
            if self.month_week is not None:
                nth = "last" if self.month_week == -1 else _ordinal(self.month_week)
                head += f" on the {nth} {WEEKDAY_NAMES[self.weekdays[0]].title()}"
            else:
                day = self.month_day or self.starts_on.day
                head += " on the last day" if day == -1 else f" on day {day}"
        tail = ""
        if self.ends_on:
            tail = f", until {self.ends_on.isoformat()}"
        if self.count:
            tail += f", {self.count} times"
        return f"{head} {at}{tail}"


def to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant of a naive local wall-clock time in `zone`, with the module's DST rules."""
    first = wall.replace(tzinfo=zone, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant  # exists (fold=0 is the first occurrence when ambiguous)
    # In a gap: fold=1 reads it with the offset after the change, fold=0 with the one before;
    # the transition lies between the two readings. Binary-search the first instant at or
    # after which the local clock shows a time >= wall.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = instant
    if low > high:
        low, high = high, low
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def _validate(rule: Recurrence) -> None:
    if rule.frequency not in FREQUENCIES:
        raise UserFacingError(f"Repeat must be one of {', '.join(FREQUENCIES)}.")
    if not 1 <= rule.interval <= 52:
        raise UserFacingError("The interval must be between 1 and 52.")
    if any(not 0 <= d <= 6 for d in rule.weekdays):
        raise UserFacingError("Weekdays are Monday to Sunday.")
    if rule.month_day is not None and not (1 <= rule.month_day <= 31 or rule.month_day == -1):
        raise UserFacingError("A day of the month is between 1 and 31 (or `last`).")
    if rule.month_week is not None:
        if rule.month_week not in (1, 2, 3, 4, 5, -1):
            raise UserFacingError("Use 1st to 5th or last, e.g. `2nd tue`.")
        if len(rule.weekdays) != 1:
            raise UserFacingError("Say which weekday, e.g. `2nd tue`.")
    if rule.count is not None and not 1 <= rule.count <= 1000:
        raise UserFacingError("A schedule runs between 1 and 1000 times.")
    if rule.ends_on is not None and rule.ends_on < rule.starts_on:
        raise UserFacingError("The end date is before the start date.")


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")
