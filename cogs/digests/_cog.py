"""/digest: a member's opt-in weekly DM, its Discord delivery (paced) and the closed-DM notice."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import PLNBot
from bot.digests.service import (
    DIGEST_GRACE,
    DIGEST_KIND,
    DMS_CLOSED,
    Digest,
    DigestSlots,
    Subscription,
)
from bot.recap.window import WEEKDAYS
from bot.scheduling import OutboxScope
from bot.ui.context import guild_of
from bot.ui.outbox import message_post
from bot.ui.text import safe_text
from cogs.recap.render import render_digest

log = logging.getLogger(__name__)

CANNOT_DM = 50007
# Two requests a digest (open the DM, send): 4 digests a second is 8 requests a second, far
# under Discord's global 50/s, and 14,400 digests an hour.
DIGESTS_PER_SECOND = 4.0
WEEKDAY_CHOICES = [app_commands.Choice(name=name, value=i) for i, name in enumerate(WEEKDAYS)]


class Pacer:
    """At most `rate` starts a second across the whole bot (digests share one pacer)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._lock = asyncio.Lock()
        self._next = 0.0

    async def wait(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            delay = self._next - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next = max(loop.time(), self._next) + self._interval


@app_commands.guild_only()
class DigestCog(commands.GroupCog, group_name="digest", group_description="Your weekly digest"):
    tags = app_commands.Group(name="tags", description="Extra tags your digest follows")

    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.core = bot.services.scheduling
        self.service = bot.services.digests
        self.slots = DigestSlots(self.service, self.deliver)
        self.pacer = Pacer(DIGESTS_PER_SECOND)
        self.pending: set[tuple[int, int]] = set()
        super().__init__()

    async def cog_load(self) -> None:
        # At most 4 digests hold a runner slot (the pacer starts 4 a second anyway), so a due
        # hour of 10,000 digests never keeps other kinds waiting.
        self.core.registry.register(
            DIGEST_KIND,
            self.slots.run_slot,
            grace=DIGEST_GRACE,
            resume_after_crash=True,
            report_missed=False,
            listed=False,
            concurrency=int(DIGESTS_PER_SECOND),
        )
        self.pending = await self.service.pending_notices()

    async def cog_unload(self) -> None:
        self.core.registry.unregister(DIGEST_KIND)

    async def deliver(self, digest: Digest, posts: OutboxScope) -> str:
        """Send the digest's DMs through the run's outbox: resumed, it sends what is missing."""
        await self.pacer.wait()
        guild = self.bot.get_guild(digest.guild_id)
        name = guild.name if guild is not None else "your server"
        try:
            user = self.bot.get_user(digest.user_id) or await self.bot.fetch_user(digest.user_id)
            dm = user.dm_channel or await user.create_dm()
            for index, part in enumerate(
                render_digest(
                    digest.guild_id,
                    name,
                    digest.entries,
                    open_questions=digest.open_questions,
                    learning=digest.learning,
                )
            ):
                await posts.once(
                    str(index), message_post(dm, content=part.content, embeds=part.embeds)
                )
        except discord.Forbidden as error:
            if error.code != CANNOT_DM:
                raise
            self.pending.add((digest.guild_id, digest.user_id))
            return DMS_CLOSED
        return "sent"

    @commands.Cog.listener()
    async def on_guild_timezone_changed(self, guild: discord.Guild, _actor_id: int) -> None:
        await self.service.follow_guild_timezone(guild.id, guild.name)
        await self.core.changed()

    @commands.Cog.listener()
    async def on_app_command_completion(
        self, interaction: discord.Interaction[PLNBot], _command: Any
    ) -> None:
        """Tell a member whose digest was switched off, the next time they use a command."""
        key = (interaction.guild_id or 0, interaction.user.id)
        if key not in self.pending:
            return
        self.pending.discard(key)
        notice = await self.service.take_notice(*key)
        if notice is not None and interaction.response.is_done():
            await interaction.followup.send(notice, ephemeral=True)

    @app_commands.command(name="on", description="Get a weekly DM with the top links you follow")
    @app_commands.guild_only()
    @app_commands.describe(
        weekday="Day of the week (server time zone); default Monday",
        time="Local time, 24-hour HH:MM; default 09:00 (sent within that hour)",
    )
    @app_commands.choices(weekday=WEEKDAY_CHOICES)
    async def on(
        self,
        interaction: discord.Interaction[PLNBot],
        weekday: app_commands.Choice[int] | None = None,
        time: str | None = None,
    ) -> None:
        guild = guild_of(interaction)
        options: dict[str, Any] = {}
        if weekday is not None:
            options["weekday"] = weekday.value
        if time is not None:
            options["local_time"] = time
        await interaction.response.defer(ephemeral=True, thinking=True)
        info = await self.service.turn_on(guild.id, guild.name, interaction.user.id, **options)
        self.pending.discard((guild.id, interaction.user.id))
        await interaction.followup.send(_describe(info), ephemeral=True)

    @app_commands.command(name="off", description="Stop your weekly digest")
    @app_commands.guild_only()
    async def off(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        info = await self.service.turn_off(guild.id, interaction.user.id)
        text = "Your weekly digest is off." if info else "You had no weekly digest."
        await interaction.followup.send(text, ephemeral=True)

    @app_commands.command(name="preview", description="See your digest as it would be now")
    @app_commands.guild_only()
    async def preview(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        digest = await self.service.select(guild.id, interaction.user.id, self.bot.clock.now())
        for part in render_digest(
            guild.id,
            guild.name,
            digest.entries,
            open_questions=digest.open_questions,
            learning=digest.learning,
        ):
            await interaction.followup.send(embeds=list(part.embeds), ephemeral=True)

    @tags.command(name="add", description="Also include links with this tag")
    @app_commands.guild_only()
    async def tags_add(self, interaction: discord.Interaction[PLNBot], tag: str) -> None:
        guild = guild_of(interaction)
        info = await self.service.change_tag(guild.id, interaction.user.id, tag, add=True)
        await interaction.response.send_message(_describe(info), ephemeral=True)

    @tags.command(name="remove", description="Stop including links with this tag")
    @app_commands.guild_only()
    async def tags_remove(self, interaction: discord.Interaction[PLNBot], tag: str) -> None:
        guild = guild_of(interaction)
        info = await self.service.change_tag(guild.id, interaction.user.id, tag, add=False)
        await interaction.response.send_message(_describe(info), ephemeral=True)


def _describe(info: Subscription) -> str:
    state = "on" if info.enabled else "off"
    tags = ", ".join(f"`{safe_text(t)}`" for t in info.tags) or "none"
    return (
        f"Your weekly digest is {state}: {WEEKDAYS[info.weekday]}s at {info.local_time} "
        f"(server time, sent within the hour), with the topics you follow and these tags: {tags}. "
        "Links you shared yourself are left out."
    )
