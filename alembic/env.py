"""Async migration environment: the guide's env.py, corrected for SQLite, Jupyter and tests.

What it adds to the guide's version, and why:
- The URL comes from ``app.core.config`` (DATABASE_URL, .env, or a SQLite file); a bad
  URL or an unreachable server ends in one ``FAILED:`` line, never a password.
- A connection handed in as ``config.attributes["connection"]`` is used as it is (the
  Alembic cookbook's connection sharing): ``asyncio.run`` cannot run inside an event loop
  that is already running, such as a Jupyter kernel's or a test runner's.
- On SQLite: batch mode (SQLite cannot ALTER constraints), and real transactions around
  DDL, so a migration that fails halfway leaves nothing behind.
- New revisions get readable sequential ids (0001, 0002, ...) unless ``--rev-id`` is given.
"""

import asyncio
from logging.config import fileConfig

from alembic import context
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_engine_from_config

from app.core.config import ConfigError, get_settings
from app.core.database import make_sqlite_transactional
from app.models import Base

config = context.config

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    # Keep other loggers (pytest's, the notebook's) alive.
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url():
    """The configured URL, or a one-line CommandError naming the variable."""
    try:
        return get_settings().database_url
    except ConfigError as error:
        raise CommandError(str(error)) from None


def number_revisions(context, revision, directives) -> None:
    """Name new revisions 0001, 0002, ... (readable, and stable across runs)."""
    cmd_opts = config.cmd_opts
    if not directives or (cmd_opts is not None and getattr(cmd_opts, "rev_id", None)):
        return
    script = directives[0]
    numbers = [
        int(rev.revision)
        for rev in ScriptDirectory.from_config(config).walk_revisions()
        if rev.revision.isdigit()
    ]
    script.rev_id = f"{max(numbers, default=0) + 1:04d}"


def configure_options(dialect_name: str) -> dict:
    return dict(
        target_metadata=target_metadata,
        render_as_batch=dialect_name == "sqlite",  # ALTER via copy-and-swap on SQLite
        # All or nothing, SQLite too (online: app.core.database.make_sqlite_transactional;
        # offline: the --sql script is wrapped in BEGIN/COMMIT).
        transactional_ddl=True,
        compare_type=True,
        # Server defaults are compared: models and migrations use the same portable
        # expressions (func.now(), true()), which both SQLite and PostgreSQL reflect.
        compare_server_default=True,
        process_revision_directives=number_revisions,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``--sql``) instead of running it."""
    url = database_url()
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **configure_options(url.get_backend_name()),
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        **configure_options(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


def connection_problem(error: Exception) -> str:
    """One line on why connecting failed, worded the same on every operating system."""
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (is the server running, and on that host and port?)"
    return str(getattr(error, "orig", None) or error).splitlines()[0]


async def run_async_migrations(engine: AsyncEngine | None = None) -> None:
    owns_engine = engine is None
    if engine is None:
        url = database_url()
        engine = async_engine_from_config(
            {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
        )
    if engine.dialect.name == "sqlite":
        make_sqlite_transactional(engine.sync_engine)
    try:
        try:
            connection = await engine.connect()
        except Exception as error:  # unreachable server, wrong password, missing driver...
            safe = engine.url.render_as_string(hide_password=True)
            raise CommandError(f"cannot connect to {safe}: {connection_problem(error)}") from None
        try:
            await connection.run_sync(do_run_migrations)
        finally:
            await connection.close()
    finally:
        if owns_engine:
            await engine.dispose()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if isinstance(connectable, Connection):
        do_run_migrations(connectable)  # shared connection: no event loop needed here
    else:
        asyncio.run(run_async_migrations(connectable))  # None, or an AsyncEngine


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
