"""What differs when the workbook runs in a browser tab (JupyterLite's Pyodide kernel).

The in-browser edition (``python3 tasks.py lite``) runs the same lessons and the same
toolkit as a desktop; ``import workbook`` calls :func:`prepare` there (and nowhere else),
which adapts four things a browser tab lacks:

- **No ``fcntl``.** The kernel puts an empty stand-in module in its place, and
  ``import alembic`` fails on it (``fcntl.ioctl``, then ``termios.TIOCGWINSZ``): alembic is
  imported once with ``fcntl`` hidden, so that it takes its no-terminal path.
- **No greenlet, no threads, no processes.** ``sqlalchemy.ext.asyncio`` refuses to import
  without greenlet, and ``app/core/database.py`` and env.py import it. The runner hands
  env.py a sync ``sqlite3`` connection and runs ``%alembic`` on the kernel's thread (see
  ``workbook.runner``). An env.py that builds its own async engine (the guide's, chapter
  07) gets one that works on SQLite: ``workbook.async_in_place`` stands in for greenlet
  and for aiosqlite's worker thread, with the same ``sqlite3`` calls in the same order;
  its ``asyncio.run()`` gets its coroutine run in place (:func:`run_in_place`) where a
  desktop gives it a helper thread. A server's async driver still fails, in one line.
- **Cells that need a desktop.** A lesson cell tagged ``desktop-only`` (a shell command,
  git, a database server) is not run: the kernel shows a one-line note and the outputs the
  lesson stores, made on a desktop; its import statements still run, for the cells after
  it. The site's build lists those cells in ``workbook/desktop_only_cells.json`` (see
  ``tools/lite.py``); a cell is recognised by the id JupyterLab sends with it and the sha256
  of its stripped source, so an edited cell runs for real.
- **Post-write hooks** that start a process (``type = module``, ``console_scripts``,
  ``exec``: chapter 08's ruff) are skipped with one line saying so; the revision is written
  as Alembic made it.
- **Cells meant to raise.** JupyterLab sends such a cell (tag ``raises-exception``) with
  ``stop_on_error: false``, but JupyterLite's kernel service cancels every queued cell
  after any error reply, so *Run All* would stop at the first one. For those cells the
  kernel writes the error to stderr (as red as a traceback) and replies "ok".
- **Files that outlive the page.** The kernel's own file system is memory, gone at a
  reload; the browser's storage is mounted at ``/drive`` (the file browser's root), where a
  SQLite file does not work ("database disk image is malformed"). So the workspaces live
  in memory (``/home/pyodide/workspace``, fast, SQLite works) and are copied to
  ``/drive/<chapter>/`` after every cell, only the files that changed; a chapter's files
  are copied back when the chapter is first named after a reload (``workbook.start``,
  ``workbook.Workspace``), so opening one chapter does not copy back all the others.
  ``workbook.start`` then rebuilds a chapter's workspace as on a desktop, while
  ``workbook.Workspace(name, stage)`` takes it as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import re
import shutil
import sys
from pathlib import Path

IN_BROWSER = sys.platform == "emscripten"
PACKAGE_DIR = Path(__file__).resolve().parent
DESKTOP_ONLY_CELLS = PACKAGE_DIR / "desktop_only_cells.json"  # written by tools/lite.py
MEMORY_ROOT = Path("/home/pyodide/workspace")
STORAGE = Path("/drive")  # the browser's storage, as JupyterLite's kernel mounts it
LESSONS = "lessons"  # the site's folder of lessons, beside the saved workspaces
# Never copied to storage: rebuilt when needed, or the kernel's own bookkeeping.
NOT_SAVED = {".cache", "__pycache__", ".ipynb_checkpoints"}
# Not needed in a browser: the async engine's driver and greenlet cannot run there.
DESKTOP_ONLY_REQUIREMENTS = {"greenlet", "aiosqlite"}

_prepared = False
_saved: dict[str, str] = {}  # relative path -> sha256 of what storage holds


def prepare() -> None:
    """Adapt the kernel once: alembic and SQLAlchemy imports, workspaces, cell hooks."""
    global _prepared
    if _prepared:
        return
    _prepared = True
    _import_alembic_without_fcntl()
    _sqlalchemy_without_greenlet()
    _hooks_without_processes()
    os.environ.setdefault("WORKBOOK_WORKSPACES", str(MEMORY_ROOT))
    restore()
    _install_hooks()


def edition() -> str:
    """One line: which edition this kernel is, for ``check_environment()``."""
    if not IN_BROWSER:
        return "Desktop edition: your own Python, shell and files."
    version = getattr(sys.modules.get("pyodide"), "__version__", "")
    storage = "saved in this browser" if _storage_ready() else "kept only until a reload"
    return (
        f"In-browser edition (JupyterLite, Pyodide {version}, Python "
        f"{sys.version.split()[0]}): your work is {storage}; cells that need a shell or "
        "a database server show their desktop output."
    )


# -- imports ------------------------------------------------------------------------------
def _import_alembic_without_fcntl() -> None:
    """``import alembic`` with ``fcntl`` hidden (an ImportError alembic expects and handles)."""
    if "alembic" in sys.modules:
        return
    stand_in = sys.modules.get("fcntl")
    sys.modules["fcntl"] = None  # type: ignore[assignment]  # "import fcntl" raises ImportError
    try:
        import alembic.config  # noqa: F401  (the module that reads the terminal's size)
    finally:
        if stand_in is None:
            sys.modules.pop("fcntl", None)
        else:
            sys.modules["fcntl"] = stand_in


def _sqlalchemy_without_greenlet() -> None:
    """Let ``sqlalchemy.ext.asyncio`` import, and its engine work on SQLite (aiosqlite)."""
    with contextlib.suppress(ImportError, AttributeError):  # a SQLAlchemy that changed this
        from workbook import async_in_place

        async_in_place.adapt()


def run_in_place(coroutine):
    """Run ``coroutine`` to its end on the page's own event loop, from synchronous code.

    ``asyncio.run()`` refuses to start beside the kernel's running loop, and a browser has
    no thread to give it one: Pyodide's ``run_sync`` (WebAssembly stack switching) waits
    for the coroutine instead. Where the browser cannot switch stacks, a coroutine that
    never waits (SQLite's, see ``workbook.async_in_place``) is stepped through in place;
    one that waits gets a one-line error.
    """
    from alembic.util import CommandError
    from pyodide.ffi import can_run_sync, run_sync

    from workbook.async_in_place import WouldWait, wait_in_place

    if not can_run_sync():
        try:  # SQLite's async engine never waits here (workbook.async_in_place)
            return wait_in_place(coroutine)
        except WouldWait:
            pass
        raise CommandError(
            "this browser cannot wait for asyncio code inside a cell "
            "(no WebAssembly stack switching): use a recent Chrome, Edge or "
            "Firefox, or the desktop edition"
        )

    async def settled():
        # An exception that leaves run_sync is also shown by the kernel as the cell's
        # error, even when the caller handles it (the runner does): it leaves as a value.
        try:
            return True, await coroutine
        except BaseException as error:
            return False, error

    finished, value = run_sync(settled())
    if not finished:
        raise value
    return value


def _hooks_without_processes() -> None:
    """Alembic's post-write hooks that run a program: one line instead of a process."""
    from alembic.script import write_hooks

    def skipped(path: str, options: dict, ignore_output: bool = False) -> None:
        print(
            f"  (not run: {options.get('_hook_name', 'the hook')} starts a program, which a "
            "browser tab cannot; on a desktop it runs)"
        )

    for kind in ("module", "console_scripts", "exec"):
        write_hooks._registry[kind] = skipped


# -- desktop-only cells -----------------------------------------------------------------------
_cells: dict | None = None


def desktop_only_cells() -> dict:
    """cell id -> {"lesson", "source_sha256", "outputs"} of the cells that need a desktop."""
    global _cells
    if _cells is None:
        try:
            _cells = json.loads(DESKTOP_ONLY_CELLS.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            _cells = {}
    return _cells


def cell_digest(source: str) -> str:
    return hashlib.sha256(source.strip().encode()).hexdigest()


def _current_cell_id() -> str | None:
    """The id of the notebook cell being run (JupyterLab sends it with the request)."""
    try:
        from IPython import get_ipython

        return get_ipython().kernel.get_parent()["metadata"]["cellId"]
    except (AttributeError, KeyError, TypeError):
        return None


def _imports_of(source: str) -> list[str]:
    """The cell's top-level import statements: they still run, for the cells after it."""
    import ast

    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return []
    return [
        ast.unparse(node) + "\n"
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]


def _what_it_needs(source: str) -> str:
    """Why a cell needs a desktop, from its code: a few words for the note."""
    lines = [
        line.strip()
        for line in source.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    code = "\n".join(lines)
    if any(line.startswith(("%%bash", "%%sh", "%%script")) for line in lines):
        return "runs a shell script"
    if "git " in code or 'git"' in code:
        return "runs git"
    if any(word in code.lower() for word in ("postgres", "mysql", "psycopg", "asyncpg")):
        return "talks to a database server"
    if any(line.startswith("!") or re.search(r"=\s*!", line) for line in lines):
        return "runs a command in a shell"
    if "subprocess" in code:
        return "starts a process"
    return "needs a desktop (a process, a thread or a server)"


def transform_desktop_only(lines: list[str]) -> list[str]:
    """IPython input transformer: a desktop-only cell, as the lesson has it, becomes its
    imports and a replay of its outputs. Any other cell, or an edited one, runs as it is."""
    source = "".join(lines)
    entry = desktop_only_cells().get(_current_cell_id())
    if entry is None or entry["source_sha256"] != cell_digest(source):
        return lines
    return [
        *_imports_of(source),
        f"__import__('workbook.browser').browser.replay("
        f"{_current_cell_id()!r}, {_what_it_needs(source)!r})\n",
    ]


def replay(cell_id: str, needs: str) -> None:
    """Show the note and the stored outputs of desktop-only cell ``cell_id``."""
    from IPython.display import display, publish_display_data

    entry = desktop_only_cells()[cell_id]
    note = (
        f"Desktop only: this cell {needs}, which a browser tab cannot do. "
        "On a desktop (python3 tasks.py lab) it runs for real; here is what it showed there:"
    )
    display(
        {
            "text/plain": note,
            "text/html": f'<div style="border-left:4px solid #f0ad4e;padding:2px 8px;'
            f'background:#fcf8e3;color:#333">{html.escape(note)}</div>',
        },
        raw=True,
    )
    for output in entry["outputs"]:
        kind = output["output_type"]
        if kind == "stream":
            getattr(sys, output["name"]).write(_text(output["text"]))
        elif kind in ("display_data", "execute_result"):
            data = {
                key: _text(value) if isinstance(value, list) else value
                for key, value in output["data"].items()
            }
            publish_display_data(data, output.get("metadata", {}))
        elif kind == "error":  # shown, not raised: nothing failed here
            sys.stderr.write(f"{output['ename']}: {output['evalue']}\n")
    sys.stdout.flush()
    sys.stderr.flush()


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


# -- storage ----------------------------------------------------------------------------------
def _storage_ready() -> bool:
    return IN_BROWSER and STORAGE.is_dir()


def _memory_root() -> Path:
    return Path(os.environ.get("WORKBOOK_WORKSPACES") or MEMORY_ROOT)


def _kept(relative: Path) -> bool:
    return not (NOT_SAVED & set(relative.parts)) and relative.parts[0] != LESSONS


def restore(
    storage: Path = STORAGE, memory: Path | None = None, workspace: str | None = None
) -> list[str]:
    """Copy what :func:`save` put in ``storage`` back into memory (files already in memory
    are kept); returns the relative paths restored. The lessons stay where they are.

    Without ``workspace``: the files at the top (``progress.json``) and the kernels'
    locks (``.kernels/``), as ``import workbook`` does. With it: that workspace's folder
    and its ``.previous/`` copy, as :func:`restore_workspace` does when it is first used,
    so that a page opened on one chapter does not copy back every other chapter's.
    """
    memory = memory or _memory_root()
    if not storage.is_dir():
        return []
    if workspace is None:
        roots = [Path(".kernels")]
        tops = [Path(name) for name in sorted(os.listdir(storage))]
        files = [top for top in tops if (storage / top).is_file()]
    else:
        roots, files = [Path(workspace), Path(".previous") / workspace], []
    for root in roots:
        for folder, folders, names in os.walk(storage / root):
            here = Path(folder).relative_to(storage)
            folders[:] = sorted(name for name in folders if _kept(here / name))
            files += [here / name for name in sorted(names)]
    restored = []
    for relative in files:
        if not _kept(relative):
            continue
        target = memory / relative
        if target.exists():  # memory's own version is newer: the next save writes it
            _saved[relative.as_posix()] = _sha256(storage / relative)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(storage / relative, target)
        _saved[relative.as_posix()] = _sha256(target)
        restored.append(relative.as_posix())
    return sorted(restored)


_restored_workspaces: set[str] = set()


def restore_workspace(name: str) -> None:
    """Bring back workspace ``name`` from the browser's storage, once per kernel (called
    as a workspace is named: ``workbook.start``, ``workbook.Workspace``); elsewhere, nothing."""
    if not _storage_ready() or name in _restored_workspaces:
        return
    _restored_workspaces.add(name)
    restore(STORAGE, workspace=name)


def save(storage: Path = STORAGE, memory: Path | None = None) -> list[str]:
    """Copy to ``storage`` what changed in the workspaces since the last save; remove
    what was deleted. Returns the relative paths written or removed."""
    memory = memory or _memory_root()
    if not storage.is_dir() or not memory.is_dir():
        return []
    changed = []
    present = set()
    for path in sorted(memory.rglob("*")):
        relative = path.relative_to(memory)
        if not path.is_file() or not _kept(relative):
            continue
        key = relative.as_posix()
        present.add(key)
        digest = _sha256(path)
        if _saved.get(key) != digest:
            target = storage / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            _saved[key] = digest
            changed.append(key)
    for key in sorted(set(_saved) - present):
        with contextlib.suppress(FileNotFoundError):
            (storage / key).unlink()
        del _saved[key]
        changed.append(key)
    return changed


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _save_after_cell(*_args) -> None:
    try:
        save()
    except OSError as error:  # storage full or gone: the work goes on in memory
        print(
            f"Could not save the workspace in this browser ({error}); "
            "it is kept until the page is reloaded.",
            file=sys.stderr,
        )


# -- the kernel --------------------------------------------------------------------------------
def _queue_goes_on(shell) -> bool:
    """The request running now asked the kernel not to stop the queue on an error."""
    try:
        parent = shell.kernel.get_parent() or {}
        return parent["content"]["stop_on_error"] is False
    except (AttributeError, KeyError, TypeError):
        return False


def _show_expected_errors_as_stderr(shell) -> None:
    original = shell._showtraceback

    def show(etype, evalue, stb):
        if not _queue_goes_on(shell):
            return original(etype, evalue, stb)
        sys.stderr.write("\n".join(stb) + "\n")
        sys.stderr.flush()

    shell._showtraceback = show


def _install_hooks() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    if transform_desktop_only not in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.insert(0, transform_desktop_only)
    if hasattr(shell, "kernel"):  # JupyterLite's kernel (a desktop kernel honours the flag)
        _show_expected_errors_as_stderr(shell)
    if _storage_ready():
        shell.events.register("post_run_cell", _save_after_cell)
