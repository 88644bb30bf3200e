"""Creating, editing and deleting messages: shared by REST routes, interaction replies and the
test driver, so a message looks the same whichever way it was made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from discord_emulator import rules, wire
from discord_emulator.errors import JSON, missing_permissions
from discord_emulator.models import Attachment, Channel, Message, User
from discord_emulator.permissions import Permission, has
from discord_emulator.state import EmulatorState, GatewayEvent, Happening, Intent

# How long Discord remembers a nonce for enforce_nonce: "a few minutes" in its docs.
NONCE_WINDOW = timedelta(minutes=3)


@dataclass(frozen=True)
class UploadedFile:
    """One `files[n]` part of a multipart request."""

    index: int
    filename: str
    data: bytes
    content_type: str | None


def message_intent(channel: Channel) -> int:
    return Intent.GUILD_MESSAGES if channel.guild_id else Intent.DIRECT_MESSAGES


def reaction_intent(channel: Channel) -> int:
    return Intent.GUILD_MESSAGE_REACTIONS if channel.guild_id else Intent.DIRECT_MESSAGE_REACTIONS


def _attachments(
    state: EmulatorState, channel: Channel, body: JSON, files: list[UploadedFile]
) -> list[Attachment]:
    described = {str(a.get("id")): a for a in body.get("attachments") or []}
    result = []
    for upload in files:
        meta = described.get(str(upload.index), {})
        attachment_id = state.snowflakes.next()
        filename = str(meta.get("filename") or upload.filename)
        url = f"{state.public_base}/attachments/{channel.id}/{attachment_id}/{quote(filename)}"
        state.attachments[attachment_id] = upload.data
        result.append(
            Attachment(
                id=attachment_id,
                filename=filename,
                data=upload.data,
                content_type=upload.content_type,
                url=url,
                description=meta.get("description"),
            )
        )
    return result


def _pings(state: EmulatorState, channel: Channel, author: User, body: JSON) -> rules.Pings:
    guild = state.channel_guild(channel)
    replied_author = None
    reference = body.get("message_reference")
    if reference and reference.get("message_id"):
        replied = state.messages.get(int(reference["message_id"]))
        replied_author = replied.author.id if replied else None
    if guild is None:
        mentionable: set[int] = set()
        can_everyone = False
    else:
        mentionable = {r.id for r in guild.roles.values() if r.mentionable}
        perms = state.permissions(guild, author.id, channel)
        # Interaction replies and webhooks are sent as the application, which may ping everyone
        # only if the bot member could.
        can_everyone = has(perms, Permission.MENTION_EVERYONE)
    return rules.compute_pings(
        str(body.get("content") or ""),
        body.get("allowed_mentions"),
        mentionable_roles=mentionable,
        can_mention_everyone=can_everyone,
        replied_author=replied_author,
    )


def build_message(
    state: EmulatorState,
    channel: Channel,
    author: User,
    body: JSON,
    files: list[UploadedFile],
    *,
    visible_to: int | None = None,
) -> Message:
    """A new message from a validated request body (not yet stored or dispatched)."""
    pings = _pings(state, channel, author, body)
    reference = body.get("message_reference")
    message = Message(
        id=state.snowflakes.next(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        author=author,
        content=str(body.get("content") or ""),
        timestamp=state.clock(),
        embeds=list(body.get("embeds") or []),
        components=list(body.get("components") or []),
        attachments=_attachments(state, channel, body, files),
        flags=int(body.get("flags") or 0),
        type=19 if reference else 0,
        message_reference=_reference(channel, reference) if reference else None,
        mentions=pings.users,
        mention_roles=pings.roles,
        mention_everyone=pings.everyone,
        visible_to=visible_to,
        nonce=str(body["nonce"]) if body.get("nonce") is not None else None,
    )
    return message


def _reference(channel: Channel, reference: JSON) -> JSON:
    return {
        "type": 0,
        "message_id": str(reference.get("message_id")),
        "channel_id": str(reference.get("channel_id") or channel.id),
        "guild_id": wire.snowflake(channel.guild_id),
    }


def check_can_send(state: EmulatorState, channel: Channel, author: User, body: JSON) -> None:
    guild = state.channel_guild(channel)
    if guild is None:
        return
    perms = state.permissions(guild, author.id, channel)
    needed = Permission.VIEW_CHANNEL | (
        Permission.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permission.SEND_MESSAGES
    )
    if body.get("message_reference"):
        needed |= Permission.READ_MESSAGE_HISTORY
    if not has(perms, needed):
        raise missing_permissions()
    if channel.is_thread and channel.locked and not has(perms, Permission.MANAGE_THREADS):
        raise missing_permissions()


def publish_create(state: EmulatorState, message: Message) -> Message:
    channel = state.channels[message.channel_id]
    if channel.is_thread and channel.archived and not channel.locked:
        # Discord unarchives a thread when someone posts in it.
        channel.archived = False
    state.add_message(message)
    state.tell(Happening("message", message=message))
    if message.visible_to is None:
        state.emit(
            GatewayEvent(
                "MESSAGE_CREATE",
                created(message, state),
                intent=message_intent(channel),
                message=message,
            )
        )
    else:
        state.changed()
    return message


def created(message: Message, state: EmulatorState) -> JSON:
    """A new message as its sender sees it (create response, MESSAGE_CREATE): with its nonce."""
    data = wire.message(message, state)
    if message.nonce is not None:
        data["nonce"] = message.nonce
    return data


def sent_before(state: EmulatorState, author: User, body: JSON) -> Message | None:
    """With `enforce_nonce`, the message this author already sent with the same nonce within
    Discord's window (its docs: "the past few minutes"): Discord returns it, creating nothing."""
    nonce = body.get("nonce")
    if nonce is None or not body.get("enforce_nonce"):
        return None
    since = state.clock() - NONCE_WINDOW
    for message in reversed(state.sent_with_nonce.get((author.id, str(nonce)), [])):
        if message.timestamp >= since and not message.deleted:
            return message
    return None


def apply_edit(
    state: EmulatorState, message: Message, body: JSON, files: list[UploadedFile]
) -> Message:
    channel = state.channels[message.channel_id]
    if "content" in body:
        message.content = str(body["content"] or "")
        pings = _pings(state, channel, message.author, body)
        message.mentions, message.mention_roles = pings.users, pings.roles
        message.mention_everyone = pings.everyone
    if "embeds" in body:
        message.embeds = list(body["embeds"] or [])
    if "components" in body:
        message.components = list(body["components"] or [])
    if "flags" in body and body["flags"] is not None:
        # Only SUPPRESS_EMBEDS may be toggled; EPHEMERAL sticks to the message.
        message.flags = (message.flags & ~4) | (int(body["flags"]) & 4)
    if "attachments" in body and body["attachments"] is not None:
        keep = {str(a.get("id")) for a in body["attachments"]}
        message.attachments = [a for a in message.attachments if str(a.id) in keep]
    message.attachments += _attachments(state, channel, body, files)
    message.flags &= ~128  # an edit ends a deferred "thinking..." state
    message.edited_timestamp = state.clock()
    publish_update(state, message)
    return message


def publish_update(state: EmulatorState, message: Message) -> None:
    channel = state.channels[message.channel_id]
    state.tell(Happening("edit", message=message))
    if message.visible_to is None:
        state.emit(
            GatewayEvent(
                "MESSAGE_UPDATE",
                wire.message(message, state),
                intent=message_intent(channel),
                message=message,
            )
        )
    else:
        state.changed()


def delete(state: EmulatorState, message: Message) -> None:
    message.deleted = True
    state.tell(Happening("delete", message=message))
    channel = state.channels[message.channel_id]
    data: JSON = {"id": str(message.id), "channel_id": str(message.channel_id)}
    if message.guild_id:
        data["guild_id"] = str(message.guild_id)
    if message.visible_to is None:
        state.emit(GatewayEvent("MESSAGE_DELETE", data, intent=message_intent(channel)))
    else:
        state.changed()
