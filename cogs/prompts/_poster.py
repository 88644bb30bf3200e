"""Posting a prompt on Discord (a scheduled slot or /mod prompt post-now); the suggestion flow."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

import discord

from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.prompts.service import PromptInfo, PromptService
from bot.scheduling import OutboxScope, SlotContext
from bot.ui.context import guild_of
from bot.ui.outbox import message_post, post_once
from bot.ui.permissions import missing_post_permissions
from bot.ui.text import safe_text, shorten
from bot.wording import discord_timestamp

log = logging.getLogger(__name__)

PROMPT_KIND = "prompt"
THREAD_EXISTS = 160004  # "A thread has already been created for this message"


@dataclass(frozen=True)
class PromptTarget:
    channel_id: int
    topic_id: int | None = None
    thread: bool = False
    ping: bool = False

    def payload(self) -> dict[str, object]:
        return {
            "channel_id": self.channel_id,
            "topic_id": self.topic_id,
            "thread": self.thread,
            "ping": self.ping,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, object]) -> PromptTarget:
        topic = payload.get("topic_id")
        return cls(
            channel_id=int(str(payload["channel_id"])),
            topic_id=int(str(topic)) if topic is not None else None,
            thread=bool(payload.get("thread")),
            ping=bool(payload.get("ping")),
        )


class PromptPoster:
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.prompts = bot.services.prompts
        self.topics = bot.services.topics

    async def run_slot(self, slot: SlotContext) -> str:
        """The `prompt` kind's handler; resumed after a crash, it posts its prompt once."""
        target = PromptTarget.from_payload(slot.schedule.payload)
        try:
            message = await self.post(
                slot.schedule.guild_id,
                target,
                late_since=slot.slot_at if slot.late else None,
                outbox=slot.outbox,
            )
        except _TargetBroken as broken:
            core = self.bot.services.scheduling
            await core.schedules.set_paused(
                slot.schedule.guild_id,
                slot.schedule.id,
                self.bot.user.id if self.bot.user else 0,
                True,
            )
            await core.changed()
            await self.bot.modlog.post(
                slot.schedule.guild_id,
                f"Prompt schedule #{slot.schedule.id} is paused: {broken}. Fix it, then "
                f"`/mod schedule resume {slot.schedule.id}`.",
            )
            return f"paused: {broken}"
        if message is None:
            await self.bot.modlog.post(
                slot.schedule.guild_id,
                f"Prompt schedule #{slot.schedule.id} had nothing to post: the prompt bank is "
                "empty. Add prompts with `/mod prompt add` or `/mod prompt import`.",
            )
            return "empty bank"
        return f"message {message.id}"

    async def post(
        self,
        guild_id: int,
        target: PromptTarget,
        *,
        late_since: datetime | None = None,
        outbox: OutboxScope | None = None,
    ) -> discord.PartialMessage | None:
        """Post the next prompt (a slot's through its `outbox`: once); None when the bank is
        empty. Raises _TargetBroken."""
        guild = self.bot.get_guild(guild_id)
        channel = guild.get_channel(target.channel_id) if guild else None
        if guild is None or not isinstance(channel, discord.TextChannel):
            raise _TargetBroken(f"its channel <#{target.channel_id}> is gone")
        missing = missing_post_permissions(channel)
        if missing:
            raise _TargetBroken(f"I lack {', '.join(missing)} in {channel.mention}")
        role_id = None
        if target.topic_id is not None and target.ping:
            topic = await self.topics.get(guild_id, target.topic_id)
            role_id = topic.role_id if topic else None
        prompt = await self._pick(guild_id, target, outbox)
        if prompt is None:
            return None
        lines = [f"💬 **Discussion prompt**\n{safe_text(prompt.text, 1700)}"]
        if target.thread:
            lines.append("Reply in the thread below.")
        if late_since is not None:
            lines.append(
                f"-# Posted late: this was due {discord_timestamp(late_since.timestamp())} "
                "while the bot was offline."
            )
        if role_id is not None:
            lines.insert(0, f"<@&{role_id}>")
        outgoing = message_post(
            channel,
            content="\n".join(lines),
            allowed_mentions=discord.AllowedMentions(
                everyone=False,
                users=False,
                roles=[discord.Object(role_id)] if role_id else False,
            ),
            memo={"prompt_id": prompt.id},
        )
        try:
            message = channel.get_partial_message(await post_once(outbox, "prompt", outgoing))
            if target.thread:
                await _open_thread(message, shorten(prompt.text.replace("\n", " "), 100))
        except discord.Forbidden as exc:
            raise _TargetBroken(f"I lost a permission in {channel.mention}") from exc
        return message

    async def _pick(
        self, guild_id: int, target: PromptTarget, outbox: OutboxScope | None
    ) -> PromptInfo | None:
        """The next prompt, marked used; a slot resumed after a crash takes the one it took."""
        memo = await outbox.memo("prompt") if outbox is not None else None
        if memo is not None:
            with contextlib.suppress(UserFacingError):  # removed since: take the next one
                return await self.prompts.get(guild_id, int(memo["prompt_id"]))
        return await self.prompts.take_next(guild_id, target.topic_id)


async def _open_thread(message: discord.PartialMessage, name: str) -> None:
    """A thread for replies, once: Discord refuses a second one on the same message."""
    try:
        await message.create_thread(name=name, auto_archive_duration=1440)
    except discord.HTTPException as exc:
        if exc.code != THREAD_EXISTS:
            raise


class _TargetBroken(UserFacingError):
    """The channel is gone or the bot may not post there."""


class PromptSuggestions:
    """The approval flow for `/prompt suggest` (buttons in the moderators' log channel)."""

    kind = "prompt"

    def __init__(self, prompts: PromptService) -> None:
        self.prompts = prompts

    async def approve(self, interaction: discord.Interaction[PLNBot], item_id: int) -> str:
        guild = guild_of(interaction)
        info = await self.prompts.decide(guild.id, item_id, interaction.user.id, approve=True)
        return (
            f"✅ Prompt suggestion #{info.id} approved by {interaction.user.mention}; it is in "
            f"the bank: {safe_text(info.text, 1500)}"
        )

    async def reject(
        self, interaction: discord.Interaction[PLNBot], item_id: int, reason: str | None
    ) -> str:
        guild = guild_of(interaction)
        info = await self.prompts.decide(guild.id, item_id, interaction.user.id, approve=False)
        why = f" Reason: {safe_text(reason, 500)}" if reason else ""
        return f"❌ Prompt suggestion #{info.id} rejected by {interaction.user.mention}.{why}"
