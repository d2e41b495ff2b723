"""Run the real ``alembic`` command line inside the kernel, against one project folder.

Why not ``!alembic``: a new process costs about a second of imports per command.
Why on the kernel's own thread: Ctrl-C reaches the command (a signal goes to the main
thread only) and stops it where it is, the transaction rolls back, and nothing runs on
behind the learner's back; and a browser kernel (Pyodide) has no threads at all.
Why a helper thread all the same, sometimes: an async env.py calls ``asyncio.run()``,
which refuses to run inside the kernel's already running event loop. For a SQLite
project the runner hands env.py a shared sync connection instead (the Alembic
cookbook's connection sharing), so the workbook's env.py never calls it; env.py's that
still do (a server URL, the stock ``init -t async`` template) get their coroutine run
in a thread of its own, which Ctrl-C cancels.

Each call starts from the same state whatever ran before it, so its output is what the
``alembic`` command would print, and the same on every run (see ``workbook.isolation``):
- logging is reset before and restored after (env.py's ``fileConfig`` reconfigures it);
- the project's own ``app`` package is imported fresh (edits to models are seen), and
  whatever ``app`` the kernel had is put back afterwards; project sources are never read
  from a ``.pyc`` (an edit within the same second would not be seen);
- new revision files get a fixed "workbook clock" for their dates, and ``merge`` gets the
  next readable id (``revision`` gets it from env.py's hook), unless ``--rev-id`` is given;
  a ``merge`` of fewer than two revisions is refused in one line (alembic would quietly
  write an ordinary revision), and so is a ``--rev-id`` the history already has (alembic
  would write a second file with that id, after which every command fails with "Self-loop
  is detected in revisions");
- absolute paths under the project are shown relative to it.
Whatever happens (a failure, Ctrl-C, a Ctrl-C during the undoing), the kernel gets back
its own output streams, logging and modules; one command runs at a time, and a second one
meanwhile is refused in one line rather than run over the first one's captures.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shlex
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from alembic.config import CommandLine, Config
from alembic.script import ScriptDirectory

from workbook import transcript
from workbook.asyncio_bridge import asyncio_run_beside_a_running_loop
from workbook.isolation import (  # noqa: F401  (cache_compiled_code: used by the workspace)
    WORKBOOK_CLOCK,
    cache_compiled_code,
    interrupts_held,
    isolated_logging,
    one_line_warnings,
    project_imports,
    stable_order,
    workbook_clock,
    working_directory,
)
from workbook.text import one_line, relative

# Options of the alembic command line that take a value (to find the subcommand).
_OPTIONS_WITH_VALUE = {"-c", "--config", "-n", "--name", "-x"}
# Children of the kernel (`!alembic`) print tracebacks without colour codes: Python 3.13+
# colours them on a terminal, and IPython's `!` is one.
os.environ.setdefault("PYTHON_COLORS", "0")


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


def _sqlite_engine():
    """A sync engine for the project's SQLite database, or None for other databases.

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
        engine = sqlalchemy.create_engine(
            url.set(drivername="sqlite"), poolclass=sqlalchemy.pool.NullPool
        )
        make_sqlite_transactional(engine)
        _ENGINES[key] = engine
    return engine


def _sqlite_connection():
    engine = _sqlite_engine()
    if engine is None:
        return None
    try:
        return engine.connect()
    except Exception:  # e.g. the file's folder is missing: env.py words the error
        return None


def _recorded_heads() -> str | None:
    """The revisions the project's SQLite database records, as words; None if unknown.

    Read with plain SQL: alembic's MigrationContext would log, into the command's output.
    """
    import sqlalchemy

    engine = _sqlite_engine()
    database = engine.url.database if engine is not None else None
    if not database or not os.path.exists(database):
        return None
    try:
        with engine.connect() as connection:
            if not sqlalchemy.inspect(connection).has_table("alembic_version"):
                return "base (no revision)"
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            heads = sorted(row[0] for row in rows)
    except Exception:
        return None
    return " and ".join(heads) or "base (no revision)"


@dataclass
class _Run:
    """What one command did, as far as the runner can tell."""

    argv: list[str]
    exit_code: int = 0
    error: str | None = None
    details: str = ""
    interrupted: bool = False
    shared_connection: bool = False  # env.py used the runner's connection
    committed: bool = False
    heads: str | None = None  # after an interrupt


class _CommandLine(CommandLine):
    """alembic's CommandLine, with two differences that only the kernel needs.

    - Its Config prints to the *current* ``sys.stdout``: ``Config(stdout=sys.stdout)``
      binds the stream when alembic is imported, past the capture.
    - env.py is offered a shared SQLite connection (see ``_SharedConnection``).
    """

    def main(self, argv=None, run: _Run | None = None) -> None:
        run = run or _Run([])
        options = self.parser.parse_args(argv)
        if not hasattr(options, "cmd"):
            self.parser.error("too few arguments")
        toml, ini = self._inis_from_config(options)
        config = Config(
            file_=ini, toml_file=toml, ini_section=options.name, cmd_opts=options, stdout=sys.stdout
        )
        attributes = config.attributes = _SharedConnection(_sqlite_connection)
        try:
            self.run_cmd(config, options)
            if attributes.connection is not None:
                attributes.connection.commit()
                run.committed = True
        finally:
            if attributes.connection is not None:
                run.shared_connection = True
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
    interrupted: bool = False  # stopped by Ctrl-C; ``error`` says where it left the database

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

    def show(self) -> None:
        """Show the output as a terminal orders it; in a notebook, the log quietly."""
        transcript.show(self.chunks)


class AlembicInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped an alembic command; ``str()`` says what became of the database.

    A KeyboardInterrupt, so that a script or a loop around the command stops too.
    """

    def __init__(self, result: AlembicResult):
        super().__init__(result.error)
        self.result = result

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31mInterrupted:\x1b[0m {self}"]


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


def next_revision_id(script: ScriptDirectory) -> str:
    """One more than the highest numeric revision id of ``script``'s history (``0001`` for
    an empty one)."""
    numbers = [int(r.revision) for r in script.walk_revisions() if r.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


def split_command_line(line: str) -> list[str]:
    """``line`` split as a shell would; ``ValueError`` with a one-line remedy if it cannot be.

    The usual cause is an apostrophe in an unquoted message (``-m don't``).
    """
    try:
        return shlex.split(line)
    except ValueError as error:
        for option in (" -m ", " --message "):
            before, found, message = line.partition(option)
            if found and '"' not in message:
                example = f'{before}{option}"{message.strip()}"'.strip()
                raise ValueError(
                    f"{error}: put a message with an apostrophe in double quotes, "
                    f"as in a terminal: {example}"
                ) from None
        raise ValueError(
            f"{error}: quotes come in pairs; put text holding an apostrophe "
            'in double quotes ("don\'t")'
        ) from None


# The command running now, and (the "done" events of) helper threads a Ctrl-C left ending.
_RUNNING: list[str] = []
_ENDING: list = []


def _refusal() -> str | None:
    _ENDING[:] = [done for done in _ENDING if not done.is_set()]
    if _ENDING:
        return (
            "an interrupted command is still ending in the background (it waits for the "
            "database); run this again in a moment, or restart the kernel"
        )
    if _RUNNING:
        return (
            f"another alembic command ({_RUNNING[0]}) is still running in this kernel; "
            "run this one after it"
        )
    return None


def _run_command(project_dir: Path, argv: list[str], chunks: list, run: _Run) -> None:
    """The command itself, on this thread, inside everything that isolates it."""
    stdout, stderr = transcript.Recorder("stdout", chunks), transcript.Recorder("stderr", chunks)
    stack = contextlib.ExitStack()
    try:
        stack.enter_context(working_directory(project_dir))
        stack.enter_context(contextlib.redirect_stdout(stdout))
        stack.enter_context(contextlib.redirect_stderr(stderr))
        stack.enter_context(isolated_logging())
        imports = stack.enter_context(project_imports(project_dir, reuse=True))
        stack.enter_context(workbook_clock())
        stack.enter_context(stable_order())
        stack.enter_context(one_line_warnings(stderr))
        stack.enter_context(asyncio_run_beside_a_running_loop(_ENDING))
        try:
            _command_line().main(argv=argv, run=run)
        except SystemExit as exit_:
            code = exit_.code
            run.exit_code = code if isinstance(code, int) else (0 if code is None else 1)
            imports.keep = run.exit_code == 0
        except (KeyboardInterrupt, asyncio.CancelledError):
            imports.keep = False
            run.interrupted = True
            run.heads = _recorded_heads()
        except BaseException as error:  # a failed migration, a broken model file, ...
            imports.keep = False
            run.exit_code = 1
            run.error = one_line(error)
            run.details = "".join(traceback.format_exception(error))
    finally:
        with interrupts_held():
            stack.close()


def _interrupted_message(run: _Run) -> str:
    name = subcommand(run.argv) or "the command"
    if run.committed:
        return f"{name} had finished; the database is at {run.heads or 'its new revision'}."
    if run.shared_connection:
        where = f"; the database is still at {run.heads}" if run.heads else ""
        return f"{name} stopped and rolled back{where}."
    return f"{name} stopped" + (f"; the database is at {run.heads}." if run.heads else ".")


def _no_terminal_editor(argv: list[str]) -> str | None:
    """``alembic edit`` starts $EDITOR in a terminal: in a kernel it has none and would wait
    for ever, holding the kernel."""
    if subcommand(argv) != "edit":
        return None
    return (
        "edit opens a terminal editor, and a notebook has no terminal: open the file in "
        "JupyterLab's editor instead (ws.revision_file('head') gives its path)"
    )


def _options_and_history(argv: list[str], project_dir: Path):
    """``argv`` parsed, and the history it acts on (its ``-c``, ``-n``) as alembic would
    load it; None for a usage error or a history that does not load: alembic words those,
    in the command's own run (argparse prints its usage and exits; a broken history warns).
    """
    try:
        with (
            contextlib.redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
            working_directory(project_dir),
        ):
            warnings.simplefilter("ignore")
            options = _command_line().parser.parse_args(argv)
            toml, ini = _command_line()._inis_from_config(options)
            config = Config(file_=ini, toml_file=toml, ini_section=options.name)
            script = ScriptDirectory.from_config(config)
            script.revision_map.heads  # noqa: B018 - loads every revision file now
            return options, script
    except (Exception, SystemExit):  # noqa: BLE001 - argparse exits on a usage error
        return None


def _checked_before_writing(argv: list[str], project_dir: Path) -> tuple[str | None, list[str]]:
    """``(why refused, argv to run)`` for ``revision``/``merge``: the refusal (or None) of
    the two checks below, and a merge without ``--rev-id`` given the next number. The
    command line is parsed and the history loaded once, for all three."""
    command = subcommand(argv)
    with_rev_id = any(a.startswith("--rev-id") for a in argv)
    if command not in {"revision", "merge"} or (command == "revision" and not with_rev_id):
        return None, argv
    parsed = _options_and_history(argv, project_dir)
    if parsed is None:
        return None, argv
    if command == "merge" and (refused := _nothing_to_merge(*parsed)):
        return refused, argv
    if with_rev_id:
        return _rev_id_taken(*parsed, project_dir), argv
    return None, [*argv, "--rev-id", next_revision_id(parsed[1])]  # a readable merge id


def _nothing_to_merge(options, script: ScriptDirectory) -> str | None:
    """``alembic merge`` of fewer than two revisions (one head, or none yet) writes an
    ordinary revision, silently: a learner expects a merge. Said in one line instead;
    anything else about the command (a usage error, a broken history) is left to alembic."""
    revisions = options.revisions
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = [s.revision for s in script.get_revisions(revisions) if s is not None]
    except Exception:  # noqa: BLE001 - an unknown revision: alembic says which
        return None
    if len(found) > 1:
        return None
    plain = (
        f"`{' '.join(revisions)}` is one revision ({found[0]}); Alembic would still write "
        "an ordinary revision on top of it"
        if found
        else "there are no revisions yet; Alembic would still write a first revision, "
        "with no parent"
    )
    return (
        f"nothing to merge: {plain}, not a merge. Merge when `%alembic heads` lists two or "
        "more (a plain new revision: `%alembic revision -m ...`)"
    )


def _rev_id_taken(options, script: ScriptDirectory, project_dir: Path) -> str | None:
    """``revision`` or ``merge`` with a ``--rev-id`` the history already has: alembic would
    write a second file with that id (a revision whose parent is itself), and from then on
    every command fails ("Self-loop is detected in revisions"). Refused in one line, before
    anything is written, naming the file that has the id."""
    try:
        taken = next(s for s in script.walk_revisions() if s.revision == options.rev_id)
    except Exception:  # noqa: BLE001 - a new id (StopIteration), or a history alembic words
        return None
    return (
        f"revision id {options.rev_id} is taken: {relative(str(taken.path), project_dir)} has "
        "it. Pick another --rev-id (or leave it out for a new id), or delete that file first "
        "if you mean to replace it"
    )


def run_alembic(project_dir: Path, line: str | list[str], *, show: bool = False) -> AlembicResult:
    """Run ``alembic <line>`` with ``project_dir`` as working directory; capture everything.

    ``line``: the words after ``alembic`` (``"upgrade head"``, or already split).
    ``show``: also show the output (``AlembicResult.show``), even when interrupted.
    Returns the result, whose ``error`` is one line when the command failed or could not
    start. Raises ``AlembicInterrupted`` (a KeyboardInterrupt) after a Ctrl-C, once the
    command is stopped, rolled back where the runner holds its transaction, and the
    kernel restored.
    """
    project_dir = Path(project_dir)
    try:
        argv = split_command_line(line) if isinstance(line, str) else list(line)
    except ValueError as error:
        return AlembicResult([], 2, [], str(error))
    refusal = _refusal() or _no_terminal_editor(argv)
    if refusal:
        return AlembicResult(argv, 1, [], refusal)
    chunks: list[tuple[str, str]] = []
    run = _Run(argv)
    _RUNNING.append(shlex.join(["alembic", *argv]))
    try:
        cache_compiled_code(project_dir)
        refused, checked = _checked_before_writing(argv, project_dir)
        if refused:
            return AlembicResult(argv, 1, [], refused)
        run.argv = argv = checked
        _run_command(project_dir, argv, chunks, run)
    except KeyboardInterrupt:  # before the command began, or during the undoing
        run.interrupted = True
    finally:
        _RUNNING.clear()
    result = _result(project_dir, chunks, run)
    if show:
        result.show()
    if result.interrupted:
        raise AlembicInterrupted(result)
    return result


def _result(project_dir: Path, chunks: list, run: _Run) -> AlembicResult:
    merged = transcript.merge_chunks(chunks)
    merged = [(stream, relative(text, project_dir)) for stream, text in merged]
    error = run.error
    if run.interrupted:
        error = _interrupted_message(run)
    elif error is None and run.exit_code != 0:
        error = _failure_message(merged)
    if error and not run.interrupted:
        error = relative(error, project_dir)
        merged = [(stream, _without_message(text, error)) for stream, text in merged]
        merged = [(stream, text) for stream, text in merged if text]
    return AlembicResult(
        run.argv,
        130 if run.interrupted else run.exit_code,
        merged,
        error,
        relative(run.details, project_dir),
        run.interrupted,
    )


def _failure_message(chunks: list[tuple[str, str]]) -> str:
    """alembic prints ``FAILED: <message>``; argparse ``alembic[ <command>]: error: <message>``."""
    lines = [line for _stream, text in chunks for line in text.splitlines()]
    for line in lines:
        if line.startswith("FAILED: "):
            return line[len("FAILED: ") :]
    for line in lines:
        if line.startswith("alembic: error: "):
            return line[len("alembic: ") :]
        words = line.split(" ", 2)
        if words[0] == "alembic" and len(words) == 3 and words[2].startswith("error: "):
            return line[len("alembic ") :]  # a subcommand's parser: "downgrade: error: ..."
    return "the command failed"


def _without_message(text: str, message: str) -> str:
    """Drop the lines that only repeat the failure message (it is shown once, as FAILED)."""
    repeats = {
        f"FAILED: {message}",
        message,
        f"ERROR [alembic.util.messaging] {message}",
        f"alembic: {message}",
        f"alembic {message}",
    }
    kept = [line for line in text.splitlines(keepends=True) if line.rstrip("\n") not in repeats]
    return "".join(kept)
