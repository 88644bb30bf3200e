"""Thread routes: start from a message, start without one, forum posts, join and leave."""

from __future__ import annotations

from discord_emulator import messaging, rules, wire
from discord_emulator.errors import JSON, DiscordError
from discord_emulator.models import Channel, ChannelType
from discord_emulator.permissions import Permission
from discord_emulator.rest.channels import require
from discord_emulator.rest.framework import Ctx, RouteTable
from discord_emulator.state import EmulatorState, GatewayEvent, Intent

routes = RouteTable()

_ARCHIVE_DURATIONS = {60, 1440, 4320, 10080}


def _new_thread(
    ctx: Ctx, parent: Channel, body: JSON, kind: ChannelType, *, thread_id: int | None
) -> Channel:
    state = ctx.state
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise rules.form_error(("name",), "must be 1-100 characters long")
    duration = int(body.get("auto_archive_duration") or 1440)
    if duration not in _ARCHIVE_DURATIONS:
        raise rules.form_error(
            ("auto_archive_duration",), f"must be one of {sorted(_ARCHIVE_DURATIONS)}"
        )
    guild = state.channel_guild(parent)
    thread = state.add_channel(guild, name, kind, parent_id=parent.id, owner_id=state.bot_user.id)
    if thread_id is not None:
        # Discord gives a thread started from a message the message's id.
        state.channels.pop(thread.id)
        state.channel_messages.pop(thread.id)
        if guild is not None:
            guild.channel_ids.remove(thread.id)
            guild.channel_ids.append(thread_id)
        thread.id = thread_id
        state.channels[thread_id] = thread
        state.channel_messages[thread_id] = []
    thread.auto_archive_duration = duration
    thread.archive_timestamp = state.clock()
    thread.member_ids.add(state.bot_user.id)
    thread.applied_tags = [int(t) for t in body.get("applied_tags") or []]
    data = wire.channel(thread, state)
    data["newly_created"] = True
    state.emit(GatewayEvent("THREAD_CREATE", data, intent=Intent.GUILDS))
    return thread


def _check_parent(parent: Channel) -> None:
    if parent.type not in (
        ChannelType.GUILD_TEXT,
        ChannelType.GUILD_ANNOUNCEMENT,
        ChannelType.GUILD_FORUM,
    ):
        raise DiscordError(400, 50024, "Cannot execute action on this channel type")


@routes.route("POST", "/channels/{channel_id}/messages/{message_id}/threads")
async def start_thread_from_message(ctx: Ctx) -> JSON:
    state = ctx.state
    parent = state.channel(ctx.id("channel_id"))
    _check_parent(parent)
    message = state.message(parent.id, ctx.id("message_id"))
    require(ctx, parent, Permission.VIEW_CHANNEL | Permission.CREATE_PUBLIC_THREADS)
    if message.thread_id is not None:
        raise DiscordError(400, 160004, "A thread has already been created for this message")
    thread = _new_thread(ctx, parent, ctx.json(), ChannelType.PUBLIC_THREAD, thread_id=message.id)
    message.thread_id = thread.id
    messaging.publish_update(state, message)
    return wire.channel(thread, state)


@routes.route("POST", "/channels/{channel_id}/threads")
async def start_thread(ctx: Ctx) -> JSON:
    state = ctx.state
    parent = state.channel(ctx.id("channel_id"))
    _check_parent(parent)
    body = ctx.json()
    if parent.type == ChannelType.GUILD_FORUM:
        return _forum_post(ctx, parent, body)
    kind = ChannelType(int(body.get("type") or ChannelType.PRIVATE_THREAD))
    if not kind.is_thread:
        raise rules.form_error(("type",), "must be 11 or 12")
    needed = (
        Permission.CREATE_PUBLIC_THREADS
        if kind == ChannelType.PUBLIC_THREAD
        else Permission.CREATE_PRIVATE_THREADS
    )
    require(ctx, parent, Permission.VIEW_CHANNEL | needed)
    return wire.channel(_new_thread(ctx, parent, body, kind, thread_id=None), state)


def _forum_post(ctx: Ctx, forum: Channel, body: JSON) -> JSON:
    state = ctx.state
    require(ctx, forum, Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES)
    starter = body.get("message")
    if not isinstance(starter, dict):
        raise rules.form_error(("message",), "a forum post needs a starter message")
    rules.check_message(starter, has_files=bool(ctx.files)).raise_if_any()
    known_tags = {int(t["id"]) for t in forum.available_tags}
    for tag in body.get("applied_tags") or []:
        if int(tag) not in known_tags:
            raise rules.form_error(("applied_tags",), f"unknown forum tag {tag}")
    thread = _new_thread(ctx, forum, body, ChannelType.PUBLIC_THREAD, thread_id=None)
    message = messaging.build_message(state, thread, state.bot_user, starter, ctx.files)
    # A forum post's starter message has the thread's id.
    message.id = thread.id
    messaging.publish_create(state, message)
    data = wire.channel(thread, state)
    data["message"] = wire.message(message, state)
    return data


def _thread(ctx: Ctx) -> Channel:
    thread = ctx.state.channel(ctx.id("channel_id"))
    if not thread.is_thread:
        raise DiscordError(400, 50024, "Cannot execute action on this channel type")
    return thread


def _member_update(state: EmulatorState, thread: Channel, user_id: int, *, joined: bool) -> None:
    if joined and user_id == state.bot_user.id:
        data = wire.thread_member(thread, user_id, state)
        data["guild_id"] = str(thread.guild_id)
        state.emit(GatewayEvent("THREAD_MEMBER_UPDATE", data, intent=Intent.GUILDS))
        return
    data = {
        "id": str(thread.id),
        "guild_id": str(thread.guild_id),
        "member_count": len(thread.member_ids),
    }
    if joined:
        data["added_members"] = [wire.thread_member(thread, user_id, state)]
    else:
        data["removed_member_ids"] = [str(user_id)]
    state.emit(GatewayEvent("THREAD_MEMBERS_UPDATE", data, intent=Intent.GUILD_MEMBERS))


@routes.route("PUT", "/channels/{channel_id}/thread-members/@me")
async def join_thread(ctx: Ctx) -> None:
    thread = _thread(ctx)
    require(ctx, thread, Permission.VIEW_CHANNEL)
    if thread.archived:
        raise DiscordError(400, 50083, "Thread is archived")
    thread.member_ids.add(ctx.state.bot_user.id)
    _member_update(ctx.state, thread, ctx.state.bot_user.id, joined=True)


@routes.route("DELETE", "/channels/{channel_id}/thread-members/@me")
async def leave_thread(ctx: Ctx) -> None:
    thread = _thread(ctx)
    thread.member_ids.discard(ctx.state.bot_user.id)
    _member_update(ctx.state, thread, ctx.state.bot_user.id, joined=False)


@routes.route("PUT", "/channels/{channel_id}/thread-members/{user_id}")
async def add_thread_member(ctx: Ctx) -> None:
    thread = _thread(ctx)
    require(ctx, thread, Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES_IN_THREADS)
    user_id = ctx.state.user(ctx.id("user_id")).id
    thread.member_ids.add(user_id)
    _member_update(ctx.state, thread, user_id, joined=True)


@routes.route("DELETE", "/channels/{channel_id}/thread-members/{user_id}")
async def remove_thread_member(ctx: Ctx) -> None:
    thread = _thread(ctx)
    require(ctx, thread, Permission.MANAGE_THREADS)
    user_id = ctx.id("user_id")
    thread.member_ids.discard(user_id)
    _member_update(ctx.state, thread, user_id, joined=False)


@routes.route("GET", "/guilds/{guild_id}/threads/active")
async def active_threads(ctx: Ctx) -> JSON:
    state = ctx.state
    guild = state.guild(ctx.id("guild_id"))
    threads = [c for c in state.guild_channels(guild) if c.is_thread and not c.archived]
    return {
        "threads": [wire.channel(t, state) for t in threads],
        "members": [
            wire.thread_member(t, state.bot_user.id, state)
            for t in threads
            if state.bot_user.id in t.member_ids
        ],
    }
