"""The resource library: resources, every share of them, tags, votes, saves, capture channels.

Built for the weekly recap's ranking ("distinct sharers in the week, then distinct votes and saves
in the week, then earliest share"): shares, votes and saves are rows with member ids and instants,
indexed by (guild_id, instant). Full-text search lives beside these tables: an FTS5 table kept in
sync by triggers on SQLite, a `tsvector` column with a GIN index on PostgreSQL (migration 0003).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from bot.models.base import AutoId, Base, Snowflake, UTCDateTime


class _TSVector(UserDefinedType[str]):
    """PostgreSQL's tsvector, named here rather than imported from the PostgreSQL dialect, which
    a bot on SQLite never loads (see `insert_ignoring_conflicts`). Like the dialect's own TSVECTOR
    it only names the column's type: values need no conversion."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "TSVECTOR"


# On SQLite the column stays NULL (FTS5 indexes `search_text`); PostgreSQL keeps a tsvector here.
SearchVector = Text().with_variant(_TSVector(), "postgresql")


class LibraryResource(Base):
    """One resource per canonical URL per guild; removal is soft (`deleted_at`)."""

    __tablename__ = "library_resources"
    __table_args__ = (
        UniqueConstraint("guild_id", "canonical_url"),
        Index("ix_library_resources_guild_shared", "guild_id", "first_shared_at"),
        # GIN on PostgreSQL: migration 0003 says so, and the schema only ever comes from the
        # migrations. Saying it here too (postgresql_using) would load the PostgreSQL dialect.
        Index("ix_library_resources_search_vector", "search_vector"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    canonical_url: Mapped[str] = mapped_column(String(2048))
    url: Mapped[str] = mapped_column(String(2048))  # as first shared
    domain: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(300))
    title_source: Mapped[str] = mapped_column(String(16), default="")  # member, page, ""
    note: Mapped[str | None] = mapped_column(String(500))  # the first sharer's note
    first_sharer_id: Mapped[int] = mapped_column(Snowflake)
    first_shared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Title, notes, URL words and tags; FTS5 (SQLite) and search_vector (PostgreSQL) index it.
    search_text: Mapped[str] = mapped_column(Text, default="")
    search_vector: Mapped[str | None] = mapped_column(SearchVector)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by: Mapped[int | None] = mapped_column(Snowflake)


class LibraryShare(Base):
    """Every time a member shared (or the bot captured) a resource: the ranking's raw data."""

    __tablename__ = "library_shares"
    __table_args__ = (
        # Covers the weekly ranking: the week's rows are read from the index alone.
        Index(
            "ix_library_shares_guild_shared",
            "guild_id",
            "shared_at",
            "member_is_bot",
            "resource_id",
            "member_id",
            "channel_id",
        ),
        Index("ix_library_shares_resource_shared", "resource_id", "shared_at"),
        Index("ix_library_shares_guild_message", "guild_id", "message_id"),
        Index("ix_library_shares_guild_member", "guild_id", "member_id", "shared_at"),
        # A message records each of its links once, even when two listeners capture it at once.
        UniqueConstraint("resource_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    resource_id: Mapped[int] = mapped_column(
        AutoId, ForeignKey("library_resources.id", ondelete="CASCADE")
    )
    member_id: Mapped[int] = mapped_column(Snowflake)
    member_is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    channel_id: Mapped[int] = mapped_column(Snowflake)
    # The share card (for /share) or the member's own message (for captures); jump links and votes.
    message_id: Mapped[int | None] = mapped_column(Snowflake)
    note: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(16))  # command, capture, context, chat
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LibraryTag(Base):
    __tablename__ = "library_tags"
    __table_args__ = (Index("ix_library_tags_guild_tag", "guild_id", "tag"),)

    resource_id: Mapped[int] = mapped_column(
        AutoId, ForeignKey("library_resources.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))


class LibraryTagCount(Base):
    """How many live resources carry each tag: tag lists and autocomplete without a scan."""

    __tablename__ = "library_tag_counts"

    guild_id: Mapped[int] = mapped_column(
        Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True)
    resources: Mapped[int] = mapped_column(Integer, default=0)


class LibraryVote(Base):
    """A ⭐ or 👍 reaction on a share card or captured message; one row per member and emoji."""

    __tablename__ = "library_votes"
    __table_args__ = (
        UniqueConstraint("resource_id", "member_id", "emoji"),
        Index("ix_library_votes_guild_voted", "guild_id", "voted_at"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    resource_id: Mapped[int] = mapped_column(
        AutoId, ForeignKey("library_resources.id", ondelete="CASCADE")
    )
    member_id: Mapped[int] = mapped_column(Snowflake)
    emoji: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[int] = mapped_column(Snowflake)
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LibrarySave(Base):
    __tablename__ = "library_saves"
    __table_args__ = (
        Index("ix_library_saves_guild_member", "guild_id", "member_id", "saved_at"),
        Index("ix_library_saves_guild_saved", "guild_id", "saved_at"),
    )

    resource_id: Mapped[int] = mapped_column(
        AutoId, ForeignKey("library_resources.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LibraryCaptureChannel(Base):
    """A channel whose links are captured silently, with default tags (topics or moderators)."""

    __tablename__ = "library_capture_channels"

    guild_id: Mapped[int] = mapped_column(
        Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    default_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
