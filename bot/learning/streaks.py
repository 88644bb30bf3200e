"""Local days and streaks, pure functions: the day rolls over at each member's own midnight.

A streak counts consecutive local days with the goal met. One missed day in any 7 is forgiven
(a grace day: the streak lives on, the day adds nothing); a second missed day inside that window,
or two in a row, ends it. Today never breaks a streak: it is not over yet, only at stake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

GRACE_WINDOW = 7  # days: at most one grace day in any 7


def local_day(instant: datetime, timezone: str) -> date:
    """The calendar day on the member's wall clock at `instant` (an aware UTC instant)."""
    if instant.tzinfo is None:
        raise ValueError("instant must be aware")
    return instant.astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class Streak:
    current: int
    best: int
    today_met: bool
    # Days forgiven inside the current streak (most recent last).
    grace_days: tuple[date, ...] = ()

    @property
    def at_stake(self) -> bool:
        """A streak that today's missing minutes would end or spend a grace day on."""
        return self.current > 0 and not self.today_met


def streak_of(minutes_by_day: Mapping[date, int], goal: int, today: date) -> Streak:
    """The current and best streaks up to `today`, from each local day's total minutes."""
    met = sorted(day for day, minutes in minutes_by_day.items() if minutes >= goal and day <= today)
    if not met:
        return Streak(0, 0, False)
    current = best = 0
    last_grace: date | None = None
    graces: list[date] = []
    met_days = set(met)
    day = met[0]
    while day <= today:
        if day in met_days:
            current += 1
        elif day == today:
            pass  # not over yet
        elif current > 0 and (last_grace is None or (day - last_grace).days >= GRACE_WINDOW):
            last_grace = day
            graces.append(day)
        else:
            current, last_grace, graces = 0, None, []
        best = max(best, current)
        day += timedelta(days=1)
    return Streak(current, best, today in met_days, tuple(graces))
