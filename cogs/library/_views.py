"""The library's Discord pieces: the persistent Save button, the result pages, the tags modal."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from bot.ui.context import guild_of
from bot.ui.forms import Form, TextField
from bot.ui.paginator import OwnedView, Paginator
from bot.ui.persistent import Persistent
from bot.ui.replies import send_ephemeral


class SaveButton(
    Persistent,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"library:save:(?P<id>[0-9]{1,19})",
):
    """The Save button on share cards; the resource id in its custom id survives restarts."""

    where = "library save button"

    def __init__(self, resource_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Save",
                emoji="🔖",
                style=discord.ButtonStyle.secondary,
                custom_id=f"library:save:{resource_id}",
            )
        )
        self.resource_id = resource_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SaveButton:
        return cls(int(match["id"]))

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        guild = guild_of(interaction)
        service = interaction.client.services.library
        saved = await service.save(guild.id, self.resource_id, interaction.user.id)
        text = (
            f"Saved resource #{self.resource_id}. Find it with `/saved`."
            if saved
            else f"You had already saved resource #{self.resource_id} (see `/saved`)."
        )
        await send_ephemeral(interaction, text)


def save_view(resource_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SaveButton(resource_id))
    return view


PostCard = Callable[[discord.Interaction[Any], discord.Embed], Awaitable[None]]


class PostAnyway(OwnedView):
    """Under a re-share's private notice: post the card in the channel after all."""

    def __init__(self, owner_id: int, card: discord.Embed, post: PostCard) -> None:
        super().__init__(owner_id, timeout=600)
        self._card = card
        self._post = post

    @discord.ui.button(label="Post it here anyway", style=discord.ButtonStyle.secondary)
    async def post_anyway(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await self._post(interaction, self._card)
        if self.message is not None:
            # The notice may be gone or its token expired; the card is posted either way.
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=None)


class ResultPages(Paginator):
    """The one paginator, plus a button that posts the current page publicly in the channel."""

    @discord.ui.button(label="Post publicly", style=discord.ButtonStyle.primary, row=1)
    async def post_publicly(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.send_message(
            f"Shared by <@{interaction.user.id}> from the library:",
            embed=self.current,
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def send_pages(
    interaction: discord.Interaction[Any], pages: Sequence[discord.Embed], *, public_button: bool
) -> None:
    view = (ResultPages if public_button else Paginator)(interaction.user.id, pages)
    if public_button and len(pages) == 1:
        # Paginator sends no view for one page; the public button is still useful.
        await interaction.response.send_message(embed=pages[0], view=view, ephemeral=True)
        view.message = await interaction.original_response()
        return
    await view.send(interaction, ephemeral=True)


class TagsModal(Form, title="Save to library"):
    where = "Save to library modal"
    tags: TextField[TagsModal] = TextField(
        label="Tags (optional)",
        custom_id="library:save:tags",
        placeholder="comma or space separated, e.g. math, k-12",
        required=False,
        max_length=400,
    )

    def __init__(self, on_submit: Callable[[discord.Interaction[Any], str], Awaitable[None]]):
        super().__init__()
        self._on_submit = on_submit

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        await self._on_submit(interaction, self.tags.value)
