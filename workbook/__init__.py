"""The notebooks' toolkit: workspaces, ``%alembic``, pictures, exercises.

Every chapter starts with::

    import workbook
    ws = workbook.start("03_autogenerate", stage="models")
"""

from workbook.runner import AlembicCommandError
from workbook.stages import STAGES
from workbook.workspace import Workspace, WorkspaceError, active_workspace, start

__all__ = ["start", "Workspace", "WorkspaceError", "AlembicCommandError", "STAGES",
           "active_workspace"]
