"""Questions asked with /ask, thanks given, and the contribution ledger (one row per event).

Shares, votes and saves, and chat-hour answers, are not copied here: the library's and the chats'
own rows (one per event, with members and instants) are the ledger for them, read by
`bot.questions.ledger`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import AutoId, Base, Snowflake, UTCDateTime


class QuestionSettings(Base):
    """A guild's helper role: given at `helper_threshold` points over 30 days (no row: none)."""

    __tablename__ = "question_settings"

    guild_id: Mapped[int] = mapped_column(
        Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    helper_role_id: Mapped[int | None] = mapped_column(Snowflake)
    helper_threshold: Mapped[int] = mapped_column(Integer, default=10)
    refresh_schedule_id: Mapped[int | None] = mapped_column(AutoId)


class Question(Base):
    """A question and its thread: open, solved, closed (solved and quiet) or gone (deleted)."""

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("guild_id", "thread_id"),
        Index("ix_questions_guild_state_created", "guild_id", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    topic_id: Mapped[int | None] = mapped_column(AutoId)
    channel_id: Mapped[int] = mapped_column(Snowflake)  # the forum or text channel
    thread_id: Mapped[int] = mapped_column(Snowflake)
    message_id: Mapped[int | None] = mapped_column(Snowflake)  # the question's own message
    asker_id: Mapped[int] = mapped_column(Snowflake)
    title: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(String(2000), default="")
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by someone else
    nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # "is it solved?" to the asker
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    solved_by: Mapped[int | None] = mapped_column(Snowflake)  # who marked it
    solver_id: Mapped[int | None] = mapped_column(Snowflake)  # who answered
    solution_message_id: Mapped[int | None] = mapped_column(Snowflake)
    solution_excerpt: Mapped[str] = mapped_column(String(500), default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_schedule_id: Mapped[int | None] = mapped_column(AutoId)


class Thanks(Base):
    """One member thanking another, for a message (reaction, or /thanks in a thread) or not."""

    __tablename__ = "thanks"
    __table_args__ = (
        # One thanks per giver per message (NULL message ids never collide).
        UniqueConstraint("guild_id", "giver_id", "message_id"),
        Index("ix_thanks_guild_giver_given", "guild_id", "giver_id", "given_at"),
        Index("ix_thanks_guild_receiver", "guild_id", "receiver_id"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    giver_id: Mapped[int] = mapped_column(Snowflake)
    receiver_id: Mapped[int] = mapped_column(Snowflake)
    message_id: Mapped[int | None] = mapped_column(Snowflake)
    channel_id: Mapped[int] = mapped_column(Snowflake)
    note: Mapped[str] = mapped_column(String(300), default="")
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Contribution(Base):
    """One event of the ledger kept nowhere else: an accepted answer or a thanks received.
    `scored` is False where anti-gaming keeps it out of the score."""

    __tablename__ = "contributions"
    __table_args__ = (
        Index("ix_contributions_guild_at", "guild_id", "at"),
        Index("ix_contributions_guild_member_at", "guild_id", "member_id", "at"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(Snowflake)
    kind: Mapped[str] = mapped_column(String(16))  # answer, thanks
    scored: Mapped[bool] = mapped_column(Boolean, default=True)
    ref_id: Mapped[int | None] = mapped_column(AutoId)  # the question or thanks
    at: Mapped[datetime] = mapped_column(UTCDateTime)
