"""The learning log in the community's weekly recap and in a member's digest (privacy kept)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.guilds.models import GuildMember
from bot.learning.models import LearningEntry
from bot.learning.records import CommunityWeek, MemberWeek
from bot.learning.service import member_streak
from bot.members.service import showing_progress

STREAKS_SHOWN = 3
# Streaks are looked up for at most this many of the week's most active members who show them.
STREAK_CANDIDATES = 50


async def community_week(
    session: AsyncSession, guild_id: int, start: datetime, end: datetime
) -> CommunityWeek:
    """Members who logged time in [start, end), their minutes, the longest current streaks of
    those who let others see their progress (`/me privacy progress`)."""
    in_week = (
        LearningEntry.guild_id == guild_id,
        LearningEntry.logged_at >= start,
        LearningEntry.logged_at < end,
    )
    members, minutes = (
        await session.execute(
            select(
                func.count(distinct(LearningEntry.user_id)),
                func.coalesce(func.sum(LearningEntry.minutes), 0),
            ).where(*in_week)
        )
    ).one()
    if not members:
        return CommunityWeek(0, 0)
    active = [
        int(user)
        for (user,) in await session.execute(
            select(LearningEntry.user_id)
            .where(*in_week)
            .group_by(LearningEntry.user_id)
            .order_by(func.sum(LearningEntry.minutes).desc(), LearningEntry.user_id)
        )
    ]
    shown = await showing_progress(session, guild_id, active)
    candidates = [user for user in active if user in shown][:STREAK_CANDIDATES]
    streaks: list[tuple[int, int]] = []
    for user_id in candidates:
        streak = await member_streak(session, guild_id, user_id, end)
        if streak.current > 0:
            streaks.append((user_id, streak.current))
    streaks.sort(key=lambda item: (-item[1], item[0]))
    top = streaks[:STREAKS_SHOWN]
    names = dict(
        (int(u), n)
        for u, n in await session.execute(
            select(GuildMember.user_id, GuildMember.display_name).where(
                GuildMember.guild_id == guild_id,
                GuildMember.user_id.in_([u for u, _ in top] or [0]),
            )
        )
    )
    return CommunityWeek(
        int(members),
        int(minutes),
        tuple((u, names.get(u, ""), days) for u, days in top),
    )


async def member_week(
    session: AsyncSession, guild_id: int, user_id: int, start: datetime, end: datetime
) -> MemberWeek:
    minutes, days = (
        await session.execute(
            select(
                func.coalesce(func.sum(LearningEntry.minutes), 0),
                func.count(distinct(LearningEntry.local_day)),
            ).where(
                LearningEntry.guild_id == guild_id,
                LearningEntry.user_id == user_id,
                LearningEntry.logged_at >= start,
                LearningEntry.logged_at < end,
            )
        )
    ).one()
    streak = await member_streak(session, guild_id, user_id, end)
    return MemberWeek(int(minutes), int(days), streak.current)
