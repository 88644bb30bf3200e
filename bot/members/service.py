"""A member's privacy choices and time zone in a guild (`/me privacy`, `/me timezone`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.database import SessionFactory
from bot.guilds.models import Guild
from bot.guilds.service import ensure_guild_row
from bot.members.models import MemberPrivacy, MemberProfile
from bot.timezones import parse_timezone
from bot.unset import UNSET


@dataclass(frozen=True)
class Privacy:
    guild_id: int
    user_id: int
    hide_from_contributors: bool
    show_progress: bool = False


@dataclass(frozen=True)
class MemberZone:
    timezone: str
    own: bool  # False: the server's zone, until the member picks one


class MemberService:
    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def privacy(self, guild_id: int, user_id: int) -> Privacy:
        async with self._sessions() as session:
            row = await session.get(MemberPrivacy, (guild_id, user_id))
        return _privacy(guild_id, user_id, row)

    async def set_privacy(
        self,
        guild_id: int,
        guild_name: str,
        user_id: int,
        *,
        hide_from_contributors: bool = UNSET,
        show_progress: bool = UNSET,
    ) -> Privacy:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            row = await session.get(MemberPrivacy, (guild_id, user_id))
            if row is None:
                row = MemberPrivacy(
                    guild_id=guild_id,
                    user_id=user_id,
                    hide_from_contributors=False,
                    show_progress=False,
                    updated_at=now,
                )
                session.add(row)
            if hide_from_contributors is not UNSET:
                row.hide_from_contributors = hide_from_contributors
            if show_progress is not UNSET:
                row.show_progress = show_progress
            row.updated_at = now
        return _privacy(guild_id, user_id, row)

    async def timezone(self, guild_id: int, user_id: int) -> MemberZone:
        async with self._sessions() as session:
            return await member_zone(session, guild_id, user_id)

    async def set_timezone(
        self, guild_id: int, guild_name: str, user_id: int, name: str | None
    ) -> MemberZone:
        """The member's own zone (an IANA name), or None: back to the server's."""
        zone = parse_timezone(name).key if name is not None else None
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            row = await session.get(MemberProfile, (guild_id, user_id))
            if zone is None:
                if row is not None:
                    await session.delete(row)
            elif row is None:
                session.add(
                    MemberProfile(guild_id=guild_id, user_id=user_id, timezone=zone, updated_at=now)
                )
            else:
                row.timezone, row.updated_at = zone, now
        async with self._sessions() as session:
            return await member_zone(session, guild_id, user_id)


async def member_zone(session: AsyncSession, guild_id: int, user_id: int) -> MemberZone:
    """The member's own zone, else the server's, else UTC."""
    own = await session.get(MemberProfile, (guild_id, user_id))
    if own is not None:
        return MemberZone(own.timezone, True)
    guild_zone = await session.scalar(select(Guild.timezone).where(Guild.id == guild_id))
    return MemberZone(guild_zone or "UTC", False)


async def showing_progress(session: AsyncSession, guild_id: int, user_ids: list[int]) -> set[int]:
    """Which of these members let others see their learning streak and levels."""
    if not user_ids:
        return set()
    rows = await session.scalars(
        select(MemberPrivacy.user_id).where(
            MemberPrivacy.guild_id == guild_id,
            MemberPrivacy.user_id.in_(user_ids),
            MemberPrivacy.show_progress.is_(True),
        )
    )
    return {int(u) for u in rows}


def _privacy(guild_id: int, user_id: int, row: MemberPrivacy | None) -> Privacy:
    if row is None:
        return Privacy(guild_id, user_id, False, False)
    return Privacy(guild_id, user_id, bool(row.hide_from_contributors), bool(row.show_progress))
