"""What the topics service returns: frozen records, and how rows become them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.topics import rules
from bot.topics.models import Topic, TopicSettings, TopicSuggestion

TopicState = Literal["active", "archived", "broken"]


@dataclass(frozen=True)
class TopicInfo:
    id: int
    guild_id: int
    name: str
    description: str
    emoji: str | None
    channel_id: int | None
    role_id: int | None
    default_tags: tuple[str, ...]
    kind: str
    state: TopicState
    created_at: datetime
    follower_count: int
    archived: bool
    broken_reason: str | None

    @property
    def channel_name(self) -> str:
        return rules.channel_name(self.name)

    @property
    def label(self) -> str:
        return f"{self.emoji} {self.name}" if self.emoji else self.name


@dataclass(frozen=True)
class TopicGuildSettings:
    guild_id: int
    visibility: str
    category_name: str
    ping_followers: bool

    @property
    def archive_category_name(self) -> str:
        return f"{self.category_name} archive"[: rules.NAME_MAX]


@dataclass(frozen=True)
class NewTopic:
    """A validated request for a topic, before its Discord channel and role exist."""

    name: str
    channel_name: str
    description: str
    emoji: str | None
    default_tags: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class SuggestionInfo:
    id: int
    guild_id: int
    user_id: int
    name: str
    reason: str
    state: str
    decided_by: int | None
    decision_note: str | None
    topic_id: int | None
    created_at: datetime


def broken_message(topic: TopicInfo) -> str:
    """What a member or moderator is told about a topic whose channel or role went missing."""
    return (
        f"“{topic.name}” is broken: {topic.broken_reason or 'its channel or role is missing'}. "
        "A moderator can fix it with `/mod topic repair`."
    )


def settings_of(row: TopicSettings | None, guild_id: int) -> TopicGuildSettings:
    if row is None:
        return TopicGuildSettings(guild_id, "open", "Topics", False)
    return TopicGuildSettings(guild_id, row.visibility, row.category_name, row.ping_followers)


def topic_info(row: Topic, follower_count: int) -> TopicInfo:
    state: TopicState = (
        "broken" if row.broken_reason else ("archived" if row.state == "archived" else "active")
    )
    return TopicInfo(
        id=row.id,
        guild_id=row.guild_id,
        name=row.name,
        description=row.description,
        emoji=row.emoji,
        channel_id=row.channel_id,
        role_id=row.role_id,
        default_tags=tuple(row.default_tags or ()),
        kind=row.kind,
        state=state,
        created_at=row.created_at,
        follower_count=follower_count,
        archived=row.state == "archived",
        broken_reason=row.broken_reason,
    )


def suggestion_info(row: TopicSuggestion) -> SuggestionInfo:
    return SuggestionInfo(
        id=row.id,
        guild_id=row.guild_id,
        user_id=row.user_id,
        name=row.name,
        reason=row.reason,
        state=row.state,
        decided_by=row.decided_by,
        decision_note=row.decision_note,
        topic_id=row.topic_id,
        created_at=row.created_at,
    )
