"""/topic: members follow topic channels; moderators create, edit, archive and repair them."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.topics.service import TopicInfo
from bot.ui.approvals import approval_items, approval_view
from bot.ui.context import guild_of, member_of
from bot.ui.paginator import Paginator
from bot.ui.text import safe_text
from cogs.topics._membership import TopicMembership
from cogs.topics._mod import TopicModeration
from cogs.topics._picker import PickerItems
from cogs.topics._render import info_embed, list_pages
from cogs.topics._suggest import SuggestionFlow, suggestion_embed
from cogs.topics._sync import TopicSync
from cogs.topics._workflows import TopicWorkflows

log = logging.getLogger(__name__)

Kind = Literal["text", "forum"]
Visibility = Literal["open", "opt-in"]


@app_commands.guild_only()
class Topics(commands.GroupCog, group_name="topic", group_description="Topic channels to follow"):
    """Members' /topic commands; the moderators' ones are /mod topic (`_mod.py`)."""

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
        self.moderation = TopicModeration(
            self.service, services.guilds, bot.modlog, self.workflows, self.sync, self.picker
        )
        super().__init__()

    async def cog_load(self) -> None:
        # Registered once: clicks on pickers and approval buttons work after a restart.
        self.bot.add_dynamic_items(*self.picker.classes, *approval_items(self.suggestions))
        self.bot.moderation.add_command(self.moderation)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*self.picker.classes, *approval_items(self.suggestions))
        self.bot.moderation.remove_command(self.moderation.name)

    async def topic_named(self, guild: discord.Guild, name: str) -> TopicInfo:
        return await self.service.require(guild.id, name)

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
                "Ask a moderator to set it with `/mod settings log_channel`."
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
