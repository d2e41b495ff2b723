"""The schema model and its reader, and the schema view: text exactly, ER diagram well-formed."""

import shutil

import pytest
import sqlalchemy as sa

from tests.views.helpers import assert_clean, small_db, svg_texts, svg_width, unpooled, url
from workbook.exercises.inspect import CheckedTable, read_schema
from workbook.views import ColumnInfo, SchemaView, schema, snapshot_schema

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
        ("id", "INTEGER", False, True),
        ("author_id", "INTEGER", False, False),
        ("title", "VARCHAR(200)", True, False),
    ]
    fk = posts.foreign_keys[0]
    assert (fk.name, fk.columns, fk.referred_table, fk.referred_columns, fk.ondelete) == (
        "fk_posts_author_id_authors",
        ("author_id",),
        "authors",
        ("id",),
        "CASCADE",
    )
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
    assert view.snapshot.table_names == ("books", "categories", "publishers", "user_books", "users")
    users = view.text.split("\n\n")[-1]
    assert (
        users
        == """\
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
    )
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
    view = schema(unpooled(tmp_path / "empty.db"))
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


def test_lookups_by_column_and_the_inspectors_keys(tmp_path):
    posts = snapshot_schema(small_db(tmp_path / "a.db")).table("posts")
    assert [fk.target for fk in posts.foreign_keys_on("author_id")] == ["authors.id"]
    assert posts.foreign_keys_on("title") == [] and posts.indexes_on("author_id") == []
    assert [ix.name for ix in posts.indexes_on("title")] == ["ix_posts_title"]
    title = posts.columns[2]
    assert isinstance(title["type"], sa.String) and title["type"].length == 200
    assert title.get("nullable") is True and title.get("comment") is None
    assert posts.foreign_keys[0]["referred_columns"] == ["id"]  # as the Inspector gave it
    by_hand = ColumnInfo("title", "VARCHAR(200)", True)  # compared without what was reflected
    assert by_hand == title and hash(by_hand) == hash(title) and by_hand.get("type") is None


def test_the_checkers_read_the_same_model(tmp_path, migrated):
    small_db(tmp_path / "a.db").dispose()
    tables = read_schema(tmp_path / "a.db")
    assert list(tables) == ["authors", "posts"]
    posts = tables["posts"]
    assert posts.table == snapshot_schema(url(tmp_path / "a.db")).table("posts")
    assert list(posts.columns) == ["id", "author_id", "title"]  # by name, in table order
    assert posts.columns["author_id"] is posts.table.columns[1]
    assert not posts.columns["author_id"]["nullable"]
    assert posts.foreign_keys_on("author_id")[0]["name"] == "fk_posts_author_id_authors"
    assert [ix["name"] for ix in posts.indexes] == ["ix_posts_title"]
    assert "alembic_version" in read_schema(migrated["0005"])  # the checkers see it too
    assert CheckedTable("books").columns == {} and CheckedTable("books").indexes == ()
    assert read_schema(tmp_path / "missing.db") == {}
    assert not (tmp_path / "missing.db").exists()
