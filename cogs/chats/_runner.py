"""The Discord side of a chat: announcement, thread, questions, summary, archive, scheduled event.

Discord requests per chat occurrence with n questions (bounded, whatever happens in the thread):
announcement 1; start: thread 1 + intro 1 + Q1 1 + event start 1; Q2..Qn: n-1; summary 2 (thread
and channel) + event end 1 + next occurrence's event 1; archive 1. Total n + 10 (20 for 10
questions). Counting answers costs no request (gateway events only).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import discord

from bot.chats.service import (
    ChatInfo,
    ChatService,
    RunInfo,
    Summary,
    next_action,
    question_due,
)
from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.scheduling import OutboxScope, SlotContext
from bot.ui.outbox import message_post, thread_post
from bot.ui.permissions import missing_post_permissions
from bot.ui.text import safe_text, shorten
from bot.wording import discord_timestamp, plural

log = logging.getLogger(__name__)

ChatChannel = discord.TextChannel

# A chat also opens a thread and posts Q1..Qn in it.
_THREAD_PERMISSIONS = {
    "create_public_threads": "Create Public Threads",
    "send_messages_in_threads": "Send Messages in Threads",
}


class ChatBroken(UserFacingError):
    """The chat's channel is gone or the bot lost a permission there."""


def _ts(instant: datetime, style: str = "F") -> str:
    return discord_timestamp(instant.timestamp(), style)


def intro_text(chat: ChatInfo, run: RunInfo, late: bool) -> str:
    lines = [
        f"👋 Welcome to **{safe_text(chat.title, 100)}**! Questions appear here every "
        f"{int(chat.interval.total_seconds() // 60)} minutes until {_ts(run.ends_at, 't')}.",
        "Answer question 1 with a message starting **A1**, question 2 with **A2**, and so on "
        "(or reply to the question). Late answers from other time zones are welcome until "
        f"{_ts(run.ends_at + chat.open_for, 'F')}.",
    ]
    if late:
        lines.append(f"-# Started late: it was due {_ts(run.slot_at)} while the bot was offline.")
    return "\n".join(lines)


def summary_text(summary: Summary) -> str:
    lines = [f"📊 **{safe_text(summary.chat.title, 100)}**, summary"]
    for stats in summary.questions:
        lines.append(
            f"**Q{stats.number}** {safe_text(shorten(stats.question, 120))}: "
            f"{plural(stats.replies, 'answer')} from {plural(stats.participants, 'member')}"
        )
    lines.append(f"{plural(summary.participants, 'member')} took part. Thank you!")
    return "\n".join(lines)[:2000]


class ChatRunner:
    """Handlers for the `chat.announce`, `chat.start` and `chat.step` kinds, and event upkeep."""

    def __init__(self, bot: PLNBot, service: ChatService) -> None:
        self.bot = bot
        self.service = service
        self.topics = bot.services.topics
        self.library = bot.services.library

    # --- handlers -----------------------------------------------------------------------------

    async def announce(self, slot: SlotContext) -> str:
        try:
            return await self._announce(slot)
        except ChatBroken as broken:  # paused, and the moderators were told
            return f"paused: {broken}"

    async def start(self, slot: SlotContext) -> str:
        try:
            return await self._start(slot)
        except ChatBroken as broken:
            return f"paused: {broken}"

    async def _announce(self, slot: SlotContext) -> str:
        chat = await self.service.get(slot.schedule.guild_id, int(slot.schedule.payload["chat_id"]))
        channel = await self._channel(chat)
        start = slot.slot_at - slot.schedule.offset
        embed = discord.Embed(
            title=f"📣 {shorten(chat.title, 200)}",
            description=(
                f"Starts {_ts(start)} ({_ts(start, 'R')}) in a thread here; "
                f"{int(chat.duration.total_seconds() // 60)} minutes. Answer with A1, A2…"
            ),
            colour=discord.Colour.blurple(),
        )
        for number, question in enumerate(chat.questions, 1):
            embed.add_field(name=f"Q{number}", value=shorten(question, 1024), inline=False)
        if slot.late:
            embed.set_footer(text="Posted late: the bot was offline when this was due.")
        await slot.outbox.once("announce", message_post(channel, embeds=[embed]))
        return "announced"

    async def _start(self, slot: SlotContext) -> str:
        guild_id = slot.schedule.guild_id
        chat = await self.service.get(guild_id, int(slot.schedule.payload["chat_id"]))
        channel = await self._channel(chat)
        run = await self.service.begin_run(guild_id, chat.id, slot.slot_at)
        posts = self._posts(run)
        if run.thread_id is None:
            local = slot.slot_at.astimezone(chat.rule.zone if chat.rule else None)
            name = shorten(f"{chat.title} · {local:%Y-%m-%d}", 100)
            try:
                made = await posts.once("thread", thread_post(channel, name))
            except discord.Forbidden as exc:
                await self._broken(chat, f"I may not create threads in {channel.mention}")
                raise ChatBroken("no permission to create threads") from exc
            await self.service.set_thread(guild_id, run.id, made.id)
            run = await self.service.run(guild_id, run.id)
        thread = await self._thread(run)
        if thread is not None:
            await posts.once(
                "intro", message_post(thread, content=intro_text(chat, run, slot.late))
            )
        await self._set_event_status(chat, discord.EventStatus.active)
        await self._advance(chat, run)
        return f"run #{run.id}"

    async def step(self, slot: SlotContext) -> str:
        guild_id = slot.schedule.guild_id
        run = await self.service.run(guild_id, int(slot.schedule.payload["run_id"]))
        try:
            chat = await self.service.get(guild_id, run.chat_id)
        except UserFacingError:
            return "chat cancelled"
        return await self._advance(chat, run)

    async def _advance(self, chat: ChatInfo, run: RunInfo) -> str:
        now = self.bot.clock.now()
        action, at = next_action(chat, run, now)
        thread = await self._thread(run)
        posts = self._posts(run)
        if action == "question" and thread is not None:
            number = run.questions_posted + 1
            question = message_post(
                thread,
                content=f"**Q{number}** {safe_text(chat.questions[number - 1], 1900)}\n"
                f"-# Answer with **A{number}** or reply to this message.",
            )
            posted = await posts.once(f"q{number}", question)
            run = await self.service.add_question_message(chat.guild_id, run.id, posted.id)
            due = question_due(chat, run) if run.questions_posted < len(chat.questions) else None
            await self._plan(chat, run, min(due, run.ends_at) if due else run.ends_at)
            return f"Q{number}"
        if action == "summary":
            summary = await self.service.summary(chat.guild_id, run.id)
            text = summary_text(summary)
            if thread is not None:
                await posts.once("summary", message_post(thread, content=text))
            channel = self._channel_or_none(chat)
            if channel is not None:
                link = f"\n{thread.jump_url}" if thread is not None else ""
                await posts.once("summary-channel", message_post(channel, content=text + link))
            run = await self.service.set_state(chat.guild_id, run.id, "ended")
            await self._set_event_status(chat, discord.EventStatus.completed)
            await self.sync_event(chat.guild_id, chat.id)
            if run.archive_at is not None:
                await self._plan(chat, run, run.archive_at)
            return "summary"
        if action == "archive":
            if thread is not None:
                await thread.edit(archived=True)
            await self.service.set_state(chat.guild_id, run.id, "archived")
            return "archived"
        if action == "question":  # the thread is gone: nothing more can be posted
            await self.service.set_state(chat.guild_id, run.id, "archived")
            await self.bot.modlog.post(
                chat.guild_id,
                f"The thread of chat #{chat.id} ({safe_text(chat.title, 100)}) is gone; this "
                "week's run stopped. Next week's run is not affected.",
            )
            return "thread gone"
        if at is not None:
            await self._plan(chat, run, at)
        return "waiting"

    async def _plan(self, chat: ChatInfo, run: RunInfo, at: datetime) -> None:
        await self.service.plan_step(chat.guild_id, run.id, at)
        await self.bot.services.scheduling.changed()

    # --- moderator controls ---------------------------------------------------------------------

    async def control(
        self, guild_id: int, channel_id: int, actor_id: int, action: str, minutes: int = 0
    ) -> str:
        run = await self.service.run_in(guild_id, channel_id)
        chat = await self.service.get(guild_id, run.chat_id)
        now = self.bot.clock.now()
        if action == "pause":
            await self.service.set_state(guild_id, run.id, "paused", actor_id=actor_id)
            return "Paused: no further questions until `/mod chat resume`."
        if action == "resume":
            run = await self.service.set_state(
                guild_id, run.id, "running", actor_id=actor_id, ends_at=max(run.ends_at, now)
            )
            await self._plan(chat, run, now)
            return "Resumed: the next question comes now."
        if action == "skip":
            if run.state != "running":
                raise UserFacingError("The chat is paused; `/mod chat resume` first.")
            await self._plan(chat, run, now)
            return "The next question comes now."
        if action == "extend":
            if not 1 <= minutes <= 180:
                raise UserFacingError("Extend by 1 to 180 minutes.")
            run = await self.service.set_state(
                guild_id,
                run.id,
                run.state,
                actor_id=actor_id,
                ends_at=run.ends_at + timedelta(minutes=minutes),
            )
            if run.state == "running" and run.questions_posted >= len(chat.questions):
                await self._plan(chat, run, run.ends_at)
            return f"Extended: the chat now ends {_ts(run.ends_at, 't')}."
        run = await self.service.set_state(
            guild_id, run.id, "running", actor_id=actor_id, ends_at=now
        )
        await self._plan(chat, run, now)
        return "Ending the chat: the summary comes now."

    # --- replies --------------------------------------------------------------------------------

    async def on_thread_message(self, message: discord.Message) -> None:
        assert message.guild is not None
        replied_to = message.reference.message_id if message.reference else None
        question = await self.service.record_reply(
            message.guild.id,
            message.channel.id,
            message.id,
            message.author.id,
            message.content,
            replied_to,
        )
        if question is None or "http" not in message.content:
            return
        run = await self.service.run_in(message.guild.id, message.channel.id)
        chat = await self.service.get(message.guild.id, run.chat_id)
        tags: tuple[str, ...] = ()
        if chat.topic_id is not None:
            topic = await self.topics.get(message.guild.id, chat.topic_id)
            tags = topic.default_tags if topic else ()
        try:
            await self.library.capture_links(
                message.guild.id,
                message.channel.id,
                message.id,
                message.author.id,
                message.content,
                tags=tags,
                shared_at=message.created_at,
            )
        except Exception:
            log.exception("could not file links from chat thread %s", message.channel.id)

    # --- scheduled events -----------------------------------------------------------------------

    async def sync_event(self, guild_id: int, chat_id: int) -> str | None:
        """Keep the chat's Discord event on its next occurrence; a warning when it cannot."""
        guild = self.bot.get_guild(guild_id)
        try:
            chat = await self.service.get(guild_id, chat_id)
        except UserFacingError:
            return None
        if guild is None:
            return None
        if not guild.me.guild_permissions.manage_events:
            return "I need the Manage Events permission to add the chat to the server's events."
        event = guild.get_scheduled_event(chat.event_id) if chat.event_id else None
        start = chat.next_start
        if start is None or start <= self.bot.clock.now():
            if event is not None and event.status == discord.EventStatus.scheduled:
                await event.delete()
            await self.service.set_event(guild_id, chat.id, None, None)
            return None
        if event is not None and event.status != discord.EventStatus.scheduled:
            event = None  # that one is running or over; the next occurrence gets a new event
        name = shorten(chat.title, 100)
        location = shorten(f"#{self._channel_name(chat)}", 100)
        description = shorten(
            "\n".join(f"Q{n}. {q}" for n, q in enumerate(chat.questions, 1)) or chat.title, 1000
        )
        if event is None:
            event = await guild.create_scheduled_event(
                name=name,
                start_time=start,
                end_time=start + chat.duration,
                entity_type=discord.EntityType.external,
                privacy_level=discord.PrivacyLevel.guild_only,
                location=location,
                description=description,
            )
        elif chat.event_start != start or event.name != name or event.description != description:
            event = await event.edit(
                name=name,
                start_time=start,
                end_time=start + chat.duration,
                entity_type=discord.EntityType.external,
                location=location,
                description=description,
            )
        await self.service.set_event(guild_id, chat.id, event.id, start)
        return None

    async def delete_event(self, guild_id: int, event_id: int | None) -> None:
        guild = self.bot.get_guild(guild_id)
        event = guild.get_scheduled_event(event_id) if guild and event_id else None
        if event is not None:
            try:
                await event.delete()
            except discord.HTTPException:
                log.warning("could not delete scheduled event %s", event_id)

    async def _set_event_status(self, chat: ChatInfo, status: discord.EventStatus) -> None:
        guild = self.bot.get_guild(chat.guild_id)
        event = guild.get_scheduled_event(chat.event_id) if guild and chat.event_id else None
        if event is None:
            return
        try:
            if (
                status == discord.EventStatus.active
                and event.status == discord.EventStatus.scheduled
            ):
                await event.start()
            elif (
                status == discord.EventStatus.completed
                and event.status == discord.EventStatus.active
            ):
                await event.end()
        except discord.HTTPException:
            log.warning("could not update scheduled event %s", event.id)

    # --- Discord lookups ------------------------------------------------------------------------

    def _channel_or_none(self, chat: ChatInfo) -> ChatChannel | None:
        guild = self.bot.get_guild(chat.guild_id)
        channel = guild.get_channel(chat.channel_id) if guild else None
        return channel if isinstance(channel, discord.TextChannel) else None

    def _channel_name(self, chat: ChatInfo) -> str:
        channel = self._channel_or_none(chat)
        return channel.name if channel else str(chat.channel_id)

    async def _channel(self, chat: ChatInfo) -> ChatChannel:
        channel = self._channel_or_none(chat)
        if channel is None:
            await self._broken(chat, f"its channel <#{chat.channel_id}> is gone")
            raise ChatBroken("the chat's channel is gone")
        missing = missing_post_permissions(channel, extra=_THREAD_PERMISSIONS)
        if missing:
            await self._broken(chat, f"I lack {', '.join(missing)} in {channel.mention}")
            raise ChatBroken("the bot lost permissions in the chat's channel")
        return channel

    async def _thread(self, run: RunInfo) -> discord.Thread | None:
        guild = self.bot.get_guild(run.guild_id)
        if guild is None or run.thread_id is None:
            return None
        thread = guild.get_thread(run.thread_id)
        if thread is None:  # not cached (e.g. archived after a restart): one request
            try:
                fetched = await guild.fetch_channel(run.thread_id)
            except discord.HTTPException:
                return None
            thread = fetched if isinstance(fetched, discord.Thread) else None
        return thread

    async def _broken(self, chat: ChatInfo, why: str) -> None:
        await self.service.pause_schedules(chat.guild_id, chat.id)
        await self.bot.services.scheduling.changed()
        await self.bot.modlog.post(
            chat.guild_id,
            f"Chat #{chat.id} ({safe_text(chat.title, 100)}) is paused: {why}. Fix it, then "
            f"`/mod schedule resume {chat.start_schedule_id}` and `/mod schedule resume "
            f"{chat.announce_schedule_id}`.",
        )

    def _posts(self, run: RunInfo) -> OutboxScope:
        """The posts of a chat's run (thread, intro, Q1..Qn, summaries): each made once, whichever
        slot (the start, a step, a moderator's skip) gets to them, across crashes."""
        return self.bot.services.scheduling.outbox.scope(run.guild_id, f"chat:{run.id}")
