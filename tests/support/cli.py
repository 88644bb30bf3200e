"""Running `plnbot` as an operator does: a child process with a clean environment."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class CommandResult:
    code: int
    out: str
    err: str


PlnbotCommand = Callable[..., Awaitable[CommandResult]]


async def spawn_plnbot(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """`plnbot ARGS` started in a child process, as an operator runs it (no PLNBOT_/DISCORD_ env
    leaks in); its output is piped."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PLNBOT_", "DISCORD_"))}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=cwd,
        env={**clean, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run_plnbot(*args: str, cwd: Path, env: dict[str, str] | None = None) -> CommandResult:
    """`plnbot ARGS` run to its end in a child process."""
    process = await spawn_plnbot(*args, cwd=cwd, env=env)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return CommandResult(process.returncode, out.decode(), err.decode())
