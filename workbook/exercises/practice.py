"""Workspaces of an exercise's own: practice never changes the lesson's project.

The book runs one project through the lessons, and each lesson ends where the next one
starts (``tests/test_run_all.py``'s continuity tests). An exercise that changes files or
the database therefore works in a workspace of its own, ``<lesson's workspace>-qN``,
built fresh by its ``setup()`` at a stage (``workbook.stages``): the same ids and rows on
every run, running the setup again is a clean restart, and Run All cannot leave the
lesson's project half-practised. ``Workspace.use()`` goes back to the lesson's project,
which the kernel keeps meanwhile: another kernel cannot rebuild it from under this one.
"""

from __future__ import annotations

import re

from workbook import workspace as workspace_module
from workbook.workspace import Workspace

__all__ = ["practice_workspace", "setup_first"]


def practice_workspace(workspace: Workspace, exercise: str, stage: str | None = None) -> Workspace:
    """A fresh workspace ``<lesson's workspace>-<exercise>`` at ``stage`` (default: the
    stage ``workspace`` was built at), made active; ``ws`` in the notebook follows it. The
    kernel still holds the lesson's workspace (``use()`` comes back to it). Raises
    ``WorkspaceError`` (one line) as ``workbook.start`` does."""
    base = re.sub(r"-q\d+$", "", workspace.name)
    own = workspace_module.start(
        f"{base}-{exercise}", stage or workspace.stage.name, quiet=True, returns_to=base
    )
    _point_ws_at(own)
    return own


def _point_ws_at(workspace: Workspace) -> None:
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency of the workbook
        shell = None
    if shell is not None and isinstance(shell.user_ns.get("ws"), Workspace):
        shell.user_ns["ws"] = workspace


def setup_first(workspace: Workspace, exercise: str) -> str:
    """`` Run `qN.setup()` first...`` when ``workspace`` is not ``exercise``'s own (a
    not-attempted check then says where to start), else ``""``."""
    if workspace.name.endswith(f"-{exercise}"):
        return ""
    return f" Run `{exercise}.setup()` first: it builds this exercise's own workspace."
