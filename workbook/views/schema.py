"""The schema model: a database's tables, columns, indexes and constraints as frozen data.

:func:`snapshot_schema` reads it through SQLAlchemy's Inspector; the views draw it and
the exercise checkers (``workbook.exercises.inspect``) test it. Everything is sorted, so
two snapshots of the same database compare equal.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

TMP_PREFIX = "_alembic_tmp_"
LEFTOVER_NOTE = "  (leftover from a crashed batch migration)"


class _Reflected:
    """``item["key"]`` and ``item.get("key")`` read the Inspector's entry the item was
    read from (e.g. ``column["type"]``, the SQLAlchemy type object); empty when the item
    was made by hand."""

    reflected: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.reflected[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.reflected.get(key, default)


@dataclass(frozen=True)
class ColumnInfo(_Reflected):
    name: str
    type: str  # as the database's dialect spells it, e.g. "VARCHAR(255)"
    nullable: bool
    primary_key: bool = False
    default: str | None = None  # server default, as reflected (e.g. "CURRENT_TIMESTAMP")
    reflected: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def describe(self) -> str:
        flags = ["PK" if self.primary_key else "" if self.nullable else "NOT NULL"]
        if self.default is not None:
            flags.append(f"DEFAULT {self.default}")
        return " ".join(part for part in [self.type or "(no type)", *flags] if part)


@dataclass(frozen=True)
class IndexInfo(_Reflected):
    name: str
    columns: tuple[str, ...]  # an expression's SQL text in place of a column name
    unique: bool = False
    reflected: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def describe(self) -> str:
        unique = " UNIQUE" if self.unique else ""
        return f"index {self.name} ({', '.join(self.columns)}){unique}"


@dataclass(frozen=True)
class UniqueInfo(_Reflected):
    name: str | None  # SQLite reflects unnamed constraints as None
    columns: tuple[str, ...]
    reflected: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def describe(self) -> str:
        return f"unique {self.name or '(unnamed)'} ({', '.join(self.columns)})"


@dataclass(frozen=True)
class ForeignKeyInfo(_Reflected):
    name: str | None
    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    ondelete: str | None = None
    reflected: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def target(self) -> str:
        cols = self.referred_columns
        return f"{self.referred_table}.{cols[0]}" if len(cols) == 1 else (
            f"{self.referred_table}({', '.join(cols)})")

    def describe(self) -> str:
        text = f"fk {self.name or '(unnamed)'} ({', '.join(self.columns)}) -> {self.target}"
        return text + (f" ON DELETE {self.ondelete}" if self.ondelete else "")


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[ColumnInfo, ...] = ()  # in the table's own order
    indexes: tuple[IndexInfo, ...] = ()  # sorted by name, and so on below
    uniques: tuple[UniqueInfo, ...] = ()
    foreign_keys: tuple[ForeignKeyInfo, ...] = ()

    @property
    def is_leftover(self) -> bool:
        """A batch migration copies into _alembic_tmp_<name>; a crash leaves it behind."""
        return self.name.startswith(TMP_PREFIX)

    def fk_targets(self) -> dict[str, str]:
        """Referenced ``table.column`` per column that has a foreign key."""
        return {col: fk.target for fk in self.foreign_keys for col in fk.columns}

    def foreign_keys_on(self, column: str) -> list[ForeignKeyInfo]:
        """The foreign keys on exactly this one column."""
        return [fk for fk in self.foreign_keys if fk.columns == (column,)]

    def indexes_on(self, column: str) -> list[IndexInfo]:
        """The indexes on exactly this one column."""
        return [ix for ix in self.indexes if ix.columns == (column,)]


@dataclass(frozen=True)
class SchemaSnapshot:
    tables: tuple[TableInfo, ...]  # sorted by name

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)

    @property
    def leftovers(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables if t.is_leftover)

    def table(self, name: str) -> TableInfo:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    def _repr_mimebundle_(self, include=None, exclude=None):
        from workbook.views.er import SchemaView  # the view imports this model

        return SchemaView(self)._repr_mimebundle_(include, exclude)


@contextmanager
def connect(bind) -> Iterator[Connection]:
    """A sync Connection for an Engine, a Connection or a URL (an engine made and disposed).

    Raises TypeError for anything else (an AsyncEngine included) and FileNotFoundError for
    a SQLite URL whose file does not exist (sqlite3 would silently create it).
    """
    if isinstance(bind, Connection):
        yield bind
        return
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            yield conn
        return
    if not isinstance(bind, (str, sa.URL)):
        raise TypeError(
            f"expected a sync Engine, Connection or URL, not {type(bind).__name__}; "
            "with an AsyncEngine use: await conn.run_sync(snapshot_schema)"
        )
    url = sa.make_url(bind)
    if url.drivername == "sqlite+aiosqlite":  # the app's URL works here too: same file
        url = url.set(drivername="sqlite")
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not url.query.get("uri") and not Path(url.database).exists():
            raise FileNotFoundError(f"no SQLite database file {url.database!r}")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _type_text(type_, dialect) -> str:
    try:
        return str(type_.compile(dialect=dialect))
    except sa.exc.SQLAlchemyError:  # e.g. a SQLite column declared without a type
        return ""


def _index_columns(index: dict) -> tuple[str, ...]:
    expressions = index.get("expressions") or []
    return tuple(
        col if col is not None else (expressions[i] if i < len(expressions) else "<expression>")
        for i, col in enumerate(index.get("column_names") or [])
    )


def _read_table(insp, dialect, name: str) -> TableInfo:
    pk = set(insp.get_pk_constraint(name).get("constrained_columns") or [])
    columns = tuple(
        ColumnInfo(c["name"], _type_text(c["type"], dialect), bool(c["nullable"]),
                   c["name"] in pk, None if c.get("default") is None else str(c["default"]), c)
        for c in insp.get_columns(name)
    )
    indexes = sorted(
        (IndexInfo(ix["name"], _index_columns(ix), bool(ix["unique"]), ix)
         for ix in insp.get_indexes(name)), key=lambda ix: ix.name)
    uniques = sorted(
        (UniqueInfo(uq["name"], tuple(uq["column_names"]), uq)
         for uq in insp.get_unique_constraints(name)),
        key=lambda uq: (uq.name or "", uq.columns))
    fks = sorted(
        (ForeignKeyInfo(fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"],
                        tuple(fk["referred_columns"]), (fk.get("options") or {}).get("ondelete"),
                        fk)
         for fk in insp.get_foreign_keys(name)),
        key=lambda fk: (fk.name or "", fk.columns, fk.target))
    return TableInfo(name, columns, tuple(indexes), tuple(uniques), tuple(fks))


def snapshot_schema(bind, include_version_table: bool = False) -> SchemaSnapshot:
    """Read every table's columns, indexes and constraints into frozen dataclasses.

    ``bind`` is a sync Engine or Connection, or a URL (``sqlite:///app.db``; the app's
    ``sqlite+aiosqlite://`` URLs are read with the sync driver). ``alembic_version`` is left
    out unless asked for; leftover ``_alembic_tmp_*`` tables are kept, since they matter.
    Errors: see :func:`connect`.
    """
    with connect(bind) as conn:
        insp = sa.inspect(conn)
        names = sorted(
            n for n in insp.get_table_names()
            if not n.startswith("sqlite_") and (include_version_table or n != "alembic_version")
        )
        return SchemaSnapshot(tuple(_read_table(insp, conn.dialect, n) for n in names))
