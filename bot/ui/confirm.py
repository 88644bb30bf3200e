"""Save / Cancel under a schedule preview: nothing is saved until the moderator confirms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.ui.paginator import OwnedView

OnSave = Callable[[discord.Interaction[Any]], Awaitable[str]]


class ConfirmSchedule(OwnedView):
    def __init__(self, owner_id: int, on_save: OnSave) -> None:
        super().__init__(owner_id, timeout=300)
        self._on_save = on_save

    @discord.ui.button(label="Save", style=discord.ButtonStyle.success)
    async def save(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        outcome = await self._on_save(interaction)
        self.stop()
        await interaction.response.edit_message(content=outcome[:2000], view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Cancelled; nothing was saved.", view=None)
