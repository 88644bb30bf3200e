"""Guild records, per-guild settings, the members seen, and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.database import SessionFactory
from bot.guilds.models import AuditEntry, Guild, GuildMember
from bot.timezones import parse_timezone
from bot.unset import UNSET


@dataclass(frozen=True)
class GuildSettings:
    guild_id: int
    timezone: str
    moderator_role_id: int | None
    log_channel_id: int | None


@dataclass(frozen=True)
class GuildCounts:
    members_seen: int
    audit_entries: int


@dataclass(frozen=True)
class AuditRecord:
    actor_id: int
    action: str
    target: str
    details: dict[str, Any]
    created_at: datetime


class GuildService:
    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def ensure_guild(self, guild_id: int, name: str) -> None:
        """Record that the bot serves this guild (again, if it had left)."""
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, name, self._clock.now())

    async def mark_left(self, guild_id: int) -> None:
        async with self._sessions() as session, session.begin():
            guild = await session.get(Guild, guild_id)
            if guild is not None:
                guild.left_at = self._clock.now()

    async def settings(self, guild_id: int) -> GuildSettings:
        async with self._sessions() as session:
            guild = await session.get(Guild, guild_id)
        if guild is None:
            return GuildSettings(guild_id, "UTC", None, None)
        return _settings_of(guild)

    async def update_settings(
        self,
        guild_id: int,
        guild_name: str,
        actor_id: int,
        *,
        timezone: str = UNSET,
        moderator_role_id: int | None = UNSET,
        log_channel_id: int | None = UNSET,
    ) -> GuildSettings:
        """Change the given settings and audit it; bad input is refused before anything changes."""
        changes: dict[str, Any] = {}
        if timezone is not UNSET:
            changes["timezone"] = parse_timezone(timezone).key
        if moderator_role_id is not UNSET:
            changes["moderator_role_id"] = moderator_role_id
        if log_channel_id is not UNSET:
            changes["log_channel_id"] = log_channel_id
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            guild = await ensure_guild_row(session, guild_id, guild_name, now)
            before = {key: getattr(guild, key) for key in changes}
            for key, value in changes.items():
                setattr(guild, key, value)
            if changes:
                await record_audit(
                    session,
                    guild_id=guild_id,
                    actor_id=actor_id,
                    action="settings.update",
                    target="guild",
                    now=now,
                    details={"before": before, "after": changes},
                )
            return _settings_of(guild)

    async def member_seen(
        self, guild_id: int, guild_name: str, user_id: int, display_name: str, *, is_bot: bool
    ) -> None:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            member = await session.get(GuildMember, (guild_id, user_id))
            if member is None:
                session.add(
                    GuildMember(
                        guild_id=guild_id,
                        user_id=user_id,
                        display_name=display_name[:100],
                        is_bot=is_bot,
                        first_seen_at=now,
                        last_seen_at=now,
                    )
                )
            else:
                member.display_name = display_name[:100]
                member.last_seen_at = now
                member.left_at = None

    async def member_left(self, guild_id: int, user_id: int) -> None:
        async with self._sessions() as session, session.begin():
            member = await session.get(GuildMember, (guild_id, user_id))
            if member is not None:
                member.left_at = self._clock.now()

    async def counts(self, guild_id: int) -> GuildCounts:
        async with self._sessions() as session:
            members = await session.scalar(
                select(func.count())
                .select_from(GuildMember)
                .where(GuildMember.guild_id == guild_id, GuildMember.left_at.is_(None))
            )
            audits = await session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.guild_id == guild_id)
            )
        return GuildCounts(members_seen=members or 0, audit_entries=audits or 0)

    async def audit_log(self, guild_id: int, limit: int = 50) -> list[AuditRecord]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.guild_id == guild_id)
                .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
                .limit(limit)
            )
            return [
                AuditRecord(r.actor_id, r.action, r.target, r.details, r.created_at) for r in rows
            ]


async def ensure_guild_row(
    session: AsyncSession, guild_id: int, name: str | None, now: datetime
) -> Guild:
    """The guild's row, created on first sight, for every service that writes guild data."""
    guild, _created = await upsert_guild_row(session, guild_id, name, now)
    return guild


async def upsert_guild_row(
    session: AsyncSession, guild_id: int, name: str | None, now: datetime
) -> tuple[Guild, bool]:
    """The guild's row and whether this transaction created it (the one guild upsert).

    `name` may be unknown (None) to a caller that only has the id; a guild the bot had left is
    marked present again, since it is writing there.
    """
    guild = await session.get(Guild, guild_id)
    if guild is None:
        guild = Guild(id=guild_id, name=(name or "")[:100], timezone="UTC", joined_at=now)
        session.add(guild)
        await session.flush()
        return guild, True
    if name and guild.name != name[:100]:
        guild.name = name[:100]
    if guild.left_at is not None:
        guild.left_at = None
    return guild, False


async def record_audit(
    session: AsyncSession,
    *,
    guild_id: int,
    actor_id: int,
    action: str,
    target: str,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """Write one audit entry inside the caller's transaction (so it commits with the change)."""
    session.add(
        AuditEntry(
            guild_id=guild_id,
            actor_id=actor_id,
            action=action,
            target=target[:200],
            details=details or {},
            created_at=now,
        )
    )


def _settings_of(guild: Guild) -> GuildSettings:
    return GuildSettings(guild.id, guild.timezone, guild.moderator_role_id, guild.log_channel_id)
