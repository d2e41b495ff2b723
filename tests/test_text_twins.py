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


def _with_random_widget_ids(notebook, seed):
    text = nbformat.writes(notebook)
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    for index, model_id in enumerate(state):
        text = text.replace(model_id, f"{seed:08x}{index:024x}")
    return nbformat.reads(text, as_version=4)


def test_saved_widget_state_is_byte_stable_whatever_ids_the_kernel_chose():
    notebook = next(
        nb for nb in (nbformat.read(p, as_version=4) for p in LESSONS) if nb.metadata.get("widgets")
    )
    first = run_notebooks.stable_widget_ids(_with_random_widget_ids(notebook, 1), "x.ipynb")
    second = run_notebooks.stable_widget_ids(_with_random_widget_ids(notebook, 2), "x.ipynb")
    assert nbformat.writes(first) == nbformat.writes(second)
    assert "00000001" not in nbformat.writes(first)
