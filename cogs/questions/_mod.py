"""/mod questions: the helper role members get at a contribution threshold."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.core import PLNBot
from bot.questions.contributions import ContributionService
from bot.ui.context import guild_of
from bot.ui.moderation import ModeratorGroup
from cogs.questions._steps import Steps


class QuestionModeration(ModeratorGroup, name="questions", description="Questions and helpers"):
    def __init__(self, contributions: ContributionService, steps: Steps) -> None:
        super().__init__()
        self.contributions = contributions
        self.steps = steps

    @app_commands.command(
        name="settings", description="The role members get at a 30-day contribution score"
    )
    @app_commands.describe(
        helper_role="The role the bot gives and takes back as scores move",
        threshold="The 30-day score that earns it (default 10)",
        clear_helper_role="Stop giving a helper role (those who have it keep it)",
    )
    async def settings(
        self,
        interaction: discord.Interaction[PLNBot],
        helper_role: discord.Role | None = None,
        threshold: app_commands.Range[int, 1, 10_000] | None = None,
        clear_helper_role: bool = False,
    ) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        current = await self.contributions.helper_role(guild.id)
        if helper_role is not None or threshold is not None or clear_helper_role:
            role_id = (
                None if clear_helper_role else (helper_role.id if helper_role else current.role_id)
            )
            current = await self.contributions.set_helper_role(
                guild.id, guild.name, role_id, threshold
            )
            await interaction.client.services.scheduling.changed()
        changed = await self.steps.sync_helpers(guild)
        if current.role_id is None:
            text = (
                f"No helper role is set (threshold {current.threshold}). "
                "Set one with `/mod questions settings helper_role:`."
            )
        else:
            text = (
                f"Members with a 30-day score of {current.threshold} or more get "
                f"<@&{current.role_id}>; "
                f"the bot takes it back when their score drops ({changed} changed now)."
            )
        await interaction.followup.send(text, ephemeral=True)
