"""Channel routes: channels, messages, reactions, permission overwrites, threads and DMs."""

from __future__ import annotations

from urllib.parse import unquote

from discord_emulator import messaging, rules, wire
from discord_emulator.errors import JSON, DiscordError, missing_permissions
from discord_emulator.models import Channel, ChannelType, Message, Overwrite, Reaction
from discord_emulator.permissions import Permission, has
from discord_emulator.rest.framework import Ctx, RouteTable
from discord_emulator.state import EmulatorState, GatewayEvent, Happening, Intent

routes = RouteTable()


def require(ctx: Ctx, channel: Channel, needed: int) -> None:
    """403 50013 unless the bot has every permission in `needed` in the channel (or its guild)."""
    guild = ctx.state.channel_guild(channel)
    if guild is None:
        return
    perms = ctx.state.bot_permissions(guild, channel)
    if not perms & Permission.VIEW_CHANNEL:
        raise DiscordError(403, 50001, "Missing Access")
    if not has(perms, needed):
        raise missing_permissions()


def channel_event(state: EmulatorState, name: str, channel: Channel) -> None:
    if channel.guild_id is None:
        return
    prefix = "THREAD" if channel.is_thread else "CHANNEL"
    state.emit(GatewayEvent(f"{prefix}_{name}", wire.channel(channel, state), intent=Intent.GUILDS))


# --- channels ----------------------------------------------------------------------------------


@routes.route("GET", "/channels/{channel_id}")
async def get_channel(ctx: Ctx) -> JSON:
    channel = ctx.state.channel(ctx.id("channel_id"))
    require(ctx, channel, Permission.VIEW_CHANNEL)
    return wire.channel(channel, ctx.state)


def _manage_permission(ctx: Ctx, channel: Channel) -> int:
    if channel.is_thread:
        if channel.owner_id == ctx.state.bot_user.id:
            return Permission.VIEW_CHANNEL
        return Permission.MANAGE_THREADS
    return Permission.MANAGE_CHANNELS


def _parse_overwrites(raw: list[JSON]) -> list[Overwrite]:
    return [
        Overwrite(
            id=int(o["id"]),
            type=int(o.get("type", 0)),
            allow=int(o.get("allow") or 0),
            deny=int(o.get("deny") or 0),
        )
        for o in raw
    ]


@routes.route("PATCH", "/channels/{channel_id}")
async def edit_channel(ctx: Ctx) -> JSON:
    state = ctx.state
    channel = state.channel(ctx.id("channel_id"))
    body = ctx.json()
    needed = _manage_permission(ctx, channel)
    if "permission_overwrites" in body:
        needed |= Permission.MANAGE_ROLES
    if (
        channel.is_thread
        and set(body) <= {"archived", "locked"}
        and channel.owner_id == state.bot_user.id
    ):
        needed = Permission.VIEW_CHANNEL
    require(ctx, channel, needed)
    if "name" in body:
        if not isinstance(body["name"], str) or not 1 <= len(body["name"]) <= 100:
            raise rules.form_error(("name",), "must be 1-100 characters long")
        channel.name = body["name"]
    if "topic" in body:
        if body["topic"] is not None and len(body["topic"]) > 1024:
            raise rules.form_error(("topic",), "must be 1024 or fewer in length")
        channel.topic = body["topic"]
    if "parent_id" in body:
        parent = int(body["parent_id"]) if body["parent_id"] else None
        if parent is not None and state.channel(parent).type != ChannelType.GUILD_CATEGORY:
            raise rules.form_error(("parent_id",), "parent must be a category")
        channel.parent_id = parent
    if "position" in body and body["position"] is not None:
        channel.position = int(body["position"])
    if "permission_overwrites" in body:
        channel.overwrites = _parse_overwrites(body["permission_overwrites"] or [])
    if "archived" in body:
        channel.archived = bool(body["archived"])
        channel.archive_timestamp = state.clock()
    if "locked" in body:
        channel.locked = bool(body["locked"])
    if "auto_archive_duration" in body:
        channel.auto_archive_duration = int(body["auto_archive_duration"])
    if "applied_tags" in body:
        channel.applied_tags = [int(t) for t in body["applied_tags"] or []]
    if "available_tags" in body:
        channel.available_tags = [
            {**t, "id": t.get("id") or str(state.snowflakes.next())}
            for t in body["available_tags"] or []
        ]
    channel_event(state, "UPDATE", channel)
    return wire.channel(channel, state)


@routes.route("DELETE", "/channels/{channel_id}")
async def delete_channel(ctx: Ctx) -> JSON:
    state = ctx.state
    channel = state.channel(ctx.id("channel_id"))
    require(ctx, channel, _manage_permission(ctx, channel))
    data = wire.channel(channel, state)
    del state.channels[channel.id]
    guild = state.channel_guild(channel)
    if guild is not None:
        guild.channel_ids.remove(channel.id)
    channel_event_data = GatewayEvent(
        "THREAD_DELETE" if channel.is_thread else "CHANNEL_DELETE",
        data
        if not channel.is_thread
        else {
            "id": str(channel.id),
            "guild_id": data["guild_id"],
            "parent_id": data["parent_id"],
            "type": data["type"],
        },
        intent=Intent.GUILDS,
    )
    state.emit(channel_event_data)
    return data


@routes.route("PUT", "/channels/{channel_id}/permissions/{overwrite_id}")
async def put_overwrite(ctx: Ctx) -> None:
    state = ctx.state
    channel = state.channel(ctx.id("channel_id"))
    require(ctx, channel, Permission.MANAGE_ROLES)
    body = ctx.json()
    overwrite_id = ctx.id("overwrite_id")
    guild = state.channel_guild(channel)
    if guild is not None:
        # Discord refuses to grant, through an overwrite, a permission the bot does not hold.
        granted = int(body.get("allow") or 0) | int(body.get("deny") or 0)
        bot_perms = state.bot_permissions(guild, channel)
        if not bot_perms & Permission.ADMINISTRATOR and granted & ~bot_perms:
            raise missing_permissions()
    channel.overwrites = [o for o in channel.overwrites if o.id != overwrite_id]
    channel.overwrites.append(
        Overwrite(
            overwrite_id,
            int(body.get("type", 0)),
            int(body.get("allow") or 0),
            int(body.get("deny") or 0),
        )
    )
    channel_event(state, "UPDATE", channel)


@routes.route("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}")
async def delete_overwrite(ctx: Ctx) -> None:
    state = ctx.state
    channel = state.channel(ctx.id("channel_id"))
    require(ctx, channel, Permission.MANAGE_ROLES)
    overwrite_id = ctx.id("overwrite_id")
    channel.overwrites = [o for o in channel.overwrites if o.id != overwrite_id]
    channel_event(state, "UPDATE", channel)


# --- messages ----------------------------------------------------------------------------------


@routes.route("GET", "/channels/{channel_id}/messages")
async def list_messages(ctx: Ctx) -> list[JSON]:
    state = ctx.state
    channel = state.channel(ctx.id("channel_id"))
    require(ctx, channel, Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY)
    query = ctx.request.query
    limit = int(query.get("limit", "50"))
    if not 1 <= limit <= 100:
        raise rules.form_error(("limit",), "must be between 1 and 100")
    history = state.history(channel.id)
    if "after" in query:
        after = int(query["after"])
        picked = [m for m in history if m.id > after][:limit]
    elif "around" in query:
        around = int(query["around"])
        older = [m for m in history if m.id <= around][-(limit - limit // 2) :]
        newer = [m for m in history if m.id > around][: limit // 2]
        picked = older + newer
    else:
        before = int(query["before"]) if "before" in query else None
        picked = [m for m in history if before is None or m.id < before][-limit:]
    # Discord returns newest first.
    return [wire.message(m, state) for m in sorted(picked, key=lambda m: m.id, reverse=True)]


@routes.route("GET", "/channels/{channel_id}/messages/{message_id}")
async def get_message(ctx: Ctx) -> JSON:
    state = ctx.state
    channel = state.channel(ctx.id("channel_id"))
    require(ctx, channel, Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY)
    message = state.message(channel.id, ctx.id("message_id"))
    if message.visible_to is not None:
        raise DiscordError(404, 10008, "Unknown Message")
    return wire.message(message, state)


@routes.route("POST", "/channels/{channel_id}/messages")
async def create_message(ctx: Ctx) -> JSON:
    state = ctx.state
    channel = state.channel(ctx.id("channel_id"))
    body = ctx.json()
    if channel.type == ChannelType.DM:
        recipient = state.users[channel.recipient_ids[0]]
        if recipient.dms_closed:
            raise DiscordError(403, 50007, "Cannot send messages to this user")
    else:
        require(ctx, channel, Permission.VIEW_CHANNEL)
        messaging.check_can_send(state, channel, state.bot_user, body)
        if ctx.files:
            require(ctx, channel, Permission.ATTACH_FILES)
    if channel.type in (ChannelType.GUILD_CATEGORY, ChannelType.GUILD_FORUM):
        raise DiscordError(400, 50008, "Cannot send messages in a non-text channel")
    rules.check_message(body, has_files=bool(ctx.files)).raise_if_any()
    earlier = messaging.sent_before(state, state.bot_user, body)
    if earlier is not None:  # a resend inside the nonce window: the first message, again
        return messaging.created(earlier, state)
    reference = body.get("message_reference")
    if reference and reference.get("message_id"):
        state.message(int(reference.get("channel_id") or channel.id), int(reference["message_id"]))
    message = messaging.build_message(state, channel, state.bot_user, body, ctx.files)
    messaging.publish_create(state, message)
    return messaging.created(message, state)


@routes.route("PATCH", "/channels/{channel_id}/messages/{message_id}")
async def edit_message(ctx: Ctx) -> JSON:
    state = ctx.state
    channel = state.channel(ctx.id("channel_id"))
    message = state.message(channel.id, ctx.id("message_id"))
    require(ctx, channel, Permission.VIEW_CHANNEL)
    body = ctx.json()
    if message.author.id != state.bot_user.id:
        if set(body) - {"flags"}:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        require(ctx, channel, Permission.MANAGE_MESSAGES)
    rules.check_message(body, has_files=bool(ctx.files), is_edit=True).raise_if_any()
    messaging.apply_edit(state, message, body, ctx.files)
    return wire.message(message, state)


@routes.route("DELETE", "/channels/{channel_id}/messages/{message_id}")
async def delete_message(ctx: Ctx) -> None:
    state = ctx.state
    channel = state.channel(ctx.id("channel_id"))
    message = state.message(channel.id, ctx.id("message_id"))
    if message.author.id != state.bot_user.id:
        require(ctx, channel, Permission.MANAGE_MESSAGES)
    messaging.delete(state, message)


# --- reactions ---------------------------------------------------------------------------------


def emoji_key(raw: str) -> str:
    """`name` for unicode emoji, `name:id` for custom ones (the URL form Discord accepts)."""
    return unquote(raw)


def reaction_event(
    state: EmulatorState, name: str, message: Message, key: str, user_id: int
) -> None:
    channel = state.channels[message.channel_id]
    data: JSON = {
        "user_id": str(user_id),
        "channel_id": str(message.channel_id),
        "message_id": str(message.id),
        "emoji": Reaction(key).emoji,
        "burst": False,
        "type": 0,
    }
    if message.guild_id is not None:
        data["guild_id"] = str(message.guild_id)
        guild = state.guilds[message.guild_id]
        member = guild.members.get(user_id)
        if name == "MESSAGE_REACTION_ADD" and member is not None:
            data["member"] = wire.member(member)
            data["message_author_id"] = str(message.author.id)
    state.emit(GatewayEvent(name, data, intent=messaging.reaction_intent(channel)))


def add_reaction(state: EmulatorState, message: Message, key: str, user_id: int) -> bool:
    reaction = message.reaction(key)
    if reaction is None:
        reaction = Reaction(key)
        message.reactions.append(reaction)
    if user_id in reaction.user_ids:
        return False
    reaction.user_ids.append(user_id)
    state.tell(Happening("reaction", message=message, user=state.users.get(user_id), emoji=key))
    reaction_event(state, "MESSAGE_REACTION_ADD", message, key, user_id)
    return True


def remove_reaction(state: EmulatorState, message: Message, key: str, user_id: int) -> bool:
    reaction = message.reaction(key)
    if reaction is None or user_id not in reaction.user_ids:
        return False
    reaction.user_ids.remove(user_id)
    if not reaction.user_ids:
        message.reactions.remove(reaction)
    reaction_event(state, "MESSAGE_REACTION_REMOVE", message, key, user_id)
    return True


@routes.route("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me")
async def put_own_reaction(ctx: Ctx) -> None:
    state = ctx.state
    channel = state.channel(ctx.id("channel_id"))
    message = state.message(channel.id, ctx.id("message_id"))
    key = emoji_key(ctx.params["emoji_name"])
    needed = Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY
    if message.reaction(key) is None:
        needed |= Permission.ADD_REACTIONS
    require(ctx, channel, needed)
    add_reaction(state, message, key, state.bot_user.id)


@routes.route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me")
async def delete_own_reaction(ctx: Ctx) -> None:
    state = ctx.state
    channel = state.channel(ctx.id("channel_id"))
    message = state.message(channel.id, ctx.id("message_id"))
    remove_reaction(state, message, emoji_key(ctx.params["emoji_name"]), state.bot_user.id)


@routes.route(
    "DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/{user_id}"
)
async def delete_user_reaction(ctx: Ctx) -> None:
    state = ctx.state
    channel = state.channel(ctx.id("channel_id"))
    message = state.message(channel.id, ctx.id("message_id"))
    require(ctx, channel, Permission.MANAGE_MESSAGES)
    remove_reaction(state, message, emoji_key(ctx.params["emoji_name"]), ctx.id("user_id"))


@routes.route("GET", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}")
async def get_reactions(ctx: Ctx) -> list[JSON]:
    state = ctx.state
    channel = state.channel(ctx.id("channel_id"))
    require(ctx, channel, Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY)
    message = state.message(channel.id, ctx.id("message_id"))
    reaction = message.reaction(emoji_key(ctx.params["emoji_name"]))
    if reaction is None:
        return []
    after = int(ctx.request.query.get("after", "0"))
    limit = int(ctx.request.query.get("limit", "25"))
    users = sorted(u for u in reaction.user_ids if u > after)[:limit]
    return [wire.user(state.users[u]) for u in users]


# --- DMs ---------------------------------------------------------------------------------------


@routes.route("POST", "/users/@me/channels")
async def create_dm(ctx: Ctx) -> JSON:
    state = ctx.state
    recipient = state.user(int(ctx.json()["recipient_id"]))
    return wire.channel(state.dm_channel(recipient), state)
