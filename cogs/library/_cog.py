"""/share, /search, /saved, /resource and /library: the guild's resource library.

Links posted in capture channels are recorded silently (needs the message content intent);
the "Save to library" message command works on any message. ⭐/👍 reactions on cards or captured
messages are votes and 🔖 saves, through raw events so old messages count too.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import is_moderator
from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.library.records import ShareResult
from bot.library.search import parse_since
from bot.library.service import LibraryService
from bot.library.titles import extract_title
from bot.tags import parse_tags
from bot.ui.context import guild_of
from bot.ui.text import safe_text
from bot.web.fetcher import FetchError
from bot.wording import plural
from cogs.library._mod import CaptureModeration, LibraryModeration
from cogs.library._render import (
    duplicate_notice,
    resource_info,
    result_pages,
    share_card,
    tag_list,
)
from cogs.library._views import (
    PostAnyway,
    PostCard,
    SaveButton,
    TagsModal,
    save_view,
    send_pages,
)
from cogs.questions.summaries import solved_search_pages

log = logging.getLogger(__name__)

_SKIN_TONES = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")


class Library(commands.Cog):
    library = app_commands.Group(
        name="library", description="The server's resource library", guild_only=True
    )
    resource = app_commands.Group(
        name="resource", description="One resource of the library", guild_only=True
    )

    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.service: LibraryService = bot.services.library
        self.fetcher = bot.services.fetcher
        self._title_tasks: set[asyncio.Task[None]] = set()
        self.cards = CardsInFlight()
        self.save_menu = app_commands.ContextMenu(
            name="Save to library", callback=self.save_to_library
        )
        self.save_menu.guild_only = True
        self.moderation = (
            LibraryModeration(self.service, bot.services.publishing, bot.settings.web_ui),
            CaptureModeration(
                self.service, content_intent=bot.settings.discord.message_content_intent
            ),
        )

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(SaveButton)
        self.bot.tree.add_command(self.save_menu)
        for group in self.moderation:
            self.bot.moderation.add_command(group)

    async def cog_unload(self) -> None:
        for group in self.moderation:
            self.bot.moderation.remove_command(group.name)
        self.bot.tree.remove_command(self.save_menu.name, type=self.save_menu.type)
        self.bot.remove_dynamic_items(SaveButton)
        for task in list(self._title_tasks):
            task.cancel()
        await asyncio.gather(*self._title_tasks, return_exceptions=True)
        await self.fetcher.close()

    # --- sharing -------------------------------------------------------------------------

    @app_commands.command(name="share", description="Add a link to the library and post its card")
    @app_commands.guild_only()
    @app_commands.describe(
        url="The link (https://…)",
        tags="Up to 10 tags, comma or space separated",
        note="Why it is worth reading (500 characters at most)",
        title="A title; left out, the page's own title is fetched",
    )
    async def share(
        self,
        interaction: discord.Interaction[PLNBot],
        url: app_commands.Range[str, 1, 2048],
        tags: str | None = None,
        note: app_commands.Range[str, 1, 500] | None = None,
        title: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        guild = guild_of(interaction)
        result = await self.service.share(
            guild.id,
            interaction.channel_id or 0,  # always set for a slash command in a channel
            interaction.user.id,
            url,
            tags=tags,
            note=note,
            title=title,
            guild_name=guild.name,
            member_is_bot=interaction.user.bot,
        )
        card = share_card(result.resource, interaction.user.id, note)
        if result.first_share is not None:
            # A re-share counts, and says so privately: one link leaves one card in the channel.
            notice = duplicate_notice(result.first_share, guild.id, interaction.user.id)
            view = PostAnyway(interaction.user.id, card, self._post_card(result))
            await interaction.response.send_message(notice, view=view, ephemeral=True)
            view.message = await interaction.original_response()
            return
        async with self.cards.posting():
            await interaction.response.send_message(embed=card, view=save_view(result.resource.id))
            message = await interaction.original_response()
            await self.service.attach_message(guild.id, result.share_id, message.id)
        if result.resource.title is None:
            self._start_title_fetch(interaction, result.resource.id, note)

    def _post_card(self, result: ShareResult) -> PostCard:
        """Posts a re-share's card in the channel after all, as the member's own share."""

        async def post(interaction: discord.Interaction[PLNBot], card: discord.Embed) -> None:
            guild = guild_of(interaction)
            async with self.cards.posting():
                await interaction.response.send_message(
                    embed=card, view=save_view(result.resource.id)
                )
                message = await interaction.original_response()
                await self.service.attach_message(guild.id, result.share_id, message.id)

        return post

    @share.autocomplete("tags")
    async def _share_tags(
        self, interaction: discord.Interaction[PLNBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._tag_choices(interaction, current, multiple=True)

    def _start_title_fetch(
        self, interaction: discord.Interaction[PLNBot], resource_id: int, note: str | None
    ) -> None:
        task = asyncio.create_task(
            self._fetch_title(interaction, resource_id, note), name=f"title-{resource_id}"
        )
        self._title_tasks.add(task)
        task.add_done_callback(self._title_tasks.discard)

    async def _fetch_title(
        self, interaction: discord.Interaction[PLNBot], resource_id: int, note: str | None
    ) -> None:
        """In the background: the page's title, then the card shows it. Never fails loudly."""
        guild_id = guild_of(interaction).id
        try:
            resource = await self.service.get(guild_id, resource_id)
            page = await self.fetcher.fetch_html(resource.url)
            title = extract_title(page.body, page.charset)
            if title and await self.service.set_page_title(guild_id, resource_id, title):
                updated = await self.service.get(guild_id, resource_id)
                await interaction.edit_original_response(
                    embed=share_card(updated, interaction.user.id, note)
                )
        except (FetchError, UserFacingError, discord.HTTPException) as error:
            log.debug("No title for resource %s: %s", resource_id, error)
        except Exception:
            log.exception("Fetching the title of resource %s failed", resource_id)

    # --- finding -------------------------------------------------------------------------

    @app_commands.command(name="search", description="Search the library")
    @app_commands.guild_only()
    @app_commands.describe(
        query="Words to find in titles, notes, links and tags (end a word with * for a prefix)",
        tag="Only resources with this tag",
        by="Only resources this member shared",
        since="Only resources shared since: 7d, 2w, 3m, 1y or a date (2026-01-31)",
        kind="Links (default), or solved questions with their solutions",
    )
    async def search(
        self,
        interaction: discord.Interaction[PLNBot],
        query: app_commands.Range[str, 0, 200] | None = None,
        tag: app_commands.Range[str, 1, 40] | None = None,
        by: discord.User | None = None,
        since: app_commands.Range[str, 1, 20] | None = None,
        kind: Literal["links", "questions"] = "links",
    ) -> None:
        guild_id = guild_of(interaction).id
        if kind == "questions":
            solved = await self.bot.services.questions.search_solved(guild_id, query or "")
            pages = solved_search_pages(solved, guild_id, query)
            await send_pages(interaction, pages, public_button=False)
            return
        after = parse_since(since, self.bot.clock.now()) if since else None
        found = await self.service.search(
            guild_id, query, tag=tag, by=by.id if by else None, since=after
        )
        described = " · ".join(
            part
            for part in (
                f'"{safe_text(query, 100)}"' if query else "",
                f"tag {safe_text(tag, 40)}" if tag else "",
                f"by {safe_text(by.display_name, 40)}" if by else "",
                f"since {safe_text(since, 20)}" if since else "",
            )
            if part
        )
        pages = result_pages(
            found,
            title=f"Library search: {described}" if described else "Newest in the library",
            empty="Nothing found. Try fewer words, or a prefix like `fract*`.",
        )
        await send_pages(interaction, pages, public_button=bool(found))

    @search.autocomplete("tag")
    async def _search_tag(
        self, interaction: discord.Interaction[PLNBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._tag_choices(interaction, current, multiple=False)

    @app_commands.command(name="saved", description="The resources you saved")
    @app_commands.guild_only()
    async def saved(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild_id = guild_of(interaction).id
        found = await self.service.saved(guild_id, interaction.user.id)
        pages = result_pages(
            found,
            title="Your saved resources",
            empty="Nothing saved yet: press Save on a share card or react with 🔖.",
        )
        await send_pages(interaction, pages, public_button=False)

    async def _tag_choices(
        self, interaction: discord.Interaction[PLNBot], current: str, *, multiple: bool
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        tags = await self.service.autocomplete_tags(interaction.guild_id, current)
        head = ""
        if multiple and re.search(r"[,\s]", current.strip()):
            head = re.split(r"(?<=[,\s])(?=[^,\s]*$)", current.strip(), maxsplit=1)[0]
        choices = []
        for tag in tags:
            value = f"{head}{tag}"[:100]
            choices.append(app_commands.Choice(name=value, value=value))
        return choices[:25]

    # --- /resource -----------------------------------------------------------------------

    @resource.command(name="info", description="Details of a resource and who shared it")
    @app_commands.describe(id="The resource number (shown on cards and in search results)")
    async def resource_info(
        self, interaction: discord.Interaction[PLNBot], id: app_commands.Range[int, 1]
    ) -> None:
        guild_id = guild_of(interaction).id
        found = await self.service.get(guild_id, id)
        shares = await self.service.shares_of(guild_id, id)
        await interaction.response.send_message(
            embed=resource_info(found, shares, guild_id),
            view=save_view(found.id),
            ephemeral=True,
        )

    @resource.command(name="tag", description="Add tags (the sharer or a moderator)")
    @app_commands.describe(id="The resource number", tags="Tags to add, comma or space separated")
    async def resource_tag(
        self,
        interaction: discord.Interaction[PLNBot],
        id: app_commands.Range[int, 1],
        tags: app_commands.Range[str, 1, 400],
    ) -> None:
        await self._edit_tags(interaction, id, add=tags)

    @resource_tag.autocomplete("tags")
    async def _resource_tag_tags(
        self, interaction: discord.Interaction[PLNBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._tag_choices(interaction, current, multiple=True)

    @resource.command(name="untag", description="Remove tags (the sharer or a moderator)")
    @app_commands.describe(id="The resource number", tags="Tags to remove")
    async def resource_untag(
        self,
        interaction: discord.Interaction[PLNBot],
        id: app_commands.Range[int, 1],
        tags: app_commands.Range[str, 1, 400],
    ) -> None:
        await self._edit_tags(interaction, id, remove=tags)

    async def _edit_tags(
        self,
        interaction: discord.Interaction[PLNBot],
        resource_id: int,
        *,
        add: str | None = None,
        remove: str | None = None,
    ) -> None:
        guild_id = guild_of(interaction).id
        edited = await self.service.edit_tags(
            guild_id,
            resource_id,
            interaction.user.id,
            add=add,
            remove=remove,
            is_moderator=await is_moderator(interaction),
        )
        shown = " ".join(f"`{t}`" for t in edited.tags) or "none"
        await interaction.response.send_message(
            f"Tags of resource #{edited.id} are now: {shown}", ephemeral=True
        )

    @resource.command(name="remove", description="Remove a resource (the sharer or a moderator)")
    @app_commands.describe(id="The resource number")
    async def resource_remove(
        self, interaction: discord.Interaction[PLNBot], id: app_commands.Range[int, 1]
    ) -> None:
        guild_id = guild_of(interaction).id
        removed = await self.service.remove(
            guild_id,
            id,
            interaction.user.id,
            is_moderator=await is_moderator(interaction),
        )
        await interaction.response.send_message(
            f"Removed resource #{removed.id} from the library.", ephemeral=True
        )

    # --- /library ------------------------------------------------------------------------

    @library.command(name="tags", description="Every tag in the library with its count")
    async def library_tags(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild_id = guild_of(interaction).id
        counts = await self.service.tag_counts(guild_id)
        await send_pages(interaction, tag_list(counts), public_button=False)

    # --- capture and reactions -----------------------------------------------------------

    async def save_to_library(
        self, interaction: discord.Interaction[PLNBot], message: discord.Message
    ) -> None:
        async def submitted(modal_interaction: discord.Interaction[PLNBot], text: str) -> None:
            assert modal_interaction.guild_id is not None
            tags = parse_tags(text)
            captured = await self.service.capture_links(
                modal_interaction.guild_id,
                message.channel.id,
                message.id,
                message.author.id,
                message.content,
                tags=tags,
                author_is_bot=message.author.bot,
                source="context",
            )
            if captured:
                ids = ", ".join(f"#{c.resource_id}" for c in captured)
                reply = f"Added {plural(len(captured), 'link')} to the library: {ids}."
            else:
                reply = "No new links to add: none found, or they were already saved from here."
            await modal_interaction.response.send_message(reply, ephemeral=True)

        await interaction.response.send_modal(TagsModal(submitted))

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None or message.author.bot or message.webhook_id is not None:
            return
        if not self.bot.settings.discord.message_content_intent or "http" not in message.content:
            return
        channel_ids = [message.channel.id]
        parent_id = getattr(message.channel, "parent_id", None)
        if parent_id is not None:
            channel_ids.append(parent_id)  # a thread in a capture channel
        for channel_id in channel_ids:
            capture = await self.service.capture_channel(message.guild.id, channel_id)
            if capture is not None:
                await self.service.capture_links(
                    message.guild.id,
                    message.channel.id,
                    message.id,
                    message.author.id,
                    message.content,
                    tags=capture.default_tags,
                )
                return

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.guild_id is None or payload.member is None or payload.member.bot:
            return
        args = (payload.guild_id, payload.message_id, payload.user_id, _emoji(payload.emoji))
        if await self.service.add_reaction(*args):
            return
        if payload.message_author_id == getattr(self.bot.user, "id", None) and self.cards.pending:
            await self.cards.settled()  # the card may be too new to be known yet
            await self.service.add_reaction(*args)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.guild_id is None or payload.user_id == getattr(self.bot.user, "id", None):
            return
        if self.cards.pending:
            await self.cards.settled()  # its add may be waiting for a new card (above)
        await self.service.remove_reaction(
            payload.guild_id, payload.message_id, payload.user_id, _emoji(payload.emoji)
        )


CARD_SETTLE_SECONDS = 5.0  # far longer than recording a card's message takes


class CardsInFlight:
    """Share cards posted whose message id is not recorded yet.

    A member can react to a card before the bot has stored which message it is (the reaction
    event may even arrive before the bot's own send returns): such a reaction waits for the
    cards in flight, then counts.
    """

    def __init__(self) -> None:
        self.pending = 0
        self._settled = asyncio.Event()
        self._settled.set()

    @asynccontextmanager
    async def posting(self) -> AsyncIterator[None]:
        self.pending += 1
        self._settled.clear()
        try:
            yield
        finally:
            self.pending -= 1
            if not self.pending:
                self._settled.set()

    async def settled(self) -> None:
        with suppress(TimeoutError):
            async with asyncio.timeout(CARD_SETTLE_SECONDS):
                await self._settled.wait()


def _emoji(emoji: discord.PartialEmoji) -> str:
    """A unicode emoji without skin tone or variation selectors (custom emojis never match)."""
    return "" if emoji.id is not None else _SKIN_TONES.sub("", emoji.name or "")
