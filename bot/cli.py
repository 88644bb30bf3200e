"""`plnbot`: run the bot, migrate, check the setup, sync commands, back up, health-check, demo.

Every failure an operator can cause or meet ends in one line on standard error naming the
problem and its fix, and the exit code the README promises: 2 when a setting is invalid in
itself, 1 when the machine, the database or Discord does not cooperate. Tracebacks only with
`--debug`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import signal
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import aiohttp
import discord

from bot import __version__
from bot.app import apply_discord_endpoints, build_bot
from bot.database import (
    backend_name,
    backup_sqlite,
    check_sqlite_writable,
    create_engine,
    migrate_to_head,
    pending_migrations,
    sqlite_path,
)
from bot.errors import ConfigError, StartupError
from bot.invite import invite_url
from bot.paths import explain, is_folder
from bot.settings import Settings, check_token_shape, load_settings
from bot.tokens import application_id_from_token
from bot.webui.health import web_problem
from bot.wording import plural

log = logging.getLogger("plnbot")

HEALTHY_HEARTBEAT_AGE_SECONDS = 90
# `plnbot demo` lives in its own top-level package, which imports the bot and the emulator. It
# is named here and imported only when the demo runs, as the cogs are named in bot/app.py: the
# bot never depends on it, and a plain `plnbot run` never loads the emulator.
DEMO_MODULE = "pln_demo"

EXIT_STARTUP, EXIT_CONFIG = 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return EXIT_CONFIG
    # Docker's HEALTHCHECK reserves exit code 2, so `health` answers 1 for every problem.
    config_code = EXIT_STARTUP if args.handler is _health else EXIT_CONFIG
    try:
        settings = load_settings(args.config) if args.handler is not _demo else Settings()
        if args.handler is not _demo:  # the demo shows its own log in its transcript
            _configure_logging(settings, debug=args.debug)
        result: int = asyncio.run(args.handler(settings, args))
        return result
    except ConfigError as exc:
        _fail(exc, args.debug)
        return config_code
    except StartupError as exc:
        _fail(exc, args.debug)
        return EXIT_STARTUP
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # A bug, not an operator's mistake: still one line, and the traceback with --debug.
        _fail(exc, args.debug, prefix="unexpected error (please report it, with --debug output)")
        return EXIT_STARTUP


def _fail(exc: Exception, debug: bool, prefix: str = "") -> None:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    text = str(exc) or type(exc).__name__
    if prefix:
        text = f"{prefix}: {type(exc).__name__}: {text}"
    print(f"plnbot: {text}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    def common(*, at_top: bool) -> argparse.ArgumentParser:
        # The same options before or after the subcommand. Below it they default to "not given"
        # (SUPPRESS), so they never overwrite what was given above it.
        options = argparse.ArgumentParser(add_help=False)
        options.add_argument(
            "--config",
            type=Path,
            default=None if at_top else argparse.SUPPRESS,
            metavar="PATH",
            help="TOML settings file (default: ./config.toml if present; PLNBOT_* env vars "
            "override)",
        )
        options.add_argument(
            "--debug",
            action="store_true",
            default=False if at_top else argparse.SUPPRESS,
            help="show tracebacks on errors, and debug logging",
        )
        return options

    parser = argparse.ArgumentParser(
        prog="plnbot",
        description="A Discord bot for running a Personal Learning Network.",
        parents=[common(at_top=True)],
    )
    parser.add_argument("--version", action="version", version=f"plnbot {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    below = common(at_top=False)

    def add(
        name: str, handler: Callable[..., Awaitable[int]], help_text: str
    ) -> argparse.ArgumentParser:
        command = sub.add_parser(name, parents=[below], help=help_text, description=help_text)
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
    demo = add(
        "demo",
        _demo,
        "Play a week of a sample community, offline: the real bot against a local Discord.",
    )
    pace = demo.add_mutually_exclusive_group()
    pace.add_argument(
        "--fast", action="store_true", help="no pauses: the week plays as fast as the bot answers"
    )
    pace.add_argument(
        "--real-time",
        action="store_true",
        help="pause between steps as people would type (the default)",
    )
    demo.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the SQLite database, the transcript (JSON) and the log in DIR",
    )
    demo.add_argument(
        "--interactive",
        action="store_true",
        help="after the story, type slash commands as a member or the moderator",
    )
    return parser


def _configure_logging(settings: Settings, *, debug: bool) -> None:
    level = logging.DEBUG if debug else getattr(logging, settings.logging.level)
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if settings.logging.file:
        path = Path(settings.logging.file)
        try:
            handlers.append(logging.FileHandler(path, encoding="utf-8"))
        except OSError as exc:
            raise StartupError(
                f"Cannot write the log file {path} (logging.file): {explain(exc, path)}. "
                "Create its folder, or set logging.file to a file plnbot may write."
            ) from exc
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
        await serve(bot, token)
    return 0


async def serve(bot: discord.Client, token: str) -> None:
    """What `plnbot run` does with a built bot: database checks first, then log in (which runs
    setup_hook: migrations, cogs, schedules) and stay connected until the bot is closed.
    `plnbot demo` starts its bot through here too."""
    engine = getattr(bot, "engine", None)
    if engine is not None:  # database problems surface before anything talks to Discord
        await pending_migrations(engine)
    await _login(bot, token)
    try:
        await bot.connect(reconnect=True)
    except discord.PrivilegedIntentsRequired as exc:
        raise StartupError(_intents_message()) from exc


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
    token = settings.discord.token.get_secret_value()
    if token:
        check_token_shape(token)
    print("Config: valid.")
    url = settings.database.url
    engine = create_engine(url, create_folder=False)  # a check leaves nothing behind
    try:
        pending = await pending_migrations(engine)
        await asyncio.to_thread(check_sqlite_writable, url)
        backend = backend_name(engine)
    finally:
        await engine.dispose()
    path = sqlite_path(url)
    if path is not None and not await asyncio.to_thread(path.exists):
        print(f"Database: {backend} file {path} not created yet; its folder can be written.")
    else:
        print(f"Database: reached ({backend}{f' at {path}' if path else ''}), writable.")
    if pending:
        print(
            f"Migrations: {len(pending)} pending ({', '.join(pending)}); `plnbot migrate` or run."
        )
    else:
        print("Migrations: up to date.")
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
    if not settings.health.heartbeat_file:
        print("health.heartbeat_file is not set; nothing to check.", file=sys.stderr)
        return 1
    path = Path(settings.health.heartbeat_file)
    try:
        age = time.time() - (await asyncio.to_thread(path.stat)).st_mtime
    except FileNotFoundError:
        if not await asyncio.to_thread(is_folder, path.parent):
            raise StartupError(
                f"Cannot read the heartbeat file {path} (health.heartbeat_file): the folder "
                f"{path.parent} does not exist, so the bot cannot write it either."
            ) from None
        print("No heartbeat yet: the bot is starting or not connected.", file=sys.stderr)
        return 1
    except OSError as exc:
        raise StartupError(
            f"Cannot read the heartbeat file {path} (health.heartbeat_file): "
            f"{explain(exc, path)}. Point it at a file both the bot and `plnbot health` may use."
        ) from exc
    if age > HEALTHY_HEARTBEAT_AGE_SECONDS:
        print(f"Heartbeat is {age:.0f} s old: the gateway is not connected.", file=sys.stderr)
        return 1
    if settings.web_ui.enabled and (problem := await web_problem(settings.web_ui)):
        print(problem, file=sys.stderr)
        return 1
    print(f"Healthy: heartbeat {age:.0f} s ago.")
    return 0


async def _demo(_settings: Settings, args: argparse.Namespace) -> int:
    demo = importlib.import_module(DEMO_MODULE)
    code: int = await demo.main(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
