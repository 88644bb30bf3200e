"""`plnbot`: run the bot, migrate, check the setup, sync commands, back up, health-check."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import aiohttp
import discord

from bot.app import apply_discord_endpoints, build_bot
from bot.database import (
    backend_name,
    backup_sqlite,
    create_engine,
    migrate_to_head,
    pending_migrations,
)
from bot.errors import ConfigError, StartupError
from bot.invite import application_id_from_token, invite_url
from bot.settings import Settings, load_settings
from bot.wording import plural

log = logging.getLogger("plnbot")

HEALTHY_HEARTBEAT_AGE_SECONDS = 90


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        settings = load_settings(args.config)
        _configure_logging(settings, debug=args.debug)
        result: int = asyncio.run(args.handler(settings, args))
        return result
    except ConfigError as exc:
        _fail(exc, args.debug)
        return 2
    except StartupError as exc:
        _fail(exc, args.debug)
        return 1
    except KeyboardInterrupt:
        return 130


def _fail(exc: Exception, debug: bool) -> None:
    if debug:
        log.exception("plnbot stopped")
    print(f"plnbot: {exc}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help="TOML settings file (default: ./config.toml if present; PLNBOT_* env vars override)",
    )
    common.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    parser = argparse.ArgumentParser(
        prog="plnbot", description="A Discord bot for running a Personal Learning Network."
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def add(
        name: str, handler: Callable[..., Awaitable[int]], help_text: str
    ) -> argparse.ArgumentParser:
        command = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    add("run", _run, "Connect to Discord and serve (applies pending migrations first).")
    add("migrate", _migrate, "Upgrade the database to the newest schema and exit.")
    check = add(
        "check",
        _check,
        "Check the setup offline: config, database, pending migrations, invite URL.",
    )
    check.add_argument(
        "--online",
        action="store_true",
        help="also log in to Discord to verify the token and the privileged intents",
    )
    sync = add(
        "sync-commands",
        _sync_commands,
        "Publish the slash commands to Discord (globally, or to one guild for testing).",
    )
    sync.add_argument("--guild", type=int, metavar="ID", help="sync to this guild only (instant)")
    backup = add("backup", _backup, "Copy the live SQLite database to PATH (safe while running).")
    backup.add_argument("path", type=Path, metavar="PATH", help="the new backup file")
    add("health", _health, "Exit 0 if the running bot's gateway heartbeat is fresh (Docker).")
    return parser


def _configure_logging(settings: Settings, *, debug: bool) -> None:
    level = logging.DEBUG if debug else getattr(logging, settings.logging.level)
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if settings.logging.file:
        handlers.append(logging.FileHandler(settings.logging.file, encoding="utf-8"))
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logging.getLogger("discord").setLevel(max(level, logging.INFO))
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))


# --- subcommands ------------------------------------------------------------------------------


async def _run(settings: Settings, _args: argparse.Namespace) -> int:
    token = settings.require_token()
    bot = build_bot(settings)
    async with bot:
        # `docker stop` and systemd send SIGTERM: close the gateway and the database cleanly.
        loop = asyncio.get_running_loop()
        closing: list[asyncio.Task[None]] = []  # a reference, so the task is not collected
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda: closing.append(loop.create_task(bot.close())))
        # Database problems surface before anything talks to Discord.
        await pending_migrations(bot.engine)
        await _login(bot, token)
        try:
            await bot.connect(reconnect=True)
        except discord.PrivilegedIntentsRequired as exc:
            raise StartupError(_intents_message()) from exc
    return 0


async def _login(bot: discord.Client, token: str) -> None:
    try:
        await bot.login(token)
    except discord.LoginFailure as exc:
        raise StartupError(
            "Discord rejected the token. Copy a fresh one from the Developer Portal (Bot → Reset "
            "Token) into [discord] token or DISCORD_TOKEN."
        ) from exc
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise StartupError(
            f"Cannot reach Discord at {discord.http.Route.BASE}: {exc or type(exc).__name__}. "
            "Check the network, or [discord] api_base_url."
        ) from exc


def _intents_message() -> str:
    return (
        "Discord refused the privileged intents this bot asks for. In the Developer Portal "
        "(Bot → Privileged Gateway Intents) enable Server Members Intent, and Message Content "
        "Intent if discord.message_content_intent is true; or switch them off in the config."
    )


async def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    engine = create_engine(settings.database.url)
    try:
        applied = await migrate_to_head(engine)
    finally:
        await engine.dispose()
    if applied:
        print(f"Applied {plural(len(applied), 'migration')}: {', '.join(applied)}.")
    else:
        print("The database is up to date.")
    return 0


async def _check(settings: Settings, args: argparse.Namespace) -> int:
    print("Config: valid.")
    engine = create_engine(settings.database.url)
    try:
        pending = await pending_migrations(engine)
        print(f"Database: reached ({backend_name(engine)}).")
    finally:
        await engine.dispose()
    if pending:
        print(
            f"Migrations: {len(pending)} pending ({', '.join(pending)}); `plnbot migrate` or run."
        )
    else:
        print("Migrations: up to date.")
    token = settings.discord.token.get_secret_value()
    application_id = application_id_from_token(token) if token else None
    if application_id:
        print(f"Invite URL: {invite_url(application_id)}")
    else:
        print("Invite URL: set discord.token first (the application id is read from it).")
    if args.online:
        await _check_online(settings)
    return 0


async def _check_online(settings: Settings) -> None:
    token = settings.require_token()
    apply_discord_endpoints(settings.discord)
    # A bare client: logging in must not migrate, load cogs or start schedules.
    async with discord.Client(intents=discord.Intents.none()) as client:
        await _login(client, token)
        info = await client.application_info()
    flags = info.flags
    print(f"Token: accepted for {info.name} (application {info.id}).")
    missing = []
    if settings.discord.members_intent and not (
        flags.gateway_guild_members or flags.gateway_guild_members_limited
    ):
        missing.append("Server Members Intent")
    if settings.discord.message_content_intent and not (
        flags.gateway_message_content or flags.gateway_message_content_limited
    ):
        missing.append("Message Content Intent")
    if missing:
        raise StartupError(f"The application lacks {' and '.join(missing)}. {_intents_message()}")
    print("Privileged intents: enabled as configured.")


async def _sync_commands(settings: Settings, args: argparse.Namespace) -> int:
    token = settings.require_token()
    bot = build_bot(settings, background_jobs=False)
    async with bot:
        await _login(bot, token)  # runs setup_hook: migrations and cogs, so the tree is complete
        guild = discord.Object(id=args.guild) if args.guild else None
        if guild is not None:
            bot.tree.copy_global_to(guild=guild)
        synced = await bot.tree.sync(guild=guild)
    where = f"guild {args.guild}" if guild else "all guilds (may take up to an hour to appear)"
    print(f"Synced {len(synced)} commands to {where}.")
    return 0


async def _backup(settings: Settings, args: argparse.Namespace) -> int:
    pages = await asyncio.to_thread(backup_sqlite, settings.database.url, args.path)
    print(f"Backed up {pages} pages to {args.path}.")
    return 0


async def _health(settings: Settings, _args: argparse.Namespace) -> int:
    path = settings.health.heartbeat_file
    if not path:
        print("health.heartbeat_file is not set; nothing to check.", file=sys.stderr)
        return 1
    try:
        age = time.time() - (await asyncio.to_thread(Path(path).stat)).st_mtime
    except FileNotFoundError:
        print("No heartbeat yet: the bot is starting or not connected.", file=sys.stderr)
        return 1
    if age > HEALTHY_HEARTBEAT_AGE_SECONDS:
        print(f"Heartbeat is {age:.0f} s old: the gateway is not connected.", file=sys.stderr)
        return 1
    print(f"Healthy: heartbeat {age:.0f} s ago.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
