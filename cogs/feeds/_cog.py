"""/feed list and /feed suggest for everyone; the poller's loop and the daily digests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.feeds.records import DeliveryBroken
from bot.feeds.service import DIGEST_KIND, FeedService
from bot.scheduling import SlotContext
from bot.ui.approvals import approval_items, approval_view
from bot.ui.context import guild_of
from bot.ui.paginator import Paginator
from bot.ui.text import safe_text
from cogs.feeds._mod import FeedModeration
from cogs.feeds._poster import FeedPoster
from cogs.feeds._render import list_pages

log = logging.getLogger(__name__)

# How often the loop looks for due feeds (each feed has its own interval, from the settings).
POLL_EVERY_SECONDS = 60.0
DIGEST_GRACE = timedelta(hours=6)


class FeedSuggestions:
    """The approval flow for `/feed suggest`: approving follows the feed into the channel where
    it was suggested, in post mode (`/mod feed edit` changes that)."""

    kind = "feed"

    def __init__(self, feeds: FeedService) -> None:
        self.feeds = feeds

    async def approve(self, interaction: discord.Interaction[PLNBot], item_id: int) -> str:
        guild = guild_of(interaction)
        suggestion = await self.feeds.suggestion(guild.id, item_id)
        fetched = await self.feeds.preview(suggestion.url)
        info = await self.feeds.add(
            guild.id,
            guild.name,
            interaction.user.id,
            fetched,
            channel_id=suggestion.channel_id,
        )
        await self.feeds.decide(guild.id, item_id, interaction.user.id, approve=True)
        return (
            f"✅ Feed suggestion #{item_id} approved by {interaction.user.mention}: following "
            f"feed #{info.id} “{safe_text(info.title, 200)}” into <#{info.channel_id}>."
        )

    async def reject(
        self, interaction: discord.Interaction[PLNBot], item_id: int, reason: str | None
    ) -> str:
        guild = guild_of(interaction)
        await self.feeds.decide(guild.id, item_id, interaction.user.id, approve=False)
        why = f" Reason: {safe_text(reason, 500)}" if reason else ""
        return f"❌ Feed suggestion #{item_id} rejected by {interaction.user.mention}.{why}"


@app_commands.guild_only()
class Feeds(commands.GroupCog, group_name="feed", group_description="Feeds the server follows"):
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.feeds = bot.services.feeds
        self.poller = bot.services.feed_poller
        self.core = bot.services.scheduling
        self.suggestions = FeedSuggestions(self.feeds)
        self.moderation = FeedModeration(self.feeds, self.poller, bot.services.topics)
        self._loop: asyncio.Task[None] | None = None
        super().__init__()

    async def cog_load(self) -> None:
        self.poller.deliverer = FeedPoster(self.bot)
        self.core.registry.register(
            DIGEST_KIND,
            self.post_digest,
            grace=DIGEST_GRACE,
            resume_after_crash=True,
            listed=False,
        )
        self.bot.add_dynamic_items(*approval_items(self.suggestions))
        self.bot.moderation.add_command(self.moderation)
        if self.bot.background_jobs:
            self._loop = asyncio.create_task(self._poll_forever(), name="plnbot-feeds")

    async def cog_unload(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        self.bot.moderation.remove_command(self.moderation.name)
        self.core.registry.unregister(DIGEST_KIND)
        self.bot.remove_dynamic_items(*approval_items(self.suggestions))
        self.poller.deliverer = None
        self.poller.parsers.close()

    async def _poll_forever(self) -> None:
        await self.bot.wait_until_ready()
        while True:
            await asyncio.sleep(POLL_EVERY_SECONDS)
            try:
                await self.poller.run_due()
            except Exception:
                log.exception("A feed pass failed; the next one is in a minute")

    async def post_digest(self, slot: SlotContext) -> str:
        """The daily digest of one feed (a slot of its schedule), through the run's outbox."""
        feed_id = int(str(slot.schedule.payload["feed_id"]))
        try:
            count = await self.poller.post_digest(slot.schedule.guild_id, feed_id, slot.outbox)
        except DeliveryBroken as broken:
            await self.bot.modlog.post(
                slot.schedule.guild_id,
                f"The daily digest of feed #{feed_id} was not posted: {broken}. "
                f"Fix it, or move the feed with `/mod feed edit {feed_id}`.",
            )
            return f"not posted: {broken}"
        return f"{count} items"

    @commands.Cog.listener()
    async def on_guild_timezone_changed(self, guild: discord.Guild, _actor_id: int) -> None:
        await self.feeds.follow_guild_timezone(guild.id, guild.name)

    @app_commands.command(name="list", description="Every feed of the server and its health")
    async def list_feeds(self, interaction: discord.Interaction[PLNBot]) -> None:
        feeds = await self.feeds.for_guild(guild_of(interaction).id)
        await Paginator(interaction.user.id, list_pages(feeds)).send(interaction)

    @app_commands.command(name="suggest", description="Suggest a feed; moderators decide")
    @app_commands.describe(url="The feed, blog or channel", why="Why it is worth following")
    @app_commands.checks.cooldown(3, 600.0, key=lambda i: (i.guild_id, i.user.id))
    async def suggest(
        self,
        interaction: discord.Interaction[PLNBot],
        url: app_commands.Range[str, 1, 2000],
        why: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        guild = guild_of(interaction)
        channel_id = interaction.channel_id or 0
        suggestion_id = await self.feeds.suggest(
            guild.id, guild.name, interaction.user.id, channel_id, url, why
        )
        posted = await self.bot.modlog.post(
            guild.id,
            f"📰 {interaction.user.mention} suggests a feed (#{suggestion_id}) for "
            f"<#{channel_id}>: <{safe_text(url.strip(), 500)}>"
            + (f"\n{safe_text(why, 500)}" if why else ""),
            view=approval_view(self.suggestions, suggestion_id),
        )
        if posted is None:
            await self.feeds.decide(guild.id, suggestion_id, interaction.user.id, approve=False)
            raise UserFacingError(
                "Moderators have no log channel set up for suggestions yet; ask them to set one "
                "with `/mod settings log_channel`. Nothing was saved."
            )
        await interaction.response.send_message(
            "Thanks! Your suggestion went to the moderators.", ephemeral=True
        )
