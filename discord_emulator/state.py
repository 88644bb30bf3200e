"""The emulator's world: every guild, channel, message and interaction, plus change signalling.

REST handlers, the gateway and the test driver all read and write this one store. Each mutation
calls `changed()`, which wakes anything waiting in `wait_until` (no polling, no sleeps), and
`emit()` hands a gateway event to the gateway hub, which filters it by each session's intents.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from discord_emulator.errors import JSON, unknown
from discord_emulator.models import (
    Channel,
    ChannelType,
    Clock,
    Guild,
    Member,
    Message,
    Role,
    SnowflakeGenerator,
    User,
    system_clock,
)
from discord_emulator.permissions import (
    DEFAULT_EVERYONE,
    base_permissions,
    channel_permissions,
)

T = TypeVar("T")

RECHECK_SECONDS = 0.02

_log = logging.getLogger(__name__)


class Intent:
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MODERATION = 1 << 2
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    MESSAGE_CONTENT = 1 << 15
    GUILD_SCHEDULED_EVENTS = 1 << 16

    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


@dataclass
class GatewayEvent:
    """One dispatch (op 0). `intent` is the intent a session needs to receive it (0: always)."""

    name: str
    data: JSON
    intent: int = 0
    # For MESSAGE_* events: the message, so the hub can strip content without MESSAGE_CONTENT.
    message: Message | None = None


HappeningKind = Literal["message", "edit", "delete", "interaction", "modal", "reaction"]


@dataclass(frozen=True)
class Happening:
    """Something that happened in the emulated Discord, told to watchers as it happens.

    `message` for messages (created, edited, deleted, reacted to; ephemeral ones included),
    `interaction` for interactions a member sent and for the modal the bot answered one with,
    `user` and `emoji` for reactions.
    """

    kind: HappeningKind
    message: Message | None = None
    interaction: InteractionRecord | None = None
    user: User | None = None
    emoji: str | None = None


Watcher = Callable[[Happening], None]


@dataclass
class InteractionRecord:
    """An interaction the emulator sent to the bot, and everything the bot answered."""

    id: int
    token: str
    type: int
    user: User
    guild_id: int | None
    channel_id: int
    payload: JSON
    created_monotonic: float = field(default_factory=time.monotonic)
    response_type: int | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: JSON | None = None
    autocomplete_choices: list[JSON] | None = None
    # For components (types 6/7): the message the component was on.
    source_message_id: int | None = None

    @property
    def acknowledged(self) -> bool:
        return self.response_type is not None


class EmulatorState:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or system_clock
        self.snowflakes = SnowflakeGenerator(self.clock)
        self.application_id = self.snowflakes.next()
        self.bot_user = User(id=self.application_id, username="PLN bot", bot=True)
        self.application_owner = User(id=self.snowflakes.next(), username="app-owner")
        self.users: dict[int, User] = {
            self.bot_user.id: self.bot_user,
            self.application_owner.id: self.application_owner,
        }
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.channel_messages: dict[int, list[int]] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self.global_commands: list[JSON] = []
        self.attachments: dict[int, bytes] = {}
        # (author id, nonce) -> the messages sent with it, oldest first (for enforce_nonce).
        self.sent_with_nonce: dict[tuple[int, str], list[Message]] = {}
        # http://127.0.0.1:port, set when the server starts; attachment URLs are built from it.
        self.public_base = ""
        self.event_sink: Callable[[GatewayEvent], None] = lambda event: None
        self.watchers: list[Watcher] = []
        self._changed = asyncio.Event()
        self.version = 0

    # --- change signalling -------------------------------------------------------------------

    def changed(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    def tell(self, happening: Happening) -> None:
        """Hand a happening to every watcher; a failing watcher never fails the request."""
        for watcher in list(self.watchers):
            try:
                watcher(happening)
            except Exception:
                _log.exception("an emulator watcher failed on %s", happening.kind)

    def emit(self, event: GatewayEvent) -> None:
        self.event_sink(event)
        self.changed()

    async def wait_until(self, predicate: Callable[[], T | None], limit: float, what: str) -> T:
        """Return the first truthy value of `predicate()`, re-checked on every state change.

        The predicate may also look at things outside the emulator (the bot's cache, its
        database), so it is re-checked every `RECHECK_SECONDS` too. Raises TimeoutError naming
        `what` after `limit` seconds.
        """
        try:
            async with asyncio.timeout(limit):
                while True:
                    value = predicate()
                    if value:
                        return value
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), RECHECK_SECONDS)
        except TimeoutError:
            raise TimeoutError(f"timed out after {limit} s waiting for {what}") from None

    def now_iso(self) -> str:
        return self.clock().isoformat()

    # --- lookups (raise Discord's 404s) --------------------------------------------------------

    def guild(self, guild_id: int) -> Guild:
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise unknown("guild") from None

    def channel(self, channel_id: int) -> Channel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise unknown("channel") from None

    def message(self, channel_id: int, message_id: int) -> Message:
        message = self.messages.get(message_id)
        if message is None or message.channel_id != channel_id or message.deleted:
            raise unknown("message")
        return message

    def user(self, user_id: int) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise unknown("user") from None

    def member(self, guild: Guild, user_id: int) -> Member:
        try:
            return guild.members[user_id]
        except KeyError:
            raise unknown("member") from None

    def role(self, guild: Guild, role_id: int) -> Role:
        try:
            return guild.roles[role_id]
        except KeyError:
            raise unknown("role") from None

    def guild_channels(self, guild: Guild) -> list[Channel]:
        return [self.channels[c] for c in guild.channel_ids if c in self.channels]

    def history(self, channel_id: int) -> list[Message]:
        """Messages as Discord keeps them: oldest first, no ephemeral or deleted ones."""
        ids = self.channel_messages.get(channel_id, [])
        return [
            m for m in (self.messages[i] for i in ids) if not m.deleted and m.visible_to is None
        ]

    # --- creation ----------------------------------------------------------------------------

    def add_user(self, username: str, *, bot: bool = False) -> User:
        user = User(id=self.snowflakes.next(), username=username, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, owner: User) -> Guild:
        guild = Guild(id=self.snowflakes.next(), name=name, owner_id=owner.id)
        guild.roles[guild.id] = Role(
            id=guild.id, guild_id=guild.id, name="@everyone", permissions=int(DEFAULT_EVERYONE)
        )
        self.guilds[guild.id] = guild
        return guild

    def add_channel(
        self,
        guild: Guild | None,
        name: str | None,
        type: ChannelType,
        *,
        parent_id: int | None = None,
        topic: str | None = None,
        owner_id: int | None = None,
    ) -> Channel:
        position = 0
        if guild is not None and not type.is_thread:
            position = sum(
                1 for c in self.guild_channels(guild) if not c.is_thread and c.type == type
            )
        channel = Channel(
            id=self.snowflakes.next(),
            type=type,
            guild_id=guild.id if guild else None,
            name=name,
            position=position,
            parent_id=parent_id,
            topic=topic,
            owner_id=owner_id,
        )
        self.channels[channel.id] = channel
        self.channel_messages[channel.id] = []
        if guild is not None:
            guild.channel_ids.append(channel.id)
        return channel

    def add_message(self, message: Message) -> Message:
        self.messages[message.id] = message
        self.channel_messages.setdefault(message.channel_id, []).append(message.id)
        if message.nonce is not None:
            self.sent_with_nonce.setdefault((message.author.id, message.nonce), []).append(message)
        channel = self.channels.get(message.channel_id)
        if channel is not None and message.visible_to is None:
            channel.last_message_id = message.id
            if channel.is_thread:
                channel.message_count += 1
        return message

    def dm_channel(self, user: User) -> Channel:
        for channel in self.channels.values():
            if channel.type == ChannelType.DM and channel.recipient_ids == [user.id]:
                return channel
        channel = self.add_channel(None, None, ChannelType.DM)
        channel.recipient_ids = [user.id]
        return channel

    # --- permissions -------------------------------------------------------------------------

    def permissions(self, guild: Guild, user_id: int, channel: Channel | None = None) -> int:
        member = guild.members.get(user_id)
        if member is None:
            return 0
        if channel is None:
            return base_permissions(guild, member)
        parent = self.channels.get(channel.parent_id) if channel.parent_id else None
        return channel_permissions(guild, member, channel, parent)

    def bot_permissions(self, guild: Guild, channel: Channel | None = None) -> int:
        return self.permissions(guild, self.bot_user.id, channel)

    def channel_guild(self, channel: Channel) -> Guild | None:
        return self.guilds.get(channel.guild_id) if channel.guild_id else None
