"""The room: every lesson in JupyterLab, in a real browser, as a learner sees it.

nbval checks what the kernel sends; this checks what a learner sees. JupyterLab serves a
throwaway workspace folder made the way ``python3 tasks.py lab`` makes it
(``tasks.prepare_lab``: the learner's own trusted lesson copies in ``lessons/``, the
chapters' projects beside them) on 127.0.0.1 with a token and throwaway settings. Debian's
Chromium, driven headless by Playwright (no browser download), opens each lesson and checks:

- before anything runs, the stored pictures show: SVG images drawn, and where a widget
  ran, its stored picture (the copies are trusted), never "Error displaying widget";
- after *Clear Outputs* and *Run → Run All Cells*: every code cell ran, only the cells meant
  to raise (tag ``raises-exception``, comment ``# NBVAL_RAISES_EXCEPTION``) raised, widgets
  render as widgets, SVG pictures as images;
- no pink stderr box holds alembic's INFO log, except where a lesson shows alembic's own
  output (a ``!alembic`` line or a ``%%bash`` cell, as a terminal shows it; a direct call
  of ``alembic.command``, as a program shows it);
- every text in every output is readable, in JupyterLab Light and in JupyterLab Dark:
  its computed colour against its computed background has a WCAG contrast of at least
  4.5:1, and the diffs (``ws.edit``/``ws.write``), the quiet log (``%alembic``) and a hint
  and a solution (run in chapter 04) are among the texts measured;
- in chapter 03, a model typed into JupyterLab's file editor and saved is seen by the next
  ``%alembic check``.

One test opens, untrusted, a notebook of every stored HTML output of the book: those
degrade to readable HTML (JupyterLab's sanitizer strips inline SVG; the timeline's
pictures are images and must draw) in both themes.

Two screenshots per lesson go to ``build/screenshots/`` (git-ignored), ``NN_name-light.png``
and ``NN_name-dark.png``. Skipped, with the reason in pytest's summary, where
``/usr/bin/chromium`` is missing (``tools/install-system-packages.sh`` installs it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser_page import (
    CELL_STATE,
    CHROMIUM,
    DRAWN,
    HTML,
    RAISES,
    SCREENSHOTS,
    SVG,
    THEMES,
    add_and_run_cell,
    cell_locator,
    chromium,
    current_theme,
    first_line,
    give_up,
    info_on_stderr,
    menu,
    notebook_now,
    open_notebook,
    output_text,
    picture_problems,
    screenshot,
    unreadable,
    use_theme,
    wait_for,
    widget_problems,
)
from workbook.half_applied import NEEDS_SERVER

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
JUPYTER = Path(sys.executable).parent / "jupyter"
WIDGET = "application/vnd.jupyter.widget-view+json"
# JupyterLab's user settings for the throwaway settings folder (the news prompt is off by
# the lab's own overrides, which prepare_lab writes).
LAB_SETTINGS = {
    # JupyterLab 4 virtualises offscreen cells: render them all, so that every output
    # is in the page to assert on.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # The test reads the notebooks from the page: no autosave writes the copies.
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"doNotDisturbMode": True},
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
}
# Not passed on to the server and its kernels: the lessons set their own database; a
# learner's kernel writes bytecode; nbval's MySQL database is nbval's alone (without one,
# the cells that need it do nothing).
NOT_INHERITED = {
    "DATABASE_URL",
    "JUPYTER_PATH",
    "JUPYTER_CONFIG_PATH",
    "PYTHONDONTWRITEBYTECODE",
    "WORKBOOK_MYSQL_URL",
}
SERVER_START_SECONDS = 60
CHAPTER_SECONDS = 240  # one chapter's Run All, at most (it takes seconds)
# Cells added after Run All: a hint and a solution (their code blocks, in both themes).
HINT_CHAPTER, HINT_CELL = "04_schema_changes.ipynb", "q1.hint()\nq1.solution()"
# Then the exercise done as its solution says, after Run All, in the same kernel: the
# solution's steps as the contract suite applies them, and the learner's check cell.
SOLVE_CELL = (
    "q1.setup()\n"
    "_answer = q1._solve(workbook.active_workspace())  # the steps q1.solution() shows\n"
    "q1.check(*_answer)"
)
EDITOR_CHAPTER = "03_autogenerate.ipynb"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    # In CI the browser must be there (the install script puts it there): no silent skip.
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason=f"browser test skipped: {CHROMIUM} is missing (Debian's chromium "
        "package; tools/install-system-packages.sh installs it as root)",
    ),
]


# -- the stored notebook: what each cell should show ----------------------------------------
@dataclass
class Expected:
    index: int  # position among all cells (markdown too), as in the page
    source: str
    raises: bool
    svg_outputs: int
    widget: bool
    html: str  # the stored text/html outputs, joined

    @property
    def real_process(self) -> bool:
        """Alembic's own output, INFO lines included, as a terminal or a program shows it:
        a shell command (``!alembic``, ``%%bash``) or a call of alembic's Python API."""
        return self.source.startswith("%%bash") or bool(
            re.search(r"^\s*!|\bcommand\.\w+\(", self.source, re.M)
        )

    @property
    def kind(self) -> str | None:
        """Which output must be readable in both themes, by the HTML the cell stored."""
        if "@@ -" in self.html and "+++ b/" in self.html:
            return "diff"  # ws.edit / ws.write
        if re.search(r"(INFO|DEBUG) +\[alembic\.", self.html):
            return "quiet log"  # %alembic
        return None


def expected_cells(notebook: dict) -> tuple[int, list[Expected]]:
    """(number of cells, the non-empty code cells) of a stored chapter."""
    cells = []
    for index, cell in enumerate(notebook["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or not source.strip():
            continue
        outputs = cell.get("outputs", [])
        tags = cell["metadata"].get("tags", [])
        cells.append(
            Expected(
                index=index,
                source=source,
                # A cell that needs a MySQL server does nothing without one (none here).
                raises=("raises-exception" in tags or RAISES in source)
                and not any(line.startswith(NEEDS_SERVER) for line in source.splitlines()),
                svg_outputs=sum(SVG in o.get("data", {}) for o in outputs),
                widget=any(WIDGET in o.get("data", {}) for o in outputs)
                or "workbook.timeline(" in source,
                html="".join(
                    "".join(o["data"][HTML]) for o in outputs if HTML in o.get("data", {})
                ),
            )
        )
    return len(notebook["cells"]), cells


def html_outputs_notebook(chapters: list[Path]) -> dict:
    """One notebook of every stored output that has an HTML form, sources kept, not trusted."""
    cells = []
    for chapter in chapters:
        for cell in json.loads(chapter.read_text(encoding="utf-8"))["cells"]:
            outputs = [o for o in cell.get("outputs", []) if HTML in o.get("data", {})]
            if outputs:
                cells.append(
                    {
                        "cell_type": "code",
                        "execution_count": None,
                        "metadata": {},
                        "id": f"c{len(cells)}",
                        "outputs": outputs,
                        "source": f"# {chapter.stem}\n" + "".join(cell["source"]),
                    }
                )
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


# -- the server -------------------------------------------------------------------------------
@dataclass
class Lab:
    url: str
    token: str
    root: Path  # the served folder: lessons/ and the chapters' projects, as tasks.py lab
    # chapter file name -> (number of cells, code cells), of the very copy served
    chapters: dict[str, tuple[int, list[Expected]]]

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def kernel_idle(self, notebook: Path) -> bool:
        """The server's session of ``notebook`` has a kernel, and it is idle."""
        path = notebook.relative_to(self.root).as_posix()
        return any(
            session["path"] == path and session["kernel"]["execution_state"] == "idle"
            for session in self.api("GET", "/api/sessions")
        )

    def shut_down_kernels(self) -> None:
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_settings(folder: Path) -> None:
    for name, values in LAB_SETTINGS.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def load_tasks():
    spec = importlib.util.spec_from_file_location("tasks", ROOT / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("tasks", module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if not JUPYTER.exists():
        pytest.skip(f"browser test skipped: no jupyter next to {sys.executable}")
    home = tmp_path_factory.mktemp("browser")
    served = home / "workspace"
    write_settings(home / "settings")
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.update(
        WORKBOOK_WORKSPACES=str(served),  # as in tasks.py lab: projects beside lessons/
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"),
        JUPYTER_CONFIG_DIR=str(home / "config"),  # no user configuration
        JUPYTER_DATA_DIR=str(home / "data"),  # no user kernels; the trust database
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),  # the kernels' history and profile
        PYTHONPYCACHEPREFIX=str(home / "pycache"),  # bytecode, but not in the repository
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    tasks = load_tasks()
    with pytest.MonkeyPatch.context() as patch:  # trust goes to this lab's database
        for key in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR"):
            patch.setenv(key, env[key])
        tasks.prepare_lab(served)
    chapters = {
        chapter.name: expected_cells(
            json.loads((served / "lessons" / chapter.name).read_text(encoding="utf-8"))
        )
        for chapter in CHAPTERS
    }
    (served / "untrusted").mkdir()
    (served / "untrusted" / "html_outputs.ipynb").write_text(
        json.dumps(html_outputs_notebook(CHAPTERS))
    )
    token, port = secrets.token_hex(16), free_port()
    command = tasks.lab_command(
        [
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            "--LabApp.news_url=",
            "--LabApp.extension_manager=readonly",  # no PyPI look-ups
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: commands, themes, cells
            "--ServerApp.shutdown_no_activity_timeout=0",
        ],
        served,
    )
    command[0] = str(JUPYTER)
    log = (home / "server.log").open("w")
    server = subprocess.Popen(command, cwd=served, env=env, stdout=log, stderr=subprocess.STDOUT)
    running = Lab(f"http://127.0.0.1:{port}", token, served, chapters)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                running.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(
                        "JupyterLab did not start:\n" + (home / "server.log").read_text()[-3000:]
                    )
                time.sleep(0.25)
        yield running
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


# -- the browser ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def page(lab: Lab, tmp_path_factory: pytest.TempPathFactory):
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # Debian's, never a download
    sync_api = pytest.importorskip("playwright.sync_api")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright, chromium(playwright, profile) as context:
        yield context.pages[0] if context.pages else context.new_page()


def model_typed_in_the_editor(page, lab: Lab, chapter: Path) -> list[str]:
    """Type a model into a workspace file in JupyterLab's file editor, save it, and check
    that the next ``%alembic check`` (run from the lesson) sees it."""
    notebook_tab = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    add_and_run_cell(page, 'ws = workbook.start("03_editor", stage="0001")')
    before = output_text(page, add_and_run_cell(page, "%alembic check"))
    path = "03_editor/app/models/book.py"
    page.evaluate(
        "async (path) => { await window.jupyterapp.commands.execute("
        "'docmanager:open', {path, factory: 'Editor'}); }",
        path,
    )
    editor = page.locator(".jp-FileEditor .cm-content").first
    editor.wait_for(state="visible")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text(
        '\n\nclass EditorNote(Base):\n    __tablename__ = "editor_notes"\n'
        "    id: Mapped[int] = mapped_column(primary_key=True, init=False)\n"
    )
    page.keyboard.press("Control+s")
    wait_for(
        page,
        f"{path} to be saved",
        lambda: "editor_notes" in (lab.root / path).read_text(),
        20,
        chapter,
    )
    page.evaluate("(id) => { window.jupyterapp.shell.activateById(id); }", notebook_tab)
    after = output_text(page, add_and_run_cell(page, "# NBVAL_RAISES_EXCEPTION\n%alembic check"))
    problems = []
    if "No new upgrade operations detected" not in before:
        problems.append(f"editor: %alembic check before the edit said {before[-300:]!r}")
    if "add_table" not in after or "editor_notes" not in after:
        problems.append(
            f"editor: %alembic check after saving book.py in the editor did not see "
            f"the new table: {after[-400:]!r}"
        )
    return problems


def screenshot_target(expected: list[Expected], extra: int | None) -> int | None:
    """What a screenshot should show: the added hint, else a diff, else a log, else a picture."""
    if extra is not None:
        return extra
    for wanted in (
        lambda c: c.kind == "diff",
        lambda c: c.kind == "quiet log",
        lambda c: c.widget or c.svg_outputs,
    ):
        found = [c.index for c in expected if wanted(c)]
        if found:
            return found[0]
    return None


# Two classes, because `--dist loadscope` sends each class to a worker of its own: two
# browsers share the chapters, the slowest tests of the suite.
class TestEvenChapters:
    @pytest.mark.parametrize("chapter", CHAPTERS[0::2], ids=lambda p: p.stem)
    def test_chapter_in_a_real_browser(self, chapter: Path, lab: Lab, page) -> None:
        run_in_browser(chapter, lab, page)


class TestOddChapters:
    @pytest.mark.parametrize("chapter", CHAPTERS[1::2], ids=lambda p: p.stem)
    def test_chapter_in_a_real_browser(self, chapter: Path, lab: Lab, page) -> None:
        run_in_browser(chapter, lab, page)

    def test_untrusted_html_outputs_stay_readable(self, lab: Lab, page) -> None:
        """Every stored HTML output of the book, opened untrusted (sanitized), in both themes."""
        path = lab.root / "untrusted" / "html_outputs.ipynb"
        notebook = json.loads(path.read_text())
        open_notebook(page, lab, "untrusted/html_outputs.ipynb", len(notebook["cells"]), path)
        problems = []
        for index, cell in enumerate(notebook["cells"]):
            html = "".join("".join(o["data"][HTML]) for o in cell["outputs"])
            if "<svg" in html:
                problems.append(
                    f"cell {index}: inline <svg> in HTML, which the sanitizer strips "
                    f"into a wall of text ({first_line(cell['source'])})"
                )
            images = (
                cell_locator(page, index)
                .locator(f'.jp-OutputArea-output[data-mime-type="{HTML}"] img')
                .evaluate_all(DRAWN)
            )
            if len([size for size in images if size[0] and size[1]]) < html.count("<img"):
                problems.append(
                    f"cell {index}: an image of the HTML is not drawn "
                    f"({first_line(cell['source'])})"
                )
        measured = set()
        for theme in sorted(THEMES, key=lambda t: t != current_theme(page)):
            use_theme(page, theme)
            found, measured = unreadable(page, f"untrusted, {theme}")
            problems += found
        assert len(measured) == len(notebook["cells"]), "every HTML output has text measured"
        assert not problems, "stored HTML outputs, untrusted:\n  " + "\n  ".join(problems)


class Clock:
    """Seconds per phase of a chapter's test, for its summary line."""

    def __init__(self) -> None:
        self.last, self.laps = time.monotonic(), []

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps.append(f"{name} {now - self.last:.0f}s")
        self.last = now

    def __str__(self) -> str:
        return ", ".join(self.laps)


def run_in_browser(chapter: Path, lab: Lab, page) -> None:
    """Open the lesson, look at it before running; Clear Outputs, Run All; look again, in
    both themes; compare what ran with what should have."""
    cell_count, expected = lab.chapters[chapter.name]
    if chapter.name.startswith("00_"):
        assert any(c.widget for c in expected), "chapter 00 shows the timeline widget"
    copy = lab.root / "lessons" / chapter.name
    for theme in THEMES:  # an old run's
        (SCREENSHOTS / f"{chapter.stem}-{theme}.png").unlink(missing_ok=True)
    (SCREENSHOTS / f"{chapter.stem}-failed.png").unlink(missing_ok=True)

    clock = Clock()
    # Before running: the trusted copy shows its stored pictures and widgets. Where the
    # page loads JupyterLab, its extensions load without an error in the console.
    console_errors: list[str] = []
    fresh = not page.url.startswith(lab.url)

    def on_console(message) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    if fresh:
        page.on("console", on_console)
    open_notebook(page, lab, f"lessons/{chapter.name}", cell_count, chapter)
    clock.lap("load")
    wait_for(
        page,
        "its kernel to be ready",
        lambda: lab.kernel_idle(copy) and page.evaluate(CELL_STATE)["kernel"] == "idle",
        60,
        chapter,
    )
    clock.lap("kernel")
    if fresh:
        page.remove_listener("console", on_console)
    problems = [f"console, as JupyterLab loads: {text[:200]}" for text in console_errors]
    problems += [
        f"on open: {p}"
        for p in widget_problems(page, expected, live=False)
        + picture_problems(page, expected, live=False)
    ]
    clock.lap("look")
    menu(page, "Edit", "Clear Outputs of All Cells")  # whatever shows next, this run made
    wait_for(
        page,
        "the outputs to be cleared",
        lambda: page.evaluate(
            "() => !document.querySelector('.jp-NotebookPanel .jp-OutputArea-output')"
        ),
        10,
        chapter,
    )

    def prompts() -> tuple[list[str | None], str | None]:
        state = page.evaluate(CELL_STATE)
        return [state["prompts"][cell.index] for cell in expected], state["kernel"]

    # A Run All given while the page is still connecting to the new kernel can be lost:
    # give it again (nothing has run yet, so nothing runs twice).
    for attempt in range(3):
        menu(page, "Run", "Run All Cells")
        try:
            wait_for(
                page, "Run All Cells to start", lambda: any(p != "[ ]:" for p in prompts()[0]), 10
            )
            break
        except TimeoutError:
            if attempt == 2:
                give_up(page, chapter, "Run All Cells did not start, three times")
    quiet_since: list[float | None] = [None]

    def finished():
        # Done when no cell is queued or running and the kernel stays idle for a moment.
        # (A cell that fails unexpectedly stops Run All: the cells after it stay "[ ]:".)
        now_prompts, kernel = prompts()
        if "[*]:" in now_prompts or kernel != "idle":
            quiet_since[0] = None
            return None
        quiet_since[0] = quiet_since[0] or time.monotonic()
        return time.monotonic() - quiet_since[0] > 1.0

    wait_for(page, "Run All Cells to finish", finished, CHAPTER_SECONDS, chapter)
    clock.lap("run all")

    problems += widget_problems(page, expected) + picture_problems(page, expected)
    problems += info_on_stderr(page, expected)
    extra = None
    if chapter.name == HINT_CHAPTER:
        extra = add_and_run_cell(page, HINT_CELL)
        if not re.search(r"Hint 1 of \d+:.*Solution:", output_text(page, extra), re.S):
            problems.append(f"the hint and solution did not show: {output_text(page, extra)!r}")
        solved = add_and_run_cell(page, SOLVE_CELL)
        if not re.search(r"✓\s*Correct", output_text(page, solved)):
            problems.append(f"after Run All, q1's solution: {output_text(page, solved)!r}")
    if chapter.name == EDITOR_CHAPTER:
        problems += model_typed_in_the_editor(page, lab, chapter)
    clock.lap("checks")

    # Readable in both themes; the blocks that were unreadable in Dark must be measured.
    shots, measured = [], set()
    for theme in sorted(THEMES, key=lambda t: t != current_theme(page)):
        use_theme(page, theme)
        found, measured = unreadable(page, theme)
        problems += found
        shots.append(screenshot(page, chapter, theme, screenshot_target(expected, extra)))
    kinds = {c.kind for c in expected if c.kind and c.index in measured}
    kinds |= {"hint and solution"} if extra is not None and extra in measured else set()
    wanted = {c.kind for c in expected if c.kind} | ({"hint and solution"} if extra else set())
    if kinds != wanted:
        problems.append(f"no text measured in the outputs of: {sorted(wanted - kinds)}")
    clock.lap("themes")

    saved = notebook_now(page)
    lab.shut_down_kernels()
    for cell in expected:  # outputs mapped to cells by index, as the page holds them
        stored = saved["cells"][cell.index]
        errors = [o for o in stored.get("outputs", []) if o["output_type"] == "error"]
        if stored.get("execution_count") is None:
            problems.append(f"cell {cell.index} did not run: {first_line(cell.source)}")
        elif errors and not cell.raises:
            problems.append(
                f"cell {cell.index} raised {errors[0]['ename']}: "
                f"{errors[0]['evalue'][:300]} ({first_line(cell.source)})"
            )
        elif cell.raises and not errors:
            problems.append(
                f"cell {cell.index} is marked to raise but did not: {first_line(cell.source)}"
            )
    assert not problems, (
        f"{chapter.name} in JupyterLab ({clock}; screenshots {', '.join(shots)}):\n  "
        + "\n  ".join(problems)
    )
    print(
        f"{chapter.stem}: {clock}, {len(expected)} code cells, "
        f"{sum(c.svg_outputs for c in expected)} pictures, "
        f"{sum(c.widget for c in expected)} widgets, screenshots {', '.join(shots)}"
    )
