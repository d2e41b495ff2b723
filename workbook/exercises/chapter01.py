"""Chapter 01 · Initialize and configure: the database URL, and env.py inside an event loop.

Both exercises work in a workspace of their own (``01_init_and_configure-qN``), so that
the lesson's project ends as lesson 02 starts: its ``.env`` and ``env.py`` untouched.
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import gc
import io
import threading
import warnings
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from workbook.exercises import Correct, Exercise, Incorrect, NotAttempted, Result
from workbook.exercises.core import Edit, Note, Problem, Write
from workbook.exercises.inspect import Scratch, env_values
from workbook.exercises.practice import practice_workspace, setup_first
from workbook.runner import isolated_logging, project_imports, working_directory
from workbook.stages import REPO_ROOT
from workbook.text import one_line
from workbook.workspace import Workspace, masked

DEFAULT_URL = "sqlite+aiosqlite:///app.db"
INIT_PLACEHOLDER_URL = "driver://user:pass@localhost/dbname"  # what `alembic init` writes


# -- q1: DATABASE_URL in .env -------------------------------------------------------------
class DatabaseUrl(Exercise):
    title = "Point the workspace at library.db"
    hints = [
        "env.py does not read a URL from `alembic.ini`: it asks `app.core.config`, which "
        "reads `DATABASE_URL` from the environment or from the `.env` file.",
        "Edit the one line of `.env`. The async env.py needs an async driver: for SQLite "
        "that is `sqlite+aiosqlite`.",
        "A relative SQLite path (three slashes) is anchored to the project folder: "
        "`DATABASE_URL=sqlite+aiosqlite:///library.db`.",
    ]
    solution_intro = "Replace the URL in `.env` (alembic.ini keeps no URL at all):"
    solution_steps = [
        Write(".env", "DATABASE_URL=sqlite+aiosqlite:///library.db\n"),
        Note(
            "`%alembic upgrade head` now creates `library.db` (with Alembic's "
            "`alembic_version` table only: there are no revisions yet); `app.db` is left alone."
        ),
    ]

    def _setup(self, workspace: Workspace) -> str:
        # stage "models": the workbook's env.py imports app.models, so %alembic works here
        workspace = practice_workspace(workspace, "q1", stage="models")
        return (
            f"workspace {workspace.name!r} (Alembic configured, `.env` as in the lesson, "
            "lesson 02's models) is active; run `q1.setup()` again to start over"
        )

    def _check(self, workspace: Workspace, *answer) -> Result:
        ini = _ini_url(workspace.path / "alembic.ini")
        if ini:
            return Incorrect(
                "keep the URL out of alembic.ini: remove `sqlalchemy.url` from "
                "it (a URL with a password does not belong in git) and put "
                "`DATABASE_URL=...` in `.env`; env.py reads it from there."
            )
        if not (workspace.path / ".env").exists():
            return Incorrect(
                "there is no `.env` file in the workspace: create it with one "
                "line, `DATABASE_URL=...`."
            )
        raw = env_values(workspace).get("DATABASE_URL", "").strip()
        if not raw:
            return Incorrect(
                "`.env` has no `DATABASE_URL=` line: app.core.config (and so "
                "env.py) reads that variable."
            )
        if raw == DEFAULT_URL:
            if not workspace.name.endswith("-q1"):
                return NotAttempted(
                    "run `q1.setup()` first: it gives the exercise a workspace of its own."
                )
            return NotAttempted("`.env` still says `DATABASE_URL=sqlite+aiosqlite:///app.db`.")
        try:
            url = make_url(raw)
        except (ArgumentError, ValueError):
            return Incorrect(
                f"`{masked(raw)}` is not a database URL: it should look like "
                "`sqlite+aiosqlite:///file.db`."
            )
        if url.get_backend_name() != "sqlite":
            return Incorrect(
                f"`{masked(raw)}` is not a SQLite URL: the exercise wants the file "
                "`library.db`, e.g. `sqlite+aiosqlite:///library.db`."
            )
        try:
            is_async = getattr(url.get_dialect(), "is_async", False)
        except NoSuchModuleError:
            return Incorrect(
                f"`{url.drivername}` is not a driver SQLAlchemy knows: use `sqlite+aiosqlite`."
            )
        if not is_async:
            return Incorrect(
                f"`{url.drivername}` is a sync driver: the async env.py needs "
                "sqlite+aiosqlite (`sqlite+aiosqlite:///library.db`)."
            )
        if not url.database or url.database == ":memory:":
            return Incorrect(
                "the URL names no database file: add `/library.db` after the three slashes."
            )
        path = Path(url.database)
        if path.is_absolute() or path.parts[:1] == ("~",):
            resolved = path.expanduser()
        else:
            resolved = workspace.path / path
        wanted = workspace.path / "library.db"
        if resolved.resolve() != wanted.resolve():
            shown = path.name if path.is_absolute() else url.database
            if path.name == "library.db":
                return Incorrect(
                    f"`{shown}` is a library.db, but not the one in the workspace "
                    "folder: a relative path (`sqlite+aiosqlite:///library.db`) is "
                    "anchored there."
                )
            return Incorrect(f"the URL points at `{shown}`, not `library.db`.")
        return Correct(
            "DATABASE_URL in `.env` points the async engine at `library.db` in the "
            "workspace folder, and alembic.ini stays free of URLs."
        )


def _ini_url(path: Path) -> str:
    """``sqlalchemy.url`` of the ``[alembic]`` section ("" when absent or empty)."""
    if not path.exists():
        return ""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path)
    except configparser.Error:
        raise Problem(
            "alembic.ini does not parse: check its [sections] and `key = value` lines"
        ) from None
    url = parser.get("alembic", "sqlalchemy.url", fallback="").strip()
    return "" if url == INIT_PLACEHOLDER_URL else url


# -- q2: env.py inside a running event loop -----------------------------------------------
GUIDE_ENV_PY = '''\
"""The guide's async env.py: it always starts its own event loop with asyncio.run()."""

import asyncio
from logging.config import fileConfig

from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from alembic import context

from app.core.config import get_settings
from app.models import Base

config = context.config

if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Run migrations in 'offline' mode."""
    context.configure(
        url=get_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )

    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)

    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    """Create an async engine and run the migrations on one of its connections."""
    connectable = async_engine_from_config(
        {"sqlalchemy.url": get_settings().database_url},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )

    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)

    await connectable.dispose()


def run_migrations_online() -> None:
    """Run migrations in 'online' mode."""
    asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

_GUIDE_ONLINE = '''\
def run_migrations_online() -> None:
    """Run migrations in 'online' mode."""
    asyncio.run(run_async_migrations())
'''

_FIXED_ONLINE = '''\
def run_migrations_online() -> None:
    """Run migrations in 'online' mode.

    A caller that already has a connection (a test, a notebook) hands it in as
    config.attributes["connection"]: use it, because asyncio.run() cannot start a
    second event loop inside a running one. Without one, start the loop as before.
    """
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(run_async_migrations())
    else:
        do_run_migrations(connection)
'''

RUNNING_LOOP = "asyncio.run() cannot be called from a running event loop"


def _in_worker_thread(project: Path, work) -> str | None:
    """Run ``work()`` as the workbook's runner runs alembic: in a fresh thread (no event
    loop), in the project folder, with its own ``app`` imported fresh, logging isolated and
    output captured. Returns None, or the one-line error."""
    outcome: dict[str, str | None] = {"error": None}
    sink = io.StringIO()

    def target() -> None:
        with contextlib.ExitStack() as stack:
            stack.enter_context(working_directory(project))
            stack.enter_context(contextlib.redirect_stdout(sink))
            stack.enter_context(contextlib.redirect_stderr(sink))
            stack.enter_context(isolated_logging())
            stack.enter_context(project_imports(project))
            stack.enter_context(warnings.catch_warnings())
            warnings.simplefilter("ignore")  # "coroutine ... was never awaited", and friends
            try:
                work(sink)
            except BaseException as error:  # noqa: BLE001 - reported, never raised
                outcome["error"] = one_line(error, project)
            gc.collect()  # a never-awaited coroutine warns here, while warnings are ignored

    thread = threading.Thread(target=target, name="alembic-check")
    thread.start()
    thread.join()
    return outcome["error"]


def upgrade_inside_event_loop(project: Path) -> str | None:
    """``upgrade head`` the cookbook's way, from inside a running event loop.

    An async engine opens the project's ``app.db``; the sync side of its connection is
    handed to env.py as ``config.attributes["connection"]``.
    """
    from alembic.config import Config
    from sqlalchemy.ext.asyncio import create_async_engine

    from alembic import command

    def work(sink) -> None:
        def upgrade(sync_connection) -> None:
            config = Config(str(project / "alembic.ini"), stdout=sink)
            config.attributes["connection"] = sync_connection
            command.upgrade(config, "head")

        async def main() -> None:
            engine = create_async_engine(f"sqlite+aiosqlite:///{project / 'app.db'}")
            try:
                async with engine.begin() as connection:
                    await connection.run_sync(upgrade)
            finally:
                await engine.dispose()

        asyncio.run(main())

    return _in_worker_thread(project, work)


def current_without_connection(project: Path) -> str | None:
    """``alembic current`` as the command line runs it: no connection handed in, no loop.

    (The workbook's ``%alembic`` hands env.py a shared connection, so it cannot tell
    whether env.py still works on its own.)
    """
    from alembic.config import Config

    from alembic import command

    def work(sink) -> None:
        command.current(Config(str(project / "alembic.ini"), stdout=sink))

    return _in_worker_thread(project, work)


class EnvPyInEventLoop(Exercise):
    title = "Make env.py work inside a running event loop"
    hints = [
        "`asyncio.run()` refuses to start while another event loop runs in the same thread. "
        "A caller that already has a connection can pass it to Alembic through "
        "`config.attributes`.",
        'In `run_migrations_online()`, read `config.attributes.get("connection")`. When '
        "there is one, there is no need for an event loop at all.",
        "With a connection: `do_run_migrations(connection)`. Without (the `alembic` command "
        "line): `asyncio.run(run_async_migrations())`, as before.",
    ]
    solution_intro = (
        "This is the Alembic cookbook's connection sharing. Replace "
        "`run_migrations_online()` in `alembic/env.py`:"
    )
    solution_steps = [
        Edit("alembic/env.py", _GUIDE_ONLINE, _FIXED_ONLINE),
        Note("A test inside an event loop now runs the migrations on its own connection:"),
        Note(
            "```python\nasync with engine.begin() as conn:\n    await conn.run_sync(upgrade)"
            '  # upgrade() sets config.attributes["connection"]\n```'
        ),
    ]

    def _setup(self, workspace: Workspace) -> str:
        # stage "models": the guide's env.py imports app.models
        workspace = practice_workspace(workspace, "q2", stage="models")
        workspace.write("alembic/env.py", GUIDE_ENV_PY)
        return (
            f"workspace {workspace.name!r} (Alembic configured, lesson 02's models) is "
            "active; its alembic/env.py is the guide's version, which always calls "
            "asyncio.run(). Run `q2.setup()` again to start over"
        )

    def _check(self, workspace: Workspace, *answer) -> Result:
        env_py = workspace.path / "alembic" / "env.py"
        if not env_py.exists():
            return Incorrect(
                "there is no alembic/env.py: run `q2.setup()` to get the guide's version back."
            )
        text = env_py.read_text()
        if text == (REPO_ROOT / "alembic" / "env.py").read_text():
            return NotAttempted(
                "run `q2.setup()` first: it puts the guide's env.py into the workspace."
            )
        if text == GUIDE_ENV_PY:
            return NotAttempted(
                "alembic/env.py is still the guide's version: "
                "`run_migrations_online()` always calls `asyncio.run()`."
            )
        result = self._run_env_py(workspace)
        if not isinstance(result, Correct) and setup_first(workspace, "q2"):
            return NotAttempted(
                "this is not the exercise's workspace: run `q2.setup()` first: it builds "
                "one with the guide's env.py."
            )
        return result

    def _run_env_py(self, workspace: Workspace) -> Result:
        with Scratch(workspace) as scratch:
            error = upgrade_inside_event_loop(scratch.path)
            if error is not None:
                if RUNNING_LOOP in error:
                    return Incorrect(
                        "env.py still calls asyncio.run() even when a connection "
                        "is given: inside a running event loop that fails. Use "
                        '`config.attributes.get("connection")` when it is there.'
                    )
                return Incorrect(
                    f"inside a running event loop, `upgrade head` with a "
                    f"connection handed in failed: {error}"
                )
            error = current_without_connection(scratch.path)
            if error is not None:
                return Incorrect(
                    f"the command line broke: without a connection handed in, "
                    f"`alembic current` fails with {error}. Keep asyncio.run() "
                    "for when no connection is given."
                )
        return Correct(
            "env.py uses a connection handed in through `config.attributes`, and "
            "still starts its own event loop for the command line."
        )


q1 = DatabaseUrl()
q2 = EnvPyInEventLoop()
