"""/mod chat: define weekly chats (questions in a form) and steer the one running in a thread."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from bot.chats.service import (
    DEFAULT_DURATION,
    DEFAULT_INTERVAL,
    ChatInfo,
    ChatService,
    check_timing,
)
from bot.clock import Clock
from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.guilds.service import GuildService
from bot.scheduling import SchedulingCore, parse_when, preview
from bot.topics.service import TopicService
from bot.ui.autocomplete import timezone_names, topic_names
from bot.ui.context import guild_of
from bot.ui.forms import Form, TextField
from bot.ui.moderation import ModeratorGroup
from bot.ui.paginator import Paginator
from bot.ui.schedules import WHEN_HELP, preview_text
from bot.ui.text import safe_text, shorten
from bot.wording import plural
from cogs.chats._render import chat_line, chat_pages
from cogs.chats._runner import ChatRunner


class QuestionsModal(Form):
    where = "mod chat questions"
    questions: TextField[QuestionsModal] = TextField(
        label="Questions, one per line (up to 10)",
        custom_id="questions",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=4000,
    )

    def __init__(
        self,
        title: str,
        on_submit: Callable[[discord.Interaction[PLNBot], str], Awaitable[str]],
        default: str = "",
    ) -> None:
        super().__init__(title=shorten(title, 45), timeout=900)
        self.questions.default = default[:4000] or None
        self._on_submit = on_submit

    async def on_submit(self, interaction: discord.Interaction[PLNBot], /) -> None:  # type: ignore[override]
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self._on_submit(interaction, self.questions.value)
        await interaction.followup.send(text[:2000], ephemeral=True)


class ChatModeration(ModeratorGroup, name="chat", description="Weekly chats and the one running"):
    def __init__(
        self,
        chats: ChatService,
        topics: TopicService,
        guilds: GuildService,
        core: SchedulingCore,
        runner: ChatRunner,
        clock: Clock,
    ) -> None:
        super().__init__()
        self.service = chats
        self.topics = topics
        self.guilds = guilds
        self.core = core
        self.runner = runner
        self.clock = clock

    @app_commands.command(name="schedule", description="Schedule a recurring chat; questions next")
    @app_commands.autocomplete(topic=topic_names, timezone=timezone_names)
    @app_commands.describe(
        title="Shown in the announcement, thread and event",
        when=WHEN_HELP,
        topic="The topic (its channel hosts the chat)",
        channel="The channel (if no topic)",
        timezone="IANA zone; the server's zone if left out",
        duration="Minutes (default 60)",
        interval="Minutes between questions (default 10)",
    )
    async def schedule(
        self,
        interaction: discord.Interaction[PLNBot],
        title: str,
        when: str,
        topic: str | None = None,
        channel: discord.TextChannel | None = None,
        timezone: str | None = None,
        duration: app_commands.Range[int, 15, 360] = DEFAULT_DURATION,
        interval: app_commands.Range[int, 1, 360] = DEFAULT_INTERVAL,
    ) -> None:
        guild = guild_of(interaction)
        found = await self.topics.require_if_named(guild.id, topic)
        channel_id = channel.id if channel else found.channel_id if found else None
        if channel_id is None:
            raise UserFacingError("Choose a topic that has a channel, or a channel.")
        if not isinstance(guild.get_channel(channel_id), discord.TextChannel):
            raise UserFacingError(
                f"Weekly chats run in a thread of a text channel, and <#{channel_id}> is not one "
                "(a forum topic, perhaps). Pick a text channel with `channel`; nothing was saved."
            )
        zone = timezone or (await self.guilds.settings(guild.id)).timezone
        rule = parse_when(when, zone, self.clock.now())
        check_timing(duration, interval, 1)

        async def save(submitted: discord.Interaction[PLNBot], text: str) -> str:
            questions = tuple(q.strip() for q in text.splitlines() if q.strip())
            chat = await self.service.create(
                guild.id,
                guild.name,
                submitted.user.id,
                title=title,
                rule=rule,
                channel_id=channel_id,
                topic_id=found.id if found else None,
                questions=questions,
                duration=duration,
                interval=interval,
            )
            await self._after_change(chat)
            warning = await self.runner.sync_event(guild.id, chat.id) or ""
            shown = preview_text(rule, preview(rule, self.clock.now()))
            count = len(chat.questions)
            return (
                f"Scheduled chat #{chat.id} with {plural(count, 'question')}.\n{shown}\n{warning}"
            )

        await interaction.response.send_modal(QuestionsModal(f"Questions: {title}", save))

    @app_commands.command(name="questions", description="Replace a chat's questions")
    async def questions(self, interaction: discord.Interaction[PLNBot], id: int) -> None:
        guild = guild_of(interaction)
        chat = await self.service.get(guild.id, id)

        async def save(submitted: discord.Interaction[PLNBot], text: str) -> str:
            assert submitted.guild is not None
            updated = await self.service.set_questions(
                submitted.guild.id, id, submitted.user.id, text
            )
            await self.runner.sync_event(submitted.guild.id, id)
            return f"Chat #{id} now has {plural(len(updated.questions), 'question')}."

        await interaction.response.send_modal(
            QuestionsModal(f"Questions: {chat.title}", save, "\n".join(chat.questions))
        )

    @app_commands.command(name="edit", description="Change a chat's title, time or timing")
    @app_commands.autocomplete(timezone=timezone_names)
    @app_commands.describe(when=WHEN_HELP, timezone="IANA zone; the chat's zone if left out")
    async def edit(
        self,
        interaction: discord.Interaction[PLNBot],
        id: int,
        title: str | None = None,
        when: str | None = None,
        timezone: str | None = None,
        duration: app_commands.Range[int, 15, 360] | None = None,
        interval: app_commands.Range[int, 1, 360] | None = None,
    ) -> None:
        guild = guild_of(interaction)
        current = await self.service.get(guild.id, id)
        rule = None
        if when is not None or timezone is not None:
            if when is None:
                raise UserFacingError("Give `when` too when changing the time zone.")
            zone = timezone or (current.rule.timezone if current.rule else "UTC")
            rule = parse_when(when, zone, self.clock.now())
        await interaction.response.defer(ephemeral=True, thinking=True)
        chat = await self.service.edit(
            guild.id,
            id,
            interaction.user.id,
            title=title,
            rule=rule,
            duration=duration,
            interval=interval,
        )
        await self._after_change(chat)
        warning = await self.runner.sync_event(guild.id, id) or ""
        await interaction.followup.send(
            f"Updated chat #{id}.\n{chat_line(chat)}\n{warning}", ephemeral=True
        )

    @app_commands.command(name="cancel", description="Cancel a chat and its event")
    async def cancel(self, interaction: discord.Interaction[PLNBot], id: int) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        chat = await self.service.cancel(guild.id, id, interaction.user.id)
        await self.core.changed()
        await self.runner.delete_event(guild.id, chat.event_id)
        await interaction.followup.send(
            f"Cancelled chat #{id} ({safe_text(chat.title)}).", ephemeral=True
        )

    @app_commands.command(name="list", description="The chats of this server")
    async def list_(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        chats = await self.service.for_guild(guild.id)
        await Paginator(interaction.user.id, chat_pages("Chats", chats, detail=True)).send(
            interaction
        )

    # --- running chats --------------------------------------------------------------------------

    @app_commands.command(name="pause", description="Pause the chat running in this thread")
    async def pause(self, interaction: discord.Interaction[PLNBot]) -> None:
        await self._control(interaction, "pause")

    @app_commands.command(name="resume", description="Resume the paused chat in this thread")
    async def resume(self, interaction: discord.Interaction[PLNBot]) -> None:
        await self._control(interaction, "resume")

    @app_commands.command(name="skip", description="Post the next question now")
    async def skip(self, interaction: discord.Interaction[PLNBot]) -> None:
        await self._control(interaction, "skip")

    @app_commands.command(name="extend", description="Give the running chat more minutes")
    async def extend(
        self, interaction: discord.Interaction[PLNBot], minutes: app_commands.Range[int, 1, 180]
    ) -> None:
        await self._control(interaction, "extend", minutes)

    @app_commands.command(name="end", description="End the running chat now, with its summary")
    async def end(self, interaction: discord.Interaction[PLNBot]) -> None:
        await self._control(interaction, "end")

    async def _control(
        self, interaction: discord.Interaction[PLNBot], action: str, minutes: int = 0
    ) -> None:
        guild = guild_of(interaction)
        channel_id = interaction.channel_id or 0  # always set for a slash command in a channel
        text = await self.runner.control(guild.id, channel_id, interaction.user.id, action, minutes)
        await interaction.response.send_message(text, ephemeral=True)

    async def _after_change(self, _chat: ChatInfo) -> None:
        await self.core.changed()

    @questions.autocomplete("id")
    @edit.autocomplete("id")
    @cancel.autocomplete("id")
    async def _chat_choices(
        self, interaction: discord.Interaction[PLNBot], current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild is None:
            return []
        chats = await self.service.for_guild(interaction.guild.id)
        names = [(f"#{c.id} {c.title}", c.id) for c in chats]
        return [
            app_commands.Choice(name=name[:100], value=chat_id)
            for name, chat_id in names
            if current.lower() in name.lower()
        ][:25]
