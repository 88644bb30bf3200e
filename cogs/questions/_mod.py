"""/mod questions: the helper role members get at a contribution threshold."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.core import PLNBot
from bot.errors import UserFacingError
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
            if helper_role is not None and not clear_helper_role:
                _check_assignable(guild, helper_role)
            current = await self.contributions.set_helper_role(
                guild.id, guild.name, role_id, threshold, actor_id=interaction.user.id
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


def _check_assignable(guild: discord.Guild, role: discord.Role) -> None:
    """A role the bot can give: not @everyone, not a bot's or a booster's, below the bot's own."""
    if role.is_default() or role.managed:
        raise UserFacingError(f"{role.name} cannot be given by the bot; pick a role of your own.")
    if role >= guild.me.top_role:
        raise UserFacingError(
            f"{role.name} is above the bot's own role: move the bot's role above it in Server "
            "Settings → Roles, then set it again. Nothing was changed."
        )
