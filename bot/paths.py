"""Why a file or folder cannot be used, in a few words an operator can act on.

One way to explain a path problem, for every file the bot touches: the SQLite database and its
folder, the log file, the heartbeat file and backups. The checks are tried for real (a temporary
file is created and removed), because permission bits do not tell the whole story: root ignores
them, and a read-only or special file system refuses writes whatever they say.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from bot.errors import StartupError


def explain(error: OSError, path: Path) -> str:
    """What went wrong with `path`, e.g. "permission denied" or "notes is a file, not a folder"."""
    code = error.errno
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if code == errno.EROFS:
        return "the file system is read-only"
    if code in (errno.ENOTDIR, errno.EEXIST):
        blocker = _file_in_the_way(path)
        if blocker is not None:
            return f"{blocker} is a file, not a folder"
    if code == errno.EISDIR:
        return f"{path} is a folder, not a file"
    if code == errno.ENOENT:
        if is_folder(path.parent):
            return f"{path} does not exist"
        return f"the folder {path.parent} does not exist"
    return (error.strerror or type(error).__name__).lower()


def ensure_folder(folder: Path, *, purpose: str, fix: str) -> None:
    """Create `folder` (and its parents) if needed, or raise a StartupError naming it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(
            f"Cannot create the folder {folder} for {purpose}: {explain(exc, folder)}. {fix}"
        ) from exc
    if not is_folder(folder):
        raise StartupError(f"Cannot use {folder} for {purpose}: it is not a folder. {fix}")


def folder_problem(folder: Path) -> str | None:
    """Why new files cannot be made in `folder` (tried with a temporary file), or None."""
    try:
        handle, name = tempfile.mkstemp(dir=folder, prefix=".plnbot-check-")
    except OSError as exc:
        shown = folder if folder.is_absolute() else folder.absolute()
        return f"cannot create files in {shown}: {explain(exc, folder)}"
    os.close(handle)
    os.unlink(name)
    return None


def file_problem(path: Path) -> str | None:
    """Why the bot could not write the file `path` (and files beside it, as SQLite does),
    without leaving anything behind; None if it can. A missing file is judged by whether it
    could be created, including the folders it would need."""
    if is_folder(path):
        return f"{path} is a folder, not a file"
    if _exists(path):
        try:
            with path.open("r+b"):
                pass
        except OSError as exc:
            return f"cannot write {path}: {explain(exc, path)}"
        return folder_problem(path.parent)
    existing = _first_existing(path.parent)
    if not is_folder(existing):
        return f"{existing} is a file, not a folder"
    return folder_problem(existing)


def _first_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if _exists(candidate):
            return candidate
    return Path(path.anchor or ".")


def _file_in_the_way(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        if _exists(candidate):
            return None if is_folder(candidate) else candidate
    return None


# Path.exists() and is_dir() raise on a folder that cannot be searched; here that only means
# "cannot tell", which the caller's real attempt then explains.
def _exists(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError:
        return False
    return True


def is_folder(path: Path) -> bool:
    """Whether `path` is a folder; False also when that cannot be told."""
    try:
        return path.is_dir()
    except OSError:
        return False
