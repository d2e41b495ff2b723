"""Exercises of chapter 06: resolve two heads with a merge, find a branch point."""

from __future__ import annotations

import os

import pytest

from tests.exercise_helpers import assert_incorrect, assert_not_attempted, run
from tests.exercise_workspaces import fresh_workspace, own_workspace
from workbook.exercises import Correct, NotAttempted, ____, chapter06
from workbook.exercises.chapter06 import BRANCH_POINT, MINE, THEIRS, q1, q2
from workbook.exercises.inspect import find_revision, workspace_schema
from workbook.workspace import active_workspace

ws = fresh_workspace("0007")


# -- q1: two heads -----------------------------------------------------------------------------
conflict = own_workspace(q1)


def test_q1_setup_makes_two_heads_from_0007(conflict, capsys):
    assert conflict.heads() == ["0008", "0009"]
    assert conflict.current() == ["0008"]
    assert find_revision(conflict, MINE).revision == "0008"
    theirs = find_revision(conflict, THEIRS)
    assert theirs.revision == "0009" and theirs.down_revision == "0007"
    assert "language" in workspace_schema(conflict)["books"].columns
    assert "location" in conflict.read("app/models/user.py")
    assert os.getcwd() == str(conflict.path)  # the kernel stays in the workspace
    result = q1.result(workspace=conflict)
    assert_not_attempted(result, "still two heads, 0008, 0009")


def test_q1_setup_again_starts_over(conflict, capsys):
    run(conflict, 'merge heads -m "Merge"')
    q1.setup(workspace=conflict)
    assert (
        capsys.readouterr().out.count(
            "(this exercise's own: `ws` and `%alembic` act on it now) was built at 0007"
        )
        == 1
    )
    assert conflict.heads() == ["0008", "0009"]
    assert isinstance(q1.result(workspace=conflict), NotAttempted)


def test_q1_more_revisions_after_the_merge_are_fine(conflict):
    q1._solve(conflict)
    run(conflict, 'revision -m "Something after the merge"')
    run(conflict, "upgrade head")
    assert isinstance(q1.result(workspace=conflict), Correct)


def test_q1_deleting_the_teammates_revision(conflict):
    conflict.revision_file("0009").unlink()
    run(conflict, "upgrade head")  # one head again, and it "works"
    assert_incorrect(q1.result(workspace=conflict), f'the revision "{THEIRS}" is gone')


def test_q1_deleting_your_own_applied_revision(conflict):
    conflict.revision_file("0008").unlink()
    assert_incorrect(q1.result(workspace=conflict), f'the revision "{MINE}" is gone')


def test_q1_merged_but_not_upgraded(conflict):
    run(conflict, 'merge heads -m "Merge language and location"')
    assert_incorrect(
        q1.result(workspace=conflict),
        "the merge 0010 is written but not applied: the database is at 0008. "
        "`%alembic upgrade head` applies 0009 and then 0010.",
    )


def test_q1_both_branches_applied_then_merged_names_only_the_merge(conflict):
    """After `upgrade heads`, 0009 is applied already: the upgrade runs the merge alone."""
    run(conflict, "upgrade heads")
    run(conflict, 'merge heads -m "Merge language and location"')
    assert_incorrect(
        q1.result(workspace=conflict),
        "the merge 0010 is written but not applied: the database is at 0008, 0009. "
        "`%alembic upgrade head` applies 0010.",
    )


def test_q1_upgrade_heads_without_a_merge(conflict):
    run(conflict, "upgrade heads")
    assert conflict.current() == ["0008", "0009"]
    assert_incorrect(
        q1.result(workspace=conflict),
        "the database has both branches applied "
        "(`upgrade heads`), but the history still "
        "has 2 heads (0008, 0009)",
    )


def test_q1_a_third_head(conflict):
    run(conflict, 'revision -m "Another" --head 0007 --splice')
    assert_incorrect(q1.result(workspace=conflict), "there are still 3 heads (0008, 0009, 0010)")


def test_q1_rebased_instead_of_merged(conflict):
    conflict.edit(
        conflict.revision_file("0009"),
        "down_revision: Union[str, Sequence[str], None] = '0007'",
        "down_revision: Union[str, Sequence[str], None] = '0008'",
    )
    run(conflict, "upgrade head")
    assert_incorrect(q1.result(workspace=conflict), "no revision merges 0008 and 0009")


def test_q1_merged_and_upgraded_but_a_model_disagrees(conflict):
    q1._solve(conflict)
    conflict.edit("app/models/user.py", chapter06._LOCATION, "")
    assert_incorrect(q1.result(workspace=conflict), "the models and the database still differ")


def test_q1_broken_revision_file(conflict):
    conflict.edit(conflict.revision_file("0009"), "def upgrade() -> None:", "def upgrade( -> None:")
    assert_incorrect(q1.result(workspace=conflict), "the revision scripts do not load: SyntaxError")


def test_setups_leave_the_chapter_workspace_as_it_is(ws, capsys):
    """Run All runs both setups after the chapter: its workspace (and timeline) stay."""
    run(ws, "upgrade head")
    before = (ws.heads(), ws.current(), ws.read("app/models/book.py"))
    q1.setup(workspace=ws)
    q2.setup(workspace=active_workspace())
    assert (ws.heads(), ws.current(), ws.read("app/models/book.py")) == before
    assert active_workspace().name == f"{ws.name}-q2"
    q1.setup(workspace=active_workspace())  # back to exercise 1: its own workspace again
    assert active_workspace().name == f"{ws.name}-q1"


# -- q2: the branch point ---------------------------------------------------------------------
history = own_workspace(q2)


def test_q2_setup_builds_one_branch_point(history):
    script = history.script_directory()
    points = [s.revision for s in script.walk_revisions() if s.is_branch_point]
    assert points == [BRANCH_POINT]
    assert history.heads() == ["6a9e2d14c7b3"]
    assert history.current() == ["0007"]
    assert isinstance(q2.result(____, workspace=history), NotAttempted)
    assert isinstance(q2.result(workspace=history), NotAttempted)


def test_q2_a_unique_start_of_the_id_is_accepted(history):
    result = q2.result(f" {BRANCH_POINT[:6]} ", workspace=history)
    assert result == Correct(
        f"{BRANCH_POINT} is the branch point: two revisions revise it, "
        "2c7f0d93e1b4 and e9a06b3f5c12."
    )


@pytest.mark.parametrize(
    "answer, phrase",
    [
        ("6a9e2d14c7b3", "6a9e2d14c7b3 is a head"),
        ("f03b7e5d9a28", "f03b7e5d9a28 is a merge point: the branches come together there"),
        ("0007", "0007 has one child (8d2f41c07a3e)"),
        ("47d1c8a2f690", "47d1c8a2f690 has one child (f03b7e5d9a28)"),
        ("deadbeef", "there is no revision 'deadbeef' in this history"),
        ("", "there is no revision '' in this history"),
        (8, "`answer` should be a revision id, a string"),
    ],
    ids=["head", "merge", "one-child", "other", "unknown", "empty", "not-a-string"],
)
def test_q2_wrong_answers(history, answer, phrase):
    assert_incorrect(q2.result(answer, workspace=history), phrase)


def test_q2_broken_revision_file(history):
    path = history.revision_file(BRANCH_POINT)
    path.write_text(path.read_text().replace("def upgrade() -> None:", "def upgrade( -> None:"))
    assert_incorrect(q2.result(BRANCH_POINT, workspace=history), "SyntaxError")


def test_q2_setup_writes_what_alembic_writes(history, exercise_workspace):
    """The setup writes its seven files directly (fast); they match what alembic writes."""
    other = exercise_workspace("0007")
    rev_id, message, _parents = chapter06.HISTORY[0]
    run(other, f'revision -m "{message}" --rev-id {rev_id}')
    for rev_id, _message, _parents in chapter06.HISTORY[1:5]:  # up to the merge's parents
        source = history.revision_file(rev_id)
        other.write(f"alembic/versions/{source.name}", source.read_text())
    merge_id, message, parents = chapter06.HISTORY[5]
    run(other, f'merge -m "{message}" --rev-id {merge_id} {" ".join(parents)}')
    for rev_id in (chapter06.HISTORY[0][0], merge_id):
        made, written = other.revision_file(rev_id), history.revision_file(rev_id)
        assert made.name == written.name
        assert made.read_text() == written.read_text()
