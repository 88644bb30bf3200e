"""The command tree: members' text cleaned on the way in, a global per-member rate limit and the
single error path for commands."""

from __future__ import annotations

from typing import Any, Protocol

import discord
from discord import app_commands

from bot.clean import clean_payload
from bot.settings import Settings
from bot.ui.replies import report_error


class Configured(Protocol):
    """What the tree needs of its client: the settings (for the per-member rate limit)."""

    settings: Settings


class PLNCommandTree(app_commands.CommandTree[Any]):
    def __init__(self, client: Configured, **options: Any) -> None:
        # Every command works inside a server only, unless it says otherwise.
        options.setdefault("allowed_contexts", app_commands.AppCommandContext(guild=True))
        super().__init__(client, **options)
        limits = client.settings.commands
        # One bucket per member across all commands, on top of per-command cooldowns.
        self._per_member = app_commands.Cooldown(limits.per_user_rate, limits.per_user_seconds)
        self._buckets: dict[int, app_commands.Cooldown] = {}

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        # Commands and autocomplete come through here before discord.py reads their options
        # (nested subcommands, the focused value, a context menu's target message): the one
        # place their text is cleaned of control characters.
        if interaction.data is not None:
            clean_payload(interaction.data)
        if interaction.type is not discord.InteractionType.application_command:
            return True
        bucket = self._buckets.get(interaction.user.id)
        if bucket is None:
            if len(self._buckets) > 10_000:
                self._buckets.clear()  # bounded memory; a reset only forgives a few commands
            bucket = self._buckets[interaction.user.id] = self._per_member.copy()
        retry_after = bucket.update_rate_limit()
        if retry_after:
            raise app_commands.CommandOnCooldown(bucket, retry_after)
        return True

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /
    ) -> None:
        command = interaction.command.qualified_name if interaction.command else "unknown command"
        await report_error(interaction, error, where=f"/{command}")
