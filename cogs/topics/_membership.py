"""Following and unfollowing on Discord (the topic role) and in the database, together."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.errors import UserFacingError
from bot.topics.service import TopicInfo, TopicService, broken_message
from cogs.topics._discord import permission_error, require_bot_permissions, require_role_below_bot


@dataclass(frozen=True)
class Toggled:
    joined: tuple[str, ...]
    left: tuple[str, ...]
    refused: tuple[str, ...]


class TopicMembership:
    def __init__(self, service: TopicService) -> None:
        self.service = service

    def _usable_role(self, member: discord.Member, topic: TopicInfo) -> discord.Role:
        guild = member.guild
        if topic.state == "broken":
            raise UserFacingError(broken_message(topic))
        role = guild.get_role(topic.role_id) if topic.role_id else None
        if role is None:
            raise UserFacingError(
                f"“{topic.name}” has lost its role. "
                "A moderator can fix it with `/mod topic repair`."
            )
        require_bot_permissions(guild, "manage_roles")
        require_role_below_bot(guild, role)
        return role

    async def join(self, member: discord.Member, topic: TopicInfo) -> bool:
        """Follow a topic: the role on Discord, then the follower row. False if already."""
        if topic.archived:
            raise UserFacingError(f"“{topic.name}” is archived; it can be read but not joined.")
        role = self._usable_role(member, topic)
        # Asked before the role changes: the member-update event may record the follow first.
        was_following = await self.service.is_following(member.guild.id, member.id, topic.id)
        if role not in member.roles:
            try:
                await member.add_roles(role, reason=f"followed topic {topic.name}")
            except discord.Forbidden as error:
                raise permission_error("give you the topic role") from error
        await self.service.follow(member.guild.id, member.id, topic.id)
        return not was_following

    async def leave(self, member: discord.Member, topic: TopicInfo) -> bool:
        role = member.guild.get_role(topic.role_id) if topic.role_id else None
        was_following = await self.service.is_following(member.guild.id, member.id, topic.id)
        if role is not None and role in member.roles:
            require_role_below_bot(member.guild, role)
            try:
                await member.remove_roles(role, reason=f"left topic {topic.name}")
            except discord.Forbidden as error:
                raise permission_error("remove the topic role") from error
        await self.service.unfollow(member.guild.id, member.id, topic.id)
        return was_following

    async def toggle(self, member: discord.Member, topic_ids: list[int]) -> Toggled:
        """Join the chosen topics the member does not follow, leave those they do.

        One role request per changed topic (atomic adds and removes, so a concurrent change to
        the member's other roles is never overwritten).
        """
        guild_id = member.guild.id
        following = {t.id for t in await self.service.followed_by(guild_id, member.id)}
        add: list[tuple[TopicInfo, discord.Role]] = []
        remove: list[TopicInfo] = []
        refused: list[str] = []
        for topic_id in dict.fromkeys(topic_ids):
            topic = await self.service.get(guild_id, topic_id)
            if topic is None:
                continue
            if topic_id in following:
                remove.append(topic)
                continue
            try:
                if topic.state != "active":
                    raise UserFacingError(f"“{topic.name}” is {topic.state}")
                add.append((topic, self._usable_role(member, topic)))
            except UserFacingError:
                refused.append(topic.name)
        add_roles = [role for _, role in add if role not in member.roles]
        remove_roles = [
            role
            for topic in remove
            if (role := member.guild.get_role(topic.role_id or 0)) is not None
            and role in member.roles
            and role < member.guild.me.top_role
        ]
        try:
            if add_roles:
                await member.add_roles(*add_roles, reason="mod topic picker")
            if remove_roles:
                await member.remove_roles(*remove_roles, reason="mod topic picker")
        except discord.Forbidden as error:
            raise permission_error("change your topic roles") from error
        for topic, _ in add:
            await self.service.follow(guild_id, member.id, topic.id)
        for topic in remove:
            await self.service.unfollow(guild_id, member.id, topic.id)
        return Toggled(
            joined=tuple(t.name for t, _ in add),
            left=tuple(t.name for t in remove),
            refused=tuple(refused),
        )
