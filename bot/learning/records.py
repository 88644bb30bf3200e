"""What the learning services return: plain frozen values, no ORM rows, no Discord."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.learning.streaks import Streak


@dataclass(frozen=True)
class Step:
    resource_id: int
    title: str
    url: str
    level: int
    position: int
    done: bool = False


@dataclass(frozen=True)
class Level:
    """Where a member stands on one topic's path."""

    topic_id: int
    topic_name: str
    level: int  # the level being worked on (the last one once the path is finished)
    top_level: int
    finished: bool
    done: int
    total: int

    @property
    def label(self) -> str:
        return "path finished" if self.finished else f"level {self.level}"


@dataclass(frozen=True)
class Milestone:
    """A level finished by marking a resource done: "levelled up in Assessment: level 2"."""

    topic_name: str
    level: int  # the new level, or the top level when the path is finished
    finished: bool

    @property
    def text(self) -> str:
        if self.finished:
            return f"🏁 Finished the {self.topic_name} path!"
        return f"🎉 Levelled up in {self.topic_name}: level {self.level}"


@dataclass(frozen=True)
class DoneResult:
    step: Step
    topic_name: str
    newly_done: bool
    milestones: tuple[Milestone, ...] = ()


@dataclass(frozen=True)
class Goal:
    guild_id: int
    user_id: int
    minutes: int
    remind: bool
    remind_at: str
    timezone: str


@dataclass(frozen=True)
class LogResult:
    entry_id: int
    minutes: int
    day: date
    today_total: int
    goal: int
    streak: Streak
    topic_id: int | None
    resource_id: int | None = None
    shared_new: bool = False
    milestones: tuple[Milestone, ...] = ()


@dataclass(frozen=True)
class UndoResult:
    minutes: int
    today_total: int
    goal: int


@dataclass(frozen=True)
class TopicMinutes:
    name: str  # "" when no topic was given
    minutes: int


@dataclass(frozen=True)
class Progress:
    guild_id: int
    user_id: int
    timezone: str
    today: date
    today_minutes: int
    goal: int
    streak: Streak
    week: tuple[TopicMinutes, ...]
    month: tuple[TopicMinutes, ...]
    levels: tuple[Level, ...]
    # Minutes per local day over the heatmap's range (only days with minutes).
    days: dict[date, int] = field(default_factory=dict)

    @property
    def week_total(self) -> int:
        return sum(t.minutes for t in self.week)

    @property
    def month_total(self) -> int:
        return sum(t.minutes for t in self.month)


@dataclass(frozen=True)
class PublicProgress:
    """What others see of a member who allows it: streak and levels only."""

    user_id: int
    streak: Streak
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class CommunityWeek:
    """The recap's learning line: who logged, how long, and the longest streaks shown."""

    members: int
    minutes: int
    # (member id, display name or "", current streak in days) of members who let others see
    # their progress; a name the database lacks is looked up by the recap.
    streaks: tuple[tuple[int, str, int], ...] = ()

    def named(self, lookup: Callable[[int], str]) -> CommunityWeek:
        """With `lookup(member_id)` filling the names the database did not have."""
        streaks = tuple((m, n or lookup(m), d) for m, n, d in self.streaks)
        return CommunityWeek(self.members, self.minutes, streaks)

    def stored(self) -> list[Any]:
        """As JSON, kept with a posted recap."""
        return [self.members, self.minutes, [list(s) for s in self.streaks]]

    @classmethod
    def from_stored(cls, stored: Any) -> CommunityWeek:
        """From `stored()`; recaps posted before the learning log have none."""
        if not stored:
            return cls(0, 0)
        members, minutes, streaks = stored
        return cls(
            int(members), int(minutes), tuple((int(m), str(n), int(d)) for m, n, d in streaks)
        )


@dataclass(frozen=True)
class MemberWeek:
    """The personal digest's line: one's own week."""

    minutes: int
    days: int
    streak: int
