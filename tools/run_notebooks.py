"""Build each notebook from its text twin, run it top to bottom in a fresh kernel, store it.

    python3 tasks.py notebooks                    # every lesson
    python3 tasks.py notebooks notebooks/03_*.md  # one lesson (its .md or its .ipynb)

The cells come from the lesson's MyST twin (``notebooks/NN_*.md``, see tools/twins.py);
the notebook keeps cell ids where cells are unchanged. Stored outputs are only ever
produced here, never edited by hand. A cell may raise only
if it is marked ``# NBVAL_RAISES_EXCEPTION``; any other error stops with a message.
Metadata is normalised so that re-running changes nothing but real outputs.

A lesson with cells that need MySQL (``workbook.half_applied.NEEDS_SERVER``) runs against
a real server: ``WORKBOOK_MYSQL_URL`` if set, else a throwaway MariaDB started here
(tests/mysql.py), its URL exported to the kernels. Without one, that lesson is not run:
its stored outputs must come from a real server.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kernel_start  # noqa: E402  (sibling scripts, not a package)
import twins  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(1, str(ROOT))  # tests/mysql.py, whatever Python runs this
from tests import mysql  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
RAISES = "# NBVAL_RAISES_EXCEPTION"


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def normalise(notebook: nbformat.NotebookNode) -> None:
    # A stored widget keeps its static picture (the text/html and text/plain it carries),
    # not its view: JupyterLab draws a view only while its model exists, and a saved model
    # is dropped as a kernel connects (jupyterlab/jupyterlab#15361), so a lesson opened
    # anew would show "Error displaying widget: model not found" or dead buttons. Running
    # the cell brings the live widget; nbval never compares views (model ids are random).
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)
        if cell.cell_type == "code":
            # nbval reads the comment, nbmake and nbclient the tag: keep them in step.
            tags = [t for t in cell.metadata.get("tags", []) if t != "raises-exception"]
            if RAISES in cell.source:
                tags.append("raises-exception")
            if tags:
                cell.metadata["tags"] = tags
            else:
                cell.metadata.pop("tags", None)
        if cell.cell_type == "code" and cell.source.strip() == "":
            cell.outputs, cell.execution_count = [], None
        if cell.cell_type == "code":
            cell.outputs = merged_streams(cell.outputs)
            for output in cell.outputs:
                output.get("data", {}).pop(WIDGET_VIEW, None)


def merged_streams(outputs: list) -> list:
    """One output per run of the same stream: a shell's output arrives in chunks that can
    split a line anywhere, differently on every run (nbval compares them merged, too)."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.output_type == "stream"
            and previous is not None
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def unexpected_errors(notebook: nbformat.NotebookNode, mysql_server: bool = True) -> list[str]:
    """One line per code cell that raised unmarked, or is marked and did not raise:
    "cell 7 (`first line`): ..." (index among all cells). Without ``mysql_server``, the
    cells that need it do nothing, so they are not expected to raise."""
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        raised = [o for o in cell.outputs if o.output_type == "error"]
        marked = RAISES in cell.source
        where = f"cell {index} (`{first_line(cell.source)}`)"
        if raised and not marked:
            problems.append(f"{where}: {raised[0].ename}: {raised[0].evalue}")
        idle = not mysql_server and mysql.cell_needs_a_server(cell.source)
        if marked and not raised and not idle:
            problems.append(f"{where}: marked {RAISES} but did not raise")
    return problems


def first_line(source: str, limit: int = 60) -> str:
    """The first line of ``source`` that is not a comment, cut to ``limit`` characters."""
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    line = next((line for line in lines if not line.startswith("#")), lines[0] if lines else "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def execute(notebook: nbformat.NotebookNode, folder: Path, timeout: int, **kernel) -> None:
    """Run every cell of ``notebook`` in a fresh python3 kernel whose working directory is
    ``folder``; errors stay in the outputs. ``timeout``: seconds for one cell; ``kernel``:
    passed to the kernel's start (``env=...``). A kernel that dies before its first reply
    is started again (tools/kernel_start.py)."""

    @kernel_start.start_twice
    def run_all() -> None:
        client = NotebookClient(
            notebook,
            kernel_name="python3",
            timeout=timeout,
            allow_errors=True,
            resources={"metadata": {"path": str(folder)}},
        )
        try:
            client.execute(**kernel)
        except RuntimeError:
            # nbclient leaves its exit hook registered when the kernel failed to start; at
            # exit it would assert on the kernel it has already cleaned up.
            atexit.unregister(client._cleanup_kernel)
            raise

    run_all()


def run(path: Path, workspaces: Path) -> float:
    stored = nbformat.read(path, as_version=4) if path.exists() else None
    notebook = twins.with_twin_cells(twins.read_twin(twins.twin_of(path)), stored)
    for cell in notebook.cells:  # start clean: nothing stale can survive
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    os.environ["WORKBOOK_WORKSPACES"] = str(workspaces)
    started = time.perf_counter()
    execute(notebook, path.parent, timeout=300)
    elapsed = time.perf_counter() - started
    problems = unexpected_errors(notebook)
    if problems:
        raise SystemExit(f"{path.name}: not saved, unexpected outcome:\n  " + "\n  ".join(problems))
    normalise(notebook)
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    return elapsed


@contextlib.contextmanager
def mysql_for(paths: list[Path]):
    """WORKBOOK_MYSQL_URL for the kernels while ``paths`` run, if a lesson among them needs
    MySQL; exits with the reason, in one line, when no server can be had."""
    needing = {twin.with_suffix(".ipynb") for twin in mysql.lessons_needing_a_server(NOTEBOOKS)}
    needing &= set(paths)
    if not needing or os.environ.get(mysql.LESSON_VARIABLE):
        yield
        return
    try:
        with mysql.lesson_server() as url:
            print(f"MySQL for {', '.join(sorted(p.name for p in needing))}: {url!r}", flush=True)
            os.environ[mysql.LESSON_VARIABLE] = url.render_as_string(hide_password=False)
            try:
                yield
            finally:
                os.environ.pop(mysql.LESSON_VARIABLE, None)
    except mysql.MysqlUnavailable as why:
        raise SystemExit(
            f"{', '.join(sorted(p.name for p in needing))}: not run, its stored "
            f"outputs need a MySQL server ({mysql.LESSON_VARIABLE}): {why}"
        ) from None


def main(arguments: list[str]) -> None:
    # A plain `kill` must still stop a throwaway server: exit through the finally blocks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    paths = [twins.notebook_of(Path(a).resolve()) for a in arguments] or sorted(
        p.with_suffix(".ipynb") for p in NOTEBOOKS.glob("[0-9][0-9]_*.md")
    )
    with tempfile.TemporaryDirectory(prefix="workbook-run-") as workspaces, mysql_for(paths):
        for path in paths:
            elapsed = run(path, Path(workspaces))
            print(f"{path.relative_to(ROOT)}: ran in {elapsed:.1f} s, outputs stored", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
