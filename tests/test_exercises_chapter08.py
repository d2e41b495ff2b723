"""Exercises of chapter 08: a CI gate, the SQL for a DBA, a PostgreSQL rollback script."""

from __future__ import annotations

import os

import pytest

from tests.exercise_helpers import assert_incorrect, run, start
from workbook.exercises.chapter08 import CI_SCRIPT, ROLLBACK_FILE, SQL_FILE, q1, q3, q4

POSTGRES = "postgresql+asyncpg://app:CHANGE_ME@db.example.com:5432/library"


def offline_sql(ws, line, monkeypatch=None, url=None) -> str:
    if url is not None:
        monkeypatch.setenv("DATABASE_URL", url)
    try:
        return run(ws, line).stdout
    finally:
        if url is not None:
            monkeypatch.delenv("DATABASE_URL")


@pytest.fixture
def ws(exercise_workspace, monkeypatch):
    for name in ("DATABASE_URL", "TEST_DATABASE_URL", "ENVIRONMENT"):  # the .env must count
        monkeypatch.delenv(name, raising=False)
    return exercise_workspace("0011")


@pytest.fixture
def chapter_end(ws):
    """The workspace as the chapter leaves it (the catalogue's start): 0012 applied."""
    start(ws, "08", "q4")
    return ws


# -- q1: a CI gate ---------------------------------------------------------------------------------
ONLY_CHECK = """\
import subprocess
import sys

sys.exit(subprocess.run([sys.executable, "-m", "alembic", "check"]).returncode)
"""
IGNORES_THE_EXIT_CODE = """\
import os

os.system("alembic upgrade head")
os.system("alembic check")
"""
ALWAYS_RED = "import sys\n\nsys.exit(1)\n"


def test_q1_a_script_that_ignores_exit_codes(ws):
    ws.write(CI_SCRIPT, IGNORES_THE_EXIT_CODE)
    assert_incorrect(q1.result(workspace=ws), "a model change without a migration passes your gate")


def test_q1_check_alone_lets_two_heads_through(ws):
    ws.write(CI_SCRIPT, ONLY_CHECK)
    assert_incorrect(q1.result(workspace=ws), "a history with two heads passes your gate")


def test_q1_a_gate_that_is_always_red(ws):
    ws.write(CI_SCRIPT, ALWAYS_RED)
    assert_incorrect(
        q1.result(workspace=ws), "where nothing is wrong, `python ci_check.py` fails (exit code 1)"
    )


def test_q1_broken_script(ws):
    ws.write(CI_SCRIPT, "import sys\nsys.exit(\n")
    assert_incorrect(q1.result(workspace=ws), "SyntaxError")


def test_q1_broken_workspace(ws):
    ws.write(CI_SCRIPT, ONLY_CHECK)
    ws.write(".env", f"DATABASE_URL={POSTGRES}\n")
    assert_incorrect(q1.result(workspace=ws), "the checks need the workspace's SQLite file")


# -- q3 and q4: a script made with the wrong command -------------------------------------------
@pytest.mark.parametrize(
    "exercise, file, line, url, phrase",
    [
        (q3, SQL_FILE, "upgrade head --sql", None, "the script starts from an empty database"),
        (
            q3,
            SQL_FILE,
            "upgrade 0010:head --sql",
            None,
            "a database that was at 0009 is at 0009, not at head",
        ),
        (q3, SQL_FILE, "upgrade 0009:head --sql", POSTGRES, "this is PostgreSQL's SQL"),
        (q4, ROLLBACK_FILE, "upgrade 0009:0011 --sql", None, "this is SQLite's SQL"),
        (q4, ROLLBACK_FILE, "upgrade 0010:head --sql", POSTGRES, "the script does not downgrade"),
    ],
    ids=["q3-whole-history", "q3-wrong-start", "q3-postgresql", "q4-sqlite", "q4-an-upgrade"],
)
def test_scripts_from_the_wrong_command(ws, monkeypatch, exercise, file, line, url, phrase):
    ws.write(file, offline_sql(ws, line, monkeypatch, url))
    assert_incorrect(exercise.result(workspace=ws), phrase)


# -- q3: the SQL for a DBA -------------------------------------------------------------------------
def test_q3_a_file_made_before_the_last_revision(ws):
    q3._solve(ws)  # 0009 to 0011
    start(ws, "08", "q3")  # then the chapter's revision 0012
    assert_incorrect(q3.result(workspace=ws), "is at 0011, not at head (0012)")


def test_q3_log_lines_in_the_file(ws):
    result = run(ws, "upgrade 0009:head --sql")
    ws.write(SQL_FILE, result.stderr + result.stdout)
    assert_incorrect(q3.result(workspace=ws), "contains alembic's log lines")


def test_q3_not_sql(ws):
    ws.write(SQL_FILE, "please upgrade the database\n")
    assert_incorrect(
        q3.result(workspace=ws),
        'applying `upgrade_0009_head.sql` to a database at 0009 fails: near "please": syntax error',
    )


def test_q3_broken_database(ws):
    q3._solve(ws)
    ws.db_path.write_bytes(b"garbage" * 1000)
    assert_incorrect(
        q3.result(workspace=ws), "DatabaseError: (sqlite3.DatabaseError) file is not a database"
    )


# -- q4: the PostgreSQL rollback -----------------------------------------------------------------
def test_q4_the_solution_sets_the_url_for_one_command_only(chapter_end):
    q4._solve(chapter_end)
    assert "DATABASE_URL" not in os.environ
    sql = chapter_end.read(ROLLBACK_FILE)
    assert "ALTER TABLE books DROP COLUMN language" in sql
    assert "ALTER TABLE users ALTER COLUMN display_name DROP NOT NULL" in sql


def test_q4_one_revision_too_far(ws, monkeypatch):
    ws.write(ROLLBACK_FILE, offline_sql(ws, "downgrade head:0009 --sql", monkeypatch, POSTGRES))
    # Unmerging 0010 keeps 0008 and 0009; which one the last statement names varies by run.
    result = q4.result(workspace=ws)
    assert_incorrect(result, ", not at 0010: the range is `head:0010`")
    assert result.message.startswith(("the script ends at 0008", "the script ends at 0009"))


def test_q4_a_stale_script(ws, monkeypatch):
    ws.write(ROLLBACK_FILE, offline_sql(ws, "downgrade head:0010 --sql", monkeypatch, POSTGRES))
    start(ws, "08", "q4")  # a revision made after the script
    assert_incorrect(
        q4.result(workspace=ws),
        "differs from what `alembic downgrade head:0010 --sql` writes for PostgreSQL now",
    )


def test_q4_database_url_left_set(ws, monkeypatch):
    q4._solve(ws)
    monkeypatch.setenv("DATABASE_URL", POSTGRES)
    assert_incorrect(q4.result(workspace=ws), "DATABASE_URL is still set")


def test_q4_log_lines_in_the_file(ws, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", POSTGRES)
    result = run(ws, "downgrade head:0010 --sql")
    monkeypatch.delenv("DATABASE_URL")
    ws.write(ROLLBACK_FILE, result.stderr + result.stdout)
    assert_incorrect(q4.result(workspace=ws), "contains alembic's log lines")


def test_q4_broken_workspace(ws):
    q4._solve(ws)
    ws.write(".env", f"DATABASE_URL={POSTGRES}\n")
    assert_incorrect(q4.result(workspace=ws), "the checks need the workspace's SQLite file")
