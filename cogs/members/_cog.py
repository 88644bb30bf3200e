"""/me: a member's own settings in this server (privacy, time zone)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import PLNBot
from bot.ui.autocomplete import timezone_names
from bot.ui.context import guild_of
from cogs.questions.standing import stats_embed

SERVER_ZONE = "server"


@app_commands.guild_only()
class Me(commands.GroupCog, group_name="me", group_description="Your own settings here"):
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.service = bot.services.members
        super().__init__()

    @app_commands.command(name="privacy", description="What others may see of you")
    @app_commands.guild_only()
    @app_commands.describe(
        top_contributors="Show me in the weekly recap's top contributors (default: yes)",
        progress="Let others see my learning streak and levels (default: no)",
    )
    async def privacy(
        self,
        interaction: discord.Interaction[PLNBot],
        top_contributors: bool | None = None,
        progress: bool | None = None,
    ) -> None:
        guild = guild_of(interaction)
        changes: dict[str, Any] = {}
        if top_contributors is not None:
            changes["hide_from_contributors"] = not top_contributors
        if progress is not None:
            changes["show_progress"] = progress
        if changes:
            current = await self.service.set_privacy(
                guild.id, guild.name, interaction.user.id, **changes
            )
        else:
            current = await self.service.privacy(guild.id, interaction.user.id)
        shown = "are listed" if not current.hide_from_contributors else "are not listed"
        seen = "can" if current.show_progress else "cannot"
        await interaction.response.send_message(
            f"You {shown} among the weekly recap's top contributors. Your shared links still "
            "count in the ranking. Change it with `/me privacy top_contributors:`.\n"
            f"Others {seen} see your learning streak and levels (`/learn progress`, the recap). "
            "Change it with `/me privacy progress:`.",
            ephemeral=True,
        )

    @app_commands.command(name="timezone", description="Your time zone: when your days begin")
    @app_commands.guild_only()
    @app_commands.describe(
        name=f"An IANA zone such as Pacific/Auckland; “{SERVER_ZONE}” for the server's"
    )
    @app_commands.autocomplete(name=timezone_names)
    async def timezone(
        self,
        interaction: discord.Interaction[PLNBot],
        name: app_commands.Range[str, 1, 64] | None = None,
    ) -> None:
        guild = guild_of(interaction)
        if name is None:
            zone = await self.service.timezone(guild.id, interaction.user.id)
        else:
            wanted = None if name.strip().lower() == SERVER_ZONE else name
            zone = await self.service.set_timezone(
                guild.id, guild.name, interaction.user.id, wanted
            )
            self.bot.dispatch("member_timezone_changed", guild, interaction.user.id)
        whose = "your own" if zone.own else "the server's"
        await interaction.response.send_message(
            f"Your time zone here is {zone.timezone} ({whose}): your learning days begin at its "
            f"midnight. Change it with `/me timezone`; `{SERVER_ZONE}` follows the server's.",
            ephemeral=True,
        )

    @app_commands.command(name="stats", description="Your contributions here (only you see them)")
    @app_commands.guild_only()
    async def stats(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        stats = await self.bot.services.contributions.stats(guild.id, interaction.user.id)
        await interaction.followup.send(embed=stats_embed(stats, interaction.user), ephemeral=True)
