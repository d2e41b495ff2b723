"""The notebooks' toolkit: workspaces, ``%alembic``, pictures, exercises.

Every chapter starts with::

    import workbook
    ws = workbook.start("03_autogenerate", stage="models")

After a kernel restart, ``ws = workbook.attach("03_autogenerate")`` continues with the
workspace as it is (the first cell would rebuild it). ``%alembic`` exists from
``import workbook`` on (or ``%load_ext workbook``), and says what to do before a start.
"""

import sys

if sys.platform == "emscripten":  # the in-browser edition: see workbook.browser
    from workbook import browser

    browser.prepare()

from workbook import views  # noqa: E402  (after the browser's import adaptations)
from workbook.runner import AlembicCommandError
from workbook.stages import STAGES
from workbook.workspace import (
    Workspace,
    WorkspaceError,
    _register_magics,
    active_workspace,
    attach,
    start,
)


def load_ipython_extension(shell) -> None:
    """``%load_ext workbook``: ``%alembic`` in this shell."""
    _register_magics(shell)


# In a kernel that imported workbook (its kernelspec loads it: tasks.py), %alembic answers
# from the start (see alembic_magic).
_register_magics()


def timeline(ws=None):
    """The timeline widget of ``ws`` (default: this chapter's workspace).

    Imported on first use: ipywidgets is not needed by chapters without a widget.
    """
    from workbook.timeline_widget import timeline as make_timeline

    return make_timeline(ws)


def __getattr__(name):
    # ``workbook.progress`` without importing it (and ipywidgets) at every chapter's start.
    if name == "progress":
        import importlib

        return importlib.import_module("workbook.progress")
    raise AttributeError(f"module 'workbook' has no attribute {name!r}")


__all__ = [
    "start",
    "attach",
    "Workspace",
    "WorkspaceError",
    "AlembicCommandError",
    "STAGES",
    "active_workspace",
    "views",
    "timeline",
    "progress",
]
