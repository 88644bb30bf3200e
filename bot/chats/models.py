"""Weekly chats: the chat hour, each of its runs, and the counted replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import AutoId, Base, Snowflake, UTCDateTime


class Chat(Base):
    """A recurring chat hour: title, questions, a channel (maybe a topic's), its schedules."""

    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(100))
    topic_id: Mapped[int | None] = mapped_column(Integer)
    channel_id: Mapped[int] = mapped_column(Snowflake)
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    interval_minutes: Mapped[int] = mapped_column(Integer)
    open_hours: Mapped[int] = mapped_column(Integer, default=24)
    start_schedule_id: Mapped[int | None] = mapped_column(Integer)
    announce_schedule_id: Mapped[int | None] = mapped_column(Integer)
    event_id: Mapped[int | None] = mapped_column(Snowflake)
    event_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int] = mapped_column(Snowflake)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatRun(Base):
    """One occurrence of a chat: its thread, the question messages posted, where it stands."""

    __tablename__ = "chat_runs"
    __table_args__ = (
        UniqueConstraint("chat_id", "slot_at"),
        Index("ix_chat_runs_thread", "thread_id"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(AutoId, ForeignKey("chats.id", ondelete="CASCADE"))
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    thread_id: Mapped[int | None] = mapped_column(Snowflake)
    question_message_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16))
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    step_schedule_id: Mapped[int | None] = mapped_column(Integer)
    archive_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChatReply(Base):
    """A counted answer in a chat thread: which question, who (for participants), which message."""

    __tablename__ = "chat_replies"
    __table_args__ = (UniqueConstraint("run_id", "message_id"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(AutoId, ForeignKey("chat_runs.id", ondelete="CASCADE"))
    question: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(Snowflake)
    message_id: Mapped[int] = mapped_column(Snowflake)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
