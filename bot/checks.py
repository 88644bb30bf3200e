"""The one "is this member a moderator?" rule, enforced on the server side for every mod command."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.core import PLNBot

T = TypeVar("T")


class NotModerator(app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__(
            "This command is for moderators: members with the server's moderator role "
            "(see `/pln settings`) or the Manage Server permission."
        )


async def is_moderator(interaction: discord.Interaction[PLNBot]) -> bool:
    member = interaction.user
    if interaction.guild is None or not isinstance(member, discord.Member):
        return False
    permissions = member.guild_permissions
    if permissions.administrator or permissions.manage_guild:
        return True
    settings = await interaction.client.services.guilds.settings(interaction.guild.id)
    role_id = settings.moderator_role_id
    return role_id is not None and any(role.id == role_id for role in member.roles)


def moderator_only() -> Callable[[T], T]:
    """A check that runs when the command is invoked, whatever Discord's UI shows or hides."""

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        if not await is_moderator(interaction):
            raise NotModerator()
        return True

    return app_commands.check(predicate)
