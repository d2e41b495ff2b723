"""Chapter 08's MySQL section: its server, its skipped cells, and its stored real run.

- ``workbook.half_applied.mysql_server()`` gives one line whatever WORKBOOK_MYSQL_URL holds
  (unset, unparsable, not MySQL, unreachable, wrong password, a database in use), never
  the password; on a real MariaDB (tests/mysql.py) it names the server, password masked.
- The cells that need a server are found by their first words; without a server nbval
  skips them (fails them under CI=true), and tools/run_notebooks.py refuses to store a
  lesson that needs one.
- The stored chapter 08 shows a real run: MySQLImpl, non-transactional DDL, the
  half-applied migration and the recovery, and no password.
"""

from __future__ import annotations

import json
import re
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy.engine import URL, make_url

from tests import mysql
from workbook import half_applied

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_08 = ROOT / "notebooks" / "08_2_sql_for_dbas_and_other_databases.ipynb"
SECRET = "s3cr@t:/%'#"  # a password as awkward as tests/mysql.py's
URL_PASSWORD = re.compile(r"mysql\+aiomysql://[^:/@\s]+:([^@\s]+)@")


def server_line(monkeypatch, value: str | None) -> half_applied.Server:
    if value is None:
        monkeypatch.delenv(half_applied.SERVER_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(half_applied.SERVER_VARIABLE, value)
    return half_applied.mysql_server()


def assert_one_masked_line(server: half_applied.Server, *expected: str) -> None:
    assert not server and server.url is None
    assert "\n" not in server.line and "s3cr" not in server.line
    for text in expected:
        assert text in server.line, server.line


# --- the lesson's server, without one ----------------------------------------------------


def test_no_server_variable_says_so_in_one_line(monkeypatch):
    server = server_line(monkeypatch, None)
    assert_one_masked_line(server, "No MySQL server here (WORKBOOK_MYSQL_URL is not set)")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("mysql+aiomysql://bob:s3cr@t:/%'#@db.example.com/library", "not a database URL"),
        ("bob:s3cr@t@db.example.com", "not a database URL"),
        ("postgresql+asyncpg://bob:s3cret@db.example.com/library", "is not a MySQL URL"),
    ],
    ids=["at-sign-in-password", "no-scheme", "not-mysql"],
)
def test_a_wrong_url_gives_one_line_without_the_password(monkeypatch, raw, expected):
    server = server_line(monkeypatch, raw)
    assert_one_masked_line(server, "WORKBOOK_MYSQL_URL", expected)
    assert "s3cret" not in server.line


def test_an_unreachable_server_gives_one_line_without_the_password(monkeypatch):
    url = make_url("mysql+pymysql://bob@127.0.0.1:1/library").set(password=SECRET)
    server = server_line(monkeypatch, url.render_as_string(hide_password=False))
    assert_one_masked_line(server, "did not answer", "bob:***@127.0.0.1:1", "Connection refused")


def test_a_sync_driver_is_replaced_by_aiomysql():
    assert half_applied._with_aiomysql("mariadb+pymysql://u:p@h/d") == "mysql+aiomysql://u:p@h/d"
    assert half_applied._with_aiomysql("MySQL://u:p@h/d") == "mysql+aiomysql://u:p@h/d"


# --- the lesson's server, a real one -------------------------------------------------------


def test_mysql_server_is_named_with_its_password_masked(monkeypatch, mysql_database_url):
    server = server_line(monkeypatch, mysql_database_url)
    password = make_url(mysql_database_url).password
    assert server and server.url == mysql_database_url
    assert re.fullmatch(
        r"MariaDB \d+\.\d+\.\d+ at mysql\+aiomysql://workbook:\*\*\*@127\.0\.0\.1:"
        r"\d+/test_[0-9a-f]+ \(password hidden\)",
        server.line,
    ), server.line
    assert password not in server.line


def test_mysql_lesson_server_is_a_fresh_database_dropped_after(monkeypatch, mysql_url):
    monkeypatch.delenv(mysql.LESSON_VARIABLE, raising=False)
    monkeypatch.setenv("TEST_MYSQL_URL", mysql_url)
    with mysql.lesson_server() as url:
        assert url.database.startswith("test_") and url.database != make_url(mysql_url).database
        assert server_line(monkeypatch, url.render_as_string(hide_password=False))
    with closing(mysql.connect(make_url(mysql_url))) as connection, connection.cursor() as cursor:
        cursor.execute("SHOW DATABASES")
        assert url.database not in {name for (name,) in cursor.fetchall()}


def test_mysql_wrong_password_and_busy_database_give_one_line(monkeypatch, mysql_database_url):
    wrong = make_url(mysql_database_url).set(password=SECRET)
    server = server_line(monkeypatch, wrong.render_as_string(hide_password=False))
    assert_one_masked_line(server, "did not answer", "Access denied")

    url = make_url(mysql_database_url)
    with closing(mysql.connect(url, url.database)) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE users (id INT PRIMARY KEY)")
    server = server_line(monkeypatch, mysql_database_url)
    assert_one_masked_line(server, "already holds users", "empty, throwaway")
    assert url.password not in server.line


# --- which cells need a server, and what happens without one ----------------------------


def test_chapter_08_is_the_lesson_that_needs_a_server():
    needing = mysql.lessons_needing_a_server(ROOT / "notebooks")
    assert [twin.name for twin in needing] == ["08_2_sql_for_dbas_and_other_databases.md"]


def test_a_server_cell_is_known_by_its_first_words():
    assert mysql.cell_needs_a_server("# NBVAL_RAISES_EXCEPTION\n# needs the MySQL server above\n")
    assert not mysql.cell_needs_a_server("print('# needs the MySQL server')\n")


def test_without_a_server_the_cell_is_skipped_and_fails_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="^MySQL lesson cell skipped: no mariadbd"):
        mysql.lesson_cell_without_server("no mariadbd")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="^MySQL lesson cell required in CI"):
        mysql.lesson_cell_without_server("no mariadbd")


def test_a_given_server_that_is_down_is_unavailable_not_an_error(monkeypatch):
    monkeypatch.delenv(mysql.LESSON_VARIABLE, raising=False)
    down = URL.create("mysql", "bob", SECRET, "127.0.0.1", 1, "x")  # nothing listens on port 1
    monkeypatch.setenv("TEST_MYSQL_URL", down.render_as_string(hide_password=False))
    with (
        pytest.raises(mysql.MysqlUnavailable, match="TEST_MYSQL_URL did not answer") as why,
        mysql.lesson_server(),
    ):
        pass
    assert "s3cr" not in str(why.value)


def test_run_notebooks_refuses_to_store_a_lesson_without_a_server(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    import run_notebooks

    for variable in ("TEST_MYSQL_URL", mysql.LESSON_VARIABLE):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(mysql, "SEARCH_PATH", str(tmp_path))  # no mariadbd anywhere
    refused = (
        r"08_2_sql_for_dbas_and_other_databases.ipynb: not run, "
        r"its stored outputs need a MySQL server"
    )
    with (
        pytest.raises(SystemExit, match=refused + r" .*no mariadb-install-db"),
        run_notebooks.mysql_for([CHAPTER_08]),
    ):
        pass
    with run_notebooks.mysql_for([ROOT / "notebooks" / "03_autogenerate.ipynb"]):
        pass  # no server needed, none started


# --- the stored chapter: a real run ------------------------------------------------------


def stored_server_cells() -> list[tuple[str, str]]:
    notebook = json.loads(CHAPTER_08.read_text(encoding="utf-8"))
    cells = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and mysql.cell_needs_a_server(source):
            # streams, displays (%alembic may show its log as one) and errors
            text = "".join(
                "".join(o.get("text", ""))
                + "".join(o.get("data", {}).get("text/plain", ""))
                + str(o.get("evalue", ""))
                for o in cell["outputs"]
            )
            cells.append((source, text))
    return cells


def test_chapter_08_stores_a_real_mysql_run():
    cells = stored_server_cells()
    assert len(cells) >= 6 and all(text for _, text in cells), "a server cell stored empty"
    everything = "\n".join(text for _, text in cells)
    for shown in [
        "Context impl MySQLImpl.",
        "Will assume non-transactional DDL.",
        "RuntimeError: this migration fails halfway on purpose",
        "mysql: table half_done, column users.nickname; alembic_version: 0012",
        "Table 'half_done' already exists",
        "Running stamp_revision 0012 -> 9999",
        "mysql: nothing; alembic_version: empty",
    ]:
        assert shown in everything, f"not in the stored MySQL cells: {shown}"


def test_chapter_08_prints_no_password():
    text = CHAPTER_08.read_text(encoding="utf-8")
    passwords = set(URL_PASSWORD.findall(text))
    assert passwords <= {"***", "CHANGE_ME", "password"}, passwords
