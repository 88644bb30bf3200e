"""/mod schedule: every scheduled job of the server in one place (list, preview, pause, delete)."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.clock import Clock
from bot.core import PLNBot
from bot.guilds.service import GuildService
from bot.scheduling import SchedulingCore, parse_when, preview
from bot.ui.autocomplete import timezone_names
from bot.ui.context import guild_of
from bot.ui.moderation import ModeratorGroup
from bot.ui.paginator import Paginator
from bot.ui.schedules import KIND_NAMES, WHEN_HELP, preview_text, schedule_pages
from bot.wording import discord_timestamp


class ScheduleModeration(
    ModeratorGroup, name="schedule", description="Scheduled prompts, chats and recaps"
):
    def __init__(self, core: SchedulingCore, guilds: GuildService, clock: Clock) -> None:
        super().__init__()
        self.core = core
        self.guilds = guilds
        self.clock = clock

    @app_commands.command(name="list", description="Every schedule of this server")
    async def list_(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        infos = await self.core.listed(guild.id)
        await Paginator(interaction.user.id, schedule_pages(infos)).send(interaction)

    @app_commands.command(name="preview", description="The next 5 runs of a schedule, unsaved")
    @app_commands.autocomplete(timezone=timezone_names)
    @app_commands.describe(
        when=WHEN_HELP,
        timezone="IANA zone; the server's zone if left out",
    )
    async def preview_(
        self, interaction: discord.Interaction[PLNBot], when: str, timezone: str | None = None
    ) -> None:
        guild = guild_of(interaction)
        zone = timezone or (await self.guilds.settings(guild.id)).timezone
        rule = parse_when(when, zone, self.clock.now())
        text = preview_text(rule, preview(rule, self.clock.now()))
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="pause", description="Stop a schedule until it is resumed")
    async def pause(self, interaction: discord.Interaction[PLNBot], id: int) -> None:
        await self._set_paused(interaction, id, paused=True)

    @app_commands.command(name="resume", description="Resume a paused schedule from now on")
    async def resume(self, interaction: discord.Interaction[PLNBot], id: int) -> None:
        await self._set_paused(interaction, id, paused=False)

    @app_commands.command(name="delete", description="Delete a schedule for good")
    async def delete(self, interaction: discord.Interaction[PLNBot], id: int) -> None:
        guild = guild_of(interaction)
        info = await self.core.schedules.delete(guild.id, id, interaction.user.id)
        await self.core.changed()
        kind = KIND_NAMES.get(info.kind, info.kind)
        await interaction.response.send_message(
            f"Deleted schedule #{info.id} ({kind}).", ephemeral=True
        )

    async def _set_paused(
        self, interaction: discord.Interaction[PLNBot], schedule_id: int, *, paused: bool
    ) -> None:
        guild = guild_of(interaction)
        info = await self.core.schedules.set_paused(
            guild.id, schedule_id, interaction.user.id, paused
        )
        await self.core.changed()
        if paused:
            text = f"Paused schedule #{info.id}. `/mod schedule resume {info.id}` restarts it."
        elif info.next_run_at is None:
            text = f"Schedule #{info.id} has no more runs."
        else:
            next_run = discord_timestamp(info.next_run_at.timestamp())
            text = f"Resumed schedule #{info.id}; next run {next_run}."
        await interaction.response.send_message(text, ephemeral=True)

    @pause.autocomplete("id")
    @resume.autocomplete("id")
    @delete.autocomplete("id")
    async def _schedule_choices(
        self, interaction: discord.Interaction[PLNBot], current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild is None:
            return []
        infos = await self.core.schedules.for_guild(interaction.guild.id)
        infos = [i for i in infos if not i.kind.endswith(".step")]
        choices = []
        for info in infos:
            name = f"#{info.id} {KIND_NAMES.get(info.kind, info.kind)} {info.label}".strip()
            if current.strip().lower() in name.lower():
                choices.append(app_commands.Choice(name=name[:100], value=info.id))
        return choices[:25]
