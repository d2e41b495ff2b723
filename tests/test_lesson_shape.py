"""The shape of a lesson (issue 12, item 2): short, with practice early.

Every lesson: at most 45 minutes on its Time line, at most 60 code cells, at least two
checked exercises, and the first exercise's first code cell before the last third of the
lesson's code cells. Read from the text twins (``notebooks/NN_*.md``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import twins  # noqa: E402  (a sibling script of run_notebooks.py)

MAX_MINUTES = 45
MAX_CODE_CELLS = 60
MIN_EXERCISES = 2
# Lessons not reshaped yet: strict xfail, so a reshaped one fails until its line goes.
NOT_YET = {
    "00_welcome": "the preface: one exercise",
    "03_autogenerate": "50 minutes; exercises at the end",
    "04_schema_changes": "55 minutes; exercises at the end",
    "05_data_migrations": "60 minutes; exercises at the end",
    "06_branching_and_merging": "exercises at the end",
    "07_rollback_and_recovery": "74 code cells; exercises at the end",
    "08_team_and_production": "75 minutes, 76 code cells; exercises at the end",
    "09_troubleshooting_clinic": "75 minutes, 95 code cells; exercises at the end",
}
_TIME = re.compile(r"\*\*Time:\*\*\s*about (\d+) minutes")


def shape(lesson: Path) -> dict:
    """Minutes, code cells, exercises checked, and the index of the first exercise's first
    code cell (the one importing from ``workbook.exercises.chapterNN``; None without)."""
    notebook = twins.read_twin(lesson)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    chapter = lesson.name[:2]
    imports = re.compile(rf"from workbook\.exercises\.chapter{chapter} import")
    minutes = _TIME.search(notebook.cells[0].source)
    return {
        "minutes": int(minutes.group(1)) if minutes else None,
        "code_cells": len(code),
        "exercises": sorted(set(re.findall(r"\b(q\d+)\.check\(", "\n".join(code)))),
        "first_exercise": next((i for i, text in enumerate(code) if imports.search(text)), None),
    }


def problems(found: dict) -> list[str]:
    """What breaks the rules in a lesson's ``shape``."""
    wrong = []
    if found["minutes"] is None or found["minutes"] > MAX_MINUTES:
        wrong.append(f"Time line: {found['minutes']} minutes (at most {MAX_MINUTES})")
    if found["code_cells"] > MAX_CODE_CELLS:
        wrong.append(f"{found['code_cells']} code cells (at most {MAX_CODE_CELLS})")
    if len(found["exercises"]) < MIN_EXERCISES:
        wrong.append(f"exercises {found['exercises']} (at least {MIN_EXERCISES})")
    first, limit = found["first_exercise"], found["code_cells"] * 2 / 3
    if first is None or first >= limit:
        wrong.append(f"first exercise at code cell {first}, not before {limit:.0f}")
    return wrong


LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))


@pytest.mark.parametrize(
    "lesson",
    [
        pytest.param(
            path,
            id=path.stem,
            marks=[pytest.mark.xfail(strict=True, reason=NOT_YET[path.stem])]
            if path.stem in NOT_YET
            else [],
        )
        for path in LESSONS
    ],
)
def test_lesson_is_short_with_practice_early(lesson: Path) -> None:
    found = shape(lesson)
    assert not problems(found), f"{lesson.name}: " + "; ".join(problems(found))


def test_the_rules_catch_a_long_lesson_with_its_exercises_at_the_end() -> None:
    found = {"minutes": 50, "code_cells": 61, "exercises": ["q1"], "first_exercise": 41}
    assert len(problems(found)) == 4
    found = {"minutes": 45, "code_cells": 60, "exercises": ["q1", "q2"], "first_exercise": 39}
    assert problems(found) == []
