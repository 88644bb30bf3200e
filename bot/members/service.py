"""A member's privacy choices in a guild (`/me privacy`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.database import SessionFactory
from bot.guilds.service import ensure_guild_row
from bot.members.models import MemberPrivacy


@dataclass(frozen=True)
class Privacy:
    guild_id: int
    user_id: int
    hide_from_contributors: bool


class MemberService:
    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def privacy(self, guild_id: int, user_id: int) -> Privacy:
        async with self._sessions() as session:
            row = await session.get(MemberPrivacy, (guild_id, user_id))
        return Privacy(guild_id, user_id, bool(row and row.hide_from_contributors))

    async def set_privacy(
        self, guild_id: int, guild_name: str, user_id: int, *, hide_from_contributors: bool
    ) -> Privacy:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            row = await session.get(MemberPrivacy, (guild_id, user_id))
            if row is None:
                row = MemberPrivacy(guild_id=guild_id, user_id=user_id, updated_at=now)
                session.add(row)
            row.hide_from_contributors = hide_from_contributors
            row.updated_at = now
        return Privacy(guild_id, user_id, hide_from_contributors)
