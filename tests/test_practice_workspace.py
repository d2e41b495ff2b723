"""An exercise's own workspace (``workbook.exercises.practice``) with the learner's mistakes:
its setup run again after work was done in it, and a second kernel meanwhile.

Kernels are real processes (``tests/kernels.py``), writing bytecode as a learner's do.
"""

import sqlite3
from contextlib import closing

import pytest

# Bytecode written, as on a learner's machine (these machines set PYTHONDONTWRITEBYTECODE).
LEARNER = ("PYTHONDONTWRITEBYTECODE",)
FIRST_CELL = (
    "import workbook\n"
    "from workbook.exercises.practice import practice_workspace\n"
    "ws = project = workbook.start('lesson', stage='0001')"
)


@pytest.fixture(autouse=True)
def _private(private_workspaces):
    return private_workspaces


# An exercise whose setup goes on after building its workspace: it edits the models, writes
# two revisions and applies one. What it leaves is the exercise, not the learner's work.
SETUP = "from workbook.exercises.chapter06 import q1\nq1.setup()"
LESSON = (
    "import workbook\n"
    "from workbook.exercises.practice import practice_workspace\n"
    "ws = project = workbook.start('lesson', stage='0007')"
)


def setup_line(shown: str) -> str:
    """The one line ``q1.setup()`` prints (it must not say it failed)."""
    assert shown.startswith("Setup: workspace 'lesson-q1'") and "\n" not in shown, shown
    return shown


def kept_line(copy: str) -> str:
    return (
        f"Your earlier work in 'lesson-q1' (files and app.db, as you left them) is kept in "
        f"../.previous/{copy}, beside this fresh workspace: copy back what you need, a file "
        f"f with ws.write(f, open('../.previous/{copy}/' + f).read())."
    )


def test_setup_again_with_nothing_changed_is_silent_and_keeps_no_copy(
    tmp_path, kernels, private_workspaces
):
    """Run All runs the setup cell again, and so does a kernel restarted: the folder is as
    the setup left it (a check and a look change nothing), so nothing is kept."""
    kernel = kernels(tmp_path / "notebooks", LEARNER)
    assert "is ready" in kernel.run(LESSON)
    first = setup_line(kernel.run(SETUP))
    kernel.run("q1.check()\nq1.hint()\n%alembic heads\n%alembic current\n_ = ws.graph()")
    assert kernel.run("q1.setup()") == first
    kernel.shut_down()  # a restart: the next setup is another kernel's

    restarted = kernels(tmp_path / "notebooks", LEARNER)
    assert restarted.run(LESSON) == (
        "Workspace 'lesson' is ready: the data migrations of chapter 05 applied."
    )
    assert restarted.run(SETUP) == first
    assert not (private_workspaces / ".previous").exists()


def test_setup_again_keeps_the_learners_files_and_rows_and_says_where(
    tmp_path, kernels, private_workspaces
):
    kernel = kernels(tmp_path / "notebooks", LEARNER)
    kernel.run(LESSON)
    first = setup_line(kernel.run(SETUP))
    assert "Generating" in kernel.run('%alembic merge heads -m "merge both"')  # a file
    assert kernel.run("q1.setup()").splitlines() == [kept_line("lesson-q1"), first]
    assert kernel.run("import os\nprint(os.path.isdir('../.previous/lesson-q1'))") == "True"
    kept = private_workspaces / ".previous" / "lesson-q1"
    assert [p.name for p in (kept / "alembic" / "versions").glob("*_0010_merge_both.py")]
    assert "language" in (kept / "app" / "models" / "book.py").read_text()
    assert kernel.run("print(ws.heads())") == "['0008', '0009']"  # a fresh start

    kernel.run("_ = ws.sql(\"INSERT INTO books (title, author) VALUES ('Kept', 'Me')\")")  # a row
    assert kernel.run("q1.setup()").splitlines() == [kept_line("lesson-q1-2"), first]
    with closing(sqlite3.connect(kept.with_name("lesson-q1-2") / "app.db")) as database:
        assert database.execute("SELECT title, author FROM books").fetchall() == [("Kept", "Me")]
    assert list((kept / "alembic" / "versions").glob("*_0010_merge_both.py"))  # still there
    with closing(sqlite3.connect(private_workspaces / "lesson-q1" / "app.db")) as database:
        assert database.execute("SELECT count(*) FROM books").fetchall() == [(0,)]  # fresh
    assert kernel.run("q1.setup()") == first  # nothing changed since: nothing more kept
    assert sorted(p.name for p in kept.parent.iterdir()) == ["lesson-q1", "lesson-q1-2"]


# -- two kernels: the lesson's workspace stays with the kernel practising an exercise -------
def test_two_kernels_the_lesson_stays_held_while_its_exercise_is_practised(tmp_path, kernels):
    """The first kernel comes back to the lesson (``project.use()``): a second kernel must
    not rebuild it meanwhile, nor take it from under the first one."""
    first = kernels(tmp_path / "first", LEARNER)
    assert "is ready" in first.run(FIRST_CELL)
    first.run("_ = ws.write('notes.txt', 'mine')\n%alembic downgrade base")
    first.run("ws = practice_workspace(project, 'q1')")

    second = kernels(tmp_path / "second", LEARNER)
    refused = second.run("import workbook\nws = workbook.start('lesson', stage='0001')")
    assert refused == (
        f"WorkspaceError: workspace 'lesson' is in use by another kernel (process "
        f"{first.process.pid}), and is left as it is: shut that kernel down (Kernel > Shut "
        "Down Kernel in its notebook), or use another name here, e.g. "
        "workbook.start('lesson-2', stage='0001')"
    )
    assert "in use by another kernel" in second.run("ws = workbook.attach('lesson')")

    shown = first.run("ws = project.use()\nprint(ws.read('notes.txt'), ws.current())")
    assert shown == "Back in workspace 'lesson'.\nmine []"
    # Back in the lesson, the kernel lets go of the exercise's workspace, and only of it.
    assert "is ready" in second.run("ws = workbook.start('lesson-q1', stage='0001')")
    assert "in use by another kernel" in second.run("ws = workbook.start('lesson', stage='0001')")
