"""How fast the workbook is, as ratios measured side by side in one run.

    python3 tasks.py bench            # everything (the notebook suite takes a minute or two)
    python3 tasks.py bench --quick    # skip the notebook suite
    python3 tasks.py bench --lite     # the in-browser edition only (about 10 minutes)

1. ``%alembic upgrade head`` (in the kernel's process) vs ``!alembic upgrade head`` (a new
   process) on the same workspace: the in-kernel runner should be at least 10x faster.
   The floor beside them: ``alembic.command.upgrade`` called directly on a sync SQLite
   connection shared through ``config.attributes`` (the Alembic cookbook's way, and what
   ``%alembic`` hands env.py too), without the runner's capture, logging isolation, fresh
   imports and clock. ``%alembic`` / floor is what the runner's guarantees cost.
2. Building a chapter's workspace: cold (stage database not cached yet) and warm.
3. The strict nbval suite vs the same number of trivial notebooks: the trivial suite is the
   floor (kernel start-up and pytest); the ratio says what the chapters themselves cost.
   A second floor gives each trivial notebook as many cells as its chapter, to tell the
   price of many small cells from the price of what they do. All three suites run three
   times, in turns, and the medians are compared.

4. ``--lite``, the in-browser edition (``python3 tasks.py lite``): the site's size on disk
   and as a ``.tgz``; seconds to a ready kernel (the lesson open, Pyodide and the packages
   loaded, ``import workbook`` answered) in a fresh browser profile (cold) and with the
   browser's cache filled (warm: the median over the lessons); and each lesson's *Run All*
   in Chromium (``tests/lite_page.py``) beside the same lesson run by nbclient in a desktop
   kernel (kernel start-up not counted on either side). Neither side has a MySQL server.

Absolute times depend on the machine; the ratios are what to compare between runs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
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


def direct_upgrade(ws):
    """``alembic.command.upgrade(config, "head")`` on the workspace, as a program would call it.

    One engine for all calls (NullPool, SQLite made transactional like env.py's own), a new
    connection per call handed to env.py in ``config.attributes["connection"]``; env.py
    leaves logging alone (``configure_logger``) and nothing is captured.
    """
    import sqlalchemy
    from alembic.config import Config

    from alembic import command
    from app.core.database import make_sqlite_transactional

    engine = sqlalchemy.create_engine(f"sqlite:///{ws.db_path}", poolclass=sqlalchemy.pool.NullPool)
    make_sqlite_transactional(engine)

    def upgrade() -> None:
        config = Config(str(ws.ini_path), stdout=io.StringIO())
        config.attributes["configure_logger"] = False
        with contextlib.chdir(ws.path), engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()

    return upgrade


def bench_alembic(workspaces: Path) -> dict[str, float]:
    """Median seconds of ``upgrade head`` from base: in the kernel, in a new process, floor."""
    os.environ["WORKBOOK_WORKSPACES"] = str(workspaces)
    import workbook

    ws = workbook.start("bench_alembic", "head", quiet=True)

    def downgrade() -> None:
        assert ws.run("downgrade base").ok

    def in_kernel() -> None:
        assert ws.run("upgrade head").ok

    def new_process() -> None:
        subprocess.run(
            [str(ALEMBIC), "upgrade", "head"], cwd=ws.path, check=True, capture_output=True
        )

    floor = direct_upgrade(ws)
    downgrade()
    floor()  # the floor must do the same work: check it reaches head
    assert "(head)" in ws.run("current").stdout, "the direct alembic.command call did not upgrade"

    return {
        "in_kernel": median_seconds(in_kernel, 5, downgrade),
        "new_process": median_seconds(new_process, 5, downgrade),
        "floor": median_seconds(floor, 5, downgrade),
    }


def bench_workspace(workspaces: Path) -> tuple[float, float]:
    import workbook

    def clear_cache() -> None:
        shutil.rmtree(workspaces / ".cache", ignore_errors=True)

    cold = median_seconds(lambda: workbook.start("bench_ws", "head", quiet=True), 3, clear_cache)
    warm = median_seconds(lambda: workbook.start("bench_ws", "head", quiet=True), 5)
    return cold, warm


def trivial_notebooks(folder: Path, cells_per_notebook: list[int]) -> None:
    """One notebook per entry, each with that many ``1 + 1`` cells (outputs stored)."""
    for index, count in enumerate(cells_per_notebook):
        cells = [
            {
                "cell_type": "code",
                "execution_count": n + 1,
                "id": f"c{index}-{n}",
                "metadata": {},
                "source": "1 + 1",
                "outputs": [
                    {
                        "output_type": "execute_result",
                        "execution_count": n + 1,
                        "data": {"text/plain": "2"},
                        "metadata": {},
                    }
                ],
            }
            for n in range(count)
        ]
        notebook = {
            "cells": cells,
            "metadata": {
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        (folder / f"{index:02d}_trivial.ipynb").write_text(json.dumps(notebook))


def code_cells(path: Path) -> int:
    return sum(cell["cell_type"] == "code" for cell in json.loads(path.read_text())["cells"])


def pytest_nbval_seconds(target: Path, workspaces: Path) -> float:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-n",
        "auto",
        "--dist",
        "loadfile",
        "--nbval",
        "--nbval-current-env",
        "--nbval-sanitize-with",
        str(ROOT / "tools" / "nbval-sanitize.cfg"),
        str(target),
    ]
    env = {**os.environ, "WORKBOOK_WORKSPACES": str(workspaces)}
    started = time.perf_counter()
    result = subprocess.run(
        command,
        check=False,
        cwd=target if target.is_dir() else ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"pytest failed on {target}:\n{result.stdout[-2000:]}")
    return elapsed


def bench_notebooks(workspaces: Path, rounds: int = 3) -> dict[str, float]:
    """Median wall times of the chapters and of two floors, run in turns.

    - "floor": one trivial cell per notebook, the issue's yardstick (kernel start-up and
      pytest);
    - "cells": as many trivial cells as each chapter has code cells, which adds what
      nbval and the kernel spend per cell whatever it holds.
    Alternating the suites spreads the machine's slow and fast moments over all of them,
    so ratios of medians are steadier than any single pair of runs.
    """
    chapters = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    times: dict[str, list[float]] = {"chapters": [], "floor": [], "cells": []}
    with (
        tempfile.TemporaryDirectory(prefix="trivial-") as one,
        tempfile.TemporaryDirectory(prefix="cells-") as many,
    ):
        trivial_notebooks(Path(one), [1] * len(chapters))
        trivial_notebooks(Path(many), [code_cells(path) for path in chapters])
        for _ in range(rounds):
            times["floor"].append(pytest_nbval_seconds(Path(one), workspaces))
            times["cells"].append(pytest_nbval_seconds(Path(many), workspaces))
            times["chapters"].append(pytest_nbval_seconds(ROOT / "notebooks", workspaces))
    medians = {name: statistics.median(values) for name, values in times.items()}
    medians["count"] = len(chapters)
    medians["code_cells"] = sum(code_cells(path) for path in chapters)
    return medians


def desktop_run_all_seconds(path: Path, workspaces: Path) -> float:
    """Seconds nbclient takes to run every cell of ``path`` once its kernel is ready."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    os.environ["WORKBOOK_WORKSPACES"] = str(workspaces)
    os.environ.pop("WORKBOOK_MYSQL_URL", None)  # as in a browser: no MySQL server
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=600,
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    with client.setup_kernel(stderr=subprocess.DEVNULL):  # its start-up warnings
        started = time.perf_counter()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        return time.perf_counter() - started


def site_sizes(site: Path) -> tuple[float, float]:
    """(MB on disk, MB as a gzipped tarball) of the built site."""
    import tarfile

    on_disk = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    with tempfile.TemporaryDirectory(prefix="lite-tgz-") as scratch:
        archive = Path(scratch) / "site.tgz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(site, arcname="lite")
        packed = archive.stat().st_size
    return on_disk / 1e6, packed / 1e6


def bench_lite() -> None:
    """The in-browser edition: size, kernel-ready cold and warm, Run All per lesson."""
    import threading

    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from tests.lite_page import Browser, open_lesson, run_all

    subprocess.run([sys.executable, str(ROOT / "tools" / "lite.py")], check=True)
    site = ROOT / "build" / "lite"
    disk, packed = site_sizes(site)
    print(f"in-browser edition: build/lite/ {disk:.1f} MB on disk, {packed:.1f} MB as .tgz")
    lessons = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.md"))
    spec = importlib.util.spec_from_file_location("lite_build", ROOT / "tools" / "lite.py")
    lite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lite)
    server = lite.make_server(0, site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    browser_times: dict[str, tuple[float, float]] = {}  # lesson -> (kernel ready, Run All)
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with tempfile.TemporaryDirectory(prefix="lite-profile-") as profile, sync_playwright() as pw:
        browser = Browser(pw, Path(profile), base)
        try:
            cold_page, cold = open_lesson(browser, lessons[0])  # nothing cached yet
            cold_page.close()
            for lesson in lessons:
                page, boot = open_lesson(browser, lesson)
                browser_times[lesson] = (boot.ready, run_all(page))
                page.close()
        finally:
            browser.close()
            server.shutdown()
    warm = statistics.median(ready for ready, _ in browser_times.values())
    print(f"  kernel ready: cold {cold.ready:.1f} s, warm {warm:.1f} s (median of {len(lessons)})")
    if browser.elsewhere:
        print(f"  requests to other hosts: {browser.elsewhere[:3]}")
    print(f"  {'lesson':<38} {'browser Run All':>15} {'desktop':>8} {'ratio':>6}")
    with tempfile.TemporaryDirectory(prefix="lite-desktop-") as workspaces:
        for lesson in lessons:
            desktop = desktop_run_all_seconds(
                ROOT / "notebooks" / f"{lesson}.ipynb", Path(workspaces)
            )
            in_browser = browser_times[lesson][1]
            print(
                f"  {lesson:<38} {in_browser:13.1f} s {desktop:6.1f} s {in_browser / desktop:5.1f}x"
            )


def main(arguments: list[str]) -> None:
    if "--lite" in arguments:
        bench_lite()
        return
    with tempfile.TemporaryDirectory(prefix="workbook-bench-") as folder:
        workspaces = Path(folder)
        times = bench_alembic(workspaces)
        in_kernel, new_process, floor = times["in_kernel"], times["new_process"], times["floor"]
        from workbook.stages import STAGES  # importable once bench_alembic has run

        print(f"upgrade head, base -> {STAGES['head'].revision} (median of 5):")
        print(f"  alembic.command (the floor)  {floor * 1000:7.0f} ms  (direct, shared connection)")
        print(f"  %alembic (in the kernel)     {in_kernel * 1000:7.0f} ms")
        print(f"  !alembic (new process)       {new_process * 1000:7.0f} ms")
        print(f"  ratio                        {new_process / in_kernel:7.1f}x faster in-kernel")
        print(f"  %alembic / floor             {in_kernel / floor:7.2f}x  (the runner's own cost)")
        cold, warm = bench_workspace(workspaces)
        print("workbook.start(..., stage='head'):")
        print(f"  cold (builds the stage)    {cold * 1000:7.0f} ms")
        print(f"  warm (cached stage)        {warm * 1000:7.0f} ms")
        if "--quick" in arguments:
            return
        m = bench_notebooks(workspaces)
        count, cells = int(m["count"]), int(m["code_cells"])
        print(f"strict nbval, {count} notebooks (-n auto, median of 3 alternating runs):")
        print(f"  the chapters ({cells} code cells)       {m['chapters']:6.1f} s")
        print(
            f"  {count} trivial notebooks, 1 cell each  {m['floor']:6.1f} s  "
            "(kernel start-up floor)"
        )
        print(
            f"  {count} trivial notebooks, {cells} cells    {m['cells']:6.1f} s  "
            "(plus nbval's cost per cell)"
        )
        print(f"  ratio to the floor                {m['chapters'] / m['floor']:6.2f}x")
        print(f"  ratio to the same number of cells {m['chapters'] / m['cells']:6.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
