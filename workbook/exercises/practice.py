"""Workspaces of an exercise's own: practice never changes the lesson's project.

The book runs one project through the lessons, and each lesson ends where the next one
starts (``tests/test_run_all.py``'s continuity tests). An exercise that changes files or
the database therefore works in a workspace of its own, ``<lesson's workspace>-qN``,
built fresh by its ``setup()`` at a stage (``workbook.stages``): the same ids and rows on
every run, running the setup again is a clean restart, and Run All cannot leave the
lesson's project half-practised. ``Workspace.use()`` goes back to the lesson's project,
which the kernel keeps meanwhile: another kernel cannot rebuild it from under this one.

A clean restart loses nothing: the folder as the setup left it is recorded when the
setup's cell ends, and a later setup that finds the learner's work there (files or
database changed since) moves it to ``.previous/`` first and says where, in one line.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from workbook import ownership
from workbook import workspace as workspace_module
from workbook.building import DATABASE_FILE
from workbook.workspace import Workspace

__all__ = ["practice_workspace", "setup_first"]

# Folders a setup is preparing, recorded as built when its cell ends: state file -> folder.
_being_set_up: dict[Path, Path] = {}


def practice_workspace(workspace: Workspace, exercise: str, stage: str | None = None) -> Workspace:
    """A fresh workspace ``<lesson's workspace>-<exercise>`` at ``stage`` (default: the
    stage ``workspace`` was built at), made active; ``ws`` in the notebook follows it. The
    kernel still holds the lesson's workspace (``use()`` comes back to it). The learner's
    work in an earlier one is kept (see the module). Raises ``WorkspaceError`` (one line)
    as ``workbook.start`` does."""
    base = re.sub(r"-q\d+$", "", workspace.name)
    own = Workspace(f"{base}-{exercise}", stage or workspace.stage.name)
    kept = _keep_earlier_attempt(own)
    own = workspace_module.start(own.name, own.stage.name, quiet=True, returns_to=base)
    _record_when_set_up(own)
    _point_ws_at(own)
    if kept is not None:
        where = Path(os.path.relpath(kept, own.path)).as_posix()
        print(
            f"Your earlier work in {own.name!r} (files and {DATABASE_FILE}, as you left them) "
            f"is kept in {where}, beside this fresh workspace: copy back what you need, "
            f"a file f with ws.write(f, open('{where}/' + f).read())."
        )
    return own


def _keep_earlier_attempt(own: Workspace) -> Path | None:
    """Move ``own``'s folder to ``.previous/`` when it changed since its setup built it;
    None when there is nothing to keep. WorkspaceError when another kernel uses it."""
    if not own.path.is_dir():
        return None
    own.claim()  # another kernel's workspace is left as it is
    state = ownership.read_state(workspace_module.kernel_files(own.name)[1])
    root = workspace_module.workspaces_root()
    os.chdir(root)  # never stand in a folder being moved
    # Unchanged since the setup left it (Run All ran the setup again): rebuilt silently.
    return ownership.keep_if_changed(own.path, state, root / ".previous")


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the workbook
        return None
    return get_ipython()


def _record_when_set_up(workspace: Workspace) -> None:
    """The setup goes on after the build (a mistake to fix, a teammate's revision): what
    it built is the folder when its cell ends (IPython's ``post_run_cell``). Outside
    IPython no cell ends: the build's state stands, and a later setup keeps the folder."""
    shell = _shell()
    if shell is None:
        return
    _being_set_up[workspace_module.kernel_files(workspace.name)[1]] = workspace.path
    if _record_set_up not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _record_set_up)


def _record_set_up(*_result) -> None:
    while _being_set_up:
        state_file, folder = _being_set_up.popitem()
        # Unrecorded (a folder gone, a file system refusing), a later setup keeps the folder.
        with contextlib.suppress(OSError):
            if folder.is_dir():
                ownership.write_state(state_file, built=ownership.built_state(folder))


def _point_ws_at(workspace: Workspace) -> None:
    shell = _shell()
    if shell is not None and isinstance(shell.user_ns.get("ws"), Workspace):
        shell.user_ns["ws"] = workspace


def setup_first(workspace: Workspace, exercise: str) -> str:
    """`` Run `qN.setup()` first...`` when ``workspace`` is not ``exercise``'s own (a
    not-attempted check then says where to start), else ``""``."""
    if workspace.name.endswith(f"-{exercise}"):
        return ""
    return f" Run `{exercise}.setup()` first: it builds this exercise's own workspace."
