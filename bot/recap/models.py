"""The weekly recap: settings, and each posted recap with a snapshot of its items (its messages are
in the scheduling core's outbox, scope "recap:<id>").

Items are snapshots (title, URL, tags, scores, first sharer's name) so a recap's history shows
what was posted even after resources are edited or removed; `resource_id` is a plain id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import AutoId, Base, Snowflake, UTCDateTime


class RecapSettings(Base):
    """Where and when a guild's recap is posted; off while `channel_id` is NULL."""

    __tablename__ = "recap_settings"

    guild_id: Mapped[int] = mapped_column(
        Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[int | None] = mapped_column(Snowflake)
    weekday: Mapped[int] = mapped_column(Integer, default=0)  # 0 = Monday
    local_time: Mapped[str] = mapped_column(String(5), default="09:00")
    top_n: Mapped[int] = mapped_column(Integer, default=10)
    schedule_id: Mapped[int | None] = mapped_column(Integer)  # the scheduling core's row
    updated_by: Mapped[int] = mapped_column(Snowflake)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Recap(Base):
    """One recap: its week, where it goes, and whether every message of it went out."""

    __tablename__ = "recaps"
    __table_args__ = (
        UniqueConstraint("guild_id", "trigger", "slot_at"),
        Index("ix_recaps_guild_window", "guild_id", "window_end"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(16))  # schedule, manual
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[int] = mapped_column(Snowflake)
    top_n: Mapped[int] = mapped_column(Integer)
    # The week in numbers and the top contributors, as shown (a snapshot).
    numbers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="posting")  # posting, posted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecapItem(Base):
    """One ranked resource in a recap section, frozen as posted."""

    __tablename__ = "recap_items"
    __table_args__ = (Index("ix_recap_items_recap", "recap_id", "position"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    recap_id: Mapped[int] = mapped_column(AutoId, ForeignKey("recaps.id", ondelete="CASCADE"))
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # order across the whole recap
    section: Mapped[str] = mapped_column(String(16))  # top, topic
    topic_id: Mapped[int | None] = mapped_column(Integer)
    topic_name: Mapped[str] = mapped_column(String(100), default="")
    rank: Mapped[int] = mapped_column(Integer)
    resource_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(2048))
    domain: Mapped[str] = mapped_column(String(255))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    sharers: Mapped[int] = mapped_column(Integer)
    engagement: Mapped[int] = mapped_column(Integer)
    first_sharer_id: Mapped[int] = mapped_column(Snowflake)
    first_sharer_name: Mapped[str] = mapped_column(String(100), default="")
    first_share_channel_id: Mapped[int] = mapped_column(Snowflake)
    first_share_message_id: Mapped[int | None] = mapped_column(Snowflake)
    first_shared_at: Mapped[datetime] = mapped_column(UTCDateTime)
