"""Exercises of chapter 01: DATABASE_URL in .env, and env.py inside a running event loop."""

from __future__ import annotations

import pytest

from tests.exercise_helpers import assert_incorrect, assert_not_attempted
from tests.exercise_workspaces import set_up
from workbook.exercises import Correct, chapter01
from workbook.exercises.chapter01 import GUIDE_ENV_PY, q1, q2
from workbook.project_state import project_state


# -- both: practice in a workspace of the exercise's own ------------------------------
@pytest.mark.parametrize("exercise", [q1, q2], ids=["q1", "q2"])
def test_setup_and_solution_leave_the_lessons_project_alone(exercise_workspace, exercise):
    """The lesson's project ends as lesson 02 starts: each exercise works in
    ``<workspace>-qN``; the lesson's .env and env.py stay as they are."""
    lesson = exercise_workspace("configured")
    files = {name: lesson.read(name) for name in (".env", "alembic/env.py")}
    state = project_state(lesson.path)
    own = set_up(exercise, lesson)
    assert own.name == f"{lesson.name}-{'q1' if exercise is q1 else 'q2'}"
    exercise._solve(own)
    assert isinstance(exercise.result(workspace=own), Correct)
    assert {name: lesson.read(name) for name in files} == files
    assert project_state(lesson.path) == state


def test_q1_in_the_lessons_project_says_to_run_the_setup_first(exercise_workspace):
    result = q1.result(workspace=exercise_workspace("configured"))
    assert "run `q1.setup()` first" in result.message


def test_q2_in_the_lessons_project_says_to_run_the_setup_first(exercise_workspace):
    """The lesson's own env.py at exercise 2 is its copy of the guide's (with its CHANGED
    lines), which fails inside a loop: without the setup, the check says to run it."""
    ws = exercise_workspace("models")
    ws.write("alembic/env.py", "# the lesson's copy of the guide's env.py\n" + GUIDE_ENV_PY)
    result = q2.result(workspace=ws)
    assert_not_attempted(result, "run `q2.setup()` first")


# -- q1: DATABASE_URL ------------------------------------------------------------------------
def test_q1_after_the_solution_alembic_upgrade_creates_library_db(exercise_workspace):
    """What the solution's note says: `%alembic upgrade head` now creates library.db."""
    own = set_up(q1, exercise_workspace("configured"))
    q1._solve(own)
    result = own.run("upgrade head")
    assert result.ok, result.error
    assert (own.path / "library.db").exists() and not (own.path / "app.db").exists()
    assert "library.db" in q1.solution_text and "upgrade head" in q1.solution_text


def test_q1_an_absolute_path_to_the_workspace_file_is_correct_too(exercise_workspace):
    ws = exercise_workspace("configured")
    ws.write(".env", f"DATABASE_URL=sqlite+aiosqlite:///{ws.path / 'library.db'}\n")
    assert isinstance(q1.result(workspace=ws), Correct)


@pytest.mark.parametrize(
    "env, phrase",
    [
        ("DATABASE_URL=sqlite:///library.db\n", "the async env.py needs sqlite+aiosqlite"),
        ("DATABASE_URL=sqlite+pysqlite:///library.db\n", "the async env.py needs sqlite+aiosqlite"),
        ("DATABASE_URL=sqlite+aiosqlite:///books.db\n", "not `library.db`"),
        ("DATABASE_URL=sqlite+aiosqlite:////tmp/library.db\n", "not the one in the workspace"),
        ("DATABASE_URL=postgresql+asyncpg://u:p@localhost/library\n", "not a SQLite URL"),
        ("# nothing here\n", "has no `DATABASE_URL=` line"),
    ],
)
def test_q1_wrong_urls(exercise_workspace, env, phrase):
    ws = exercise_workspace("configured")
    ws.write(".env", env)
    assert_incorrect(q1.result(workspace=ws), phrase)


def test_q1_a_url_in_alembic_ini_is_wrong(exercise_workspace):
    ws = exercise_workspace("configured")
    ws.edit(
        "alembic.ini", "[alembic]\n", "[alembic]\nsqlalchemy.url = sqlite+aiosqlite:///library.db\n"
    )
    assert_incorrect(q1.result(workspace=ws), "keep the URL out of alembic.ini")


def test_q1_alembic_inits_placeholder_url_is_not_a_url(exercise_workspace):
    ws = exercise_workspace("configured")
    ws.edit(
        "alembic.ini",
        "[alembic]\n",
        "[alembic]\nsqlalchemy.url = driver://user:pass@localhost/dbname\n",
    )
    q1._solve(ws)
    assert isinstance(q1.result(workspace=ws), Correct)


def test_q1_broken_workspace(exercise_workspace):
    ws = exercise_workspace("configured")
    ws.write("alembic.ini", "this is not an ini file\n[\n")
    assert_incorrect(q1.result(workspace=ws), "alembic.ini does not parse")
    (ws.path / ".env").unlink()
    ws.write("alembic.ini", "[alembic]\n")
    assert_incorrect(q1.result(workspace=ws), "there is no `.env` file")


# -- q2: env.py inside an event loop -----------------------------------------------------------
_GUIDE_ONLINE = chapter01._GUIDE_ONLINE
_ASYNCIO_ALWAYS = """\
def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    asyncio.run(run_async_migrations())
"""
_CONNECTION_ALWAYS = """\
def run_migrations_online() -> None:
    do_run_migrations(config.attributes["connection"])
"""


@pytest.fixture
def guide_env(exercise_workspace):
    ws = set_up(q2, exercise_workspace("configured"))
    assert ws.read("alembic/env.py") == GUIDE_ENV_PY
    return ws


def test_q2_setup_says_what_it_did(exercise_workspace, capsys):
    ws = exercise_workspace("configured")
    q2.setup(workspace=ws)
    assert capsys.readouterr().out == (
        f"Setup: workspace '{ws.name}-q2' (Alembic configured, lesson 02's models) is active; "
        "its alembic/env.py is the guide's version, which always calls asyncio.run(). "
        "Run `q2.setup()` again to start over.\n"
    )


def test_q2_the_guide_env_py_fails_inside_a_running_loop(guide_env):
    error = chapter01.upgrade_inside_event_loop(guide_env.path)
    assert error is not None and chapter01.RUNNING_LOOP in error
    assert chapter01.current_without_connection(guide_env.path) is None


@pytest.mark.parametrize(
    "online, phrase",
    [
        (_ASYNCIO_ALWAYS, "env.py still calls asyncio.run() even when a connection is given"),
        (_CONNECTION_ALWAYS, "Keep asyncio.run() for when no connection is given"),
    ],
    ids=["asyncio-run-always", "connection-always"],
)
def test_q2_wrong_answers(guide_env, online, phrase):
    guide_env.edit("alembic/env.py", _GUIDE_ONLINE, online)
    assert_incorrect(q2.result(workspace=guide_env), phrase)


def test_q2_broken_env_py(guide_env):
    guide_env.edit(
        "alembic/env.py",
        "def run_migrations_online() -> None:",
        "def run_migrations_online() -> None",
    )
    result = q2.result(workspace=guide_env)
    assert_incorrect(result, "SyntaxError")
