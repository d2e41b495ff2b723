"""Which kernel uses a workspace, and what the workspace was built as.

A kernel that starts (or attaches to) a workspace holds an operating-system lock on
``<workspaces>/.kernels/<name>.lock`` for as long as it uses it. The OS releases the lock
when the process ends, however it ends (restart, crash, kill): there is no stale process
id to guess about. A second kernel that asks for the same workspace finds it locked and is
refused, instead of deleting the folder under the first one.

``<name>.json`` beside the lock records the owner's process id (``owner``), the stage,
the process that built the folder (``built_by``) and a fingerprint of it as built
(``built``): a later kernel can tell whether the folder holds work that differs from its
stage (see ``workbook.workspace``); :func:`move_aside` keeps such work in ``.previous/``
(never over an earlier copy). :func:`has_open_write_transaction` tells whether a
connection (the learner's own ``sqlite3`` one, say) is writing to its database.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import sqlite3
import tempfile
import urllib.parse
from pathlib import Path
from typing import IO

FOLDER = ".kernels"

_held: dict[str, IO] = {}  # lock file path -> the open file that holds its lock


def _try_lock(handle: IO) -> bool:
    """Lock ``handle``'s file without waiting; True when this process now holds it."""
    try:
        import fcntl
    except ImportError:
        fcntl = None
    if fcntl is not None and hasattr(fcntl, "flock"):
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError:  # a file system without locks (some network mounts): never block
            return True
        return True
    try:
        import msvcrt
    except ImportError:  # no locks at all (JupyterLite: one kernel per page, files in memory)
        return True
    try:
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def claim(lock_file: Path) -> bool:
    """Hold ``lock_file`` for this process; False when another live process holds it.

    Holding it again is a no-op. ``lock_file``'s folder is created if needed.
    """
    key = str(lock_file)
    if key in _held:
        return True
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_file, "a+")  # noqa: SIM115 - held open for the kernel's lifetime
    if not _try_lock(handle):
        handle.close()
        return False
    _held[key] = handle
    return True


def holds(lock_file: Path) -> bool:
    return str(lock_file) in _held


def release(lock_file: Path) -> None:
    """Let other kernels have the workspace (closing the file drops the lock)."""
    handle = _held.pop(str(lock_file), None)
    if handle is not None:
        handle.close()


def release_all_except(*lock_files: Path) -> None:
    """Drop the locks of the workspaces a kernel left; it keeps ``lock_files``: the one it
    uses, and the one it comes back to (an exercise's lesson)."""
    kept = {str(lock_file) for lock_file in lock_files}
    for key in [k for k in _held if k not in kept]:
        release(Path(key))


@atexit.register
def _release_all() -> None:
    release_all_except()


def read_state(state_file: Path) -> dict:
    """The recorded state (empty when there is none or it does not read)."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def write_state(state_file: Path, **values) -> None:
    """Update the recorded state atomically (a reader sees the old or the new file)."""
    state = {**read_state(state_file), **values}
    state_file.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{state_file.name}.", dir=state_file.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(state, stream, sort_keys=True)
        os.replace(partial, state_file)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


def built_state(path: Path) -> str:
    """Every file's name, size and modification time (bytecode aside): equal to the value
    recorded at build time while nothing in the workspace has changed. Stat only, no reads."""
    digest = hashlib.sha256()
    for file in sorted(path.rglob("*")):
        if file.is_file() and "__pycache__" not in file.relative_to(path).parts:
            stat = file.stat()
            digest.update(f"{file.relative_to(path)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def move_aside(folder: Path, previous: Path) -> Path:
    """Move ``folder`` into ``previous`` (created if needed) as ``<name>``, or ``<name>-2``,
    ``-3``, ... when taken: a copy kept earlier is never replaced. Returns the new path."""
    previous.mkdir(parents=True, exist_ok=True)
    kept, number = previous / folder.name, 1
    while kept.exists() or kept.is_symlink():
        number += 1
        kept = previous / f"{folder.name}-{number}"
    os.replace(folder, kept)
    return kept


def keep_if_changed(folder: Path, state: dict, previous: Path) -> Path | None:
    """Move ``folder`` into ``previous`` (:func:`move_aside`) when it differs from the
    fingerprint ``state`` recorded as built; None (left in place) when it does not."""
    if state.get("built") == built_state(folder):
        return None
    return move_aside(folder, previous)


def has_open_write_transaction(database: Path) -> bool:
    """Whether a connection (the learner's ``db = sqlite3.connect(...)``, another program)
    holds a write transaction on ``database``: then ``BEGIN IMMEDIATE`` cannot start."""
    if not database.exists():
        return False
    uri = f"file:{urllib.parse.quote(str(database))}?mode=rw"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=0)) as connection:
            connection.execute("BEGIN IMMEDIATE")
            connection.rollback()
    except sqlite3.OperationalError as error:
        return "locked" in str(error)
    except sqlite3.Error:  # not a database at all: nothing to warn about
        return False
    return False
