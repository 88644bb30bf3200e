"""The timed steps: a question's nudge, the asker's "is it solved?", closing a solved thread,
and the daily pass that gives and takes the helper role. Driven by the scheduling core."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

import discord

from bot.core import PLNBot
from bot.questions.records import QuestionInfo
from bot.scheduling import Outgoing, SlotContext
from bot.ui.outbox import fingerprint, message_post
from bot.ui.text import safe_text, shorten
from cogs.questions._solving import thread_of
from cogs.questions._views import asker_view

log = logging.getLogger(__name__)
RETRY_AFTER = timedelta(hours=1)


class Steps:
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.questions = bot.services.questions
        self.contributions = bot.services.contributions

    async def check(self, slot: SlotContext) -> str | None:
        guild_id = slot.schedule.guild_id
        question, step = await self.questions.due(
            guild_id, int(slot.schedule.payload["question_id"])
        )
        if step is None:
            return "not due yet"
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            raise RuntimeError(f"guild {guild_id} is not available")
        thread = await thread_of(self.bot, guild, question.thread_id)
        if thread is None:
            await self.questions.thread_changed(guild_id, question.thread_id, deleted=True)
            return "thread gone"
        posts = self.bot.services.scheduling.outbox.scope(guild_id, f"question:{question.id}")
        try:
            if step.action == "nudge":
                await posts.once("nudge", await self._nudge(guild, thread, question))
            elif step.action == "ask":
                await posts.once("ask", _ask_post(thread, question))
            else:
                await thread.edit(archived=True)
        except discord.HTTPException as error:
            # The question's one check must not end here: try again later (the outbox keeps a
            # post that did go out from going out twice).
            log.warning("question #%s: %s failed (%s); retrying", question.id, step.action, error)
            await self.questions.retry_later(guild_id, question.id, RETRY_AFTER)
            return f"question #{question.id}: {step.action} failed, retrying"
        await self.questions.step_done(guild_id, question.id, step.action)
        return f"question #{question.id}: {step.action}"

    async def _nudge(
        self, guild: discord.Guild, thread: discord.Thread, question: QuestionInfo
    ) -> Outgoing:
        """The followers' role, mentioned where the topic allows pings; else a line in the
        topic's channel (in the thread itself under a forum, which takes no plain messages)."""
        topics = self.bot.services.topics
        topic = await topics.get(guild.id, question.topic_id) if question.topic_id else None
        pings = (await topics.settings(guild.id)).ping_followers
        role = guild.get_role(topic.role_id) if topic and topic.role_id else None
        title = safe_text(shorten(question.title, 200))
        if role is not None and pings:
            return message_post(
                thread,
                content=f"{role.mention}: this question is still waiting for an answer. "
                "Can you help?",
                allowed_mentions=discord.AllowedMentions(roles=[role], users=False, everyone=False),
            )
        parent = thread.parent
        if isinstance(parent, discord.TextChannel):
            return message_post(
                parent, content=f"❔ Waiting for an answer: **{title}** → {thread.jump_url}"
            )
        return message_post(thread, content="❔ This question is still waiting for an answer.")

    # --- the helper role -----------------------------------------------------------------

    async def refresh_helpers(self, slot: SlotContext) -> str | None:
        guild = self.bot.get_guild(slot.schedule.guild_id)
        if guild is None:
            return "guild not available"
        changed = await self.sync_helpers(guild)
        return f"helper role: {changed} changed"

    async def sync_helpers(self, guild: discord.Guild, only: Iterable[int] | None = None) -> int:
        """Give the role to members at the threshold and take it from those below it (all
        members, or `only` these). Returns how many members changed."""
        members = None if only is None else list(only)
        setting, qualifying = await self.contributions.helpers(guild.id, members)
        role = guild.get_role(setting.role_id) if setting.role_id else None
        if role is None:
            return 0
        holders = {m.id for m in role.members}
        wanted = set(members) if members is not None else holders | qualifying
        changed = 0
        for member_id in wanted:
            member = guild.get_member(member_id)
            if member is None or member.bot:
                continue
            try:
                if member_id in qualifying and member_id not in holders:
                    await member.add_roles(role, reason="Contribution score reached the threshold")
                elif member_id not in qualifying and member_id in holders:
                    await member.remove_roles(role, reason="Contribution score below the threshold")
                else:
                    continue
            except discord.HTTPException as error:
                log.warning("helper role in guild %s: %s", guild.id, error)
                continue
            changed += 1
        return changed


def _ask_post(thread: discord.Thread, question: QuestionInfo) -> Outgoing:
    """The "is it solved?" to the asker, with the persistent Solved / Still open buttons."""
    content = (
        f"<@{question.asker_id}>, this thread has been quiet for 3 days. Is your question solved?"
    )

    async def send(nonce: str) -> int:
        message = await thread.send(
            content,
            view=asker_view(question.id),
            nonce=nonce,
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(question.asker_id)]),
        )
        return message.id

    return Outgoing("message", thread.id, fingerprint(content), send)
