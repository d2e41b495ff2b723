"""The schema diff: + - ~ text exactly, before/after boxes coloured and reproducible."""

import shutil

import sqlalchemy as sa

from tests.views.helpers import SVG, snapshot, svg_root, svg_texts, svg_width, unpooled, url
from workbook.views import DiffView, schema_diff, snapshot_schema


def test_diff_of_revision_0005(migrated):
    view = schema_diff(snapshot(migrated, "0004"), snapshot(migrated, "0005"))
    assert isinstance(view, DiffView)
    assert (
        view.text
        == """\
~ table books
    + column publisher_id INTEGER
    + index ix_books_publisher_id (publisher_id)
    + fk fk_books_publisher_id_publishers (publisher_id) -> publishers.id ON DELETE SET NULL
+ table publishers
    + column id INTEGER PK
    + column name VARCHAR(255) NOT NULL
    + unique uq_publishers_name (name)"""
    )
    assert "+ books: column publisher_id INTEGER" in view.changes
    root_texts = svg_texts(view.svg)
    assert {"books", "publishers", "before", "after", "(no table publishers)"} <= set(root_texts)
    assert "#dcfce7" in view.svg  # additions are green
    assert svg_width(view.svg) <= 800


def test_diff_of_changed_columns(migrated):
    view = schema_diff(snapshot(migrated, "0002"), snapshot(migrated, "0003"))
    assert (
        view.text
        == """\
~ table users
    ~ column is_active: default (none) -> 1
    ~ column phone_number: type VARCHAR(20) -> VARCHAR(15)"""
    )
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
        table = sa.Table(
            "t",
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("x", sa.String(10), nullable=nullable),
        )
        if with_index:
            sa.Index("ix_t_x", table.c.x, unique=True)
        built = unpooled(path)
        md.create_all(built)
        return snapshot_schema(built)

    before, after = build(tmp_path / "a.db", True, False), build(tmp_path / "b.db", False, True)
    assert (
        schema_diff(before, after).text
        == """\
~ table t
    ~ column x: NULL -> NOT NULL
    + index ix_t_x (x) UNIQUE"""
    )


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
