"""Helpers for the views' tests: databases in tmp_path and a look inside the SVGs."""

import xml.etree.ElementTree as ET
from pathlib import Path

import sqlalchemy as sa

from workbook.views import SchemaSnapshot, snapshot_schema

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def unpooled(path: Path) -> sa.Engine:
    """An engine that keeps no connection between uses (NullPool): nothing left to close."""
    return sa.create_engine(url(path), poolclass=sa.pool.NullPool)


def snapshot(migrated: dict[str, Path], rev: str) -> SchemaSnapshot:
    return snapshot_schema(url(migrated[rev]))


def small_db(path: Path) -> sa.Engine:
    """Two tables with a PK, NOT NULL, a server default, a unique, an index and an FK."""
    md = sa.MetaData()
    sa.Table(
        "authors",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("1")),
        sa.UniqueConstraint("name", name="uq_authors_name"),
    )
    sa.Table(
        "posts",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "author_id",
            sa.Integer,
            sa.ForeignKey("authors.id", ondelete="CASCADE", name="fk_posts_author_id_authors"),
            nullable=False,
        ),
        sa.Column("title", sa.String(200)),
        sa.Index("ix_posts_title", "title"),
    )
    small = unpooled(path)
    md.create_all(small)
    return small


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


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21; text needs 4.5)."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
