"""Shift-Enter twice: a lesson's housekeeping cells can run a second time.

Learners run a cell twice, by habit or to be sure. For each lesson, one real kernel runs
its cells (from the text twin) top to bottom, as ``tests/test_run_all.py`` does, and runs
every housekeeping cell (``twice``) a second time right after its first run. No cell may
raise where the lesson does not mean it to (``# NBVAL_RAISES_EXCEPTION``), neither the
second run nor any cell after it.

A housekeeping cell makes, copies, writes, edits or deletes files of the project, or
inserts rows (``HOUSEKEEPING``). Not run twice, because a second run is by nature a
second step and the lesson never means it: a cell that takes a step in the revision
history or the database (``STEP``: ``%alembic revision``, ``upgrade``, ``downgrade``,
``merge``, ``stamp``, ``init``, and the same through ``ws.run``/``ws.alembic``), and a
cell meant to raise.

One kernel per lesson; each lesson is its own class, so xdist (``--dist loadscope``)
runs lessons in parallel.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import instructor_guide  # noqa: E402  (scripts, not a package)
import run_notebooks  # noqa: E402
import twins  # noqa: E402

RAISES = "# NBVAL_RAISES_EXCEPTION"
HOUSEKEEPING = re.compile(
    r"\.(mkdir|unlink|rmdir|rename|write_text|write_bytes)\(|\brmtree\(|\bshutil\.(copy|move)"
    r"|\bws\.(write|edit)\(|^%(rm|mv|mkdir)\b|\b(mkdir|rmdir|rm)\s|\bINSERT\b",
    re.MULTILINE | re.IGNORECASE,
)
_STEPS = r"(init|revision|upgrade|downgrade|merge|stamp|ensure_version)\b"
STEP = re.compile(
    rf"^\s*%alembic\b[^\n]*?\s{_STEPS}|\.(alembic|run)\(\s*[rf]?[\"'][^\"'\n]*?\b{_STEPS}",
    re.MULTILINE,
)
AGAIN = "run-twice"  # metadata key of a cell's second run: the code cell's index


def twice(source: str) -> bool:
    """Whether the test runs a code cell of this ``source`` a second time."""
    return bool(HOUSEKEEPING.search(source)) and not STEP.search(source) and RAISES not in source


def with_second_runs(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``notebook``'s cells, each housekeeping code cell followed by a copy of itself; every
    code cell's metadata holds its index among the lesson's code cells (``AGAIN`` for a copy)."""
    cells, index = [], 0
    for cell in notebook.cells:
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        cell.metadata["code_index"] = index
        if twice(cell.source):
            again = nbformat.v4.new_code_cell(cell.source)
            again.metadata[AGAIN] = index
            cells.append(again)
        index += 1
    notebook.cells = cells
    return notebook


def run_twice(lesson: Path, workspaces: Path) -> list[str]:
    """Run ``lesson`` with its second runs; the unexpected errors, one line each."""
    notebook = with_second_runs(twins.read_twin(lesson))
    env = {**os.environ, "WORKBOOK_WORKSPACES": str(workspaces)}
    env.pop("DATABASE_URL", None)
    run_notebooks.execute(notebook, lesson.parent, timeout=600, env=env)
    errors = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or RAISES in cell.source:
            continue
        for output in cell.outputs:
            if output.output_type == "error":
                which = (
                    f"code cell {cell.metadata[AGAIN]}, run again"
                    if AGAIN in cell.metadata
                    else f"code cell {cell.metadata['code_index']}"
                )
                errors.append(f"{which}: {output.ename}: {output.evalue.splitlines()[0][:300]}")
    return errors


def _lessons() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))


def _sources(lesson: Path) -> list[str]:
    return [c.source for c in twins.read_twin(lesson).cells if c.cell_type == "code"]


def _lesson_class(lesson: Path) -> type:
    @pytest.mark.slow
    def test_housekeeping_cells_run_twice_without_error(self, tmp_path):
        errors = run_twice(lesson, tmp_path / "workspaces")
        assert not errors, f"{lesson.name}:\n" + "\n".join(errors)

    name = f"TestRunTwice{instructor_guide.lesson_number(lesson)}"
    return type(
        name,
        (),
        {
            test_housekeeping_cells_run_twice_without_error.__name__: (
                test_housekeeping_cells_run_twice_without_error
            ),
            "__doc__": f"{lesson.name}, each housekeeping cell run twice.",
        },
    )


@pytest.mark.parametrize(
    "source",
    [
        'Path("app/models").mkdir()',
        'ws.file("scratch.db").unlink()',
        "shutil.rmtree('app/models', ignore_errors=True)",
        '_ = ws.write(".env", saved)',
        'ws.edit("app/models/user.py", old, new)',
        "ws.sql(\"INSERT INTO users (email) VALUES ('ada@example.com')\")",
        "%%bash\ncd quoting && rm =1.13.0\ncd .. && rmdir quoting",
        "ws.revision_file('0007').unlink()\n%alembic heads",
    ],
)
def test_housekeeping_runs_twice(source):
    assert twice(source)


@pytest.mark.parametrize(
    "source",
    [
        "%alembic upgrade +1",
        'ws.file("x.py").unlink()\n%alembic revision --autogenerate -m "Add loans"',
        '%alembic -n audit revision -m "Create audit_log" --rev-id a001',
        "%alembic downgrade base\nws.edit(path, old, new)",
        "result = ws.run('revision --autogenerate -m \"Anything\"')\nws.file('x').unlink()",
        "b.alembic('revision --autogenerate -m \"Add bio\" --rev-id 0009')\nshutil.copy(a, b)",
        f"{RAISES}\nws.sql(\"INSERT INTO users (email) VALUES ('old@example.com')\")",
        "ws.rows('users')\n%alembic check",
    ],
)
def test_steps_and_reads_run_once(source):
    assert not twice(source)


def test_the_listed_cells_of_lessons_01_02_04_run_twice():
    """The cells that once raised on a second run are among those run twice."""
    expected = {
        "01_init_and_configure.md": ['Path("app/models").mkdir', 'ws.file(".env").unlink'],
        "02_models.md": ['app/models/publisher.py").unlink', 'scratch_models.db").unlink'],
        "04_schema_changes.md": ['ws.file("scratch.db").unlink'],
    }
    for name, fragments in expected.items():
        chosen = [s for s in _sources(ROOT / "notebooks" / name) if twice(s)]
        for fragment in fragments:
            assert any(fragment in s for s in chosen), f"{name}: {fragment}"


for _lesson in _lessons():
    if any(twice(source) for source in _sources(_lesson)):
        _class = _lesson_class(_lesson)
        globals()[_class.__name__] = _class
