"""What the checkers read from a workspace, without ever changing it.

- :func:`read_schema`: the database as the workbook's one schema model
  (:mod:`workbook.views.schema`), each table by name, read through a read-only SQLite
  connection (a missing file is an empty schema, and is not created);
- :func:`models`: the workspace's own ``app.models``, imported fresh;
- :func:`differences`: what ``alembic check`` would report, as short sentences;
- :func:`revisions` / :func:`learner_revisions` / :func:`function_body`: revision scripts
  and their source;
- :class:`Scratch`: a throwaway copy of the workspace to run alembic commands on (up and
  down, with test rows it inserts and reads), deleted afterwards.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import importlib
import re
import shutil
import sqlite3
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import Script
from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from workbook.exercises.core import Incorrect, Problem, Result
from workbook.runner import AlembicResult, project_imports, run_alembic
from workbook.stages import REPO_ROOT
from workbook.text import one_line
from workbook.views.schema import (
    ColumnInfo,
    ForeignKeyInfo,
    IndexInfo,
    TableInfo,
    snapshot_schema,
)
from workbook.workspace import DATABASE_FILE, Workspace, WorkspaceError, masked, workspaces_root

SCRATCH_FOLDER = ".scratch"


# -- the database ------------------------------------------------------------------------
def env_values(workspace: Workspace | Path) -> dict[str, str]:
    """The workspace's ``.env`` (missing file: empty)."""
    path = _path(workspace) / ".env"
    if not path.exists():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def database_file(workspace: Workspace | Path) -> Path:
    """The SQLite file the workspace's env.py uses: ``.env``'s DATABASE_URL, like app.core.config.

    A relative path is anchored to the workspace folder. Only SQLite can be checked.
    """
    root = _path(workspace)
    raw = env_values(root).get("DATABASE_URL", "").strip()
    if not raw:
        return root / DATABASE_FILE
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise Problem(f"DATABASE_URL in .env is not a database URL: {masked(raw)!r}") from None
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise Problem(
            "the checks need the workspace's SQLite file: DATABASE_URL in .env "
            "should be sqlite+aiosqlite:///app.db"
        )
    path = Path(url.database)
    return path if path.is_absolute() else root / path


def _path(workspace: Workspace | Path) -> Path:
    return workspace.path if isinstance(workspace, Workspace) else Path(workspace)


@contextlib.contextmanager
def read_only(db: Path) -> Iterator[sa.Connection]:
    """A connection that cannot write (``mode=ro``); the engine is disposed afterwards."""
    uri = f"file:{urllib.parse.quote(str(db))}?mode=ro"
    engine = sa.create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool
    )
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


@contextlib.contextmanager
def read_write(db: Path) -> Iterator[sa.Connection]:
    """A connection in a transaction, committed at the end (for scratch copies only)."""
    engine = sa.create_engine(f"sqlite:///{db}", poolclass=NullPool)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


class CheckedTable:
    """One table as the checkers look it up: the schema model's :class:`TableInfo`
    (``.table``) with its columns by name.

    ``columns`` maps each name to its :class:`ColumnInfo`, in table order; ``indexes``,
    ``uniques`` and ``foreign_keys`` are the model's. Items also answer the Inspector's
    keys (``column["type"]`` is the SQLAlchemy type). ``CheckedTable("books")`` is an
    empty table.
    """

    def __init__(self, name: str, table: TableInfo | None = None) -> None:
        self.table = table if table is not None else TableInfo(name)
        self.name = name
        self.columns: dict[str, ColumnInfo] = {c.name: c for c in self.table.columns}
        self.indexes, self.uniques = self.table.indexes, self.table.uniques
        self.foreign_keys = self.table.foreign_keys

    def foreign_keys_on(self, column: str) -> list[ForeignKeyInfo]:
        return self.table.foreign_keys_on(column)

    def indexes_on(self, column: str) -> list[IndexInfo]:
        return self.table.indexes_on(column)


def read_schema(db: Path) -> dict[str, CheckedTable]:
    """Every table of the database file, ``alembic_version`` included (none when the file
    does not exist)."""
    if not db.exists():
        return {}
    with read_only(db) as connection:
        snapshot = snapshot_schema(connection, include_version_table=True)
    return {table.name: CheckedTable(table.name, table) for table in snapshot.tables}


def current(db: Path) -> list[str]:
    """The revisions in ``alembic_version`` (empty before the first upgrade)."""
    if not db.exists():
        return []
    with read_only(db) as connection:
        try:
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        except sa.exc.OperationalError:
            return []
    return sorted(row[0] for row in rows)


def workspace_schema(workspace: Workspace) -> dict[str, CheckedTable]:
    return read_schema(database_file(workspace))


def workspace_current(workspace: Workspace) -> list[str]:
    return current(database_file(workspace))


# -- the models --------------------------------------------------------------------------
@contextlib.contextmanager
def models(workspace: Workspace) -> Iterator[ModuleType]:
    """The workspace's ``app.models``, imported fresh; the kernel's ``app`` is restored after.

    Import other model modules with ``importlib.import_module`` inside the block.
    """
    with project_imports(workspace.path):
        try:
            module = importlib.import_module("app.models")
        except Exception as error:
            raise Problem(f"your models do not import: {one_line(error, workspace.path)}") from None
        where = Path(getattr(module, "__file__", "") or "/").resolve()
        if not where.is_relative_to(workspace.path.resolve()):
            raise Problem("the workspace has no app/models package of its own")
        if not isinstance(getattr(module, "Base", None), type):
            raise Problem("app/models/__init__.py does not import Base")
        yield module


def model_metadata(workspace: Workspace) -> sa.MetaData:
    """``Base.metadata`` of the workspace's models, as Alembic's env.py sees it."""
    with models(workspace) as module:
        return module.Base.metadata


def model_column(workspace: Workspace, table: str, column: str) -> sa.Column | None:
    metadata = model_metadata(workspace)
    if table not in metadata.tables:
        return None
    return metadata.tables[table].columns.get(column)


def differences(workspace: Workspace) -> list[str]:
    """What ``alembic check`` would find between the models and the database, in words."""
    db = database_file(workspace)
    if not db.exists():
        raise Problem("the workspace has no database yet: run %alembic upgrade head")
    with models(workspace) as module:
        metadata = module.Base.metadata
        with read_only(db) as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "target_metadata": metadata,
                    "compare_type": True,
                    "compare_server_default": True,
                },
            )
            diffs = compare_metadata(context, metadata)
    return [describe(diff) for diff in diffs]


def differences_message(found: list[str], limit: int = 3) -> str:
    shown = "; ".join(found[:limit])
    more = f"; and {len(found) - limit} more" if len(found) > limit else ""
    return f"{shown}{more}"


def describe(diff: Any) -> str:
    """One autogenerate difference as a short sentence."""
    if isinstance(diff, list):  # modify_* operations come as a list of tuples
        op, _schema, table, column, _info, old, new = diff[0]
        what = op.removeprefix("modify_")
        if what == "nullable":

            def word(value):
                return "NULL" if value else "NOT NULL"

            return f"{table}.{column} is {word(old)} in the database but {word(new)} in the models"
        if what == "type":
            return f"{table}.{column} is {old} in the database but {new} in the models"
        return f"{table}.{column}: its {what.replace('_', ' ')} differs"
    op = diff[0]
    if op in ("add_table", "remove_table"):
        return f"table {diff[1].name} is {_where(op)}"
    if op in ("add_column", "remove_column"):
        return f"{diff[2]}.{diff[3].name} is {_where(op)}"
    if op in ("add_index", "remove_index"):
        index = diff[1]
        return f"index {index.name} on {index.table.name} is {_where(op)}"
    if op in ("add_fk", "remove_fk"):
        fk = diff[1]
        columns = ", ".join(c.name for c in fk.columns)
        return f"a foreign key on {fk.table.name}({columns}) is {_where(op)}"
    if op in ("add_constraint", "remove_constraint"):
        constraint = diff[1]
        return f"constraint {constraint.name} on {constraint.table.name} is {_where(op)}"
    return str(op)


def _where(op: str) -> str:
    if op.startswith("add_"):
        return "in the models but not in the database"
    return "in the database but not in the models"


# -- revision scripts --------------------------------------------------------------------
def revisions(workspace: Workspace) -> list[Script]:
    """Every revision script, newest first."""
    try:
        return list(workspace.script_directory().walk_revisions())
    except Exception as error:
        raise Problem(
            f"the revision scripts do not load: {one_line(error, workspace.path)}"
        ) from None


def _reference_texts() -> set[str]:
    return {p.read_text() for p in (REPO_ROOT / "alembic" / "versions").glob("*.py")}


def learner_revisions(workspace: Workspace) -> list[Script]:
    """The revisions the stage did not bring (their file differs from every reference one)."""
    reference = _reference_texts()
    return [s for s in revisions(workspace) if Path(s.path).read_text() not in reference]


def source(script: Script) -> str:
    return Path(script.path).read_text()


def find_revision(workspace: Workspace, message: str) -> Script | None:
    """The newest revision whose message (first docstring line) is ``message``."""
    for script in revisions(workspace):
        if (script.doc or "").strip() == message:
            return script
    return None


def function_body(text: str, name: str) -> list[ast.stmt] | None:
    """The statements of top-level function ``name`` (docstring left out); None if absent."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(getattr(body[0], "value", None), ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                body = body[1:]
            return body
    return None


def function_source(text: str, name: str) -> str:
    """The source of top-level function ``name`` ("" if absent)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return ""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return ast.get_source_segment(text, node) or ""
    return ""


def does_nothing(text: str, name: str) -> bool:
    """True when function ``name`` has only ``pass`` (and a docstring) in it."""
    body = function_body(text, name)
    return body is not None and all(isinstance(stmt, ast.Pass) for stmt in body)


# -- test rows ---------------------------------------------------------------------------
def _filler(column: sa.Column) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, (sa.Integer, sa.Numeric)):
        return 0
    if isinstance(kind, sa.DateTime):
        return dt.datetime(2024, 12, 9, 7, 30)
    if isinstance(kind, sa.Date):
        return dt.date(2024, 12, 9)
    if isinstance(kind, sa.String):
        return f"checker {column.name}"[: kind.length or None]
    return None


def insert_row(connection: sa.Connection, table: str, values: dict[str, Any]) -> None:
    """Insert a row, filling every other NOT NULL column that has no server default."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
    row = dict(values)
    for column in reflected.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        if column.primary_key and isinstance(column.type, sa.Integer):
            continue
        row[column.name] = _filler(column)
    connection.execute(reflected.insert().values(**row))


# -- scratch copies ----------------------------------------------------------------------
class Scratch:
    """A throwaway copy of a workspace, database included; ``with Scratch(ws) as s: ...``."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        root = workspaces_root() / SCRATCH_FOLDER
        root.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f"{workspace.name}.", dir=root)).resolve()
        try:
            shutil.copytree(
                workspace.path,
                self.path,
                dirs_exist_ok=True,
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
            )
            source_db = database_file(workspace)
            self.db = self.path / DATABASE_FILE
            if source_db.resolve() != (workspace.path / DATABASE_FILE).resolve():
                # the workspace uses another file: copy it in, and point the copy at it
                self.db.unlink(missing_ok=True)
                if source_db.exists():
                    shutil.copyfile(source_db, self.db)
                (self.path / ".env").write_text(
                    f"DATABASE_URL=sqlite+aiosqlite:///{DATABASE_FILE}\n"
                )
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        root = (workspaces_root() / SCRATCH_FOLDER).resolve()
        if self.path.parent == root and not self.path.is_symlink():
            shutil.rmtree(self.path, ignore_errors=True)

    def alembic(self, *argv: str) -> AlembicResult:
        return run_alembic(self.path, list(argv))

    def current(self) -> list[str]:
        return current(self.db)

    def schema(self) -> dict[str, CheckedTable]:
        return read_schema(self.db)

    def insert(self, table: str, *rows: dict[str, Any]) -> None:
        """Insert ``rows`` into ``table`` of the copy's database, in one transaction; each
        row's other NOT NULL columns are filled (:func:`insert_row`)."""
        with read_write(self.db) as connection:
            for row in rows:
                insert_row(connection, table, row)

    def rows(self, query: str, *parameters: Any) -> list[sa.Row]:
        """Every row of ``query`` (SQL, ``?`` for each of ``parameters``) on the copy's
        database, read through a read-only connection."""
        with read_only(self.db) as connection:
            return connection.exec_driver_sql(query, parameters).all()

    def value(self, query: str, *parameters: Any) -> Any:
        """The first value of ``query``'s first row, or None when it has no row."""
        found = self.rows(query, *parameters)
        return found[0][0] if found else None

    def goto(self, revision: str | None) -> AlembicResult:
        """Upgrade or downgrade to ``revision`` (None: base), whichever way it lies."""
        target = revision or "base"
        here = self.current()
        behind = set()
        if here:
            script = self.workspace.script_directory()
            behind = {r.revision for r in script.iterate_revisions(here, "base")}
        if target == "base" or target in behind:
            return self.alembic("downgrade", target)
        return self.alembic("upgrade", target)

    def relative(self, text: str) -> str:
        return text.replace(str(self.path), ".")


# -- checks several chapters share ---------------------------------------------------------
def mentions(code: str, name: str, bare: bool = False) -> bool:
    """Whether ``code`` names ``name`` in quotes (or, with ``bare``, as a whole word)."""
    if f"'{name}'" in code or f'"{name}"' in code:
        return True
    return bare and re.search(rf"\b{re.escape(name)}\b", code) is not None


def models_match_database(workspace: Workspace) -> Result | None:
    """Incorrect when `alembic check` would still find differences, else None."""
    found = differences(workspace)
    if found:
        return Incorrect(
            "the models and the database still differ (as `%alembic check` "
            f"would say): {differences_message(found)}."
        )
    return None


def database_at_head(workspace: Workspace) -> Result | None:
    """Incorrect when the database is not at the head revision, else None."""
    if workspace_current(workspace) != workspace.heads():
        return Incorrect(
            "the database is not at head: apply your revision, `%alembic upgrade head`."
        )
    return None


def run_or_fail(workspace: Workspace, *argv: str) -> None:
    """Run an alembic command an exercise's setup depends on; a failure stops the setup."""
    result = workspace.run(list(argv))
    if not result.ok:
        raise WorkspaceError(f"alembic {' '.join(argv)} failed: {result.error}")
