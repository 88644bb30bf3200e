"""Personal digests: subscriptions and one delivery row per member per week."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import AutoId, Base, Snowflake, UTCDateTime


class DigestSubscription(Base):
    """A member's opt-in weekly digest: when, which extra tags, and why it was switched off."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (Index("ix_digest_subscriptions_due", "enabled", "weekday", "local_time"),)

    guild_id: Mapped[int] = mapped_column(
        Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    weekday: Mapped[int] = mapped_column(Integer, default=0)
    local_time: Mapped[str] = mapped_column(String(5), default="09:00")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Set when the bot switched it off (e.g. "dms_closed"); the member is told once.
    disabled_reason: Mapped[str | None] = mapped_column(String(32))
    notice_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The member's "digest" schedule, so changing it never scans the guild's other digests.
    schedule_id: Mapped[int | None] = mapped_column(
        AutoId, ForeignKey("schedules.id", ondelete="SET NULL")
    )


class DigestDelivery(Base):
    """One digest per member per week: the primary key makes a second send impossible."""

    __tablename__ = "digest_deliveries"

    guild_id: Mapped[int] = mapped_column(
        Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    week_end: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # claimed, sent, dms_closed, empty, failed
    items: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
