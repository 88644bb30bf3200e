"""The one paginated view: Previous/Next over pages of embeds, for its owner only."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import discord

from bot.ui.replies import report_error, send_ephemeral


class OwnedView(discord.ui.View):
    """A view only its owner may use; it disables itself on timeout and reports its own errors."""

    def __init__(self, owner_id: int, *, timeout: float | None = 600) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.message: discord.Message | discord.InteractionMessage | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await send_ephemeral(interaction, "These buttons belong to someone else's command.")
        return False

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button | discord.ui.Select):
                item.disabled = True
        if self.message is not None:
            # The message may be gone or the interaction token expired.
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=self)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await report_error(interaction, error, where=f"{type(self).__name__} ({item.type.name})")


class Paginator(OwnedView):
    def __init__(self, owner_id: int, pages: Sequence[discord.Embed], *, timeout: float = 600):
        if not pages:
            raise ValueError("a paginator needs at least one page")
        super().__init__(owner_id, timeout=timeout)
        self.pages = list(pages)
        self.index = 0
        self._sync_buttons()

    @property
    def current(self) -> discord.Embed:
        return self.pages[self.index]

    def _sync_buttons(self) -> None:
        self.previous_page.disabled = self.index == 0
        self.next_page.disabled = self.index >= len(self.pages) - 1
        self.position.label = f"{self.index + 1} / {len(self.pages)}"

    async def _show(self, interaction: discord.Interaction[Any]) -> None:
        self._sync_buttons()
        await interaction.response.edit_message(embed=self.current, view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous_page(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        self.index = max(0, self.index - 1)
        await self._show(interaction)

    @discord.ui.button(label="1 / 1", style=discord.ButtonStyle.secondary, disabled=True)
    async def position(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.defer()

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next_page(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        self.index = min(len(self.pages) - 1, self.index + 1)
        await self._show(interaction)

    async def send(self, interaction: discord.Interaction[Any], *, ephemeral: bool = True) -> None:
        """Send the first page as the answer to `interaction` (deferred or not)."""
        view = self if len(self.pages) > 1 else discord.utils.MISSING
        if interaction.response.is_done():
            self.message = await interaction.followup.send(
                embed=self.current, view=view, ephemeral=ephemeral, wait=True
            )
        else:
            await interaction.response.send_message(
                embed=self.current, view=view, ephemeral=ephemeral
            )
            self.message = await interaction.original_response()
