"""How fast the workbook is, as ratios measured side by side in one run.

    python3 tasks.py bench            # everything (the notebook suite takes a minute or two)
    python3 tasks.py bench --quick    # skip the notebook suite

1. ``%alembic upgrade head`` (in the kernel's process) vs ``!alembic upgrade head`` (a new
   process) on the same workspace: the in-kernel runner should be at least 10x faster.
2. Building a chapter's workspace: cold (stage database not cached yet) and warm.
3. The strict nbval suite vs the same number of trivial notebooks: the trivial suite is the
   floor (kernel start-up and pytest); the ratio says what the chapters themselves cost.
   Both run three times, in turns, and the medians are compared.

Absolute times depend on the machine; the ratios are what to compare between runs.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALEMBIC = Path(sys.executable).with_name("alembic")


def median_seconds(action, repeat: int, before=None) -> float:
    timings = []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def bench_alembic(workspaces: Path) -> tuple[float, float]:
    os.environ["WORKBOOK_WORKSPACES"] = str(workspaces)
    import workbook

    ws = workbook.start("bench_alembic", "head", quiet=True)

    def downgrade() -> None:
        assert ws.run("downgrade base").ok

    def in_kernel() -> None:
        assert ws.run("upgrade head").ok

    def new_process() -> None:
        subprocess.run([str(ALEMBIC), "upgrade", "head"], cwd=ws.path, check=True,
                       capture_output=True)

    return (median_seconds(in_kernel, 5, downgrade), median_seconds(new_process, 5, downgrade))


def bench_workspace(workspaces: Path) -> tuple[float, float]:
    import workbook

    def clear_cache() -> None:
        shutil.rmtree(workspaces / ".cache", ignore_errors=True)

    cold = median_seconds(lambda: workbook.start("bench_ws", "head", quiet=True), 3, clear_cache)
    warm = median_seconds(lambda: workbook.start("bench_ws", "head", quiet=True), 5)
    return cold, warm


def trivial_notebooks(folder: Path, count: int) -> None:
    for index in range(count):
        notebook = {
            "cells": [{"cell_type": "code", "execution_count": 1, "id": f"c{index}",
                       "metadata": {}, "source": "1 + 1",
                       "outputs": [{"output_type": "execute_result", "execution_count": 1,
                                    "data": {"text/plain": "2"}, "metadata": {}}]}],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5,
        }
        (folder / f"{index:02d}_trivial.ipynb").write_text(json.dumps(notebook))


def pytest_nbval_seconds(target: Path, workspaces: Path) -> float:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "auto",
               "--dist", "loadfile", "--nbval", "--nbval-current-env",
               "--nbval-sanitize-with", str(ROOT / "tools" / "nbval-sanitize.cfg"), str(target)]
    env = {**os.environ, "WORKBOOK_WORKSPACES": str(workspaces)}
    started = time.perf_counter()
    result = subprocess.run(command, cwd=target if target.is_dir() else ROOT, env=env,
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"pytest failed on {target}:\n{result.stdout[-2000:]}")
    return elapsed


def bench_notebooks(workspaces: Path, rounds: int = 3) -> tuple[int, float, float]:
    """Median wall times of the chapters and of the trivial floor, run in turns.

    Alternating the two suites spreads the machine's slow and fast moments over both,
    so the ratio of the medians is steadier than any single pair of runs.
    """
    chapters = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    suites, floors = [], []
    with tempfile.TemporaryDirectory(prefix="trivial-") as folder:
        trivial_notebooks(Path(folder), len(chapters))
        for _ in range(rounds):
            floors.append(pytest_nbval_seconds(Path(folder), workspaces))
            suites.append(pytest_nbval_seconds(ROOT / "notebooks", workspaces))
    return len(chapters), statistics.median(suites), statistics.median(floors)


def main(arguments: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="workbook-bench-") as folder:
        workspaces = Path(folder)
        in_kernel, new_process = bench_alembic(workspaces)
        print("upgrade head, base -> 0011 (median of 5):")
        print(f"  %alembic (in the kernel)   {in_kernel * 1000:7.0f} ms")
        print(f"  !alembic (new process)     {new_process * 1000:7.0f} ms")
        print(f"  ratio                      {new_process / in_kernel:7.1f}x faster in the kernel")
        cold, warm = bench_workspace(workspaces)
        print("workbook.start(..., stage='head'):")
        print(f"  cold (builds the stage)    {cold * 1000:7.0f} ms")
        print(f"  warm (cached stage)        {warm * 1000:7.0f} ms")
        if "--quick" in arguments:
            return
        count, suite, floor = bench_notebooks(workspaces)
        print(f"strict nbval, {count} notebooks (-n auto, median of 3 alternating runs):")
        print(f"  the chapters               {suite:7.1f} s")
        print(f"  {count} trivial notebooks       {floor:7.1f} s  (kernel start-up floor)")
        print(f"  ratio                      {suite / floor:7.2f}x the floor")


if __name__ == "__main__":
    main(sys.argv[1:])
