"""The shape of every lesson (issue 12): short, with practice early and often.

Per lesson, from its text twin: the Time line says at most 45 minutes; at most 60 code
cells; at least two checked exercises (``qN.check(``), the first of them begun (its first
``qN.`` cell) before the last third of the code cells. The preface (00) tours the
workbook and has a worked example instead of exercises, so only time and cells apply.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import twins  # noqa: E402

MAX_MINUTES, MAX_CODE_CELLS, MIN_EXERCISES = 45, 60, 2
PREFACE = "00_welcome"
_TIME = re.compile(r"\*\*Time:\*\*\s*about\s+(\d+)\s+minutes")


def lesson_shape(twin: Path) -> dict:
    """Minutes on the Time line, code cells, exercises in order of first use, and the
    index (among code cells) where the first exercise begins (None without one)."""
    notebook = twins.read_twin(twin)
    first = notebook.cells[0].source if notebook.cells else ""
    time = _TIME.search(first)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    checked = {name for source in code for name in re.findall(r"\b(q\d+)\.check\(", source)}
    begins = {}
    for index, source in enumerate(code):
        for name in re.findall(r"\b(q\d+)\.\w+\(", source):
            if name in checked:
                begins.setdefault(name, index)
    return {
        "minutes": int(time.group(1)) if time else None,
        "code_cells": len(code),
        "exercises": sorted(begins, key=begins.get),
        "first_exercise_at": min(begins.values(), default=None),
    }


def problems(twin: Path) -> list[str]:
    shape = lesson_shape(twin)
    found = []
    if shape["minutes"] is None:
        found.append("no '**Time:** about N minutes' in the first cell")
    elif shape["minutes"] > MAX_MINUTES:
        found.append(f"{shape['minutes']} minutes (at most {MAX_MINUTES})")
    if shape["code_cells"] > MAX_CODE_CELLS:
        found.append(f"{shape['code_cells']} code cells (at most {MAX_CODE_CELLS})")
    if twin.stem == PREFACE:
        return found
    if len(shape["exercises"]) < MIN_EXERCISES:
        found.append(f"{len(shape['exercises'])} checked exercises (at least {MIN_EXERCISES})")
    elif shape["first_exercise_at"] >= shape["code_cells"] * 2 / 3:
        found.append(
            f"first exercise at code cell {shape['first_exercise_at']} of "
            f"{shape['code_cells']}: not before the last third"
        )
    return found


LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))


@pytest.mark.parametrize("twin", LESSONS, ids=lambda twin: twin.stem)
def test_lesson_is_short_with_practice_early(twin):
    found = problems(twin)
    assert not found, f"{twin.name}: " + "; ".join(found)


def test_the_rules_catch_a_long_lesson_without_early_practice(tmp_path):
    """The reader sees what the rules are about: a long lesson, exercises at the end."""
    cells = "\n".join(f"```{{code-cell}} ipython3\nx = {i}\n```\n" for i in range(61))
    exercises = (
        "```{code-cell} ipython3\nq1.check()\n```\n\n```{code-cell} ipython3\nq2.check()\n```\n"
    )
    twin = tmp_path / "42_long.md"
    twin.write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\n---\n\n"
        "# 42 · Long\n\n**Time:** about 50 minutes\n\n" + cells + exercises
    )
    assert problems(twin) == [
        "50 minutes (at most 45)",
        "63 code cells (at most 60)",
        "first exercise at code cell 61 of 63: not before the last third",
    ]
