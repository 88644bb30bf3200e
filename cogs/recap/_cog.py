"""/recap: the weekly recap of the most-shared links (settings, now, preview, history, week)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.core import PLNBot
from bot.recap.posting import RECAP_GRACE, RECAP_KIND, RecapSlots, recap_scope, sync_schedule
from bot.recap.records import RecapConfig, RecapView
from bot.recap.window import WEEKDAYS
from bot.ui.paginator import Paginator
from bot.ui.permissions import require_can_post
from bot.ui.text import discord_timestamp
from bot.unset import UNSET
from cogs.recap._publisher import RecapPublisher
from cogs.recap.render import jump_url, render

WEEKDAY_CHOICES = [app_commands.Choice(name=name, value=i) for i, name in enumerate(WEEKDAYS)]
HISTORY_PER_PAGE = 10


class Recap(
    commands.GroupCog, group_name="recap", group_description="The weekly recap of shared links"
):
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.service = bot.services.recap
        self.core = bot.services.scheduling
        self.publisher = RecapPublisher(bot, self.service, self.core.outbox)
        self.slots = RecapSlots(self.service, self.publisher.publish)
        super().__init__()

    async def cog_load(self) -> None:
        # Restart-safe: a slot interrupted mid-post is re-run and finishes the parts not sent.
        self.core.registry.register(
            RECAP_KIND, self.slots.run_slot, grace=RECAP_GRACE, resume_after_crash=True
        )

    async def cog_unload(self) -> None:
        self.core.registry.unregister(RECAP_KIND)

    @app_commands.command(name="settings", description="Where and when the weekly recap is posted")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
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
        guild = interaction.guild
        assert guild is not None
        require_can_post(channel)
        config = await self.service.configure(
            guild.id,
            guild.name,
            interaction.user.id,
            channel_id=channel.id,
            weekday=weekday.value if weekday is not None else UNSET,
            local_time=time if time is not None else UNSET,
            top_n=top if top is not None else UNSET,
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        config = await sync_schedule(
            self.core, self.service, config, guild.name, interaction.user.id, self.bot.clock.now()
        )
        await interaction.followup.send(_settings_text(config), ephemeral=True)

    @commands.Cog.listener()
    async def on_guild_timezone_changed(self, guild: discord.Guild, actor_id: int) -> None:
        """The recap runs in the server's time zone: move its schedule with the zone."""
        config = await self.service.config(guild.id)
        if config.schedule_id is not None:
            await sync_schedule(
                self.core, self.service, config, guild.name, actor_id, self.bot.clock.now()
            )

    @app_commands.command(name="now", description="Post the recap of the last 7 days now")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def now(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = interaction.guild
        assert guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        view = await self.service.prepare(guild.id, self.bot.clock.now(), trigger="manual")
        await self.publisher.publish(view)
        assert view.recap_id is not None
        sent = await self.core.outbox.scope(guild.id, recap_scope(view.recap_id)).sent()
        link = self.publisher.first_link(view, sent["0"])
        await interaction.followup.send(f"Posted the recap: {link}", ephemeral=True)

    @app_commands.command(name="preview", description="See the recap that would be posted now")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def preview(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = interaction.guild
        assert guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        await _send_ephemeral(interaction, await self.service.preview(guild.id))

    @app_commands.command(name="history", description="Links to the recaps posted here")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def history(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = interaction.guild
        assert guild is not None
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

    @app_commands.command(name="week", description="Show a past week's recap (only to you)")
    @app_commands.guild_only()
    @app_commands.describe(date="A day in that week, YYYY-MM-DD; default: the latest recap")
    async def week(self, interaction: discord.Interaction[PLNBot], date: str | None = None) -> None:
        guild = interaction.guild
        assert guild is not None
        if date is None:
            past = await self.service.history(guild.id, limit=1)
            if not past:
                await interaction.response.send_message(
                    "No recap has been posted here yet.", ephemeral=True
                )
                return
            view = await self.service.load(guild.id, past[0].recap_id)
        else:
            view = await self.service.week_of(guild.id, date)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await _send_ephemeral(interaction, view)


async def _send_ephemeral(interaction: discord.Interaction[PLNBot], view: RecapView) -> None:
    for part in render(view):
        await interaction.followup.send(
            content=part.content or discord.utils.MISSING,
            embeds=list(part.embeds),
            ephemeral=True,
        )


def _settings_text(config: RecapConfig) -> str:
    return (
        f"The weekly recap goes to <#{config.channel_id}> every "
        f"{WEEKDAYS[config.weekday]} at {config.local_time} ({config.timezone}), "
        f"with the top {config.top_n} links."
    )
