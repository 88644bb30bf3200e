"""/prompt: the discussion-prompt bank, suggestions, posting now, and scheduled prompts."""

from __future__ import annotations

from datetime import timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.ui.approvals import approval_items, approval_view
from bot.ui.autocomplete import topic_names
from bot.ui.context import guild_of
from bot.ui.text import safe_text
from cogs.prompts._mod import PromptModeration
from cogs.prompts._poster import PROMPT_KIND, PromptPoster, PromptSuggestions

PROMPT_GRACE = timedelta(hours=2)


@app_commands.guild_only()
class Prompts(commands.GroupCog, group_name="prompt", group_description="Discussion prompts"):
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.service = bot.services.prompts
        self.topics = bot.services.topics
        self.poster = PromptPoster(bot)
        self.suggestions = PromptSuggestions(self.service)
        self.core = bot.services.scheduling
        self.moderation = PromptModeration(
            self.service, self.topics, bot.services.guilds, self.core, self.poster, bot.clock
        )
        super().__init__()

    async def cog_load(self) -> None:
        # Posts through the run's outbox: a slot interrupted by a crash is finished, once.
        self.core.registry.register(
            PROMPT_KIND, self.poster.run_slot, grace=PROMPT_GRACE, resume_after_crash=True
        )
        self.bot.add_dynamic_items(*approval_items(self.suggestions))
        self.bot.moderation.add_command(self.moderation)

    async def cog_unload(self) -> None:
        self.bot.moderation.remove_command(self.moderation.name)
        self.core.registry.unregister(PROMPT_KIND)
        self.bot.remove_dynamic_items(*approval_items(self.suggestions))

    @app_commands.command(name="suggest", description="Suggest a prompt; moderators decide")
    @app_commands.autocomplete(topic=topic_names)
    @app_commands.guild_only()
    @app_commands.checks.cooldown(3, 600.0, key=lambda i: (i.guild_id, i.user.id))
    async def suggest(
        self, interaction: discord.Interaction[PLNBot], text: str, topic: str | None = None
    ) -> None:
        guild = guild_of(interaction)
        found = await self.topics.require_if_named(guild.id, topic)
        info = await self.service.suggest(
            guild.id, guild.name, interaction.user.id, text, found.id if found else None
        )
        posted = await self.bot.modlog.post(
            guild.id,
            f"💡 {interaction.user.mention} suggests a prompt (#{info.id})"
            + (f" for {safe_text(found.name)}" if found else "")
            + f":\n{safe_text(info.text, 1500)}",
            view=approval_view(self.suggestions, info.id),
        )
        if posted is None:
            await self.service.decide(guild.id, info.id, interaction.user.id, approve=False)
            raise UserFacingError(
                "Moderators have no log channel set up for suggestions yet; ask them to set one "
                "with `/mod settings log_channel`. Nothing was saved."
            )
        await interaction.response.send_message(
            "Thanks! Your suggestion went to the moderators.", ephemeral=True
        )
