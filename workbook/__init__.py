"""The notebooks' toolkit: workspaces, ``%alembic``, pictures, exercises.

Every chapter starts with::

    import workbook
    ws = workbook.start("03_autogenerate", stage="models")
"""

import sys

if sys.platform == "emscripten":  # the in-browser edition: see workbook.browser
    from workbook import browser

    browser.prepare()

from workbook import views  # noqa: E402  (after the browser's import adaptations)
from workbook.runner import AlembicCommandError
from workbook.stages import STAGES
from workbook.workspace import Workspace, WorkspaceError, active_workspace, start



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


__all__ = ["start", "Workspace", "WorkspaceError", "AlembicCommandError", "STAGES",
           "active_workspace", "views", "timeline", "progress"]
