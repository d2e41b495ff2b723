"""The revision graph: the migration history as a git-log-like text graph and an SVG.

Revisions are laid out oldest at the top, in lanes like ``git log --graph``: a revision
continues its first child's lane, and a lane is reserved from a parent's row to its
child's row, so no box is ever drawn over a line. ``depends_on`` links run in a gutter.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from workbook.views.display import View, as_names, clip
from workbook.views.svg import (
    BLUE,
    EDGE,
    FAINT,
    FK_INK,
    INK,
    LIGHT_BLUE,
    MARGIN,
    MUTED,
    NAVY,
    ORANGE,
    RED,
    SLATE,
    VIOLET,
    WHITE,
    Svg,
    text_width,
)


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
        names = [
            ("head", self.is_head),
            ("branchpoint", self.is_branch_point),
            ("mergepoint", self.is_merge_point),
            ("base", self.is_base),
            ("current", self.is_current),
        ]
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


class GraphView(View):
    """The revision DAG: a git-log-like text graph and a top-to-bottom SVG."""

    svg = View.picture
    empty = "(no revisions yet)"

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

    def _is_empty(self) -> bool:
        return not self.revisions

    def _make_text(self) -> str:
        if self._is_empty():
            lines = [self.empty]
        else:
            width = 2 * self.columns - 1
            lines = [
                (g.rstrip().ljust(width) + "  " + label).rstrip() if label else g.rstrip()
                for g, label in self._graph_lines()
            ]
        lines += [
            f"current revision {r} is not in this script directory" for r in self.unknown_current
        ]
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
        lines.append(f"    classDef current fill:{CURRENT[0]},stroke:{BLUE[0]}")
        for cls, attr in (("head", "is_head"), ("current", "is_current")):
            ids = [node(r) for r in self.order if getattr(self.revisions[r], attr)]
            if ids:
                lines.append(f"    class {','.join(ids)} {cls}")
        return "\n".join(lines) + "\n"


def revision_graph(script_directory, current: Iterable[str] | str | None = ()) -> GraphView:
    """The migration history of an ``alembic.script.ScriptDirectory`` (or a ``Config``).

    ``current`` holds the revision id(s) the database is at (e.g. from
    ``MigrationContext.get_current_heads()``); they get a "you are here" mark.
    """
    if isinstance(script_directory, Config):  # a convenience: alembic.ini's Config works too
        script_directory = ScriptDirectory.from_config(script_directory)
    scripts = sorted(script_directory.walk_revisions(), key=lambda s: s.revision)
    wanted, unknown, current_ids = as_names(current), [], set()
    for rev_id in wanted:
        try:
            current_ids.update(s.revision for s in script_directory.get_revisions(rev_id))
        except CommandError:  # unknown or ambiguous: say so rather than fail the display
            unknown.append(rev_id)
    revs = {}
    for s in scripts:
        deps = sorted(
            {
                d.revision
                for dep in as_names(s.dependencies)
                for d in script_directory.get_revisions(dep)
            }
        )
        message = " ".join(s.doc.split()) or "(no message)"
        revs[s.revision] = _Rev(
            s.revision,
            message,
            tuple(sorted(as_names(s.down_revision))),
            tuple(deps),
            tuple(sorted(s.branch_labels)),
            s.is_head,
            s.is_base,
            s.is_branch_point,
            s.is_merge_point,
            s.revision in current_ids,
        )
    return GraphView(revs, tuple(sorted(unknown)))


# Boxes grow with the longest title, up to MAX_BOX_W; a longer title is cut with "…",
# and stays whole in the box's tooltip and in the text form.
MIN_BOX_W, MAX_BOX_W, BOX_H, COL_GAP, ROW_GAP = 280, 360, 44, 24, 30
MESSAGE_SIZE, MESSAGE_PAD = 12, 10
CURRENT = LIGHT_BLUE  # the box of the revision the database is at
PILLS = {"head": NAVY, "current": BLUE, "mergepoint": VIOLET, "branchpoint": ORANGE, "base": SLATE}
PILL_TEXT = {"current": "you are here", "mergepoint": "merge", "branchpoint": "branch point"}
LEGEND = [
    ("head", "head (newest)"),
    ("current", "where the database is"),
    ("mergepoint", "joins branches"),
    ("branchpoint", "splits into branches"),
    ("base", "first revision (no parent)"),
]


def _box_width(view: GraphView) -> float:
    longest = max(
        text_width(rev.message, MESSAGE_SIZE, mono=False) for rev in view.revisions.values()
    )
    return min(max(longest + 2 * MESSAGE_PAD, MIN_BOX_W), MAX_BOX_W)


def _graph_svg(view: GraphView) -> str:
    svg = Svg()
    box_w = _box_width(view)
    deps = [(d, r) for r in view.order for d in view.revisions[r].dependencies]
    graph_w = view.columns * (box_w + COL_GAP) - COL_GAP + (14 + 10 * len(deps) if deps else 0)
    width = max(graph_w + 2 * MARGIN, 560)
    left = (width - graph_w) / 2  # a narrow graph is centered above the legend

    def box(rev: str) -> tuple[float, float]:
        return left + view.col[rev] * (box_w + COL_GAP), MARGIN + view.row[rev] * (BOX_H + ROW_GAP)

    for (parent, child), lane in sorted(view.lane_of.items(), key=lambda kv: kv[1]):
        _graph_edge(
            svg, box(parent), box(child), left + lane * (box_w + COL_GAP) + box_w / 2, box_w
        )
    gutter = left + view.columns * (box_w + COL_GAP) - COL_GAP + 14
    for k, (dep, rev) in enumerate(deps):
        (dx, dy), (rx, ry), gx = box(dep), box(rev), gutter + 10 * k
        svg.path(
            [
                (dx + box_w, dy + BOX_H / 2),
                (gx, dy + BOX_H / 2),
                (gx, ry + BOX_H / 2),
                (rx + box_w + 8, ry + BOX_H / 2),
            ],
            dash="5 4",
        )
        svg.path(
            [
                (rx + box_w, ry + BOX_H / 2),
                (rx + box_w + 8, ry + BOX_H / 2 - 4.5),
                (rx + box_w + 8, ry + BOX_H / 2 + 4.5),
            ],
            sw=1,
            fill=EDGE,
            stroke=EDGE,
        )
    for rev in view.order:
        _graph_node(svg, *box(rev), box_w, view.revisions[rev])
    bottom = MARGIN + len(view.order) * (BOX_H + ROW_GAP) - ROW_GAP + 26
    for rev in view.unknown_current:
        svg.text(
            MARGIN,
            bottom,
            f"current revision {rev} is not in this script directory",
            fill=RED[1],
            mono=False,
            bold=True,
        )
        bottom += 20
    bottom = _graph_legend(svg, MARGIN, bottom, width - 2 * MARGIN)
    return svg.render(width, bottom + 14)


def _graph_edge(svg, parent_xy, child_xy, lane_x, box_w) -> None:
    """Down from the parent, along the lane, into the child (bends just below/above boxes)."""
    (px, py), (cx, cy) = parent_xy, child_xy
    pcx, ccx = px + box_w / 2, cx + box_w / 2
    start_x = pcx if lane_x == pcx else min(max(lane_x, px + 24), px + box_w - 24)
    end_x = ccx if lane_x == ccx else min(max(lane_x, cx + 24), cx + box_w - 24)
    pts = [(start_x, py + BOX_H)]
    if start_x != lane_x:
        pts += [(start_x, py + BOX_H + 10), (lane_x, py + BOX_H + 10)]
    if end_x != lane_x:
        pts += [(lane_x, cy - 10), (end_x, cy - 10)]
    pts.append((end_x, cy - 1))
    svg.path(pts)
    svg.arrowhead(end_x, cy - 1, +1)


def _graph_node(svg: Svg, x: float, y: float, box_w: float, rev: _Rev) -> None:
    fill, stroke = (CURRENT[0], CURRENT[1]) if rev.is_current else (WHITE, FAINT)
    if rev.is_head:
        stroke = CURRENT[1] if rev.is_current else NAVY[0]
    svg.begin_group(f"{rev.revision}: {rev.message}")
    svg.rect(x, y, box_w, BOX_H, fill=fill, stroke=stroke, rx=8, sw=2.5 if rev.is_head else 1)
    right = x + box_w - 8
    for mark in reversed(rev.marks):  # tags from the right edge leftwards
        right -= svg.pill(right, y + 14, PILL_TEXT.get(mark, mark), PILLS[mark]) + 4
    svg.text(x + 10, y + 18, rev.revision, size=13, bold=True)
    labels = " ".join(f"[{b}]" for b in rev.branch_labels)
    room = int((right - x - 10 - text_width(rev.revision + " ", 13)) / text_width("x", 11))
    if labels and room > 3:
        svg.text(
            x + 10 + text_width(rev.revision + " ", 13),
            y + 18,
            clip(labels, room),
            size=11,
            fill=FK_INK,
        )
    # (+1e-6: a box made to fit n characters must not round down to n - 1)
    chars = int((box_w - 2 * MESSAGE_PAD) / text_width("x", MESSAGE_SIZE, mono=False) + 1e-6)
    svg.text(
        x + MESSAGE_PAD, y + 36, clip(rev.message, chars), size=MESSAGE_SIZE, fill=INK, mono=False
    )
    svg.end_group()


def _graph_legend(svg: Svg, x0: float, y: float, max_w: float) -> float:
    """One legend line (wrapped if narrow): every tag a box can carry, and the dashed
    depends_on line; returns the y below it."""
    x = x0
    for mark, words in LEGEND + [("dash", "depends_on")]:
        need = 90 + text_width(words, 11, mono=False)
        if x + need > x0 + max_w:
            x, y = x0, y + 24
        if mark == "dash":
            svg.path([(x, y), (x + 28, y)], dash="5 4")
            x += 34
        else:
            x += svg.pill(x, y, PILL_TEXT.get(mark, mark), PILLS[mark], anchor_right=False) + 6
        svg.text(x, y + 4, words, size=11, fill=MUTED, mono=False)
        x += text_width(words, 11, mono=False) + 18
    return y + 10
