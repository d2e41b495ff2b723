"""Restart Kernel and Run All Cells, then do the exercises: every lesson stays workable.

For each lesson: its cells (from the text twin) run top to bottom in one real kernel, in
a temporary workspaces folder, which runs every exercise's ``setup()`` too. Then, in the
same kernel, as a learner would after Run All:

- its closing section, "Before the next lesson" (where it has one), runs once more, as a
  learner who runs it twice would, with no error: the lesson still ends where the next
  one starts;
- no exercise is recorded Correct in ``progress`` (a worked example is not the learner's);
- the timeline, where the lesson has one, moves to the revision the text suggests, and
  back;
- each exercise in turn, done as its own cells say: its ``setup()`` again if it has one
  (the first cell of an exercise; running it again is safe), then its solution (the steps
  the contract suite applies), then its check, which says Correct.

One kernel per lesson; each lesson is its own class, so xdist (``--dist loadscope``)
runs lessons in parallel and a lesson's steps in one worker.
"""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import instructor_guide  # noqa: E402  (scripts, not a package)
import run_notebooks  # noqa: E402
import twins  # noqa: E402

from tests.exercise_helpers import lesson_exercises  # noqa: E402
from workbook.exercises.catalogue import EXERCISES  # noqa: E402
from workbook.project_state import differences, project_state  # noqa: E402

RAISES = "# NBVAL_RAISES_EXCEPTION"
REPORT = "RUN-ALL-REPORT "
# "Try moving to `0001`", "Try `0009`": the first revision the lesson asks to move to.
_TRY = re.compile(r"Try (?:moving to )?`(\w+)`")

# Runs in the lesson's kernel after its last cell; prints one JSON line.
_PROBE = """
import gc as _gc, json as _json
from workbook import progress as _progress
from workbook.exercises.catalogue import EXERCISES as _EXERCISES
from workbook.timeline_widget import Timeline as _Timeline
from workbook.project_state import project_state as _project_state
from workbook.workspace import active_workspace as _active, workspaces_root as _root

_report = {{"progress": _progress.load(), "timeline": [], "exercises": {{}}}}
for _timeline in [o for o in _gc.get_objects() if isinstance(o, _Timeline)]:
    _current = _timeline.ws.current()
    _where = _current[0] if len(_current) == 1 else "heads" if _current else "base"
    _report["timeline"].append([_timeline.move({target!r}), _timeline.move(_where)])
for _start in [s for s in _EXERCISES if s.chapter == {chapter!r} and s.name in {names!r}]:
    _exercise = _start.exercise
    try:
        if _start.has_setup:
            _exercise.setup()
        _answer = _exercise._solve(_active())
    except Exception as _error:
        _report["exercises"][_start.name] = ["solution failed",
                                             f"{{type(_error).__name__}}: {{_error}}"]
        continue
    _result = _exercise.result(*_answer)
    _report["exercises"][_start.name] = ["Correct" if _result.ok else type(_result).__name__,
                                         _result.message]
_report["end"] = _project_state(_root() / {lesson!r})
_report["files"] = {{_name: (_root() / {lesson!r} / _name).read_text()
                    for _name in {files!r} if (_root() / {lesson!r} / _name).exists()}}
print({marker!r} + _json.dumps(_report))
"""


CLOSING = re.compile(r"^## Before the next lesson$", re.MULTILINE)


def closing_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """Copies of the code cells from the "Before the next lesson" heading to the end."""
    starts = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "markdown" and CLOSING.search(cell.source)
    ]
    if not starts:
        return []
    return [
        nbformat.v4.new_code_cell(cell.source)
        for cell in notebook.cells[starts[0] :]
        if cell.cell_type == "code"
    ]


def _lessons() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))


# "05" of 05_data_migrations.md, "05_1" of 05_1_data_migrations.md: as the guide numbers them.
lesson_key = instructor_guide.lesson_number


def run_all(lesson: Path, workspaces: Path) -> tuple[dict, list[str]]:
    """Run ``lesson`` top to bottom, then the probe; its report and the unexpected errors."""
    notebook = twins.read_twin(lesson)
    chapter = lesson.name[:2]
    targets = [
        _TRY.search(cell.source)
        for cell in notebook.cells
        if cell.cell_type == "markdown" and "timeline" in cell.source
    ]
    target = next((m.group(1) for m in targets if m), "base")
    probe = _PROBE.format(
        chapter=chapter,
        names=lesson_exercises(lesson),
        target=target,
        marker=REPORT,
        lesson=lesson.stem,
        files=PLUMBING,
    )
    notebook.cells += closing_cells(notebook)  # run twice: it must not break the project
    notebook.cells.append(nbformat.v4.new_code_cell(probe))
    env = {**os.environ, "WORKBOOK_WORKSPACES": str(workspaces)}
    run_notebooks.execute(notebook, lesson.parent, timeout=600, env=env)
    errors = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        raised = [o for o in cell.outputs if o.output_type == "error"]
        if raised and RAISES not in cell.source:
            errors.append(f"cell {index}: {raised[0].ename}: {raised[0].evalue}")
    printed = "".join(
        o.get("text", "") for o in notebook.cells[-1].outputs if o.output_type == "stream"
    )
    lines = [line for line in printed.splitlines() if line.startswith(REPORT)]
    return (json.loads(lines[-1][len(REPORT) :]) if lines else {}), errors


def problems(lesson: Path, report: dict) -> list[str]:
    """What went wrong after Run All of ``lesson``, from the probe's report."""
    found = []
    for chapter, outcomes in report["progress"].items():
        found += [
            f"Run All recorded {chapter} {name} as Correct"
            for name, outcome in outcomes.items()
            if outcome == "Correct"
        ]
    for there, back in report["timeline"]:
        found += [f"timeline: {line}" for line in (there, back) if "failed" in line]
    expected = [
        s.name
        for s in EXERCISES
        if s.chapter == lesson.name[:2] and s.name in lesson_exercises(lesson)
    ]
    for name in expected:
        kind, message = report["exercises"].get(name, ["missing", ""])
        if kind != "Correct":
            found.append(f"{name}: {kind}: {message}")
    return found


# The preface tours a finished project in a workspace of its own, as its text says; the
# book's one project starts in lesson 01, so the chain of continuity tests starts there.
PREFACE = "00_welcome"
# Files project_state leaves out that the next lesson still uses as they are: the
# environment, the template of new revision scripts, the settings.
PLUMBING = (".env", "alembic/env.py", "alembic/script.py.mako")
_START = re.compile(r"workbook\.start\(\s*\"([^\"]+)\",\s*stage=\"([^\"]+)\"")


def lesson_start(lesson: Path, folder: Path) -> dict:
    """The project state at the start of ``lesson``: its first ``workbook.start(...)``,
    built into ``folder`` as that call would build it."""
    from workbook.building import build
    from workbook.stages import get_stage

    name, stage_name = _START.search(lesson.read_text()).groups()
    build(folder / name, get_stage(stage_name), folder / ".cache")
    return project_state(folder / name)


def plumbing_differences(ended: dict[str, str], starts: Path) -> list[str]:
    """One line per file of ``PLUMBING`` that differs between a lesson's end (``ended``,
    its texts) and the next lesson's start (the folder ``lesson_start`` built)."""
    found = []
    for name in PLUMBING:
        path = starts / name
        if ended.get(name) != (path.read_text() if path.exists() else None):
            found.append(f"{name} differs")
    return found


def _lesson_class(lesson: Path, following: Path | None) -> type:
    @pytest.fixture(scope="class")
    def ran(self, tmp_path_factory):
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv("DATABASE_URL", raising=False)
            return run_all(lesson, tmp_path_factory.mktemp("run-all") / "workspaces")

    @pytest.mark.slow
    def test_run_all_then_every_solution_checks_correct(self, ran):
        report, errors = ran
        assert not errors, errors
        assert report, "the probe printed no report"
        found = problems(lesson, report)
        assert not found, "\n".join(found)

    members = {
        "ran": ran,
        test_run_all_then_every_solution_checks_correct.__name__: (
            test_run_all_then_every_solution_checks_correct
        ),
        "__doc__": textwrap.dedent(f"Run All of {lesson.name}, then its exercises."),
    }
    if following is not None and lesson.stem != PREFACE:
        pair = f"{lesson_key(lesson)}_to_{lesson_key(following)}"

        @pytest.mark.slow
        def test_continuity(self, ran, tmp_path):
            """The next lesson starts exactly where this one ends, exercises solved."""
            report, _ = ran
            assert report, "the probe printed no report"
            found = differences(report["end"], lesson_start(following, tmp_path))
            name = _START.search(following.read_text()).group(1)
            found += plumbing_differences(report.get("files", {}), tmp_path / name)
            assert not found, f"{lesson.stem} ends / {following.stem} starts:\n" + "\n".join(found)

        name = f"test_continuity_{pair}"
        test_continuity.__name__ = name
        members[name] = test_continuity
    return type(f"TestRunAll{lesson_key(lesson)}", (), members)


def test_every_exercise_is_imported_by_exactly_one_lesson_of_its_chapter():
    """Run All checks the exercises a lesson imports: none may fall between two lessons."""
    imported = [
        (lesson.name[:2], name) for lesson in _lessons() for name in lesson_exercises(lesson)
    ]
    assert sorted(imported) == sorted((start.chapter, start.name) for start in EXERCISES)


def test_lesson_keys_tell_numbered_lessons_apart():
    assert lesson_key(Path("05_data_migrations.md")) == "05"
    assert lesson_key(Path("05_1_data_migrations.md")) == "05_1"
    assert lesson_key(Path("05_2_zero_downtime.md")) == "05_2"
    assert lesson_key(Path("05_2024_notes.md")) == "05"


_ALL = _lessons()
for _lesson, _following in zip(_ALL, [*_ALL[1:], None], strict=True):
    globals()[f"TestRunAll{lesson_key(_lesson)}"] = _lesson_class(_lesson, _following)
