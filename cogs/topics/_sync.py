"""Keeping topics in step with Discord: renames follow, deletions mark the topic broken, repair."""

from __future__ import annotations

import logging

import discord

from bot.guilds.service import GuildService
from bot.library.service import LibraryService
from bot.topics.service import TopicInfo, TopicService
from bot.ui.modlog import ModLog
from bot.ui.text import safe_text
from bot.wording import plural
from cogs.topics import _discord as pieces
from cogs.topics._workflows import TopicWorkflows

log = logging.getLogger(__name__)


class TopicSync:
    def __init__(
        self,
        topics: TopicService,
        library: LibraryService,
        guilds: GuildService,
        modlog: ModLog,
        workflows: TopicWorkflows,
    ) -> None:
        self._topics = topics
        self._library = library
        self._guilds = guilds
        self._modlog = modlog
        self._workflows = workflows

    async def channel_deleted(self, channel: discord.abc.GuildChannel) -> None:
        topic = await self._topics.by_channel(channel.guild.id, channel.id)
        if topic is None:
            return
        broken = await self._topics.mark_broken(
            channel.guild.id,
            topic.id,
            f"its channel #{channel.name} was deleted",
            channel_gone=True,
            role_gone=False,
        )
        await self._library.remove_capture_channel(channel.guild.id, channel.id)
        await self._report(channel.guild, broken, f"its channel #{channel.name} was deleted")

    async def role_deleted(self, role: discord.Role) -> None:
        topic = await self._topics.by_role(role.guild.id, role.id)
        if topic is None:
            return
        broken = await self._topics.mark_broken(
            role.guild.id,
            topic.id,
            f"its role @{role.name} was deleted",
            channel_gone=False,
            role_gone=True,
        )
        await self._report(role.guild, broken, f"its role @{role.name} was deleted")

    async def _report(self, guild: discord.Guild, topic: TopicInfo, what: str) -> None:
        await self._workflows.after_change(
            guild,
            None,
            f"⚠️ Topic **{safe_text(topic.name)}** is broken: {safe_text(what)}. Followers are "
            f"kept. Run `/mod topic repair name:{topic.name}` to recreate it.",
        )

    async def channel_renamed(self, channel: discord.abc.GuildChannel) -> None:
        topic = await self._topics.by_channel(channel.guild.id, channel.id)
        if topic is None or topic.channel_name == channel.name:
            return
        await self._follow_rename(channel.guild, topic, channel.name, f"channel #{channel.name}")

    async def role_renamed(self, role: discord.Role) -> None:
        topic = await self._topics.by_role(role.guild.id, role.id)
        if topic is None or topic.name == role.name:
            return
        await self._follow_rename(role.guild, topic, role.name, f"role @{role.name}")

    async def _follow_rename(
        self, guild: discord.Guild, topic: TopicInfo, new_name: str, what: str
    ) -> None:
        renamed = await self._topics.renamed_on_discord(guild.id, topic.id, new_name)
        if renamed is None:
            await self._modlog.post(
                guild.id,
                f"ℹ️ The {safe_text(what)} of topic **{safe_text(topic.name)}** was renamed by "
                "hand to a name another topic uses or that isn't valid; the topic keeps its name.",
            )
            return
        try:
            await pieces.rename_pieces(guild, renamed, reason="topic renamed by hand")
        except Exception:
            log.warning("Could not follow a rename of topic %s", topic.id, exc_info=True)
        await self._workflows.after_change(
            guild,
            renamed,
            f"✏️ Topic **{safe_text(topic.name)}** is now **{safe_text(renamed.name)}** "
            f"(its {safe_text(what)} was renamed by hand).",
        )

    async def roles_changed(self, before: discord.Member, after: discord.Member) -> None:
        guild_id = after.guild.id
        old = {r.id for r in before.roles}
        new = {r.id for r in after.roles}
        for role_id in new ^ old:
            topic = await self._topics.by_role(guild_id, role_id)
            if topic is None:
                continue
            if role_id in new:
                if topic.state == "active":
                    await self._topics.follow(guild_id, after.id, topic.id)
            else:
                await self._topics.unfollow(guild_id, after.id, topic.id)

    async def repair(self, guild: discord.Guild, topic: TopicInfo, actor: discord.abc.User) -> str:
        """Recreate what is missing (role, channel, or both) and clear the broken state."""
        pieces.require_bot_permissions(guild, "manage_channels", "manage_roles")
        reason = f"/mod topic repair by {actor} ({actor.id})"
        settings = await self._topics.settings(guild.id)
        mod_role = (await self._guilds.settings(guild.id)).moderator_role_id
        role = pieces.role_of(guild, topic)
        channel = pieces.channel_of(guild, topic)
        created = pieces.Created()
        fixed: list[str] = []
        try:
            if role is None:
                role = await guild.create_role(name=topic.name, mentionable=False, reason=reason)
                created.objects.append(role)
                fixed.append("role")
            else:
                pieces.require_role_below_bot(guild, role)
            if channel is None:
                name = settings.archive_category_name if topic.archived else settings.category_name
                category = await pieces.ensure_category(guild, name, created, reason=reason)
                channel = await pieces.make_channel(
                    guild,
                    name=topic.channel_name,
                    kind=topic.kind,
                    description=topic.description,
                    category=category,
                    overwrites=pieces.topic_overwrites(
                        guild,
                        role=role,
                        visibility=settings.visibility,
                        archived=topic.archived,
                        moderator_role_id=mod_role,
                    ),
                    reason=reason,
                )
                created.objects.append(channel)
                fixed.append("channel")
            elif "role" in fixed:
                await channel.edit(
                    overwrites=pieces.topic_overwrites(
                        guild,
                        role=role,
                        visibility=settings.visibility,
                        archived=topic.archived,
                        moderator_role_id=mod_role,
                    ),
                    reason=reason,
                )
        except discord.Forbidden as error:
            await created.roll_back("topic repair failed")
            raise pieces.permission_error("recreate the topic's channel or role") from error
        except BaseException:
            await created.roll_back("topic repair failed")
            raise
        repaired = await self._topics.repaired(
            guild.id, actor.id, topic.id, channel_id=channel.id, role_id=role.id
        )
        restored = 0
        if "role" in fixed:
            # A new role: followers get it back (one request per follower; repair is rare).
            for user_id in await self._topics.followers(guild.id, topic.id):
                member = guild.get_member(user_id)
                if member is None:
                    continue
                try:
                    await member.add_roles(role, reason=reason)
                    restored += 1
                except discord.HTTPException:
                    log.warning("Could not give repaired role %s to %s", role.id, user_id)
        what = " and ".join(fixed) if fixed else "nothing (it was complete)"
        await self._workflows.after_change(
            guild,
            repaired,
            f"🛠️ {actor.mention} repaired topic **{safe_text(repaired.name)}**: recreated {what}.",
        )
        extra = f" Gave the role back to {plural(restored, 'follower')}." if restored else ""
        return f"Repaired **{safe_text(repaired.name)}**: recreated {what}.{extra}"
