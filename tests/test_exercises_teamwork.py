"""Chapter 08's q2: the downgrade that pytest-alembic's fourth test catches."""

from __future__ import annotations

from tests.exercise_helpers import assert_incorrect, assert_not_attempted, run
from tests.exercise_workspaces import fresh_workspace, own_workspace
from workbook.exercises import teamwork
from workbook.exercises.chapter08 import q2
from workbook.exercises.core import EditRevision
from workbook.exercises.inspect import workspace_schema

ws = fresh_workspace("head")
teammate = own_workspace(q2)  # the exercise's own


def test_q2_setup_applies_a_revision_whose_downgrade_does_nothing(ws, teammate):
    assert teammate.name == f"{ws.name}-q2" and ws.current() == ["0012"]
    assert teammate.current() == ["0013"]
    run(teammate, "downgrade -1")
    assert "duplicate column name: subtitle" in teammate.run("upgrade head").error  # the bug
    run(teammate, "stamp head")
    assert_not_attempted(q2.result(workspace=teammate), "downgrade() still does nothing")
    assert_not_attempted(q2.result(workspace=ws), "run `q2.setup()` first")  # the lesson's project


def test_q2_a_downgrade_that_drops_the_wrong_column(teammate):
    drop_language = teamwork._DROP.replace("subtitle", "language")
    EditRevision(teamwork.EMPTY_DOWNGRADE, drop_language).apply(teammate)
    assert_incorrect(q2.result(workspace=teammate), "books.subtitle is still there")


def test_q2_a_downgrade_that_fails(teammate):
    broken = teamwork._DROP.replace("subtitle", "no_such_column")
    EditRevision(teamwork.EMPTY_DOWNGRADE, broken).apply(teammate)
    assert_incorrect(q2.result(workspace=teammate), "`downgrade 0012` fails: ")


def test_q2_fixed_but_left_downgraded(teammate):
    q2._solve(teammate)
    run(teammate, "downgrade -1")
    assert "subtitle" not in workspace_schema(teammate)["books"].columns
    assert_incorrect(q2.result(workspace=teammate), "`%alembic upgrade head`")


def test_q2_revision_deleted(teammate):
    teammate.revision_file("head").unlink()
    assert_incorrect(q2.result(workspace=teammate), "is gone: fix its downgrade instead")
