"""Pictures of the database and of the migration history, for the workbook's notebooks.

Every view is a small object that Jupyter displays through ``_repr_mimebundle_``:

- ``text/plain``: a sorted, deterministic text form (also ``.text`` and ``repr()``), which
  is what plain-text viewers, nbval and the tests read;
- ``image/svg+xml`` (``text/html`` for ``rows``): a picture laid out by hand here, with no
  graphviz and no JavaScript, so JupyterLab, nbviewer and GitHub all show the same thing;
- ``.mermaid``: the same diagram as Mermaid source, for pasting into Markdown.

Outputs are byte-for-byte reproducible (nbval compares them): no memory addresses, no
paths, no timestamps, everything sorted. The SVGs use presentation attributes only, no
``<style>`` and no ids: JupyterLab shows an SVG as an <img>, but other front ends inline
it into the page, where CSS classes and ids would leak into the rest of the notebook.
A white background keeps the pictures readable under dark themes too.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection, Engine

__all__ = [
    "ColumnInfo", "IndexInfo", "UniqueInfo", "ForeignKeyInfo", "TableInfo", "SchemaSnapshot",
    "SchemaView", "DiffView", "GraphView", "RowsView",
    "snapshot_schema", "schema", "schema_diff", "revision_graph", "rows",
]

SANS = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, 'DejaVu Sans', sans-serif"
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"
INK, MUTED, FAINT, TITLE = "#1e293b", "#64748b", "#94a3b8", "#1e1b4b"
HEADER, STRIPE, EDGE = "#e0e7ff", "#f8fafc", "#64748b"
PK_INK, FK_INK = "#b45309", "#1d4ed8"
GREEN, RED, AMBER = ("#dcfce7", "#166534"), ("#fee2e2", "#991b1b"), ("#fef3c7", "#92400e")
TMP_PREFIX = "_alembic_tmp_"
LEFTOVER_NOTE = "  (leftover from a crashed batch migration)"


# --- SVG drawing ---------------------------------------------------------------------


def _n(value: float) -> str:
    """A coordinate with at most one decimal: floats must print the same everywhere."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _width(text: str, size: float, mono: bool = True) -> float:
    """Estimated text width, a little generous: DejaVu (the Linux fallback) is wide."""
    return len(text) * size * (0.61 if mono else 0.55)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Svg:
    """Collects SVG elements; ``render`` wraps them with a white background and border."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def rect(self, x, y, w, h, fill="#ffffff", stroke="none", rx=0, sw=1, dash=None):
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="{_n(rx)}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{_n(sw)}"{extra}/>'
        )

    def text(self, x, y, text, size=12, fill=INK, mono=True, bold=False, anchor="start",
             italic=False):
        attrs = f' font-family="{MONO}"' if mono else ""
        attrs += ' font-weight="bold"' if bold else ""
        attrs += ' font-style="italic"' if italic else ""
        attrs += f' text-anchor="{anchor}"' if anchor != "start" else ""
        self.parts.append(
            f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" fill="{fill}"{attrs}>'
            f"{escape(text)}</text>"
        )

    def path(self, points, stroke=EDGE, sw=1.4, dash=None, fill="none"):
        d = "M" + " L".join(f"{_n(x)},{_n(y)}" for x, y in points)
        if fill != "none":
            d += " Z"
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<path d="{d}" fill="{fill}" stroke="{stroke}" stroke-width="{_n(sw)}"{extra}/>'
        )

    def arrowhead(self, x, y, direction, color=EDGE):
        """A small filled triangle with its tip at (x, y); direction is +1 down, -1 up."""
        back = y - 8 * direction
        self.path([(x, y), (x - 4.5, back), (x + 4.5, back)], stroke=color, sw=1, fill=color)

    def pill(self, x, y, label, colors, anchor_right=True):
        """A small rounded tag; returns its width. (x, y) is its right or left end, middle."""
        bg, ink = colors
        w = _width(label, 10, mono=False) + 10
        left = x - w if anchor_right else x
        self.rect(left, y - 8, w, 16, fill=bg, rx=8)
        self.text(left + w / 2, y + 3.5, label, size=10, fill=ink, mono=False, bold=True,
                  anchor="middle")
        return w

    def render(self, width: float, height: float) -> str:
        w, h = _n(width), _n(height)
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" font-family="{SANS}" font-size="12">'
        )
        frame = (f'<rect x="0.5" y="0.5" width="{_n(width - 1)}" height="{_n(height - 1)}" '
                 f'rx="6" fill="#ffffff" stroke="#e2e8f0"/>')
        return "\n".join([head, frame, *self.parts, "</svg>"]) + "\n"


def _message_svg(message: str) -> str:
    """The small picture for an empty state: a sentence in a box."""
    svg = _Svg()
    svg.text(20, 34, message, size=13, fill=MUTED, mono=False, italic=True)
    return svg.render(max(240, _width(message, 13, mono=False) + 40), 56)


class _View:
    """Shared display plumbing: text and picture are computed once, on first use."""

    picture_mime = "image/svg+xml"

    def _make_text(self) -> str:
        raise NotImplementedError

    def _make_picture(self) -> str:
        raise NotImplementedError

    @property
    def text(self) -> str:
        if getattr(self, "_text", None) is None:
            self._text = self._make_text()
        return self._text

    @property
    def picture(self) -> str:
        """The SVG (HTML for ``rows``); also available as ``.svg`` or ``.html``."""
        if getattr(self, "_picture", None) is None:
            self._picture = self._make_picture()
        return self._picture

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": self.text, self.picture_mime: self.picture}
        return {
            mime: data for mime, data in bundle.items()
            if (not include or mime in include) and (not exclude or mime not in exclude)
        }

    def __repr__(self) -> str:
        return self.text


# --- Reading the schema --------------------------------------------------------------


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str  # as the database's dialect spells it, e.g. "VARCHAR(255)"
    nullable: bool
    primary_key: bool = False
    default: str | None = None  # server default, as reflected (e.g. "CURRENT_TIMESTAMP")

    def describe(self) -> str:
        flags = ["PK" if self.primary_key else "" if self.nullable else "NOT NULL"]
        if self.default is not None:
            flags.append(f"DEFAULT {self.default}")
        return " ".join(part for part in [self.type or "(no type)", *flags] if part)


@dataclass(frozen=True)
class IndexInfo:
    name: str
    columns: tuple[str, ...]
    unique: bool = False

    def describe(self) -> str:
        unique = " UNIQUE" if self.unique else ""
        return f"index {self.name} ({', '.join(self.columns)}){unique}"


@dataclass(frozen=True)
class UniqueInfo:
    name: str | None  # SQLite reflects unnamed constraints as None
    columns: tuple[str, ...]

    def describe(self) -> str:
        return f"unique {self.name or '(unnamed)'} ({', '.join(self.columns)})"


@dataclass(frozen=True)
class ForeignKeyInfo:
    name: str | None
    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    ondelete: str | None = None

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
    columns: tuple[ColumnInfo, ...]  # in the table's own order
    indexes: tuple[IndexInfo, ...] = ()  # sorted by name, and so on below
    uniques: tuple[UniqueInfo, ...] = ()
    foreign_keys: tuple[ForeignKeyInfo, ...] = ()

    @property
    def is_leftover(self) -> bool:
        """A batch migration copies into _alembic_tmp_<name>; a crash leaves it behind."""
        return self.name.startswith(TMP_PREFIX)

    def fk_targets(self) -> dict[str, str]:
        return {col: fk.target for fk in self.foreign_keys for col in fk.columns}


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
        return SchemaView(self)._repr_mimebundle_(include, exclude)


@contextmanager
def _connection(bind):
    """A sync Connection for an Engine, a Connection or a URL (an engine made and disposed)."""
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
        # sqlite3 would silently create an empty file for a mistyped path.
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
                   c["name"] in pk, None if c.get("default") is None else str(c["default"]))
        for c in insp.get_columns(name)
    )
    indexes = sorted(
        (IndexInfo(ix["name"], _index_columns(ix), bool(ix["unique"]))
         for ix in insp.get_indexes(name)), key=lambda ix: ix.name)
    uniques = sorted(
        (UniqueInfo(uq["name"], tuple(uq["column_names"]))
         for uq in insp.get_unique_constraints(name)),
        key=lambda uq: (uq.name or "", uq.columns))
    fks = sorted(
        (ForeignKeyInfo(fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"],
                        tuple(fk["referred_columns"]), (fk.get("options") or {}).get("ondelete"))
         for fk in insp.get_foreign_keys(name)),
        key=lambda fk: (fk.name or "", fk.columns, fk.target))
    return TableInfo(name, columns, tuple(indexes), tuple(uniques), tuple(fks))


def snapshot_schema(bind, include_version_table: bool = False) -> SchemaSnapshot:
    """Read every table's columns, indexes and constraints into frozen dataclasses.

    ``bind`` is a sync Engine or Connection, or a URL (``sqlite:///app.db``; the app's
    ``sqlite+aiosqlite://`` URLs are read with the sync driver). ``alembic_version`` is left
    out unless asked for; leftover ``_alembic_tmp_*`` tables are kept, since they matter.
    """
    with _connection(bind) as conn:
        insp = sa.inspect(conn)
        names = sorted(
            n for n in insp.get_table_names()
            if not n.startswith("sqlite_") and (include_version_table or n != "alembic_version")
        )
        return SchemaSnapshot(tuple(_read_table(insp, conn.dialect, n) for n in names))


# --- Schema view ---------------------------------------------------------------------


def _leftover_warnings(snapshot: SchemaSnapshot) -> list[tuple[str, str]]:
    """(headline, advice) per leftover _alembic_tmp_* table."""
    warnings = []
    for name in snapshot.leftovers:
        original = name[len(TMP_PREFIX):]
        if original in snapshot.table_names:
            advice = f"check that {original} still holds its rows, then DROP TABLE {name}"
        else:
            advice = f"{original} is gone and its rows are in {name}: rename it back first"
        warnings.append((f"WARNING: leftover table {name}: a batch migration crashed halfway",
                         advice))
    return warnings


def _table_text(table: TableInfo) -> list[str]:
    name_w = max(len(c.name) for c in table.columns) if table.columns else 0
    type_w = max(len(c.type) for c in table.columns) if table.columns else 0
    lines = [table.name + (LEFTOVER_NOTE if table.is_leftover else "")]
    for col in table.columns:
        flags = col.describe()[len(col.type or "(no type)"):].strip()
        lines.append(f"  {col.name:<{name_w}}  {col.type:<{type_w}}  {flags}".rstrip())
    for item in (*table.indexes, *table.uniques, *table.foreign_keys):
        keyword, rest = item.describe().split(" ", 1)
        lines.append(f"  {keyword:<6} {rest}")
    return lines


class SchemaView(_View):
    """Tables, columns and constraints: an aligned text listing and an ER diagram."""

    svg = _View.picture

    def __init__(self, snapshot: SchemaSnapshot) -> None:
        self.snapshot = snapshot

    def _make_text(self) -> str:
        if not self.snapshot.tables:
            return "(no tables yet)"
        warnings = [f"{head}; {advice}" for head, advice in _leftover_warnings(self.snapshot)]
        blocks = ["\n".join(warnings)] if warnings else []
        blocks += ["\n".join(_table_text(t)) for t in self.snapshot.tables]
        return "\n\n".join(blocks)

    def _make_picture(self) -> str:
        if not self.snapshot.tables:
            return _message_svg("(no tables yet)")
        return _er_svg(self.snapshot)

    @property
    def mermaid(self) -> str:
        lines = ["erDiagram"]
        names = set(self.snapshot.table_names)
        for table in self.snapshot.tables:
            fk_cols = set(table.fk_targets())
            uq_cols = {cols[0] for cols in [u.columns for u in table.uniques]
                       + [i.columns for i in table.indexes if i.unique] if len(cols) == 1}
            lines.append(f"    {_mermaid_name(table.name)} {{")
            for col in table.columns:
                keys = [k for k, on in (("PK", col.primary_key), ("FK", col.name in fk_cols),
                                        ("UK", col.name in uq_cols)) if on]
                note = '"NOT NULL"' if not col.nullable and not col.primary_key else ""
                parts = [_mermaid_type(col.type), col.name, ",".join(keys), note]
                lines.append("        " + " ".join(p for p in parts if p))
            lines.append("    }")
        for table in self.snapshot.tables:
            for fk in table.foreign_keys:
                if fk.referred_table in names:
                    nullable = any(c.nullable for c in table.columns if c.name in fk.columns)
                    left = "|o" if nullable else "||"
                    lines.append(f"    {_mermaid_name(fk.referred_table)} {left}--o{{ "
                                 f'{_mermaid_name(table.name)} : "{", ".join(fk.columns)}"')
        return "\n".join(lines) + "\n"


def _mermaid_name(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name) else f'"{name}"'


def _mermaid_type(type_: str) -> str:
    """Mermaid attribute types allow letters, digits, _ - ( ) [ ] only."""
    return re.sub(r"[^A-Za-z0-9_()\[\]-]", "_", type_) or "UNKNOWN"


def schema(bind, tables: Iterable[str] | str | None = None) -> SchemaView:
    """The schema of ``bind`` (an Engine, Connection, URL or a SchemaSnapshot) as a view."""
    snap = bind if isinstance(bind, SchemaSnapshot) else snapshot_schema(bind)
    if tables is not None:
        wanted = {tables} if isinstance(tables, str) else set(tables)
        unknown = sorted(wanted - set(snap.table_names))
        if unknown:
            raise ValueError(f"unknown table(s): {', '.join(unknown)}; existing tables: "
                             f"{', '.join(snap.table_names) or '(none)'}")
        snap = SchemaSnapshot(tuple(t for t in snap.tables if t.name in wanted))
    return SchemaView(snap)


# --- ER diagram layout ---------------------------------------------------------------
# Tables are placed in layers by foreign keys: referenced ("parent") tables on top, the
# tables pointing at them below, as a learner reads "books.publisher_id -> publishers".
# An edge that skips layers passes through narrow placeholder slots in the layers between,
# so lines never cross a box. Tables without any relationship go in a grid at the bottom.

ROW_H, HEAD_H, CHAR = 20, 28, 12 * 0.61
H_GAP, V_GAP, MARGIN, SLOT_W = 36, 64, 20, 12


@dataclass
class _Box:
    key: str  # a table name, or "~child~parent~n" for a placeholder slot
    w: float
    h: float
    x: float = 0.0
    y: float = 0.0
    table: TableInfo | None = None


def _table_box(table: TableInfo) -> _Box:
    targets = table.fk_targets()
    name_w = max((len(c.name) for c in table.columns), default=0)
    type_w = max((len(_type_cell(c, targets)) for c in table.columns), default=0)
    width = max(_marker_w(table) + 10 + (name_w + type_w) * CHAR + 12,
                _width(table.name, 13) + 10) + 20
    return _Box(table.name, width, HEAD_H + ROW_H * len(table.columns) + 6, table=table)


def _marker_w(table: TableInfo) -> float:
    return 22 * (any(c.primary_key for c in table.columns) + bool(table.foreign_keys))


def _type_cell(col: ColumnInfo, targets: dict[str, str]) -> str:
    return col.type + (f" → {targets[col.name]}" if col.name in targets else "")


def _layers(tables: tuple[TableInfo, ...]):
    """Layer index per table (longest path from a table with no parents); cycles are cut."""
    names = {t.name for t in tables}
    parents = {t.name: sorted({fk.referred_table for fk in t.foreign_keys
                               if fk.referred_table in names and fk.referred_table != t.name})
               for t in tables}
    depth: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> int:
        if name not in depth:
            depth[name] = 1 + max((visit(p, path + (name,)) for p in parents[name]
                                   if p not in path), default=-1)
        return depth[name]

    for name in sorted(names):
        visit(name, ())
    edges = sorted((c, p) for c, ps in parents.items() for p in ps if depth[c] > depth[p])
    return depth, edges


def _order_layers(layers: list[list[_Box]], ups: dict[str, list[str]]) -> None:
    """Sort each layer by the mean position of the boxes above it (fewer crossings)."""
    for i in range(1, len(layers)):
        pos = {b.key: j for j, b in enumerate(layers[i - 1])}
        layers[i].sort(key=lambda b: (
            sum(pos[u] for u in ups[b.key]) / max(1, len(ups[b.key])), b.key))


def _er_layout(snapshot: SchemaSnapshot):
    boxes = {t.name: _table_box(t) for t in snapshot.tables}
    depth, edges = _layers(snapshot.tables)
    linked = {n for e in edges for n in e}
    layers: list[list[_Box]] = [[] for _ in range(max((depth[n] for n in linked), default=-1) + 1)]
    ups: dict[str, list[str]] = {n: [] for n in boxes}
    chains = []  # each edge as the list of box keys from parent (top) down to child
    for name in sorted(linked):
        layers[depth[name]].append(boxes[name])
    for n, (child, parent) in enumerate(edges):
        chain = [parent]
        for layer in range(depth[parent] + 1, depth[child]):
            slot = _Box(f"~{child}~{parent}~{n}", SLOT_W, 0)
            layers[layer].append(slot)
            ups[slot.key] = [chain[-1]]
            chain.append(slot.key)
            boxes[slot.key] = slot
        ups[child].append(chain[-1])
        chains.append(chain + [child])
    _order_layers(layers, ups)
    rows = [layer for layer in layers if layer]
    rows += _grid_rows([boxes[t.name] for t in snapshot.tables if t.name not in linked], 760)
    return boxes, rows, chains


def _grid_rows(items: list[_Box], max_w: float) -> list[list[_Box]]:
    rows: list[list[_Box]] = []
    for box in items:
        if rows and sum(b.w + H_GAP for b in rows[-1]) + box.w <= max_w:
            rows[-1].append(box)
        else:
            rows.append([box])
    return rows


def _place(rows: list[list[_Box]], top: float) -> tuple[float, float, list[tuple[float, float]]]:
    """Center each row; boxes top-aligned, slots stretched to the row's height."""
    width = max(sum(b.w for b in row) + H_GAP * (len(row) - 1) for row in rows)
    bands, y = [], top
    for row in rows:
        band_h = max(b.h for b in row)
        x = MARGIN + (width - sum(b.w for b in row) - H_GAP * (len(row) - 1)) / 2
        for box in row:
            box.x, box.y = x, y
            box.h = box.h or band_h
            x += box.w + H_GAP
        bands.append((y, y + band_h))
        y += band_h + V_GAP
    return width, y - V_GAP, bands


def _attach_points(chains, boxes) -> dict[tuple[str, int, str], float]:
    """Spread the lines leaving a box's bottom (or entering its top) along that side."""
    ends: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for i, chain in enumerate(chains):
        for upper, lower in zip(chain, chain[1:]):
            ends.setdefault((upper, "bottom"), []).append((boxes[lower].x + boxes[lower].w / 2, i))
            ends.setdefault((lower, "top"), []).append((boxes[upper].x + boxes[upper].w / 2, i))
    points = {}
    for (key, side), items in ends.items():
        box = boxes[key]
        for k, (_, i) in enumerate(sorted(items)):
            points[(key, i, side)] = box.x + box.w * (k + 1) / (len(items) + 1)
    return points


def _er_svg(snapshot: SchemaSnapshot) -> str:
    svg = _Svg()
    warnings = _leftover_warnings(snapshot)
    top = MARGIN + 40 * len(warnings) + (8 if warnings else 0)
    for i, (head, advice) in enumerate(warnings):  # on top: a crashed migration comes first
        svg.text(MARGIN, MARGIN + 12 + 40 * i, head, size=12, fill=RED[1], mono=False, bold=True)
        svg.text(MARGIN, MARGIN + 30 + 40 * i, advice, size=12, fill=RED[1], mono=False)
    boxes, rows, chains = _er_layout(snapshot)
    width, bottom, bands = _place(rows, top)
    band_of = {b.key: band for row, band in zip(rows, bands) for b in row}
    points = _attach_points(chains, boxes)
    for i, chain in enumerate(chains):
        _draw_fk_edge(svg, chain, i, boxes, band_of, points)
    for table in snapshot.tables:
        _draw_table(svg, boxes[table.name])
    legend_w = _er_legend(svg, MARGIN, bottom + 28)
    total_w = max(width + 2 * MARGIN, legend_w + 2 * MARGIN,
                  max((_width(t, 12, mono=False) * 1.1 + 2 * MARGIN for w in warnings for t in w),
                      default=0))
    return svg.render(total_w, bottom + 44)


def _er_legend(svg: _Svg, x0: float, y: float) -> float:
    """Key to the markers, one item after another; returns its width."""
    x = x0
    for mark, ink, words in (("PK", PK_INK, "primary key"), ("FK", FK_INK, "foreign key"),
                             ("●", MUTED, "NOT NULL"),
                             ("", EDGE, "foreign key → referenced table")):
        if mark:
            svg.text(x, y, mark, size=10, fill=ink, bold=True)
        else:  # a sample of the line style, arrowhead at the referenced end
            svg.path([(x + 6, y + 2), (x + 6, y - 14)])
            svg.arrowhead(x + 6, y - 14, -1)
        svg.text(x + 20, y, words, size=11, fill=MUTED, mono=False)
        x += 20 + _width(words, 11, mono=False) + 22
    return x - x0


def _draw_fk_edge(svg, chain, i, boxes, band_of, points) -> None:
    """Parent at the top, child below: orthogonal lines with a track per edge in each gap."""
    pts = []
    for upper, lower in zip(chain, chain[1:]):
        ux = points[(upper, i, "bottom")] if boxes[upper].table else boxes[upper].x + SLOT_W / 2
        lx = points[(lower, i, "top")] if boxes[lower].table else boxes[lower].x + SLOT_W / 2
        start = boxes[upper].y + boxes[upper].h
        gap_top, gap_bottom = band_of[upper][1], band_of[lower][0]
        track = gap_top + 16 + (i % 5) * 8  # distinct heights keep crossing lines apart
        if upper == chain[0]:
            pts.append((ux, start))
        pts += [(ux, track), (lx, track), (lx, gap_bottom)]
        if not boxes[lower].table:
            pts.append((lx, boxes[lower].y + boxes[lower].h))
    svg.path(pts)
    svg.arrowhead(pts[0][0], pts[0][1], -1)


def _draw_table(svg: _Svg, box: _Box) -> None:
    table, x, y, w = box.table, box.x, box.y, box.w
    leftover = table.is_leftover
    stroke = RED[1] if leftover else FAINT
    svg.rect(x, y, w, box.h, fill="#ffffff", stroke=stroke, rx=6, dash="5 3" if leftover else None)
    r = 6  # header: a path with only its top corners rounded
    svg.parts.append(
        f'<path d="M{_n(x)},{_n(y + HEAD_H)} V{_n(y + r)} Q{_n(x)},{_n(y)} {_n(x + r)},{_n(y)} '
        f'H{_n(x + w - r)} Q{_n(x + w)},{_n(y)} {_n(x + w)},{_n(y + r)} V{_n(y + HEAD_H)} Z" '
        f'fill="{RED[0] if leftover else HEADER}"/>'
    )
    svg.text(x + 10, y + 19, table.name, size=13, fill=RED[1] if leftover else TITLE, bold=True)
    targets, mark_w = table.fk_targets(), _marker_w(table)
    name_x = x + 10 + mark_w + 10
    type_x = name_x + max((len(c.name) for c in table.columns), default=0) * CHAR + 12
    for i, col in enumerate(table.columns):
        top = y + HEAD_H + i * ROW_H
        if i % 2:
            svg.rect(x + 1, top, w - 2, ROW_H, fill=STRIPE)
        base = top + 14
        slot = x + 10
        if col.primary_key:
            svg.text(slot, base, "PK", size=10, fill=PK_INK, bold=True)
        if col.name in targets:
            fk_x = slot + (22 if mark_w > 22 else 0)  # second slot when the table has a PK
            svg.text(fk_x, base, "FK", size=10, fill=FK_INK, bold=True)
        if not col.nullable:
            svg.parts.append(
                f'<circle cx="{_n(name_x - 6)}" cy="{_n(base - 4)}" r="2.5" fill="{MUTED}"/>')
        svg.text(name_x, base, col.name, fill=INK)
        svg.text(type_x, base, _type_cell(col, targets), fill=MUTED)
    svg.parts.append(f'<line x1="{_n(x)}" y1="{_n(y + HEAD_H)}" x2="{_n(x + w)}" '
                     f'y2="{_n(y + HEAD_H)}" stroke="{stroke}" stroke-width="1"/>')
    svg.rect(x, y, w, box.h, fill="none", stroke=stroke, rx=6, dash="5 3" if leftover else None)


# --- Schema diff ---------------------------------------------------------------------

KINDS = ("column", "index", "unique", "fk")


def _items(table: TableInfo | None) -> dict[tuple[str, str], str]:
    """Everything in a table, keyed by (kind, name), each with its one-line description."""
    if table is None:
        return {}
    items = {("column", c.name): c.describe() for c in table.columns}
    for kind, group in (("index", table.indexes), ("unique", table.uniques),
                        ("fk", table.foreign_keys)):
        for obj in group:  # unnamed constraints are keyed by what they are
            text = obj.describe().split(" ", 1)[1]  # without the leading kind word
            items[(kind, obj.name or text.split(" ", 1)[1])] = text
    return items


def _column_change(old: ColumnInfo, new: ColumnInfo) -> str:
    changes = []
    if old.type != new.type:
        changes.append(f"type {old.type} -> {new.type}")
    if old.nullable != new.nullable:
        changes.append("NULL -> NOT NULL" if old.nullable else "NOT NULL -> NULL")
    if old.default != new.default:
        changes.append(f"default {old.default or '(none)'} -> {new.default or '(none)'}")
    if old.primary_key != new.primary_key:
        changes.append("became PK" if new.primary_key else "no longer PK")
    return "; ".join(changes)


def _table_changes(old: TableInfo | None, new: TableInfo | None) -> list[tuple[str, ...]]:
    """(sign, kind, name, text) for each difference in one table, sorted by kind and name."""
    before, after = _items(old), _items(new)
    changes = []
    for key in sorted(before.keys() | after.keys(), key=lambda k: (KINDS.index(k[0]), k[1])):
        kind, name = key
        if key not in before:
            changes.append(("+", kind, name, f"{kind} {name} {after[key]}" if kind == "column"
                            else f"{kind} {after[key]}"))
        elif key not in after:
            changes.append(("-", kind, name, f"{kind} {name} {before[key]}" if kind == "column"
                            else f"{kind} {before[key]}"))
        elif before[key] != after[key]:
            if kind == "column":
                detail = _column_change(old.columns[[c.name for c in old.columns].index(name)],
                                        new.columns[[c.name for c in new.columns].index(name)])
            else:  # the name is the key: show only what it covers now and before
                detail = f"{before[key].split(' ', 1)[1]} -> {after[key].split(' ', 1)[1]}"
            changes.append(("~", kind, name, f"{kind} {name}: {detail}"))
    return changes


class DiffView(_View):
    """What changed between two snapshots: text with + - ~, and before/after boxes."""

    svg = _View.picture

    def __init__(self, before: SchemaSnapshot, after: SchemaSnapshot) -> None:
        self.before, self.after = before, after
        self.olds = olds = {t.name: t for t in before.tables}
        self.news = news = {t.name: t for t in after.tables}
        self.tables = []  # (sign, name, changes) for each table that differs
        for name in sorted(olds.keys() | news.keys()):
            changes = _table_changes(olds.get(name), news.get(name))
            sign = "+" if name not in olds else "-" if name not in news else "~"
            if changes or sign != "~":
                self.tables.append((sign, name, changes))

    @property
    def changes(self) -> tuple[str, ...]:
        """Every change as one line, e.g. '+ users: column bio TEXT'."""
        return tuple(f"{sign} {table}: {text}" for _, table, items in self.tables
                     for sign, _, _, text in items)

    def _make_text(self) -> str:
        if not self.tables:
            return "no schema changes"
        lines = []
        for sign, name, changes in self.tables:
            note = LEFTOVER_NOTE if name.startswith(TMP_PREFIX) else ""
            lines.append(f"{sign} table {name}{note}")
            lines += [f"    {s} {text}" for s, _, _, text in changes]
        return "\n".join(lines)

    def _make_picture(self) -> str:
        if not self.tables:
            return _message_svg("no schema changes")
        return _diff_svg(self)

    @property
    def mermaid(self) -> str:
        """The changed tables as an erDiagram; each attribute's note says what happened."""
        lines = ["erDiagram"]
        for _, name, changes in self.tables:
            marks = {n: s for s, kind, n, _ in changes if kind == "column"}
            old_cols = self.olds[name].columns if name in self.olds else ()
            cols = (self.news[name].columns if name in self.news else ()) + tuple(
                c for c in old_cols if marks.get(c.name) == "-")
            lines.append(f"    {_mermaid_name(name)} {{")
            for col in cols:
                note = {"+": "added", "-": "removed", "~": "changed"}.get(marks.get(col.name), "")
                lines.append(f"        {_mermaid_type(col.type)} {col.name}"
                             + (f' "{note}"' if note else ""))
            lines.append("    }")
        return "\n".join(lines) + "\n"


def schema_diff(before: SchemaSnapshot, after: SchemaSnapshot) -> DiffView:
    """Compare two snapshots (take one before and one after a migration)."""
    return DiffView(before, after)


def _merge_order(before: list, after: list) -> list:
    """Keys of both sides in one order: an addition goes right after its predecessor."""
    merged, prev = list(before), None
    for key in after:
        if key not in merged:
            merged.insert(merged.index(prev) + 1 if prev is not None else 0, key)
        prev = key
    return merged


def _picture_cells(table: TableInfo | None) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(name cell, short text, full text) per item: unchanged rows show the short text."""
    if table is None:
        return {}
    cells = {("column", c.name): (c.name, c.type, c.describe()) for c in table.columns}
    for ix in table.indexes:
        text = f"index {ix.name} ({', '.join(ix.columns)})" + (" UNIQUE" if ix.unique else "")
        cells[("index", ix.name)] = ("", text, text)
    for uq in table.uniques:
        text = f"unique {uq.name or ''} ({', '.join(uq.columns)})".replace("  ", " ")
        cells[("unique", uq.name or uq.describe().split(" ", 2)[2])] = ("", text, text)
    for fk in table.foreign_keys:  # the constraint's name is left out: too long to fit
        text = f"fk {', '.join(fk.columns)} → {fk.target}"
        text += f" ON DELETE {fk.ondelete}" if fk.ondelete else ""
        cells[("fk", fk.name or fk.describe().split(" ", 2)[2])] = ("", text, text)
    return cells


def _aligned_rows(old: TableInfo | None, new: TableInfo | None):
    """Pair up before/after items row by row, so a reader compares straight across."""
    before, after = _items(old), _items(new)
    cells_before, cells_after = _picture_cells(old), _picture_cells(new)
    merged = []
    for kind in KINDS:
        ordered = (lambda keys: keys) if kind == "column" else sorted  # columns keep table order
        merged += _merge_order(ordered([k for k in before if k[0] == kind]),
                               ordered([k for k in after if k[0] == kind]))
    rows = []
    for key in merged:
        state = ("+" if key not in before else "-" if key not in after
                 else "~" if before[key] != after[key] else " ")
        rows.append((state, cells_before.get(key), cells_after.get(key)))
    return rows


DIFF_FONT, DIFF_LIMIT = 11, 52  # two boxes of at most 52 characters fit in ~800px
DIFF_CHAR = DIFF_FONT * 0.61


def _diff_svg(view: DiffView) -> str:
    svg = _Svg()
    olds, news = view.olds, view.news
    sections = []
    for _, name, _ in view.tables:
        pairs = _aligned_rows(olds.get(name), news.get(name))
        name_w = min(18, max((len(c[0]) for _, *cs in pairs for c in cs if c), default=0))
        sections.append((name, pairs, name_w))
    longest = max(_row_chars(state, cell, name_w) for _, pairs, name_w in sections
                  for state, *cells in pairs for cell in cells if cell)
    box_w = max(min(longest, DIFF_LIMIT) * DIFF_CHAR + 18, _width(max(
        (n for n, _, _ in sections), key=len), 13) + 24, 180)
    left_x, right_x = 16, 16 + box_w + 32
    svg.text(left_x, 30, "before", size=13, fill=MUTED, mono=False, bold=True)
    svg.text(right_x, 30, "after", size=13, fill=MUTED, mono=False, bold=True)
    y = 42
    for name, pairs, name_w in sections:
        height = HEAD_H + ROW_H * len(pairs) + 6
        for x, present, side in ((left_x, name in olds, 0), (right_x, name in news, 1)):
            box = (x, y, box_w, height)
            if present:
                _diff_box(svg, box, name, pairs, side, name_w)
            else:
                _absent_box(svg, box, name)
        svg.text(left_x + box_w + 16, y + height / 2 + 5, "→", size=16, fill=MUTED, mono=False,
                 anchor="middle")
        y += height + 24
    x = left_x
    for label, colors in (("+ added", GREEN), ("- removed", RED), ("~ changed", AMBER)):
        x += svg.pill(x, y + 4, label, colors, anchor_right=False) + 10
    return svg.render(right_x + box_w + 16, y + 26)


def _row_chars(state: str, cell: tuple[str, str, str], name_w: int) -> int:
    first, short, full = cell
    text = short if state == " " else full
    return 2 + (name_w + 2 if first else 0) + len(text)


def _absent_box(svg: _Svg, box, name: str) -> None:
    x, y, w, h = box
    svg.rect(x, y, w, h, fill="#ffffff", stroke=FAINT, rx=6, dash="4 4")
    svg.text(x + w / 2, y + h / 2 + 4, f"(no table {name})", fill=FAINT, mono=False,
             italic=True, anchor="middle")


def _diff_box(svg: _Svg, box, name: str, pairs, side: int, name_w: int) -> None:
    x, y, w, h = box
    svg.rect(x, y, w, h, fill="#ffffff", stroke=FAINT, rx=6)
    svg.rect(x + 1, y + 1, w - 2, HEAD_H - 1, fill=HEADER, rx=5)
    svg.text(x + 10, y + 19, name, size=13, fill=TITLE, bold=True)
    for i, (state, *cells) in enumerate(pairs):
        cell, top = cells[side], y + HEAD_H + i * ROW_H
        if cell is None:
            continue
        colors = {"+": GREEN, "-": RED, "~": AMBER}.get(state)
        ink = colors[1] if colors else MUTED
        if colors:
            svg.rect(x + 1, top + 1, w - 2, ROW_H - 2, fill=colors[0])
            svg.text(x + 10, top + 14, state, size=DIFF_FONT, fill=ink, bold=True)
        first, short, full = cell
        text = short if state == " " else full
        text_x = x + 10 + 2 * DIFF_CHAR
        if first:  # a column: its name, then its type (and flags, if it changed), aligned
            desc_x = text_x + (name_w + 2) * DIFF_CHAR
            spans = [(text_x, _clip(first, name_w)),
                     (desc_x, _clip(text, DIFF_LIMIT - name_w - 4))]
        else:
            spans = [(text_x, _clip(text, DIFF_LIMIT - 2))]
        for sx, shown in spans:
            svg.text(sx, top + 14, shown, size=DIFF_FONT, fill=ink)
            if state == "-":  # struck through: drawn, since text-decoration is not everywhere
                svg.path([(sx, top + 10.5), (sx + len(shown) * DIFF_CHAR, top + 10.5)],
                         stroke=ink, sw=1)


# --- Revision graph ------------------------------------------------------------------


@dataclass(frozen=True)
class _Rev:
    revision: str
    message: str
    parents: tuple[str, ...]  # down_revision(s)
    dependencies: tuple[str, ...]  # depends_on, resolved to revision ids
    branch_labels: tuple[str, ...]
    is_head: bool
    is_base: bool
    is_branch_point: bool
    is_merge_point: bool
    is_current: bool

    @property
    def marks(self) -> list[str]:
        names = [("head", self.is_head), ("branchpoint", self.is_branch_point),
                 ("mergepoint", self.is_merge_point), ("base", self.is_base),
                 ("current", self.is_current)]
        return [name for name, on in names if on]


def _topological(revs: dict[str, _Rev]) -> list[str]:
    """Oldest first; among revisions ready at the same time, the smallest id first."""
    waiting = {r: len(set(v.parents + v.dependencies)) for r, v in revs.items()}
    children: dict[str, set[str]] = {r: set() for r in revs}
    for r, v in revs.items():
        for p in set(v.parents + v.dependencies):
            children[p].add(r)
    ready = [r for r, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        rev = heapq.heappop(ready)
        order.append(rev)
        for child in children[rev]:
            waiting[child] -= 1
            if not waiting[child]:
                heapq.heappush(ready, child)
    return order


def _lanes(order: list[str], revs: dict[str, _Rev]):
    """Columns like git log --graph: a node continues its first child's lane downwards.

    Returns (column per revision, lane per parent->child edge). A lane is reserved from the
    parent's row to the child's row, so no box is ever drawn on top of a line.
    """
    children: dict[str, list[str]] = {r: [] for r in order}
    for r in order:
        for p in revs[r].parents:
            children[p].append(r)
    lanes: list[tuple[str, str] | None] = []
    col, lane_of = {}, {}
    for rev in order:
        incoming = [i for i, e in enumerate(lanes) if e and e[1] == rev]
        col[rev] = min(incoming) if incoming else _free_lane(lanes)
        for i in incoming:
            lane_of[lanes[i]] = i
            lanes[i] = None
        for k, child in enumerate(sorted(children[rev], key=order.index)):
            i = col[rev] if k == 0 else _free_lane(lanes, avoid=col[rev])
            lanes[i] = (rev, child)
    return col, lane_of


def _free_lane(lanes: list, avoid: int = -1) -> int:
    for i, edge in enumerate(lanes):
        if edge is None and i != avoid:
            return i
    lanes.append(None)
    return len(lanes) - 1


class GraphView(_View):
    """The revision DAG: a git-log-like text graph and a top-to-bottom SVG."""

    svg = _View.picture

    def __init__(self, revs: dict[str, _Rev], unknown_current: tuple[str, ...] = ()) -> None:
        self.revisions = revs
        self.unknown_current = unknown_current
        self.order = _topological(revs)
        self.row = {r: i for i, r in enumerate(self.order)}
        self.col, self.lane_of = _lanes(self.order, revs)
        self.columns = max([*self.col.values(), *self.lane_of.values()], default=-1) + 1

    @property
    def heads(self) -> tuple[str, ...]:
        return tuple(r for r in self.order if self.revisions[r].is_head)

    def _label(self, rev: _Rev) -> str:
        parts = [rev.revision, *(f"[{b}]" for b in rev.branch_labels), " " + rev.message]
        tags = [f"({m})" for m in rev.marks]
        if rev.dependencies:
            tags.append(f"(depends on {', '.join(rev.dependencies)})")
        return " ".join(parts) + ("  " + " ".join(tags) if tags else "")

    def _make_text(self) -> str:
        if not self.revisions:
            lines = ["(no revisions yet)"]
        else:
            width = 2 * self.columns - 1
            lines = [(g.rstrip().ljust(width) + "  " + label).rstrip() if label else g.rstrip()
                     for g, label in self._graph_lines()]
        lines += [f"current revision {r} is not in this script directory"
                  for r in self.unknown_current]
        return "\n".join(lines)

    def _graph_lines(self):
        """Newest first: a node line per revision, plus connector lines where lanes bend."""
        edges = sorted(self.lane_of.items(), key=lambda kv: kv[1])
        out = []
        for r in reversed(range(len(self.order))):
            rev = self.order[r]
            chars = [" "] * (2 * self.columns)
            for (p, c), lane in edges:
                if self.row[p] < r < self.row[c]:
                    chars[2 * lane] = "|"
            chars[2 * self.col[rev]] = "*"
            out.append(("".join(chars), self._label(self.revisions[rev])))
            if r:
                out += self._connectors(rev, self.order[r - 1], edges)
        return out

    def _connectors(self, newer: str, older: str, edges):
        """The '|\\' under a merge and the '|/' over a branch point, as git draws them."""
        lines = []
        for end, node in (("child", newer), ("parent", older)):
            chars, bent = [" "] * (2 * self.columns), False
            for (p, c), lane in edges:
                if not (self.row[p] <= self.row[older] and self.row[c] >= self.row[newer]):
                    continue
                mine = (c if end == "child" else p) == node
                if mine and lane != self.col[node]:
                    bent = True
                    a, b = sorted((self.col[node], lane))
                    for i in range(2 * a + 1, 2 * b):
                        chars[i] = "-" if chars[i] == " " else chars[i]
                    going_right = lane > self.col[node]
                    mark = "\\" if (end == "child") == going_right else "/"
                    chars[2 * b - 1 if going_right else 2 * a + 1] = mark
                else:
                    chars[2 * lane] = "|"
            if bent:
                lines.append(("".join(chars), ""))
        return lines

    def _make_picture(self) -> str:
        if not self.revisions:
            return _message_svg("(no revisions yet)")
        return _graph_svg(self)

    @property
    def mermaid(self) -> str:
        def node(rev: str) -> str:
            return "r" + re.sub(r"\W", "_", rev)

        lines = ["flowchart TB"]
        for rev in self.order:
            info = self.revisions[rev]
            label = self._label(info).replace('"', "#quot;")
            lines.append(f'    {node(rev)}["{label}"]')
        for rev in self.order:
            info = self.revisions[rev]
            lines += [f"    {node(p)} --> {node(rev)}" for p in info.parents]
            lines += [f"    {node(d)} -.->|depends on| {node(rev)}" for d in info.dependencies]
        lines.append("    classDef head stroke-width:3px")
        lines.append("    classDef current fill:#dbeafe,stroke:#2563eb")
        for cls, attr in (("head", "is_head"), ("current", "is_current")):
            ids = [node(r) for r in self.order if getattr(self.revisions[r], attr)]
            if ids:
                lines.append(f"    class {','.join(ids)} {cls}")
        return "\n".join(lines) + "\n"


def _as_ids(current) -> tuple[str, ...]:
    if current is None:
        return ()
    return (current,) if isinstance(current, str) else tuple(current)


def revision_graph(script_directory, current: Iterable[str] | str | None = ()) -> GraphView:
    """The migration history of an ``alembic.script.ScriptDirectory`` (or a ``Config``).

    ``current`` holds the revision id(s) the database is at (e.g. from
    ``MigrationContext.get_current_heads()``); they get a "you are here" mark.
    """
    if isinstance(script_directory, Config):  # a convenience: alembic.ini's Config works too
        script_directory = ScriptDirectory.from_config(script_directory)
    scripts = sorted(script_directory.walk_revisions(), key=lambda s: s.revision)
    wanted, unknown, current_ids = _as_ids(current), [], set()
    for rev_id in wanted:
        try:
            current_ids.update(s.revision for s in script_directory.get_revisions(rev_id))
        except CommandError:  # unknown or ambiguous: say so rather than fail the display
            unknown.append(rev_id)
    revs = {}
    for s in scripts:
        deps = sorted({d.revision for dep in _as_ids(s.dependencies)
                       for d in script_directory.get_revisions(dep)})
        message = " ".join(s.doc.split()) or "(no message)"
        revs[s.revision] = _Rev(
            s.revision, message, tuple(sorted(_as_ids(s.down_revision))), tuple(deps),
            tuple(sorted(s.branch_labels)), s.is_head, s.is_base, s.is_branch_point,
            s.is_merge_point, s.revision in current_ids)
    return GraphView(revs, tuple(sorted(unknown)))


BOX_W, BOX_H, COL_GAP, ROW_GAP = 280, 44, 24, 30
CURRENT = ("#dbeafe", "#1d4ed8")
PILLS = {"head": ("#0f172a", "#ffffff"), "current": ("#2563eb", "#ffffff"),
         "mergepoint": ("#ede9fe", "#6d28d9"), "branchpoint": ("#ffedd5", "#c2410c"),
         "base": ("#f1f5f9", "#475569")}
PILL_TEXT = {"current": "you are here", "mergepoint": "merge", "branchpoint": "branch point"}


def _graph_svg(view: GraphView) -> str:
    svg = _Svg()
    deps = [(d, r) for r in view.order for d in view.revisions[r].dependencies]
    graph_w = view.columns * (BOX_W + COL_GAP) - COL_GAP + (14 + 10 * len(deps) if deps else 0)
    width = max(graph_w + 2 * MARGIN, 560)
    left = (width - graph_w) / 2  # a narrow graph is centered above the legend

    def box(rev: str) -> tuple[float, float]:
        return left + view.col[rev] * (BOX_W + COL_GAP), MARGIN + view.row[rev] * (BOX_H + ROW_GAP)

    for (parent, child), lane in sorted(view.lane_of.items(), key=lambda kv: kv[1]):
        _graph_edge(svg, box(parent), box(child), left + lane * (BOX_W + COL_GAP) + BOX_W / 2)
    gutter = left + view.columns * (BOX_W + COL_GAP) - COL_GAP + 14
    for k, (dep, rev) in enumerate(deps):
        (dx, dy), (rx, ry), gx = box(dep), box(rev), gutter + 10 * k
        svg.path([(dx + BOX_W, dy + BOX_H / 2), (gx, dy + BOX_H / 2), (gx, ry + BOX_H / 2),
                  (rx + BOX_W + 8, ry + BOX_H / 2)], dash="5 4")
        svg.path([(rx + BOX_W, ry + BOX_H / 2), (rx + BOX_W + 8, ry + BOX_H / 2 - 4.5),
                  (rx + BOX_W + 8, ry + BOX_H / 2 + 4.5)], sw=1, fill=EDGE, stroke=EDGE)
    for rev in view.order:
        _graph_node(svg, *box(rev), view.revisions[rev])
    bottom = MARGIN + len(view.order) * (BOX_H + ROW_GAP) - ROW_GAP + 26
    for rev in view.unknown_current:
        svg.text(MARGIN, bottom, f"current revision {rev} is not in this script directory",
                 fill=RED[1], mono=False, bold=True)
        bottom += 20
    bottom = _graph_legend(svg, MARGIN, bottom, width - 2 * MARGIN)
    return svg.render(width, bottom + 14)


def _graph_edge(svg, parent_xy, child_xy, lane_x) -> None:
    """Down from the parent, along the lane, into the child (bends just below/above boxes)."""
    (px, py), (cx, cy) = parent_xy, child_xy
    pcx, ccx = px + BOX_W / 2, cx + BOX_W / 2
    start_x = pcx if lane_x == pcx else min(max(lane_x, px + 24), px + BOX_W - 24)
    end_x = ccx if lane_x == ccx else min(max(lane_x, cx + 24), cx + BOX_W - 24)
    pts = [(start_x, py + BOX_H)]
    if start_x != lane_x:
        pts += [(start_x, py + BOX_H + 10), (lane_x, py + BOX_H + 10)]
    if end_x != lane_x:
        pts += [(lane_x, cy - 10), (end_x, cy - 10)]
    pts.append((end_x, cy - 1))
    svg.path(pts)
    svg.arrowhead(end_x, cy - 1, +1)


def _graph_node(svg: _Svg, x: float, y: float, rev: _Rev) -> None:
    fill, stroke = (CURRENT[0], CURRENT[1]) if rev.is_current else ("#ffffff", FAINT)
    if rev.is_head:
        stroke = CURRENT[1] if rev.is_current else "#0f172a"
    svg.rect(x, y, BOX_W, BOX_H, fill=fill, stroke=stroke, rx=8, sw=2.5 if rev.is_head else 1)
    right = x + BOX_W - 8
    for mark in reversed(rev.marks):  # tags from the right edge leftwards
        right -= svg.pill(right, y + 14, PILL_TEXT.get(mark, mark), PILLS[mark]) + 4
    svg.text(x + 10, y + 18, rev.revision, size=13, bold=True)
    labels = " ".join(f"[{b}]" for b in rev.branch_labels)
    room = int((right - x - 10 - _width(rev.revision + " ", 13)) / _width("x", 11))
    if labels and room > 3:
        svg.text(x + 10 + _width(rev.revision + " ", 13), y + 18, _clip(labels, room),
                 size=11, fill=FK_INK)
    chars = int((BOX_W - 20) / _width("x", 12, mono=False))
    svg.text(x + 10, y + 36, _clip(rev.message, chars), fill=INK, mono=False)


def _graph_legend(svg: _Svg, x0: float, y: float, max_w: float) -> float:
    """One legend line (wrapped if narrow); returns the y below it."""
    items = [("head", "head (newest)"), ("current", "where the database is"),
             ("mergepoint", "joins branches"), ("branchpoint", "splits into branches")]
    x = x0
    for mark, words in items + [("dash", "depends_on")]:
        need = 90 + _width(words, 11, mono=False)
        if x + need > x0 + max_w:
            x, y = x0, y + 24
        if mark == "dash":
            svg.path([(x, y), (x + 28, y)], dash="5 4")
            x += 34
        else:
            x += svg.pill(x, y, PILL_TEXT.get(mark, mark), PILLS[mark], anchor_right=False) + 6
        svg.text(x, y + 4, words, size=11, fill=MUTED, mono=False)
        x += _width(words, 11, mono=False) + 18
    return y + 10


# --- Table rows ----------------------------------------------------------------------


def _cell(value) -> str:
    """One value, as it is stored, on one line: the same in every run and viewer."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return _clip("x'" + value.hex() + "'", 40)
    if isinstance(value, float):
        return repr(value)
    return _clip(str(value).replace("\r", "\\r").replace("\n", "\\n"), 40)


class RowsView(_View):
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
            return "  ".join(v.rjust(w) if r else v.ljust(w)
                             for v, w, r in zip(values, widths, right)).rstrip()

        lines = [line(self.columns), line(["-" * w for w in widths])]
        lines += [line(r) for r in cells] + [self._footer()]
        return "\n".join(lines)

    def _make_picture(self) -> str:
        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = []
        for row in self.data:
            tds = "".join("<td><em>NULL</em></td>" if v is None else f"<td>{escape(_cell(v))}</td>"
                          for v in row)
            body.append(f"<tr>{tds}</tr>")
        body_text = "".join(line + "\n" for line in body)
        return (f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body_text}</tbody>\n"
                f"</table>\n<p>{escape(self._footer())}</p>\n")

    html = _View.picture


def rows(bind, table: str, limit: int | None = 20, order_by: str | Iterable[str] | None = None
         ) -> RowsView:
    """Up to ``limit`` rows of ``table``, ordered by ``order_by`` (column names; a leading
    ``-`` sorts descending), by default by the primary key, else by every column."""
    with _connection(bind) as conn:
        insp = sa.inspect(conn)
        names = sorted(insp.get_table_names())
        if table not in names:
            raise ValueError(f"no table named {table!r}; existing tables: "
                             f"{', '.join(names) or '(none)'}")
        columns = [c["name"] for c in insp.get_columns(table)]
        order = _as_ids(order_by) or tuple(
            insp.get_pk_constraint(table).get("constrained_columns") or columns)
        unknown = sorted(c.lstrip("-") for c in order if c.lstrip("-") not in columns)
        if unknown:
            raise ValueError(f"no column(s) {', '.join(unknown)} in {table}; "
                             f"columns: {', '.join(columns)}")
        # Untyped columns: values come back exactly as stored, with no type conversion.
        t = sa.table(table, *(sa.column(c) for c in columns))
        keys = [t.c[c[1:]].desc() if c.startswith("-") else t.c[c] for c in order]
        data = [tuple(r) for r in conn.execute(sa.select(t).order_by(*keys).limit(limit))]
        total = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
    return RowsView(table, columns, data, total)
