"""The asker's buttons under "is it solved?": they survive restarts (the question id is in them)."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.checks import is_moderator
from bot.ui.context import guild_of
from bot.ui.persistent import Persistent
from bot.ui.replies import send_ephemeral
from cogs.questions._solving import show_solved, thread_of


class SolvedButton(
    Persistent,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"questions:solved:(?P<id>[0-9]{1,19})",
):
    where = "question solved button"

    def __init__(self, question_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Solved",
                emoji="✅",
                style=discord.ButtonStyle.success,
                custom_id=f"questions:solved:{question_id}",
            )
        )
        self.question_id = question_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SolvedButton:
        return cls(int(match["id"]))

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        bot = interaction.client
        question = await bot.services.questions.get(guild.id, self.question_id)
        if question is None:
            await send_ephemeral(interaction, "This question is gone.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        solved = await bot.services.questions.solve(
            guild.id,
            question.thread_id,
            interaction.user.id,
            actor_is_moderator=await is_moderator(interaction),
            solver_id=None,
        )
        thread = await thread_of(bot, guild, question.thread_id)
        if thread is not None:
            await show_solved(bot, guild, thread, solved, interaction.user.id)
        await interaction.followup.send("Marked solved. Thank you!", ephemeral=True)


class StillOpenButton(
    Persistent,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"questions:open:(?P<id>[0-9]{1,19})",
):
    where = "question still open button"

    def __init__(self, question_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Still open",
                style=discord.ButtonStyle.secondary,
                custom_id=f"questions:open:{question_id}",
            )
        )
        self.question_id = question_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> StillOpenButton:
        return cls(int(match["id"]))

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        await interaction.client.services.questions.still_open(
            guild.id, self.question_id, interaction.user.id
        )
        await send_ephemeral(
            interaction, "It stays open; it is listed in `/questions` until someone solves it."
        )


def asker_view(question_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SolvedButton(question_id))
    view.add_item(StillOpenButton(question_id))
    return view
