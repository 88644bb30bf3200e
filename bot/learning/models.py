"""The learning log's tables: entries on local days, goals and reminders, paths and progress."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import AutoId, Base, Snowflake, UTCDateTime


class LearningEntry(Base):
    """Minutes a member spent learning, on the local day (their zone) it was logged."""

    __tablename__ = "learning_entries"
    __table_args__ = (
        Index("ix_learning_entries_member_day", "guild_id", "user_id", "local_day"),
        Index("ix_learning_entries_guild_logged", "guild_id", "logged_at"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Snowflake)
    local_day: Mapped[date] = mapped_column(Date)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    minutes: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(200))
    topic_id: Mapped[int | None] = mapped_column(
        AutoId, ForeignKey("topics.id", ondelete="SET NULL")
    )
    resource_id: Mapped[int | None] = mapped_column(
        AutoId, ForeignKey("library_resources.id", ondelete="SET NULL")
    )


class LearningMember(Base):
    """A member's daily goal and reminder choice; no row means the defaults (20 min, no DM)."""

    __tablename__ = "learning_members"

    guild_id: Mapped[int] = mapped_column(
        Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    goal_minutes: Mapped[int] = mapped_column(Integer, default=20)
    remind: Mapped[bool] = mapped_column(Boolean, default=False)
    remind_at: Mapped[str] = mapped_column(String(5), default="20:00")
    schedule_id: Mapped[int | None] = mapped_column(
        AutoId, ForeignKey("schedules.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LearningReminder(Base):
    """At most one reminder per member per local day: the primary key forbids a second one."""

    __tablename__ = "learning_reminders"

    guild_id: Mapped[int] = mapped_column(
        Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # claimed, sent, dms_closed
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PathStep(Base):
    """One library resource on a topic's path, at a level, in order within the level."""

    __tablename__ = "learning_path_steps"
    __table_args__ = (UniqueConstraint("topic_id", "resource_id"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column(AutoId, ForeignKey("topics.id", ondelete="CASCADE"))
    resource_id: Mapped[int] = mapped_column(
        AutoId, ForeignKey("library_resources.id", ondelete="CASCADE")
    )
    level: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    added_by: Mapped[int] = mapped_column(Snowflake)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PathFollower(Base):
    """A member walking a topic's path (`/path start`)."""

    __tablename__ = "learning_path_followers"

    guild_id: Mapped[int] = mapped_column(
        Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    topic_id: Mapped[int] = mapped_column(
        AutoId, ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PathDone(Base):
    """A resource a member marked done (or logged time with)."""

    __tablename__ = "learning_path_done"

    guild_id: Mapped[int] = mapped_column(
        Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    resource_id: Mapped[int] = mapped_column(
        AutoId, ForeignKey("library_resources.id", ondelete="CASCADE"), primary_key=True
    )
    done_at: Mapped[datetime] = mapped_column(UTCDateTime)
