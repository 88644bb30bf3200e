"""Guild routes: the guild, its channels, roles, members and scheduled events."""

from __future__ import annotations

from datetime import datetime

from discord_emulator import rules, wire
from discord_emulator.errors import JSON, DiscordError, missing_permissions
from discord_emulator.models import ChannelType, Guild, Member, Role, ScheduledEvent
from discord_emulator.permissions import Permission, has, highest_role_position
from discord_emulator.rest.channels import _parse_overwrites, channel_event
from discord_emulator.rest.framework import Ctx, RouteTable
from discord_emulator.state import EmulatorState, GatewayEvent, Intent

routes = RouteTable()


def require_guild(ctx: Ctx, guild: Guild, needed: int) -> int:
    perms = ctx.state.bot_permissions(guild)
    if not has(perms, needed):
        raise missing_permissions()
    return perms


def _bot_member(state: EmulatorState, guild: Guild) -> Member:
    return guild.members[state.bot_user.id]


def _check_role_hierarchy(state: EmulatorState, guild: Guild, role: Role) -> None:
    """The bot may only manage roles strictly below its own highest role."""
    if role.position >= highest_role_position(guild, _bot_member(state, guild)) or role.managed:
        raise missing_permissions()


def member_update(state: EmulatorState, guild: Guild, member: Member) -> None:
    data = wire.member(member)
    data["guild_id"] = str(guild.id)
    state.emit(GatewayEvent("GUILD_MEMBER_UPDATE", data, intent=Intent.GUILD_MEMBERS))


def role_event(state: EmulatorState, name: str, role: Role) -> None:
    data: JSON = {"guild_id": str(role.guild_id)}
    if name == "GUILD_ROLE_DELETE":
        data["role_id"] = str(role.id)
    else:
        data["role"] = wire.role(role)
    state.emit(GatewayEvent(name, data, intent=Intent.GUILDS))


# --- guild and channels ------------------------------------------------------------------------


@routes.route("GET", "/guilds/{guild_id}")
async def get_guild(ctx: Ctx) -> JSON:
    guild = ctx.state.guild(ctx.id("guild_id"))
    data = wire.guild_object(guild)
    if ctx.query_flag("with_counts"):
        data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
    return data


@routes.route("GET", "/guilds/{guild_id}/channels")
async def get_guild_channels(ctx: Ctx) -> list[JSON]:
    state = ctx.state
    guild = state.guild(ctx.id("guild_id"))
    return [wire.channel(c, state) for c in state.guild_channels(guild) if not c.is_thread]


@routes.route("POST", "/guilds/{guild_id}/channels")
async def create_guild_channel(ctx: Ctx) -> JSON:
    state = ctx.state
    guild = state.guild(ctx.id("guild_id"))
    body = ctx.json()
    needed = Permission.MANAGE_CHANNELS
    if body.get("permission_overwrites"):
        needed |= Permission.MANAGE_ROLES
    require_guild(ctx, guild, needed)
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise rules.form_error(("name",), "must be 1-100 characters long")
    kind = ChannelType(int(body.get("type") or 0))
    if kind.is_thread or kind == ChannelType.DM:
        raise rules.form_error(("type",), f"cannot create a channel of type {int(kind)} here")
    parent_id = int(body["parent_id"]) if body.get("parent_id") else None
    if parent_id is not None and state.channel(parent_id).type != ChannelType.GUILD_CATEGORY:
        raise rules.form_error(("parent_id",), "parent must be a category")
    channel = state.add_channel(guild, name, kind, parent_id=parent_id, topic=body.get("topic"))
    channel.overwrites = _parse_overwrites(body.get("permission_overwrites") or [])
    if body.get("position") is not None:
        channel.position = int(body["position"])
    if kind == ChannelType.GUILD_FORUM:
        channel.available_tags = [
            {
                "moderated": False,
                "emoji_id": None,
                "emoji_name": None,
                **t,
                "id": str(state.snowflakes.next()),
            }
            for t in body.get("available_tags") or []
        ]
    channel_event(state, "CREATE", channel)
    return wire.channel(channel, state)


@routes.route("PATCH", "/guilds/{guild_id}/channels")
async def move_guild_channels(ctx: Ctx) -> None:
    state = ctx.state
    guild = state.guild(ctx.id("guild_id"))
    require_guild(ctx, guild, Permission.MANAGE_CHANNELS)
    if not isinstance(ctx.body, list):
        raise rules.form_error((), "expected an array")
    for item in ctx.body:
        channel = state.channel(int(item["id"]))
        if item.get("position") is not None:
            channel.position = int(item["position"])
        if "parent_id" in item:
            channel.parent_id = int(item["parent_id"]) if item["parent_id"] else None
        channel_event(state, "UPDATE", channel)


# --- roles -------------------------------------------------------------------------------------


@routes.route("GET", "/guilds/{guild_id}/roles")
async def get_roles(ctx: Ctx) -> list[JSON]:
    guild = ctx.state.guild(ctx.id("guild_id"))
    return [wire.role(r) for r in sorted(guild.roles.values(), key=lambda r: r.position)]


@routes.route("GET", "/guilds/{guild_id}/roles/{role_id}")
async def get_role(ctx: Ctx) -> JSON:
    guild = ctx.state.guild(ctx.id("guild_id"))
    return wire.role(ctx.state.role(guild, ctx.id("role_id")))


def _apply_role_body(ctx: Ctx, guild: Guild, role: Role, body: JSON, bot_perms: int) -> None:
    if "name" in body and body["name"] is not None:
        if not 1 <= len(str(body["name"])) <= 100:
            raise rules.form_error(("name",), "must be 1-100 characters long")
        role.name = str(body["name"])
    if "permissions" in body and body["permissions"] is not None:
        permissions = int(body["permissions"])
        if not bot_perms & Permission.ADMINISTRATOR and permissions & ~bot_perms:
            raise missing_permissions()  # a role cannot be given permissions the bot lacks
        role.permissions = permissions
    for key in ("color", "hoist", "mentionable"):
        if key in body and body[key] is not None:
            setattr(role, key, type(getattr(role, key))(body[key]))


@routes.route("POST", "/guilds/{guild_id}/roles")
async def create_role(ctx: Ctx) -> JSON:
    state = ctx.state
    guild = state.guild(ctx.id("guild_id"))
    bot_perms = require_guild(ctx, guild, Permission.MANAGE_ROLES)
    for existing in guild.roles.values():
        if existing.id != guild.id:
            existing.position += 1
    role = Role(id=state.snowflakes.next(), guild_id=guild.id, name="new role", position=1)
    _apply_role_body(ctx, guild, role, ctx.json(), bot_perms)
    guild.roles[role.id] = role
    role_event(state, "GUILD_ROLE_CREATE", role)
    return wire.role(role)


@routes.route("PATCH", "/guilds/{guild_id}/roles/{role_id}")
async def edit_role(ctx: Ctx) -> JSON:
    state = ctx.state
    guild = state.guild(ctx.id("guild_id"))
    role = state.role(guild, ctx.id("role_id"))
    bot_perms = require_guild(ctx, guild, Permission.MANAGE_ROLES)
    _check_role_hierarchy(state, guild, role)
    _apply_role_body(ctx, guild, role, ctx.json(), bot_perms)
    role_event(state, "GUILD_ROLE_UPDATE", role)
    return wire.role(role)


@routes.route("PATCH", "/guilds/{guild_id}/roles")
async def move_roles(ctx: Ctx) -> list[JSON]:
    state = ctx.state
    guild = state.guild(ctx.id("guild_id"))
    require_guild(ctx, guild, Permission.MANAGE_ROLES)
    if not isinstance(ctx.body, list):
        raise rules.form_error((), "expected an array")
    top = highest_role_position(guild, _bot_member(state, guild))
    for item in ctx.body:
        role = state.role(guild, int(item["id"]))
        _check_role_hierarchy(state, guild, role)
        position = int(item.get("position") or 0)
        if position >= top:
            raise missing_permissions()
        role.position = position
        role_event(state, "GUILD_ROLE_UPDATE", role)
    return [wire.role(r) for r in sorted(guild.roles.values(), key=lambda r: r.position)]


@routes.route("DELETE", "/guilds/{guild_id}/roles/{role_id}")
async def delete_role(ctx: Ctx) -> None:
    state = ctx.state
    guild = state.guild(ctx.id("guild_id"))
    role = state.role(guild, ctx.id("role_id"))
    require_guild(ctx, guild, Permission.MANAGE_ROLES)
    _check_role_hierarchy(state, guild, role)
    del guild.roles[role.id]
    for member in guild.members.values():
        if role.id in member.roles:
            member.roles.remove(role.id)
    role_event(state, "GUILD_ROLE_DELETE", role)


# --- members -----------------------------------------------------------------------------------


@routes.route("GET", "/guilds/{guild_id}/members")
async def list_members(ctx: Ctx) -> list[JSON]:
    guild = ctx.state.guild(ctx.id("guild_id"))
    after = int(ctx.request.query.get("after", "0"))
    limit = int(ctx.request.query.get("limit", "1"))
    members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
    return [wire.member(m) for m in members[:limit]]


@routes.route("GET", "/guilds/{guild_id}/members/{user_id}")
async def get_member(ctx: Ctx) -> JSON:
    guild = ctx.state.guild(ctx.id("guild_id"))
    return wire.member(ctx.state.member(guild, ctx.id("user_id")))


@routes.route("PATCH", "/guilds/{guild_id}/members/{user_id}")
async def edit_member(ctx: Ctx) -> JSON:
    state = ctx.state
    guild = state.guild(ctx.id("guild_id"))
    member = state.member(guild, ctx.id("user_id"))
    body = ctx.json()
    if "nick" in body:
        require_guild(ctx, guild, Permission.MANAGE_NICKNAMES)
        member.nick = body["nick"]
    if "roles" in body:
        require_guild(ctx, guild, Permission.MANAGE_ROLES)
        wanted = [int(r) for r in body["roles"] or []]
        for role_id in set(wanted) ^ set(member.roles):
            _check_role_hierarchy(state, guild, state.role(guild, role_id))
        member.roles = wanted
    member_update(state, guild, member)
    return wire.member(member)


async def _change_member_role(ctx: Ctx, *, add: bool) -> None:
    state = ctx.state
    guild = state.guild(ctx.id("guild_id"))
    member = state.member(guild, ctx.id("user_id"))
    role = state.role(guild, ctx.id("role_id"))
    require_guild(ctx, guild, Permission.MANAGE_ROLES)
    _check_role_hierarchy(state, guild, role)
    if add and role.id not in member.roles:
        member.roles.append(role.id)
    elif not add and role.id in member.roles:
        member.roles.remove(role.id)
    else:
        return
    member_update(state, guild, member)


@routes.route("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def add_member_role(ctx: Ctx) -> None:
    await _change_member_role(ctx, add=True)


@routes.route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def remove_member_role(ctx: Ctx) -> None:
    await _change_member_role(ctx, add=False)


# --- scheduled events --------------------------------------------------------------------------

EXTERNAL = 3


def _event_event(state: EmulatorState, name: str, event: ScheduledEvent) -> None:
    state.emit(
        GatewayEvent(name, wire.scheduled_event(event, state), intent=Intent.GUILD_SCHEDULED_EVENTS)
    )


def _apply_event_body(ctx: Ctx, event: ScheduledEvent, body: JSON, *, creating: bool) -> None:
    if "name" in body:
        if not isinstance(body["name"], str) or not 1 <= len(body["name"]) <= 100:
            raise rules.form_error(("name",), "must be 1-100 characters long")
        event.name = body["name"]
    if "description" in body:
        if body["description"] is not None and len(body["description"]) > 1000:
            raise rules.form_error(("description",), "must be 1000 or fewer in length")
        event.description = body["description"]
    for key in ("scheduled_start_time", "scheduled_end_time"):
        if key in body and body[key] is not None:
            try:
                datetime.fromisoformat(str(body[key]))
            except ValueError:
                raise rules.form_error((key,), "not an ISO8601 timestamp") from None
            setattr(event, key, str(body[key]))
    for key in ("entity_type", "privacy_level", "status"):
        if key in body and body[key] is not None:
            setattr(event, key, int(body[key]))
    if "channel_id" in body:
        event.channel_id = int(body["channel_id"]) if body["channel_id"] else None
    if "entity_metadata" in body:
        event.location = (body["entity_metadata"] or {}).get("location")
    start = datetime.fromisoformat(event.scheduled_start_time)
    if creating and start <= ctx.state.clock():
        raise rules.form_error(("scheduled_start_time",), "Cannot schedule an event in the past")
    if event.entity_type == EXTERNAL and (not event.location or not event.scheduled_end_time):
        raise rules.form_error(
            ("entity_metadata",), "external events need a location and an end time"
        )
    if event.entity_type != EXTERNAL and event.channel_id is None:
        raise rules.form_error(("channel_id",), "stage and voice events need a channel")


@routes.route("GET", "/guilds/{guild_id}/scheduled-events")
async def list_events(ctx: Ctx) -> list[JSON]:
    guild = ctx.state.guild(ctx.id("guild_id"))
    return [wire.scheduled_event(e, ctx.state) for e in guild.scheduled_events.values()]


def _event(ctx: Ctx, guild: Guild) -> ScheduledEvent:
    event = guild.scheduled_events.get(ctx.id("guild_scheduled_event_id"))
    if event is None:
        raise DiscordError(404, 10070, "Unknown Guild Scheduled Event")
    return event


@routes.route("GET", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}")
async def get_event(ctx: Ctx) -> JSON:
    guild = ctx.state.guild(ctx.id("guild_id"))
    return wire.scheduled_event(_event(ctx, guild), ctx.state)


@routes.route("POST", "/guilds/{guild_id}/scheduled-events")
async def create_event(ctx: Ctx) -> JSON:
    state = ctx.state
    guild = state.guild(ctx.id("guild_id"))
    perms = state.bot_permissions(guild)
    if not perms & (Permission.MANAGE_EVENTS | Permission.CREATE_EVENTS):
        raise missing_permissions()
    body = ctx.json()
    event = ScheduledEvent(
        id=state.snowflakes.next(),
        guild_id=guild.id,
        name="",
        scheduled_start_time="",
        entity_type=int(body.get("entity_type") or 0),
        creator_id=state.bot_user.id,
    )
    for key in ("name", "scheduled_start_time"):
        if not body.get(key):
            raise rules.form_error((key,), "This field is required")
    _apply_event_body(ctx, event, body, creating=True)
    guild.scheduled_events[event.id] = event
    _event_event(state, "GUILD_SCHEDULED_EVENT_CREATE", event)
    return wire.scheduled_event(event, state)


@routes.route("PATCH", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}")
async def edit_event(ctx: Ctx) -> JSON:
    state = ctx.state
    guild = state.guild(ctx.id("guild_id"))
    event = _event(ctx, guild)
    perms = state.bot_permissions(guild)
    own = event.creator_id == state.bot_user.id and perms & Permission.CREATE_EVENTS
    if not own and not perms & Permission.MANAGE_EVENTS:
        raise missing_permissions()
    _apply_event_body(ctx, event, ctx.json(), creating=False)
    _event_event(state, "GUILD_SCHEDULED_EVENT_UPDATE", event)
    return wire.scheduled_event(event, state)


@routes.route("DELETE", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}")
async def delete_event(ctx: Ctx) -> None:
    state = ctx.state
    guild = state.guild(ctx.id("guild_id"))
    event = _event(ctx, guild)
    perms = state.bot_permissions(guild)
    own = event.creator_id == state.bot_user.id and perms & Permission.CREATE_EVENTS
    if not own and not perms & Permission.MANAGE_EVENTS:
        raise missing_permissions()
    del guild.scheduled_events[event.id]
    _event_event(state, "GUILD_SCHEDULED_EVENT_DELETE", event)
