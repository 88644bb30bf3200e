"""The base of every component that survives restarts (`DynamicItem`): one error path.

A persistent button or menu says what it does in `clicked`; a failure there reaches the member as
the one friendly reply (or a logged error id), as for commands, never as a silent "interaction
failed". Use it first among the bases:

    class SaveButton(Persistent, discord.ui.DynamicItem[discord.ui.Button[Any]], template=...):
        where = "library save button"
        async def clicked(self, interaction): ...
"""

from __future__ import annotations

from typing import Any, ClassVar

import discord

from bot.ui.replies import report_error


class Persistent:
    where: ClassVar[str] = "persistent component"

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.clicked(interaction)
        except Exception as error:
            await report_error(interaction, error, where=self.where)

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        raise NotImplementedError
