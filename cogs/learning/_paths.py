"""/path: members follow a topic's path (show, start, next, done) and level up."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import PLNBot
from bot.ui.autocomplete import topic_names
from bot.ui.context import guild_of
from bot.ui.text import safe_text
from cogs.learning._mod import ResourceId
from cogs.learning._render import path_embed, step_text


@app_commands.guild_only()
class Paths(commands.GroupCog, group_name="path", group_description="Learning paths by topic"):
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.paths = bot.services.paths
        self.topics = bot.services.topics
        super().__init__()

    @app_commands.command(name="show", description="A topic's path, level by level")
    @app_commands.guild_only()
    @app_commands.describe(topic="The topic")
    @app_commands.autocomplete(topic=topic_names)
    async def show(self, interaction: discord.Interaction[PLNBot], topic: str) -> None:
        guild = guild_of(interaction)
        found = await self.topics.require(guild.id, topic)
        steps = await self.paths.steps(guild.id, found, interaction.user.id)
        await interaction.response.send_message(embed=path_embed(found.name, steps), ephemeral=True)

    @app_commands.command(name="start", description="Follow a topic's path")
    @app_commands.guild_only()
    @app_commands.describe(topic="The topic")
    @app_commands.autocomplete(topic=topic_names)
    async def start(self, interaction: discord.Interaction[PLNBot], topic: str) -> None:
        guild = guild_of(interaction)
        found = await self.topics.require(guild.id, topic)
        level = await self.paths.start(guild.id, guild.name, interaction.user.id, found)
        upcoming = await self.paths.next_step(guild.id, interaction.user.id, found)
        text = f"You follow the **{safe_text(found.name, 100)}** path: {level.label}."
        if upcoming is not None:
            text += "\n" + step_text(*upcoming)
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="next", description="The next resource on your paths")
    @app_commands.guild_only()
    @app_commands.describe(topic="Only this topic's path")
    @app_commands.autocomplete(topic=topic_names)
    async def next(
        self, interaction: discord.Interaction[PLNBot], topic: str | None = None
    ) -> None:
        guild = guild_of(interaction)
        found = await self.topics.require_if_named(guild.id, topic)
        upcoming = await self.paths.next_step(guild.id, interaction.user.id, found)
        text = step_text(*upcoming) if upcoming else "You have done every resource. 🎉"
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="done", description="Mark a path resource done")
    @app_commands.guild_only()
    @app_commands.describe(resource_id="The resource's number (default: your next one)")
    async def done(
        self, interaction: discord.Interaction[PLNBot], resource_id: ResourceId | None = None
    ) -> None:
        guild = guild_of(interaction)
        result = await self.paths.done(guild.id, guild.name, interaction.user.id, resource_id)
        lines = [
            f"Done: #{result.step.resource_id} **{safe_text(result.step.title, 200)}**."
            if result.newly_done
            else f"You had already done #{result.step.resource_id}."
        ]
        lines += [m.text for m in result.milestones]
        upcoming = await self.paths.next_step(guild.id, interaction.user.id)
        if upcoming is not None:
            lines.append(step_text(*upcoming))
        await interaction.response.send_message("\n".join(lines), ephemeral=True)
