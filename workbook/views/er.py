"""The schema view: an aligned text listing of the tables and an ER diagram.

Tables are placed in layers by foreign keys: referenced ("parent") tables on top, the
tables pointing at them below, as a learner reads "books.publisher_id -> publishers".
An edge that skips layers passes through narrow placeholder slots in the layers between,
so lines never cross a box. Tables without any relationship go in a grid at the bottom.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from workbook.views.display import View
from workbook.views.mermaid import mermaid_name, mermaid_type
from workbook.views.schema import (
    LEFTOVER_NOTE,
    TMP_PREFIX,
    ColumnInfo,
    SchemaSnapshot,
    TableInfo,
    snapshot_schema,
)
from workbook.views.svg import (
    EDGE,
    FAINT,
    FK_INK,
    HEAD_H,
    HEADER,
    INK,
    MARGIN,
    MUTED,
    PK_INK,
    RED,
    ROW_H,
    STRIPE,
    TITLE,
    WHITE,
    Svg,
    char_width,
    number,
    text_width,
)


def _leftover_warnings(snapshot: SchemaSnapshot) -> list[tuple[str, str]]:
    """(headline, advice) per leftover _alembic_tmp_* table."""
    warnings = []
    for name in snapshot.leftovers:
        original = name[len(TMP_PREFIX) :]
        if original in snapshot.table_names:
            advice = f"check that {original} still holds its rows, then DROP TABLE {name}"
        else:
            advice = f"{original} is gone and its rows are in {name}: rename it back first"
        warnings.append(
            (f"WARNING: leftover table {name}: a batch migration crashed halfway", advice)
        )
    return warnings


def _table_text(table: TableInfo) -> list[str]:
    name_w = max(len(c.name) for c in table.columns) if table.columns else 0
    type_w = max(len(c.type) for c in table.columns) if table.columns else 0
    lines = [table.name + (LEFTOVER_NOTE if table.is_leftover else "")]
    for col in table.columns:
        flags = col.describe()[len(col.type or "(no type)") :].strip()
        lines.append(f"  {col.name:<{name_w}}  {col.type:<{type_w}}  {flags}".rstrip())
    for item in (*table.indexes, *table.uniques, *table.foreign_keys):
        keyword, rest = item.describe().split(" ", 1)
        lines.append(f"  {keyword:<6} {rest}")
    return lines


class SchemaView(View):
    """Tables, columns and constraints: an aligned text listing and an ER diagram."""

    svg = View.picture
    empty = "(no tables yet)"

    def __init__(self, snapshot: SchemaSnapshot) -> None:
        self.snapshot = snapshot

    def _is_empty(self) -> bool:
        return not self.snapshot.tables

    def _make_text(self) -> str:
        if self._is_empty():
            return self.empty
        warnings = [f"{head}; {advice}" for head, advice in _leftover_warnings(self.snapshot)]
        blocks = ["\n".join(warnings)] if warnings else []
        blocks += ["\n".join(_table_text(t)) for t in self.snapshot.tables]
        return "\n\n".join(blocks)

    def _make_picture(self) -> str:
        return _er_svg(self.snapshot)

    @property
    def mermaid(self) -> str:
        lines = ["erDiagram"]
        names = set(self.snapshot.table_names)
        for table in self.snapshot.tables:
            fk_cols = set(table.fk_targets())
            uq_cols = {
                cols[0]
                for cols in [u.columns for u in table.uniques]
                + [i.columns for i in table.indexes if i.unique]
                if len(cols) == 1
            }
            lines.append(f"    {mermaid_name(table.name)} {{")
            for col in table.columns:
                keys = [
                    k
                    for k, on in (
                        ("PK", col.primary_key),
                        ("FK", col.name in fk_cols),
                        ("UK", col.name in uq_cols),
                    )
                    if on
                ]
                note = '"NOT NULL"' if not col.nullable and not col.primary_key else ""
                parts = [mermaid_type(col.type), col.name, ",".join(keys), note]
                lines.append("        " + " ".join(p for p in parts if p))
            lines.append("    }")
        for table in self.snapshot.tables:
            for fk in table.foreign_keys:
                if fk.referred_table in names:
                    nullable = any(c.nullable for c in table.columns if c.name in fk.columns)
                    left = "|o" if nullable else "||"
                    lines.append(
                        f"    {mermaid_name(fk.referred_table)} {left}--o{{ "
                        f'{mermaid_name(table.name)} : "{", ".join(fk.columns)}"'
                    )
        return "\n".join(lines) + "\n"


def schema(bind, tables: Iterable[str] | str | None = None) -> SchemaView:
    """The schema of ``bind`` (an Engine, Connection, URL or a SchemaSnapshot) as a view."""
    snap = bind if isinstance(bind, SchemaSnapshot) else snapshot_schema(bind)
    if tables is not None:
        wanted = {tables} if isinstance(tables, str) else set(tables)
        unknown = sorted(wanted - set(snap.table_names))
        if unknown:
            raise ValueError(
                f"unknown table(s): {', '.join(unknown)}; existing tables: "
                f"{', '.join(snap.table_names) or '(none)'}"
            )
        snap = SchemaSnapshot(tuple(t for t in snap.tables if t.name in wanted))
    return SchemaView(snap)


# --- ER diagram layout ---------------------------------------------------------------

CHAR = char_width(12)  # the column listing's monospace characters
H_GAP, V_GAP, SLOT_W = 36, 64, 12


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
    width = (
        max(_marker_w(table) + 10 + (name_w + type_w) * CHAR + 12, text_width(table.name, 13) + 10)
        + 20
    )
    return _Box(table.name, width, HEAD_H + ROW_H * len(table.columns) + 6, table=table)


def _marker_w(table: TableInfo) -> float:
    return 22 * (any(c.primary_key for c in table.columns) + bool(table.foreign_keys))


def _type_cell(col: ColumnInfo, targets: dict[str, str]) -> str:
    return col.type + (f" → {targets[col.name]}" if col.name in targets else "")


def _layers(tables: tuple[TableInfo, ...]):
    """Layer index per table (longest path from a table with no parents); cycles are cut."""
    names = {t.name for t in tables}
    parents = {
        t.name: sorted(
            {
                fk.referred_table
                for fk in t.foreign_keys
                if fk.referred_table in names and fk.referred_table != t.name
            }
        )
        for t in tables
    }
    depth: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> int:
        if name not in depth:
            depth[name] = 1 + max(
                (visit(p, path + (name,)) for p in parents[name] if p not in path), default=-1
            )
        return depth[name]

    for name in sorted(names):
        visit(name, ())
    edges = sorted((c, p) for c, ps in parents.items() for p in ps if depth[c] > depth[p])
    return depth, edges


def _order_layers(layers: list[list[_Box]], ups: dict[str, list[str]]) -> None:
    """Sort each layer by the mean position of the boxes above it (fewer crossings)."""
    for i in range(1, len(layers)):
        pos = {b.key: j for j, b in enumerate(layers[i - 1])}
        layers[i].sort(
            key=lambda b: (sum(pos[u] for u in ups[b.key]) / max(1, len(ups[b.key])), b.key)
        )


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
        for upper, lower in itertools.pairwise(chain):
            ends.setdefault((upper, "bottom"), []).append((boxes[lower].x + boxes[lower].w / 2, i))
            ends.setdefault((lower, "top"), []).append((boxes[upper].x + boxes[upper].w / 2, i))
    points = {}
    for (key, side), items in ends.items():
        box = boxes[key]
        for k, (_, i) in enumerate(sorted(items)):
            points[(key, i, side)] = box.x + box.w * (k + 1) / (len(items) + 1)
    return points


def _er_svg(snapshot: SchemaSnapshot) -> str:
    svg = Svg()
    warnings = _leftover_warnings(snapshot)
    top = MARGIN + 40 * len(warnings) + (8 if warnings else 0)
    for i, (head, advice) in enumerate(warnings):  # on top: a crashed migration comes first
        svg.text(MARGIN, MARGIN + 12 + 40 * i, head, size=12, fill=RED[1], mono=False, bold=True)
        svg.text(MARGIN, MARGIN + 30 + 40 * i, advice, size=12, fill=RED[1], mono=False)
    boxes, rows, chains = _er_layout(snapshot)
    width, bottom, bands = _place(rows, top)
    band_of = {b.key: band for row, band in zip(rows, bands, strict=True) for b in row}
    points = _attach_points(chains, boxes)
    for i, chain in enumerate(chains):
        _draw_fk_edge(svg, chain, i, boxes, band_of, points)
    for table in snapshot.tables:
        _draw_table(svg, boxes[table.name])
    legend_w = _er_legend(svg, MARGIN, bottom + 28)
    total_w = max(
        width + 2 * MARGIN,
        legend_w + 2 * MARGIN,
        max(
            (text_width(t, 12, mono=False) * 1.1 + 2 * MARGIN for w in warnings for t in w),
            default=0,
        ),
    )
    return svg.render(total_w, bottom + 44)


def _er_legend(svg: Svg, x0: float, y: float) -> float:
    """Key to the markers, one item after another; returns its width."""
    x = x0
    for mark, ink, words in (
        ("PK", PK_INK, "primary key"),
        ("FK", FK_INK, "foreign key"),
        ("●", MUTED, "NOT NULL"),
        ("", EDGE, "foreign key → referenced table"),
    ):
        if mark:
            svg.text(x, y, mark, size=10, fill=ink, bold=True)
        else:  # a sample of the line style, arrowhead at the referenced end
            svg.path([(x + 6, y + 2), (x + 6, y - 14)])
            svg.arrowhead(x + 6, y - 14, -1)
        svg.text(x + 20, y, words, size=11, fill=MUTED, mono=False)
        x += 20 + text_width(words, 11, mono=False) + 22
    return x - x0


def _draw_fk_edge(svg, chain, i, boxes, band_of, points) -> None:
    """Parent at the top, child below: orthogonal lines with a track per edge in each gap."""
    pts = []
    for upper, lower in itertools.pairwise(chain):
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


def _draw_table(svg: Svg, box: _Box) -> None:
    table, x, y, w = box.table, box.x, box.y, box.w
    leftover = table.is_leftover
    stroke = RED[1] if leftover else FAINT
    svg.rect(x, y, w, box.h, fill=WHITE, stroke=stroke, rx=6, dash="5 3" if leftover else None)
    r = 6  # header: a path with only its top corners rounded
    x0, x1, y0, y1 = number(x), number(x + w), number(y), number(y + HEAD_H)
    svg.parts.append(
        f'<path d="M{x0},{y1} V{number(y + r)} Q{x0},{y0} {number(x + r)},{y0} '
        f'H{number(x + w - r)} Q{x1},{y0} {x1},{number(y + r)} V{y1} Z" '
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
            svg.circle(name_x - 6, base - 4, 2.5, fill=MUTED)
        svg.text(name_x, base, col.name, fill=INK)
        svg.text(type_x, base, _type_cell(col, targets), fill=MUTED)
    svg.line(x, y + HEAD_H, x + w, y + HEAD_H, stroke=stroke)
    svg.rect(x, y, w, box.h, fill="none", stroke=stroke, rx=6, dash="5 3" if leftover else None)
