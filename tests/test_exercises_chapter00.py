"""Chapter 00's exercise, what is particular to it: the answers it accepts and refuses."""

from __future__ import annotations

import pytest

from workbook.exercises import Correct, Incorrect
from workbook.exercises.chapter00 import q1


def test_q1_at_head_through_the_active_workspace(exercise_workspace):
    ws = exercise_workspace("0011")
    answer = q1._solve(ws)
    assert answer == ("0011",)
    result = q1.result(*answer)  # no workspace given: the active one
    assert result == Correct("the database is at revision 0011; `alembic_version` records it.")


@pytest.mark.parametrize(
    "answer, phrase",
    [
        ("head", "the question asks for the id: see `%alembic current`"),
        ("0001", "the database is not at '0001'"),
        ("0005 (head)", "Store just the id, without `(head)`"),
        (5, "the id as a string"),
    ],
)
def test_q1_wrong_answers(exercise_workspace, answer, phrase):
    ws = exercise_workspace("0005")
    result = q1.result(answer, workspace=ws)
    assert isinstance(result, Incorrect)
    assert phrase in result.message


def test_q1_broken_workspace_is_one_line_incorrect(exercise_workspace):
    ws = exercise_workspace("0005")
    ws.db_path.write_bytes(b"this is not a database" * 100)
    result = q1.result("0005", workspace=ws)
    assert isinstance(result, Incorrect)
    assert result.message.startswith("the checker could not read your workspace: ")
    assert "\n" not in result.message and str(ws.path) not in result.message


def test_q1_a_database_without_a_revision_asks_to_rebuild(exercise_workspace):
    ws = exercise_workspace("models")
    assert q1.result("0001", workspace=ws) == Incorrect(
        "the workspace's database has no revision yet: rebuild the workspace (run the "
        "chapter's first cell again)."
    )
