"""The in-browser edition's page as tests/test_lite.py drives and reads it.

One Chromium profile (Debian's Chromium, driven by Playwright, no browser download) for
all the lessons, so that the browser's cache is warm after the first page, as a learner's
is. Each lesson gets a page of its own: a fresh JupyterLab with one kernel (the tabs an
earlier page left open are not reopened: each would start a kernel of its own), closed
when the lesson is done, which ends its kernel's worker and frees its memory.

Every wait is for a signal of the page, not for a fixed time: the app's ``restored``
promise, the kernel's status, each cell's execution count, the widget's status line. Each
wait has a deadline far above what an idle machine needs, so that a 2-core machine busy
with other tests is slow but not failed; a Run All fails only when no cell has finished for
``STALL_SECONDS``.

Requests to other hosts are refused and recorded twice over. Chromium sends every request
that is not for 127.0.0.1 to a proxy of this module (``OtherHosts``), which refuses it:
nothing leaves the machine, whoever asks. The proxy also sees Chromium's own services
(updates, accounts, autofill), which no page asks for; so what the test asserts on is
``Browser.elsewhere``, the requests Playwright reports from the site's pages, the kernel's
worker and the site's service worker, whose host is not 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.server
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser_page import chromium
from workbook.half_applied import NEEDS_SERVER

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "build" / "screenshots" / "lite"
SVG = "image/svg+xml"
RAISES = "# NBVAL_RAISES_EXCEPTION"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LESSONS_FOLDER = "lessons"  # the site's folder of lessons (tools/lite.py's LESSONS)
# Deadlines: an idle machine needs a tenth of each.
APP_SECONDS = 120  # JupyterLab's page loaded and restored
KERNEL_SECONDS = 300  # Pyodide booted, the project's packages loaded, the first reply
STALL_SECONDS = 300  # Run All: no cell finished for this long
WIDGET_SECONDS = 120  # the timeline drawn, or moved


# -- requests to other hosts ------------------------------------------------------------------
class _Refuse(http.server.BaseHTTPRequestHandler):
    """A proxy that answers every request with 403 and keeps what was asked for."""

    def _refuse(self) -> None:
        self.server.asked.append(f"{self.command} {self.path}")
        self.send_error(403, "the in-browser edition must not leave 127.0.0.1")

    do_CONNECT = do_GET = do_POST = do_PUT = do_HEAD = do_OPTIONS = do_DELETE = _refuse

    def log_message(self, format, *args) -> None:
        pass


class OtherHosts:
    """The proxy Chromium sends every request for a host other than 127.0.0.1 to."""

    def __init__(self) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
        self.server.asked = []
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def asked(self) -> list[str]:
        """ "CONNECT host:443" (https) or "GET http://host/path", in order."""
        return self.server.asked

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Browser:
    """One Chromium profile for the site at ``base_url``; ``other_hosts`` records the rest.

    What the test changes in the site, for this browser only: its configuration exposes
    the JupyterLab application object (``exposeAppInBrowser``), to read the notebook model
    and run code in the kernel, renders every cell (no windowing), and keeps each page's
    tabs apart (``workspacesStorageName``: the files stay shared), so that a page opened on
    one lesson does not reopen the lessons of the pages before it, each with a kernel.
    """

    def __init__(self, playwright, profile: Path, base_url: str) -> None:
        self.base_url = base_url
        self.other_hosts = OtherHosts()
        self._closing = contextlib.ExitStack()
        self.context = self._closing.enter_context(
            # Everything but the site goes to the proxy (Playwright would send 127.0.0.1
            # there too, without the bypass).
            chromium(
                playwright,
                profile,
                seconds=60,
                proxy={"server": self.other_hosts.url, "bypass": "127.0.0.1"},
            )
        )
        self.context.route(f"{base_url}/jupyter-lite.json*", self._configure)
        self.pages_opened = 0
        self.tabs = "0"  # whose tabs the next page loads (open_lesson sets it)
        self.elsewhere: list[str] = []  # the site's requests for another host
        self.context.on("request", self._record)

    def _record(self, request) -> None:
        if urlsplit(request.url).hostname not in ("127.0.0.1", None):
            self.elsewhere.append(request.url)

    def _configure(self, route) -> None:
        response = route.fetch()
        config = response.json()
        data = config["jupyter-config-data"]
        data["exposeAppInBrowser"] = "true"
        data["workspacesStorageName"] = f"JupyterLite Workspaces - test {self.tabs}"
        data.setdefault("settingsOverrides", {})["@jupyterlab/notebook-extension:tracker"] = {
            "windowingMode": "none"
        }
        route.fulfill(response=response, json=config)

    def close(self) -> None:
        try:
            self._closing.close()
        finally:
            self.other_hosts.close()


# -- the page -----------------------------------------------------------------------------
PANEL = "window.jupyterapp.shell.currentWidget"
STATE = """() => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  const session = w && w.sessionContext && w.sessionContext.session;
  const kernel = session && session.kernel;
  const model = w && w.content && w.content.model;
  const cells = model && model.cells  // a notebook's (the first widget may be another)
    ? Array.from({length: model.cells.length}, (_, i) => model.cells.get(i))
      .filter(c => c.type === 'code' && c.sharedModel.source.trim())
    : [];
  return {
    path: w && w.context ? w.context.path : null,
    kernel: kernel ? kernel.status : null,
    kernels: app ? [...app.serviceManager.kernels.running()].length : 0,
    code: cells.length,
    ran: cells.filter(c => c.executionCount !== null).length,
    running: w ? [...w.node.querySelectorAll('.jp-InputArea-prompt')]
      .some(p => p.textContent.includes('*')) : false,
  }; }"""
NOTEBOOK = f"() => {PANEL}.content.model.toJSON()"
EXECUTE = f"""async (code) => {{
  const kernel = {PANEL}.sessionContext.session.kernel;
  const future = kernel.requestExecute({{code, store_history: false}});
  const outputs = [];
  future.onIOPub = msg => {{ if (['stream', 'error', 'execute_result', 'display_data']
      .includes(msg.header.msg_type))
    outputs.push({{type: msg.header.msg_type, ...msg.content}}); }};
  const reply = await future.done;
  return {{status: reply.content.status, outputs}}; }}"""
START_RUN_ALL = """() => {
  window.__runAll = {done: false, error: null};
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    () => { window.__runAll.done = true; },
    error => { window.__runAll.error = String(error); window.__runAll.done = true; });
}"""


@dataclass
class Boot:
    """Seconds from opening a lesson's page to each sign of life."""

    cold: bool  # the first page of a fresh browser profile: nothing cached
    app: float = 0.0  # JupyterLab restored, the lesson open
    kernel: float = 0.0  # its kernel idle: Pyodide and the packages loaded
    ready: float = 0.0  # the first cell's reply (``import workbook`` ran)


def fail(page, what: str, state: dict | None = None) -> None:
    """Fail the test, with a screenshot of the page and its last known state."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "failed.png"
    try:
        page.screenshot(path=str(shot))
    except Exception:  # playwright's Error: the page itself is gone
        pass
    pytest.fail(f"{what} (state {state}; screenshot {shot.relative_to(ROOT)})")


NO_STATE = {"path": None, "kernel": None, "kernels": 0, "code": 0, "ran": 0, "running": False}


def state(page) -> dict:
    """STATE; NO_STATE while the page navigates."""
    from playwright.sync_api import Error

    try:
        return page.evaluate(STATE)
    except Error as error:
        if "context was destroyed" in str(error) or "navigat" in str(error):
            return NO_STATE
        raise


def wait_until(page, what: str, condition, seconds: float) -> dict:
    """Poll the page's STATE until ``condition(state)``; the state then."""
    deadline = time.monotonic() + seconds
    now = state(page)
    while not condition(now):
        if time.monotonic() > deadline:
            fail(page, f"timed out after {seconds:.0f}s waiting for {what}", now)
        page.wait_for_timeout(200)
        now = state(page)
    return now


def open_lesson(browser: Browser, lesson: str):
    """A new page on ``lesson`` alone, once its kernel has answered; (page, Boot)."""
    page = browser.context.new_page()
    boot = Boot(cold=browser.pages_opened == 0)
    browser.pages_opened += 1
    browser.tabs = str(browser.pages_opened)
    started = time.monotonic()
    path = f"{LESSONS_FOLDER}/{lesson}.ipynb"
    page.goto(f"{browser.base_url}/lab/index.html?path={path}", wait_until="commit")
    wait_until(page, "JupyterLab to open the lesson", lambda s: s["path"] == path, APP_SECONDS)
    boot.app = time.monotonic() - started
    now = wait_until(
        page, f"{lesson}'s kernel to be ready", lambda s: s["kernel"] == "idle", KERNEL_SECONDS
    )
    boot.kernel = time.monotonic() - started
    if now["kernels"] != 1:
        fail(page, f"{now['kernels']} kernels run in a page opened on {lesson} alone", now)
    reply = run(page, "import workbook")
    if reply["status"] != "ok":
        fail(page, f"`import workbook` failed in {lesson}'s kernel: {reply}")
    boot.ready = time.monotonic() - started
    return page, boot


# pyodide-kernel 0.8.6 counts every request as a cell (its Python side ignores
# store_history: false), so each probe would put a notebook's Out [n] one ahead of its
# In [n]: a probe takes its count back (the kernel adds it after the code has run).
KEEP_COUNT = "\nget_ipython().execution_count -= 1"


def run(page, code: str) -> dict:
    """Run ``code`` in the page's kernel, leaving the notebook's prompt numbers as they
    were; {"status", "outputs"} (iopub contents)."""
    return page.evaluate(EXECUTE, code + KEEP_COUNT)


def printed(result: dict) -> str:
    return "".join(o.get("text", "") for o in result["outputs"] if o["type"] == "stream")


def run_all(page) -> float:
    """*Run All Cells*, as the menu does; seconds until the last cell's reply.

    Done when JupyterLab's command has settled (every queued cell answered, or the queue
    stopped at an error) and the kernel is idle. Fails when no further cell has an
    execution count for STALL_SECONDS.
    """
    started = time.monotonic()
    page.evaluate(START_RUN_ALL)
    ran, progress_at = -1, started
    while True:
        now = state(page)
        done = page.evaluate("() => window.__runAll")
        if done["error"]:
            fail(page, f"Run All failed: {done['error']}", now)
        if done["done"] and now["kernel"] == "idle" and not now["running"]:
            return time.monotonic() - started
        if now["ran"] != ran:
            ran, progress_at = now["ran"], time.monotonic()
        elif time.monotonic() - progress_at > STALL_SECONDS:
            fail(page, f"Run All: no cell finished for {STALL_SECONDS}s", now)
        page.wait_for_timeout(250)


# -- reading the notebook -------------------------------------------------------------------
def source_of(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def text_of(output: dict) -> str:
    if output["output_type"] == "stream":
        return source_of({"source": output["text"]})
    if output["output_type"] == "error":
        return "\n".join(output["traceback"])
    return source_of({"source": output.get("data", {}).get("text/plain", "")})


def first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip()]
    return repr(lines[0][:70]) if lines else "''"


def meant_to_raise(cell: dict) -> bool:
    """Tagged or marked to raise, unless it needs the MySQL server (a browser has none, and
    such a cell then does nothing)."""
    source = source_of(cell)
    if any(line.startswith(NEEDS_SERVER) for line in source.splitlines()):
        return False
    return "raises-exception" in cell["metadata"].get("tags", []) or RAISES in source


def cell_problems(notebook: dict, desktop_only_tag: str) -> tuple[list[str], int, int]:
    """(problems, code cells, desktop-only cells) of the notebook as the page holds it.

    Every code cell ran; none shows an error output (``workbook.browser`` turns the
    expected ones into stderr, so that Run All goes on) or a traceback, except the cells
    meant to raise, which must show theirs; a desktop-only cell shows its note.
    """
    problems, code, desktop_only = [], 0, 0
    for index, cell in enumerate(notebook["cells"]):
        source = source_of(cell)
        if cell["cell_type"] != "code" or not source.strip():
            continue
        code += 1
        outputs = cell.get("outputs", [])
        shown = ANSI.sub("", "\n".join(text_of(o) for o in outputs))
        errors = [o for o in outputs if o["output_type"] == "error"]
        where = f"cell {index} ({first_line(source)})"
        counts = {o["execution_count"] for o in outputs if o["output_type"] == "execute_result"}
        if cell.get("execution_count") is None:
            problems.append(f"{where} did not run")
        elif counts - {cell["execution_count"]}:
            problems.append(f"{where}: In [{cell['execution_count']}] shows Out {sorted(counts)}")
        elif errors:
            problems.append(f"{where} raised {errors[0]['ename']}: {errors[0]['evalue'][:300]}")
        elif meant_to_raise(cell) and not any(
            o["output_type"] == "stream" and o["name"] == "stderr" for o in outputs
        ):
            problems.append(f"{where} is meant to raise but showed no error")
        elif not meant_to_raise(cell) and "Traceback (most recent call last)" in shown:
            problems.append(f"{where} printed a traceback: {shown[-300:]!r}")
        if desktop_only_tag in cell["metadata"].get("tags", []):
            desktop_only += 1
            if "Desktop only:" not in shown:
                problems.append(f"{where} is desktop-only but shows no note")
    return problems, code, desktop_only


def picture_problems(page, notebook: dict) -> list[str]:
    """Each SVG output of the model is drawn in the page as a picture, not as text."""
    expected = sum(
        SVG in o.get("data", {}) for c in notebook["cells"] for o in c.get("outputs", [])
    )
    drawn = page.evaluate(f"""() => [...{PANEL}.node.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="{SVG}"]')].filter(node => {{
          const picture = node.querySelector('img, svg');
          if (!picture) return false;
          const box = picture.getBoundingClientRect();
          return picture.tagName.toLowerCase() === 'img'
            ? picture.complete && picture.naturalWidth > 0 : box.width > 0 && box.height > 0;
        }}).length""")
    problems = [] if drawn >= expected else [f"{drawn} of {expected} SVG pictures drawn"]
    if page.evaluate(
        f"() => [...{PANEL}.node.querySelectorAll('.jp-OutputArea')]"
        ".some(area => area.innerText.includes('<svg'))"
    ):
        problems.append("an SVG picture is shown as text")
    return problems


def timeline_problems(page) -> list[str]:
    """The first timeline widget renders; moving it to base moves the database there."""
    widget = page.locator(".jp-NotebookPanel:visible .jupyter-widgets:has(.widget-dropdown)").first
    try:
        widget.wait_for(state="visible", timeout=WIDGET_SECONDS * 1000)
    except Exception:  # playwright's TimeoutError
        return ["no timeline widget rendered"]
    if "Error displaying widget" in page.locator(".jp-NotebookPanel:visible").inner_text():
        return ["the page says 'Error displaying widget'"]
    widget.scroll_into_view_if_needed()
    pictures_before = widget.locator("svg").count()
    widget.locator("select").select_option(index=0)  # "base · empty database"
    widget.locator("button", has_text="Move here").click()
    status = widget.locator(".widget-html", has_text="the database is now at base")
    try:
        status.first.wait_for(state="visible", timeout=WIDGET_SECONDS * 1000)
    except Exception:
        return [f"the timeline did not move: {widget.inner_text()[:300]!r}"]
    if widget.locator("svg").count() < max(pictures_before, 1):
        return ["the timeline's pictures are gone after the move"]
    return []


def screenshot(page, lesson: str) -> Path:
    """The lesson's first timeline (after the move, if it moved), else its first SVG
    picture, else its end, in view; saved as ``SCREENSHOTS/<lesson>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for selector in (
        ".jp-NotebookPanel:visible .jupyter-widgets:has(.widget-dropdown)",
        f'.jp-NotebookPanel:visible .jp-OutputArea-output[data-mime-type="{SVG}"]',
    ):
        target = page.locator(selector).first
        if target.count():
            target.scroll_into_view_if_needed()
            break
    path = SCREENSHOTS / f"{lesson}.png"
    page.screenshot(path=str(path))
    return path
