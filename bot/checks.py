"""The one "is this member a moderator?" rule, enforced on the server side for every mod command."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands


class NotModerator(app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__(
            "This command is for moderators: members with the server's moderator role "
            "(set with `/mod settings`) or the Manage Server permission."
        )


async def is_moderator(interaction: discord.Interaction[Any]) -> bool:
    """Manage Server (or Administrator), or the moderator role set with `/mod settings`."""
    member = interaction.user
    if interaction.guild is None or not isinstance(member, discord.Member):
        return False
    permissions = member.guild_permissions
    if permissions.administrator or permissions.manage_guild:
        return True
    settings = await interaction.client.services.guilds.settings(interaction.guild.id)
    role_id = settings.moderator_role_id
    return role_id is not None and any(role.id == role_id for role in member.roles)
