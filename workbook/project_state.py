"""What a project is, to compare two of them: its models, revision scripts, schema and rows.

The book's lessons run one project: each lesson starts where the one before it ends.
``project_state(folder)`` describes a workspace folder in plain data, and
``differences(a, b)`` names, one line each, where two such descriptions disagree. The
continuity tests compare the end of a lesson (after its exercises are solved) with the
start of the next one.

What counts, and what does not:

- **models**: each ``app/models/*.py`` as Python, not as text (``ast``): formatting,
  comments and docstrings do not count, a changed column does.
- **revisions**: per revision id, its ``down_revision``, branch labels, dependencies,
  message (the docstring's first line) and the code of ``upgrade()`` and ``downgrade()``.
  File names do not count: they carry the time a learner ran ``revision``.
- **database**: the revisions in ``alembic_version``; per table its columns (name, type,
  nullable, server default), primary key, foreign keys, indexes and unique constraints
  as SQLAlchemy's inspector reads them; and every row, sorted. A timestamp a server
  default wrote (``YYYY-MM-DD HH:MM:SS``) is compared as ``<timestamp>``: it says when
  the lesson ran, not what it did.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import sqlalchemy

__all__ = ["differences", "project_state"]

DATABASE_FILE = "app.db"
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?$")


def project_state(folder: Path | str) -> dict:
    """The state of the project in ``folder`` (a workspace): a JSON-able dict with the keys
    ``models``, ``revisions`` and ``database`` described in this module's docstring.
    A missing part is empty (no ``app/models``, no revisions, no ``app.db``)."""
    folder = Path(folder)
    return {
        "models": _models(folder / "app" / "models"),
        "revisions": _revisions(folder / "alembic" / "versions"),
        "database": _database(folder / DATABASE_FILE),
    }


def _models(folder: Path) -> dict[str, str]:
    return {path.name: _code(path.read_text()) for path in sorted(folder.glob("*.py"))}


def _code(source: str) -> str:
    """``source`` without formatting, comments or docstrings."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _constant(tree: ast.Module, name: str):
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign) and node.value is not None
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return ast.unparse(node.value)
            return list(value) if isinstance(value, tuple) else value
    return None


def _function(tree: ast.Module, name: str) -> str | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            body = node.body[1:] if node.body and _is_docstring(node.body[0]) else node.body
            return "\n".join(ast.unparse(statement) for statement in body) or "pass"
    return None


def _revisions(folder: Path) -> dict[str, dict]:
    revisions = {}
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text())
        revision = _constant(tree, "revision")
        if not isinstance(revision, str):
            continue
        docstring = ast.get_docstring(tree) or ""
        revisions[revision] = {
            "down_revision": _constant(tree, "down_revision"),
            "branch_labels": _constant(tree, "branch_labels"),
            "depends_on": _constant(tree, "depends_on"),
            "message": docstring.strip().splitlines()[0] if docstring.strip() else "",
            "upgrade": _function(tree, "upgrade"),
            "downgrade": _function(tree, "downgrade"),
        }
    return revisions


def _database(path: Path) -> dict:
    if not path.exists():
        return {}
    engine = sqlalchemy.create_engine(f"sqlite:///{path}", poolclass=sqlalchemy.NullPool)
    try:
        with engine.connect() as connection:  # one connection: the schema, then the rows
            inspector = sqlalchemy.inspect(connection)
            tables = {name: _table(inspector, name) for name in sorted(inspector.get_table_names())}
            for name, table in tables.items():
                rows = connection.exec_driver_sql(f'SELECT * FROM "{name}"').fetchall()
                table["rows"] = sorted([_value(v) for v in row] for row in rows)
    finally:
        engine.dispose()
    versions = tables.get("alembic_version", {}).get("rows", [])
    return {"current": sorted(row[0] for row in versions), "tables": tables}


def _table(inspector, name: str) -> dict:
    columns = [
        [c["name"], str(c["type"]), c["nullable"], _default(c.get("default"))]
        for c in inspector.get_columns(name)
    ]
    return {
        "columns": columns,
        "primary_key": inspector.get_pk_constraint(name).get("constrained_columns", []),
        "foreign_keys": sorted(
            [fk["constrained_columns"], fk["referred_table"], fk["referred_columns"]]
            for fk in inspector.get_foreign_keys(name)
        ),
        "indexes": sorted(
            [ix["name"], ix["column_names"], bool(ix["unique"])]
            for ix in inspector.get_indexes(name)
        ),
        "unique_constraints": sorted(
            [uq["name"] or "", uq["column_names"]] for uq in inspector.get_unique_constraints(name)
        ),
    }


def _default(default) -> str | None:
    return None if default is None else re.sub(r"\s+", " ", str(default)).strip("()' ")


def _value(value):
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str) and _TIMESTAMP.match(value):
        return "<timestamp>"
    return value


def differences(before: dict, after: dict, *, limit: int = 20) -> list[str]:
    """Where ``after`` differs from ``before`` (two :func:`project_state` results): one
    line each, at most ``limit`` lines (the last says how many more)."""
    found: list[str] = []
    _compare("", before, after, found)
    if len(found) > limit:
        found = found[: limit - 1] + [f"... and {len(found) - limit + 1} more differences"]
    return found


def _compare(where: str, a, b, found: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            inner = f"{where}/{key}" if where else str(key)
            if key not in a:
                found.append(f"{inner}: only in the second ({_short(b[key])})")
            elif key not in b:
                found.append(f"{inner}: only in the first ({_short(a[key])})")
            else:
                _compare(inner, a[key], b[key], found)
    elif a != b:
        found.append(f"{where}: {_short(a)} != {_short(b)}")


def _short(value, width: int = 160) -> str:
    text = repr(value).replace("\\n", " | ")
    return text if len(text) <= width else text[: width - 3] + "..."
