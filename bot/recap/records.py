"""The plain, frozen values the recap service returns (no Discord, no ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.learning.records import CommunityWeek
from bot.questions.summaries import QuestionsSummary
from bot.recap.window import Week


@dataclass(frozen=True)
class RecapEntry:
    rank: int
    resource_id: int
    title: str
    url: str
    domain: str
    tags: tuple[str, ...]
    sharers: int
    engagement: int
    first_sharer_id: int
    first_sharer_name: str
    channel_id: int
    message_id: int | None
    first_shared_at: datetime


@dataclass(frozen=True)
class TopicSection:
    topic_id: int
    name: str
    entries: tuple[RecapEntry, ...]


@dataclass(frozen=True)
class Contributor:
    member_id: int
    name: str
    links: int


@dataclass(frozen=True)
class WeekNumbers:
    links_shared: int
    new_sharers: int
    new_topics: tuple[str, ...] = ()
    # (label, thread jump url) of chats held; filled once the chats feature exists.
    chats: tuple[tuple[str, str], ...] = ()
    # The community's learning time (the learning log), privacy kept.
    learning: CommunityWeek = field(default_factory=lambda: CommunityWeek(0, 0))


@dataclass(frozen=True)
class RecapView:
    """What a recap shows; built live (preview) or loaded from storage (posted, history)."""

    guild_id: int
    week: Week
    top_n: int
    entries: tuple[RecapEntry, ...]
    topics: tuple[TopicSection, ...]
    numbers: WeekNumbers
    contributors: tuple[Contributor, ...]
    recap_id: int | None = None
    channel_id: int | None = field(default=None, compare=False)
    questions: QuestionsSummary = field(default_factory=QuestionsSummary)
    # "From your feeds": the week's feed items members voted on and saved most.
    feeds: tuple[RecapEntry, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.entries


@dataclass(frozen=True)
class RecapConfig:
    guild_id: int
    channel_id: int | None
    weekday: int
    local_time: str
    top_n: int
    timezone: str
    schedule_id: int | None

    @property
    def enabled(self) -> bool:
        return self.channel_id is not None


@dataclass(frozen=True)
class PastRecap:
    recap_id: int
    week: Week
    channel_id: int
    first_message_id: int | None
    trigger: str
    status: str
