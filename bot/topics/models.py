"""Topic channels: the topics, who follows them, per-guild topic settings, suggestions, pickers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import AutoId, Base, Snowflake, UTCDateTime


class TopicSettings(Base):
    """How topics look in one guild: visibility, category name, whether roles may be pinged."""

    __tablename__ = "topic_settings"

    guild_id: Mapped[int] = mapped_column(
        Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    visibility: Mapped[str] = mapped_column(String(16), default="open")
    category_name: Mapped[str] = mapped_column(String(100), default="Topics")
    ping_followers: Mapped[bool] = mapped_column(Boolean, default=False)


class Topic(Base):
    """A topic: a channel (text or forum) plus a role that marks its followers."""

    __tablename__ = "topics"
    __table_args__ = (
        UniqueConstraint("guild_id", "name_key"),
        Index("ix_topics_guild_channel", "guild_id", "channel_id"),
        Index("ix_topics_guild_role", "guild_id", "role_id"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    # casefolded name: duplicates are refused case-insensitively on every backend
    name_key: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(1024), default="")
    emoji: Mapped[str | None] = mapped_column(String(64))
    channel_id: Mapped[int | None] = mapped_column(Snowflake)
    role_id: Mapped[int | None] = mapped_column(Snowflake)
    default_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(16), default="text")
    state: Mapped[str] = mapped_column(String(16), default="active")
    broken_reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[int] = mapped_column(Snowflake)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TopicFollower(Base):
    """A member following a topic (the role mirrors it on Discord)."""

    __tablename__ = "topic_followers"
    __table_args__ = (Index("ix_topic_followers_guild_user", "guild_id", "user_id"),)

    topic_id: Mapped[int] = mapped_column(
        AutoId, ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    followed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TopicSuggestion(Base):
    """A member's suggestion for a new topic, decided by a moderator."""

    __tablename__ = "topic_suggestions"
    __table_args__ = (Index("ix_topic_suggestions_guild_state", "guild_id", "state"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Snowflake)
    name: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(1000), default="")
    state: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[int | None] = mapped_column(Snowflake)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(1000))
    topic_id: Mapped[int | None] = mapped_column(AutoId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TopicPicker(Base):
    """A posted picker message, re-rendered whenever the guild's topics change."""

    __tablename__ = "topic_pickers"

    message_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(Snowflake)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
