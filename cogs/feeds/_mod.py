"""/mod feed: adding feeds (with a preview), editing, pausing, retrying, OPML in and out."""

from __future__ import annotations

import io
from typing import Literal

import discord
from discord import app_commands

from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.feeds.opml import Outline, parse_opml, write_opml
from bot.feeds.poller import FeedPoller
from bot.feeds.service import FeedService
from bot.tags import parse_tags
from bot.topics.service import TopicService
from bot.ui.autocomplete import topic_names
from bot.ui.context import guild_of
from bot.ui.moderation import ModeratorGroup
from bot.ui.permissions import require_can_post
from bot.ui.text import safe_text
from bot.unset import UNSET
from bot.wording import plural
from cogs.feeds._render import health, import_preview, info_embed, preview_embed, where
from cogs.feeds._views import SaveFeed

Destination = discord.TextChannel | discord.ForumChannel
ModeName = Literal["post", "thread", "digest"]
MAX_OPML_BYTES = 2_000_000


async def feed_ids(
    interaction: discord.Interaction[PLNBot], current: str
) -> list[app_commands.Choice[int]]:
    """The server's feeds whose number or title starts with / contains what is typed."""
    if interaction.guild_id is None:
        return []
    feeds = await interaction.client.services.feeds.for_guild(interaction.guild_id)
    typed = current.strip().lstrip("#").casefold()
    found = [f for f in feeds if not typed or typed in f"{f.id} {f.title}".casefold()]
    return [app_commands.Choice(name=f"#{f.id} {f.title}"[:100], value=f.id) for f in found[:25]]


class FeedModeration(ModeratorGroup, name="feed", description="Feeds the server follows"):
    def __init__(self, feeds: FeedService, poller: FeedPoller, topics: TopicService) -> None:
        super().__init__()
        self.feeds = feeds
        self.poller = poller
        self.topics = topics

    async def _destination(
        self,
        interaction: discord.Interaction[PLNBot],
        topic: str | None,
        channel: Destination | None,
    ) -> tuple[Destination, int | None]:
        guild = guild_of(interaction)
        found = await self.topics.require_if_named(guild.id, topic)
        target: object = channel
        if target is None and found is not None and found.channel_id is not None:
            target = guild.get_channel(found.channel_id)
        if target is None:
            target = interaction.channel
        if not isinstance(target, discord.TextChannel | discord.ForumChannel):
            raise UserFacingError(
                "Feeds post in a text or forum channel: pick one with `channel`. Nothing was saved."
            )
        require_can_post(target)
        return target, found.id if found else None

    @app_commands.command(name="add", description="Follow a feed, a site, a YouTube channel")
    @app_commands.describe(
        url="A feed, a page that links its feed, a YouTube channel or playlist, a podcast",
        topic="The topic whose channel it goes to (and whose tags its items get)",
        channel="Where items go (default: the topic's channel, else here)",
        tags="Tags every item gets in the library",
        mode="post: a message each; thread: with a discussion thread; digest: once a day",
        filter='Words or "phrases" an item must have; -word leaves items out',
        no_shorts="YouTube: leave out Shorts",
        digest_time="Digest mode: the local time of the daily digest (HH:MM)",
    )
    @app_commands.autocomplete(topic=topic_names)
    async def add(
        self,
        interaction: discord.Interaction[PLNBot],
        url: app_commands.Range[str, 1, 2000],
        topic: str | None = None,
        channel: Destination | None = None,
        tags: app_commands.Range[str, 1, 400] | None = None,
        mode: ModeName = "post",
        filter: app_commands.Range[str, 1, 400] | None = None,
        no_shorts: bool = False,
        digest_time: app_commands.Range[str, 4, 5] = "18:00",
    ) -> None:
        guild = guild_of(interaction)
        target, topic_id = await self._destination(interaction, topic, channel)
        parsed_tags = parse_tags(tags)
        await interaction.response.defer(ephemeral=True, thinking=True)
        fetched = await self.feeds.preview(url)
        saved: list[int] = []

        async def on_save(click: discord.Interaction[PLNBot], post_newest: bool) -> str:
            info = await self.feeds.add(
                guild.id,
                guild.name,
                click.user.id,
                fetched,
                channel_id=target.id,
                topic_id=topic_id,
                tags=parsed_tags,
                mode=mode,
                filter=filter or "",
                no_shorts=no_shorts,
                digest_time=digest_time,
                post_newest=post_newest,
            )
            if post_newest and mode != "digest":
                saved.append(info.id)
            newest = " The newest item is being posted now." if saved else ""
            return (
                f"Following feed #{info.id} “{safe_text(info.title, 200)}” into "
                f"{where(info.channel_id, info.mode, info.digest_time)}.{newest}"
            )

        async def after() -> None:
            for feed_id in saved:
                await self.poller.check_now(guild.id, feed_id)

        view = SaveFeed(interaction.user.id, on_save, offer_newest=bool(fetched.feed.items))
        view.after = after
        embed = preview_embed(fetched, target.id, mode, digest_time, filter or "", parsed_tags)
        view.message = await interaction.followup.send(
            embed=embed, view=view, ephemeral=True, wait=True
        )

    @app_commands.command(name="info", description="Everything about one feed")
    @app_commands.describe(id="The feed's number (see /feed list)")
    @app_commands.autocomplete(id=feed_ids)
    async def info(self, interaction: discord.Interaction[PLNBot], id: int) -> None:
        feed = await self.feeds.get(guild_of(interaction).id, id)
        await interaction.response.send_message(embed=info_embed(feed), ephemeral=True)

    @app_commands.command(name="edit", description="Change where a feed goes, its mode or filter")
    @app_commands.describe(
        id="The feed's number",
        topic="A topic (its channel, unless you give one)",
        channel="Where items go",
        tags="Tags every item gets (replaces the old ones; `none` for none)",
        mode="post, thread or digest",
        filter='Words or "phrases" an item must have; -word leaves out; `none` for no filter',
        no_shorts="YouTube: leave out Shorts",
        digest_time="Digest mode: the local time of the daily digest (HH:MM)",
    )
    @app_commands.autocomplete(id=feed_ids)
    @app_commands.autocomplete(topic=topic_names)
    async def edit(
        self,
        interaction: discord.Interaction[PLNBot],
        id: int,
        topic: str | None = None,
        channel: Destination | None = None,
        tags: app_commands.Range[str, 1, 400] | None = None,
        mode: ModeName | None = None,
        filter: app_commands.Range[str, 1, 400] | None = None,
        no_shorts: bool | None = None,
        digest_time: app_commands.Range[str, 4, 5] | None = None,
    ) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.feeds.get(guild.id, id)  # a friendly error before anything else
        channel_id, topic_id = UNSET, UNSET
        if topic is not None or channel is not None:
            target, found_topic = await self._destination(interaction, topic, channel)
            channel_id = target.id
            if topic is not None:
                topic_id = found_topic
        info = await self.feeds.edit(
            guild.id,
            guild.name,
            interaction.user.id,
            id,
            channel_id=channel_id,
            topic_id=topic_id,
            tags=UNSET if tags is None else ("" if tags.strip().lower() == "none" else tags),
            mode=UNSET if mode is None else mode,
            filter=UNSET
            if filter is None
            else ("" if filter.strip().lower() == "none" else filter),
            no_shorts=UNSET if no_shorts is None else no_shorts,
            digest_time=UNSET if digest_time is None else digest_time,
        )
        await interaction.followup.send(embed=info_embed(info), ephemeral=True)

    @app_commands.command(name="pause", description="Stop checking a feed for now")
    @app_commands.describe(id="The feed's number")
    @app_commands.autocomplete(id=feed_ids)
    async def pause(self, interaction: discord.Interaction[PLNBot], id: int) -> None:
        info = await self.feeds.set_paused(guild_of(interaction).id, id, True)
        await interaction.response.send_message(
            f"Feed #{info.id} “{safe_text(info.title, 200)}” is paused; "
            f"`/mod feed resume {info.id}` starts it again.",
            ephemeral=True,
        )

    @app_commands.command(name="resume", description="Check a paused feed again")
    @app_commands.describe(id="The feed's number")
    @app_commands.autocomplete(id=feed_ids)
    async def resume(self, interaction: discord.Interaction[PLNBot], id: int) -> None:
        info = await self.feeds.set_paused(guild_of(interaction).id, id, False)
        await interaction.response.send_message(
            f"Feed #{info.id} “{safe_text(info.title, 200)}” is checked again.", ephemeral=True
        )

    @app_commands.command(name="remove", description="Stop following a feed")
    @app_commands.describe(id="The feed's number")
    @app_commands.autocomplete(id=feed_ids)
    async def remove(self, interaction: discord.Interaction[PLNBot], id: int) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        info = await self.feeds.remove(guild_of(interaction).id, id)
        await interaction.followup.send(
            f"Feed #{info.id} “{safe_text(info.title, 200)}” is no longer followed. What it "
            "posted stays, and so do its items in the library.",
            ephemeral=True,
        )

    @app_commands.command(name="retry", description="Check a feed now (also a disabled one)")
    @app_commands.describe(id="The feed's number")
    @app_commands.autocomplete(id=feed_ids)
    async def retry(self, interaction: discord.Interaction[PLNBot], id: int) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.feeds.retry(guild.id, id)
        report = await self.poller.check_now(guild.id, id)
        info = await self.feeds.get(guild.id, id)
        posted = f" {plural(report.posted, 'new item')} posted." if report.posted else ""
        await interaction.followup.send(
            f"Checked feed #{info.id} “{safe_text(info.title, 200)}” now: {health(info)}.{posted}",
            ephemeral=True,
        )

    @app_commands.command(name="import", description="Follow every feed of an OPML file")
    @app_commands.describe(
        file="An OPML file (what feed readers export)",
        topic="The topic whose channel they go to",
        channel="Where their items go (default: the topic's channel, else here)",
        tags="Tags every item gets in the library",
    )
    @app_commands.autocomplete(topic=topic_names)
    async def import_(
        self,
        interaction: discord.Interaction[PLNBot],
        file: discord.Attachment,
        topic: str | None = None,
        channel: Destination | None = None,
        tags: app_commands.Range[str, 1, 400] | None = None,
    ) -> None:
        guild = guild_of(interaction)
        target, topic_id = await self._destination(interaction, topic, channel)
        parsed_tags = parse_tags(tags)
        if file.size > MAX_OPML_BYTES:
            raise UserFacingError("That file is larger than 2 MB; no OPML file needs that much.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        outlines = parse_opml(await file.read())
        plan = await self.feeds.plan_import(guild.id, outlines)
        if not plan.new:
            raise UserFacingError(
                import_preview(plan.new, plan.known, plan.over_limit, target.id)
                + "\nNothing to add."
            )

        async def on_save(click: discord.Interaction[PLNBot], _post_newest: bool) -> str:
            added = await self.feeds.import_feeds(
                guild.id,
                guild.name,
                click.user.id,
                plan,
                channel_id=target.id,
                topic_id=topic_id,
                tags=parsed_tags,
            )
            return f"Following {plural(len(added), 'more feed')} into <#{target.id}>."

        view = SaveFeed(interaction.user.id, on_save, offer_newest=False)
        view.message = await interaction.followup.send(
            import_preview(plan.new, plan.known, plan.over_limit, target.id),
            view=view,
            ephemeral=True,
            wait=True,
        )

    @app_commands.command(name="export", description="The server's feeds as OPML")
    async def export(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        feeds = await self.feeds.for_guild(guild.id)
        outlines = [Outline(f.url, f.title, f.site_url) for f in feeds]
        data = write_opml(f"{guild.name}: feeds", outlines, interaction.created_at)
        await interaction.followup.send(
            f"This server's {plural(len(feeds), 'feed')}, as OPML (any feed reader imports it).",
            file=discord.File(io.BytesIO(data), filename="feeds.opml"),
            ephemeral=True,
        )
