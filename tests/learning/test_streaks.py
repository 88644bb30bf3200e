"""Streaks on local days: consecutive days, one grace day in any 7, today only at stake."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.learning.streaks import local_day, streak_of

D = date(2026, 3, 1)


def _days(*offsets: int, minutes: int = 20) -> dict[date, int]:
    return {D + timedelta(days=o): minutes for o in offsets}


def test_consecutive_days_with_the_goal_met_make_a_streak() -> None:
    streak = streak_of(_days(0, 1, 2), 20, D + timedelta(days=2))
    assert (streak.current, streak.best, streak.today_met) == (3, 3, True)
    assert not streak.at_stake


def test_days_under_the_goal_do_not_count() -> None:
    days = _days(0, 1) | {D + timedelta(days=2): 19}
    streak = streak_of(days, 20, D + timedelta(days=2))
    assert (streak.current, streak.today_met, streak.at_stake) == (2, False, True)


def test_a_grace_day_keeps_a_streak_and_a_second_missed_day_ends_it() -> None:
    days = _days(0, 1, 2, 4)  # day 3 missed
    kept = streak_of(days, 20, D + timedelta(days=4))
    assert kept.current == 4 and kept.grace_days == (D + timedelta(days=3),)
    # Days 5 and 6 missed: 5 is within 7 days of the grace day 3, so the streak ends.
    ended = streak_of(days, 20, D + timedelta(days=6))
    assert (ended.current, ended.best) == (0, 4)


def test_a_second_missed_day_within_seven_days_ends_the_streak_even_apart() -> None:
    days = _days(0, 1, 2, 4, 5, 7)  # 3 and 6 missed, 3 days apart
    streak = streak_of(days, 20, D + timedelta(days=7))
    assert (streak.current, streak.best) == (1, 5)


def test_grace_days_seven_days_apart_are_both_forgiven() -> None:
    days = _days(*(o for o in range(16) if o not in (3, 10)))
    streak = streak_of(days, 20, D + timedelta(days=15))
    assert streak.current == 14 and len(streak.grace_days) == 2


def test_today_unmet_never_breaks_a_streak_yesterday_unmet_spends_the_grace() -> None:
    days = _days(0, 1, 2)
    assert streak_of(days, 20, D + timedelta(days=3)).current == 3  # today not over
    tomorrow = streak_of(days, 20, D + timedelta(days=4))
    assert tomorrow.current == 3 and tomorrow.at_stake and tomorrow.grace_days


def test_no_entries_is_no_streak() -> None:
    streak = streak_of({}, 20, D)
    assert (streak.current, streak.best, streak.at_stake) == (0, 0, False)


def test_local_days_follow_each_zone_across_dst() -> None:
    # 10:30 UTC on 2 March: late evening in Auckland, small hours in Los Angeles.
    instant = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    assert local_day(instant, "Pacific/Auckland") == date(2026, 3, 2)
    assert local_day(instant + timedelta(hours=1), "Pacific/Auckland") == date(2026, 3, 3)
    assert local_day(instant, "America/Los_Angeles") == date(2026, 3, 2)
    # 23:30 on 8 March in Los Angeles is 06:30 UTC the next day once DST began (UTC-7).
    assert local_day(datetime(2026, 3, 9, 6, 30, tzinfo=UTC), "America/Los_Angeles") == date(
        2026, 3, 8
    )
    assert local_day(datetime(2026, 3, 9, 7, 30, tzinfo=UTC), "America/Los_Angeles") == date(
        2026, 3, 9
    )
