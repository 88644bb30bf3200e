"""Followed feeds, every item each one has shown, and members' feed suggestions.

A feed's item is recorded (feed_id, key) under its primary key before anything is posted: a
restart, a reordered feed or a second process that sees the same item finds the row and posts
nothing. `lease_owner`/`lease_until` say which process is checking a feed right now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import AutoId, Base, Snowflake, UTCDateTime


class Feed(Base):
    __tablename__ = "feeds"
    __table_args__ = (
        UniqueConstraint("guild_id", "url"),
        Index("ix_feeds_next_check", "next_check_at"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))  # the feed itself, after discovery
    site_url: Mapped[str | None] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(String(300))
    topic_id: Mapped[int | None] = mapped_column(Integer)
    channel_id: Mapped[int] = mapped_column(Snowflake)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    mode: Mapped[str] = mapped_column(String(8), default="post")  # post, thread, digest
    filter: Mapped[str] = mapped_column(String(400), default="")
    no_shorts: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_time: Mapped[str] = mapped_column(String(5), default="18:00")
    digest_schedule_id: Mapped[int | None] = mapped_column(Integer)
    # Conditional requests: what the server said last time.
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Health.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    warned: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # Which process checks it now, until when.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_item_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    items_posted: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int] = mapped_column(Snowflake)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FeedItem(Base):
    """An item a feed showed: `seen` (never posted), `claimed` (being posted), `posted`,
    `digest` (waiting for the daily digest) or `skipped` (filtered out, too old, over the limit)."""

    __tablename__ = "feed_items"
    __table_args__ = (Index("ix_feed_items_feed_state", "feed_id", "state"),)

    feed_id: Mapped[int] = mapped_column(
        AutoId, ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(8))
    # What the post shows (title, link, summary, thumbnail, published): a post resumed after a
    # crash, or a digest, needs no new fetch.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(Snowflake)
    resource_id: Mapped[int | None] = mapped_column(Integer)


class FeedSuggestion(Base):
    __tablename__ = "feed_suggestions"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    channel_id: Mapped[int] = mapped_column(Snowflake)  # where it was suggested: its destination
    why: Mapped[str | None] = mapped_column(String(500))
    suggested_by: Mapped[int] = mapped_column(Snowflake)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    decided_by: Mapped[int | None] = mapped_column(Snowflake)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
