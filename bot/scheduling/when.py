"""Parse the `when` text moderators type into a Recurrence.

Accepted forms (case-insensitive; words may come in any order after the repeat):

    daily at 08:00
    weekly on tue,thu at 19:00          (also: "tue 19:00", "every tuesday at 7pm")
    every 2 weeks on mon at 18:30
    monthly on day 15 at 12:00          (also: "monthly on last day at 12:00")
    monthly on 2nd tue at 19:00         (also: "last fri")
    once on 2026-03-10 at 19:00         (also: "2026-03-10 19:00")
    ... from 2026-03-10  until 2026-06-30  10 times
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from bot.errors import UserFacingError
from bot.scheduling.recurrence import WEEKDAY_NAMES, Frequency, Recurrence, to_utc
from bot.timezones import parse_timezone

EXAMPLES = "`weekly on tue at 19:00`, `every 2 weeks on mon,thu at 18:30`, `daily at 08:00`, `monthly on 2nd tue at 19:00`, `once on 2026-03-10 at 19:00`"  # noqa: E501

_TIME = re.compile(r"\b(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b(?!-)")
_DATE = re.compile(r"\b(from|until|on)?\s*(\d{4}-\d{2}-\d{2})\b")
_EVERY_N = re.compile(r"\bevery\s+(\d{1,2})\s+(day|week|month)s?\b")
_NTH = re.compile(r"\b(1st|2nd|3rd|4th|5th|last)\s+([a-z]+)\b")
_MONTH_DAY = re.compile(r"\bday\s+(\d{1,2}|last)\b")
_COUNT = re.compile(r"\b(\d{1,4})\s+times\b")
_ORDINALS = {"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "last": -1}


def weekday_number(word: str) -> int | None:
    word = word.strip().lower()
    if len(word) < 2:
        return None
    for index, name in enumerate(WEEKDAY_NAMES):
        full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        if full[index].startswith(word) or word.rstrip("s") == full[index] or word == name:
            return index
    return None


def parse_when(text: str, timezone: str, now: datetime) -> Recurrence:
    """A Recurrence for `text` in `timezone`; a UserFacingError explains what could not be read."""
    original = text
    text = " " + text.strip().lower().replace(",", " , ") + " "
    if not text.strip():
        raise _unreadable(original)
    starts_on: date | None = None
    ends_on: date | None = None
    once_on: date | None = None
    for match in list(_DATE.finditer(text)):
        value = _date(match.group(2))
        if match.group(1) == "until":
            ends_on = value
        elif match.group(1) == "from":
            starts_on = value
        else:
            once_on = value
        text = text.replace(match.group(0), " ")
    count = None
    if match_count := _COUNT.search(text):
        count = int(match_count.group(1))
        text = text.replace(match_count.group(0), " ")

    frequency: Frequency | None = None
    interval = 1
    if match_every := _EVERY_N.search(text):
        interval = int(match_every.group(1))
        unit = match_every.group(2)
        frequency = "daily" if unit == "day" else "weekly" if unit == "week" else "monthly"
        text = text.replace(match_every.group(0), " ")
    for word, freq in (
        ("daily", "daily"),
        ("every day", "daily"),
        ("weekly", "weekly"),
        ("every week", "weekly"),
        ("monthly", "monthly"),
        ("every month", "monthly"),
        ("once", "once"),
    ):
        if f" {word} " in text:
            frequency = frequency or freq  # type: ignore[assignment]
            text = text.replace(f" {word} ", " ")

    month_week: int | None = None
    weekdays: list[int] = []
    if match_nth := _NTH.search(text):
        day = weekday_number(match_nth.group(2))
        if day is not None:
            month_week = _ORDINALS[match_nth.group(1)]
            weekdays = [day]
            frequency = frequency or "monthly"
            text = text.replace(match_nth.group(0), " ")
    month_day: int | None = None
    if match_day := _MONTH_DAY.search(text):
        month_day = -1 if match_day.group(1) == "last" else int(match_day.group(1))
        frequency = frequency or "monthly"
        text = text.replace(match_day.group(0), " ")

    match_time = _TIME.search(text)
    if match_time is None:
        raise UserFacingError(
            f"I could not find a time of day in `{original[:100]}`. Try {EXAMPLES}."
        )
    local_time = _time(match_time)
    text = text[: match_time.start()] + " " + text[match_time.end() :]

    for word in re.split(r"[\s,]+", text):
        if not word or word in ("on", "every", "and", "at"):
            continue
        day = weekday_number(word)
        if day is None:
            raise _unreadable(original, word)
        if day not in weekdays:
            weekdays.append(day)
    if month_week is None and weekdays:
        frequency = frequency or "weekly"

    if once_on is not None and frequency in (None, "once"):
        frequency = "once"
        starts_on = once_on
    elif once_on is not None:
        starts_on = starts_on or once_on
    if frequency is None:
        raise _unreadable(original)

    rule = Recurrence(
        frequency=frequency,
        local_time=local_time,
        timezone=timezone,
        starts_on=starts_on or _local_today(now, timezone),
        interval=interval,
        weekdays=tuple(sorted(weekdays)),
        month_day=month_day,
        month_week=month_week,
        ends_on=ends_on,
        count=count,
    )
    if rule.frequency == "once":
        if to_utc(datetime.combine(rule.starts_on, rule.local_time), rule.zone) <= now:
            raise UserFacingError("That time is in the past. Pick a time in the future.")
    elif rule.next_after(now) is None:
        raise UserFacingError("That schedule has no run in the future (check the end date).")
    return rule


def _local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(parse_timezone(timezone)).date()


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserFacingError(f"`{value}` is not a date (use YYYY-MM-DD).") from None


def _time(match: re.Match[str]) -> time:
    hour, minute, meridiem = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if meridiem:
        if not 1 <= hour <= 12:
            raise UserFacingError("With am/pm the hour is between 1 and 12.")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    elif match.group(2) is None:
        raise UserFacingError("Write the time as HH:MM (24-hour) or with am/pm, e.g. `19:00`.")
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise UserFacingError("That is not a time of day; use HH:MM, e.g. `19:00`.")
    return time(hour, minute)


def _unreadable(original: str, word: str | None = None) -> UserFacingError:
    what = f" (I did not understand `{word[:30]}`)" if word else ""
    return UserFacingError(f"I could not read `{original[:100]}`{what}. Try {EXAMPLES}.")
