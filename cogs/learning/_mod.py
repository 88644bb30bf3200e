"""/mod path: moderators curate each topic's path of library resources, in levels."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.core import PLNBot
from bot.learning.paths import MAX_LEVEL, PathService
from bot.topics.service import TopicService
from bot.ui.autocomplete import topic_names
from bot.ui.context import guild_of
from bot.ui.moderation import ModeratorGroup
from bot.ui.text import safe_text

Level = app_commands.Range[int, 1, MAX_LEVEL]
ResourceId = app_commands.Range[int, 1]


class PathModeration(ModeratorGroup, name="path", description="Each topic's learning path"):
    def __init__(self, paths: PathService, topics: TopicService) -> None:
        super().__init__()
        self.paths = paths
        self.topics = topics

    @app_commands.command(name="add", description="Add a library resource to a topic's path")
    @app_commands.describe(
        topic="The topic",
        resource_id="The resource's number (see /search or /resource info)",
        level="Its level: 1 is “start here” (default: the path's last level)",
    )
    @app_commands.autocomplete(topic=topic_names)
    async def add(
        self,
        interaction: discord.Interaction[PLNBot],
        topic: str,
        resource_id: ResourceId,
        level: Level | None = None,
    ) -> None:
        guild = guild_of(interaction)
        found = await self.topics.require(guild.id, topic)
        step = await self.paths.add(
            guild.id, guild.name, interaction.user.id, found, resource_id, level
        )
        await interaction.response.send_message(
            f"Added #{step.resource_id} **{safe_text(step.title, 200)}** to the "
            f"**{safe_text(found.name, 100)}** path at level {step.level} "
            f"(position {step.position}).",
            ephemeral=True,
        )

    @app_commands.command(name="move", description="Move a resource to another level or position")
    @app_commands.describe(
        topic="The topic",
        resource_id="The resource's number",
        level="Its new level",
        position="Its place in that level: 1 is first (default: last)",
    )
    @app_commands.autocomplete(topic=topic_names)
    async def move(
        self,
        interaction: discord.Interaction[PLNBot],
        topic: str,
        resource_id: ResourceId,
        level: Level,
        position: app_commands.Range[int, 1, 100] | None = None,
    ) -> None:
        guild = guild_of(interaction)
        found = await self.topics.require(guild.id, topic)
        step = await self.paths.move(guild.id, found, resource_id, level, position)
        await interaction.response.send_message(
            f"#{step.resource_id} is now at level {step.level}, position {step.position}.",
            ephemeral=True,
        )

    @app_commands.command(name="remove", description="Take a resource off a topic's path")
    @app_commands.describe(topic="The topic", resource_id="The resource's number")
    @app_commands.autocomplete(topic=topic_names)
    async def remove(
        self, interaction: discord.Interaction[PLNBot], topic: str, resource_id: ResourceId
    ) -> None:
        guild = guild_of(interaction)
        found = await self.topics.require(guild.id, topic)
        await self.paths.remove(guild.id, found, resource_id)
        await interaction.response.send_message(
            f"Removed #{resource_id} from the **{safe_text(found.name, 100)}** path.",
            ephemeral=True,
        )
