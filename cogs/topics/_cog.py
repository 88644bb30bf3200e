"""/topic: members follow topic channels; moderators create, edit, archive and repair them."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.topics.service import TopicGuildSettings, TopicInfo, broken_message
from bot.ui.approvals import approval_items, approval_view
from bot.ui.context import guild_of, member_of
from bot.ui.paginator import Paginator
from bot.ui.permissions import require_can_post
from bot.ui.text import safe_text
from bot.unset import UNSET
from cogs.topics import _discord as pieces
from cogs.topics._membership import TopicMembership
from cogs.topics._picker import PickerItems, picker_embed
from cogs.topics._render import info_embed, list_pages
from cogs.topics._suggest import SuggestionFlow, suggestion_embed
from cogs.topics._sync import TopicSync
from cogs.topics._workflows import TopicWorkflows

log = logging.getLogger(__name__)

Kind = Literal["text", "forum"]
Visibility = Literal["open", "opt-in"]


class Topics(commands.GroupCog, group_name="topic", group_description="Topic channels to follow"):
    """Members' and moderators' subcommands share the /topic group, so Discord's
    default_member_permissions (which applies to a whole top-level command) cannot hide the
    moderator ones; `moderator_only()` enforces them on the server side instead."""

    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        services = bot.services
        self.service = services.topics
        self.library = services.library
        self.membership = TopicMembership(self.service)
        self.picker = PickerItems(self.service, self.membership)
        self.workflows = TopicWorkflows(
            self.service, self.library, services.guilds, bot.modlog, self.picker
        )
        self.suggestion_service = services.topic_suggestions
        self.suggestions = SuggestionFlow(self.suggestion_service, self.workflows)
        self.sync = TopicSync(
            self.service, self.library, services.guilds, bot.modlog, self.workflows
        )
        super().__init__()

    async def cog_load(self) -> None:
        # Registered once: clicks on pickers and approval buttons work after a restart.
        self.bot.add_dynamic_items(*self.picker.classes, *approval_items(self.suggestions))

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*self.picker.classes, *approval_items(self.suggestions))

    async def topic_named(self, guild: discord.Guild, name: str) -> TopicInfo:
        return await self.service.require(guild.id, name)

    # --- moderator commands -----------------------------------------------------------------

    @app_commands.command(name="create", description="Create a topic: a channel and a role")
    @app_commands.guild_only()
    @moderator_only()
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
    @app_commands.guild_only()
    @moderator_only()
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
        topic = await self.topic_named(guild, name)
        await interaction.response.defer(ephemeral=True, thinking=True)
        edited = await self.service.edit(
            guild.id,
            interaction.user.id,
            topic.id,
            name=new_name if new_name is not None else UNSET,
            description=description if description is not None else UNSET,
            emoji=(None if emoji.lower() == "none" else emoji) if emoji is not None else UNSET,
            tags=("" if tags.lower() == "none" else tags) if tags is not None else UNSET,
        )
        await pieces.rename_pieces(guild, edited, reason=f"/topic edit by {interaction.user}")
        await self.workflows.after_change(
            guild,
            edited,
            f"✏️ {interaction.user.mention} edited topic **{safe_text(edited.name)}**.",
        )
        await interaction.followup.send(f"Saved **{safe_text(edited.name)}**.", ephemeral=True)

    @app_commands.command(name="archive", description="Archive a topic: read-only, followers kept")
    @app_commands.guild_only()
    @moderator_only()
    async def archive(self, interaction: discord.Interaction[PLNBot], name: str) -> None:
        await self._move(interaction, name, archived=True)

    @app_commands.command(name="restore", description="Bring an archived topic back")
    @app_commands.guild_only()
    @moderator_only()
    async def restore(self, interaction: discord.Interaction[PLNBot], name: str) -> None:
        await self._move(interaction, name, archived=False)

    async def _move(
        self, interaction: discord.Interaction[PLNBot], name: str, *, archived: bool
    ) -> None:
        guild = guild_of(interaction)
        topic = await self.topic_named(guild, name)
        if topic.state == "broken":
            raise UserFacingError(broken_message(topic))
        if topic.archived == archived:
            raise UserFacingError(
                f"“{topic.name}” is {'already archived' if archived else 'not archived'}."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        settings = await self.service.settings(guild.id)
        mod_role = (await self.bot.services.guilds.settings(guild.id)).moderator_role_id
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
        change = self.service.archive if archived else self.service.restore
        changed = await change(guild.id, interaction.user.id, topic.id)
        await self.workflows.after_change(
            guild,
            changed,
            f"{'📦' if archived else '♻️'} {interaction.user.mention} {verb}d topic "
            f"**{safe_text(changed.name)}** ({changed.follower_count} followers kept).",
        )
        await interaction.followup.send(
            f"{verb.capitalize()}d **{safe_text(changed.name)}**; its {changed.follower_count} "
            "followers keep the role.",
            ephemeral=True,
        )

    @app_commands.command(name="picker", description="Post a menu members use to choose topics")
    @app_commands.guild_only()
    @moderator_only()
    @app_commands.describe(channel="Where to post it (default: here)")
    async def picker_command(
        self, interaction: discord.Interaction[PLNBot], channel: discord.TextChannel | None = None
    ) -> None:
        guild = guild_of(interaction)
        target = channel or interaction.channel
        if not isinstance(target, discord.TextChannel):
            raise UserFacingError("Post the picker in a text channel.")
        require_can_post(target)
        topics = await self.service.active_topics(guild.id)
        message = await target.send(
            embed=picker_embed(topics), view=self.picker.message_view(topics)
        )
        await self.service.add_picker(
            guild.id, guild.name, interaction.user.id, target.id, message.id
        )
        await self.bot.modlog.post(
            guild.id,
            f"🧭 {interaction.user.mention} posted a topic picker in {target.mention}.",
        )
        await interaction.response.send_message(
            f"Posted the picker in {target.mention}: {message.jump_url}", ephemeral=True
        )

    @app_commands.command(name="settings", description="Topic visibility, category and pings")
    @app_commands.guild_only()
    @moderator_only()
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
        before = await self.service.settings(guild.id)
        if visibility is None and category is None and ping is None:
            await interaction.response.send_message(_settings_text(before), ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        if visibility is not None and visibility != before.visibility:
            pieces.require_bot_permissions(guild, "manage_channels", "manage_roles")
        after = await self.service.update_settings(
            guild.id,
            guild.name,
            interaction.user.id,
            visibility=visibility if visibility is not None else UNSET,
            category_name=category if category is not None else UNSET,
            ping_followers=ping if ping is not None else UNSET,
        )
        changed = 0
        if after.visibility != before.visibility:
            mod_role = (await self.bot.services.guilds.settings(guild.id)).moderator_role_id
            topics = await self.service.all_topics(guild.id)
            changed = await pieces.apply_overwrites(
                guild, topics, after, mod_role, reason=f"/topic settings by {interaction.user}"
            )
        await self.bot.modlog.post(
            guild.id,
            f"⚙️ {interaction.user.mention} changed topic settings: {_settings_text(after)}",
        )
        extra = f" Updated permissions on {changed} topic channels." if changed else ""
        await interaction.followup.send(f"Saved. {_settings_text(after)}{extra}", ephemeral=True)

    @app_commands.command(name="repair", description="Recreate a topic's missing channel or role")
    @app_commands.guild_only()
    @moderator_only()
    async def repair(self, interaction: discord.Interaction[PLNBot], name: str) -> None:
        guild = guild_of(interaction)
        topic = await self.topic_named(guild, name)
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self.sync.repair(guild, topic, interaction.user)
        await interaction.followup.send(report, ephemeral=True)

    # --- member commands --------------------------------------------------------------------

    @app_commands.command(name="join", description="Follow a topic")
    @app_commands.guild_only()
    async def join(self, interaction: discord.Interaction[PLNBot], name: str) -> None:
        member = member_of(interaction)
        topic = await self.topic_named(member.guild, name)
        joined = await self.membership.join(member, topic)
        text = "You joined" if joined else "You already follow"
        await interaction.response.send_message(
            f"{text} **{safe_text(topic.name)}**: <#{topic.channel_id}>.", ephemeral=True
        )

    @app_commands.command(name="leave", description="Stop following a topic")
    @app_commands.guild_only()
    async def leave(self, interaction: discord.Interaction[PLNBot], name: str) -> None:
        member = member_of(interaction)
        topic = await self.topic_named(member.guild, name)
        left = await self.membership.leave(member, topic)
        text = "You left" if left else "You were not following"
        await interaction.response.send_message(
            f"{text} **{safe_text(topic.name)}**.", ephemeral=True
        )

    @app_commands.command(name="list", description="Every topic, with its followers")
    @app_commands.guild_only()
    async def list_command(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        topics = await self.service.all_topics(guild.id)
        week_ago = self.bot.clock.now() - timedelta(days=7)
        links = await self.library.share_counts_by_channel(guild.id, week_ago)
        await Paginator(interaction.user.id, list_pages(topics, links)).send(interaction)

    @app_commands.command(name="info", description="About one topic")
    @app_commands.guild_only()
    async def info(self, interaction: discord.Interaction[PLNBot], name: str) -> None:
        guild = guild_of(interaction)
        topic = await self.topic_named(guild, name)
        following = await self.service.is_following(guild.id, interaction.user.id, topic.id)
        await interaction.response.send_message(
            embed=info_embed(topic, following=following), ephemeral=True
        )

    @app_commands.command(name="mine", description="The topics you follow")
    @app_commands.guild_only()
    async def mine(self, interaction: discord.Interaction[PLNBot]) -> None:
        await self.picker.mine(interaction)

    @app_commands.command(name="suggest", description="Suggest a new topic to the moderators")
    @app_commands.guild_only()
    @app_commands.checks.cooldown(3, 600.0, key=lambda i: (i.guild_id, i.user.id))
    @app_commands.describe(name="The topic's name", why="Why it would help the community")
    async def suggest(
        self,
        interaction: discord.Interaction[PLNBot],
        name: app_commands.Range[str, 1, 100],
        why: app_commands.Range[str, 1, 1000],
    ) -> None:
        guild = guild_of(interaction)
        if (await self.bot.services.guilds.settings(guild.id)).log_channel_id is None:
            raise UserFacingError(
                "Suggestions go to the moderators' log channel, which isn't set up here yet. "
                "Ask a moderator to set it with `/pln settings log_channel`."
            )
        suggestion = await self.suggestion_service.suggest(
            guild.id, guild.name, interaction.user.id, name, why
        )
        posted = await self.bot.modlog.post(
            guild.id,
            embed=suggestion_embed(suggestion),
            view=approval_view(self.suggestions, suggestion.id),
        )
        if posted is None:
            await self.suggestion_service.decide(
                guild.id,
                suggestion.id,
                self.bot.user.id if self.bot.user else 0,
                approved=False,
                note="log channel unavailable",
            )
            raise UserFacingError(
                "I couldn't post in the moderators' log channel, so the suggestion was not sent. "
                "Tell a moderator to check my permissions there."
            )
        await interaction.response.send_message(
            f"Thanks! Your suggestion **{safe_text(suggestion.name)}** went to the moderators; "
            "I'll tell you what they decide.",
            ephemeral=True,
        )

    # --- autocomplete -----------------------------------------------------------------------

    @join.autocomplete("name")
    @info.autocomplete("name")
    async def _active_names(
        self, interaction: discord.Interaction[PLNBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        topics = await self.service.search(interaction.guild_id, current)
        return [app_commands.Choice(name=t.name, value=t.name) for t in topics]

    @leave.autocomplete("name")
    async def _followed_names(
        self, interaction: discord.Interaction[PLNBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        needle = current.casefold()
        topics = await self.service.followed_by(interaction.guild_id, interaction.user.id)
        return [
            app_commands.Choice(name=t.name, value=t.name)
            for t in topics
            if needle in t.name.casefold()
        ][:25]

    @edit.autocomplete("name")
    @archive.autocomplete("name")
    @restore.autocomplete("name")
    @repair.autocomplete("name")
    async def _all_names(
        self, interaction: discord.Interaction[PLNBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        topics = await self.service.search(interaction.guild_id, current, include_archived=True)
        return [
            app_commands.Choice(name=f"{t.name} ({t.state})"[:100], value=t.name) for t in topics
        ]

    # --- keeping in step with Discord -------------------------------------------------------

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.sync.channel_deleted(channel)

    @commands.Cog.listener()
    async def on_guild_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        if before.name != after.name:
            await self.sync.channel_renamed(after)

    @commands.Cog.listener()
    async def on_guild_role_delete(self, role: discord.Role) -> None:
        await self.sync.role_deleted(role)

    @commands.Cog.listener()
    async def on_guild_role_update(self, before: discord.Role, after: discord.Role) -> None:
        if before.name != after.name:
            await self.sync.role_renamed(after)

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self.service.member_left(payload.guild_id, payload.user.id)

    @commands.Cog.listener()
    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        """A topic role given or taken by hand counts as following or leaving."""
        if before.roles != after.roles:
            await self.sync.roles_changed(before, after)


def _settings_text(settings: TopicGuildSettings) -> str:
    return (
        f"Visibility: **{settings.visibility}**, category: "
        f"**{safe_text(settings.category_name)}**, "
        f"follower pings: **{'on' if settings.ping_followers else 'off'}**."
    )
