"""The schema diff: what changed between two snapshots, as + - ~ lines and side-by-side boxes.

Take one snapshot before and one after a migration (``ws.snapshot()``); the text lists
each changed table and its changes, the picture pairs the before and after rows straight
across, with additions in green, removals in red (struck through) and changes in amber.
"""

from __future__ import annotations

from workbook.views.display import View, clip
from workbook.views.mermaid import mermaid_name, mermaid_type
from workbook.views.schema import LEFTOVER_NOTE, TMP_PREFIX, ColumnInfo, SchemaSnapshot, TableInfo
from workbook.views.svg import (
    AMBER,
    FAINT,
    GREEN,
    HEAD_H,
    HEADER,
    MUTED,
    RED,
    ROW_H,
    TITLE,
    WHITE,
    Svg,
    char_width,
    text_width,
)

KINDS = ("column", "index", "unique", "fk")


def _items(table: TableInfo | None) -> dict[tuple[str, str], str]:
    """Everything in a table, keyed by (kind, name), each with its one-line description."""
    if table is None:
        return {}
    items = {("column", c.name): c.describe() for c in table.columns}
    for kind, group in (
        ("index", table.indexes),
        ("unique", table.uniques),
        ("fk", table.foreign_keys),
    ):
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
        if key not in before or key not in after:
            sign, value = ("+", after[key]) if key not in before else ("-", before[key])
            text = f"{kind} {name} {value}" if kind == "column" else f"{kind} {value}"
            changes.append((sign, kind, name, text))
        elif before[key] != after[key]:
            if kind == "column":
                detail = _column_change(
                    old.columns[[c.name for c in old.columns].index(name)],
                    new.columns[[c.name for c in new.columns].index(name)],
                )
            else:  # the name is the key: show only what it covers now and before
                detail = f"{before[key].split(' ', 1)[1]} -> {after[key].split(' ', 1)[1]}"
            changes.append(("~", kind, name, f"{kind} {name}: {detail}"))
    return changes


class DiffView(View):
    """What changed between two snapshots: text with + - ~, and before/after boxes."""

    svg = View.picture
    empty = "no schema changes"

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
        return tuple(
            f"{sign} {table}: {text}"
            for _, table, items in self.tables
            for sign, _, _, text in items
        )

    def _is_empty(self) -> bool:
        return not self.tables

    def _make_text(self) -> str:
        if self._is_empty():
            return self.empty
        lines = []
        for sign, name, changes in self.tables:
            note = LEFTOVER_NOTE if name.startswith(TMP_PREFIX) else ""
            lines.append(f"{sign} table {name}{note}")
            lines += [f"    {s} {text}" for s, _, _, text in changes]
        return "\n".join(lines)

    def _make_picture(self) -> str:
        return _diff_svg(self)

    @property
    def mermaid(self) -> str:
        """The changed tables as an erDiagram; each attribute's note says what happened."""
        lines = ["erDiagram"]
        for _, name, changes in self.tables:
            marks = {n: s for s, kind, n, _ in changes if kind == "column"}
            old_cols = self.olds[name].columns if name in self.olds else ()
            cols = (self.news[name].columns if name in self.news else ()) + tuple(
                c for c in old_cols if marks.get(c.name) == "-"
            )
            lines.append(f"    {mermaid_name(name)} {{")
            for col in cols:
                note = {"+": "added", "-": "removed", "~": "changed"}.get(marks.get(col.name), "")
                lines.append(
                    f"        {mermaid_type(col.type)} {col.name}" + (f' "{note}"' if note else "")
                )
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
        merged += _merge_order(
            ordered([k for k in before if k[0] == kind]),
            ordered([k for k in after if k[0] == kind]),
        )
    rows = []
    for key in merged:
        state = (
            "+"
            if key not in before
            else "-"
            if key not in after
            else "~"
            if before[key] != after[key]
            else " "
        )
        rows.append((state, cells_before.get(key), cells_after.get(key)))
    return rows


DIFF_FONT, DIFF_LIMIT = 11, 52  # two boxes of at most 52 characters fit in ~800px
DIFF_CHAR = char_width(DIFF_FONT)


def _diff_svg(view: DiffView) -> str:
    svg = Svg()
    olds, news = view.olds, view.news
    sections = []
    for _, name, _ in view.tables:
        pairs = _aligned_rows(olds.get(name), news.get(name))
        name_w = min(18, max((len(c[0]) for _, *cs in pairs for c in cs if c), default=0))
        sections.append((name, pairs, name_w))
    longest = max(
        _row_chars(state, cell, name_w)
        for _, pairs, name_w in sections
        for state, *cells in pairs
        for cell in cells
        if cell
    )
    box_w = max(
        min(longest, DIFF_LIMIT) * DIFF_CHAR + 18,
        text_width(max((n for n, _, _ in sections), key=len), 13) + 24,
        180,
    )
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
        svg.text(
            left_x + box_w + 16,
            y + height / 2 + 5,
            "→",
            size=16,
            fill=MUTED,
            mono=False,
            anchor="middle",
        )
        y += height + 24
    x = left_x
    for label, colors in (("+ added", GREEN), ("- removed", RED), ("~ changed", AMBER)):
        x += svg.pill(x, y + 4, label, colors, anchor_right=False) + 10
    return svg.render(right_x + box_w + 16, y + 26)


def _row_chars(state: str, cell: tuple[str, str, str], name_w: int) -> int:
    first, short, full = cell
    text = short if state == " " else full
    return 2 + (name_w + 2 if first else 0) + len(text)


def _absent_box(svg: Svg, box, name: str) -> None:
    x, y, w, h = box
    svg.rect(x, y, w, h, fill=WHITE, stroke=FAINT, rx=6, dash="4 4")
    svg.text(
        x + w / 2,
        y + h / 2 + 4,
        f"(no table {name})",
        fill=FAINT,
        mono=False,
        italic=True,
        anchor="middle",
    )


def _diff_box(svg: Svg, box, name: str, pairs, side: int, name_w: int) -> None:
    x, y, w, h = box
    svg.rect(x, y, w, h, fill=WHITE, stroke=FAINT, rx=6)
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
            spans = [(text_x, clip(first, name_w)), (desc_x, clip(text, DIFF_LIMIT - name_w - 4))]
        else:
            spans = [(text_x, clip(text, DIFF_LIMIT - 2))]
        for sx, shown in spans:
            svg.text(sx, top + 14, shown, size=DIFF_FONT, fill=ink)
            if state == "-":  # struck through: drawn, since text-decoration is not everywhere
                svg.path(
                    [(sx, top + 10.5), (sx + len(shown) * DIFF_CHAR, top + 10.5)], stroke=ink, sw=1
                )
