"""/chat: weekly chat hours (the #edchat format) with questions in a thread, and their events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.chats.service import (
    ANNOUNCE_AHEAD,
    ANNOUNCE_KIND,
    DEFAULT_DURATION,
    DEFAULT_INTERVAL,
    START_KIND,
    STEP_KIND,
    ChatInfo,
    check_timing,
)
from bot.checks import moderator_only
from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.scheduling import ScheduleInfo, parse_when, preview
from bot.timezones import search_timezones
from bot.topics.service import TopicInfo
from bot.ui.context import guild_of
from bot.ui.forms import Form, TextField
from bot.ui.paginator import Paginator
from bot.ui.schedules import WHEN_HELP, preview_text
from bot.ui.text import discord_timestamp, safe_text, shorten
from cogs.chats._runner import ChatRunner

STEP_GRACE = timedelta(days=2)


def _start_grace(schedule: ScheduleInfo) -> timedelta:
    """A chat starts late only while its window is still open."""
    return timedelta(minutes=int(schedule.payload.get("duration", DEFAULT_DURATION)))


class QuestionsModal(Form):
    where = "chat questions"
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


@app_commands.guild_only()
class Chats(commands.GroupCog, group_name="chat", group_description="Weekly chat hours"):
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.service = bot.services.chats
        self.topics = bot.services.topics
        self.runner = ChatRunner(bot, self.service)
        self.core = bot.services.scheduling
        super().__init__()

    async def cog_load(self) -> None:
        registry = self.core.registry
        # Every post goes through the outbox, so a slot interrupted by a crash is finished once.
        registry.register(
            ANNOUNCE_KIND, self.runner.announce, grace=ANNOUNCE_AHEAD, resume_after_crash=True
        )
        registry.register(
            START_KIND, self.runner.start, grace=_start_grace, resume_after_crash=True
        )
        registry.register(
            STEP_KIND, self.runner.step, grace=STEP_GRACE, resume_after_crash=True, listed=False
        )

    async def cog_unload(self) -> None:
        for kind in (ANNOUNCE_KIND, START_KIND, STEP_KIND):
            self.core.registry.unregister(kind)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None or message.author.bot:
            return
        if isinstance(message.channel, discord.Thread):
            await self.runner.on_thread_message(message)

    # --- defining chats -------------------------------------------------------------------------

    @app_commands.command(name="schedule", description="Schedule a recurring chat; questions next")
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
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
        guild = interaction.guild
        assert guild is not None
        found = await self._topic(guild.id, topic)
        channel_id = channel.id if channel else found.channel_id if found else None
        if channel_id is None:
            raise UserFacingError("Choose a topic that has a channel, or a channel.")
        if not isinstance(guild.get_channel(channel_id), discord.TextChannel):
            raise UserFacingError(
                f"Weekly chats run in a thread of a text channel, and <#{channel_id}> is not one "
                "(a forum topic, perhaps). Pick a text channel with `channel`; nothing was saved."
            )
        zone = timezone or (await self.bot.services.guilds.settings(guild.id)).timezone
        rule = parse_when(when, zone, self.bot.clock.now())
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
            shown = preview_text(rule, preview(rule, self.bot.clock.now()))
            count = len(chat.questions)
            return f"Scheduled chat #{chat.id} with {count} question(s).\n{shown}\n{warning}"

        await interaction.response.send_modal(QuestionsModal(f"Questions: {title}", save))

    @app_commands.command(name="questions", description="Replace a chat's questions")
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def questions(self, interaction: discord.Interaction[PLNBot], id: int) -> None:
        guild = guild_of(interaction)
        chat = await self.service.get(guild.id, id)

        async def save(submitted: discord.Interaction[PLNBot], text: str) -> str:
            assert submitted.guild is not None
            updated = await self.service.set_questions(
                submitted.guild.id, id, submitted.user.id, text
            )
            await self.runner.sync_event(submitted.guild.id, id)
            return f"Chat #{id} now has {len(updated.questions)} question(s)."

        await interaction.response.send_modal(
            QuestionsModal(f"Questions: {chat.title}", save, "\n".join(chat.questions))
        )

    @app_commands.command(name="edit", description="Change a chat's title, time or timing")
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
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
        guild = interaction.guild
        assert guild is not None
        current = await self.service.get(guild.id, id)
        rule = None
        if when is not None or timezone is not None:
            if when is None:
                raise UserFacingError("Give `when` too when changing the time zone.")
            zone = timezone or (current.rule.timezone if current.rule else "UTC")
            rule = parse_when(when, zone, self.bot.clock.now())
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
            f"Updated chat #{id}.\n{_chat_line(chat)}\n{warning}", ephemeral=True
        )

    @app_commands.command(name="cancel", description="Cancel a chat and its event")
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def cancel(self, interaction: discord.Interaction[PLNBot], id: int) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        chat = await self.service.cancel(guild.id, id, interaction.user.id)
        await self.core.changed()
        await self.runner.delete_event(guild.id, chat.event_id)
        await interaction.followup.send(
            f"Cancelled chat #{id} ({safe_text(chat.title)}).", ephemeral=True
        )

    @app_commands.command(name="list", description="The chats of this server (moderators)")
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def list_(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        chats = await self.service.for_guild(guild.id)
        await Paginator(interaction.user.id, _pages("Chats", chats, detail=True)).send(interaction)

    @app_commands.command(name="upcoming", description="Upcoming chats, in your own time zone")
    async def upcoming(self, interaction: discord.Interaction[PLNBot]) -> None:
        guild = guild_of(interaction)
        chats = [c for c in await self.service.for_guild(guild.id) if c.next_start]
        chats.sort(key=lambda c: c.next_start or self.bot.clock.now())
        await Paginator(interaction.user.id, _pages("Upcoming chats", chats, detail=False)).send(
            interaction
        )

    # --- running chats --------------------------------------------------------------------------

    @app_commands.command(name="pause", description="Pause the chat running in this thread")
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def pause(self, interaction: discord.Interaction[PLNBot]) -> None:
        await self._control(interaction, "pause")

    @app_commands.command(name="resume", description="Resume the paused chat in this thread")
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def resume(self, interaction: discord.Interaction[PLNBot]) -> None:
        await self._control(interaction, "resume")

    @app_commands.command(name="skip", description="Post the next question now")
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def skip(self, interaction: discord.Interaction[PLNBot]) -> None:
        await self._control(interaction, "skip")

    @app_commands.command(name="extend", description="Give the running chat more minutes")
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def extend(
        self, interaction: discord.Interaction[PLNBot], minutes: app_commands.Range[int, 1, 180]
    ) -> None:
        await self._control(interaction, "extend", minutes)

    @app_commands.command(name="end", description="End the running chat now, with its summary")
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def end(self, interaction: discord.Interaction[PLNBot]) -> None:
        await self._control(interaction, "end")

    async def _control(
        self, interaction: discord.Interaction[PLNBot], action: str, minutes: int = 0
    ) -> None:
        guild = guild_of(interaction)
        channel_id = interaction.channel_id or 0  # always set for a slash command in a channel
        text = await self.runner.control(guild.id, channel_id, interaction.user.id, action, minutes)
        await interaction.response.send_message(text, ephemeral=True)

    # --- helpers --------------------------------------------------------------------------------

    async def _topic(self, guild_id: int, name: str | None) -> TopicInfo | None:
        return None if name is None else await self.topics.require(guild_id, name)

    async def _after_change(self, _chat: ChatInfo) -> None:
        await self.core.changed()

    @schedule.autocomplete("topic")
    async def _topic_choices(
        self, interaction: discord.Interaction[PLNBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild is None:
            return []
        found = await self.topics.search(interaction.guild.id, current)
        return [app_commands.Choice(name=t.name[:100], value=t.name[:100]) for t in found]

    @schedule.autocomplete("timezone")
    @edit.autocomplete("timezone")
    async def _timezone_choices(
        self, _interaction: discord.Interaction[PLNBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in search_timezones(current)]

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


def _chat_line(chat: ChatInfo) -> str:
    when = (
        f"{discord_timestamp(chat.next_start.timestamp(), 'F')} "
        f"({discord_timestamp(chat.next_start.timestamp(), 'R')})"
        if chat.next_start
        else "no upcoming run"
    )
    minutes = int(chat.duration.total_seconds() // 60)
    return f"<#{chat.channel_id}> · next {when} · {minutes} min"


def _pages(title: str, chats: list[ChatInfo], *, detail: bool) -> list[discord.Embed]:
    pages = []
    for start in range(0, len(chats), 8):
        embed = discord.Embed(title=title, colour=discord.Colour.blurple())
        for chat in chats[start : start + 8]:
            value = _chat_line(chat)
            if detail and chat.rule is not None:
                value += (
                    f"\n{safe_text(chat.rule.describe(), 300)} · {len(chat.questions)} question(s)"
                )
            embed.add_field(
                name=shorten(f"#{chat.id} {chat.title}", 256), value=value[:1024], inline=False
            )
        pages.append(embed)
    return pages or [discord.Embed(title=title, description="No chats scheduled.")]
