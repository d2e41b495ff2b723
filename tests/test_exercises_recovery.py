"""Chapter 07's q2 (adopt a database with stamp) and q4 (restore from a backup)."""

from __future__ import annotations

from tests.exercise_helpers import assert_incorrect, assert_not_attempted, run
from tests.exercise_workspaces import fresh_workspace, own_workspace
from workbook.exercises import recovery
from workbook.exercises.chapter07 import q2, q4
from workbook.exercises.inspect import find_revision, workspace_current, workspace_schema

ws = fresh_workspace("0011")


# -- q2: adopt a database made by create_all ---------------------------------------------------
legacy = own_workspace(q2)


def test_q2_setup_makes_a_database_without_alembic_version(ws, legacy):
    assert legacy.name == f"{ws.name}-q2" and ws.current() == ["0011"]
    assert workspace_current(legacy) == [] and "users" in workspace_schema(legacy)
    assert "table books already exists" in legacy.run("upgrade head").error  # the symptom
    assert_not_attempted(q2.result(workspace=legacy), "alembic_version holds no revision")
    assert_not_attempted(q2.result(workspace=ws), "run `q2.setup()` first")  # the lesson's project


def test_q2_stamped_at_another_revision(legacy):
    run(legacy, "stamp 0005")
    assert_incorrect(q2.result(workspace=legacy), "alembic_version says 0005, but the tables")


def test_q2_rebuilt_instead_of_adopted(legacy):
    legacy.db_path.unlink()
    run(legacy, "upgrade head")
    assert_incorrect(q2.result(workspace=legacy), "the user legacy@example.com is gone")


def test_q2_stamped_head_but_the_schema_differs(legacy):
    legacy.sql("ALTER TABLE users DROP COLUMN bio")
    run(legacy, "stamp head")
    assert_incorrect(q2.result(workspace=legacy), "the models and the database differ")


# -- q4: restore from a backup ---------------------------------------------------------------------
dropped = own_workspace(q4)


def test_q4_setup_drops_the_bios_after_a_backup(ws, dropped):
    assert dropped.name == f"{ws.name}-q4" and ws.current() == ["0011"]
    assert "bio" not in workspace_schema(dropped)["users"].columns
    assert dropped.file(recovery.BACKUP).exists()
    assert dropped.current() == [find_revision(dropped, recovery.DROP_MESSAGE).revision]
    assert_not_attempted(q4.result(workspace=dropped), "the bios are still gone")


def test_q4_downgrade_brings_the_column_back_empty(dropped):
    run(dropped, "downgrade -1")
    assert_incorrect(q4.result(workspace=dropped), "a downgrade restores structure, not data")


def test_q4_restored_but_the_revision_kept(dropped):
    recovery.Restore(recovery.BACKUP).apply(dropped)
    assert_incorrect(q4.result(workspace=dropped), "the next `upgrade head` drops the bios again")


def test_q4_restored_and_deleted_but_the_model_left_without_bio(dropped):
    recovery.Restore(recovery.BACKUP).apply(dropped)
    recovery.DeleteHead().apply(dropped)
    assert_incorrect(q4.result(workspace=dropped), "Put `bio` back in app/models/user.py")


def test_q4_bios_copied_back_by_hand_but_still_at_the_drop_revision(dropped):
    run(dropped, "downgrade -1")
    for email, bio in recovery.BIOS.items():
        dropped.sql(f"UPDATE users SET bio = '{bio}' WHERE email = '{email}'")
    run(dropped, "upgrade head")
    assert_not_attempted(q4.result(workspace=dropped), "the bios are still gone")
