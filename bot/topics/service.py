"""Topics, followers, visibility and pickers: the Discord-free side of topic channels."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.guilds.service import ensure_guild_row, record_audit
from bot.topics import rules
from bot.topics.models import Topic, TopicFollower, TopicPicker, TopicSettings
from bot.topics.records import (
    NewTopic,
    SuggestionInfo,
    TopicGuildSettings,
    TopicInfo,
    TopicState,
    broken_message,
    settings_of,
    topic_info,
)
from bot.unset import UNSET

__all__ = [
    "UNSET",
    "NewTopic",
    "SuggestionInfo",
    "TopicGuildSettings",
    "TopicInfo",
    "TopicService",
    "TopicState",
    "broken_message",
]


class TopicService:
    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    # --- settings -------------------------------------------------------------------------

    async def settings(self, guild_id: int) -> TopicGuildSettings:
        async with self._sessions() as session:
            row = await session.get(TopicSettings, guild_id)
        return settings_of(row, guild_id)

    async def update_settings(
        self,
        guild_id: int,
        guild_name: str,
        actor_id: int,
        *,
        visibility: str = UNSET,
        category_name: str = UNSET,
        ping_followers: bool = UNSET,
    ) -> TopicGuildSettings:
        changes: dict[str, Any] = {}
        if visibility is not UNSET:
            changes["visibility"] = rules.check_visibility(visibility)
        if category_name is not UNSET:
            cleaned = " ".join(category_name.split())
            if not 1 <= len(cleaned) <= rules.NAME_MAX - len(" archive"):
                raise UserFacingError("Category names are 1-92 characters.")
            changes["category_name"] = cleaned
        if ping_followers is not UNSET:
            changes["ping_followers"] = bool(ping_followers)
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            row = await _settings_row(session, guild_id)
            before = {key: getattr(row, key) for key in changes}
            for key, value in changes.items():
                setattr(row, key, value)
            if changes:
                await record_audit(
                    session,
                    guild_id=guild_id,
                    actor_id=actor_id,
                    action="topics.settings",
                    target="topics",
                    now=now,
                    details={"before": before, "after": changes},
                )
            return settings_of(row, guild_id)

    # --- reading --------------------------------------------------------------------------

    async def get(self, guild_id: int, topic_id: int) -> TopicInfo | None:
        return await self._one(guild_id, Topic.id == topic_id)

    async def by_name(self, guild_id: int, name: str) -> TopicInfo | None:
        return await self._one(guild_id, Topic.name_key == rules.name_key(name))

    async def by_channel(self, guild_id: int, channel_id: int) -> TopicInfo | None:
        return await self._one(guild_id, Topic.channel_id == channel_id)

    async def by_role(self, guild_id: int, role_id: int) -> TopicInfo | None:
        return await self._one(guild_id, Topic.role_id == role_id)

    async def active_topics(self, guild_id: int) -> list[TopicInfo]:
        """Topics members can follow now (not archived, not broken), by name."""
        topics = await self.all_topics(guild_id)
        return [t for t in topics if t.state == "active"]

    async def all_topics(self, guild_id: int) -> list[TopicInfo]:
        async with self._sessions() as session:
            rows = list(
                await session.scalars(
                    select(Topic).where(Topic.guild_id == guild_id).order_by(Topic.name_key)
                )
            )
            counts = await _follower_counts(session, guild_id)
        return [topic_info(row, counts.get(row.id, 0)) for row in rows]

    async def followed_by(self, guild_id: int, user_id: int) -> list[TopicInfo]:
        async with self._sessions() as session:
            rows = list(
                await session.scalars(
                    select(Topic)
                    .join(TopicFollower, TopicFollower.topic_id == Topic.id)
                    .where(Topic.guild_id == guild_id, TopicFollower.user_id == user_id)
                    .order_by(Topic.name_key)
                )
            )
            counts = await _follower_counts(session, guild_id, [row.id for row in rows])
        return [topic_info(row, counts.get(row.id, 0)) for row in rows]

    async def followers(self, guild_id: int, topic_id: int) -> list[int]:
        async with self._sessions() as session:
            return list(
                await session.scalars(
                    select(TopicFollower.user_id)
                    .where(TopicFollower.guild_id == guild_id, TopicFollower.topic_id == topic_id)
                    .order_by(TopicFollower.user_id)
                )
            )

    async def search(
        self, guild_id: int, text: str, limit: int = 25, *, include_archived: bool = False
    ) -> list[TopicInfo]:
        """Topics whose name contains `text` (prefix matches first), for autocomplete."""
        needle = rules.name_key(text)
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = select(Topic).where(
            Topic.guild_id == guild_id, Topic.name_key.like(pattern, escape="\\")
        )
        if not include_archived:
            query = query.where(Topic.state == "active", Topic.broken_reason.is_(None))
        async with self._sessions() as session:
            rows = list(await session.scalars(query.order_by(Topic.name_key).limit(500)))
            rows.sort(key=lambda r: (not r.name_key.startswith(needle), r.name_key))
            rows = rows[: max(0, min(limit, 25))]
            counts = await _follower_counts(session, guild_id, [r.id for r in rows])
        return [topic_info(row, counts.get(row.id, 0)) for row in rows]

    async def require(self, guild_id: int, name: str) -> TopicInfo:
        """The topic called `name`, or a friendly error."""
        topic = await self.by_name(guild_id, name)
        if topic is None:
            raise UserFacingError(f"There is no topic called “{rules.shorten_name(name)}”.")
        return topic

    async def require_if_named(self, guild_id: int, name: str | None) -> TopicInfo | None:
        """For an optional topic option: None when none was named, else `require`."""
        return None if name is None else await self.require(guild_id, name)

    # --- creating and changing --------------------------------------------------------------

    async def prepare(
        self,
        guild_id: int,
        name: str,
        *,
        description: str | None = None,
        emoji: str | None = None,
        tags: str | Sequence[str] | None = None,
        kind: str = "text",
    ) -> NewTopic:
        """Validate a new topic (names, duplicates) before anything is created on Discord."""
        cleaned = rules.clean_name(name)
        if await self.by_name(guild_id, cleaned) is not None:
            raise UserFacingError(f"A topic called “{cleaned}” already exists.")
        return NewTopic(
            name=cleaned,
            channel_name=rules.channel_name(cleaned),
            description=rules.clean_description(description),
            emoji=rules.clean_emoji(emoji),
            default_tags=_tags(tags),
            kind=rules.check_kind(kind),
        )

    async def create(
        self,
        guild_id: int,
        guild_name: str,
        actor_id: int,
        new: NewTopic,
        *,
        channel_id: int | None,
        role_id: int | None,
    ) -> TopicInfo:
        """Record a topic whose channel and role now exist; refuses a duplicate name."""
        now = self._clock.now()
        try:
            async with self._sessions() as session, session.begin():
                await ensure_guild_row(session, guild_id, guild_name, now)
                row = Topic(
                    guild_id=guild_id,
                    name=new.name,
                    name_key=rules.name_key(new.name),
                    description=new.description,
                    emoji=new.emoji,
                    channel_id=channel_id,
                    role_id=role_id,
                    default_tags=list(new.default_tags),
                    kind=new.kind,
                    state="active",
                    created_by=actor_id,
                    created_at=now,
                )
                session.add(row)
                await session.flush()
                await record_audit(
                    session,
                    guild_id=guild_id,
                    actor_id=actor_id,
                    action="topic.create",
                    target=new.name,
                    now=now,
                    details={"topic_id": row.id, "kind": new.kind},
                )
        except IntegrityError as error:
            raise UserFacingError(f"A topic called “{new.name}” already exists.") from error
        return topic_info(row, 0)

    async def edit(
        self,
        guild_id: int,
        actor_id: int,
        topic_id: int,
        *,
        name: str = UNSET,
        description: str | None = UNSET,
        emoji: str | None = UNSET,
        tags: str | Sequence[str] | None = UNSET,
    ) -> TopicInfo:
        changes: dict[str, Any] = {}
        if name is not UNSET:
            changes["name"] = rules.clean_name(name)
        if description is not UNSET:
            changes["description"] = rules.clean_description(description)
        if emoji is not UNSET:
            changes["emoji"] = rules.clean_emoji(emoji)
        if tags is not UNSET:
            changes["default_tags"] = list(_tags(tags))
        return await self._change(guild_id, topic_id, actor_id, "topic.edit", changes)

    async def archive(self, guild_id: int, actor_id: int, topic_id: int) -> TopicInfo:
        topic = await self._existing(guild_id, topic_id)
        if topic.archived:
            raise UserFacingError(f"“{topic.name}” is already archived.")
        return await self._change(
            guild_id,
            topic_id,
            actor_id,
            "topic.archive",
            {"state": "archived", "archived_at": self._clock.now()},
        )

    async def restore(self, guild_id: int, actor_id: int, topic_id: int) -> TopicInfo:
        topic = await self._existing(guild_id, topic_id)
        if not topic.archived:
            raise UserFacingError(f"“{topic.name}” is not archived.")
        return await self._change(
            guild_id, topic_id, actor_id, "topic.restore", {"state": "active", "archived_at": None}
        )

    async def mark_broken(
        self, guild_id: int, topic_id: int, reason: str, *, channel_gone: bool, role_gone: bool
    ) -> TopicInfo:
        """Record that the channel or role was removed outside the bot."""
        changes: dict[str, Any] = {"broken_reason": reason[:200]}
        if channel_gone:
            changes["channel_id"] = None
        if role_gone:
            changes["role_id"] = None
        return await self._change(guild_id, topic_id, None, "topic.broken", changes)

    async def repaired(
        self,
        guild_id: int,
        actor_id: int,
        topic_id: int,
        *,
        channel_id: int | None = UNSET,
        role_id: int | None = UNSET,
    ) -> TopicInfo:
        changes: dict[str, Any] = {"broken_reason": None}
        if channel_id is not UNSET:
            changes["channel_id"] = channel_id
        if role_id is not UNSET:
            changes["role_id"] = role_id
        return await self._change(guild_id, topic_id, actor_id, "topic.repair", changes)

    async def renamed_on_discord(self, guild_id: int, topic_id: int, name: str) -> TopicInfo | None:
        """Follow a rename done by hand; None when the new name is unusable or taken."""
        try:
            cleaned = rules.clean_name(name)
        except UserFacingError:
            return None
        current = await self._existing(guild_id, topic_id)
        if cleaned == current.name:
            return None
        other = await self.by_name(guild_id, cleaned)
        if other is not None and other.id != topic_id:
            return None
        try:
            return await self._change(guild_id, topic_id, None, "topic.renamed", {"name": cleaned})
        except UserFacingError:
            return None

    # --- following --------------------------------------------------------------------------

    async def follow(self, guild_id: int, user_id: int, topic_id: int) -> bool:
        """Follow an active topic; False when already following."""
        topic = await self._existing(guild_id, topic_id)
        _require_active(topic)
        try:
            async with self._sessions() as session, session.begin():
                if await session.get(TopicFollower, (topic_id, user_id)) is not None:
                    return False
                session.add(
                    TopicFollower(
                        topic_id=topic_id,
                        user_id=user_id,
                        guild_id=guild_id,
                        followed_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            return False  # a concurrent click already followed it
        return True

    async def unfollow(self, guild_id: int, user_id: int, topic_id: int) -> bool:
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(TopicFollower).where(
                    TopicFollower.guild_id == guild_id,
                    TopicFollower.topic_id == topic_id,
                    TopicFollower.user_id == user_id,
                )
            )
        return bool(getattr(result, "rowcount", 0))

    async def is_following(self, guild_id: int, user_id: int, topic_id: int) -> bool:
        async with self._sessions() as session:
            row = await session.get(TopicFollower, (topic_id, user_id))
        return row is not None and row.guild_id == guild_id

    async def member_left(self, guild_id: int, user_id: int) -> int:
        """A member left the guild: they stop following everything. Returns how many."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(TopicFollower).where(
                    TopicFollower.guild_id == guild_id, TopicFollower.user_id == user_id
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    # --- pickers ----------------------------------------------------------------------------

    async def add_picker(
        self, guild_id: int, guild_name: str, actor_id: int, channel_id: int, message_id: int
    ) -> None:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            session.add(
                TopicPicker(
                    message_id=message_id, guild_id=guild_id, channel_id=channel_id, created_at=now
                )
            )
            await record_audit(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action="topic.picker",
                target=str(channel_id),
                now=now,
                details={"message_id": message_id},
            )

    async def pickers(self, guild_id: int) -> list[tuple[int, int]]:
        """(channel_id, message_id) of every picker posted in the guild."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(TopicPicker.channel_id, TopicPicker.message_id).where(
                    TopicPicker.guild_id == guild_id
                )
            )
            return [(int(c), int(m)) for c, m in rows]

    async def remove_picker(self, guild_id: int, message_id: int) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(TopicPicker).where(
                    TopicPicker.guild_id == guild_id, TopicPicker.message_id == message_id
                )
            )

    # --- internals --------------------------------------------------------------------------

    async def _one(self, guild_id: int, condition: Any) -> TopicInfo | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(Topic).where(Topic.guild_id == guild_id, condition).limit(1)
            )
            if row is None:
                return None
            count = await session.scalar(
                select(func.count())
                .select_from(TopicFollower)
                .where(TopicFollower.topic_id == row.id)
            )
        return topic_info(row, count or 0)

    async def _existing(self, guild_id: int, topic_id: int) -> TopicInfo:
        topic = await self.get(guild_id, topic_id)
        if topic is None:
            raise UserFacingError("That topic no longer exists.")
        return topic

    async def _change(
        self,
        guild_id: int,
        topic_id: int,
        actor_id: int | None,
        action: str,
        changes: dict[str, Any],
    ) -> TopicInfo:
        now = self._clock.now()
        try:
            async with self._sessions() as session, session.begin():
                row = await session.get(Topic, topic_id)
                if row is None or row.guild_id != guild_id:
                    raise UserFacingError("That topic no longer exists.")
                if "name" in changes:
                    changes["name_key"] = rules.name_key(changes["name"])
                    if changes["name_key"] != row.name_key:
                        taken = await session.scalar(
                            select(Topic.id).where(
                                Topic.guild_id == guild_id,
                                Topic.name_key == changes["name_key"],
                                Topic.id != topic_id,
                            )
                        )
                        if taken is not None:
                            raise UserFacingError(
                                f"A topic called “{changes['name']}” already exists."
                            )
                before = {k: _jsonable(getattr(row, k)) for k in changes if k != "name_key"}
                for key, value in changes.items():
                    setattr(row, key, value)
                if actor_id is not None and changes:
                    await record_audit(
                        session,
                        guild_id=guild_id,
                        actor_id=actor_id,
                        action=action,
                        target=row.name,
                        now=now,
                        details={
                            "topic_id": topic_id,
                            "before": before,
                            "after": {
                                k: _jsonable(v) for k, v in changes.items() if k != "name_key"
                            },
                        },
                    )
                await session.flush()
                count = await session.scalar(
                    select(func.count())
                    .select_from(TopicFollower)
                    .where(TopicFollower.topic_id == topic_id)
                )
                return topic_info(row, count or 0)
        except IntegrityError as error:
            raise UserFacingError("A topic with that name already exists.") from error


def _require_active(topic: TopicInfo) -> None:
    if topic.state == "broken":
        raise UserFacingError(broken_message(topic))
    if topic.archived:
        raise UserFacingError(f"“{topic.name}” is archived; it can be read but not joined.")


def _tags(tags: str | Sequence[str] | None) -> tuple[str, ...]:
    if tags is None or isinstance(tags, str):
        return rules.parse_tags(tags)
    return rules.parse_tags(",".join(tags))


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def _settings_row(session: AsyncSession, guild_id: int) -> TopicSettings:
    row = await session.get(TopicSettings, guild_id)
    if row is None:
        row = TopicSettings(
            guild_id=guild_id, visibility="open", category_name="Topics", ping_followers=False
        )
        session.add(row)
        await session.flush()
    return row


async def _follower_counts(
    session: AsyncSession, guild_id: int, topic_ids: Sequence[int] | None = None
) -> dict[int, int]:
    query = select(TopicFollower.topic_id, func.count()).where(TopicFollower.guild_id == guild_id)
    if topic_ids is not None:
        if not topic_ids:
            return {}
        query = query.where(TopicFollower.topic_id.in_(topic_ids))
    rows = await session.execute(query.group_by(TopicFollower.topic_id))
    return {int(topic_id): int(count) for topic_id, count in rows}
