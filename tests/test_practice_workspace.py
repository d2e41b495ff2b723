"""An exercise's own workspace (``workbook.exercises.practice``) with the learner's mistakes:
its setup run again after work was done in it, and a second kernel meanwhile.

Kernels are real processes (``tests/kernels.py``), writing bytecode as a learner's do.
"""

import pytest

from workbook import workspace as workspace_module

# Bytecode written, as on a learner's machine (these machines set PYTHONDONTWRITEBYTECODE).
LEARNER = ("PYTHONDONTWRITEBYTECODE",)
FIRST_CELL = (
    "import workbook\n"
    "from workbook.exercises.practice import practice_workspace\n"
    "ws = project = workbook.start('lesson', stage='0001')"
)


@pytest.fixture(autouse=True)
def private_workspaces(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_WORKSPACES", str(tmp_path / "workspaces"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(workspace_module, "_active", None)
    for variable in ("DATABASE_URL", "ENVIRONMENT", "JPY_SESSION_NAME"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path / "workspaces"


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
