"""Each lesson's text twin (notebooks/NN_*.md) holds exactly its notebook's cells, and
review happens on the twin: a one-word prose change is a one-line diff there."""

import copy
import difflib
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import run_notebooks  # noqa: E402
import twins  # noqa: E402

LESSONS = twins.lessons()


def test_every_twin_has_its_notebook():
    orphans = [
        p.name for p in (ROOT / "notebooks").glob("*.md") if not twins.notebook_of(p).exists()
    ]
    assert LESSONS and not orphans


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_twin_and_notebook_hold_the_same_cells(path):
    assert twins.disagreements(path) == []


def test_a_changed_cell_is_reported_with_its_index(tmp_path):
    notebook = nbformat.read(LESSONS[0], as_version=4)
    copy_path = tmp_path / LESSONS[0].name
    nbformat.write(notebook, copy_path)
    twins.twin_of(copy_path).write_text(twins.twin_text(notebook), encoding="utf-8")
    assert twins.disagreements(copy_path) == []
    notebook.cells[2].source += "\nextra"
    nbformat.write(notebook, copy_path)
    [problem] = twins.disagreements(copy_path)
    assert "cell 2 differs" in problem


def test_a_one_word_prose_change_is_a_one_line_diff_in_the_twin():
    notebook = nbformat.read(LESSONS[0], as_version=4)
    before = twins.twin_text(notebook).splitlines()
    prose = next(c for c in notebook.cells if c.cell_type == "markdown" and " the " in c.source)
    prose.source = prose.source.replace(" the ", " a ", 1)
    after = twins.twin_text(notebook).splitlines()
    changed = [
        line
        for line in difflib.unified_diff(before, after, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert len(changed) == 2  # one line out, one line in


def test_unchanged_cells_keep_their_ids_and_outputs_when_built_from_the_twin():
    stored = nbformat.read(LESSONS[0], as_version=4)
    twin = twins.read_twin(twins.twin_of(LESSONS[0]))
    edited = copy.deepcopy(twin)
    first_prose = next(i for i, c in enumerate(edited.cells) if c.cell_type == "markdown")
    edited.cells[first_prose].source += " More."
    built = twins.with_twin_cells(edited, stored)
    assert [c.source for c in built.cells] == [c.source for c in edited.cells]
    kept = [i for i, c in enumerate(built.cells) if i != first_prose]
    assert all(built.cells[i].id == stored.cells[i].id for i in kept)
    code = next(i for i, c in enumerate(stored.cells) if c.cell_type == "code" and c.outputs)
    assert built.cells[code].outputs == stored.cells[code].outputs


def test_a_stored_widget_keeps_its_picture_not_a_view_of_a_model_that_is_gone():
    """A lesson opened anew has no widget models: a stored view would show an error."""
    stored = [nbformat.read(p, as_version=4) for p in LESSONS]
    timelines = [
        output
        for notebook in stored
        for cell in notebook.cells
        if cell.cell_type == "code" and "workbook.timeline(" in cell.source
        for output in cell.outputs
    ]
    assert timelines, "the lessons show the timeline"
    for output in timelines:
        assert run_notebooks.WIDGET_VIEW not in output.get("data", {})
        assert "<img" in output.data["text/html"] and output.data["text/plain"]
    assert not any(notebook.metadata.get("widgets") for notebook in stored)
