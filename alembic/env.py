"""Async migration environment: the guide's env.py, corrected for SQLite, MySQL, Jupyter and tests.

What it adds to the guide's version, and why:
- The URL comes from ``app.core.config`` (DATABASE_URL, .env, or a SQLite file); a bad
  URL, a missing driver or an unreachable server ends in one ``FAILED:`` line, never a
  password.
- A connection handed in as ``config.attributes["connection"]`` is used as it is (the
  Alembic cookbook's connection sharing): ``asyncio.run`` cannot run inside an event loop
  that is already running, such as a Jupyter kernel's or a test runner's. It may also be
  an Engine or an AsyncEngine, reused for many commands (pytest-alembic does that).
- Logging: ``alembic.ini``'s logging setup is for the command line. A program calling
  ``alembic.command`` (a test, a notebook, an application) keeps its own logging, unless
  it sets ``config.attributes["configure_logger"] = True``.
- On SQLite: batch mode (SQLite cannot ALTER constraints), and real transactions around
  DDL, so a migration that fails halfway leaves nothing behind. Foreign keys are off while
  a migration runs, because a batch rebuild drops the table and, with foreign keys on,
  that deletes every child row ``ON DELETE CASCADE``; they are checked before the commit.
- On MySQL and MariaDB, DDL commits implicitly: the log says so ("non-transactional
  DDL"), and server defaults are compared in the spelling those servers store.
- New revisions, merges included, get readable sequential ids (0001, 0002, ...) unless
  ``--rev-id`` is given.
"""

import asyncio
import re
from contextlib import contextmanager
from logging.config import fileConfig

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import event, pool
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_engine_from_config

from alembic import command, context
from app.core.config import ConfigError, get_settings, mask_password
from app.core.database import make_sqlite_transactional
from app.models import Base

config = context.config

# The command line (cmd_opts set) gets alembic.ini's logging; a program's call keeps its own.
if config.config_file_name is not None and config.attributes.get(
    "configure_logger", config.cmd_opts is not None
):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url():
    """The configured URL, or a one-line CommandError naming the variable."""
    try:
        return get_settings().database_url
    except ConfigError as error:
        raise CommandError(str(error)) from None


def next_revision_id() -> str:
    """One more than the highest numeric revision id: ``0001`` for an empty history."""
    numbers = [
        int(rev.revision)
        for rev in ScriptDirectory.from_config(config).walk_revisions()
        if rev.revision.isdigit()
    ]
    return f"{max(numbers, default=0) + 1:04d}"


def number_revisions(context, revision, directives) -> None:
    """Name new revisions 0001, 0002, ... (readable, and stable across runs)."""
    cmd_opts = config.cmd_opts
    if not directives or (cmd_opts is not None and getattr(cmd_opts, "rev_id", None)):
        return
    directives[0].rev_id = next_revision_id()


def number_merges() -> None:
    """Give ``alembic merge`` the next number too, unless ``--rev-id`` is given.

    ``merge`` consults no ``process_revision_directives`` (Alembic 1.20): it runs this
    file (``revision_environment = true``), then asks its ScriptDirectory, the one in
    ``context.script``, to write the file under a random id. Only the command line says
    which command runs; a program calling ``command.merge`` passes ``rev_id`` itself.
    """
    cmd_opts = config.cmd_opts
    if cmd_opts is None or getattr(cmd_opts, "rev_id", None):
        return
    if getattr(cmd_opts, "cmd", (None,))[0] is not command.merge:
        return
    script = context.script
    generate = script.generate_revision
    script.generate_revision = lambda _random_id, *args, **kw: generate(
        next_revision_id(), *args, **kw
    )


# How MySQL and MariaDB report a default they were given as now() / true / false.
MYSQL_STORED_FORM = {
    "now()": "current_timestamp()",
    "current_timestamp": "current_timestamp()",
    "true": "1",
    "false": "0",
}


def mysql_stored_form(default: str) -> str:
    default = default.strip().lower()
    default = re.sub(r"^'(.*)'$|^\((.*)\)$", r"\1\2", default)  # MySQL 8 quotes and brackets
    return MYSQL_STORED_FORM.get(default, default)


def compare_server_default(
    context,
    inspected_column,
    metadata_column,
    inspected_default,
    metadata_default,
    rendered_metadata_default,
):
    """Same default, spelled as MySQL stores it? Then no change; else Alembic decides (None).

    The models keep the portable ``func.now()`` and ``true()``, which MySQL and MariaDB
    accept and store as ``current_timestamp()`` and ``1``; Alembic's own comparison would
    report them as changed on every ``alembic check``.
    """
    if context.dialect.name != "mysql" or None in (inspected_default, rendered_metadata_default):
        return None
    if mysql_stored_form(inspected_default) == mysql_stored_form(rendered_metadata_default):
        return False
    return None


def configure_options(dialect_name: str) -> dict:
    return dict(
        target_metadata=target_metadata,
        render_as_batch=dialect_name == "sqlite",  # ALTER via copy-and-swap on SQLite
        # All or nothing on SQLite too (online: app.core.database.make_sqlite_transactional;
        # offline: the --sql script is wrapped in BEGIN/COMMIT). Elsewhere the database
        # decides: PostgreSQL's DDL is transactional, MySQL's commits implicitly.
        transactional_ddl=True if dialect_name == "sqlite" else None,
        compare_type=True,
        # Server defaults are compared: models and migrations use the same portable
        # expressions (func.now(), true()); MySQL reflects them in its own spelling.
        compare_server_default=compare_server_default,
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


def sqlite_pragma(connection: Connection, pragma: str):
    """Run a PRAGMA on the driver's connection: through SQLAlchemy it would begin a transaction."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA {pragma}")
        row = cursor.fetchone()
        return row[0] if row else None
    finally:
        cursor.close()


def refuse_table_rebuild(conn, cursor, statement, parameters, context, executemany) -> None:
    """Stop a batch rebuild (or a DROP TABLE) before it starts: it would cascade."""
    words = statement.lstrip().upper()
    if words.startswith(("DROP TABLE", "CREATE TABLE _ALEMBIC_TMP_")):
        raise CommandError(
            "refused to rebuild or drop a table: this SQLite connection enforces foreign keys "
            "and is inside a transaction, where PRAGMA foreign_keys=OFF does nothing, so rows "
            "of other tables would be deleted (ON DELETE CASCADE); hand env.py a connection "
            "outside a transaction (engine.connect(), not engine.begin())"
        )


@contextmanager
def foreign_keys_off(connection: Connection):
    """On SQLite with foreign keys enforced: off while migrating. Yields whether it did.

    A batch rebuild drops the old table; with foreign keys on, that deletes the rows that
    refer to it. The pragma does nothing inside a transaction: then a rebuild or a DROP
    TABLE is refused instead, in one line, before it starts.
    """
    if connection.dialect.name != "sqlite" or not sqlite_pragma(connection, "foreign_keys"):
        yield False
        return
    if not connection.in_transaction():
        sqlite_pragma(connection, "foreign_keys=OFF")
    if sqlite_pragma(connection, "foreign_keys"):  # the caller's transaction: cannot
        event.listen(connection, "before_cursor_execute", refuse_table_rebuild)
        try:
            yield False
        finally:
            event.remove(connection, "before_cursor_execute", refuse_table_rebuild)
        return
    try:
        yield True
    finally:
        sqlite_pragma(connection, "foreign_keys=ON")


def check_foreign_keys(connection: Connection) -> None:
    """Roll back (by raising) when the migration left rows pointing at nothing."""
    # one result row per broken reference: (table, rowid, referred table, key number)
    broken = {
        (table, rowid)
        for table, rowid, *_ in connection.exec_driver_sql("PRAGMA foreign_key_check")
    }
    if broken:
        tables = ", ".join(sorted({table for table, _rowid in broken}))
        raise CommandError(
            f"rolled back: the migration left {len(broken)} row(s) in {tables} "
            "whose foreign key points at nothing (PRAGMA foreign_key_check)"
        )


def do_run_migrations(connection: Connection) -> None:
    with foreign_keys_off(connection) as checks_needed:
        context.configure(
            connection=connection,
            **configure_options(connection.dialect.name),
        )
        with context.begin_transaction():
            context.run_migrations()
            if checks_needed:
                check_foreign_keys(connection)


def safe_url(url: URL) -> str:
    """The URL for a message: no password, even one with an unencoded ``@`` in it."""
    return mask_password(url.render_as_string(hide_password=True))


def connection_problem(error: Exception, url: URL) -> str:
    """One line on why connecting failed, worded the same on every operating system."""
    if "@" in (url.host or ""):  # user:p@ss@host parses with "ss@host" as the host
        return "the host part holds an '@': write an '@' in the password as %40"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (is the server running, and on that host and port?)"
    reason = getattr(error, "orig", None) or error
    args = getattr(reason, "args", ())
    if len(args) == 2 and isinstance(args[0], int):  # MySQL drivers: (error code, message)
        return f"{args[1]} (MySQL error {args[0]})"
    return str(reason).splitlines()[0]


def make_engine(url: URL) -> AsyncEngine:
    try:
        return async_engine_from_config(
            {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
        )
    except ImportError as error:  # the dialect is known, its driver is not installed
        raise CommandError(
            f"cannot use {safe_url(url)}: its driver {error.name or url.get_driver_name()!r} "
            f"is not installed (pip install {error.name or url.get_driver_name()})"
        ) from None


async def run_async_migrations(engine: AsyncEngine | None = None) -> None:
    owns_engine = engine is None
    if engine is None:
        engine = make_engine(database_url())
    if engine.dialect.name == "sqlite":
        make_sqlite_transactional(engine.sync_engine)
    try:
        try:
            connection = await engine.connect()
        except Exception as error:  # unreachable server, wrong password, missing driver...
            raise CommandError(
                f"cannot connect to {safe_url(engine.url)}: {connection_problem(error, engine.url)}"
            ) from None
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
    elif isinstance(connectable, Engine):
        if connectable.dialect.name == "sqlite":
            make_sqlite_transactional(connectable)
        with connectable.connect() as connection:
            do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations(connectable))  # None, or an AsyncEngine


number_merges()
if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
