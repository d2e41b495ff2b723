"""Exercises of chapter 03: the add-a-column loop, and a rename autogenerate got wrong."""

from __future__ import annotations

import pytest

from tests.exercise_helpers import assert_incorrect, run
from tests.exercise_workspaces import set_up
from workbook.exercises import Correct, NotAttempted, chapter03
from workbook.exercises.chapter03 import RENAME_MESSAGE, q1, q2
from workbook.exercises.inspect import find_revision
from workbook.workspace import active_workspace

_DESCRIPTION = chapter03._DESCRIPTION
_LANGUAGE = chapter03._LANGUAGE


# -- q1: language ------------------------------------------------------------------------------
def test_q1_from_a_database_without_revisions(exercise_workspace):
    ws = exercise_workspace("models")
    q1._solve(ws)
    assert isinstance(q1.result(workspace=ws), Correct)


def test_q1_model_only(exercise_workspace):
    ws = exercise_workspace("0001")
    ws.edit("app/models/book.py", _DESCRIPTION, _DESCRIPTION + _LANGUAGE)
    assert_incorrect(q1.result(workspace=ws), "autogenerate a revision")


def test_q1_revision_not_applied(exercise_workspace):
    ws = exercise_workspace("0001")
    ws.edit("app/models/book.py", _DESCRIPTION, _DESCRIPTION + _LANGUAGE)
    run(ws, 'revision --autogenerate -m "Add language to books"')
    assert_incorrect(q1.result(workspace=ws), "apply it, `%alembic upgrade head`")


def test_q1_wrong_length_in_the_model(exercise_workspace):
    ws = exercise_workspace("0001")
    ws.edit("app/models/book.py", _DESCRIPTION, _DESCRIPTION + _LANGUAGE.replace("(8)", "(10)"))
    assert_incorrect(
        q1.result(workspace=ws), "Book.language is VARCHAR(10); the exercise asks for String(8)"
    )


def test_q1_hand_edited_revision_that_disagrees_with_the_model(exercise_workspace):
    ws = exercise_workspace("0001")
    ws.edit("app/models/book.py", _DESCRIPTION, _DESCRIPTION + _LANGUAGE)
    run(ws, 'revision --autogenerate -m "Add language to books"')
    ws.edit(ws.revision_file("head"), "sa.String(length=8)", "sa.String(length=16)")
    run(ws, "upgrade head")
    assert_incorrect(q1.result(workspace=ws), "books.language is VARCHAR(16) in the database")


def test_q1_another_model_change_left_unmigrated(exercise_workspace):
    ws = exercise_workspace("0001")
    q1._solve(ws)
    ws.edit(
        "app/models/book.py",
        _LANGUAGE,
        _LANGUAGE + "    pages: Mapped[Optional[int]] = mapped_column(default=None)\n",
    )
    assert_incorrect(
        q1.result(workspace=ws),
        "the models and the database still differ (as "
        "`%alembic check` would say): books.pages is in the models but not in "
        "the database.",
    )


def test_q1_broken_model_file(exercise_workspace):
    ws = exercise_workspace("0001")
    ws.edit(
        "app/models/book.py",
        "class Book(Base, TimestampMixin):",
        "class Book(Base, TimestampMixin)",
    )
    assert_incorrect(q1.result(workspace=ws), "your models do not import: SyntaxError")


# -- q2: rename --------------------------------------------------------------------------------
_UPGRADE_COPY_ONLY = """\
        batch_op.add_column(sa.Column('name', sa.String(length=255), nullable=True))

    op.execute("UPDATE users SET name = full_name")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('full_name')"""
_UPGRADE_KEEPS_BOTH = """\
        batch_op.add_column(sa.Column('name', sa.String(length=255), nullable=True))

    op.execute("UPDATE users SET name = full_name")"""


@pytest.fixture
def renamed(exercise_workspace):
    return set_up(q2, exercise_workspace("0001"))


def test_q2_setup_autogenerates_without_applying_and_again_starts_over(renamed, capsys):
    script = find_revision(renamed, RENAME_MESSAGE)
    assert script.revision == "0002" and renamed.current() == ["0001"]
    assert "drop_column('full_name')" in renamed.read(script.path)
    renamed.edit(script.path, "drop_column('full_name')", "drop_column('name')")
    q2.setup(workspace=renamed)
    assert "was built at 0001; User.full_name is now User.name" in capsys.readouterr().out
    assert "drop_column('full_name')" in renamed.read(script.path)
    result = q2.result(workspace=renamed)
    assert isinstance(result, NotAttempted), result
    assert result.message == (
        "revision 0002 still drops `full_name` and adds an empty `name`: "
        "every stored name would be lost."
    )


def test_q2_the_fixed_revision_is_right_before_and_after_the_upgrade(renamed):
    q2._solve(renamed)
    assert renamed.current() == ["0001"] and isinstance(q2.result(workspace=renamed), Correct)
    run(renamed, "upgrade head")
    assert isinstance(q2.result(workspace=renamed), Correct)


@pytest.mark.parametrize(
    "upgrade, phrase",
    [
        (_UPGRADE_COPY_ONLY, "the downgrade loses the data: after it, 'Ada Lovelace' is None"),
        (_UPGRADE_KEEPS_BOTH, "users still has `full_name`"),
    ],
    ids=["copy-up-only", "keeps-both"],
)
def test_q2_wrong_answers(renamed, upgrade, phrase):
    renamed.edit(renamed.revision_file("head"), chapter03._AUTOGENERATED_UPGRADE, upgrade)
    assert_incorrect(q2.result(workspace=renamed), phrase)


def test_q2_upgrade_fixed_downgrade_not(renamed):
    renamed.edit(
        renamed.revision_file("head"), chapter03._AUTOGENERATED_UPGRADE, chapter03._RENAMED_UPGRADE
    )
    assert_incorrect(q2.result(workspace=renamed), "the downgrade loses the data")


def test_q2_broken_revision(renamed):
    renamed.edit(
        renamed.revision_file("head"), "def downgrade() -> None:", "def downgrade() -> None"
    )
    assert_incorrect(q2.result(workspace=renamed), "SyntaxError")


# -- both: practice never changes the chapter's project (chapter 04 starts from it) ------------
def _revision_files(ws) -> list[str]:
    return sorted(path.name for path in (ws.path / "alembic" / "versions").glob("*.py"))


def test_setups_leave_the_chapter_workspace_as_it_is(exercise_workspace):
    """Run All runs both setups: each builds its own workspace at 0001, in any order."""
    ws = exercise_workspace("0001")
    before = (ws.current(), ws.read("app/models/user.py"), _revision_files(ws))
    q2.setup(workspace=ws)
    assert active_workspace().name == f"{ws.name}-q2"
    q1.setup(workspace=active_workspace())
    practice = active_workspace()
    assert practice.name == f"{ws.name}-q1" and practice.current() == ["0001"]
    q1._solve(practice)
    assert isinstance(q1.result(workspace=practice), Correct)
    assert (ws.current(), ws.read("app/models/user.py"), _revision_files(ws)) == (before)


def test_q1_not_attempted_names_its_setup_only_outside_its_own_workspace(exercise_workspace):
    ws = exercise_workspace("0001")
    assert "Run `q1.setup()` first" in q1.result(workspace=ws).message
    q1.setup(workspace=ws)
    own = q1.result(workspace=active_workspace())
    assert isinstance(own, NotAttempted)
    assert own.message == "the Book model has no `language` attribute yet."
