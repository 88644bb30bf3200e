"""Topic suggestions: posted to the moderators' log with persistent Approve / Reject buttons."""

from __future__ import annotations

import contextlib

import discord

from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.topics.records import SuggestionInfo
from bot.topics.suggestions import TopicSuggestions
from bot.ui.text import safe_text, shorten
from bot.wording import discord_timestamp
from cogs.topics._workflows import TopicWorkflows


def suggestion_embed(suggestion: SuggestionInfo) -> discord.Embed:
    embed = discord.Embed(
        title=shorten(f"Topic suggestion: {suggestion.name}", 256),
        description=safe_text(suggestion.reason, 4000) or "No reason given.",
        colour=discord.Colour.gold(),
    )
    embed.add_field(name="Suggested by", value=f"<@{suggestion.user_id}>")
    embed.add_field(name="When", value=discord_timestamp(suggestion.created_at.timestamp(), "R"))
    embed.set_footer(text=f"Suggestion #{suggestion.id}")
    return embed


class SuggestionFlow:
    """The `ApprovalFlow` for topic suggestions (see bot/ui/approvals.py)."""

    kind = "topic"

    def __init__(self, suggestions: TopicSuggestions, workflows: TopicWorkflows) -> None:
        self._suggestions = suggestions
        self._workflows = workflows

    async def _pending(
        self, interaction: discord.Interaction[PLNBot], item_id: int
    ) -> tuple[discord.Guild, SuggestionInfo]:
        guild = interaction.guild
        if guild is None:
            raise UserFacingError("Suggestions are decided inside the server.")
        suggestion = await self._suggestions.suggestion(guild.id, item_id)
        if suggestion is None:
            raise UserFacingError("That suggestion no longer exists.")
        if suggestion.state != "pending":
            raise UserFacingError(f"That suggestion was already {suggestion.state}.")
        return guild, suggestion

    async def approve(self, interaction: discord.Interaction[PLNBot], item_id: int) -> str:
        guild, suggestion = await self._pending(interaction, item_id)
        topic = await self._workflows.create(
            guild,
            interaction.user,
            suggestion.name,
            description=shorten(suggestion.reason, 1024),
        )
        await self._suggestions.decide(
            guild.id, suggestion.id, interaction.user.id, approved=True, topic_id=topic.id
        )
        told = await _tell(
            guild,
            suggestion.user_id,
            f"Your topic suggestion **{safe_text(suggestion.name)}** in {guild.name} was approved: "
            f"<#{topic.channel_id}>. Join it with `/topic join`.",
        )
        return (
            f"✅ {interaction.user.mention} approved **{safe_text(suggestion.name)}** "
            f"(suggested by <@{suggestion.user_id}>): <#{topic.channel_id}>."
            + ("" if told else " I couldn't message the member (DMs closed).")
        )

    async def reject(
        self, interaction: discord.Interaction[PLNBot], item_id: int, reason: str | None
    ) -> str:
        guild, suggestion = await self._pending(interaction, item_id)
        decided = await self._suggestions.decide(
            guild.id, suggestion.id, interaction.user.id, approved=False, note=reason
        )
        note = f" Reason: {safe_text(decided.decision_note, 500)}" if decided.decision_note else ""
        told = await _tell(
            guild,
            suggestion.user_id,
            f"Your topic suggestion **{safe_text(suggestion.name)}** in {guild.name} was not "
            f"accepted.{note}",
        )
        return (
            f"❌ {interaction.user.mention} rejected **{safe_text(suggestion.name)}** "
            f"(suggested by <@{suggestion.user_id}>).{note}"
            + ("" if told else " I couldn't message the member (DMs closed).")
        )


async def _tell(guild: discord.Guild, user_id: int, text: str) -> bool:
    """Direct-message the member; False when they can't be reached."""
    member = guild.get_member(user_id)
    if member is None:
        with contextlib.suppress(discord.HTTPException):
            member = await guild.fetch_member(user_id)
    if member is None:
        return False
    try:
        await member.send(shorten(text, 2000))
    except discord.HTTPException:
        return False
    return True
