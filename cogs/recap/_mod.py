"""/mod recap: where and when the weekly recap goes; post it now, preview it, its history."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.clock import Clock
from bot.core import PLNBot
from bot.recap.posting import recap_scope, sync_schedule
from bot.recap.records import RecapConfig
from bot.recap.service import RecapService
from bot.recap.window import WEEKDAYS
from bot.scheduling import SchedulingCore
from bot.ui.context import guild_of
from bot.ui.moderation import ModeratorGroup
from bot.ui.paginator import Paginator
from bot.ui.permissions import require_can_post
from bot.unset import UNSET
from bot.wording import discord_timestamp
from cogs.recap._publisher import RecapPublisher
from cogs.recap.render import jump_url, send_privately

WEEKDAY_CHOICES = [app_commands.Choice(name=name, value=i) for i, name in enumerate(WEEKDAYS)]
HISTORY_PER_PAGE = 10


class RecapModeration(ModeratorGroup, name="recap", description="The weekly recap of shared links"):
    def __init__(
        self,
        recap: RecapService,
        core: SchedulingCore,
        publisher: RecapPublisher,
        clock: Clock,
    ) -> None:
        super().__init__()
        self.service = recap
        self.core = core
        self.publisher = publisher
        self.clock = clock

    @app_commands.command(name="settings", description="Where and when the weekly recap is posted")
    @app_commands.describe(
        channel="The channel the recap is posted in",
        weekday="Day of the week (server time zone); default Monday",
        time="Local time, 24-hour HH:MM; default 09:00",
        top="How many links to show, 1-25; default 10",
    )
    @app_commands.choices(weekday=WEEKDAY_CHOICES)
    async def settings(
        self,
        interaction: discord.Interaction[PLNBot],
        channel: discord.TextChannel,
        weekday: app_commands.Choice[int] | None = None,
        time: str | None = None,
        top: int | None = None,
    ) -> None:
        guild = guild_of(interaction)
        require_can_post(channel)
        await interaction.response.defer(ephemeral=True, thinking=True)
        config = await self.service.configure(
            guild.id,
            guild.name,
            interaction.user.id,
            channel_id=channel.id,
            weekday=weekday.value if weekday is not None else UNSET,
            local_time=time if time is not None else UNSET,
            top_n=top if top is not None else UNSET,
        )
        config = await sync_schedule(
            self.core, self.service, config, guild.name, interaction.user.id, self.clock.now()
        )
        await interaction.followup.send(_settings_text(config), ephemeral=True)

    @app_commands.command(name="now", description="Post the recap of the last 7 days now")
    async def now(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        view = await self.service.prepare(guild.id, self.clock.now(), trigger="manual")
        await self.publisher.publish(view)
        assert view.recap_id is not None
        sent = await self.core.outbox.scope(guild.id, recap_scope(view.recap_id)).sent()
        link = self.publisher.first_link(view, sent["0"])
        await interaction.followup.send(f"Posted the recap: {link}", ephemeral=True)

    @app_commands.command(name="preview", description="See the recap that would be posted now")
    async def preview(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await send_privately(interaction, await self.service.preview(guild.id))

    @app_commands.command(name="history", description="Links to the recaps posted here")
    async def history(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        past = await self.service.history(guild.id, limit=100)
        lines = []
        for recap in past:
            week = f"{discord_timestamp(recap.week.start.timestamp(), 'D')} – " + (
                discord_timestamp(recap.week.end.timestamp(), "D")
            )
            link = jump_url(guild.id, recap.channel_id, recap.first_message_id)
            state = "" if recap.status == "posted" else " (still posting)"
            lines.append(f"[{week}]({link}){state}" if link else f"{week}{state}")
        if not lines:
            lines = ["No recap has been posted yet."]
        pages = [
            discord.Embed(
                title="📚 Past recaps", description="\n".join(lines[i : i + HISTORY_PER_PAGE])
            )
            for i in range(0, len(lines), HISTORY_PER_PAGE)
        ]
        await Paginator(interaction.user.id, pages).send(interaction)


def _settings_text(config: RecapConfig) -> str:
    return (
        f"The weekly recap goes to <#{config.channel_id}> every "
        f"{WEEKDAYS[config.weekday]} at {config.local_time} ({config.timezone}), "
        f"with the top {config.top_n} links."
    )
