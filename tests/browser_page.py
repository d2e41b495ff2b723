"""The JupyterLab page as the browser test drives and reads it (tests/test_browser.py);
the browser itself, for the in-browser edition's test too (tests/test_lite.py).

Everything goes through what a learner has (the menus) or through JupyterLab's own
commands and models (``window.jupyterapp``, exposed by ``--LabApp.expose_app_in_browser``):
open a notebook, add and run a cell, switch the theme, read the notebook as a save would
write it, measure the contrast of every text in the outputs, take screenshots.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "build" / "screenshots"
RAISES = "# NBVAL_RAISES_EXCEPTION"
SVG = "image/svg+xml"
HTML = "text/html"
STDERR = "application/vnd.jupyter.stderr"
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
PAGE_COLOUR = {"light": "white", "dark": "#111"}  # each theme's --jp-layout-color0
MIN_CONTRAST = 4.5  # WCAG 2, normal text (AA)
CHROMIUM = Path("/usr/bin/chromium")  # Debian's: Playwright downloads no browser here
# The notes' flags for a headless machine without network (both browser tests); the fresh
# --user-data-dir is the persistent context's folder (Playwright refuses the flag itself).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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

# Every element that holds text in the notebook's outputs: its colour against the colour
# behind it, both composited (alpha) over what is beneath, down to the page, compared by
# the WCAG 2 formula. Texts inside pictures (<img>, <svg>) are the pictures' own business
# (white cards). Returns the texts below the minimum and the cells measured.
TEXT_CONTRAST = """(minimum) => {
  const parse = c => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const v = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
  };
  const over = (top, below) => {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + below[i] * (1 - a)).concat([1]);
  };
  const luminance = rgb => {
    const [r, g, b] = rgb.slice(0, 3).map(c => c / 255)
      .map(c => c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (light + 0.05) / (dark + 0.05);
  };
  const known = new Map();  // element -> its composited background
  const backgroundOf = el => {
    if (!el) return [255, 255, 255, 1];  // the canvas
    if (!known.has(el)) {
      const own = parse(getComputedStyle(el).backgroundColor);
      known.set(el, over(own, backgroundOf(el.parentElement)));
    }
    return known.get(el);
  };
  // Left out: a traceback's ANSI colours, JupyterLab's and IPython's own palette, the same
  // for every Python traceback (the red exception name is #e75c58 on the error pink, 2.7:1).
  const ansi = '.jp-RenderedText pre [class*="ansi-"], .jp-RenderedText pre span[style]';
  const cells = [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')];
  const low = [], measured = new Set(), seen = new Set();
  cells.forEach((cell, index) => {
    for (const output of cell.querySelectorAll('.jp-OutputArea-output')) {
      const walker = document.createTreeWalker(output, NodeFilter.SHOW_TEXT);
      for (let t = walker.nextNode(); t; t = walker.nextNode()) {
        const el = t.parentElement;
        if (seen.has(el) || !t.textContent.trim() || el.closest('svg') || el.closest(ansi)) {
          continue;
        }
        seen.add(el);
        const style = getComputedStyle(el);
        if (style.visibility !== 'visible' || !el.getClientRects().length) continue;
        measured.add(index);
        const bg = backgroundOf(el), fg = over(parse(style.color), bg);
        const ratio = contrast(fg, bg);
        if (ratio < minimum) {
          low.push({cell: index, text: t.textContent.trim().slice(0, 60), ratio,
                    mime: output.getAttribute('data-mime-type'),
                    fg: fg.slice(0, 3).map(Math.round), bg: bg.slice(0, 3).map(Math.round)});
        }
      }
    }
  });
  return {low, measured: [...measured]};
}"""


def unreadable(page, theme: str) -> tuple[list[str], set[int]]:
    """(texts below MIN_CONTRAST, described; indexes of the cells whose texts were measured)."""
    found = page.evaluate(TEXT_CONTRAST, MIN_CONTRAST)
    problems = [
        f"{theme}: cell {t['cell']} ({t['mime']}): {t['text']!r} is rgb{tuple(t['fg'])} "
        f"on rgb{tuple(t['bg'])}, contrast {t['ratio']:.2f} < {MIN_CONTRAST}"
        for t in found["low"]
    ]
    return problems[:20], set(found["measured"])


def use_theme(page, theme: str) -> None:
    """Switch JupyterLab's theme (as Settings → Theme does) and wait until it applies."""
    name = THEMES[theme]
    if page.evaluate("() => document.body.dataset.jpThemeName") == name:
        return
    page.evaluate(
        "async (theme) => { await window.jupyterapp.commands.execute("
        "'apputils:change-theme', {theme}); }",
        name,
    )
    page.wait_for_function(  # named, and its stylesheet's page colour in force
        "([name, colour]) => document.body.dataset.jpThemeName === name && getComputedStyle("
        "document.body).getPropertyValue('--jp-layout-color0').trim() === colour",
        arg=[name, PAGE_COLOUR[theme]],
    )


@contextlib.contextmanager
def chromium(playwright, profile: Path, seconds: float = 30, **options) -> Iterator:
    """A Playwright browser context of the system Chromium (headless, CHROMIUM_FLAGS) with
    its data in the fresh folder ``profile``: a 1400x1000 viewport, ``seconds`` for each
    action; ``options`` go to ``launch_persistent_context`` (e.g. ``proxy``). Closed on
    exit."""
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": 1400, "height": 1000},
        **options,
    )
    context.set_default_timeout(seconds * 1000)
    try:
        yield context
    finally:
        context.close()


def current_theme(page) -> str:
    return (
        "light" if page.evaluate("() => document.body.dataset.jpThemeLight") == "true" else "dark"
    )


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
    pytest.fail(
        f"{chapter.name}: {why} (page {page.url}, kernel {state['kernel']}, "
        f"{len(state['prompts'])} cells; screenshot {shot.relative_to(ROOT)})"
    )


def menu(page, top: str, item: str) -> None:
    """Click ``top`` in the menu bar, then ``item`` in its menu (as a learner would)."""
    page.locator(".lm-MenuBar-item", has_text=top).first.click()
    page.locator(".lm-Menu-item:visible", has_text=item).first.click()


def first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip() and line != RAISES]
    return repr(lines[0][:70]) if lines else "''"


def cell_locator(page, index: int):
    return page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)


OPEN_ALONE = """async (path) => {
  const app = window.jupyterapp;
  for (const widget of app.shell.widgets('main')) {  // never "save your changes?"
    if (widget.context) widget.context.model.dirty = false;
  }
  await app.commands.execute('application:close-all');
  await app.commands.execute('docmanager:open', {path});
}"""


def open_notebook(page, lab, path: str, cell_count: int, chapter: Path) -> None:
    """Open ``path`` alone: in the JupyterLab already loaded (everything else closed, as
    File → Close All does), else in a fresh JupyterLab workspace (the token logs in)."""
    if page.url.startswith(lab.url) and page.evaluate("() => !!window.jupyterapp"):
        page.evaluate(OPEN_ALONE, path)
    else:
        page.goto(f"{lab.url}/lab/tree/{path}?reset&token={lab.token}")
    wait_for(
        page,
        f"{path} to open, every cell rendered",
        lambda: len(page.evaluate(CELL_STATE)["prompts"]) == cell_count,
        60,
        chapter,
    )


def notebook_now(page) -> dict:
    """The open notebook as the page holds it (nbformat JSON): what File → Save would write."""
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.toJSON()")


DRAWN = (
    "nodes => nodes.map(n => n.tagName.toLowerCase() === 'img'"
    " ? [n.complete && n.naturalWidth, n.naturalHeight]"
    " : [n.getBoundingClientRect().width, n.getBoundingClientRect().height])"
)


def add_and_run_cell(page, source: str) -> int:
    """Append a code cell to the open notebook, run it, wait for it; returns its index."""
    index = page.evaluate(
        """async (source) => {
      const app = window.jupyterapp, panel = app.shell.currentWidget, notebook = panel.content;
      notebook.activeCellIndex = notebook.widgets.length - 1;
      await app.commands.execute('notebook:insert-cell-below');
      await app.commands.execute('notebook:change-cell-to-code');
      notebook.activeCell.model.sharedModel.setSource(source);
      await app.commands.execute('notebook:run-cell');
      return notebook.activeCellIndex;
    }""",
        source,
    )
    page.wait_for_function(
        """(index) => {
      const cell = document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')[index];
      const prompt = cell && cell.querySelector('.jp-InputArea-prompt');
      return prompt && /\\[\\d+\\]/.test(prompt.textContent);
    }""",
        arg=index,
    )
    return index


def output_text(page, index: int) -> str:
    return cell_locator(page, index).locator(".jp-OutputArea").inner_text()


def screenshot(page, chapter: Path, theme: str, target: int | None) -> str:
    """The page in ``theme``, scrolled to cell ``target``: build/screenshots/NN_name-theme.png."""
    if target is not None:
        cell_locator(page, target).evaluate("cell => cell.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(300)  # let images decode after the scroll
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{chapter.stem}-{theme}.png"
    page.screenshot(path=str(path))
    return str(path.relative_to(ROOT))


# -- what a lesson's cells show (``expected``: test_browser.Expected) ---------------------
WIDGET_ERROR = "Error displaying widget"


def widget_problems(page, expected: list, live: bool = True) -> list[str]:
    """Cells that made a widget show a real one (a dropdown and buttons), not an error;
    before they run (``live=False``), their stored picture instead, and no widget."""
    problems = []
    for cell in (c for c in expected if c.widget):
        node = cell_locator(page, cell.index)
        concrete = node.locator(
            ".jupyter-widgets .widget-dropdown select, "
            ".jupyter-widgets.widget-button, .jupyter-widgets .widget-button"
            if live
            else f'.jp-OutputArea-output[data-mime-type="{HTML}"] img'
        )
        try:
            concrete.first.wait_for(state="visible", timeout=15_000)
        except Exception:  # playwright's TimeoutError
            problems.append(
                f"cell {cell.index}: no {'widget' if live else 'stored picture'} rendered "
                f"({first_line(cell.source)}): "
                f"{node.locator('.jp-OutputArea').inner_text()[:200]!r}"
            )
    text = page.locator(".jp-NotebookPanel .jp-Notebook").inner_text()
    if WIDGET_ERROR in text:
        problems.append(f"the page says {WIDGET_ERROR!r}")
    return problems


def picture_problems(page, expected: list, live: bool = True) -> list[str]:
    """Cells that drew SVG pictures show them as decoded images, not as text; a widget's
    pictures (the timeline's graph and schema) are drawn too: by the live widget, or
    before it runs (``live=False``) by its stored HTML."""
    problems = []
    for cell in expected:
        node = cell_locator(page, cell.index)
        if cell.svg_outputs:
            sizes = (
                node.locator(f'.jp-OutputArea-output[data-mime-type="{SVG}"]')
                .locator("img, svg")
                .evaluate_all(DRAWN)
            )
            drawn = [size for size in sizes if size[0] and size[1]]
            if len(drawn) < cell.svg_outputs:
                problems.append(
                    f"cell {cell.index}: {len(drawn)} of {cell.svg_outputs} SVG "
                    f"pictures drawn ({first_line(cell.source)})"
                )
            if "<svg" in node.locator(".jp-OutputArea").inner_text():
                problems.append(f"cell {cell.index}: SVG shown as source text")
        if cell.widget:
            drawing = ".jupyter-widgets svg" if live else f'[data-mime-type="{HTML}"] img'
            sizes = node.locator(drawing).evaluate_all(DRAWN)
            if len([size for size in sizes if size[0] and size[1]]) < 2:
                problems.append(
                    f"cell {cell.index}: the widget's pictures are not drawn "
                    f"({first_line(cell.source)})"
                )
    return problems


def info_on_stderr(page, expected: list) -> list[str]:
    """Cells whose pink stderr box holds alembic's INFO log (real processes excepted)."""
    problems = []
    for cell in expected:
        if cell.real_process:
            continue
        boxes = (
            cell_locator(page, cell.index)
            .locator(f'.jp-OutputArea-output[data-mime-type="{STDERR}"]')
            .all_inner_texts()
        )
        info = [line for box in boxes for line in box.splitlines() if line.startswith("INFO ")]
        if info:
            problems.append(
                f"cell {cell.index}: {len(info)} INFO lines in a stderr box, "
                f"e.g. {info[0][:80]!r} ({first_line(cell.source)})"
            )
    return problems
