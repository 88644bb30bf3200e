"""The learning log's buttons: quick "+10"/"+20" (persistent) and "Show in channel"."""

from __future__ import annotations

import io
import re
from typing import Any

import discord

from bot.ui.context import guild_of
from bot.ui.paginator import OwnedView
from bot.ui.persistent import Persistent
from cogs.learning._render import logged

QUICK_MINUTES = (10, 20)


class QuickLog(
    Persistent,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"learn:log:(?P<minutes>10|20):(?P<topic>[0-9]{1,19})",
):
    """Logs 10 or 20 more minutes (on the same topic) for whoever clicks; survives restarts."""

    where = "learning quick log button"

    def __init__(self, minutes: int, topic_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"+{minutes}",
                style=discord.ButtonStyle.success,
                custom_id=f"learn:log:{minutes}:{topic_id}",
            )
        )
        self.minutes = minutes
        self.topic_id = topic_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> QuickLog:
        return cls(int(match["minutes"]), int(match["topic"]))

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        services = interaction.client.services
        topic = await services.topics.get(guild.id, self.topic_id) if self.topic_id else None
        result = await services.learning.log(
            guild.id,
            guild.name,
            interaction.channel_id or 0,
            interaction.user.id,
            self.minutes,
            topic=topic,
        )
        await interaction.response.send_message(
            logged(result, topic.name if topic else None),
            view=quick_view(result.topic_id),
            ephemeral=True,
        )


def quick_view(topic_id: int | None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for minutes in QUICK_MINUTES:
        view.add_item(QuickLog(minutes, topic_id or 0))
    return view


class ShowInChannel(OwnedView):
    """Posts the member's private progress in the channel, for everyone, when they choose to."""

    def __init__(self, owner_id: int, embeds: list[discord.Embed], files: dict[str, bytes]) -> None:
        super().__init__(owner_id)
        self.embeds = embeds
        self.files = files

    @discord.ui.button(label="Show in channel", style=discord.ButtonStyle.primary)
    async def show(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        button.disabled = True
        files = [discord.File(io.BytesIO(data), filename=name) for name, data in self.files.items()]
        await interaction.response.send_message(embeds=self.embeds, files=files)
        self.stop()
