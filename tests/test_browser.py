"""Every chapter in JupyterLab, in a real browser: it runs, its widgets and pictures render.

nbval checks what the kernel sends; this checks what a learner sees. The .venv's
JupyterLab serves copies of the chapters (the stored notebooks are never touched) on
127.0.0.1 with a token, a throwaway settings folder and throwaway workspaces; Debian's
Chromium, driven headless by Playwright (no browser download), opens each chapter in
turn, runs *Run → Run All Cells*, waits for the kernel, saves the copy and checks:

- every code cell ran, and only the cells meant to raise (tag ``raises-exception``,
  comment ``# NBVAL_RAISES_EXCEPTION``) have an error output;
- widgets render as widgets (the timeline's dropdown and buttons), never as
  "Error displaying widget" or as their text fallback;
- the SVG pictures (ER diagrams, revision graphs) render as images, not as source text.

One screenshot per chapter goes to ``build/screenshots/`` (git-ignored). Skipped, with
the reason in pytest's summary, where ``/usr/bin/chromium`` is missing
(``tools/install-system-packages.sh`` installs it on Debian/Ubuntu).
"""

from __future__ import annotations

import json
import os
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

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
JUPYTER = Path(sys.executable).parent / "jupyter"
RAISES = "# NBVAL_RAISES_EXCEPTION"
SVG = "image/svg+xml"
WIDGET = "application/vnd.jupyter.widget-view+json"
# The notes' flags for a headless machine without network; the fresh --user-data-dir is
# the persistent context's folder (Playwright refuses the flag itself).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
# JupyterLab's user settings for the throwaway settings folder.
LAB_SETTINGS = {
    # JupyterLab 4 virtualises offscreen cells: render them all, so that every output
    # is in the page to assert on.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # The copies are saved on purpose, once, after the run: no autosave in between.
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    # No network, no pop-ups over the notebook.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True},
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
}
SERVER_START_SECONDS = 60
CHAPTER_SECONDS = 240  # one chapter's Run All, at most (it takes seconds)

pytestmark = [
    pytest.mark.slow,
    # In CI the browser must be there (the install script puts it there): no silent skip.
    pytest.mark.skipif(not CHROMIUM.exists() and os.environ.get("CI") != "true",
                       reason=f"browser test skipped: {CHROMIUM} is missing (Debian's chromium "
                              "package; tools/install-system-packages.sh installs it as root)"),
]


# -- the stored notebook: what each cell should show ----------------------------------------
@dataclass
class Expected:
    index: int  # position among all cells (markdown too), as in the page
    source: str
    raises: bool
    svg_outputs: int
    widget: bool


def expected_cells(notebook: dict) -> tuple[int, list[Expected]]:
    """(number of cells, the non-empty code cells) of a stored chapter."""
    cells = []
    for index, cell in enumerate(notebook["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or not source.strip():
            continue
        outputs = cell.get("outputs", [])
        tags = cell["metadata"].get("tags", [])
        cells.append(Expected(
            index=index, source=source,
            raises="raises-exception" in tags or RAISES in source,
            svg_outputs=sum(SVG in o.get("data", {}) for o in outputs),
            widget=any(WIDGET in o.get("data", {}) for o in outputs)
            or "workbook.timeline(" in source))
    return len(notebook["cells"]), cells


def stripped(notebook: dict) -> dict:
    """The chapter without outputs, execution counts or saved widget state."""
    notebook = json.loads(json.dumps(notebook))
    notebook["metadata"].pop("widgets", None)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return notebook


# -- the server -------------------------------------------------------------------------------
@dataclass
class Lab:
    url: str
    token: str
    root: Path
    # chapter file name -> (number of cells, code cells), of the very copy served
    chapters: dict[str, tuple[int, list[Expected]]]

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def kernel_idle(self, notebook: Path) -> bool:
        """The server's session of ``notebook`` has a kernel, and it is idle."""
        path = notebook.relative_to(self.root).as_posix()
        return any(session["path"] == path and session["kernel"]["execution_state"] == "idle"
                   for session in self.api("GET", "/api/sessions"))

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


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if not JUPYTER.exists():
        pytest.skip(f"browser test skipped: no jupyter next to {sys.executable}")
    home = tmp_path_factory.mktemp("browser")
    served = home / "served"
    (served / "notebooks").mkdir(parents=True)
    chapters = {}
    for chapter in CHAPTERS:  # without outputs: whatever the page shows, this run made
        notebook = json.loads(chapter.read_text(encoding="utf-8"))
        chapters[chapter.name] = expected_cells(notebook)
        (served / "notebooks" / chapter.name).write_text(json.dumps(stripped(notebook)))
    write_settings(home / "settings")
    token, port = secrets.token_hex(16), free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH"}}
    env.update(
        WORKBOOK_WORKSPACES=str(home / "workspaces"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"),
        JUPYTER_CONFIG_DIR=str(home / "config"),  # no user configuration
        JUPYTER_DATA_DIR=str(home / "data"),  # no user kernels: the .venv's python3
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),  # the kernels' history and profile
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    command = [str(JUPYTER), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={served}", "--LabApp.news_url=",
               "--LabApp.extension_manager=readonly",  # no PyPI look-ups
               "--ServerApp.shutdown_no_activity_timeout=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
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
                    pytest.fail("JupyterLab did not start:\n"
                                + (home / "server.log").read_text()[-3000:])
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
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(30_000)
        page = context.pages[0] if context.pages else context.new_page()
        try:
            yield page
        finally:
            context.close()


CELL_STATE = """() => {
  const cells = [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')];
  const indicator = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator');
  return {
    kernel: indicator ? indicator.getAttribute('data-status') : null,
    prompts: cells.map(c => {
      const p = c.querySelector('.jp-InputArea-prompt');
      return c.classList.contains('jp-CodeCell') && p ? p.textContent.trim() : null;
    }),
  };
}"""


def wait_for(page, what: str, condition, timeout: float, chapter: Path | None = None):
    """Poll ``condition()`` (truthy = done) for ``timeout`` seconds.

    On a timeout: fail saying ``what``, with a screenshot, for a ``chapter``; without
    one, raise TimeoutError (the caller retries).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            if chapter is None:
                raise TimeoutError(what)
            give_up(page, chapter, f"timed out after {timeout:.0f}s waiting for {what}")
        page.wait_for_timeout(200)


def give_up(page, chapter: Path, why: str) -> None:
    """Fail the chapter's test with a screenshot of the page as it is."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{chapter.stem}-failed.png"
    page.screenshot(path=str(shot))
    state = page.evaluate(CELL_STATE)
    pytest.fail(f"{chapter.name}: {why} (page {page.url}, kernel {state['kernel']}, "
                f"{len(state['prompts'])} cells; screenshot {shot.relative_to(ROOT)})")


def menu(page, top: str, item: str) -> None:
    """Click ``top`` in the menu bar, then ``item`` in its menu (as a learner would)."""
    page.locator(".lm-MenuBar-item", has_text=top).first.click()
    page.locator(".lm-Menu-item:visible", has_text=item).first.click()


def first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip() and line != RAISES]
    return repr(lines[0][:70]) if lines else "''"


def save_and_read(page, copy: Path, chapter: Path) -> dict:
    """Save the served copy from the page (File → Save Notebook) and read it back."""
    before = copy.stat().st_mtime_ns
    menu(page, "File", "Save Notebook")

    def saved():
        if copy.stat().st_mtime_ns == before:
            return None
        try:
            return json.loads(copy.read_text(encoding="utf-8"))
        except ValueError:  # half written
            return None

    return wait_for(page, f"{copy.name} to be saved", saved, 30, chapter)


def cell_locator(page, index: int):
    return page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)


WIDGET_ERROR = "Error displaying widget"


def widget_problems(page, expected: list[Expected]) -> list[str]:
    """Cells that made a widget show a real one (a dropdown and buttons), not an error."""
    problems = []
    for cell in (c for c in expected if c.widget):
        node = cell_locator(page, cell.index)
        concrete = node.locator(".jupyter-widgets .widget-dropdown select, "
                                ".jupyter-widgets.widget-button, .jupyter-widgets .widget-button")
        try:
            concrete.first.wait_for(state="visible", timeout=15_000)
        except Exception:  # playwright's TimeoutError
            problems.append(f"cell {cell.index}: no widget rendered ({first_line(cell.source)}): "
                            f"{node.locator('.jp-OutputArea').inner_text()[:200]!r}")
    text = page.locator(".jp-NotebookPanel .jp-Notebook").inner_text()
    if WIDGET_ERROR in text:
        problems.append(f"the page says {WIDGET_ERROR!r}")
    return problems


def picture_problems(page, expected: list[Expected]) -> list[str]:
    """Cells that drew SVG pictures show them as decoded images, not as text."""
    problems = []
    for cell in (c for c in expected if c.svg_outputs):
        outputs = cell_locator(page, cell.index).locator(
            f'.jp-OutputArea-output[data-mime-type="{SVG}"]')
        images = outputs.locator("img, svg")
        sizes = images.evaluate_all(
            "nodes => nodes.map(n => n.tagName.toLowerCase() === 'img'"
            " ? [n.complete && n.naturalWidth, n.naturalHeight]"
            " : [n.getBoundingClientRect().width, n.getBoundingClientRect().height])")
        drawn = [size for size in sizes if size[0] and size[1]]
        if len(drawn) < cell.svg_outputs:
            problems.append(f"cell {cell.index}: {len(drawn)} of {cell.svg_outputs} SVG pictures "
                            f"drawn ({first_line(cell.source)})")
        source_shown = cell_locator(page, cell.index).locator(".jp-OutputArea").inner_text()
        if "<svg" in source_shown:
            problems.append(f"cell {cell.index}: SVG shown as source text")
    return problems


def screenshot(page, chapter: Path, expected: list[Expected]) -> str:
    """One PNG per chapter, scrolled to its first widget or picture."""
    interesting = [c for c in expected if c.widget] or [c for c in expected if c.svg_outputs]
    if interesting:
        cell_locator(page, interesting[0].index).evaluate(
            "cell => cell.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(300)  # let images decode after the scroll
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{chapter.stem}.png"
    page.screenshot(path=str(path))
    return str(path.relative_to(ROOT))


# Two classes, because `--dist loadscope` sends each class to a worker of its own: two
# browsers share the chapters, the slowest tests of the suite.
class TestEvenChapters:
    @pytest.mark.parametrize("chapter", CHAPTERS[0::2], ids=lambda p: p.stem)
    def test_chapter_runs_in_a_real_browser(self, chapter: Path, lab: Lab, page) -> None:
        run_in_browser(chapter, lab, page)


class TestOddChapters:
    @pytest.mark.parametrize("chapter", CHAPTERS[1::2], ids=lambda p: p.stem)
    def test_chapter_runs_in_a_real_browser(self, chapter: Path, lab: Lab, page) -> None:
        run_in_browser(chapter, lab, page)


def run_in_browser(chapter: Path, lab: Lab, page) -> None:
    """Open the chapter in JupyterLab, Run All, and compare what the page shows."""
    cell_count, expected = lab.chapters[chapter.name]
    if chapter.name.startswith("00_"):
        assert any(c.widget for c in expected), "chapter 00 shows the timeline widget"
    copy = lab.root / "notebooks" / chapter.name
    (SCREENSHOTS / f"{chapter.stem}-failed.png").unlink(missing_ok=True)  # an old run's
    started = time.monotonic()

    # ?reset: a fresh JupyterLab workspace (only this notebook open); the token logs in.
    page.goto(f"{lab.url}/lab/tree/notebooks/{chapter.name}?reset&token={lab.token}")
    wait_for(page, "the notebook to open, every cell rendered",
             lambda: len(page.evaluate(CELL_STATE)["prompts"]) == cell_count, 60, chapter)
    wait_for(page, "its kernel to be ready",
             lambda: lab.kernel_idle(copy) and page.evaluate(CELL_STATE)["kernel"] == "idle",
             60, chapter)

    def prompts() -> tuple[list[str | None], str | None]:
        state = page.evaluate(CELL_STATE)
        return [state["prompts"][cell.index] for cell in expected], state["kernel"]

    # A Run All given while the page is still connecting to the new kernel can be lost:
    # give it again (nothing has run yet, so nothing runs twice).
    for attempt in range(3):
        menu(page, "Run", "Run All Cells")
        try:
            wait_for(page, "Run All Cells to start",
                     lambda: any(p != "[ ]:" for p in prompts()[0]), 10)
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
    seconds = time.monotonic() - started

    problems = widget_problems(page, expected) + picture_problems(page, expected)
    shot = screenshot(page, chapter, expected)
    saved = save_and_read(page, copy, chapter)
    lab.shut_down_kernels()
    for cell in expected:  # outputs mapped to cells by index, as saved by the page
        stored = saved["cells"][cell.index]
        errors = [o for o in stored.get("outputs", []) if o["output_type"] == "error"]
        if stored.get("execution_count") is None:
            problems.append(f"cell {cell.index} did not run: {first_line(cell.source)}")
        elif errors and not cell.raises:
            problems.append(f"cell {cell.index} raised {errors[0]['ename']}: "
                            f"{errors[0]['evalue'][:300]} ({first_line(cell.source)})")
        elif cell.raises and not errors:
            problems.append(f"cell {cell.index} is marked to raise but did not: "
                            f"{first_line(cell.source)}")
    assert not problems, (f"{chapter.name} in JupyterLab (screenshot {shot}):\n  "
                          + "\n  ".join(problems))
    print(f"{chapter.stem}: Run All {seconds:.0f}s, {len(expected)} code cells, "
          f"{sum(c.svg_outputs for c in expected)} pictures, "
          f"{sum(c.widget for c in expected)} widgets, screenshot {shot}")
