"""The recap's week: the 7 local days ending at the slot, in the guild's time zone.

A week is 7 *calendar* days on the guild's wall clock, so a week spanning a DST change lasts
167 or 169 hours and the next recap still covers "Monday 09:00 to Monday 09:00".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import UserFacingError
from bot.scheduling.recurrence import to_utc
from bot.timezones import parse_timezone

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Week:
    """[start, end) in UTC; `end` is the slot."""

    start: datetime
    end: datetime
    timezone: str

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def week_ending(slot_at: datetime, timezone: str) -> Week:
    """The 7 local days ending at `slot_at`."""
    if slot_at.tzinfo is None:
        raise ValueError("slot_at must be aware")
    zone = parse_timezone(timezone)
    local = slot_at.astimezone(zone).replace(tzinfo=None)
    start = to_utc(local - timedelta(days=7), zone)
    return Week(start=start, end=slot_at.astimezone(UTC), timezone=zone.key)


def parse_local_time(text: str) -> time:
    """ "09:00", "9:30", "18:05" → a time; a friendly error otherwise."""
    try:
        hours, minutes = text.strip().split(":")
        value = time(int(hours), int(minutes))
    except ValueError:
        raise UserFacingError(
            f"“{text[:20]}” is not a time; use 24-hour HH:MM, e.g. 09:00. Nothing was saved."
        ) from None
    return value


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserFacingError(
            f"“{text[:20]}” is not a date; use YYYY-MM-DD, e.g. 2026-03-02."
        ) from None


def noon_of(day: date, timezone: str) -> datetime:
    """An instant inside `day` on the guild's clock (noon avoids DST edges)."""
    zone: ZoneInfo = parse_timezone(timezone)
    return to_utc(datetime.combine(day, time(12, 0)), zone)
