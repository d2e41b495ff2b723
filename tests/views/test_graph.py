"""The revision graph: git-like text exactly, lanes that keep lines off boxes, the SVG."""

import shutil
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.views.helpers import ROOT, SVG, assert_clean, svg_root, svg_texts, svg_width
from workbook.views import GraphView, revision_graph

REFERENCE_AT_HEAD = """\
*    0012  Add language to books  (head) (current)
*    0011  Make users.display_name non-nullable
*    0010  Merge feature A and B  (mergepoint)
|\\
| *  0009  Add bio to users
* |  0008  Add page_count to books
|/
*    0007  Add users.display_name and backfill it  (branchpoint)
*    0006  Create categories with default data
*    0005  Add publishers and books.publisher_id
*    0004  Add indexes to improve book search performance
*    0003  Shorten phone_number and default is_active to true
*    0002  Add phone_number to users
*    0001  Initial migration - users and books tables  (base)"""


@pytest.fixture(scope="module")
def reference_scripts() -> ScriptDirectory:
    return ScriptDirectory(str(ROOT / "alembic"))


def two_heads_scripts(tmp_path: Path) -> ScriptDirectory:
    """The reference chain before the merge: 0008 and 0009 are both heads."""
    versions = tmp_path / "scripts" / "versions"
    versions.mkdir(parents=True)
    for path in (ROOT / "alembic" / "versions").glob("*.py"):
        if not any(f"_{rev}_" in path.name for rev in ("0010", "0011", "0012")):
            shutil.copy(path, versions / path.name)
    return ScriptDirectory(str(tmp_path / "scripts"))


def test_reference_graph_at_head(reference_scripts):
    view = revision_graph(reference_scripts, current=("0012",))
    assert isinstance(view, GraphView)
    assert view.text == REFERENCE_AT_HEAD
    assert view.heads == ("0012",)
    texts = svg_texts(view.svg)
    assert texts.count("you are here") == 2  # the node's tag and the legend
    assert {"merge", "branch point", "base", "head"} <= set(texts)
    for rev in ("0001", "0007", "0010", "0012"):
        assert rev in texts
    rects = svg_root(view.svg).iter(f"{SVG}rect")
    current_boxes = [r for r in rects if r.get("fill") == "#dbeafe"]
    assert len(current_boxes) == 1
    assert svg_width(view.svg) <= 800


def test_reference_graph_with_two_heads(tmp_path):
    view = revision_graph(two_heads_scripts(tmp_path), current=["0007"])
    assert view.text.splitlines()[:4] == [
        "  *  0009  Add bio to users  (head)",
        "* |  0008  Add page_count to books  (head)",
        "|/",
        "*    0007  Add users.display_name and backfill it  (branchpoint) (current)",
    ]
    assert view.heads == ("0008", "0009")
    assert "(mergepoint)" not in view.text
    assert svg_texts(view.svg).count("head") == 3  # two nodes and the legend


def test_graph_current_can_be_a_string_or_empty(reference_scripts):
    assert revision_graph(reference_scripts, "0005").text.count("(current)") == 1
    view = revision_graph(reference_scripts)
    assert "(current)" not in view.text
    assert 'fill="#dbeafe"' not in view.svg.split("</text>")[0]  # no node is filled


def test_empty_script_directory(tmp_path):
    (tmp_path / "versions").mkdir()
    view = revision_graph(ScriptDirectory(str(tmp_path)), current=())
    assert view.text == "(no revisions yet)"
    assert svg_texts(view.svg) == ["(no revisions yet)"]


def write_script(versions: Path, rev, message, down=None, labels=None, depends=None):
    versions.mkdir(parents=True, exist_ok=True)
    (versions / f"{rev}.py").write_text(
        f'"""{message}\n\nRevision ID: {rev}\n"""\n'
        f"revision = {rev!r}\ndown_revision = {down!r}\n"
        f"branch_labels = {labels!r}\ndepends_on = {depends!r}\n\n"
        "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    )


def test_graph_with_two_roots_labels_and_depends_on(tmp_path):
    versions = tmp_path / "versions"
    write_script(versions, "0001", "Create users")
    write_script(versions, "0002", "Add email to users", down="0001")
    write_script(versions, "0003", "Add index on email", down="0002")
    write_script(
        versions,
        "0004",
        "Add a very long message that will surely be truncated in the box",
        down="0002",
    )
    write_script(versions, "a001", "Create audit log", labels=("audit",))
    write_script(versions, "a002", "Audit users", down="a001", depends="0002")
    view = revision_graph(ScriptDirectory(str(tmp_path)), current=["0003", "a002", "zzzz"])
    assert (
        view.text
        == """\
*    a002 [audit]  Audit users  (head) (current) (depends on 0002)
*    a001 [audit]  Create audit log  (base)
  *  0004  Add a very long message that will surely be truncated in the box  (head)
* |  0003  Add index on email  (head) (current)
|/
*    0002  Add email to users  (branchpoint)
*    0001  Create users  (base)
current revision zzzz is not in this script directory"""
    )
    root = svg_root(view.svg)
    dashed = [p for p in root.iter(f"{SVG}path") if p.get("stroke-dasharray")]
    assert len(dashed) == 2  # the depends_on edge and its legend sample
    texts = svg_texts(view.svg)
    assert "[audit]" in texts
    assert any(t.endswith("…") for t in texts)  # the long message is truncated
    assert "current revision zzzz is not in this script directory" in texts
    mermaid = view.mermaid
    assert mermaid.startswith("flowchart TB\n")
    assert "    r0002 -.->|depends on| ra002" in mermaid
    assert "    r0001 --> r0002" in mermaid
    assert "    class r0003,ra002 current" in mermaid


def test_graph_is_reproducible(reference_scripts, tmp_path):
    one = revision_graph(reference_scripts, ["0011"])
    two = revision_graph(ScriptDirectory(str(ROOT / "alembic")), ("0011",))
    assert (one.text, one.svg, one.mermaid) == (two.text, two.svg, two.mermaid)
    assert_clean(one.text + one.svg + one.mermaid, ROOT)


def test_graph_three_way_merge_keeps_lines_off_boxes(tmp_path):
    versions = tmp_path / "versions"
    write_script(versions, "0001", "Base")
    for rev in ("0002", "0003", "0004"):
        write_script(versions, rev, f"Feature {rev}", down="0001")
    write_script(versions, "0005", "Merge three features", down=("0002", "0003", "0004"))
    view = revision_graph(ScriptDirectory(str(tmp_path)), "0005")
    assert (
        view.text
        == """\
*      0005  Merge three features  (head) (mergepoint) (current)
|\\-\\
| | *  0004  Feature 0004
| * |  0003  Feature 0003
* | |  0002  Feature 0002
|/-/
*      0001  Base  (branchpoint) (base)"""
    )
    # A lane is kept free between an edge's two ends: no box is ever drawn over a line.
    for (parent, child), lane in view.lane_of.items():
        between = view.order[view.row[parent] + 1 : view.row[child]]
        assert all(view.col[rev] != lane for rev in between)
    svg_root(view.svg)


def test_graph_accepts_an_alembic_config(reference_scripts):
    from_config = revision_graph(Config(str(ROOT / "alembic.ini")), "0011")
    assert from_config.text == revision_graph(reference_scripts, "0011").text


def legend_texts(svg: str) -> list[str]:
    """The texts below the last revision box: the legend."""
    root = svg_root(svg)
    last_box = max(float(r.get("y")) for r in root.iter(f"{SVG}rect") if r.get("height") == "44")
    return [t.text for t in root.iter(f"{SVG}text") if float(t.get("y")) > last_box + 44]


def test_the_legend_names_every_tag_a_box_can_carry(reference_scripts):
    legend = legend_texts(revision_graph(reference_scripts, "0011").svg)
    for tag in ("head", "you are here", "merge", "branch point", "base"):
        assert tag in legend
    assert "first revision (no parent)" in legend and "depends_on" in legend


def test_full_titles_fit_or_show_as_a_tooltip(reference_scripts, tmp_path):
    # The book's titles (up to 50 characters) fit their boxes whole.
    view = revision_graph(reference_scripts, "0011")
    texts = svg_texts(view.svg)
    assert "Add indexes to improve book search performance" in texts
    assert not any(t.endswith("…") for t in texts)
    # A longer one is cut in the box, and whole in the tooltip and the text form.
    long = "Add a very long message that will surely be truncated in the box, " * 2
    write_script(tmp_path / "versions", "0001", long.strip())
    view = revision_graph(ScriptDirectory(str(tmp_path)), ())
    box_text = [t for t in svg_texts(view.svg) if t.startswith("Add a very long")]
    assert len(box_text) == 1 and box_text[0].endswith("…")
    [group] = svg_root(view.svg).iter(f"{SVG}g")
    assert group.find(f"{SVG}title").text == f"0001: {long.strip()}"
    assert group.find(f"{SVG}rect") is not None  # the tooltip covers the whole box
    assert long.strip() in view.text
    assert group.find(f"{SVG}rect").get("width") == "360"  # boxes grow only so far
