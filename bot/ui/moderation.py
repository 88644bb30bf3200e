"""`/mod`: every moderator command, in one top-level command Discord hides from members.

Discord applies `default_member_permissions` to top-level commands only, so moderators' commands
live under `/mod` (Manage Server by default; a server's admins can give them to the moderator role
in Server Settings → Integrations → the bot). Each feature adds its own group, a
`ModeratorGroup` (`/mod topic create`), or a command (`/mod settings`). Discord's menus are only
the first line: every command under `/mod` is checked on the server side with the one moderator
rule (`bot.checks.is_moderator`), whatever a server's integration settings show.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.checks import NotModerator, is_moderator


class ModeratorGroup(app_commands.Group):
    """A group whose commands run for moderators only (checked when invoked)."""

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        if not await is_moderator(interaction):
            raise NotModerator()
        return True


def moderation_root() -> ModeratorGroup:
    """The `/mod` command; features add their groups to it before the tree is synced."""
    return ModeratorGroup(
        name="mod",
        description="Moderators' commands",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
