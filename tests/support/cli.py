"""Running `plnbot` as an operator does: a child process with a clean environment."""

from __future__ import annotations

import asyncio
import ctypes
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

# Linux capabilities that let root read and write whatever the permission bits say.
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2
_PR_CAPBSET_DROP = 24


@dataclass
class CommandResult:
    code: int
    out: str
    err: str


PlnbotCommand = Callable[..., Awaitable[CommandResult]]


def clean_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without PLNBOT_/DISCORD_ settings, plus `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PLNBOT_", "DISCORD_"))}
    return {**clean, **(env or {})}


def as_plain_user() -> None:
    """For a child process (`preexec_fn`): permission bits apply to it even when it runs as
    root, as they do for any other user. Root normally overrides them (CAP_DAC_OVERRIDE,
    CAP_DAC_READ_SEARCH); dropping both from the bounding set before exec takes them away from
    the program that runs. Without root there is nothing to drop, and the bits apply anyway."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


# Makes `import asyncpg` fail exactly as on a machine without it (ModuleNotFoundError, name set).
WITHOUT_ASYNCPG = """
import sys
class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name == "asyncpg" or name.startswith("asyncpg."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NotInstalled())
"""


def _command(prelude: str) -> list[str]:
    if not prelude:
        return [sys.executable, "-m", "bot.cli"]
    launch = f"{prelude}\nimport runpy\nrunpy.run_module('bot.cli', run_name='__main__')"
    return [sys.executable, "-c", launch]


async def spawn_plnbot(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    prelude: str = "",
    plain_user: bool = False,
    with_stdin: bool = False,
) -> asyncio.subprocess.Process:
    """`plnbot ARGS` started in a child process, as an operator runs it (no PLNBOT_/DISCORD_ env
    leaks in); its output is piped.

    `prelude`: Python run first in the child (e.g. `WITHOUT_ASYNCPG`); `plain_user`: the child
    obeys permission bits even as root (`as_plain_user`).
    """
    return await asyncio.create_subprocess_exec(
        *_command(prelude),
        *args,
        cwd=cwd,
        env=clean_env(env),
        stdin=asyncio.subprocess.PIPE if with_stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=as_plain_user if plain_user else None,
    )


async def run_plnbot(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    prelude: str = "",
    plain_user: bool = False,
    stdin: str | None = None,
    limit: float = 60,
) -> CommandResult:
    """`plnbot ARGS` run to its end in a child process (see `spawn_plnbot`)."""
    process = await spawn_plnbot(
        *args,
        cwd=cwd,
        env=env,
        prelude=prelude,
        plain_user=plain_user,
        with_stdin=stdin is not None,
    )
    given = stdin.encode() if stdin is not None else None
    out, err = await asyncio.wait_for(process.communicate(given), timeout=limit)
    assert process.returncode is not None
    return CommandResult(process.returncode, out.decode(), err.decode())
