"""Serialise the emulator's objects as Discord API v10 JSON (ids as strings, ISO timestamps)."""

from __future__ import annotations

from datetime import datetime

from discord_emulator.errors import JSON
from discord_emulator.models import (
    Attachment,
    Channel,
    ChannelType,
    Guild,
    Member,
    Message,
    Role,
    ScheduledEvent,
    User,
)
from discord_emulator.state import EmulatorState


def snowflake(value: int | None) -> str | None:
    return None if value is None else str(value)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def user(u: User) -> JSON:
    return {
        "id": str(u.id),
        "username": u.username,
        "discriminator": "0",
        "global_name": u.global_name,
        "avatar": None,
        "bot": u.bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": None,
    }


def member(m: Member, *, with_user: bool = True) -> JSON:
    data: JSON = {
        "roles": [str(r) for r in m.roles],
        "nick": m.nick,
        "avatar": None,
        "joined_at": iso(m.joined_at),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "premium_since": None,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = user(m.user)
    return data


def role(r: Role) -> JSON:
    return {
        "id": str(r.id),
        "name": r.name,
        "color": r.color,
        "colors": {"primary_color": r.color, "secondary_color": None, "tertiary_color": None},
        "hoist": r.hoist,
        "icon": None,
        "unicode_emoji": None,
        "position": r.position,
        "permissions": str(r.permissions),
        "managed": r.managed,
        "mentionable": r.mentionable,
        "flags": 0,
    }


def channel(c: Channel, state: EmulatorState) -> JSON:
    data: JSON = {"id": str(c.id), "type": int(c.type), "flags": 0}
    if c.type == ChannelType.DM:
        data["recipients"] = [user(state.users[u]) for u in c.recipient_ids]
        data["last_message_id"] = snowflake(c.last_message_id)
        return data
    data.update(
        guild_id=snowflake(c.guild_id),
        name=c.name,
        parent_id=snowflake(c.parent_id),
        rate_limit_per_user=0,
        nsfw=False,
    )
    if c.is_thread:
        data.update(
            owner_id=snowflake(c.owner_id),
            last_message_id=snowflake(c.last_message_id),
            message_count=c.message_count,
            total_message_sent=c.message_count,
            member_count=len(c.member_ids),
            applied_tags=[str(t) for t in c.applied_tags],
            thread_metadata={
                "archived": c.archived,
                "locked": c.locked,
                "auto_archive_duration": c.auto_archive_duration,
                "archive_timestamp": iso(c.archive_timestamp) or state.now_iso(),
                "create_timestamp": state.now_iso(),
                "invitable": True,
            },
        )
        if state.bot_user.id in c.member_ids:
            data["member"] = thread_member(c, state.bot_user.id, state)
        return data
    data.update(
        position=c.position,
        permission_overwrites=[
            {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
            for o in c.overwrites
        ],
    )
    if c.type in (ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT, ChannelType.GUILD_FORUM):
        data.update(topic=c.topic, last_message_id=snowflake(c.last_message_id))
    if c.type == ChannelType.GUILD_FORUM:
        data.update(
            available_tags=c.available_tags,
            default_reaction_emoji=None,
            default_sort_order=None,
            default_forum_layout=0,
            default_thread_rate_limit_per_user=0,
        )
    if c.type == ChannelType.GUILD_VOICE:
        data.update(bitrate=64000, user_limit=0, rtc_region=None)
    return data


def thread_member(thread: Channel, user_id: int, state: EmulatorState) -> JSON:
    return {
        "id": str(thread.id),
        "user_id": str(user_id),
        "join_timestamp": state.now_iso(),
        "flags": 0,
    }


def attachment(a: Attachment) -> JSON:
    data: JSON = {
        "id": str(a.id),
        "filename": a.filename,
        "size": len(a.data),
        "url": a.url,
        "proxy_url": a.url,
    }
    if a.content_type:
        data["content_type"] = a.content_type
    if a.description:
        data["description"] = a.description
    return data


def message(m: Message, state: EmulatorState) -> JSON:
    data: JSON = {
        "id": str(m.id),
        "channel_id": str(m.channel_id),
        "type": m.type,
        "author": user(m.author),
        "content": m.content,
        "timestamp": iso(m.timestamp),
        "edited_timestamp": iso(m.edited_timestamp),
        "tts": False,
        "mention_everyone": m.mention_everyone,
        "mentions": [user(state.users[u]) for u in m.mentions if u in state.users],
        "mention_roles": [str(r) for r in m.mention_roles],
        "attachments": [attachment(a) for a in m.attachments],
        "embeds": m.embeds,
        "components": m.components,
        "reactions": [
            {
                "count": len(r.user_ids),
                "count_details": {"burst": 0, "normal": len(r.user_ids)},
                "me": state.bot_user.id in r.user_ids,
                "me_burst": False,
                "burst_colors": [],
                "emoji": r.emoji,
            }
            for r in m.reactions
            if r.user_ids
        ],
        "pinned": False,
        "flags": m.flags,
    }
    if not data["reactions"]:
        del data["reactions"]
    if m.guild_id is not None:
        data["guild_id"] = str(m.guild_id)
        guild = state.guilds.get(m.guild_id)
        author_member = guild.members.get(m.author.id) if guild else None
        if author_member is not None and m.webhook_id is None:
            data["member"] = member(author_member, with_user=False)
    if m.message_reference is not None:
        data["message_reference"] = m.message_reference
        ref_id = m.message_reference.get("message_id")
        referenced = state.messages.get(int(ref_id)) if ref_id else None
        if referenced is not None and m.type == 19:
            data["referenced_message"] = message(referenced, state)
    if m.webhook_id is not None:
        data["webhook_id"] = str(m.webhook_id)
    if m.application_id is not None:
        data["application_id"] = str(m.application_id)
    if m.interaction_id is not None and m.interaction_user_id is not None:
        interaction = state.interactions.get(m.interaction_id)
        data["interaction_metadata"] = {
            "id": str(m.interaction_id),
            "type": interaction.type if interaction else 2,
            "user": user(state.users[m.interaction_user_id]),
            "authorizing_integration_owners": {},
        }
    if m.thread_id is not None and m.thread_id in state.channels:
        data["thread"] = channel(state.channels[m.thread_id], state)
    return data


def scheduled_event(e: ScheduledEvent, state: EmulatorState) -> JSON:
    return {
        "id": str(e.id),
        "guild_id": str(e.guild_id),
        "channel_id": snowflake(e.channel_id),
        "creator_id": str(e.creator_id),
        "creator": user(state.users[e.creator_id]),
        "name": e.name,
        "description": e.description,
        "scheduled_start_time": e.scheduled_start_time,
        "scheduled_end_time": e.scheduled_end_time,
        "privacy_level": e.privacy_level,
        "status": e.status,
        "entity_type": e.entity_type,
        "entity_id": None,
        "entity_metadata": {"location": e.location} if e.location else None,
        "user_count": 0,
        "image": None,
        "recurrence_rule": None,
    }


def guild(g: Guild, state: EmulatorState, *, include_members: bool) -> JSON:
    """The full GUILD_CREATE payload (channels, roles, threads, members, events)."""
    channels = state.guild_channels(g)
    members = list(g.members.values()) if include_members else []
    if not include_members and state.bot_user.id in g.members:
        members = [g.members[state.bot_user.id]]
    data = guild_object(g)
    data.update(
        joined_at=state.now_iso(),
        large=False,
        unavailable=False,
        member_count=len(g.members),
        members=[member(m) for m in members],
        channels=[channel(c, state) for c in channels if not c.is_thread],
        threads=[channel(c, state) for c in channels if c.is_thread and not c.archived],
        presences=[],
        voice_states=[],
        stage_instances=[],
        soundboard_sounds=[],
        guild_scheduled_events=[scheduled_event(e, state) for e in g.scheduled_events.values()],
    )
    return data


def guild_object(g: Guild) -> JSON:
    """The REST `GET /guilds/{id}` guild (no members or channels)."""
    return {
        "id": str(g.id),
        "name": g.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(g.owner_id),
        "region": "deprecated",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "widget_enabled": False,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [role(r) for r in g.roles.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "nsfw": False,
        "max_members": 500000,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "incidents_data": None,
    }
