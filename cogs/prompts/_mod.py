"""/mod prompt: the prompt bank, prompts posted now or on a schedule."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.clock import Clock
from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.guilds.service import GuildService
from bot.prompts.service import MAX_IMPORT_BYTES, PromptInfo, PromptService
from bot.scheduling import SchedulingCore, parse_when, preview
from bot.topics.service import TopicService
from bot.ui.autocomplete import timezone_names, topic_names
from bot.ui.confirm import ConfirmSchedule
from bot.ui.context import guild_of
from bot.ui.moderation import ModeratorGroup
from bot.ui.paginator import Paginator
from bot.ui.schedules import WHEN_HELP, preview_text
from bot.ui.text import safe_text
from bot.wording import plural
from cogs.prompts._poster import PROMPT_KIND, PromptPoster, PromptTarget

PER_PAGE = 10


class PromptModeration(
    ModeratorGroup, name="prompt", description="The prompt bank and its schedules"
):
    def __init__(
        self,
        prompts: PromptService,
        topics: TopicService,
        guilds: GuildService,
        core: SchedulingCore,
        poster: PromptPoster,
        clock: Clock,
    ) -> None:
        super().__init__()
        self.service = prompts
        self.topics = topics
        self.guilds = guilds
        self.core = core
        self.poster = poster
        self.clock = clock

    @app_commands.command(name="add", description="Add a prompt to the bank")
    @app_commands.autocomplete(topic=topic_names)
    @app_commands.describe(text="The prompt (up to 1000 characters)", topic="Only for this topic")
    async def add(
        self, interaction: discord.Interaction[PLNBot], text: str, topic: str | None = None
    ) -> None:
        guild = guild_of(interaction)
        found = await self.topics.require_if_named(guild.id, topic)
        info = await self.service.add(
            guild.id, guild.name, interaction.user.id, text, topic_id=found.id if found else None
        )
        where = f" for {safe_text(found.name)}" if found else ""
        await interaction.response.send_message(
            f"Added prompt #{info.id}{where}: {safe_text(info.text, 1500)}", ephemeral=True
        )

    @app_commands.command(name="import", description="Add prompts from a text file, one a line")
    @app_commands.autocomplete(topic=topic_names)
    @app_commands.describe(file="A .txt file, one prompt per line", topic="Only for this topic")
    async def import_(
        self,
        interaction: discord.Interaction[PLNBot],
        file: discord.Attachment,
        topic: str | None = None,
    ) -> None:
        guild = guild_of(interaction)
        if file.size > MAX_IMPORT_BYTES:
            raise UserFacingError(f"That file is over {MAX_IMPORT_BYTES // 1000} kB.")
        found = await self.topics.require_if_named(guild.id, topic)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            content = (await file.read()).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UserFacingError("That file is not UTF-8 text; nothing was imported.") from None
        result = await self.service.import_lines(
            guild.id, guild.name, interaction.user.id, content, topic_id=found.id if found else None
        )
        skipped = [
            f"{n} {what}"
            for n, what in (
                (result.duplicates, "duplicate(s)"),
                (result.too_long, "over 1000 characters"),
            )
            if n
        ]
        tail = f" Skipped: {', '.join(skipped)}." if skipped else ""
        await interaction.followup.send(
            f"Imported {plural(result.added, 'prompt')}.{tail}", ephemeral=True
        )

    @app_commands.command(name="list", description="The prompts in the bank")
    @app_commands.autocomplete(topic=topic_names)
    @app_commands.describe(topic="Only this topic's prompts")
    async def list_(
        self, interaction: discord.Interaction[PLNBot], topic: str | None = None
    ) -> None:
        guild = guild_of(interaction)
        found = await self.topics.require_if_named(guild.id, topic)
        infos = await self.service.list_bank(guild.id, topic_id=found.id if found else None)
        await Paginator(interaction.user.id, _prompt_pages(infos)).send(interaction)

    @app_commands.command(name="remove", description="Remove a prompt from the bank")
    async def remove(self, interaction: discord.Interaction[PLNBot], id: int) -> None:
        guild = guild_of(interaction)
        info = await self.service.remove(guild.id, id, interaction.user.id)
        await interaction.response.send_message(
            f"Removed prompt #{info.id}: {safe_text(info.text, 1500)}", ephemeral=True
        )

    @app_commands.command(name="post-now", description="Post the next prompt right away")
    @app_commands.autocomplete(topic=topic_names)
    @app_commands.describe(
        channel="Where to post (the topic's channel if a topic is given)",
        topic="Prefer this topic's prompts",
        thread="Open a thread for replies",
        ping="Ping the topic's role",
    )
    async def post_now(
        self,
        interaction: discord.Interaction[PLNBot],
        channel: discord.TextChannel | None = None,
        topic: str | None = None,
        thread: bool = False,
        ping: bool = False,
    ) -> None:
        guild = guild_of(interaction)
        target = await self._target(guild.id, channel, topic, thread, ping)
        await interaction.response.defer(ephemeral=True, thinking=True)
        message = await self.poster.post(guild.id, target)
        text = (
            f"Posted: {message.jump_url}"
            if message
            else "The prompt bank is empty: add prompts with `/mod prompt add` or `import`."
        )
        await interaction.followup.send(text, ephemeral=True)

    @app_commands.command(name="schedule", description="Post the next prompt on a schedule")
    @app_commands.autocomplete(topic=topic_names, timezone=timezone_names)
    @app_commands.describe(
        when=WHEN_HELP,
        channel="Where to post (the topic's channel if a topic is given)",
        topic="Prefer this topic's prompts",
        timezone="IANA zone; the server's zone if left out",
        thread="Open a thread for replies",
        ping="Ping the topic's role",
    )
    async def schedule(
        self,
        interaction: discord.Interaction[PLNBot],
        when: str,
        channel: discord.TextChannel | None = None,
        topic: str | None = None,
        timezone: str | None = None,
        thread: bool = False,
        ping: bool = False,
    ) -> None:
        guild = guild_of(interaction)
        target = await self._target(guild.id, channel, topic, thread, ping)
        zone = timezone or (await self.guilds.settings(guild.id)).timezone
        rule = parse_when(when, zone, self.clock.now())
        label = f"prompts in #{channel.name}" if channel else f"prompts for {topic}"

        async def save(confirm: discord.Interaction[PLNBot]) -> str:
            info = await self.core.schedules.create(
                guild.id,
                guild.name,
                confirm.user.id,
                kind=PROMPT_KIND,
                rule=rule,
                label=label,
                payload=target.payload(),
            )
            await self.core.changed()
            return f"Saved prompt schedule #{info.id}: {rule.describe()}."

        text = preview_text(rule, preview(rule, self.clock.now()))
        await interaction.response.send_message(
            f"{text}\n\nSave this schedule?",
            view=ConfirmSchedule(interaction.user.id, save),
            ephemeral=True,
        )

    async def _target(
        self,
        guild_id: int,
        channel: discord.TextChannel | None,
        topic: str | None,
        thread: bool,
        ping: bool,
    ) -> PromptTarget:
        found = await self.topics.require_if_named(guild_id, topic)
        channel_id = channel.id if channel else found.channel_id if found else None
        if channel_id is None:
            raise UserFacingError("Choose a channel, or a topic that has a channel.")
        if ping and (found is None or found.role_id is None):
            raise UserFacingError("`ping` needs a topic with a role to ping.")
        return PromptTarget(channel_id, found.id if found else None, thread, ping)


def _prompt_pages(infos: list[PromptInfo]) -> list[discord.Embed]:
    pages = []
    for start in range(0, len(infos), PER_PAGE):
        lines = [
            f"**#{p.id}** {safe_text(p.text, 300)} · used {p.use_count}×"
            for p in infos[start : start + PER_PAGE]
        ]
        pages.append(
            discord.Embed(
                title="Prompt bank",
                description="\n".join(lines)[:4000],
                colour=discord.Colour.blurple(),
            )
        )
    return pages or [discord.Embed(title="Prompt bank", description="The bank is empty.")]
