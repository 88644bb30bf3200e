"""Save / Save and post the newest / Cancel under a feed preview; Save / Cancel under an import."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.ui.paginator import OwnedView

# on_save(interaction, post_newest) -> the outcome shown in place of the preview.
OnSave = Callable[[discord.Interaction[Any], bool], Awaitable[str]]
# After the outcome is shown (e.g. the first check of a new feed).
AfterSave = Callable[[], Awaitable[None]]


class SaveFeed(OwnedView):
    def __init__(self, owner_id: int, on_save: OnSave, *, offer_newest: bool = True) -> None:
        super().__init__(owner_id, timeout=600)
        self._on_save = on_save
        self.after: AfterSave | None = None
        if not offer_newest:
            self.remove_item(self.save_and_post)

    async def _save(self, interaction: discord.Interaction[Any], post_newest: bool) -> None:
        await interaction.response.defer()
        outcome = await self._on_save(interaction, post_newest)
        self.stop()
        await interaction.edit_original_response(content=outcome[:2000], embed=None, view=None)
        if self.after is not None:
            await self.after()

    @discord.ui.button(label="Save", style=discord.ButtonStyle.success)
    async def save(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        await self._save(interaction, False)

    @discord.ui.button(label="Save and post the newest", style=discord.ButtonStyle.primary)
    async def save_and_post(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        await self._save(interaction, True)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(
            content="Cancelled; nothing was saved.", embed=None, view=None
        )
