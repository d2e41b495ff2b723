"""The rows view: a table's first rows, or a query's rows, as aligned text and an HTML table.

Values are shown as stored (columns are read untyped, with no conversion), one line per
value, so the same rows print the same in every run and every viewer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

import sqlalchemy as sa

from workbook.views.display import View, as_names, clip
from workbook.views.schema import connect


def _cell(value) -> str:
    """One value, as it is stored, on one line: the same in every run and viewer."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return clip("x'" + value.hex() + "'", 40)
    if isinstance(value, float):
        return repr(value)
    return clip(str(value).replace("\r", "\\r").replace("\n", "\\n"), 40)


class RowsView(View):
    """A table's first rows: aligned text and an HTML table."""

    picture_mime = "text/html"

    def __init__(self, table: str, columns: list[str], data: list[tuple], total: int) -> None:
        self.table, self.columns, self.data, self.total = table, columns, data, total

    def _footer(self) -> str:
        if len(self.data) < self.total:
            return f"(showing {len(self.data)} of {self.total} rows)"
        return f"({self.total} row{'' if self.total == 1 else 's'})"

    def _numeric(self, i: int) -> bool:
        values = [row[i] for row in self.data if row[i] is not None]
        return bool(values) and all(isinstance(v, (int, float)) for v in values)

    def _make_text(self) -> str:
        cells = [[_cell(v) for v in row] for row in self.data]
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(self.columns)]
        right = [self._numeric(i) for i in range(len(self.columns))]

        def line(values):
            return "  ".join(
                v.rjust(w) if r else v.ljust(w)
                for v, w, r in zip(values, widths, right, strict=True)
            ).rstrip()

        lines = [line(self.columns), line(["-" * w for w in widths])]
        lines += [line(r) for r in cells] + [self._footer()]
        return "\n".join(lines)

    def _make_picture(self) -> str:
        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = []
        for row in self.data:
            tds = "".join(
                "<td><em>NULL</em></td>" if v is None else f"<td>{escape(_cell(v))}</td>"
                for v in row
            )
            body.append(f"<tr>{tds}</tr>")
        body_text = "".join(line + "\n" for line in body)
        return (
            f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body_text}</tbody>\n"
            f"</table>\n<p>{escape(self._footer())}</p>\n"
        )

    html = View.picture


class QueryView(RowsView):
    """The rows one SQL query returned: a table on display, the rows as tuples in code.

    It is a read-only sequence of tuples (``result[0][0]``, ``for (name,) in result``,
    ``len(result)``) and equals any sequence of the same rows (``result == [(1, "a")]``), another
    result included.
    ``str()`` is the list of tuples, so ``print("rows:", result)`` stays one line;
    ``repr()`` and the notebook's display are the table.
    """

    def __init__(self, sql: str, columns: list[str], data: list[tuple]) -> None:
        super().__init__("", columns, data, len(data))
        self.sql = sql

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index):
        return self.data[index]

    def __iter__(self):
        return iter(self.data)

    def __eq__(self, other) -> bool:
        if isinstance(other, QueryView | Sequence) and not isinstance(other, str):
            return self.data == list(other)
        return NotImplemented

    __hash__ = None  # equal to lists, which are not hashable

    def __str__(self) -> str:
        return str(self.data)


def rows(
    bind, table: str, limit: int | None = 20, order_by: str | Iterable[str] | None = None
) -> RowsView:
    """Up to ``limit`` rows of ``table``, ordered by ``order_by`` (column names; a leading
    ``-`` sorts descending), by default by the primary key, else by every column."""
    with connect(bind) as conn:
        insp = sa.inspect(conn)
        names = sorted(insp.get_table_names())
        if table not in names:
            raise ValueError(
                f"no table named {table!r}; existing tables: {', '.join(names) or '(none)'}"
            )
        columns = [c["name"] for c in insp.get_columns(table)]
        order = as_names(order_by) or tuple(
            insp.get_pk_constraint(table).get("constrained_columns") or columns
        )
        unknown = sorted(c.lstrip("-") for c in order if c.lstrip("-") not in columns)
        if unknown:
            raise ValueError(
                f"no column(s) {', '.join(unknown)} in {table}; columns: {', '.join(columns)}"
            )
        # Untyped columns: values come back exactly as stored, with no type conversion.
        t = sa.table(table, *(sa.column(c) for c in columns))
        keys = [t.c[c[1:]].desc() if c.startswith("-") else t.c[c] for c in order]
        data = [tuple(r) for r in conn.execute(sa.select(t).order_by(*keys).limit(limit))]
        total = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
    return RowsView(table, columns, data, total)


def query(bind, sql: str, **params) -> QueryView:
    """The rows of one SQL statement (a ``SELECT`` or a ``PRAGMA``), sent to the driver as
    written, with ``params`` in the driver's style (SQLite: ``:name``); ``bind`` as for
    :func:`rows`. Raises what the database raises for bad SQL
    (``sqlalchemy.exc.OperationalError``)."""
    with connect(bind) as conn:
        result = conn.exec_driver_sql(sql, params) if params else conn.exec_driver_sql(sql)
        columns = list(result.keys())
        data = [tuple(r) for r in result]
    return QueryView(sql, columns, data)
