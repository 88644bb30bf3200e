"""/mod library and /mod capture: the moderators' exports and capture channels."""

from __future__ import annotations

import io
from typing import Literal

import discord
from discord import app_commands

from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.library.export import export
from bot.library.service import LibraryService
from bot.settings import WebUISettings
from bot.tags import parse_tags
from bot.ui.context import guild_of
from bot.ui.moderation import ModeratorGroup
from bot.webui.publishing import Publication, PublishingService, public_url
from bot.wording import plural

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class CaptureModeration(
    ModeratorGroup, name="capture", description="Channels whose links are saved automatically"
):
    def __init__(self, library: LibraryService, *, content_intent: bool) -> None:
        super().__init__()
        self.library = library
        self.content_intent = content_intent

    @app_commands.command(name="add", description="Save links posted in a channel automatically")
    @app_commands.describe(channel="The channel", tags="Tags every captured link gets")
    async def capture_add(
        self,
        interaction: discord.Interaction[PLNBot],
        channel: discord.TextChannel | discord.ForumChannel,
        tags: app_commands.Range[str, 1, 400] | None = None,
    ) -> None:
        guild_id = guild_of(interaction).id
        parsed = parse_tags(tags)
        await self.library.set_capture_channel(guild_id, channel.id, parsed, source="moderator")
        warning = (
            ""
            if self.content_intent
            else "\nNote: the message content intent is off, so capture waits until it is on."
        )
        shown = " ".join(f"`{t}`" for t in parsed) or "no tags"
        await interaction.response.send_message(
            f"Links posted in {channel.mention} are now saved to the library ({shown}).{warning}",
            ephemeral=True,
        )

    @app_commands.command(name="remove", description="Stop saving links from a channel")
    @app_commands.describe(channel="The channel")
    async def capture_remove(
        self,
        interaction: discord.Interaction[PLNBot],
        channel: discord.TextChannel | discord.ForumChannel,
    ) -> None:
        guild_id = guild_of(interaction).id
        await self.library.remove_capture_channel(guild_id, channel.id)
        await interaction.response.send_message(
            f"Links in {channel.mention} are no longer captured.", ephemeral=True
        )

    @app_commands.command(name="list", description="Channels whose links are captured")
    async def capture_list(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild_id = guild_of(interaction).id
        channels = await self.library.capture_channels(guild_id)
        lines = [
            f"<#{c.channel_id}> — {' '.join(f'`{t}`' for t in c.default_tags) or 'no tags'}"
            f" ({c.source})"
            for c in channels[:50]
        ]
        text = "\n".join(lines) or "No capture channels yet: `/mod capture add`."
        await interaction.response.send_message(text[:2000], ephemeral=True)


class LibraryModeration(ModeratorGroup, name="library", description="The library as a whole"):
    def __init__(
        self, library: LibraryService, publishing: PublishingService, web_ui: WebUISettings
    ) -> None:
        super().__init__()
        self.library = library
        self.publishing = publishing
        self.web_ui = web_ui

    @app_commands.command(name="publish", description="Show the library on the web, or stop")
    @app_commands.describe(
        state="on: anyone with the address can read it; off: every page is gone at once",
        include_names="Show sharers' names (never of members who opted out in /me privacy)",
    )
    async def library_publish(
        self,
        interaction: discord.Interaction[PLNBot],
        state: Literal["on", "off"],
        include_names: bool = False,
    ) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        publication = await self.publishing.publish(
            guild.id,
            guild.name,
            interaction.user.id,
            published=state == "on",
            include_names=include_names,
        )
        await interaction.followup.send(
            publish_reply(
                publication,
                public_url(self.web_ui.base_url, publication.slug),
                web_ui_on=self.web_ui.enabled,
            ),
            ephemeral=True,
        )

    @app_commands.command(name="export", description="Download the library")
    @app_commands.describe(format="CSV, JSON, or HTML bookmarks any browser can import")
    async def library_export(
        self,
        interaction: discord.Interaction[PLNBot],
        format: Literal["csv", "json", "html"] = "csv",
    ) -> None:
        guild_id = guild_of(interaction).id
        await interaction.response.defer(ephemeral=True, thinking=True)
        resources = await self.library.export(guild_id)
        name, data = export(resources, format)
        if len(data) > MAX_UPLOAD_BYTES:
            raise UserFacingError(
                "The export is larger than Discord's 10 MiB upload limit; try the CSV format."
            )
        await interaction.followup.send(
            f"The library: {plural(len(resources), 'resource')}.",
            file=discord.File(io.BytesIO(data), filename=name),
            ephemeral=True,
        )


def publish_reply(publication: Publication, url: str, *, web_ui_on: bool) -> str:
    if not publication.published:
        return "The library is no longer on the web: every page and feed now answers 404."
    names = (
        "Sharers' names are shown, except for members who opted out with `/me privacy`."
        if publication.include_names
        else "Sharers' names are not shown."
    )
    text = (
        f"The library is on the web at <{url}> (its pages, search and Atom feeds). "
        f"Only people you give the address to can find it. {names}"
    )
    if not web_ui_on:
        text += (
            "\nNote: this bot's web server is off (`[web_ui] enabled = false`); "
            "the address works once the operator turns it on."
        )
    return text
