"""A migration that fails halfway, run for real: what each database keeps of it.

The guide promises "Alembic uses transactions by default ... if any operation fails, all
are rolled back", and its troubleshooting adds "If partially applied (MySQL), may need
manual fix". ``fail_halfway`` shows both: it adds one revision that creates a table,
fills it, adds a column to ``users``, then raises; runs ``upgrade`` to it; and reports
what the database kept.

- PostgreSQL keeps nothing: its DDL is transactional (``PostgresqlImpl``).
- SQLite keeps nothing with the project's ``env.py``, which makes its DDL transactional
  (with the guide's ``env.py`` it keeps part: chapter 07).
- MySQL and MariaDB keep everything before the failure: each DDL statement commits
  implicitly (``MySQLImpl``, "Will assume non-transactional DDL"), while
  ``alembic_version`` still names the previous revision.

A lesson shows it on a real server: ``mysql_server()`` reads ``WORKBOOK_MYSQL_URL`` and says
in one line which server it found, or why there is none (password masked); the lesson's
cells that need the server start with ``NEEDS_SERVER`` (the tests skip them without one).
``look`` reports what any database holds of the failing revision.

Sources: MySQL 8.4 manual, 15.3.3 "Statements That Cause an Implicit Commit"; MariaDB
"SQL statements that cause an implicit commit"; Alembic's ``transactional_ddl``.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

FAILING_REVISION = "9999"
NEW_TABLE = "half_done"
NEW_COLUMN = ("users", "nickname")
BATCH_COPY = "_alembic_tmp_users"  # SQLite's batch rebuild works on this copy
SERVER_VARIABLE = "WORKBOOK_MYSQL_URL"  # a MySQL or MariaDB server for the lesson, if any
# First words of a lesson cell that needs that server: without one, the tests skip it.
NEEDS_SERVER = "# needs the MySQL server"
CONNECT_TIMEOUT = 5  # seconds: an unreachable host should not hold a lesson up

REVISION_SOURCE = '''\
"""Fails halfway, on purpose (written by workbook/half_applied.py)

Revision ID: {revision}
Revises: {down_revision}
"""
from alembic import op
import sqlalchemy as sa

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("{table}", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("INSERT INTO {table} (id) VALUES (1)")
    with op.batch_alter_table("{column_table}") as batch_op:
        batch_op.add_column(sa.Column("{column}", sa.String(50)))
        # On SQLite this one rebuilds the table (copy to _alembic_tmp_{column_table}, swap).
        batch_op.alter_column("bio", existing_type=sa.Text(), type_=sa.String(500))
    raise RuntimeError("this migration fails halfway on purpose")


def downgrade() -> None:
    with op.batch_alter_table("{column_table}") as batch_op:
        batch_op.alter_column("bio", existing_type=sa.String(500), type_=sa.Text())
        batch_op.drop_column("{column}")
    op.drop_table("{table}")
'''


@dataclass(frozen=True)
class Kept:
    """What a database holds of the failing revision, and its ``alembic_version``."""

    dialect: str  # "sqlite", "postgresql", "mysql"
    tables: tuple[str, ...]  # the migration's tables (and batch copies) that exist
    columns: tuple[str, ...]  # "table.column" that exist
    version: tuple[str, ...]  # alembic_version's rows

    @property
    def anything_left(self) -> bool:
        return bool(self.tables or self.columns)

    def __str__(self) -> str:
        kept = (
            ", ".join(
                [*(f"table {t}" for t in self.tables), *(f"column {c}" for c in self.columns)]
            )
            or "nothing"
        )
        return f"{self.dialect}: {kept}; alembic_version: {', '.join(self.version) or 'empty'}"


@dataclass(frozen=True)
class Leftovers(Kept):
    """What the database holds after the failed ``upgrade``, and how it failed."""

    error: str = ""  # the command's one-line failure
    log: str = ""  # what the command printed (Context impl ..., Will assume ... DDL)

    def __str__(self) -> str:
        dialect, _, kept = super().__str__().partition(": ")
        return f"{dialect}: upgrade failed ({self.error}); kept: {kept}"


def write_failing_revision(project_dir: Path, down_revision: str) -> Path:
    """Add the revision that fails halfway on top of ``down_revision``; returns its path."""
    path = Path(project_dir) / "alembic" / "versions" / f"{FAILING_REVISION}_fails_halfway.py"
    path.write_text(
        REVISION_SOURCE.format(
            revision=FAILING_REVISION,
            down_revision=down_revision,
            table=NEW_TABLE,
            column_table=NEW_COLUMN[0],
            column=NEW_COLUMN[1],
        )
    )
    return path


def _in_a_thread(work: Callable[[], Any]) -> Any:
    """Run ``work`` where no event loop runs (a kernel's thread has one): asyncio.run works."""
    result: dict = {}

    def target() -> None:
        try:
            result["value"] = work()
        except BaseException as error:  # handed back to the caller's thread
            result["error"] = error

    thread = threading.Thread(target=target, name="half-applied")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


def look(url: str) -> Kept:
    """What the database at ``url`` (any async URL) holds of the failing revision.

    A SQLite file is read with the sync driver, on the kernel's own thread (a browser's
    kernel has no other); a server through its async driver, in a thread of its own, so
    that it works in a kernel, whose thread runs an event loop.
    """

    def read(connection) -> Kept:
        inspector = sa.inspect(connection)
        tables = set(inspector.get_table_names())
        columns = set()
        if NEW_COLUMN[0] in tables:  # gone at base
            columns = {f"{NEW_COLUMN[0]}.{c['name']}" for c in inspector.get_columns(NEW_COLUMN[0])}
        version = ()
        if "alembic_version" in tables:
            version = tuple(
                sorted(
                    connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars()
                )
            )
        return Kept(
            connection.dialect.name,
            tuple(sorted(tables & {NEW_TABLE, BATCH_COPY})),
            tuple(sorted(columns & {".".join(NEW_COLUMN)})),
            version,
        )

    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(parsed.set(drivername="sqlite"), poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                return read(connection)
        finally:
            engine.dispose()

    async def run() -> Kept:
        engine = create_async_engine(url, poolclass=sa.pool.NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await engine.dispose()

    return _in_a_thread(lambda: asyncio.run(run()))


@contextmanager
def _database_url(url: str):
    saved = {name: os.environ.get(name) for name in ("DATABASE_URL", "ENVIRONMENT")}
    os.environ.update(DATABASE_URL=url, ENVIRONMENT="development")
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def fail_halfway(project_dir: Path, url: str, down_revision: str) -> Leftovers:
    """Add the failing revision, ``alembic upgrade`` to it against ``url``, report what stayed.

    ``project_dir`` holds ``alembic.ini``, ``alembic/`` and ``app/`` (a workspace, or a
    copy of the reference project); the database at ``url`` must be at ``down_revision``.
    The revision file stays, for the recovery steps that follow (inspect, fix, ``stamp``).
    """
    from workbook.runner import run_alembic  # the %alembic machinery: works inside a kernel

    write_failing_revision(project_dir, down_revision)
    with _database_url(url):
        result = run_alembic(Path(project_dir), ["upgrade", FAILING_REVISION])
    if result.ok:
        raise RuntimeError(f"revision {FAILING_REVISION} was meant to fail, and did not")
    kept = look(url)
    return Leftovers(
        kept.dialect,
        kept.tables,
        kept.columns,
        kept.version,
        error=result.error or "",
        log=result.stdout + result.stderr,
    )


# --- the lesson's MySQL server -------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """The MySQL or MariaDB server a lesson may use, or why there is none."""

    url: str | None  # mysql+aiomysql://... with its password: for DATABASE_URL, never print
    line: str  # one line to print: the server (password masked), or why there is none

    def __bool__(self) -> bool:
        return self.url is not None


def _with_aiomysql(raw: str) -> str:
    """``raw`` with the guide's async driver, whatever MySQL driver it named."""
    return re.sub(r"^\s*(mysql|mariadb)(\+\w+)?://", "mysql+aiomysql://", raw, flags=re.IGNORECASE)


def mysql_server(variable: str = SERVER_VARIABLE) -> Server:
    """The server in ``variable`` if it parses, answers and has an empty database.

    Any MySQL driver in the URL is replaced by aiomysql. Never raises: a URL that does not
    parse, a server that does not answer (``CONNECT_TIMEOUT`` seconds) or a database that
    already holds tables gives ``Server(None, one line)``, with the password masked.
    """
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return Server(None, f"No MySQL server here ({variable} is not set): nothing was run.")
    # Imported only now: without a server to ask, the driver need not exist (a browser).
    import pymysql  # aiomysql's own base; a plain connection is enough to ask

    from workbook.display import _reference_config, masked

    config = _reference_config()
    try:
        url = config.parse_database_url(_with_aiomysql(raw), variable)
    except config.ConfigError as error:
        return Server(None, masked(str(error)))
    if url.get_backend_name() != "mysql":
        return Server(
            None,
            f"{variable} is not a MySQL URL ({masked(url)}): expected "
            "mysql+aiomysql://user:password@host:3306/database",
        )
    try:
        with (
            pymysql.connect(
                host=url.host,
                port=url.port or 3306,
                user=url.username,
                password=url.password or "",
                database=url.database,
                connect_timeout=CONNECT_TIMEOUT,
            ) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT VERSION()")
            (version,) = cursor.fetchone()
            cursor.execute("SHOW TABLES")
            tables = sorted({name for (name,) in cursor.fetchall()} - {"alembic_version"})
    except pymysql.MySQLError as error:
        reason = error.args[-1] if error.args else type(error).__name__
        return Server(
            None, masked(f"the MySQL server in {variable} ({url!r}) did not answer: {reason}")
        )
    if tables:
        return Server(
            None,
            masked(
                f"the database of {variable} ({url!r}) already holds "
                f"{', '.join(tables)}: give it an empty, throwaway one"
            ),
        )
    number, _, flavour = version.partition("-")
    name = "MariaDB" if "mariadb" in flavour.lower() else "MySQL"
    return Server(
        url.render_as_string(hide_password=False),
        f"{name} {number} at {masked(url)} (password hidden)",
    )
