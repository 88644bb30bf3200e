"""Autocomplete callbacks several features share: `@app_commands.autocomplete(topic=topic_names)`.

Served from the database or memory, at most 25 choices (Discord's limit).
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.timezones import search_timezones


async def topic_names(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """Active topics whose name contains what was typed."""
    if interaction.guild_id is None:
        return []
    found = await interaction.client.services.topics.search(interaction.guild_id, current)
    return [app_commands.Choice(name=t.name[:100], value=t.name[:100]) for t in found][:25]


async def timezone_names(
    _interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """IANA zones matching what was typed."""
    return [app_commands.Choice(name=z, value=z) for z in search_timezones(current)][:25]
