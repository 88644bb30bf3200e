"""Topic changes that span Discord and the database, shared by commands, approvals and repair.

`create` makes the role and channel, records the topic, and removes what it made if recording
fails. `after_change` runs what follows any change in other features (the library's capture
channels, the pickers, the moderators' log); its failures are reported to the moderators, since
the change itself is done.
"""

from __future__ import annotations

import logging

import discord

from bot.errors import UserFacingError
from bot.guilds.service import GuildService
from bot.library.service import LibraryService
from bot.topics.service import TopicInfo, TopicService
from bot.ui.modlog import ModLog
from bot.ui.text import safe_text, shorten
from cogs.topics import _discord as pieces
from cogs.topics._picker import PickerItems, refresh_pickers

log = logging.getLogger(__name__)


class TopicWorkflows:
    def __init__(
        self,
        topics: TopicService,
        library: LibraryService,
        guilds: GuildService,
        modlog: ModLog,
        picker: PickerItems,
    ) -> None:
        self._topics = topics
        self._library = library
        self._guilds = guilds
        self._modlog = modlog
        self._picker = picker

    async def create(
        self,
        guild: discord.Guild,
        actor: discord.abc.User,
        name: str,
        *,
        description: str | None = None,
        emoji: str | None = None,
        tags: str | None = None,
        kind: str = "text",
    ) -> TopicInfo:
        """Validate, create the role and channel (rolled back on failure), then record it."""
        new = await self._topics.prepare(
            guild.id, name, description=description, emoji=emoji, tags=tags, kind=kind
        )
        settings = await self._topics.settings(guild.id)
        guild_settings = await self._guilds.settings(guild.id)
        reason = f"/mod topic create by {actor} ({actor.id})"
        channel, role, created = await pieces.create_pieces(
            guild, new, settings, guild_settings.moderator_role_id, reason=reason
        )
        try:
            topic = await self._topics.create(
                guild.id, guild.name, actor.id, new, channel_id=channel.id, role_id=role.id
            )
        except BaseException:
            await created.roll_back("topic could not be recorded")
            raise
        await self.after_change(
            guild,
            topic,
            f"🆕 {actor.mention} created topic **{safe_text(topic.name)}** ({channel.mention}).",
        )
        return topic

    async def after_change(
        self, guild: discord.Guild, topic: TopicInfo | None, log_line: str | None
    ) -> None:
        """Everything that follows a change: library capture, pickers, the moderators' log."""
        problem: str | None = None
        try:
            if topic is not None and topic.channel_id is not None:
                if topic.state == "active":
                    await self._library.set_capture_channel(
                        guild.id, topic.channel_id, topic.default_tags, source="topic"
                    )
                else:
                    await self._library.remove_capture_channel(guild.id, topic.channel_id)
            await refresh_pickers(guild, self._topics, self._picker)
        except UserFacingError as error:
            problem = str(error)
        except Exception:
            log.exception("Follow-up of a topic change failed in guild %s", guild.id)
            problem = "an unexpected error (it is in the bot's log)"
        lines = [log_line] if log_line else []
        if problem is not None:
            what = f"topic **{safe_text(topic.name)}**" if topic is not None else "a topic"
            lines.append(
                f"⚠️ After the change to {what}, link capture or the topic pickers could not be "
                f"updated: {problem}"
            )
        if lines:
            await self._modlog.post(guild.id, shorten("\n".join(lines), 2000))
