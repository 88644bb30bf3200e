"""Interaction responses (`/interactions/.../callback`) and their webhook follow-ups.

Enforced like Discord: the initial response within 3 s (real monotonic time, whatever the fake
clock says) else 10062; one initial response only (40060); follow-ups for 15 minutes.
"""

from __future__ import annotations

import time

from discord_emulator import messaging, rules, wire
from discord_emulator.errors import JSON, DiscordError
from discord_emulator.messaging import UploadedFile
from discord_emulator.models import Message, MessageFlags
from discord_emulator.rest.framework import Ctx, RouteTable
from discord_emulator.state import EmulatorState, Happening, InteractionRecord

routes = RouteTable()

PONG, MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
# Interaction types
PING, APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5

_ALLOWED = {
    PING: {PONG},
    APPLICATION_COMMAND: {MESSAGE, DEFERRED_MESSAGE, MODAL},
    COMPONENT: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
}


def _unknown_interaction(reason: str) -> DiscordError:
    return DiscordError(404, 10062, "Unknown interaction", violation=reason)


def _message_type(record: InteractionRecord) -> int:
    if record.type == APPLICATION_COMMAND:
        return 20 if int(record.payload["data"].get("type", 1)) == 1 else 23
    return 19 if record.source_message_id else 0


def _interaction_message(
    state: EmulatorState, record: InteractionRecord, body: JSON, files: list[UploadedFile]
) -> Message:
    channel = state.channel(record.channel_id)
    flags = int(body.get("flags") or 0)
    message = messaging.build_message(
        state,
        channel,
        state.bot_user,
        body,
        files,
        visible_to=record.user.id if flags & MessageFlags.EPHEMERAL else None,
    )
    message.type = _message_type(record)
    message.webhook_id = state.application_id
    message.application_id = state.application_id
    message.interaction_id = record.id
    message.interaction_user_id = record.user.id
    return message


def _check_message_body(body: JSON, files: list[UploadedFile], *, is_edit: bool = False) -> None:
    rules.check_message(body, has_files=bool(files), is_edit=is_edit).raise_if_any()


@routes.route(
    "POST", "/interactions/{interaction_id}/{interaction_token}/callback", needs_bot_token=False
)
async def create_response(ctx: Ctx) -> JSON | None:
    state = ctx.state
    record = state.interactions.get(ctx.id("interaction_id"))
    if record is None or record.token != ctx.params["interaction_token"]:
        raise _unknown_interaction("callback for an interaction the emulator never sent")
    elapsed = time.monotonic() - record.created_monotonic
    if elapsed > ctx.services.interaction_deadline:
        raise _unknown_interaction(
            f"initial response after {elapsed:.2f} s; Discord allows "
            f"{ctx.services.interaction_deadline:.0f} s (defer first)"
        )
    if record.acknowledged:
        raise DiscordError(
            400,
            40060,
            "Interaction has already been acknowledged.",
            violation="a second initial response to the same interaction",
        )
    body = ctx.json()
    kind = int(body.get("type", 0))
    data: JSON = body.get("data") or {}
    if kind not in _ALLOWED.get(record.type, set()):
        raise rules.form_error(
            ("type",), f"response type {kind} is invalid for interaction type {record.type}"
        )

    message: Message | None = None
    if kind == MESSAGE:
        _check_message_body(data, ctx.files)
        message = messaging.publish_create(
            state, _interaction_message(state, record, data, ctx.files)
        )
        record.original_message_id = message.id
    elif kind == DEFERRED_MESSAGE:
        flags = MessageFlags.LOADING | (int(data.get("flags") or 0) & MessageFlags.EPHEMERAL)
        message = _interaction_message(state, record, {"flags": int(flags)}, [])
        message = messaging.publish_create(state, message)
        record.original_message_id = message.id
    elif kind == UPDATE_MESSAGE:
        _check_message_body(data, ctx.files, is_edit=True)
        message = _source_message(state, record)
        messaging.apply_edit(state, message, data, ctx.files)
    elif kind == DEFERRED_UPDATE:
        message = _source_message(state, record)
    elif kind == AUTOCOMPLETE_RESULT:
        rules.check_autocomplete(data).raise_if_any()
        record.autocomplete_choices = list(data.get("choices") or [])
    elif kind == MODAL:
        rules.check_modal(data).raise_if_any()
        record.modal = data
        state.tell(Happening("modal", interaction=record))
    record.response_type = kind
    state.changed()
    if not ctx.query_flag("with_response"):
        return None
    return _callback_response(state, record, kind, message)


def _source_message(state: EmulatorState, record: InteractionRecord) -> Message:
    if record.source_message_id is None:
        raise rules.form_error(("type",), "this interaction has no message to update")
    return state.messages[record.source_message_id]


def _callback_response(
    state: EmulatorState, record: InteractionRecord, kind: int, message: Message | None
) -> JSON:
    interaction: JSON = {"id": str(record.id), "type": record.type}
    result: JSON = {"interaction": interaction}
    if message is not None:
        interaction.update(
            response_message_id=str(message.id),
            response_message_loading=message.loading,
            response_message_ephemeral=message.ephemeral,
        )
        result["resource"] = {"type": kind, "message": wire.message(message, state)}
    elif kind == MODAL:
        result["resource"] = {"type": kind}
    return result


# --- follow-ups --------------------------------------------------------------------------------


def _record_for_webhook(ctx: Ctx) -> InteractionRecord:
    state = ctx.state
    token = ctx.params["webhook_token"]
    record = next((r for r in state.interactions.values() if r.token == token), None)
    if record is None or ctx.id("webhook_id") != state.application_id:
        raise DiscordError(
            404, 10015, "Unknown Webhook", violation="webhook for an unknown interaction token"
        )
    if time.monotonic() - record.created_monotonic > ctx.services.followup_window:
        raise DiscordError(
            404, 10015, "Unknown Webhook", violation="follow-up after the 15 minute token lifetime"
        )
    if not record.acknowledged:
        raise DiscordError(
            404, 10015, "Unknown Webhook", violation="follow-up before the interaction was answered"
        )
    return record


def _original(state: EmulatorState, record: InteractionRecord) -> Message:
    message_id = record.original_message_id
    if message_id is None and record.response_type in (DEFERRED_UPDATE, UPDATE_MESSAGE):
        message_id = record.source_message_id
    message = state.messages.get(message_id) if message_id else None
    if message is None or message.deleted:
        raise DiscordError(404, 10008, "Unknown Message")
    return message


def _webhook_message(ctx: Ctx, record: InteractionRecord) -> Message:
    message_id = ctx.params.get("message_id", "@original")
    if message_id == "@original":
        return _original(ctx.state, record)
    found = ctx.state.messages.get(ctx.id("message_id"))
    if found is None or found.deleted or found.interaction_id != record.id:
        raise DiscordError(404, 10008, "Unknown Message")
    return found


@routes.route("POST", "/webhooks/{webhook_id}/{webhook_token}", needs_bot_token=False)
async def create_followup(ctx: Ctx) -> JSON | None:
    state = ctx.state
    record = _record_for_webhook(ctx)
    body = ctx.json()
    _check_message_body(body, ctx.files)
    original = state.messages.get(record.original_message_id or 0)
    if original is not None and original.loading and not record.followup_ids:
        # After a deferred response, Discord turns the first follow-up into the original reply
        # (keeping the deferral's ephemerality).
        message = messaging.apply_edit(state, original, body, ctx.files)
    else:
        message = messaging.publish_create(
            state, _interaction_message(state, record, body, ctx.files)
        )
    record.followup_ids.append(message.id)
    state.changed()
    return wire.message(message, state) if ctx.query_flag("wait") else None


# Decorators register bottom-up: @original must be registered before {message_id}.
@routes.route(
    "GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", needs_bot_token=False
)
@routes.route(
    "GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", needs_bot_token=False
)
async def get_webhook_message(ctx: Ctx) -> JSON:
    record = _record_for_webhook(ctx)
    return wire.message(_webhook_message(ctx, record), ctx.state)


@routes.route(
    "PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", needs_bot_token=False
)
@routes.route(
    "PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", needs_bot_token=False
)
async def edit_webhook_message(ctx: Ctx) -> JSON:
    record = _record_for_webhook(ctx)
    message = _webhook_message(ctx, record)
    body = ctx.json()
    _check_message_body(body, ctx.files, is_edit=True)
    messaging.apply_edit(ctx.state, message, body, ctx.files)
    return wire.message(message, ctx.state)


@routes.route(
    "DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", needs_bot_token=False
)
@routes.route(
    "DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", needs_bot_token=False
)
async def delete_webhook_message(ctx: Ctx) -> None:
    record = _record_for_webhook(ctx)
    messaging.delete(ctx.state, _webhook_message(ctx, record))
