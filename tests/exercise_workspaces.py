"""The exercise tests' workspaces, as module-level fixtures named by assignment::

    ws = fresh_workspace("0011")  # a fresh workspace at stage 0011 for each test
    legacy = own_workspace(q2)  # the workspace q2.setup() builds of its own, from ws

Both rest on conftest's ``exercise_workspace`` (temporary workspaces folder, state put back).
"""

import pytest

from workbook.workspace import active_workspace


def fresh_workspace(stage: str):
    """A fixture: a fresh, active workspace at ``stage`` for each test (conftest's
    ``exercise_workspace``). Name it by assignment: ``ws = fresh_workspace("0011")``."""

    @pytest.fixture
    def workspace(exercise_workspace):
        return exercise_workspace(stage)

    return workspace


def set_up(exercise, ws):
    """``exercise.setup()`` run from ``ws``: the workspace of the exercise's own it builds
    (``<ws>-qN``, active now)."""
    exercise.setup(workspace=ws)
    return active_workspace()


def own_workspace(exercise, start: str = "ws"):
    """A fixture: :func:`set_up` of ``exercise`` from the workspace of the fixture ``start``.
    Name it by assignment: ``teammate = own_workspace(q2)``."""

    @pytest.fixture
    def own(request):
        return set_up(exercise, request.getfixturevalue(start))

    return own
