"""Routes about the application itself: login, gateway discovery and the command trees."""

from __future__ import annotations

from discord_emulator import rules, wire
from discord_emulator.errors import JSON, DiscordError
from discord_emulator.rest.framework import Ctx, RouteTable
from discord_emulator.state import EmulatorState

routes = RouteTable()


@routes.route("GET", "/users/@me")
async def get_current_user(ctx: Ctx) -> JSON:
    data = wire.user(ctx.state.bot_user)
    data.update(verified=True, mfa_enabled=False, locale="en-US", email=None)
    return data


@routes.route("GET", "/users/{user_id}")
async def get_user(ctx: Ctx) -> JSON:
    return wire.user(ctx.state.user(ctx.id("user_id")))


@routes.route("GET", "/oauth2/applications/@me")
async def get_application(ctx: Ctx) -> JSON:
    state = ctx.state
    return {
        "id": str(state.application_id),
        "name": state.bot_user.username,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "owner": wire.user(state.application_owner),
        "team": None,
        "flags": ctx.services.hub._app_flags(),
        "bot": wire.user(state.bot_user),
        "redirect_uris": [],
        "interactions_endpoint_url": None,
    }


@routes.route("GET", "/gateway/bot")
async def get_gateway_bot(ctx: Ctx) -> JSON:
    return {
        "url": ctx.services.hub.resume_url,
        "shards": 1,
        "session_start_limit": {
            "total": 1000,
            "remaining": 999,
            "reset_after": 14_400_000,
            "max_concurrency": 1,
        },
    }


@routes.route("GET", "/gateway")
async def get_gateway(ctx: Ctx) -> JSON:
    return {"url": ctx.services.hub.resume_url}


# --- application commands -----------------------------------------------------------------------


def _check_app(ctx: Ctx) -> None:
    if ctx.id("application_id") != ctx.state.application_id:
        raise DiscordError(403, 50001, "Missing Access")


def _stored_commands(
    state: EmulatorState, body: list[JSON], previous: list[JSON], guild_id: int | None
) -> list[JSON]:
    """Commands as Discord returns them after a bulk overwrite (ids kept for unchanged names)."""
    ids = {(c["type"], c["name"]): c["id"] for c in previous}
    stored = []
    for command in body:
        kind = int(command.get("type", 1))
        data: JSON = {
            "id": ids.get((kind, command["name"])) or str(state.snowflakes.next()),
            "application_id": str(state.application_id),
            "version": str(state.snowflakes.next()),
            "type": kind,
            "name": command["name"],
            "description": command.get("description") or "",
            "default_member_permissions": command.get("default_member_permissions"),
            "dm_permission": command.get("dm_permission", True),
            "nsfw": command.get("nsfw", False),
            "contexts": command.get("contexts"),
            "integration_types": command.get("integration_types") or [0],
            "name_localizations": command.get("name_localizations"),
            "description_localizations": command.get("description_localizations"),
        }
        if kind == 1:
            data["options"] = command.get("options") or []
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
        stored.append(data)
    return stored


def _body_list(ctx: Ctx) -> list[JSON]:
    if not isinstance(ctx.body, list):
        raise rules.form_error((), "expected an array of commands")
    return ctx.body


@routes.route("PUT", "/applications/{application_id}/commands")
async def put_global_commands(ctx: Ctx) -> list[JSON]:
    _check_app(ctx)
    body = _body_list(ctx)
    rules.check_command_tree(body, is_global=True).raise_if_any()
    state = ctx.state
    state.global_commands = _stored_commands(state, body, state.global_commands, None)
    return state.global_commands


@routes.route("GET", "/applications/{application_id}/commands")
async def get_global_commands(ctx: Ctx) -> list[JSON]:
    _check_app(ctx)
    return ctx.state.global_commands


@routes.route("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
async def put_guild_commands(ctx: Ctx) -> list[JSON]:
    _check_app(ctx)
    guild = ctx.state.guild(ctx.id("guild_id"))
    body = _body_list(ctx)
    rules.check_command_tree(body, is_global=False).raise_if_any()
    guild.commands = _stored_commands(ctx.state, body, guild.commands, guild.id)
    return guild.commands


@routes.route("GET", "/applications/{application_id}/guilds/{guild_id}/commands")
async def get_guild_commands(ctx: Ctx) -> list[JSON]:
    _check_app(ctx)
    return ctx.state.guild(ctx.id("guild_id")).commands
