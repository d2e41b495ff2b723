"""What a command changes in the kernel's process, and how each change is undone.

Every ``%alembic`` runs in the kernel's own process, where env.py, alembic and the
project's ``app`` package act on process-wide state: logging, ``sys.modules``, the working
directory, class attributes. Each context manager here takes one such thing, gives the
command what a fresh ``alembic`` process would have, and puts the kernel's back afterwards,
also when the command fails or is interrupted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import logging
import os
import signal
import sys
import warnings
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

# New revisions made through the workbook are dated from here, a minute per revision.
WORKBOOK_CLOCK = dt.datetime(2024, 12, 9, 7, 30, tzinfo=dt.UTC)


@contextlib.contextmanager
def isolated_logging():
    """Start with no handlers (as a fresh process has) and put everything back afterwards.

    env.py's ``fileConfig`` does more than replace the root handlers: it closes every
    handler the process has (``logging.shutdown`` on the module's list of handlers), so a
    kernel's or pytest's file handler would be closed under its owner. That list is
    emptied for the command and given back after it, with the handlers untouched.
    """
    manager = logging.Logger.manager

    def loggers() -> list[logging.Logger]:
        return [logging.root] + [
            lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger)
        ]

    saved = {lg: (lg.level, list(lg.handlers), lg.propagate, lg.disabled) for lg in loggers()}
    named_handlers = dict(logging._handlers)  # what fileConfig clears and closes
    handler_refs = list(logging._handlerList)
    disabled_below = manager.disable
    logging._handlers.clear()
    del logging._handlerList[:]
    logging.root.handlers = []
    try:
        yield
    finally:
        for lg in loggers():
            if lg in saved:
                lg.level, handlers, lg.propagate, lg.disabled = saved[lg]
                lg.handlers = handlers
            else:  # created during the call (e.g. by env.py): leave it quiet
                lg.handlers = []
                lg.level = logging.NOTSET
        logging._handlers.clear()
        logging._handlers.update(named_handlers)
        logging._handlerList[:] = handler_refs
        manager.disable = disabled_below


class _ProjectPackagesOnly(importlib.abc.MetaPathFinder):
    """Find ``app`` and ``app.*`` in the project folder or nowhere.

    Without it, a project that lacks (say) ``app/models`` could silently import another
    ``app`` found later on sys.path, such as the repository's own.
    """

    def __init__(self, project_dir: Path):
        self.project_dir = str(project_dir)

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "app" and not fullname.startswith("app."):
            return None
        search = [self.project_dir] if fullname == "app" else path
        spec = importlib.machinery.PathFinder.find_spec(fullname, search)
        if spec is None:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return spec


# Per project folder: the fingerprint of its ``app`` sources and the modules they made.
_PROJECT_MODULES: dict[str, tuple[bytes, dict]] = {}


def _app_fingerprint(project_dir: Path) -> bytes:
    """A digest of every ``app/**/*.py`` of the project: names and contents."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted((project_dir / "app").rglob("*.py")):
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.digest()


class ProjectImports:
    keep = True  # set to False when the command failed: its modules are not reused


@contextlib.contextmanager
def project_imports(project_dir: Path, reuse: bool = False):
    """Import ``app`` (and friends) from the project folder, then restore the kernel's.

    ``reuse``: declaring the models is most of a short command's time, so the alembic
    runner keeps the modules for its next command while not one byte of the project's
    ``app`` sources has changed; an edit, a new or deleted file, or a failed command makes
    the next import fresh. Checkers leave it off: they look at what an import brings in.
    """

    def local_names() -> list[str]:
        return [n for n in sys.modules if n.startswith("app") and n[3:4] in ("", ".")]

    cache_compiled_code(project_dir)  # never a stale .pyc for the project's sources
    key = str(project_dir.resolve())
    fingerprint = _app_fingerprint(project_dir) if reuse else b""
    stashed = {name: sys.modules.pop(name) for name in local_names()}
    cached = _PROJECT_MODULES.pop(key, None) if reuse else None
    if cached and cached[0] == fingerprint:
        sys.modules.update(cached[1])
    saved_path = list(sys.path)
    guard = _ProjectPackagesOnly(project_dir)
    sys.meta_path.insert(0, guard)
    sys.path.insert(0, str(project_dir))
    importlib.invalidate_caches()
    state = ProjectImports()
    try:
        yield state
    except BaseException:
        state.keep = False
        raise
    finally:
        imported = {name: sys.modules.pop(name) for name in local_names()}
        if reuse and state.keep and imported:  # alembic never writes to app/
            _PROJECT_MODULES[key] = (fingerprint, imported)
        sys.modules.update(stashed)
        sys.meta_path.remove(guard)
        sys.path[:] = saved_path


_COMPILED: dict[tuple[str, bytes], object] = {}
_COMPILED_ROOTS: set[str] = set()


def _under_compiled_roots(path) -> bool:
    return str(path).startswith(tuple(_COMPILED_ROOTS))


def cache_compiled_code(root: Path) -> None:
    """Load every Python file under ``root`` from its source, compiled once per version.

    A ``.pyc`` is trusted when the source's mtime (whole seconds) and size match, so a
    revision or model file rewritten within a second at the same size would run its old
    code; that is what a learner's fast edit, or a test, does. Files under ``root`` are
    therefore never read from nor written to ``__pycache__``, whatever
    ``sys.dont_write_bytecode`` says. Compiling every time would cost, as alembic loads
    every revision script on every command: the code is kept per source bytes instead,
    a cache that can never be stale. Files elsewhere are left alone.
    """
    if not _COMPILED_ROOTS:
        loader = importlib.machinery.SourceFileLoader
        original_compile, original_get_code = loader.source_to_code, loader.get_code

        def source_to_code(self, data, path, *args, **kwargs):
            if not _under_compiled_roots(path):
                return original_compile(self, data, path, *args, **kwargs)
            key = (str(path), hashlib.blake2b(data, digest_size=16).digest())
            if key not in _COMPILED:
                _COMPILED[key] = original_compile(self, data, path, *args, **kwargs)
            return _COMPILED[key]

        def get_code(self, fullname):
            path = self.get_filename(fullname)
            if not _under_compiled_roots(path):
                return original_get_code(self, fullname)
            return self.source_to_code(self.get_data(path), path)

        loader.source_to_code = source_to_code
        loader.get_code = get_code
    _COMPILED_ROOTS.add(os.path.join(str(root), ""))


@contextlib.contextmanager
def workbook_clock():
    original = ScriptDirectory._generate_create_date

    def fixed_date(self: ScriptDirectory) -> dt.datetime:
        return WORKBOOK_CLOCK + dt.timedelta(minutes=len(list(self.walk_revisions())))

    ScriptDirectory._generate_create_date = fixed_date
    try:
        yield
    finally:
        ScriptDirectory._generate_create_date = original


def _sorted_branches(config: Config, verbose: bool = False) -> None:
    """Show current branch points."""
    script = ScriptDirectory.from_config(config)
    for sc in script.walk_revisions():
        if sc.is_branch_point:
            children = (script.get_revision(rev) for rev in sorted(sc.nextrev))
            config.print_stdout(
                "%s\n%s\n",
                sc.cmd_format(verbose, include_branches=True),
                "\n".join(
                    f"{' ' * len(str(sc.revision))} -> "
                    f"{child.cmd_format(False, include_branches=True, include_doc=verbose)}"
                    for child in children
                ),
            )


@contextlib.contextmanager
def stable_order():
    """Print in revision order what alembic prints in set order.

    ``current`` with several heads iterates a set of scripts, ``branches`` a frozenset of
    ids: their order changes from run to run. Same lines, sorted.
    """
    from alembic import command

    original_current = ScriptDirectory.get_all_current
    original_branches = command.branches

    def get_all_current(self, id_):
        return sorted(original_current(self, id_), key=lambda script: script.revision)

    ScriptDirectory.get_all_current = get_all_current
    # The parser registers alembic.command's functions by name and module: keep both.
    command.branches = functools.wraps(original_branches)(_sorted_branches)
    try:
        yield
    finally:
        ScriptDirectory.get_all_current = original_current
        command.branches = original_branches


@contextlib.contextmanager
def one_line_warnings(stderr):
    """A warning as ``UserWarning: message`` (the default form shows a site-packages path)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            seen = set()
            for warning in caught:
                line = f"{warning.category.__name__}: {warning.message}\n"
                if line not in seen:
                    seen.add(line)
                    stderr.write(line)


@contextlib.contextmanager
def working_directory(path: Path):
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@contextlib.contextmanager
def interrupts_held():
    """Hold a Ctrl-C back until the block ends, then deliver it.

    For the undoing: a KeyboardInterrupt between two restoring steps would leave the
    kernel half restored (``sys.stdout`` still captured). Only the main thread receives
    signals; elsewhere, or where signals cannot be handled (a browser), nothing changes.
    """
    received = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(frame))
    except (ValueError, OSError, AttributeError):
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
        if received:
            if callable(previous):
                previous(signal.SIGINT, received[0])
            else:
                raise KeyboardInterrupt
