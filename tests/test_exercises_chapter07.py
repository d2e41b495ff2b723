"""Exercises of chapter 07: roll back to a named revision, recover a half-applied migration."""

from __future__ import annotations

import os

import pytest

from tests.exercise_helpers import assert_incorrect, assert_not_attempted, run
from tests.exercise_workspaces import fresh_workspace, own_workspace
from workbook.exercises import chapter07
from workbook.exercises.chapter07 import LEFTOVER, SLUG_MESSAGE, TARGET, q1, q3
from workbook.exercises.inspect import find_revision, workspace_schema
from workbook.stages import REPO_ROOT
from workbook.workspace import active_workspace

# These tests start each exercise on its own (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("setups_do_not_wait")


ws = fresh_workspace("0011")


# -- q1: roll back to 0005 -----------------------------------------------------------------------
seeded = own_workspace(q1)


def test_q1_setup_adds_the_rows_in_a_workspace_of_its_own(ws, seeded):
    assert seeded.name == f"{ws.name}-q1" and seeded.current() == ["0011"]
    assert chapter07._markers(seeded.db_path) == {"publisher": True, "book": True, "user": True}
    assert not any(chapter07._markers(ws.db_path).values())  # the lesson's project: no rows
    assert os.getcwd() == str(seeded.path)  # the kernel follows the exercise's workspace
    result = q1.result(workspace=seeded)
    assert_not_attempted(result, "still at head (0011)")


def test_q1_setup_again_starts_over(seeded):
    run(seeded, "downgrade base")
    q1.setup(workspace=seeded)
    assert seeded.current() == ["0011"] and all(chapter07._markers(seeded.db_path).values())


def test_q1_one_step_back(seeded):
    run(seeded, "downgrade -1")
    assert_incorrect(q1.result(workspace=seeded), "`downgrade -1` undoes only the newest revision")


def test_q1_stamped_instead_of_downgraded(seeded):
    run(seeded, f"stamp {TARGET}")
    result = q1.result(workspace=seeded)
    assert_incorrect(result, "alembic_version says 0005, but the tables are not those of 0005")
    assert "table categories should not exist at 0005" in result.message
    assert "Did you `stamp`?" in result.message


def test_q1_through_base_loses_the_rows(seeded):
    run(seeded, "downgrade base")
    run(seeded, f"upgrade {TARGET}")
    assert_incorrect(
        q1.result(workspace=seeded),
        "rows are gone (publisher, book, user): did you go through base?",
    )


def test_q1_at_base(seeded):
    run(seeded, "downgrade base")
    assert_incorrect(q1.result(workspace=seeded), "the database is at base (empty)")


@pytest.mark.parametrize(
    "target, phrase",
    [
        ("0004", "below 0005: you went too far. `%alembic upgrade 0005`"),
        ("0008", "the database is at 0008, 0009, still above 0005"),
    ],
    ids=["too-far", "not-far-enough"],
)
def test_q1_wrong_revision(seeded, target, phrase):
    run(seeded, f"downgrade {target}")
    assert_incorrect(q1.result(workspace=seeded), phrase)


def test_q1_deleted_scripts(seeded):
    run(seeded, f"downgrade {TARGET}")
    for revision in ("0011", "0010"):
        seeded.revision_file(revision).unlink()
    assert_incorrect(
        q1.result(workspace=seeded), "revision script(s) 0010, 0011 were deleted or edited"
    )


def test_q1_broken_env_file(seeded):
    seeded.write(".env", "DATABASE_URL=not a url\n")
    assert_incorrect(q1.result(workspace=seeded), "DATABASE_URL in .env is not a database URL")


# -- q3: recover a half-applied migration ---------------------------------------------------------
@pytest.fixture
def failed(ws, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    q3.setup(workspace=ws)
    assert "DATABASE_URL" not in os.environ  # the setup's env.py leaves the kernel alone
    return active_workspace()  # the exercise's own


def _columns(ws, table):
    return set(workspace_schema(ws)[table].columns)


def test_q2_setup_leaves_a_half_applied_migration(ws, failed):
    assert failed.name == f"{ws.name}-q3" and ws.current() == ["0011"]
    assert find_revision(ws, SLUG_MESSAGE) is None  # the lesson's project is untouched
    script = find_revision(failed, SLUG_MESSAGE)
    assert script.revision == "0012" and failed.heads() == ["0012"]
    assert failed.current() == ["0011"]  # alembic_version never recorded it
    tables = workspace_schema(failed)
    assert LEFTOVER in tables and "slug" in tables["books"].columns  # the debris, and step 1
    assert failed.read("alembic/env.py") == (REPO_ROOT / "alembic" / "env.py").read_text()
    result = q3.result(workspace=failed)
    assert_not_attempted(result, "as q3.setup() left it")


def test_q2_setup_again_starts_over(failed):
    q3._solve(failed)
    q3.setup(workspace=failed)
    assert failed.current() == ["0011"] and LEFTOVER in workspace_schema(failed)


def test_q2_retry_with_the_column_still_there(failed):
    failed.sql(f"DROP TABLE {LEFTOVER}")
    chapter07.EditRevision(chapter07._BROKEN_SLUG, chapter07._FIXED_SLUG).apply(failed)
    assert "duplicate column name: slug" in failed.run("upgrade head").error
    assert_incorrect(
        q3.result(workspace=failed),
        "books already has slug, but alembic_version says 0011: step 1 of the migration",
    )


def test_q2_cleaned_up_but_not_fixed(failed):
    failed.sql(f"DROP TABLE {LEFTOVER}")
    failed.sql("ALTER TABLE books DROP COLUMN slug")
    assert not failed.run("upgrade head").ok  # atomic now: fails, leaves nothing
    assert LEFTOVER not in workspace_schema(failed) and "slug" not in _columns(failed, "books")
    assert_incorrect(
        q3.result(workspace=failed),
        "still fails: UNIQUE constraint failed: books.slug. Two books share a title",
    )


def test_q2_fixed_but_not_upgraded(failed):
    steps = q3.solution_steps[:-1]  # everything but the upgrade
    for step in steps:
        step.apply(failed)
    assert_incorrect(
        q3.result(workspace=failed), "clean but still at 0011: run `%alembic upgrade head`"
    )


def test_q2_leftover_not_dropped(failed):
    chapter07.EditRevision(chapter07._BROKEN_SLUG, chapter07._FIXED_SLUG).apply(failed)
    assert_incorrect(q3.result(workspace=failed), f"the leftover table {LEFTOVER} is still there")


def test_q2_stamped_instead_of_finished(failed):
    failed.sql(f"DROP TABLE {LEFTOVER}")
    run(failed, "stamp head")
    assert_incorrect(
        q3.result(workspace=failed),
        "have no slug: the backfill did not run. (`stamp` records a revision",
    )


def test_q2_recovered_by_deleting_a_book(failed):
    failed.sql(f"DROP TABLE {LEFTOVER}")
    failed.sql("ALTER TABLE books DROP COLUMN slug")
    failed.sql("DELETE FROM books WHERE id = (SELECT max(id) FROM books WHERE title = 'Dune')")
    run(failed, "upgrade head")  # no duplicate title left: the unfixed backfill works
    assert_incorrect(
        q3.result(workspace=failed), "books had 2 rows when the migration failed and has 1 now"
    )


def test_q2_broken_database(failed):
    failed.db_path.write_bytes(b"garbage" * 1000)
    assert_incorrect(q3.result(workspace=failed), "the checker could not read your workspace")
