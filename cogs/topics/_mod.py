"""/mod topic: moderators create, edit, archive, restore and repair topics, and post pickers."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands

from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.guilds.service import GuildService
from bot.topics.service import TopicGuildSettings, TopicService, broken_message
from bot.ui.context import guild_of
from bot.ui.moderation import ModeratorGroup
from bot.ui.modlog import ModLog
from bot.ui.permissions import require_can_post
from bot.ui.text import safe_text
from bot.unset import UNSET
from bot.wording import plural
from cogs.topics import _discord as pieces
from cogs.topics._picker import PickerItems, picker_embed
from cogs.topics._sync import TopicSync
from cogs.topics._workflows import TopicWorkflows

Kind = Literal["text", "forum"]
Visibility = Literal["open", "opt-in"]


class TopicModeration(ModeratorGroup, name="topic", description="Create and shape topics"):
    def __init__(
        self,
        topics: TopicService,
        guilds: GuildService,
        modlog: ModLog,
        workflows: TopicWorkflows,
        sync: TopicSync,
        picker: PickerItems,
    ) -> None:
        super().__init__()
        self.topics = topics
        self.guilds = guilds
        self.modlog = modlog
        self.workflows = workflows
        self.sync = sync
        self.picker = picker

    @app_commands.command(name="create", description="Create a topic: a channel and a role")
    @app_commands.describe(
        name="Topic name (1-100 characters)",
        description="What the topic is about (shown as the channel topic)",
        emoji="An emoji shown next to the topic",
        tags="Default tags for links shared there, comma-separated",
        kind="A text channel or a forum channel",
    )
    async def create(
        self,
        interaction: discord.Interaction[PLNBot],
        name: app_commands.Range[str, 1, 100],
        description: app_commands.Range[str, 0, 1024] | None = None,
        emoji: str | None = None,
        tags: str | None = None,
        kind: Kind = "text",
    ) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        topic = await self.workflows.create(
            guild,
            interaction.user,
            name,
            description=description,
            emoji=emoji,
            tags=tags,
            kind=kind,
        )
        await interaction.followup.send(
            f"Created **{safe_text(topic.name)}**: <#{topic.channel_id}>.", ephemeral=True
        )

    @app_commands.command(
        name="edit", description="Change a topic's name, description, emoji or tags"
    )
    @app_commands.describe(
        name="The topic to change",
        new_name="A new name",
        description="A new description",
        emoji="A new emoji (`none` removes it)",
        tags="New default tags, comma-separated (`none` removes them)",
    )
    async def edit(
        self,
        interaction: discord.Interaction[PLNBot],
        name: str,
        new_name: app_commands.Range[str, 1, 100] | None = None,
        description: app_commands.Range[str, 0, 1024] | None = None,
        emoji: str | None = None,
        tags: str | None = None,
    ) -> None:
        guild = guild_of(interaction)
        topic = await self.topics.require(guild.id, name)
        await interaction.response.defer(ephemeral=True, thinking=True)
        edited = await self.topics.edit(
            guild.id,
            interaction.user.id,
            topic.id,
            name=new_name if new_name is not None else UNSET,
            description=description if description is not None else UNSET,
            emoji=(None if emoji.lower() == "none" else emoji) if emoji is not None else UNSET,
            tags=("" if tags.lower() == "none" else tags) if tags is not None else UNSET,
        )
        await pieces.rename_pieces(guild, edited, reason=f"/mod topic edit by {interaction.user}")
        await self.workflows.after_change(
            guild,
            edited,
            f"✏️ {interaction.user.mention} edited topic **{safe_text(edited.name)}**.",
        )
        await interaction.followup.send(f"Saved **{safe_text(edited.name)}**.", ephemeral=True)

    @app_commands.command(name="archive", description="Archive a topic: read-only, followers kept")
    async def archive(self, interaction: discord.Interaction[PLNBot], name: str) -> None:
        await self._move(interaction, name, archived=True)

    @app_commands.command(name="restore", description="Bring an archived topic back")
    async def restore(self, interaction: discord.Interaction[PLNBot], name: str) -> None:
        await self._move(interaction, name, archived=False)

    async def _move(
        self, interaction: discord.Interaction[PLNBot], name: str, *, archived: bool
    ) -> None:
        guild = guild_of(interaction)
        topic = await self.topics.require(guild.id, name)
        if topic.state == "broken":
            raise UserFacingError(broken_message(topic))
        if topic.archived == archived:
            raise UserFacingError(
                f"“{topic.name}” is {'already archived' if archived else 'not archived'}."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        settings = await self.topics.settings(guild.id)
        mod_role = (await self.guilds.settings(guild.id)).moderator_role_id
        verb = "archive" if archived else "restore"
        # Discord first: if the bot may not move the channel, nothing is recorded.
        await pieces.place_channel(
            guild,
            topic,
            settings,
            mod_role,
            archived=archived,
            reason=f"/topic {verb} by {interaction.user}",
        )
        change = self.topics.archive if archived else self.topics.restore
        changed = await change(guild.id, interaction.user.id, topic.id)
        await self.workflows.after_change(
            guild,
            changed,
            f"{'📦' if archived else '♻️'} {interaction.user.mention} {verb}d topic "
            f"**{safe_text(changed.name)}** ({plural(changed.follower_count, 'follower')} kept).",
        )
        await interaction.followup.send(
            f"{verb.capitalize()}d **{safe_text(changed.name)}**; its {changed.follower_count} "
            "followers keep the role.",
            ephemeral=True,
        )

    @app_commands.command(name="picker", description="Post a menu members use to choose topics")
    @app_commands.describe(channel="Where to post it (default: here)")
    async def picker_command(
        self, interaction: discord.Interaction[PLNBot], channel: discord.TextChannel | None = None
    ) -> None:
        guild = guild_of(interaction)
        target = channel or interaction.channel
        if not isinstance(target, discord.TextChannel):
            raise UserFacingError("Post the picker in a text channel.")
        require_can_post(target)
        # Two Discord calls (the picker, the log) come before the answer: defer first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        topics = await self.topics.active_topics(guild.id)
        message = await target.send(
            embed=picker_embed(topics), view=self.picker.message_view(topics)
        )
        await self.topics.add_picker(
            guild.id, guild.name, interaction.user.id, target.id, message.id
        )
        await self.modlog.post(
            guild.id,
            f"🧭 {interaction.user.mention} posted a topic picker in {target.mention}.",
        )
        await interaction.followup.send(
            f"Posted the picker in {target.mention}: {message.jump_url}", ephemeral=True
        )

    @app_commands.command(name="settings", description="Topic visibility, category and pings")
    @app_commands.describe(
        visibility="open: everyone reads every topic; opt-in: only followers see a topic",
        category="Name of the category new topic channels go in",
        ping="Whether announcements in a topic may ping its followers' role",
    )
    async def settings_command(
        self,
        interaction: discord.Interaction[PLNBot],
        visibility: Visibility | None = None,
        category: app_commands.Range[str, 1, 90] | None = None,
        ping: bool | None = None,
    ) -> None:
        guild = guild_of(interaction)
        before = await self.topics.settings(guild.id)
        if visibility is None and category is None and ping is None:
            await interaction.response.send_message(_settings_text(before), ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        if visibility is not None and visibility != before.visibility:
            pieces.require_bot_permissions(guild, "manage_channels", "manage_roles")
        after = await self.topics.update_settings(
            guild.id,
            guild.name,
            interaction.user.id,
            visibility=visibility if visibility is not None else UNSET,
            category_name=category if category is not None else UNSET,
            ping_followers=ping if ping is not None else UNSET,
        )
        changed = 0
        if after.visibility != before.visibility:
            mod_role = (await self.guilds.settings(guild.id)).moderator_role_id
            topics = await self.topics.all_topics(guild.id)
            changed = await pieces.apply_overwrites(
                guild, topics, after, mod_role, reason=f"/mod topic settings by {interaction.user}"
            )
        await self.modlog.post(
            guild.id,
            f"⚙️ {interaction.user.mention} changed topic settings: {_settings_text(after)}",
        )
        extra = f" Updated permissions on {changed} topic channels." if changed else ""
        await interaction.followup.send(f"Saved. {_settings_text(after)}{extra}", ephemeral=True)

    @app_commands.command(name="repair", description="Recreate a topic's missing channel or role")
    async def repair(self, interaction: discord.Interaction[PLNBot], name: str) -> None:
        guild = guild_of(interaction)
        topic = await self.topics.require(guild.id, name)
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self.sync.repair(guild, topic, interaction.user)
        await interaction.followup.send(report, ephemeral=True)

    @edit.autocomplete("name")
    @archive.autocomplete("name")
    @restore.autocomplete("name")
    @repair.autocomplete("name")
    async def _all_names(
        self, interaction: discord.Interaction[PLNBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        topics = await self.topics.search(interaction.guild_id, current, include_archived=True)
        return [
            app_commands.Choice(name=f"{t.name} ({t.state})"[:100], value=t.name) for t in topics
        ]


def _settings_text(settings: TopicGuildSettings) -> str:
    return (
        f"Visibility: **{settings.visibility}**, category: "
        f"**{safe_text(settings.category_name)}**, "
        f"follower pings: **{'on' if settings.ping_followers else 'off'}**."
    )
