"""Tests for workbook.views: text forms exactly, pictures well-formed and reproducible.

Databases are made in tmp_path, either by running the reference migrations for real
(once per session, copied at each revision the tests need) or, for small hand-made
schemas, with ``MetaData.create_all`` on a sync SQLite engine.
"""

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from workbook.views import (
    DiffView, GraphView, RowsView, SchemaSnapshot, SchemaView, revision_graph, rows, schema,
    schema_diff, snapshot_schema,
)

ROOT = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"
REVISIONS = ("0002", "0003", "0004", "0005", "0011")


@pytest.fixture(scope="session")
def migrated(tmp_path_factory) -> dict[str, Path]:
    """The reference chain applied to one SQLite file, copied after each revision in REVISIONS."""
    folder = tmp_path_factory.mktemp("migrated")
    work = folder / "work.db"
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False  # keep pytest's logging as it is
    copies = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{work}")
        mp.delenv("ENVIRONMENT", raising=False)
        for rev in REVISIONS:
            command.upgrade(config, rev)
            copies[rev] = folder / f"{rev}.db"
            shutil.copy(work, copies[rev])
    return copies


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def snapshot(migrated: dict[str, Path], rev: str) -> SchemaSnapshot:
    return snapshot_schema(url(migrated[rev]))


def small_db(path: Path) -> sa.Engine:
    """Two tables with a PK, NOT NULL, a server default, a unique, an index and an FK."""
    md = sa.MetaData()
    sa.Table(
        "authors", md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("1")),
        sa.UniqueConstraint("name", name="uq_authors_name"),
    )
    sa.Table(
        "posts", md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("author_id", sa.Integer,
                  sa.ForeignKey("authors.id", ondelete="CASCADE",
                                name="fk_posts_author_id_authors"), nullable=False),
        sa.Column("title", sa.String(200)),
        sa.Index("ix_posts_title", "title"),
    )
    engine = sa.create_engine(url(path))
    md.create_all(engine)
    return engine


SMALL_TEXT = """\
authors
  id      INTEGER       PK
  name    VARCHAR(100)  NOT NULL
  active  BOOLEAN       NOT NULL DEFAULT 1
  unique uq_authors_name (name)

posts
  id         INTEGER       PK
  author_id  INTEGER       NOT NULL
  title      VARCHAR(200)
  index  ix_posts_title (title)
  fk     fk_posts_author_id_authors (author_id) -> authors.id ON DELETE CASCADE"""


def svg_root(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises if the SVG is not well-formed XML
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    return root


def svg_texts(svg: str) -> list[str]:
    return [el.text or "" for el in svg_root(svg).iter(f"{SVG}text")]


def svg_width(svg: str) -> float:
    return float(svg_root(svg).get("width"))


def assert_clean(text: str, *paths: Path) -> None:
    """Nothing that changes between runs: addresses, absolute paths."""
    assert "0x" not in text
    for path in paths:
        assert str(path) not in text


# --- snapshot_schema and schema ------------------------------------------------------


def test_schema_text_of_a_small_schema(tmp_path):
    view = schema(small_db(tmp_path / "a.db"))
    assert isinstance(view, SchemaView)
    assert view.text == SMALL_TEXT
    assert repr(view) == SMALL_TEXT


def test_snapshot_fields(tmp_path):
    snap = snapshot_schema(small_db(tmp_path / "a.db"))
    assert snap.table_names == ("authors", "posts")
    posts = snap.table("posts")
    assert [(c.name, c.type, c.nullable, c.primary_key) for c in posts.columns] == [
        ("id", "INTEGER", False, True), ("author_id", "INTEGER", False, False),
        ("title", "VARCHAR(200)", True, False)]
    fk = posts.foreign_keys[0]
    assert (fk.name, fk.columns, fk.referred_table, fk.referred_columns, fk.ondelete) == (
        "fk_posts_author_id_authors", ("author_id",), "authors", ("id",), "CASCADE")
    assert snap.table("authors").columns[2].default == "1"
    with pytest.raises(KeyError):
        snap.table("nope")


def test_every_kind_of_bind_gives_the_same_snapshot(tmp_path):
    engine = small_db(tmp_path / "a.db")
    with engine.connect() as conn:
        from_connection = snapshot_schema(conn)
    assert snapshot_schema(engine) == from_connection
    assert snapshot_schema(url(tmp_path / "a.db")) == from_connection
    assert snapshot_schema(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}") == from_connection


def test_missing_file_is_an_error_and_is_not_created(tmp_path):
    with pytest.raises(FileNotFoundError):
        snapshot_schema(url(tmp_path / "typo.db"))
    assert not (tmp_path / "typo.db").exists()
    with pytest.raises(TypeError, match="sync Engine"):
        snapshot_schema(42)


def test_reference_schema_at_head(migrated):
    view = schema(url(migrated["0011"]))
    assert view.snapshot.table_names == (
        "books", "categories", "publishers", "user_books", "users")
    users = view.text.split("\n\n")[-1]
    assert users == """\
users
  id               INTEGER       PK
  email            VARCHAR(255)  NOT NULL
  hashed_password  VARCHAR(255)  NOT NULL
  full_name        VARCHAR(255)
  is_active        BOOLEAN       NOT NULL DEFAULT 1
  created_at       DATETIME      NOT NULL DEFAULT CURRENT_TIMESTAMP
  updated_at       DATETIME      NOT NULL DEFAULT CURRENT_TIMESTAMP
  phone_number     VARCHAR(15)
  display_name     VARCHAR(255)  NOT NULL
  bio              TEXT
  index  ix_users_email (email) UNIQUE"""
    fk = "  fk     fk_user_books_user_id_users (user_id) -> users.id ON DELETE CASCADE"
    assert fk in view.text
    texts = svg_texts(view.svg)
    for table in view.snapshot.table_names:
        assert table in texts
    assert "INTEGER → publishers.id" in texts
    assert svg_width(view.svg) <= 800  # fits a notebook without scrolling


def test_version_table_is_left_out_unless_asked_for(migrated):
    assert "alembic_version" not in snapshot_schema(url(migrated["0005"])).table_names
    snap = snapshot_schema(url(migrated["0005"]), include_version_table=True)
    assert "alembic_version" in snap.table_names


def test_schema_filters_tables_and_names_unknown_ones(tmp_path):
    engine = small_db(tmp_path / "a.db")
    assert schema(engine, tables=["posts"]).snapshot.table_names == ("posts",)
    assert schema(engine, tables="authors").snapshot.table_names == ("authors",)
    with pytest.raises(ValueError, match="unknown table.*nope.*existing tables: authors, posts"):
        schema(engine, tables=["nope"])


def test_schema_accepts_a_snapshot(tmp_path):
    snap = snapshot_schema(small_db(tmp_path / "a.db"))
    assert schema(snap).text == SMALL_TEXT
    assert snap._repr_mimebundle_()["text/plain"] == SMALL_TEXT


def test_empty_database(tmp_path):
    view = schema(sa.create_engine(url(tmp_path / "empty.db")))
    assert view.text == "(no tables yet)"
    assert svg_texts(view.svg) == ["(no tables yet)"]


def test_leftover_batch_table_is_kept_and_flagged(tmp_path):
    engine = small_db(tmp_path / "a.db")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE _alembic_tmp_posts (id INTEGER NOT NULL PRIMARY KEY)")
    view = schema(engine)
    assert view.snapshot.leftovers == ("_alembic_tmp_posts",)
    first, *_ = view.text.splitlines()
    assert first.startswith("WARNING: leftover table _alembic_tmp_posts: a batch migration")
    assert "DROP TABLE _alembic_tmp_posts" in first
    assert "_alembic_tmp_posts  (leftover from a crashed batch migration)" in view.text
    texts = svg_texts(view.svg)
    assert texts[0].startswith("WARNING: leftover table _alembic_tmp_posts")
    assert "_alembic_tmp_posts" in texts


def test_schema_views_are_reproducible_byte_for_byte(tmp_path, migrated):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = schema(small_db(tmp_path / "one" / "a.db"))
    two = schema(small_db(tmp_path / "two" / "b.db"))
    assert (one.text, one.svg, one.mermaid) == (two.text, two.svg, two.mermaid)
    copy = tmp_path / "elsewhere.db"
    shutil.copy(migrated["0011"], copy)
    a, b = schema(url(migrated["0011"])), schema(url(copy))
    assert (a.text, a.svg, a.mermaid) == (b.text, b.svg, b.mermaid)
    assert_clean(a.text + a.svg + a.mermaid, migrated["0011"], copy, tmp_path)


def test_schema_mermaid(tmp_path):
    mermaid = schema(small_db(tmp_path / "a.db")).mermaid
    assert mermaid.splitlines() == [
        "erDiagram",
        "    authors {",
        "        INTEGER id PK",
        '        VARCHAR(100) name UK "NOT NULL"',
        '        BOOLEAN active "NOT NULL"',
        "    }",
        "    posts {",
        "        INTEGER id PK",
        '        INTEGER author_id FK "NOT NULL"',
        "        VARCHAR(200) title",
        "    }",
        '    authors ||--o{ posts : "author_id"',
    ]


def test_mimebundle_and_repr(tmp_path):
    view = schema(small_db(tmp_path / "a.db"))
    bundle = view._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/svg+xml"}
    assert bundle["text/plain"] == view.text == repr(view)
    assert set(view._repr_mimebundle_(include={"text/plain"})) == {"text/plain"}
    assert set(view._repr_mimebundle_(exclude={"text/plain"})) == {"image/svg+xml"}


# --- schema_diff ---------------------------------------------------------------------


def test_diff_of_revision_0005(migrated):
    view = schema_diff(snapshot(migrated, "0004"), snapshot(migrated, "0005"))
    assert isinstance(view, DiffView)
    assert view.text == """\
~ table books
    + column publisher_id INTEGER
    + index ix_books_publisher_id (publisher_id)
    + fk fk_books_publisher_id_publishers (publisher_id) -> publishers.id ON DELETE SET NULL
+ table publishers
    + column id INTEGER PK
    + column name VARCHAR(255) NOT NULL
    + unique uq_publishers_name (name)"""
    assert "+ books: column publisher_id INTEGER" in view.changes
    root_texts = svg_texts(view.svg)
    assert {"books", "publishers", "before", "after", "(no table publishers)"} <= set(root_texts)
    assert "#dcfce7" in view.svg  # additions are green
    assert svg_width(view.svg) <= 800


def test_diff_of_changed_columns(migrated):
    view = schema_diff(snapshot(migrated, "0002"), snapshot(migrated, "0003"))
    assert view.text == """\
~ table users
    ~ column is_active: default (none) -> 1
    ~ column phone_number: type VARCHAR(20) -> VARCHAR(15)"""
    assert "#fef3c7" in view.svg  # changes are amber


def test_diff_of_a_downgrade_shows_removals_struck_through(migrated):
    view = schema_diff(snapshot(migrated, "0005"), snapshot(migrated, "0004"))
    assert view.text.splitlines()[:2] == ["~ table books", "    - column publisher_id INTEGER"]
    assert "- table publishers" in view.text
    root = svg_root(view.svg)
    red = [p for p in root.iter(f"{SVG}path") if p.get("stroke") == "#991b1b"]
    assert red  # strike-through lines over removed rows
    assert "(no table publishers)" in svg_texts(view.svg)


def test_diff_detects_nullability_and_unnamed_changes(tmp_path):
    def build(path, nullable, with_index):
        md = sa.MetaData()
        table = sa.Table("t", md, sa.Column("id", sa.Integer, primary_key=True),
                         sa.Column("x", sa.String(10), nullable=nullable))
        if with_index:
            sa.Index("ix_t_x", table.c.x, unique=True)
        engine = sa.create_engine(url(path))
        md.create_all(engine)
        return snapshot_schema(engine)

    before, after = build(tmp_path / "a.db", True, False), build(tmp_path / "b.db", False, True)
    assert schema_diff(before, after).text == """\
~ table t
    ~ column x: NULL -> NOT NULL
    + index ix_t_x (x) UNIQUE"""


def test_no_changes(migrated):
    snap = snapshot_schema(url(migrated["0011"]))
    view = schema_diff(snap, snap)
    assert view.text == "no schema changes"
    assert view.changes == ()
    assert svg_texts(view.svg) == ["no schema changes"]


def test_diff_is_reproducible(migrated, tmp_path):
    copy = tmp_path / "copy.db"
    shutil.copy(migrated["0004"], copy)
    after = snapshot_schema(url(migrated["0005"]))
    one = schema_diff(snapshot_schema(url(migrated["0004"])), after)
    two = schema_diff(snapshot_schema(url(copy)), after)
    assert (one.text, one.svg, one.mermaid) == (two.text, two.svg, two.mermaid)
    assert one.mermaid.startswith("erDiagram\n")
    assert 'INTEGER publisher_id "added"' in one.mermaid


# --- revision_graph ------------------------------------------------------------------

REFERENCE_AT_HEAD = """\
*    0011  Make users.display_name non-nullable  (head) (current)
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
        if "_0010_" not in path.name and "_0011_" not in path.name:
            shutil.copy(path, versions / path.name)
    return ScriptDirectory(str(tmp_path / "scripts"))


def test_reference_graph_at_head(reference_scripts):
    view = revision_graph(reference_scripts, current=("0011",))
    assert isinstance(view, GraphView)
    assert view.text == REFERENCE_AT_HEAD
    assert view.heads == ("0011",)
    texts = svg_texts(view.svg)
    assert texts.count("you are here") == 2  # the node's tag and the legend
    assert {"merge", "branch point", "base", "head"} <= set(texts)
    for rev in ("0001", "0007", "0010", "0011"):
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
    write_script(versions, "0004",
                 "Add a very long message that will surely be truncated in the box", down="0002")
    write_script(versions, "a001", "Create audit log", labels=("audit",))
    write_script(versions, "a002", "Audit users", down="a001", depends="0002")
    view = revision_graph(ScriptDirectory(str(tmp_path)), current=["0003", "a002", "zzzz"])
    assert view.text == """\
*    a002 [audit]  Audit users  (head) (current) (depends on 0002)
*    a001 [audit]  Create audit log  (base)
  *  0004  Add a very long message that will surely be truncated in the box  (head)
* |  0003  Add index on email  (head) (current)
|/
*    0002  Add email to users  (branchpoint)
*    0001  Create users  (base)
current revision zzzz is not in this script directory"""
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


# --- rows ----------------------------------------------------------------------------


@pytest.fixture
def people(tmp_path) -> sa.Engine:
    engine = sa.create_engine(url(tmp_path / "people.db"))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score REAL)")
        conn.exec_driver_sql(
            "INSERT INTO people VALUES "
            "(3, 'Cleo', NULL), (1, 'Ada <admin>', 2.5), (2, NULL, 10.0)")
        conn.exec_driver_sql("CREATE TABLE empty (k TEXT)")
    return engine


def test_rows_in_primary_key_order(people):
    view = rows(people, "people")
    assert isinstance(view, RowsView)
    assert view.text == """\
id  name         score
--  -----------  -----
 1  Ada <admin>    2.5
 2  NULL          10.0
 3  Cleo          NULL
(3 rows)"""
    assert repr(view) == view.text
    assert set(view._repr_mimebundle_()) == {"text/plain", "text/html"}
    html = view._repr_mimebundle_()["text/html"]
    assert html.startswith("<table>")
    assert "<td>Ada &lt;admin&gt;</td>" in html
    assert "<td><em>NULL</em></td>" in html
    assert html.endswith("<p>(3 rows)</p>\n")


def test_rows_truncation_and_order_by(people):
    view = rows(people, "people", limit=2, order_by="-id")
    assert view.text.splitlines()[2:] == [" 3  Cleo   NULL", " 2  NULL   10.0",
                                          "(showing 2 of 3 rows)"]
    assert [r[0] for r in rows(people, "people", order_by=["score", "id"]).data] == [3, 1, 2]
    assert rows(people, "empty").text == "k\n-\n(0 rows)"


def test_rows_refuses_unknown_names(people):
    with pytest.raises(ValueError, match=r"no table named 'nope'; existing tables: empty, people"):
        rows(people, "nope")
    with pytest.raises(ValueError, match="no column.*age in people; columns: id, name, score"):
        rows(people, "people", order_by="age")


def test_rows_of_the_version_table(migrated):
    view = rows(url(migrated["0011"]), "alembic_version")
    assert view.text == "version_num\n-----------\n0011\n(1 row)"
    cats = rows(url(migrated["0011"]), "categories", limit=2)
    assert cats.text.splitlines()[-1] == "(showing 2 of 3 rows)"


def test_graph_three_way_merge_keeps_lines_off_boxes(tmp_path):
    versions = tmp_path / "versions"
    write_script(versions, "0001", "Base")
    for rev in ("0002", "0003", "0004"):
        write_script(versions, rev, f"Feature {rev}", down="0001")
    write_script(versions, "0005", "Merge three features", down=("0002", "0003", "0004"))
    view = revision_graph(ScriptDirectory(str(tmp_path)), "0005")
    assert view.text == """\
*      0005  Merge three features  (head) (mergepoint) (current)
|\\-\\
| | *  0004  Feature 0004
| * |  0003  Feature 0003
* | |  0002  Feature 0002
|/-/
*      0001  Base  (branchpoint) (base)"""
    # A lane is kept free between an edge's two ends: no box is ever drawn over a line.
    for (parent, child), lane in view.lane_of.items():
        between = view.order[view.row[parent] + 1:view.row[child]]
        assert all(view.col[rev] != lane for rev in between)
    svg_root(view.svg)


def test_graph_accepts_an_alembic_config(reference_scripts):
    from_config = revision_graph(Config(str(ROOT / "alembic.ini")), "0011")
    assert from_config.text == revision_graph(reference_scripts, "0011").text
