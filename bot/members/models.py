"""Per-member preferences that several features read (imported by `bot.recap.models`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, Snowflake, UTCDateTime


class MemberPrivacy(Base):
    """A member's privacy choices in one guild (`/me privacy`); no row means the defaults."""

    __tablename__ = "member_privacy"

    guild_id: Mapped[int] = mapped_column(
        Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    hide_from_contributors: Mapped[bool] = mapped_column(Boolean, default=False)
    # Others may see this member's learning streak and levels (`/learn progress`, the recap).
    show_progress: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MemberProfile(Base):
    """A member's own time zone in one guild (`/me timezone`); no row means the server's."""

    __tablename__ = "member_profiles"

    guild_id: Mapped[int] = mapped_column(
        Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    timezone: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
