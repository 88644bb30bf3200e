"""`plnbot demo [--fast | --real-time] [--keep DIR] [--interactive]`.

The emulator starts in-process with the sample community; the bot is built by the composition
root (`bot.app.build_bot`) from settings that point it at the emulator and at a SQLite file in
a temporary folder (or DIR), and started through `bot.cli.serve`, as `plnbot run` starts it:
migrations, cogs, the real discord.py client over HTTP and a websocket on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from rich.console import Console

from bot.app import build_bot
from bot.cli import serve
from bot.core import PLNBot
from bot.errors import ConfigError, StartupError
from bot.settings import (
    CommandSettings,
    DatabaseSettings,
    DiscordSettings,
    Secret,
    Settings,
    WebSettings,
)
from discord_emulator import DiscordEmulator
from pln_demo.clock import DemoClock
from pln_demo.community import SERVER_TIMEZONE, Community, build_community
from pln_demo.director import DemoError, Director, Pace
from pln_demo.interactive import Interactive
from pln_demo.render import PlainView, RichView
from pln_demo.story import STORY, Play
from pln_demo.transcript import Transcript, View

log = logging.getLogger("pln_demo")

READY_SECONDS = 15.0
STOP_SECONDS = 10.0
DEFAULT_DATABASE = Path("data/pln.db")
TRANSCRIPT_FILE, LOG_FILE, DATABASE_FILE = "transcript.json", "demo.log", "pln.db"


async def main(args: argparse.Namespace) -> int:
    """Play the story; 0 when every step happened, 1 when one did not (the line says which)."""
    if getattr(args, "config", None) is not None:
        print("plnbot demo runs on its own settings; --config is not used.", file=sys.stderr)
    pace = Pace.fast() if args.fast else Pace.reading()
    view: View = RichView(Console()) if sys.stdout.isatty() else PlainView(sys.stdout)
    with tempfile.TemporaryDirectory(prefix="plnbot-demo-") as scratch:
        folder = _keep_folder(args.keep) if args.keep is not None else Path(scratch)
        with _logging(folder if args.keep is not None else None, debug=args.debug) as capture:
            demo = Demo(folder, pace, view, capture)
            return await demo.play(interactive=args.interactive)


def demo_settings(emulator: DiscordEmulator, database: Path) -> Settings:
    """The bot's settings for the demo: nothing from config.toml or PLNBOT_* (a production
    token, database or heartbeat must never meet the demo)."""
    return Settings(
        discord=DiscordSettings(
            token=Secret(emulator.token),
            api_base_url=emulator.api_base_url,
            gateway_url=emulator.gateway_url,
            message_content_intent=True,
            members_intent=True,
            guild_ready_timeout=0.01,
        ),
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{database}"),
        # A week in seconds: the moderator types faster than any person could.
        commands=CommandSettings(per_user_rate=100, per_user_seconds=10),
        # Offline: links keep the titles members give them.
        web=WebSettings(fetch_pages=False),
    )


def require_offline(settings: Settings) -> None:
    """Refuse to start unless the bot would talk to the local emulator only."""
    for key, url in (
        ("discord.api_base_url", settings.discord.api_base_url),
        ("discord.gateway_url", settings.discord.gateway_url),
    ):
        host = urlsplit(url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError(
                f"plnbot demo talks to its own emulated Discord only, and {key} = {url!r} is "
                "not on this machine. The demo never connects to Discord."
            )
    if settings.web.fetch_pages:
        raise ConfigError("plnbot demo fetches nothing from the web; web.fetch_pages is true.")


def first_monday_after(today: datetime) -> datetime:
    """00:00 of the first Monday after `today` (aware, in its zone): the demo's week."""
    days = 7 - today.weekday()
    date = (today + timedelta(days=days)).date()
    return datetime(date.year, date.month, date.day, tzinfo=today.tzinfo)


class Demo:
    def __init__(self, folder: Path, pace: Pace, view: View, capture: _Capture) -> None:
        self.folder = folder
        self.pace = pace
        self.view = view
        self.capture = capture
        self.started = time.perf_counter()

    async def play(self, *, interactive: bool) -> int:
        zone = ZoneInfo(SERVER_TIMEZONE)
        monday = first_monday_after(datetime.now(zone))
        self.clock = DemoClock(monday.replace(hour=7, minute=50))
        emulator = DiscordEmulator(clock=self.clock.now)
        emulator.wait_timeout = 10.0
        await emulator.start()
        try:
            settings = demo_settings(emulator, self.folder / DATABASE_FILE)
            require_offline(settings)  # before the bot exists
            community = build_community(emulator)
            transcript = Transcript(emulator, community, self.clock.now, self.view)
            self.capture.transcript = transcript
            stop_watching = transcript.watch()
            try:
                error = await self._run(settings, emulator, transcript, monday, interactive)
            finally:
                stop_watching()
        finally:
            await emulator.stop()
        self._write(transcript, community, error, time.perf_counter() - self.started, emulator)
        if error is not None:
            print(f"plnbot demo: {error}", file=sys.stderr)
            return 1
        return 0

    async def _run(
        self,
        settings: Settings,
        emulator: DiscordEmulator,
        transcript: Transcript,
        monday: datetime,
        interactive: bool,
    ) -> str | None:
        """The bot up, the story, then (if asked) the keyboard; the reason it failed, or None."""
        bot = build_bot(settings, clock=self.clock)
        try:
            async with bot:  # as `plnbot run` does, then the same `serve`
                serving = asyncio.create_task(serve(bot, emulator.token), name="demo-serve")
                try:
                    await _ready(bot, serving, emulator)
                    director = Director(
                        emulator, transcript.community, bot, self.clock, transcript, self.pace
                    )
                    await self._story(Play(director, monday), transcript)
                    if interactive:
                        await Interactive(director).run()
                finally:
                    await _stop(bot, serving)
        except DemoError as exc:
            return str(exc)
        return None

    async def _story(self, play: Play, transcript: Transcript) -> None:
        emulator = play.director.emulator
        pace = "as fast as the bot answers" if not self.pace.action else "at a reading pace"
        transcript.note(
            f"A week in {play.director.community.guild.name}: a moderator and "
            f"{len(play.director.community.members)} members, the real bot, an emulated Discord, "
            f"played {pace}."
        )
        director = play.director
        story_began = time.perf_counter()
        for index, step in enumerate(STORY, start=1):
            if step.at is not None:
                await director.move_to(play.at(*step.at))
            result = transcript.begin(step.name, f"{index}/{len(STORY)} · {step.title}")
            began = time.perf_counter()
            try:
                await director.run_due()
                await step.play(play)
                if emulator.violations:
                    found = "; ".join(str(v) for v in emulator.take_violations())
                    raise DemoError(f"the bot broke Discord's rules: {found}")
            except DemoError as exc:
                result.error = str(exc)
                raise DemoError(f"step {step.name!r} ({step.title}) failed: {exc}") from None
            except Exception as exc:  # e.g. a command the bot no longer has: still one line
                log.error("Step %s failed", step.name, exc_info=exc)
                result.error = f"{type(exc).__name__}: {exc}"
                raise DemoError(
                    f"step {step.name!r} ({step.title}) failed: {result.error}"
                ) from None
            finally:
                result.seconds = round(time.perf_counter() - began, 3)
            result.ok = True
        now = time.perf_counter()
        transcript.chapter("The end of the week")
        transcript.note(
            f"All {len(STORY)} steps played in {now - story_began:.1f} s "
            f"({now - self.started:.1f} s with the emulator and the bot starting)."
        )

    def _write(
        self,
        transcript: Transcript,
        community: Community,
        error: str | None,
        seconds: float,
        emulator: DiscordEmulator,
    ) -> None:
        document = transcript.as_json(
            version=1,
            outcome="ok" if error is None else "failed",
            error=error,
            seconds=round(seconds, 2),
            pace="fast" if not self.pace.action else "real-time",
            community={
                "server": community.guild.name,
                "timezone": str(community.timezone),
                "moderator": community.moderator.name,
                "members": {p.name: str(p.timezone) for p in community.members},
            },
            story=[step.name for step in STORY],
            requests=len(emulator.requests),
        )
        path = self.folder / TRANSCRIPT_FILE
        path.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")


async def _ready(bot: PLNBot, serving: asyncio.Task[None], emulator: DiscordEmulator) -> None:
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait(
        {ready, serving}, timeout=READY_SECONDS, return_when=asyncio.FIRST_COMPLETED
    )
    if ready not in done:
        ready.cancel()
        if serving in done:
            serving.result()  # its StartupError says why
        raise DemoError(f"the bot did not connect to the emulator within {READY_SECONDS:.0f} s")
    ready.result()
    # What `plnbot sync-commands` does, here against the emulated application.
    await bot.tree.sync()
    await emulator.wait_for_bot_ready()
    started = bot.scheduling_started()
    if started is not None:
        await asyncio.wait_for(started, READY_SECONDS)


async def _stop(bot: PLNBot, serving: asyncio.Task[None]) -> None:
    await bot.close()
    with suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(serving), STOP_SECONDS)
    if serving.done() and not serving.cancelled() and serving.exception() is not None:
        log.error("The bot stopped with an error", exc_info=serving.exception())


def _keep_folder(folder: Path) -> Path:
    """DIR for --keep: created if needed; refused if it holds a database already or is where
    the real bot keeps its own."""
    database = folder / DATABASE_FILE
    if database.resolve() == DEFAULT_DATABASE.resolve():
        raise ConfigError(
            f"--keep {folder} would put the demo's database where the bot keeps its own "
            f"({DEFAULT_DATABASE}); choose another folder."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(f"Cannot create the --keep folder {folder}: {exc.strerror}.") from exc
    for name in (DATABASE_FILE, TRANSCRIPT_FILE):
        if (folder / name).exists():
            raise ConfigError(
                f"--keep {folder} already holds {name}; the demo starts from an empty folder. "
                "Choose another one, or remove it."
            )
    return folder


class _Capture(logging.Handler):
    """Warnings and errors from the bot, the emulator and discord.py, into the transcript."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.transcript: Transcript | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.transcript is None:  # before the emulator is up
            print(f"log {record.levelname} {record.name}: {record.getMessage()}", file=sys.stderr)
        else:
            self.transcript.log(record)


@contextmanager
def _logging(folder: Path | None, *, debug: bool) -> Iterator[_Capture]:
    capture = _Capture()
    handlers: list[logging.Handler] = [capture]
    if folder is not None:
        file = logging.FileHandler(folder / LOG_FILE, encoding="utf-8")
        file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handlers.append(file)
    root = logging.getLogger()
    saved: dict[str, Any] = {"handlers": root.handlers[:], "level": root.level}
    root.handlers = handlers
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    logging.getLogger("discord").setLevel(logging.DEBUG if debug else logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        yield capture
    finally:
        for handler in handlers:
            handler.close()
        root.handlers = saved["handlers"]
        root.setLevel(saved["level"])
