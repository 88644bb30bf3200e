"""Build the INTERACTION_CREATE payloads a member's client would send, from the command schema
the bot actually synced. A command that was not synced, an unknown or missing required option,
or a value of the wrong type raises `EmulatorUsageError`, as Discord's client would refuse it."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from discord_emulator import wire
from discord_emulator.errors import JSON, EmulatorUsageError
from discord_emulator.models import Attachment, Channel, Member, Message, Role, Upload, User
from discord_emulator.permissions import has
from discord_emulator.state import EmulatorState, GatewayEvent, Happening, InteractionRecord

CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10
ATTACHMENT = 11

OptionValue = str | int | float | bool | User | Member | Channel | Role


def find_command(state: EmulatorState, channel: Channel, name: str, kind: int) -> JSON:
    guild = state.channel_guild(channel)
    candidates = (guild.commands if guild else []) + state.global_commands
    for command in candidates:
        if command["name"] == name and int(command.get("type", 1)) == kind:
            return command
    synced = sorted(c["name"] for c in candidates)
    raise EmulatorUsageError(f"no synced command {name!r} (type {kind}); synced: {synced}")


def _check_can_use(
    state: EmulatorState, user: User, channel: Channel, command: JSON, bypass: bool
) -> None:
    guild = state.channel_guild(channel)
    contexts = command.get("contexts")
    if guild is None:
        if (
            command.get("guild_id")
            or (contexts is not None and 1 not in contexts)
            or not command.get("dm_permission", True)
        ):
            raise EmulatorUsageError(f"command {command['name']!r} is not available in DMs")
        return
    if contexts is not None and 0 not in contexts:
        raise EmulatorUsageError(f"command {command['name']!r} is not available in guilds")
    required = command.get("default_member_permissions")
    if required is not None and not bypass:
        perms = state.permissions(guild, user.id, channel)
        if not has(perms, int(required)):
            raise EmulatorUsageError(
                f"{user.username} cannot see {command['name']!r}: "
                f"default_member_permissions={required} "
                "(pass bypass_default_permissions=True to simulate an admin override)"
            )


class _Resolved:
    def __init__(self, state: EmulatorState, guild_id: int | None) -> None:
        self.state = state
        self.guild_id = guild_id
        self.data: dict[str, dict[str, JSON]] = {}

    def add(self, kind: str, key: int, value: JSON) -> None:
        self.data.setdefault(kind, {})[str(key)] = value

    def user(self, user: User) -> None:
        self.add("users", user.id, wire.user(user))
        guild = self.state.guilds.get(self.guild_id or 0)
        member = guild.members.get(user.id) if guild else None
        if member is not None and guild is not None:
            data = wire.member(member, with_user=False)
            data["permissions"] = str(self.state.permissions(guild, user.id))
            self.add("members", user.id, data)


def _convert(option: JSON, value: Any, resolved: _Resolved, *, focused: bool) -> Any:
    kind, name = int(option["type"]), option["name"]

    def wrong(expected: str) -> EmulatorUsageError:
        return EmulatorUsageError(f"option {name!r} expects {expected}, got {value!r}")

    if focused:
        return str(value)
    if kind == STRING:
        if not isinstance(value, str):
            raise wrong("a string")
        if not option.get("min_length", 0) <= len(value) <= option.get("max_length", 6000):
            raise wrong(f"length {option.get('min_length', 0)}-{option.get('max_length', 6000)}")
    elif kind in (INTEGER, NUMBER):
        valid = isinstance(value, int) if kind == INTEGER else isinstance(value, int | float)
        if isinstance(value, bool) or not valid:
            raise wrong("an integer" if kind == INTEGER else "a number")
        if "min_value" in option and value < option["min_value"]:
            raise wrong(f">= {option['min_value']}")
        if "max_value" in option and value > option["max_value"]:
            raise wrong(f"<= {option['max_value']}")
    elif kind == BOOLEAN:
        if not isinstance(value, bool):
            raise wrong("a boolean")
    elif kind in (USER, MENTIONABLE) and isinstance(value, User | Member):
        user = value.user if isinstance(value, Member) else value
        resolved.user(user)
        return str(user.id)
    elif kind in (ROLE, MENTIONABLE) and isinstance(value, Role):
        resolved.add("roles", value.id, wire.role(value))
        return str(value.id)
    elif kind == ATTACHMENT and isinstance(value, Upload):
        # A file the member picked: Discord stores it and resolves the option to it.
        state = resolved.state
        attachment_id = state.snowflakes.next()
        state.attachments[attachment_id] = value.data
        attachment = Attachment(
            id=attachment_id,
            filename=value.filename,
            data=value.data,
            content_type=value.content_type,
            url=f"{state.public_base}/attachments/0/{attachment_id}/{quote(value.filename)}",
        )
        resolved.add("attachments", attachment_id, wire.attachment(attachment))
        return str(attachment_id)
    elif kind == CHANNEL and isinstance(value, Channel):
        allowed = option.get("channel_types")
        if allowed and int(value.type) not in allowed:
            raise wrong(f"a channel of type {allowed}")
        data = wire.channel(value, resolved.state)
        data["permissions"] = "0"
        resolved.add("channels", value.id, data)
        return str(value.id)
    else:
        raise wrong(
            {
                USER: "a member",
                ROLE: "a role",
                CHANNEL: "a channel",
                MENTIONABLE: "a member or role",
                ATTACHMENT: "an Upload(filename, data)",
            }.get(kind, f"type {kind}")
        )
    choices = option.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise wrong(f"one of {[c['value'] for c in choices]}")
    return value


def _build_options(
    command_options: list[JSON], given: dict[str, Any], resolved: _Resolved, focused: str | None
) -> list[JSON]:
    by_name = {o["name"]: o for o in command_options}
    unknown = set(given) - set(by_name)
    if unknown:
        raise EmulatorUsageError(
            f"unknown options {sorted(unknown)}; the command takes {sorted(by_name)}"
        )
    built = []
    for option in command_options:
        name = option["name"]
        if name not in given:
            if option.get("required") and name != focused:
                raise EmulatorUsageError(f"missing required option {name!r}")
            continue
        is_focused = name == focused
        if is_focused and not option.get("autocomplete"):
            raise EmulatorUsageError(f"option {name!r} has no autocomplete")
        item: JSON = {
            "name": name,
            "type": option["type"],
            "value": _convert(option, given[name], resolved, focused=is_focused),
        }
        if is_focused:
            item["focused"] = True
        built.append(item)
    return built


def _walk(
    command: JSON, path: list[str], given: dict[str, Any], resolved: _Resolved, focused: str | None
) -> list[JSON]:
    options: list[JSON] = command.get("options") or []
    if path:
        head, rest = path[0], path[1:]
        sub = next((o for o in options if o["name"] == head and o["type"] in (1, 2)), None)
        if sub is None:
            raise EmulatorUsageError(f"no subcommand {head!r} in {command['name']!r}")
        return [
            {
                "name": head,
                "type": sub["type"],
                "options": _walk(sub, rest, given, resolved, focused),
            }
        ]
    if any(o["type"] in (1, 2) for o in options):
        raise EmulatorUsageError(
            f"{command['name']!r} needs a subcommand: {[o['name'] for o in options]}"
        )
    return _build_options(options, given, resolved, focused)


def _base_payload(
    state: EmulatorState, user: User, channel: Channel, kind: int, data: JSON
) -> tuple[InteractionRecord, JSON]:
    guild = state.channel_guild(channel)
    interaction_id = state.snowflakes.next()
    token = "emu." + secrets.token_urlsafe(24)
    payload: JSON = {
        "id": str(interaction_id),
        "application_id": str(state.application_id),
        "type": kind,
        "data": data,
        "token": token,
        "version": 1,
        "channel_id": str(channel.id),
        "channel": wire.channel(channel, state),
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": 10 * 1024 * 1024,
        "context": 0 if guild else 1,
    }
    if guild is not None:
        member = guild.members.get(user.id)
        if member is None:
            raise EmulatorUsageError(f"{user.username} is not a member of {guild.name}")
        member_data = wire.member(member)
        member_data["permissions"] = str(state.permissions(guild, user.id, channel))
        payload.update(
            guild_id=str(guild.id),
            guild={"id": str(guild.id), "locale": "en-US", "features": []},
            guild_locale="en-US",
            member=member_data,
            app_permissions=str(state.bot_permissions(guild, channel)),
            authorizing_integration_owners={"0": str(guild.id)},
        )
    else:
        payload.update(
            user=wire.user(user),
            app_permissions="0",
            authorizing_integration_owners={"1": str(user.id)},
        )
    record = InteractionRecord(
        id=interaction_id,
        token=token,
        type=kind,
        user=user,
        guild_id=guild.id if guild else None,
        channel_id=channel.id,
        payload=payload,
    )
    return record, payload


def send(state: EmulatorState, record: InteractionRecord) -> InteractionRecord:
    state.interactions[record.id] = record
    if record.type != AUTOCOMPLETE:
        state.tell(Happening("interaction", interaction=record))
    state.emit(GatewayEvent("INTERACTION_CREATE", record.payload))
    return record


def slash_command(
    state: EmulatorState,
    user: User,
    channel: Channel,
    path: str,
    options: dict[str, Any],
    *,
    focused: str | None = None,
    bypass_default_permissions: bool = False,
) -> InteractionRecord:
    name, *subpath = path.split()
    command = find_command(state, channel, name, CHAT_INPUT)
    _check_can_use(state, user, channel, command, bypass_default_permissions)
    guild = state.channel_guild(channel)
    resolved = _Resolved(state, guild.id if guild else None)
    data: JSON = {
        "id": command["id"],
        "name": name,
        "type": CHAT_INPUT,
        "options": _walk(command, subpath, options, resolved, focused),
    }
    if resolved.data:
        data["resolved"] = resolved.data
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    record, _ = _base_payload(
        state, user, channel, AUTOCOMPLETE if focused else APPLICATION_COMMAND, data
    )
    return send(state, record)


def context_menu(
    state: EmulatorState,
    user: User,
    channel: Channel,
    name: str,
    target: User | Message,
    *,
    bypass_default_permissions: bool = False,
) -> InteractionRecord:
    kind = MESSAGE_COMMAND if isinstance(target, Message) else USER_COMMAND
    command = find_command(state, channel, name, kind)
    _check_can_use(state, user, channel, command, bypass_default_permissions)
    guild = state.channel_guild(channel)
    resolved = _Resolved(state, guild.id if guild else None)
    if isinstance(target, Message):
        resolved.add("messages", target.id, wire.message(target, state))
    else:
        resolved.user(target)
    data: JSON = {
        "id": command["id"],
        "name": name,
        "type": kind,
        "target_id": str(target.id),
        "resolved": resolved.data,
    }
    record, _ = _base_payload(state, user, channel, APPLICATION_COMMAND, data)
    return send(state, record)


def component(
    state: EmulatorState, user: User, message: Message, target: str, values: list[str] | None
) -> InteractionRecord:
    """Click a button (by custom_id or label) or choose select-menu values on a message."""
    if message.visible_to is not None and message.visible_to != user.id:
        raise EmulatorUsageError(f"{user.username} cannot see this ephemeral message")
    item = next(
        (
            c
            for c in message.all_components()
            if c.get("custom_id") == target or c.get("label") == target
        ),
        None,
    )
    if item is None or item.get("type") not in (2, 3, 5, 6, 7, 8):
        found = [
            c.get("custom_id") or c.get("label")
            for c in message.all_components()
            if c.get("type") in (2, 3)
        ]
        raise EmulatorUsageError(f"no button or select {target!r} on the message; found {found}")
    if item.get("disabled"):
        raise EmulatorUsageError(f"component {target!r} is disabled")
    if item.get("type") == 2 and item.get("style") in (5, 6):
        raise EmulatorUsageError(f"{target!r} is a link button: it sends no interaction")
    data: JSON = {"custom_id": item["custom_id"], "component_type": item["type"]}
    if item["type"] != 2:
        options = [o["value"] for o in item.get("options") or []]
        chosen = list(values or [])
        if item["type"] == 3 and any(v not in options for v in chosen):
            raise EmulatorUsageError(f"values {chosen} not among the select's options {options}")
        lo, hi = int(item.get("min_values", 1)), int(item.get("max_values", 1))
        if not lo <= len(chosen) <= hi:
            raise EmulatorUsageError(f"choose {lo}-{hi} values, got {len(chosen)}")
        data["values"] = chosen
    channel = state.channel(message.channel_id)
    record, payload = _base_payload(state, user, channel, COMPONENT, data)
    payload["message"] = wire.message(message, state)
    record.source_message_id = message.id
    return send(state, record)


def modal_submit(
    state: EmulatorState, user: User, origin: InteractionRecord, values: dict[str, str]
) -> InteractionRecord:
    modal = origin.modal
    if modal is None:
        raise EmulatorUsageError("the bot did not answer that interaction with a modal")
    remaining = dict(values)

    def fill(item: JSON) -> JSON:
        if item.get("type") == 4:
            custom_id = item["custom_id"]
            value = remaining.pop(custom_id, item.get("value") or "")
            if item.get("required", True) and not value:
                raise EmulatorUsageError(f"modal field {custom_id!r} is required")
            if value and not item.get("min_length", 0) <= len(value) <= item.get(
                "max_length", 4000
            ):
                raise EmulatorUsageError(f"modal field {custom_id!r} length out of range")
            return {"type": 4, "id": item.get("id", 0), "custom_id": custom_id, "value": value}
        if item.get("type") == 1:
            return {"type": 1, "components": [fill(c) for c in item.get("components") or []]}
        if item.get("type") == 18:
            return {"type": 18, "id": item.get("id", 0), "component": fill(item["component"])}
        return {"type": item.get("type"), "id": item.get("id", 0)}

    components = [fill(c) for c in modal.get("components") or []]
    if remaining:
        raise EmulatorUsageError(f"the modal has no fields {sorted(remaining)}")
    channel = state.channel(origin.channel_id)
    data: JSON = {"custom_id": modal["custom_id"], "components": components}
    record, payload = _base_payload(state, user, channel, MODAL_SUBMIT, data)
    if origin.source_message_id is not None:
        record.source_message_id = origin.source_message_id
        payload["message"] = wire.message(state.messages[origin.source_message_id], state)
    return send(state, record)
