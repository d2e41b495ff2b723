"""The in-browser edition in a real browser: every lesson runs, offline, and work survives.

``python3 tasks.py lite`` builds the site; this test builds it too (a second build takes
seconds), serves it on 127.0.0.1 and drives Debian's Chromium with Playwright (the system
browser, no download; ``tests/lite_page.py`` drives the page). Every request to another
host, from the page, the kernel's worker or the service worker, goes to a proxy that
refuses and records it: the site must need none. For each lesson (``notebooks/NN_*.md``)
it opens a page on that lesson alone, runs *Run All* and checks, from the notebook the
page holds:

- every code cell ran; none shows an error, and the cells meant to raise (tag
  ``raises-exception``, comment ``# NBVAL_RAISES_EXCEPTION``) show theirs
  (``workbook.browser`` writes it to stderr, so that Run All goes on, as on a desktop);
- the cells tagged ``desktop-only`` show the note and their stored outputs; at least 70%
  of each lesson's code cells ran for real (REAL_IN_EACH_LESSON);
- the SVG pictures are drawn as pictures; the timeline widget renders, and moving it to
  another revision moves the database;
then it saves one screenshot per lesson, ``build/screenshots/lite/NN_name.png`` (the first
timeline or picture in view), and the seconds of each phase in ``timings.json`` beside
them. A last test reloads a page and checks that a workspace (files and SQLite database)
came back, and that the proxy sees the kernel's own requests.

Skipped, with the reason, where Chromium or Playwright is missing, or where the site cannot
be built (no npm and no cached Pyodide); under ``CI=true`` those fail instead. Like the
other browser legs, they run on the primary Python only (conftest.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from tests.browser_page import CHROMIUM
from tests.lite_page import (
    KERNEL_SECONDS,
    NOTEBOOK,
    SCREENSHOTS,
    SVG,
    Browser,
    cell_problems,
    open_lesson,
    picture_problems,
    printed,
    run,
    run_all,
    screenshot,
    source_of,
    timeline_problems,
    wait_until,
)
from workbook import browser as browser_module

ROOT = Path(__file__).resolve().parents[1]
# The lessons are the text twins; the site holds the notebooks built from them.
LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.md"))
IN_CI = os.environ.get("CI") == "true"
# Percent of the code cells that run for real in a browser, at least: of each lesson
# (issue 15 asks for 90%; chapter 01, on a desktop's setup, has eleven cells that start pip,
# a shell or a new Python, or use %alembic's worker thread, and three that show a desktop
# kernel's asyncio.run() refused, which Pyodide's runs: 34 of 48, 70%), and of all of them.
REAL_IN_EACH_LESSON, REAL_IN_ALL = 70, 90


def _load_lite():
    spec = importlib.util.spec_from_file_location("lite_build", ROOT / "tools" / "lite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lite = _load_lite()


def unavailable(reason: str) -> None:
    """Skip, saying why; in CI the browser test must run, so fail instead."""
    if IN_CI:
        pytest.fail(f"browser test cannot run in CI: {reason}")
    pytest.skip(f"in-browser edition test skipped: {reason}")


# -- without a browser: the build's inputs and workbook.browser's parts -----------------------
def test_desktop_only_cells_are_few_and_found_by_their_source() -> None:
    """At least 90% of all code cells run for real in a browser, and 70% of each lesson's
    (see REAL_IN_EACH_LESSON for chapter 01's 14 desktop-only cells)."""
    cells = lite.desktop_only_cells()
    total = tagged_total = 0
    for lesson in LESSONS:
        notebook = json.loads((ROOT / "notebooks" / f"{lesson}.ipynb").read_text())
        code = [c for c in notebook["cells"] if c["cell_type"] == "code" and source_of(c).strip()]
        tagged = [c for c in code if lite.DESKTOP_ONLY in c["metadata"].get("tags", [])]
        assert len(tagged) * 100 <= (100 - REAL_IN_EACH_LESSON) * len(code), (
            f"{lesson}: {len(tagged)} of {len(code)} code cells are desktop-only"
        )
        total, tagged_total = total + len(code), tagged_total + len(tagged)
        for cell in tagged:
            assert cells[cell["id"]] == {
                "lesson": lesson,
                "outputs": cell["outputs"],
                "source_sha256": browser_module.cell_digest(source_of(cell)),
            }
    assert tagged_total * 100 <= (100 - REAL_IN_ALL) * total, (
        f"{tagged_total} of {total} code cells are desktop-only"
    )
    assert len(cells) == tagged_total
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"{tagged_total} of the {total} code cells" in readme, "README: update the count"


def test_a_wheel_with_bytecode_imports_what_its_sources_do(tmp_path) -> None:
    """The site's lock lists a wheel's top-level names; its __pycache__ is not one."""
    wheel = tmp_path / "tiny-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("tiny.py", "X = 1\n")
        archive.writestr("__pycache__/tiny.cpython-314.pyc", b"")
        archive.writestr("tiny_pkg/__init__.py", "")
        archive.writestr("tiny_pkg/__pycache__/__init__.cpython-314.pyc", b"")
        archive.writestr("tiny-1.0.dist-info/METADATA", "Name: tiny\nVersion: 1.0\n")
    assert lite.wheel_lock_entry(wheel, set())["imports"] == ["tiny", "tiny_pkg"]


def test_without_node_the_wheels_are_served_as_they_are(tmp_path, monkeypatch, capsys) -> None:
    wheels = lite.wheels_of_lock(lite.read_lock())[:2]
    lite_wheels = sys.modules[lite.precompiled.__module__]  # tools/lite_wheels.py
    monkeypatch.setattr(lite_wheels, "COMPILED", tmp_path)
    monkeypatch.setattr(lite_wheels.shutil, "which", lambda name: None)
    tarball = lite.DOWNLOADS / "no-such-core.tgz"
    assert lite.precompiled(wheels, tarball, "0" * 64) == wheels
    assert "without bytecode" in capsys.readouterr().out


def test_the_project_archive_is_byte_stable_and_complete() -> None:
    first = lite.project_archive()
    assert lite.project_archive().read_bytes() == first.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = set(archive.namelist())
    for needed in [
        "workbook/__init__.py",
        "workbook/browser.py",
        "app/core/config.py",
        "alembic/env.py",
        "alembic.ini",
        "requirements.lock",
        "tests/test_reference_migrations.py",
        lite.DESKTOP_ONLY_FILE,
    ]:
        assert f"{lite.PROJECT}/{needed}" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".db"))]


def test_a_site_built_from_the_same_inputs_is_not_built_again(tmp_path, monkeypatch) -> None:
    """``tasks.py lite`` (and ``--serve``) skip the build when nothing it reads changed."""
    output, notebooks = tmp_path / "lite", tmp_path / "notebooks"
    for name in ("jupyter-lite.json", "lab/index.html"):
        (output / name).parent.mkdir(parents=True, exist_ok=True)
        (output / name).write_text("{}")
    notebooks.mkdir()
    for lesson in LESSONS[:2]:
        shutil.copy(ROOT / "notebooks" / f"{lesson}.ipynb", notebooks)
    monkeypatch.setattr(lite, "OUTPUT", output)
    monkeypatch.setattr(lite, "NOTEBOOKS", notebooks)
    monkeypatch.setattr(lite, "STAMP", tmp_path / "built-from.sha256")

    def no_build(*args, **kwargs):
        raise AssertionError(f"built again: {args}")

    monkeypatch.setattr(lite, "read_lock", no_build)
    lite.STAMP.write_text(lite.inputs_digest() + "\n")
    lite.build()  # up to date: returns before reading the lock
    with pytest.raises(AssertionError, match="built again"):
        lite.build(force=True)

    lite.STAMP.write_text(lite.inputs_digest() + "\n")
    lesson = notebooks / f"{LESSONS[0]}.ipynb"
    lesson.write_text(lesson.read_text().replace('"cells": [', '"cells": [ ', 1))
    with pytest.raises(AssertionError, match="built again"):
        lite.build()  # a lesson changed


def test_a_desktop_jupyterlab_does_not_load_the_in_browser_kernel_extension() -> None:
    """It fails there (an error in every page's console); the site's build still finds it."""
    from jupyter_core.paths import jupyter_path
    from jupyterlab_server.config import get_federated_extensions

    loaded = get_federated_extensions(jupyter_path("labextensions"))
    assert "@jupyterlite/pyodide-kernel-extension" not in loaded
    assert "@jupyter-widgets/jupyterlab-manager" in loaded  # the timeline's, on both
    for name in lite.EXTENSIONS:
        assert (lite.labextension(name) / "package.json").exists(), name


def test_saved_workspaces_come_back_after_a_reload(tmp_path, monkeypatch) -> None:
    memory, storage = tmp_path / "memory", tmp_path / "drive"
    project = memory / "03_autogenerate"
    for relative, text in {
        ".env": "DATABASE_URL=sqlite+aiosqlite:///app.db\n",
        "app.db": "SQLite format 3",
        "alembic/versions/0001_x.py": "x",
        "alembic/__pycache__/env.cpython-314.pyc": "",
        "../.cache/models-1234.db": "",
        "../progress.json": "{}",
    }.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text)
    (storage / "lessons").mkdir(parents=True)
    (storage / "lessons" / "03_autogenerate.ipynb").write_text("{}")
    monkeypatch.setattr(browser_module, "_saved", {})

    written = browser_module.save(storage, memory)
    assert written == [
        "03_autogenerate/.env",
        "03_autogenerate/alembic/versions/0001_x.py",
        "03_autogenerate/app.db",
        "progress.json",
    ]
    assert browser_module.save(storage, memory) == []  # nothing changed, nothing written
    (project / "app.db").write_text("SQLite format 3, upgraded")
    (project / "alembic" / "versions" / "0001_x.py").unlink()
    assert browser_module.save(storage, memory) == [
        "03_autogenerate/app.db",
        "03_autogenerate/alembic/versions/0001_x.py",
    ]
    assert not (storage / "03_autogenerate" / "alembic" / "versions" / "0001_x.py").exists()

    monkeypatch.setattr(browser_module, "_saved", {})  # a new page: memory is empty
    fresh = tmp_path / "fresh"
    assert browser_module.restore(storage, fresh) == ["progress.json"]  # import workbook
    assert not (fresh / "03_autogenerate").exists()  # until the chapter is named
    monkeypatch.setattr(browser_module, "STORAGE", storage)
    monkeypatch.setattr(browser_module, "_storage_ready", lambda: True)
    monkeypatch.setattr(browser_module, "_restored_workspaces", set())
    monkeypatch.setenv("WORKBOOK_WORKSPACES", str(fresh))
    from workbook.workspace import Workspace

    Workspace("03_autogenerate", "0001")
    assert sorted(p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_file()) == [
        "03_autogenerate/.env",
        "03_autogenerate/app.db",
        "progress.json",
    ]
    assert (fresh / "03_autogenerate" / "app.db").read_text() == "SQLite format 3, upgraded"
    assert not (fresh / "lessons").exists()
    assert browser_module.save(storage, fresh) == []


def test_a_desktop_only_cell_shows_a_note_and_its_stored_outputs(monkeypatch, capsys) -> None:
    source = '%%bash\ngit add -A\ngit commit -m "0001"\n'
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": ["[main 1a2b3c] 0001\n"]},
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {"text/plain": ["a picture"], SVG: "<svg/>"},
        },
        {
            "output_type": "error",
            "ename": "CalledProcessError",
            "evalue": "exit 1",
            "traceback": [],
        },
    ]
    monkeypatch.setattr(
        browser_module,
        "_cells",
        {
            "c0ffee01": {
                "lesson": "03",
                "source_sha256": browser_module.cell_digest(source),
                "outputs": outputs,
            }
        },
    )
    running = ["c0ffee01"]
    monkeypatch.setattr(browser_module, "_current_cell_id", lambda: running[0])
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda data, raw: shown.append(data))
    monkeypatch.setattr(
        IPython.display, "publish_display_data", lambda data, metadata: shown.append(data)
    )

    (replacement,) = browser_module.transform_desktop_only(source.splitlines(keepends=True))
    exec(replacement, {})
    assert shown[0]["text/plain"].startswith("Desktop only: this cell runs a shell script")
    assert shown[1] == {"text/plain": "a picture", SVG: "<svg/>"}
    printed_now = capsys.readouterr()
    assert printed_now.out == "[main 1a2b3c] 0001\n"
    assert printed_now.err == "CalledProcessError: exit 1\n"

    edited = [source + "git log\n"]  # the learner's own version runs for real
    assert browser_module.transform_desktop_only(edited) is edited
    running[0] = "another1"  # the same source in another cell (another lesson) runs too
    assert browser_module.transform_desktop_only([source]) == [source]


def test_a_desktop_only_cell_still_imports_what_later_cells_use(monkeypatch) -> None:
    source = (
        "import os\nfrom unittest import mock\n\nwith mock.patch.dict(os.environ):\n"
        "    %alembic upgrade head\n"
    )
    monkeypatch.setattr(
        browser_module,
        "_cells",
        {
            "c0ffee02": {
                "lesson": "07",
                "source_sha256": browser_module.cell_digest(source),
                "outputs": [],
            }
        },
    )
    monkeypatch.setattr(browser_module, "_current_cell_id", lambda: "c0ffee02")
    *imports, replay = browser_module.transform_desktop_only([source])
    assert imports == ["import os\n", "from unittest import mock\n"]
    assert replay.startswith("__import__('workbook.browser').browser.replay('c0ffee02', ")


@pytest.mark.parametrize(
    "source, needs",
    [
        ("!alembic check; echo $?", "runs a command in a shell"),
        ("out = !alembic current", "runs a command in a shell"),
        ("%%bash\nalembic upgrade head", "runs a shell script"),
        ("!git status --porcelain", "runs git"),
        (
            "with environment(DATABASE_URL=POSTGRES):\n    ws.alembic('upgrade head')",
            "talks to a database server",
        ),
        ("import subprocess\nsubprocess.run(['alembic'])", "starts a process"),
    ],
)
def test_the_note_says_what_the_cell_needs(source: str, needs: str) -> None:
    assert browser_module._what_it_needs(source) == needs


def test_post_write_hooks_that_start_a_program_are_skipped(monkeypatch, capsys) -> None:
    from alembic.script import write_hooks

    monkeypatch.setattr(write_hooks, "_registry", dict(write_hooks._registry))
    browser_module._hooks_without_processes()
    write_hooks._invoke(
        "module",
        "alembic/versions/0012_x.py",
        {"_hook_name": "ruff", "module": "ruff", "options": "format"},
    )
    assert capsys.readouterr().out == (
        "  (not run: ruff starts a program, which a browser tab cannot; on a desktop it runs)\n"
    )


def test_an_async_env_py_that_fails_in_a_browser_raises_once(monkeypatch) -> None:
    """Pyodide's run_sync: an exception leaving it is shown by the kernel as the cell's error,
    even when caught (chapter 09's unreachable server: the runner reports it in one line)."""
    import types

    from alembic.util import CommandError

    shown = []

    def run_sync(coroutine):  # these coroutines never wait: one step runs them through
        try:
            coroutine.send(None)
        except StopIteration as finished:
            return finished.value
        except BaseException as error:
            shown.append(error)  # what the browser's kernel does with it
            raise
        raise AssertionError("the coroutine waited")

    ffi = types.SimpleNamespace(run_sync=run_sync, can_run_sync=lambda: True)
    monkeypatch.setitem(sys.modules, "pyodide", types.ModuleType("pyodide"))
    monkeypatch.setitem(sys.modules, "pyodide.ffi", ffi)

    async def fails():
        raise CommandError("cannot use postgresql+asyncpg://bob:***@127.0.0.1:1/db")

    async def works():
        return 42

    with pytest.raises(CommandError, match="cannot use"):
        browser_module.run_in_place(fails())
    assert shown == []
    assert browser_module.run_in_place(works()) == 42


# A Python with what a browser tab lacks taken away: no greenlet, no thread can start.
_NO_GREENLET_NO_THREADS = """\
import sys, threading
sys.modules["greenlet"] = None
def refused(self):
    raise RuntimeError("can't start new thread")
threading.Thread.start = refused
"""


def _in_python_like_a_browser_tab(script: str, tmp_path: Path, adapt: bool = True):
    import subprocess

    prelude = _NO_GREENLET_NO_THREADS
    if adapt:
        prelude += "from workbook import async_in_place\nasync_in_place.adapt()\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "WORKBOOK_WORKSPACES": str(tmp_path), "PYTHONPATH": str(ROOT)},
        timeout=300,
    )


_GUIDE_ENGINE_FAILS_HALFWAY = """\
import asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

async def migrate():
    # The guide's env.py: its own async engine, the sqlite3 module's default transactions.
    engine = create_async_engine("sqlite+aiosqlite:///app.db", poolclass=sa.pool.NullPool)
    try:
        async with engine.connect() as connection:
            def steps(sync):
                sync.exec_driver_sql("CREATE TABLE t (id INTEGER)")  # DDL: committed at once
                sync.exec_driver_sql("INSERT INTO t VALUES (1)")  # opens a transaction
                sync.exec_driver_sql("INSERT INTO nowhere VALUES (1)")
            await connection.run_sync(steps)
    except sa.exc.OperationalError as error:
        print("failed:", error.orig)
    finally:
        await engine.dispose()
    async with create_async_engine("sqlite+aiosqlite:///app.db").connect() as connection:
        print("kept:", (await connection.exec_driver_sql("SELECT count(*) FROM t")).scalar())

asyncio.run(migrate())
"""


def test_the_async_engine_on_sqlite_works_without_greenlet_or_threads(tmp_path) -> None:
    """Chapter 07 runs the guide's env.py (its own aiosqlite engine) in a browser tab: the
    same sqlite3 calls, so the same half-applied result (the table stays, its row does not)."""
    ran = _in_python_like_a_browser_tab(_GUIDE_ENGINE_FAILS_HALFWAY, tmp_path)
    assert ran.stdout == "failed: no such table: nowhere\nkept: 0\n", ran.stderr
    (tmp_path / "app.db").unlink()
    without = _in_python_like_a_browser_tab(_GUIDE_ENGINE_FAILS_HALFWAY, tmp_path, adapt=False)
    assert "greenlet" in without.stderr


def test_an_async_call_that_would_wait_fails_in_one_line_in_place() -> None:
    import asyncio

    from workbook.async_in_place import WouldWait, wait_in_place

    async def quick():
        return 7

    assert wait_in_place(quick()) == 7
    with pytest.raises(WouldWait, match="would have to wait"):
        wait_in_place(asyncio.sleep(0))  # hands the loop a turn


def test_chapter_07_exercise_3_fails_halfway_without_greenlet_or_threads(tmp_path) -> None:
    """q3.setup() runs a guide-like env.py with its own async engine: in a browser tab too."""
    ran = _in_python_like_a_browser_tab(
        "from workbook.exercises.chapter07 import q3\n"
        "import workbook\n"
        "workbook.start('07_2_failed_migrations_and_backups', stage='0011')\n"
        "q3.setup()\n"
        "q3.check()\n",
        tmp_path,
    )
    assert "It failed: IntegrityError" in ran.stdout, ran.stdout + ran.stderr
    assert "UNIQUE constraint failed: books.slug" in ran.stdout
    assert "_alembic_tmp_books is still there" in ran.stdout


def test_what_a_failed_migration_kept_in_sqlite_is_read_without_a_thread(
    tmp_path, monkeypatch
) -> None:
    """Chapter 08 looks at its SQLite file after a failed upgrade; a browser has no thread."""
    import contextlib
    import sqlite3

    from workbook import half_applied

    database = tmp_path / "app.db"
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.executescript(
            "CREATE TABLE alembic_version (version_num VARCHAR(32));"
            "INSERT INTO alembic_version VALUES ('0012');"
            "CREATE TABLE users (id INTEGER, nickname TEXT);"
            f"CREATE TABLE {half_applied.NEW_TABLE} (id INTEGER);"
        )

    def no_thread(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    kept = half_applied.look(f"sqlite+aiosqlite:///{database}")
    assert kept == half_applied.Kept(
        "sqlite", (half_applied.NEW_TABLE,), ("users.nickname",), ("0012",)
    )


def test_without_a_mysql_server_its_driver_is_not_needed(monkeypatch) -> None:
    """Chapter 08 asks for a MySQL server; a browser has neither a server nor pymysql."""
    from workbook import half_applied

    monkeypatch.delenv(half_applied.SERVER_VARIABLE, raising=False)
    monkeypatch.setitem(sys.modules, "pymysql", None)  # `import pymysql` raises ImportError
    server = half_applied.mysql_server()
    assert not server
    assert server.line.startswith("No MySQL server here")


class _Kernel:
    def __init__(self, stop_on_error):
        self.parent = {"content": {"stop_on_error": stop_on_error}}

    def get_parent(self):
        return self.parent


class _Shell:
    def __init__(self, stop_on_error):
        self.kernel, self.shown = _Kernel(stop_on_error), []

    def _showtraceback(self, etype, evalue, stb):
        self.shown.append(stb)


def test_an_expected_error_keeps_run_all_going(capsys) -> None:
    going_on, stopping = _Shell(stop_on_error=False), _Shell(stop_on_error=True)
    for shell in (going_on, stopping):
        browser_module._show_expected_errors_as_stderr(shell)
        shell._showtraceback(ValueError, ValueError("x"), ["\x1b[31mFAILED:\x1b[0m no 0042"])
    assert going_on.shown == [] and stopping.shown == [["\x1b[31mFAILED:\x1b[0m no 0042"]]
    assert capsys.readouterr().err == "\x1b[31mFAILED:\x1b[0m no 0042\n"


def test_check_environment_names_the_edition(monkeypatch, capsys) -> None:
    from workbook import environment

    environment.check_environment()
    assert capsys.readouterr().out.startswith("Desktop edition")
    monkeypatch.setattr(browser_module, "IN_BROWSER", True)
    names = " ".join(f.text for f in environment.findings())
    assert "alembic" in names and "greenlet" not in names and "aiosqlite" not in names


# -- the site, its server and the browser ---------------------------------------------------
@pytest.fixture(scope="module")
def site() -> Path:
    if not CHROMIUM.exists():
        unavailable(
            f"{CHROMIUM} is missing (Debian's chromium package; "
            "tools/install-system-packages.sh installs it)"
        )
    if importlib.util.find_spec("playwright") is None:
        unavailable("Python playwright is not installed (python3 tasks.py setup)")
    lock = lite.read_lock()
    tarball = lite.DOWNLOADS / lock["pyodide"]["file"]
    if not tarball.exists() and not shutil.which("npm"):
        unavailable(
            "the site needs the npm package pyodide once: no npm, and no "
            f"{tarball.relative_to(ROOT)}"
        )
    lite.build()
    served = {p.stem for p in (lite.OUTPUT / "files" / lite.LESSONS).glob("*.ipynb")}
    missing = [name for name in LESSONS if name not in served]
    assert not missing, f"lessons missing from the site: {missing}"
    return lite.OUTPUT


@pytest.fixture(scope="module")
def base_url(site: Path):
    server = lite.make_server(0, site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(base_url: str, tmp_path_factory: pytest.TempPathFactory):
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        opened = Browser(playwright, tmp_path_factory.mktemp("chromium-profile"), base_url)
        try:
            yield opened
        finally:
            opened.close()


# -- the tests ------------------------------------------------------------------------------
TIMINGS: dict[str, dict] = {}


@pytest.mark.parametrize("lesson", LESSONS)
@pytest.mark.slow
@pytest.mark.browser
def test_lesson_runs_in_the_browser(lesson: str, browser: Browser) -> None:
    page, boot = open_lesson(browser, lesson)
    try:
        seconds = run_all(page)
        notebook = page.evaluate(NOTEBOOK)
        problems, code, desktop_only = cell_problems(notebook, lite.DESKTOP_ONLY)
        problems += picture_problems(page, notebook)
        if any("workbook.timeline(" in source_of(c) for c in notebook["cells"]):
            problems += timeline_problems(page)
        shot = screenshot(page, lesson)
    finally:
        page.close()
    TIMINGS[lesson] = {
        "cold": boot.cold,
        "app_s": round(boot.app, 1),
        "kernel_idle_s": round(boot.kernel, 1),
        "kernel_ready_s": round(boot.ready, 1),
        "run_all_s": round(seconds, 1),
        "code_cells": code,
        "desktop_only": desktop_only,
    }
    (SCREENSHOTS / "timings.json").write_text(json.dumps(TIMINGS, indent=1) + "\n")
    print(
        f"{lesson}: page {boot.app:.0f}s, kernel ready {boot.ready:.0f}s"
        f"{' (cold)' if boot.cold else ''}, Run All {seconds:.0f}s, {code} code cells, "
        f"{desktop_only} desktop-only, {shot.relative_to(ROOT)}"
    )
    assert not browser.elsewhere, f"requests to other hosts: {browser.elsewhere[:5]}"
    assert not problems, f"{lesson} in the browser:\n  " + "\n  ".join(problems)
    assert desktop_only * 100 <= code * (100 - REAL_IN_EACH_LESSON), (
        f"{desktop_only} of {code} code cells are desktop-only"
    )


WORK = """
import hashlib, json, os, pathlib, workbook
ws = workbook.start("lite_reload", stage="head", quiet=True)
_ = ws.write("notes.txt", "mine")
ws.sql("CREATE TABLE mine (x)")
print(ws.current())
"""
FINGERPRINT = """
root = pathlib.Path(os.environ["WORKBOOK_WORKSPACES"]) / "lite_reload"
print(json.dumps({str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                  for p in sorted(root.rglob("*"))
                  if p.is_file() and "__pycache__" not in p.parts}))
"""
RESUME = """
import hashlib, json, os, pathlib, workbook
ws = workbook.Workspace("lite_reload", "head")
print(ws.current(), ws.read("notes.txt"))
print(ws.rows("mine"))
"""
PROBE = "http://example.com/lite-probe"
PROBE_CODE = f"import js\ntry:\n    await js.fetch({PROBE!r})\nexcept Exception:\n    pass\n"


@pytest.mark.slow
@pytest.mark.browser
def test_a_reload_keeps_the_workspace(browser: Browser) -> None:
    """A learner's files and database come back after a reload. First, a request of the
    kernel's own for another host is seen, and refused by the proxy: the recording works."""
    page, _ = open_lesson(browser, LESSONS[0])
    try:
        probe = run(page, PROBE_CODE)
        assert probe["status"] == "ok", probe
        assert PROBE in browser.elsewhere, f"the kernel's request was not seen: {browser.elsewhere}"
        refused = browser.other_hosts.asked
        assert f"GET {PROBE}" in refused, f"the kernel's request was not refused: {refused}"
        browser.elsewhere.clear()
        mine = run(page, WORK)
        assert mine["status"] == "ok", mine
        current = printed(mine).strip()
        before = json.loads(printed(run(page, FINGERPRINT)))
        assert "notes.txt" in before and "app.db" in before, sorted(before)
        page.reload(wait_until="commit")
        wait_until(
            page, "the kernel after the reload", lambda s: s["kernel"] == "idle", KERNEL_SECONDS
        )
        resumed = run(page, RESUME)
        assert resumed["status"] == "ok", resumed
        after = json.loads(printed(run(page, FINGERPRINT)))
    finally:
        page.close()
    assert printed(resumed).splitlines()[0] == f"{current} mine"
    assert after == before
    assert not browser.elsewhere, f"requests to other hosts: {browser.elsewhere[:5]}"
