"""Every lesson runs top to bottom in a fresh kernel, whatever ran before it or beside it.

Learners do not keep to the book's order: they go back to a lesson, Run All twice, skip
ahead, open two lessons at once. Each order here runs the stored notebooks (outputs
cleared) in fresh kernels against ONE workspaces folder, as a learner's machine has one
(``WORKBOOK_WORKSPACES``), and fails naming every run in which a cell raised without
being marked ``# NBVAL_RAISES_EXCEPTION``, or a marked cell did not raise:

- nbmake alone: ``pytest --nbmake notebooks/``, another executor, in the book's order;
- reverse order: the last lesson first, 00 last;
- twice in a row: each lesson, then the same lesson again;
- after the last: the book's last lesson, then lesson k, for every other k (k right
  after a lesson other than k-1);
- in parallel: two kernels at once, in the book's order, so each lesson runs beside its
  neighbours.

Strict nbval (``tasks.py test``) runs the book's order with outputs compared. The kernels
have no MySQL server (``WORKBOOK_MYSQL_URL`` unset), as most learners: the cells that need
one do nothing. One pass over the lessons takes 1-2 minutes and the module about seven
passes (8.5 minutes in one process, under 5 on two xdist workers of a 2-core machine),
so each order is a class of its own (xdist's loadscope spreads them) and ``tasks.py
test`` runs this module on the primary Python only (conftest.py). The tests at the end
run the same machinery on tiny notebooks, to show that each order fails when a notebook
fails in it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import ensure_event_loop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import kernel_start  # noqa: E402  (scripts, not a package)
import run_notebooks  # noqa: E402

from tests import mysql  # noqa: E402

LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ANSI_COLOUR = re.compile(r"(?:\x1b|#x1B)\[[0-9;]*m")
CELL_TIMEOUT = 600  # seconds, as tests/test_run_all.py
# What a learner's shell may export and the kernels must not see: the lessons run on
# their own SQLite files, without a MySQL server.
NOT_FOR_KERNELS = ("DATABASE_URL", "TEST_DATABASE_URL", "ENVIRONMENT", mysql.LESSON_VARIABLE)


@dataclass(frozen=True)
class Run:
    """One lesson run top to bottom: ``problems`` are its unexpected outcomes, one a line."""

    lesson: str  # the notebook's stem, e.g. "04_schema_changes"
    context: str  # "after 03_autogenerate" (the run just before it), "beside ...", "under nbmake"
    seconds: float
    problems: tuple[str, ...]
    started: float = 0.0  # time.perf_counter() when it started


def kernel_environment(workspaces: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_FOR_KERNELS}
    return {**env, "WORKBOOK_WORKSPACES": str(workspaces)}


def run_lesson(path: Path, workspaces: Path, context: str) -> Run:
    """Run the notebook at ``path`` top to bottom in a fresh kernel (working directory:
    its folder), against the workspaces folder ``workspaces``."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    started = time.perf_counter()
    run_notebooks.execute(
        notebook, path.parent, timeout=CELL_TIMEOUT, env=kernel_environment(workspaces)
    )
    problems = run_notebooks.unexpected_errors(notebook, mysql_server=False)
    return Run(path.stem, context, time.perf_counter() - started, tuple(problems), started)


def in_sequence(paths: list[Path], workspaces: Path) -> list[Run]:
    """``paths`` one after the other, each in a fresh kernel, in one workspaces folder."""
    runs: list[Run] = []
    for path in paths:
        before = f"after {runs[-1].lesson}" if runs else "first"
        runs.append(run_lesson(path, workspaces, before))
    return runs


def side_by_side(paths: list[Path], workspaces: Path, kernels: int = 2) -> list[Run]:
    """``paths`` in order, ``kernels`` at a time: a lesson starts as soon as a kernel is
    free, so each one runs while its neighbours in ``paths`` do. Each run's context names
    the runs it overlapped in time."""

    def in_a_thread(path: Path) -> Run:
        try:
            return run_lesson(path, workspaces, "")
        finally:
            # nbclient drives the kernel from an event loop of this thread's own
            # (jupyter_core's): close it with the thread, not in a later test's gc.
            ensure_event_loop().close()

    with ThreadPoolExecutor(max_workers=kernels) as pool:
        runs = list(pool.map(in_a_thread, paths))
    return [replace(run, context=f"beside {beside(run, runs)}") for run in runs]


def beside(run: Run, runs: list[Run]) -> str:
    """The other runs that ran while ``run`` did (their time spans overlap)."""
    ended = run.started + run.seconds
    overlapping = [
        other.lesson
        for other in runs
        if other is not run
        and other.started < ended
        and run.started < other.started + other.seconds
    ]
    return " and ".join(overlapping) or "nothing"


def report(title: str, runs: list[Run], seconds: float) -> str:
    """A table of the runs: lesson, what came before or ran beside it, seconds, outcome."""
    lines = [f"{title}: {len(runs)} runs in {seconds:.0f} s"]
    for run in runs:
        outcome = "ok" if not run.problems else "FAILED: " + "; ".join(run.problems)
        lines.append(f"  {run.lesson:<40} {run.context:<50} {run.seconds:6.1f} s  {outcome}")
    return "\n".join(lines)


def assert_all_ran(title: str, runs: list[Run], seconds: float) -> None:
    table = report(title, runs, seconds)
    print(table)
    failed = [run for run in runs if run.problems]
    assert not failed, f"{len(failed)} of {len(runs)} runs failed\n{table}"


def timed(order, *args) -> tuple[list[Run], float]:
    started = time.perf_counter()
    runs = order(*args)
    return runs, time.perf_counter() - started


# -- the lessons, in each order ---------------------------------------------------------
@pytest.mark.slow
class TestReverseOrder:
    def test_each_lesson_runs_after_the_one_that_follows_it(self, tmp_path):
        runs, seconds = timed(in_sequence, LESSONS[::-1], tmp_path / "workspaces")
        assert_all_ran("reverse order", runs, seconds)


@pytest.mark.slow
class TestTwiceInARow:
    def test_each_lesson_runs_again_right_after_itself(self, tmp_path):
        twice = [path for path in LESSONS for _ in range(2)]
        runs, seconds = timed(in_sequence, twice, tmp_path / "workspaces")
        assert_all_ran("twice in a row", runs, seconds)


@pytest.mark.slow
class TestAfterTheLast:
    def test_each_lesson_runs_right_after_the_last_lesson(self, tmp_path):
        last = LESSONS[-1]
        order = [path for lesson in LESSONS[:-1] for path in (last, lesson)]
        runs, seconds = timed(in_sequence, order, tmp_path / "workspaces")
        assert_all_ran("after the last", runs, seconds)


@pytest.mark.slow
class TestInParallel:
    def test_two_kernels_at_once_each_lesson_beside_its_neighbours(self, tmp_path):
        runs, seconds = timed(side_by_side, LESSONS, tmp_path / "workspaces")
        assert_all_ran("in parallel (two kernels)", runs, seconds)


def nbmake(paths: list[Path], workspaces: Path, junit: Path) -> tuple[int, str, list[Run]]:
    """``pytest --nbmake`` on ``paths`` in a process of its own, against ``workspaces``:
    its exit code, its output, and one Run per notebook (nbmake's failure line as its
    problem; "not run" when nbmake did not report it)."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbmake"]
    answer = subprocess.run(
        [*command, f"--nbmake-timeout={CELL_TIMEOUT}", f"--junitxml={junit}", *map(str, paths)],
        cwd=ROOT,
        # alone: not an xdist worker's child, no options of the pytest that runs this one
        env={
            k: v for k, v in kernel_environment(workspaces).items() if not k.startswith("PYTEST_")
        },
        capture_output=True,
        text=True,
    )
    reported = {}
    if junit.exists():
        for case in ElementTree.parse(junit).iter("testcase"):
            failure = next(iter([*case.iter("failure"), *case.iter("error")]), None)
            problems = () if failure is None else (one_line(failure.get("message") or "failed"),)
            if problems and kernel_start.DIED_BEFORE_FIRST_REPLY in (failure.text or ""):
                # nbmake says "NBMAKE INTERNAL ERROR"; its traceback says which
                problems = (f"{problems[0]}: {kernel_start.DIED_BEFORE_FIRST_REPLY}",)
            reported[Path(case.get("name")).stem] = (float(case.get("time", 0)), problems)
    runs = [
        Run(path.stem, "under nbmake", *reported.get(path.stem, (0.0, ("not run",))))
        for path in paths
    ]
    return answer.returncode, answer.stdout + answer.stderr, runs


def one_line(message: str, limit: int = 300) -> str:
    """nbmake's failure message without its colours (junit writes ESC as "#x1B"), on
    one line, at most ``limit`` characters."""
    plain = " ".join(ANSI_COLOUR.sub("", message).split())
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"


def kernel_died_before_first_reply(run: Run) -> bool:
    """nbmake's kernel lost the port race (tools/kernel_start.py): the lesson never ran."""
    return any(kernel_start.DIED_BEFORE_FIRST_REPLY in problem for problem in run.problems)


@pytest.mark.slow
class TestNbmakeAlone:
    def test_nbmake_runs_every_lesson(self, tmp_path):
        started = time.perf_counter()
        code, output, runs = nbmake(LESSONS, tmp_path / "workspaces", tmp_path / "junit.xml")
        if raced := [run.lesson for run in runs if kernel_died_before_first_reply(run)]:
            only_races = all(kernel_died_before_first_reply(run) for run in runs if run.problems)
            again = [path for path in LESSONS if path.stem in raced]  # once, those alone
            code_again, output_again, rerun = nbmake(
                again, tmp_path / "workspaces", tmp_path / "again.xml"
            )
            code = code_again if only_races else code
            output += f"\n---- run again, kernel died before its first reply: {raced}\n"
            output += output_again
            context = "under nbmake, run again (its first kernel died before replying)"
            runs = [
                replace(next(r for r in rerun if r.lesson == run.lesson), context=context)
                if run.lesson in raced
                else run
                for run in runs
            ]
        assert_all_ran("nbmake alone", runs, time.perf_counter() - started)
        assert code == 0, output[-3000:]


# -- the machinery fails where a notebook fails ----------------------------------------
def tiny_notebook(folder: Path, name: str, *sources: str) -> Path:
    """A notebook ``name`` of code cells ``sources``; ``here`` is the workspaces folder."""
    prelude = "import os, pathlib, time; here = pathlib.Path(os.environ['WORKBOOK_WORKSPACES'])"
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(s) for s in (prelude, *sources)],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def failing(runs: list[Run]) -> list[tuple[str, str]]:
    return [(run.lesson, run.context) for run in runs if run.problems]


def test_a_notebook_that_cannot_run_twice_fails_twice_in_a_row(tmp_path):
    once = tiny_notebook(
        tmp_path, "once", "(here / 'once').mkdir(parents=True)  # refuses an existing folder"
    )
    runs = in_sequence([once, once], tmp_path / "workspaces")
    assert failing(runs) == [("once", "after once")]
    assert "FileExistsError" in runs[1].problems[0]


def test_a_notebook_that_needs_the_one_before_it_fails_in_reverse_order(tmp_path):
    first = tiny_notebook(tmp_path, "first", "here.mkdir(parents=True); (here / 'ran').touch()")
    second = tiny_notebook(tmp_path, "second", "assert (here / 'ran').exists()")
    assert not failing(in_sequence([first, second], tmp_path / "forward"))
    assert failing(in_sequence([second, first], tmp_path / "reverse")) == [("second", "first")]


def test_a_marked_cell_that_does_not_raise_fails(tmp_path):
    quiet = tiny_notebook(tmp_path, "quiet", "# NBVAL_RAISES_EXCEPTION\n1 + 1")
    (run,) = in_sequence([quiet], tmp_path / "workspaces")
    assert run.problems == ("cell 1 (`1 + 1`): marked # NBVAL_RAISES_EXCEPTION but did not raise",)


def test_a_notebook_that_cannot_share_the_machine_fails_in_parallel(tmp_path):
    """Each notebook raises its flag for 5 s and fails if it sees the other's: only together."""
    flags = "here.mkdir(parents=True, exist_ok=True); mine, other = here / {!r}, here / {!r}"
    watch = (
        "mine.touch(); busy = False\n"
        "for _ in range(50):\n"
        "    busy = busy or other.exists(); time.sleep(0.1)\n"
        "mine.unlink(); assert not busy, 'the other notebook runs too'"
    )
    paths = [
        tiny_notebook(tmp_path, "left", flags.format("left", "right"), watch),
        tiny_notebook(tmp_path, "right", flags.format("right", "left"), watch),
    ]
    assert not failing(in_sequence(paths, tmp_path / "apart"))
    runs = side_by_side(paths, tmp_path / "together")
    assert failing(runs) == [("left", "beside right"), ("right", "beside left")]


def test_nbmake_reports_the_notebook_that_fails(tmp_path):
    good = tiny_notebook(tmp_path, "good", "1 + 1")
    bad = tiny_notebook(tmp_path, "bad", "raise ValueError('broken on purpose')")
    code, output, runs = nbmake([good, bad], tmp_path / "workspaces", tmp_path / "junit.xml")
    assert code == 1, output
    assert failing(runs) == [("bad", "under nbmake")]
    assert runs[1].problems == ("ValueError: broken on purpose",)


def test_nbmake_names_a_kernel_that_died_before_its_first_reply(tmp_path, monkeypatch):
    """What a lost port race looks like under nbmake (its kernel exits at once): the lesson
    counts as not run, which TestNbmakeAlone runs once more."""
    spec = tmp_path / "jupyter" / "kernels" / "dies"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-c", "raise SystemExit(1)  # {connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "dies"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    dies = tiny_notebook(tmp_path, "dies", "1 + 1")
    notebook = nbformat.read(dies, as_version=4)
    notebook.metadata.kernelspec = {"name": "dies", "display_name": "dies"}
    nbformat.write(notebook, dies)
    good = tiny_notebook(tmp_path, "good", "1 + 1")
    code, output, runs = nbmake([good, dies], tmp_path / "workspaces", tmp_path / "junit.xml")
    assert code == 1, output
    assert [kernel_died_before_first_reply(run) for run in runs] == [False, True], runs
