"""The one way to narrow an interaction to its server: a friendly error outside one."""

from __future__ import annotations

from typing import Any

import discord

from bot.errors import UserFacingError

OUTSIDE_A_SERVER = "This only works inside a server."


def guild_of(interaction: discord.Interaction[Any]) -> discord.Guild:
    """The interaction's server (a slash command, button or menu used inside one)."""
    if interaction.guild is None:
        raise UserFacingError(OUTSIDE_A_SERVER)
    return interaction.guild


def member_of(interaction: discord.Interaction[Any]) -> discord.Member:
    """The member who used it, with their roles in that server."""
    if not isinstance(interaction.user, discord.Member):
        raise UserFacingError(OUTSIDE_A_SERVER)
    return interaction.user
