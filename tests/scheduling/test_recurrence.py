"""Recurrence and DST: wall-clock time is kept, gaps run at the transition, overlaps run once."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import UserFacingError
from bot.scheduling import Recurrence, parse_when, preview, to_utc

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone))


def weekly(zone: str, at: time, day: int, start: date) -> Recurrence:
    return Recurrence("weekly", at, zone, start, weekdays=(day,))


def test_weekly_new_york_chat_keeps_19_00_across_both_transitions() -> None:
    rule = weekly("America/New_York", time(19), 3, date(2026, 3, 1))  # Thursdays
    spring = rule.instants_after(datetime(2026, 3, 1, tzinfo=UTC), 3)
    assert [i.hour for i in spring] == [0, 23, 23]  # EST (UTC-5) then EDT (UTC-4)
    assert all(local(i, "America/New_York").hour == 19 for i in spring)
    autumn = rule.instants_after(datetime(2026, 10, 26, tzinfo=UTC), 3)
    assert [i.hour for i in autumn] == [23, 0, 0]
    assert all(local(i, "America/New_York").time() == time(19) for i in autumn)


@pytest.mark.parametrize(
    ("zone", "wall", "expected_utc"),
    [
        # Spring forward: 02:30 does not exist; runs at the transition, 03:00 local.
        ("America/New_York", datetime(2026, 3, 8, 2, 30), datetime(2026, 3, 8, 7, 0)),
        ("Europe/London", datetime(2026, 3, 29, 1, 15), datetime(2026, 3, 29, 1, 0)),
        # Lord Howe moves 30 minutes: 02:00 → 02:30 on 2026-10-04.
        ("Australia/Lord_Howe", datetime(2026, 10, 4, 2, 10), datetime(2026, 10, 3, 15, 30)),
        # Far future: the rules still apply in 2099.
        ("America/New_York", datetime(2099, 3, 8, 2, 30), datetime(2099, 3, 8, 7, 0)),
    ],
)
def test_a_time_that_does_not_exist_runs_at_the_first_valid_instant(
    zone: str, wall: datetime, expected_utc: datetime
) -> None:
    instant = to_utc(wall, ZoneInfo(zone))
    assert instant == expected_utc.replace(tzinfo=UTC)
    shown = local(instant, zone).replace(tzinfo=None)
    assert shown > wall - timedelta(hours=1) and shown >= wall.replace(minute=0)
    # Nothing earlier shows a local time at or after the requested one.
    assert local(instant - timedelta(seconds=1), zone).replace(tzinfo=None) < wall


@pytest.mark.parametrize(
    ("zone", "wall", "expected_utc"),
    [
        # Fall back: 01:30 happens twice; the first (daylight) occurrence is used.
        ("America/New_York", datetime(2026, 11, 1, 1, 30), datetime(2026, 11, 1, 5, 30)),
        ("Europe/London", datetime(2026, 10, 25, 1, 30), datetime(2026, 10, 25, 0, 30)),
        ("Australia/Lord_Howe", datetime(2026, 4, 5, 1, 45), datetime(2026, 4, 4, 14, 45)),
        ("Europe/London", datetime(2150, 10, 25, 1, 30), datetime(2150, 10, 25, 0, 30)),
    ],
)
def test_an_ambiguous_time_runs_once_at_its_first_occurrence(
    zone: str, wall: datetime, expected_utc: datetime
) -> None:
    assert to_utc(wall, ZoneInfo(zone)) == expected_utc.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "start", "at"),
    [
        ("America/New_York", date(2026, 3, 1), time(2, 30)),
        ("America/New_York", date(2026, 10, 25), time(1, 30)),
        ("Europe/London", date(2026, 3, 22), time(1, 30)),
        ("Europe/London", date(2026, 10, 18), time(1, 30)),
        ("Australia/Lord_Howe", date(2026, 3, 29), time(1, 45)),
        ("Australia/Lord_Howe", date(2026, 9, 27), time(2, 15)),
        ("America/New_York", date(2087, 3, 2), time(2, 30)),
    ],
)
def test_daily_rules_over_a_transition_run_once_a_day_in_order(
    zone: str, start: date, at: time
) -> None:
    rule = Recurrence("daily", at, zone, start)
    after = datetime.combine(start, time(0), ZoneInfo(zone)).astimezone(UTC)
    instants = rule.instants_after(after, 21)
    days = [local(i, zone).date() for i in instants]
    assert days == [start + timedelta(days=n) for n in range(21)]  # no day skipped or doubled
    assert instants == sorted(set(instants))
    kept = [i for i in instants if local(i, zone).time() == at]
    assert len(kept) >= 20  # at most the gap day moves


def test_lord_howe_weekly_keeps_the_wall_clock_across_its_30_minute_change() -> None:
    rule = weekly("Australia/Lord_Howe", time(19), 6, date(2026, 3, 28))
    instants = rule.instants_after(datetime(2026, 3, 27, tzinfo=UTC), 3)
    assert all(local(i, "Australia/Lord_Howe").time() == time(19) for i in instants)
    assert instants[1] - instants[0] == timedelta(days=7, minutes=30)


def test_monthly_second_tuesday_every_two_weeks_and_counts() -> None:
    second_tuesday = Recurrence(
        "monthly", time(19), "UTC", date(2026, 1, 1), weekdays=(1,), month_week=2
    )
    assert [i.date() for i in second_tuesday.instants_after(NOW, 3)] == [
        date(2026, 3, 10),
        date(2026, 4, 14),
        date(2026, 5, 12),
    ]
    fortnightly = Recurrence("weekly", time(9), "UTC", date(2026, 3, 2), interval=2, count=3)
    assert [i.date() for i in fortnightly.instants_after(NOW - timedelta(days=1), 9)] == [
        date(2026, 3, 2),
        date(2026, 3, 16),
        date(2026, 3, 30),
    ]
    last_day = Recurrence("monthly", time(9), "UTC", date(2026, 1, 1), month_day=-1)
    assert [i.day for i in last_day.instants_after(NOW, 2)] == [31, 30]


def test_preview_gives_the_next_five_instants() -> None:
    rule = parse_when("weekly on tue at 19:00", "America/New_York", NOW)
    shown = preview(rule, NOW)
    assert len(shown) == 5
    assert [local(i, "America/New_York").strftime("%a %H:%M") for i in shown] == ["Tue 19:00"] * 5


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("weekly on tue,thu at 19:00", "every week on Tue, Thu at 19:00 (Europe/London)"),
        ("every 2 weeks on monday at 6:30pm", "every 2 weeks on Mon at 18:30 (Europe/London)"),
        ("daily at 08:00", "every day at 08:00 (Europe/London)"),
        ("monthly on 2nd tue at 19:00", "every month on the 2nd Tue at 19:00 (Europe/London)"),
        ("monthly on last fri at 19:00", "every month on the last Fri at 19:00 (Europe/London)"),
        ("monthly on day 15 at 12:00", "every month on day 15 at 12:00 (Europe/London)"),
        ("once on 2026-03-10 at 19:00", "once on 2026-03-10 at 19:00 (Europe/London)"),
        (
            "tue 7pm until 2026-06-30",
            "every week on Tue at 19:00 (Europe/London), until 2026-06-30",
        ),
        ("daily at 07:00 10 times", "every day at 07:00 (Europe/London), 10 times"),
    ],
)
def test_when_text_is_read(text: str, description: str) -> None:
    assert parse_when(text, "Europe/London", NOW).describe() == description


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("whenever", "could not"),
        ("weekly on tue", "time of day"),
        ("weekly on blursday at 19:00", "blursday"),
        ("once on 2026-03-01 at 19:00", "past"),
        ("weekly on tue at 25:00", "not a time"),
        ("daily at 09:00 until 2026-01-01", "end date"),
        ("monthly on day 40 at 09:00", "between 1 and 31"),
    ],
)
def test_bad_when_text_is_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(UserFacingError, match=message):
        parse_when(text, "Europe/London", NOW)


def test_an_unknown_zone_suggests_close_names() -> None:
    with pytest.raises(UserFacingError, match="America/New_York"):
        parse_when("daily at 09:00", "America/New_Yrok", NOW)


ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    start=st.dates(date(2025, 1, 1), date(2060, 12, 31)),
)
def test_property_daily_instants_increase_and_keep_the_wall_clock_when_it_exists(
    zone: str, hour: int, minute: int, start: date
) -> None:
    rule = Recurrence("daily", time(hour, minute), zone, start)
    after = datetime.combine(start, time(0), UTC) - timedelta(days=1)
    instants = rule.instants_after(after, 10)
    assert all(b > a for a, b in itertools.pairwise(instants))
    for instant in instants:
        wall = datetime.combine(local(instant, zone).date(), time(hour, minute))
        shown = local(instant, zone).replace(tzinfo=None)
        assert shown == wall or (shown > wall and shown - wall <= timedelta(hours=1))


@settings(max_examples=30, deadline=None)
@given(
    frequency=st.sampled_from(["daily", "weekly", "monthly"]),
    interval=st.integers(1, 5),
    day=st.integers(0, 6),
    nth=st.sampled_from([None, 1, 2, -1]),
    start=st.dates(date(2020, 1, 1), date(2026, 12, 31)),
    years_later=st.integers(0, 12),  # replaying stays under MAX_SCAN
)
def test_property_a_long_running_rule_gives_the_same_instants_as_replaying_it(
    frequency: str, interval: int, day: int, nth: int | None, start: date, years_later: int
) -> None:
    """The fast path (a later dtstart in the same phase) agrees with replaying from the start."""
    rule = Recurrence(
        frequency,  # type: ignore[arg-type]
        time(19),
        "America/New_York",
        start,
        interval=interval,
        weekdays=(day,) if frequency == "weekly" or nth else (),
        month_week=nth if frequency == "monthly" else None,
        month_day=None if nth or frequency != "monthly" else 31,
    )
    after = datetime.combine(start, time(0), UTC) + timedelta(days=365 * years_later + 17)
    fast = rule.instants_after(after, 4)
    local_after = after.astimezone(rule.zone).replace(tzinfo=None) - timedelta(days=1)
    replay = [
        i
        for i in (
            to_utc(w, rule.zone)
            for w in rule.wall_clock_times(None)
            if w > local_after - timedelta(days=1)
        )
        if i > after
    ][:4]
    assert fast == replay
