"""Which guilds show their library on the web, under which unguessable slug."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, Snowflake, UTCDateTime


class PublishedLibrary(Base):
    """A guild's web address; kept when unpublished, so publishing again keeps readers' links."""

    __tablename__ = "published_libraries"

    guild_id: Mapped[int] = mapped_column(
        Snowflake, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True
    )
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    include_names: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[int] = mapped_column(Snowflake)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
