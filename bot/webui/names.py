"""Sharers' names on the web: only where the guild chose to show them, never for a member who
opted out with `/me privacy`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select

from bot.database import SessionFactory
from bot.guilds.models import GuildMember
from bot.members.models import MemberPrivacy

# (guild_id, member_id) -> the member's display name, if this process knows the member.
NameResolver = Callable[[int, int], str | None]


async def public_names(
    sessions: SessionFactory,
    guild_id: int,
    member_ids: Iterable[int],
    resolve: NameResolver | None = None,
) -> dict[int, str]:
    """Names of these members that may be shown: the live name Discord gives this process, else
    the last one the bot saw. Members who opted out, and bots, are absent."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    async with sessions() as session:
        hidden = set(
            await session.scalars(
                select(MemberPrivacy.user_id).where(
                    MemberPrivacy.guild_id == guild_id,
                    MemberPrivacy.user_id.in_(ids),
                    MemberPrivacy.hide_from_contributors.is_(True),
                )
            )
        )
        seen = {
            int(user_id): (name, is_bot)
            for user_id, name, is_bot in await session.execute(
                select(GuildMember.user_id, GuildMember.display_name, GuildMember.is_bot).where(
                    GuildMember.guild_id == guild_id, GuildMember.user_id.in_(ids)
                )
            )
        }
    names: dict[int, str] = {}
    for member_id in ids:
        if member_id in hidden or seen.get(member_id, ("", False))[1]:
            continue
        name = (resolve(guild_id, member_id) if resolve else None) or seen.get(member_id, ("",))[0]
        if name:
            names[member_id] = name
    return names
