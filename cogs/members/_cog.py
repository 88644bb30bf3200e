"""/me: a member's own settings in this server (privacy)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import PLNBot
from bot.ui.context import guild_of
from cogs.questions.standing import stats_embed


@app_commands.guild_only()
class Me(commands.GroupCog, group_name="me", group_description="Your own settings here"):
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.service = bot.services.members
        super().__init__()

    @app_commands.command(name="privacy", description="Whether the recap may list you by name")
    @app_commands.guild_only()
    @app_commands.describe(
        top_contributors="Show me in the weekly recap's top contributors (default: yes)"
    )
    async def privacy(
        self, interaction: discord.Interaction[PLNBot], top_contributors: bool | None = None
    ) -> None:
        guild = guild_of(interaction)
        if top_contributors is None:
            current = await self.service.privacy(guild.id, interaction.user.id)
        else:
            current = await self.service.set_privacy(
                guild.id,
                guild.name,
                interaction.user.id,
                hide_from_contributors=not top_contributors,
            )
        shown = "are listed" if not current.hide_from_contributors else "are not listed"
        await interaction.response.send_message(
            f"You {shown} among the weekly recap's top contributors. Your shared links still "
            "count in the ranking. Change it with `/me privacy top_contributors:`.",
            ephemeral=True,
        )

    @app_commands.command(name="stats", description="Your contributions here (only you see them)")
    @app_commands.guild_only()
    async def stats(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        stats = await self.bot.services.contributions.stats(guild.id, interaction.user.id)
        await interaction.followup.send(embed=stats_embed(stats, interaction.user), ephemeral=True)
