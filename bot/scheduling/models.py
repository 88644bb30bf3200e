"""Schedules (what runs when, in which zone), their claimed slots, and the outbox of their posts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
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


class Schedule(Base):
    """A recurring (or one-off) job: a kind, a local wall-clock time, a recurrence, a zone.

    The rule is the source of truth; `next_run_at` is a cache of the next slot so the runner can
    find due work with one indexed query.
    """

    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_due", "paused", "next_run_at"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    frequency: Mapped[str] = mapped_column(String(16))
    interval: Mapped[int] = mapped_column(Integer, default=1)
    weekdays: Mapped[str] = mapped_column(String(20), default="")
    month_day: Mapped[int | None] = mapped_column(Integer)
    month_week: Mapped[int | None] = mapped_column(Integer)
    local_time: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    count: Mapped[int | None] = mapped_column(Integer)
    offset_minutes: Mapped[int] = mapped_column(Integer, default=0)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int] = mapped_column(Snowflake)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ScheduleRun(Base):
    """One slot of a schedule, claimed before it runs: the unique key makes it run once."""

    __tablename__ = "schedule_runs"
    __table_args__ = (
        UniqueConstraint("schedule_id", "slot_at"),
        Index("ix_schedule_runs_status", "status", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    schedule_id: Mapped[int] = mapped_column(AutoId, ForeignKey("schedules.id", ondelete="CASCADE"))
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str] = mapped_column(String(64), default="")
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(500), default="")


class OutboxPost(Base):
    """One post the bot makes for a slot (or a recap, a chat run): written before it is sent,
    completed with Discord's id right after, so a re-run after a crash neither loses nor repeats
    it (bot/scheduling/outbox)."""

    __tablename__ = "outbox"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)  # "run:12", "recap:3"
    part: Mapped[str] = mapped_column(String(40), primary_key=True)  # "prompt", "q2", "0"
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # message, thread
    channel_id: Mapped[int] = mapped_column(Snowflake)
    fingerprint: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(25))
    # What the handler chose for the post (a prompt's id), so a retry posts the same thing.
    memo: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_id: Mapped[int | None] = mapped_column(Snowflake)  # the message's (or thread's) id
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
