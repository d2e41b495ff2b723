"""Run the real ``alembic`` command line inside the kernel, against one project folder.

Why not ``!alembic``: a new process costs about a second of imports per command.
Why a worker thread: the async ``env.py`` calls ``asyncio.run()``, which refuses to run
inside the kernel's already running event loop; a fresh thread has no loop.

Each call starts from the same state whatever ran before it, so its output is what the
``alembic`` command would print, and the same on every run:
- logging is reset before and restored after (env.py's ``fileConfig`` reconfigures it);
- the project's own ``app`` package is imported fresh (edits to models are seen), and
  whatever ``app`` the kernel had is put back afterwards;
- new revision files get a fixed "workbook clock" for their dates, and ``merge`` gets the
  next readable id (``revision`` gets it from env.py's hook), unless ``--rev-id`` is given;
- absolute paths under the project are shown relative to it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import io
import logging
import os
import sys
import threading
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from alembic.config import CommandLine, Config
from alembic.script import ScriptDirectory

from workbook.text import one_line, relative

# New revisions made through the workbook are dated from here, a minute per revision.
WORKBOOK_CLOCK = dt.datetime(2024, 12, 9, 7, 30, tzinfo=dt.timezone.utc)
# Options of the alembic command line that take a value (to find the subcommand).
_OPTIONS_WITH_VALUE = {"-c", "--config", "-n", "--name", "-x"}


class _SharedConnection(dict):
    """``config.attributes`` whose "connection" is opened only when env.py asks for it.

    For a SQLite workspace the runner hands env.py a plain (sync) connection: the
    cookbook's connection sharing. It skips aiosqlite's thread hop per statement, which
    halves the time of an upgrade; commands that never connect open nothing.
    """

    def __init__(self, open_connection):
        super().__init__()
        self._open = open_connection
        self.connection = None

    def _ensure(self) -> None:
        if self.connection is None and "connection" not in self:
            connection = self._open()
            if connection is not None:
                self.connection = self["connection"] = connection

    def get(self, key, default=None):
        if key == "connection":
            self._ensure()
        return super().get(key, default)

    def __getitem__(self, key):
        if key == "connection":
            self._ensure()
        return super().__getitem__(key)


_ENGINES: dict[tuple, object] = {}


def _sqlite_connection():
    """A sync connection to the project's SQLite database, or None for other databases.

    The URL comes from the project's own ``app.core.config``, exactly as env.py gets it;
    anything unusual (an error, another database) is left to env.py to handle. Engines
    are kept per folder, URL and version of the project's ``app`` modules (see
    ``project_imports``): ``NullPool`` holds no connection, so a kept engine costs
    nothing, and it spares every command building and initialising a new one.
    """
    try:
        import sqlalchemy
        from app.core.config import get_settings
        from app.core.database import make_sqlite_transactional

        url = get_settings().database_url
    except Exception:
        return None
    if url.get_backend_name() != "sqlite":
        return None
    key = (os.getcwd(), url.render_as_string(hide_password=False), make_sqlite_transactional)
    engine = _ENGINES.get(key)
    if engine is None:
        if len(_ENGINES) > 16:
            _ENGINES.clear()
        engine = sqlalchemy.create_engine(url.set(drivername="sqlite"),
                                          poolclass=sqlalchemy.pool.NullPool)
        make_sqlite_transactional(engine)
        _ENGINES[key] = engine
    try:
        return engine.connect()
    except Exception:  # e.g. the file's folder is missing: env.py words the error
        return None


class _CommandLine(CommandLine):
    """alembic's CommandLine, with two differences that only the kernel needs.

    - Its Config prints to the *current* ``sys.stdout``: ``Config(stdout=sys.stdout)``
      binds the stream when alembic is imported, past the capture.
    - env.py is offered a shared SQLite connection (see ``_SharedConnection``).
    """

    def main(self, argv=None) -> None:
        options = self.parser.parse_args(argv)
        if not hasattr(options, "cmd"):
            self.parser.error("too few arguments")
        toml, ini = self._inis_from_config(options)
        config = Config(file_=ini, toml_file=toml, ini_section=options.name,
                        cmd_opts=options, stdout=sys.stdout)
        attributes = config.attributes = _SharedConnection(_sqlite_connection)
        try:
            self.run_cmd(config, options)
            if attributes.connection is not None:
                attributes.connection.commit()
        finally:
            if attributes.connection is not None:
                attributes.connection.close()  # without a commit: rolled back


_PARSER: list[_CommandLine] = []


def _command_line() -> _CommandLine:
    """One parser for the kernel's lifetime: building it costs more than most commands."""
    if not _PARSER:
        _PARSER.append(_CommandLine(prog="alembic"))
    return _PARSER[0]


class AlembicCommandError(Exception):
    """An alembic command failed; shown as alembic's own one-line ``FAILED:`` message."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.message = message
        self.details = details  # the full traceback, for the curious (workbook.last_error)

    def _render_traceback_(self) -> list[str]:  # IPython: show this instead of a traceback
        return [f"\x1b[31mFAILED:\x1b[0m {self.message}"]


@dataclass
class AlembicResult:
    argv: list[str]
    exit_code: int
    chunks: list[tuple[str, str]]  # ("stdout" | "stderr", text), in the order written
    error: str | None = None  # one-line message when the command failed
    details: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.error is None

    @property
    def stdout(self) -> str:
        return "".join(text for stream, text in self.chunks if stream == "stdout")

    @property
    def stderr(self) -> str:
        return "".join(text for stream, text in self.chunks if stream == "stderr")

    def replay(self) -> None:
        """Write the output to this process's stdout/stderr, interleaved as it came."""
        for stream, text in self.chunks:
            getattr(sys, stream).write(text)
        sys.stdout.flush()
        sys.stderr.flush()


class _Recorder(io.TextIOBase):
    """A text stream that records what is written to it, tagged with the stream's name."""

    def __init__(self, name: str, chunks: list[tuple[str, str]]):
        self.name, self.chunks = name, chunks

    @property
    def encoding(self) -> str:  # alembic encodes messages with the stream's encoding
        return "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.chunks.append((self.name, text))
        return len(text)


def subcommand(argv: list[str]) -> str | None:
    """The alembic subcommand in ``argv`` (``["-x", "a=1", "merge", ...]`` -> ``"merge"``)."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in _OPTIONS_WITH_VALUE:
            skip = True
        elif not token.startswith("-"):
            return token
    return None


def next_revision_id(project_dir: Path) -> str:
    """One more than the highest numeric revision id (``0001`` for an empty history)."""
    script = ScriptDirectory.from_config(Config(str(project_dir / "alembic.ini")))
    numbers = [int(r.revision) for r in script.walk_revisions() if r.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


def with_readable_merge_id(argv: list[str], project_dir: Path) -> list[str]:
    if subcommand(argv) != "merge" or any(a.startswith("--rev-id") for a in argv):
        return argv
    if not (project_dir / "alembic.ini").exists():
        return argv
    return [*argv, "--rev-id", next_revision_id(project_dir)]


@contextlib.contextmanager
def isolated_logging():
    """Start with no handlers (as a fresh process has) and put everything back afterwards."""
    manager = logging.Logger.manager
    loggers = [logging.root] + [
        lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    saved = {lg: (lg.level, list(lg.handlers), lg.propagate, lg.disabled) for lg in loggers}
    logging.root.handlers = []
    try:
        yield
    finally:
        for lg in [logging.root] + [
            lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger)
        ]:
            if lg in saved:
                lg.level, handlers, lg.propagate, lg.disabled = saved[lg]
                lg.handlers = handlers
            else:  # created during the call (e.g. by env.py): leave it quiet
                lg.handlers = []
                lg.level = logging.NOTSET


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


class _Imports:
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

    key = str(project_dir.resolve())
    fingerprint = _app_fingerprint(project_dir) if reuse else b""
    stashed = {name: sys.modules.pop(name) for name in local_names()}
    cached = _PROJECT_MODULES.pop(key, None) if reuse else None
    if cached and cached[0] == fingerprint:
        sys.modules.update(cached[1])
    saved_path = list(sys.path)
    saved_bytecode = sys.dont_write_bytecode
    guard = _ProjectPackagesOnly(project_dir)
    sys.meta_path.insert(0, guard)
    sys.path.insert(0, str(project_dir))
    sys.dont_write_bytecode = True  # an edit within the same second must not hit a stale .pyc
    importlib.invalidate_caches()
    state = _Imports()
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
        sys.dont_write_bytecode = saved_bytecode


_COMPILED: dict[tuple[str, bytes], object] = {}
_COMPILED_ROOTS: set[str] = set()


def cache_compiled_code(root: Path) -> None:
    """Compile each version of every Python file under ``root`` once per kernel.

    Project files are imported without bytecode files (a same-size edit within a second
    would look unchanged to them), and alembic loads every revision script on every
    command, so the same sources were compiled again and again. Keyed by the source bytes
    themselves, the cache can never be stale; files elsewhere are left alone.
    """
    if not _COMPILED_ROOTS:
        loader = importlib.machinery.SourceFileLoader
        original = loader.source_to_code

        def source_to_code(self, data, path, *args, **kwargs):
            if not str(path).startswith(tuple(_COMPILED_ROOTS)):
                return original(self, data, path, *args, **kwargs)
            key = (str(path), hashlib.blake2b(data, digest_size=16).digest())
            if key not in _COMPILED:
                _COMPILED[key] = original(self, data, path, *args, **kwargs)
            return _COMPILED[key]

        loader.source_to_code = source_to_code
    _COMPILED_ROOTS.add(os.path.join(str(root), ""))


@contextlib.contextmanager
def _workbook_clock():
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
                    "%s -> %s" % (" " * len(str(sc.revision)),
                                  child.cmd_format(False, include_branches=True,
                                                   include_doc=verbose))
                    for child in children
                ),
            )


@contextlib.contextmanager
def _stable_order():
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
def _one_line_warnings(stderr):
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


def run_alembic(project_dir: Path, argv: list[str]) -> AlembicResult:
    """Run ``alembic *argv`` with ``project_dir`` as working directory; capture everything."""
    project_dir = Path(project_dir)
    cache_compiled_code(project_dir)
    argv = with_readable_merge_id(list(argv), project_dir)
    chunks: list[tuple[str, str]] = []
    stdout, stderr = _Recorder("stdout", chunks), _Recorder("stderr", chunks)
    outcome: dict = {"exit_code": 0, "error": None, "details": ""}

    def target() -> None:
        with contextlib.ExitStack() as stack:
            stack.enter_context(working_directory(project_dir))
            stack.enter_context(contextlib.redirect_stdout(stdout))
            stack.enter_context(contextlib.redirect_stderr(stderr))
            stack.enter_context(isolated_logging())
            imports = stack.enter_context(project_imports(project_dir, reuse=True))
            stack.enter_context(_workbook_clock())
            stack.enter_context(_stable_order())
            stack.enter_context(_one_line_warnings(stderr))
            try:
                _command_line().main(argv=argv)
            except SystemExit as exit_:
                code = exit_.code
                outcome["exit_code"] = code if isinstance(code, int) else (0 if code is None else 1)
                imports.keep = outcome["exit_code"] == 0
            except BaseException as error:  # a failed migration, a broken model file, ...
                imports.keep = False
                outcome["exit_code"] = 1
                outcome["error"] = one_line(error)
                outcome["details"] = "".join(traceback.format_exception(error))

    thread = threading.Thread(target=target, name="alembic")
    thread.start()
    thread.join()

    merged = _merge_chunks(chunks)
    merged = [(stream, relative(text, project_dir)) for stream, text in merged]
    error = outcome["error"]
    if error is None and outcome["exit_code"] != 0:
        error = _failure_message(merged)
    if error:
        error = relative(error, project_dir)
        merged = [(stream, _without_message(text, error)) for stream, text in merged]
        merged = [(stream, text) for stream, text in merged if text]
    return AlembicResult(argv, outcome["exit_code"], merged, error,
                         relative(outcome["details"], project_dir))


def _merge_chunks(chunks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Join neighbouring writes to the same stream (then lines stay whole)."""
    merged: list[tuple[str, str]] = []
    for stream, text in chunks:
        if merged and merged[-1][0] == stream:
            merged[-1] = (stream, merged[-1][1] + text)
        else:
            merged.append((stream, text))
    return merged


def _failure_message(chunks: list[tuple[str, str]]) -> str:
    """alembic prints ``FAILED: <message>``; argparse prints ``alembic: error: <message>``."""
    lines = [line for _stream, text in chunks for line in text.splitlines()]
    for line in lines:
        if line.startswith("FAILED: "):
            return line[len("FAILED: "):]
    for line in lines:
        if line.startswith("alembic: error: "):
            return line[len("alembic: "):]
    return "the command failed"


def _without_message(text: str, message: str) -> str:
    """Drop the lines that only repeat the failure message (it is shown once, as FAILED)."""
    repeats = {f"FAILED: {message}", message, f"ERROR [alembic.util.messaging] {message}",
               f"alembic: {message}"}
    kept = [line for line in text.splitlines(keepends=True) if line.rstrip("\n") not in repeats]
    return "".join(kept)
