"""The rows view: values as stored, aligned text and an HTML table."""

import pytest
import sqlalchemy as sa

from tests.views.helpers import unpooled, url
from workbook.views import QueryView, RowsView, query, rows


@pytest.fixture
def people(tmp_path) -> sa.Engine:
    people = unpooled(tmp_path / "people.db")
    with people.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score REAL)")
        conn.exec_driver_sql(
            "INSERT INTO people VALUES (3, 'Cleo', NULL), (1, 'Ada <admin>', 2.5), (2, NULL, 10.0)"
        )
        conn.exec_driver_sql("CREATE TABLE empty (k TEXT)")
    return people


def test_rows_in_primary_key_order(people):
    view = rows(people, "people")
    assert isinstance(view, RowsView)
    assert (
        view.text
        == """\
id  name         score
--  -----------  -----
 1  Ada <admin>    2.5
 2  NULL          10.0
 3  Cleo          NULL
(3 rows)"""
    )
    assert repr(view) == view.text
    assert set(view._repr_mimebundle_()) == {"text/plain", "text/html"}
    html = view._repr_mimebundle_()["text/html"]
    assert html.startswith("<table>")
    assert "<td>Ada &lt;admin&gt;</td>" in html
    assert "<td><em>NULL</em></td>" in html
    assert html.endswith("<p>(3 rows)</p>\n")


def test_rows_truncation_and_order_by(people):
    view = rows(people, "people", limit=2, order_by="-id")
    assert view.text.splitlines()[2:] == [
        " 3  Cleo   NULL",
        " 2  NULL   10.0",
        "(showing 2 of 3 rows)",
    ]
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


def test_query_results_are_tables_and_tuples(people):
    result = query(people, "SELECT id, name FROM people WHERE id < :top ORDER BY id", top=3)
    assert isinstance(result, QueryView)
    assert result.text == "id  name\n--  -----------\n 1  Ada <admin>\n 2  NULL\n(2 rows)"
    assert repr(result) == result.text
    html = result._repr_mimebundle_()["text/html"]
    assert html.startswith("<table>") and "<th>name</th>" in html and "<em>NULL</em>" in html
    # In code, the rows as tuples: what the lessons' helpers index, unpack and compare.
    assert result[0] == (1, "Ada <admin>") and result[-1][1] is None and len(result) == 2
    assert [name for (_, name) in result] == ["Ada <admin>", None]
    assert result == [(1, "Ada <admin>"), (2, None)] and result != [(1, "Ada <admin>")]
    again = query(people, "SELECT id, name FROM people WHERE id < 3 ORDER BY id")
    assert result == again and result != query(people, "SELECT id, name FROM people")
    assert str(result) == "[(1, 'Ada <admin>'), (2, None)]"  # print() stays on one line


def test_query_headers_and_empty_results(people):
    counts = query(people, "SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM empty)")
    assert (
        counts.text.splitlines()[0] == "(SELECT count(*) FROM people)  (SELECT count(*) FROM empty)"
    )
    assert counts[0] == (3, 0)
    none = query(people, "SELECT name FROM people WHERE id > 9")
    assert none.text == "name\n----\n(0 rows)" and none == [] and str(none) == "[]"
    pragma = query(people, "PRAGMA table_info(people)")
    assert [column for (_, column, *_) in pragma] == ["id", "name", "score"]
