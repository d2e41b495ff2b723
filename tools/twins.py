"""Text twins: each lesson's cells kept as MyST Markdown beside its notebook.

    python3 tasks.py twins            # notebooks/NN_*.md from the .ipynb (after JupyterLab edits)
    python3 tasks.py twins --check    # exit 1 when a twin and its notebook disagree

The ``.md`` twin is what authors edit and reviewers read: a prose change is a prose diff. The
``.ipynb`` keeps the real outputs that nbval compares; ``python3 tasks.py notebooks`` builds it
from the twin and runs it. MyST (jupytext's ``md:myst``) is chosen over plain jupytext Markdown
because only ``{code-cell}`` blocks become code: the lessons' prose shows ```` ```python ````
examples that must stay prose.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
FORMAT = "md:myst"
# Added by tools/run_notebooks.py from the cell's `# NBVAL_RAISES_EXCEPTION` comment, so the
# twin need not carry it.
DERIVED_TAGS = {"raises-exception"}


def lessons() -> list[Path]:
    """Every lesson notebook, in order: ``notebooks/NN_*.ipynb``."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def twin_of(notebook: Path) -> Path:
    return notebook.with_suffix(".md")


def notebook_of(path: Path) -> Path:
    """The notebook a path names, whether given as the ``.ipynb`` or its ``.md`` twin."""
    return path.with_suffix(".ipynb")


def cells_of(notebook: nbformat.NotebookNode) -> list[tuple[str, str, tuple[str, ...]]]:
    """What a twin holds of each cell: ``(cell_type, source, tags)``; outputs, ids and
    execution counts belong to the notebook alone."""
    return [
        (
            cell.cell_type,
            cell.source.strip("\n"),
            tuple(t for t in cell.metadata.get("tags", []) if t not in DERIVED_TAGS),
        )
        for cell in notebook.cells
    ]


def _without_derived_tags(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        tags = [t for t in cell.metadata.get("tags", []) if t not in DERIVED_TAGS]
        cell.metadata.pop("tags", None)
        if tags:
            cell.metadata["tags"] = tags
        for key in ("execution", "ExecuteTime"):
            cell.metadata.pop(key, None)
    return notebook


def twin_text(notebook: nbformat.NotebookNode) -> str:
    """The MyST Markdown text of a notebook's cells."""
    return jupytext.writes(_without_derived_tags(notebook), fmt=FORMAT)


def read_twin(path: Path) -> nbformat.NotebookNode:
    """The cells of a ``.md`` twin as a notebook without outputs."""
    return jupytext.read(path, fmt=FORMAT)


def with_twin_cells(twin: nbformat.NotebookNode, stored: nbformat.NotebookNode | None):
    """The twin's cells, carrying over the stored notebook's cell ids and outputs where a
    cell is unchanged (jupytext's own pairing rule), so a prose edit keeps the JSON diff small."""
    if stored is None:
        return twin
    return jupytext.combine.combine_inputs_with_outputs(twin, stored, fmt=FORMAT)


def disagreements(notebook_path: Path) -> list[str]:
    """Why a notebook and its twin differ: ``[]`` when they hold the same cells."""
    twin_path = twin_of(notebook_path)
    if not twin_path.exists():
        return [f"{twin_path.name} is missing: run `python3 tasks.py twins`"]
    stored = cells_of(nbformat.read(notebook_path, as_version=4))
    text = cells_of(read_twin(twin_path))
    if stored == text:
        return []
    for index, (left, right) in enumerate(zip(stored, text, strict=False)):
        if left != right:
            return [
                f"{notebook_path.name} cell {index} differs from {twin_path.name}: "
                "edit the .md, then `python3 tasks.py notebooks " + twin_path.name + "`"
            ]
    return [f"{notebook_path.name} has {len(stored)} cells, {twin_path.name} {len(text)}"]


def write_twins(paths: list[Path]) -> None:
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        twin_of(path).write_text(twin_text(notebook), encoding="utf-8")
        print(f"{twin_of(path).relative_to(ROOT)}: written from {path.name}")


def main(arguments: list[str]) -> None:
    check = "--check" in arguments
    paths = [notebook_of(Path(a).resolve()) for a in arguments if a != "--check"] or lessons()
    if not check:
        write_twins(paths)
        return
    problems = [problem for path in paths for problem in disagreements(path)]
    print("\n".join(problems) or f"{len(paths)} lessons and their twins agree")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
