"""The objects the fake Discord holds. Plain dataclasses; `wire.py` turns them into API JSON."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]
Clock = Callable[[], datetime]

DISCORD_EPOCH_MS = 1_420_070_400_000


def system_clock() -> datetime:
    return datetime.now(UTC)


class SnowflakeGenerator:
    """Discord ids: milliseconds since the Discord epoch in the top bits, so ids sort by time.

    Ids come from the emulator's clock (which tests may fake) but are kept strictly increasing,
    because history pagination (`before`/`after`) relies on id order even if a fake clock is set
    backwards.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last = 0

    def next(self) -> int:
        ms = int(self._clock().timestamp() * 1000) - DISCORD_EPOCH_MS
        candidate = max(ms, 0) << 22
        self._last = max(candidate, self._last + 1)
        return self._last


class ChannelType(enum.IntEnum):
    GUILD_TEXT = 0
    DM = 1
    GUILD_VOICE = 2
    GUILD_CATEGORY = 4
    GUILD_ANNOUNCEMENT = 5
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    GUILD_FORUM = 15

    @property
    def is_thread(self) -> bool:
        return self in (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD)


class MessageFlags(enum.IntFlag):
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7
    SUPPRESS_EMBEDS = 1 << 2


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    # Discord answers 50007 "Cannot send messages to this user" when the bot DMs such a user.
    dms_closed: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass
class Member:
    user: User
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = field(default_factory=system_clock)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention


@dataclass
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0


@dataclass
class Channel:
    id: int
    type: ChannelType
    guild_id: int | None
    name: str | None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    last_message_id: int | None = None
    # DM channels
    recipient_ids: list[int] = field(default_factory=list)
    # threads
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    archive_timestamp: datetime | None = None
    member_ids: set[int] = field(default_factory=set)
    message_count: int = 0
    applied_tags: list[int] = field(default_factory=list)
    # forums
    available_tags: list[JSON] = field(default_factory=list)

    @property
    def is_thread(self) -> bool:
        return self.type.is_thread

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"


@dataclass
class Attachment:
    id: int
    filename: str
    data: bytes
    content_type: str | None
    url: str
    description: str | None = None


@dataclass(frozen=True)
class Upload:
    """A file a member attaches to a slash command's attachment option."""

    filename: str
    data: bytes
    content_type: str | None = "text/plain"


@dataclass
class Reaction:
    """One emoji on a message: `key` is `name` for unicode or `name:id` for custom emoji."""

    key: str
    user_ids: list[int] = field(default_factory=list)

    @property
    def emoji(self) -> JSON:
        name, _, emoji_id = self.key.partition(":")
        return {"id": emoji_id or None, "name": name}


@dataclass
class Message:
    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    timestamp: datetime = field(default_factory=system_clock)
    edited_timestamp: datetime | None = None
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    message_reference: JSON | None = None
    # Who the message actually pings, after allowed_mentions and permissions.
    mentions: list[int] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None
    interaction_user_id: int | None = None
    thread_id: int | None = None
    # The sender's nonce: Discord echoes it in the create response and MESSAGE_CREATE only (a
    # fetched message has none), and with enforce_nonce it makes a resend return this message.
    nonce: str | None = None
    # Ephemeral messages are only seen by this user and never appear in channel history.
    visible_to: int | None = None
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MessageFlags.EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & MessageFlags.LOADING)

    def reaction(self, emoji: str) -> Reaction | None:
        return next((r for r in self.reactions if r.key == emoji), None)

    def all_components(self) -> list[JSON]:
        """Every component inside the message's rows and containers, depth first."""
        found: list[JSON] = []

        def walk(items: list[JSON]) -> None:
            for item in items:
                found.append(item)
                walk(item.get("components", []))
                if isinstance(item.get("component"), dict):
                    walk([item["component"]])
                if isinstance(item.get("accessory"), dict):
                    walk([item["accessory"]])

        walk(self.components)
        return found


@dataclass
class ScheduledEvent:
    id: int
    guild_id: int
    name: str
    scheduled_start_time: str
    entity_type: int
    creator_id: int
    privacy_level: int = 2
    status: int = 1
    description: str | None = None
    scheduled_end_time: str | None = None
    channel_id: int | None = None
    location: str | None = None


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)
    scheduled_events: dict[int, ScheduledEvent] = field(default_factory=dict)
    commands: list[JSON] = field(default_factory=list)  # guild commands synced by the bot

    @property
    def everyone_role(self) -> Role:
        return self.roles[self.id]
