"""The reference migration chain (alembic/versions, 0001..0012) on SQLite, PostgreSQL and MySQL.

pytest-alembic's four checks, imported from ``pytest_alembic.tests`` (one head; base ->
head; the models match the DDL; every revision upgrades, downgrades and re-upgrades), run
on each database through its documented fixtures ``alembic_config`` and ``alembic_engine``.
Then the project's own: rows survive each round trip, the data migrations do what they
say, ``--sql`` output per dialect, and what a migration that fails halfway leaves behind.

Alembic runs in-process. pytest-alembic hands env.py the test's engine in
``config.attributes["connection"]``; the other tests let env.py build its own from
DATABASE_URL, which each test points at its own database: a SQLite file in tmp_path, or
a fresh database on a real PostgreSQL or MariaDB server (tests/postgres.py, tests/mysql.py).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError, to_tuple
from pytest_alembic.tests import (  # noqa: F401  (collected here, once per database)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import inspect, pool, text
from sqlalchemy.ext.asyncio import AsyncEngine

from alembic import command
from app.core.database import create_engine
from app.models import Base
from workbook import half_applied

pytestmark = pytest.mark.slow  # three databases, two of them servers: start it first

ROOT = Path(__file__).resolve().parents[1]
HEAD = "0012"
APP_TABLES = set(Base.metadata.tables)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mysql"),  # MariaDB; tests/mysql.py
]


SERVER_FIXTURES = {"postgresql": "postgres_database_url", "mysql": "mysql_database_url"}


# --- pointing Alembic at a database ------------------------------------------------------


def point_env_py_at(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    # A developer's .env with ENVIRONMENT=test would make env.py read TEST_DATABASE_URL.
    monkeypatch.setenv("ENVIRONMENT", "development")


def reference_config(ini: Path = ROOT / "alembic.ini", **kwargs: Any) -> Config:
    """A programmatic Config: env.py leaves pytest's logging alone (no cmd_opts)."""
    return Config(str(ini), **kwargs)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch) -> str:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'workbook.db'}"
    else:
        url = request.getfixturevalue(SERVER_FIXTURES[request.param])
    point_env_py_at(monkeypatch, url)
    return url


@pytest.fixture
def config(database_url: str) -> Config:
    return reference_config()


# pytest-alembic's fixtures: its checks run env.py with this engine, the same for every
# command, as an application hands over its own.


@pytest.fixture
def alembic_config() -> Config:
    return reference_config()


@pytest.fixture
def alembic_engine(database_url: str) -> Iterator[AsyncEngine]:
    # The application's engine (SQLite: foreign keys enforced). NullPool: pytest-alembic
    # runs each command in a new event loop, and a pooled connection belongs to its loop.
    engine = create_engine(database_url, poolclass=pool.NullPool)
    yield engine
    asyncio.run(engine.dispose())


# --- looking at the database --------------------------------------------------------------


def on_database(url: str, work: Callable[[Any], Any]) -> Any:
    """Run ``work(connection)``, plain synchronous SQLAlchemy code, in one transaction."""

    async def run() -> Any:
        engine = create_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.begin() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def applied_revisions(url: str) -> set[str]:
    return on_database(url, lambda c: set(MigrationContext.configure(c).get_current_heads()))


def table_names(url: str) -> set[str]:
    return on_database(url, lambda c: set(inspect(c).get_table_names()))


def column_names(url: str, table: str) -> set[str]:
    return on_database(url, lambda c: {col["name"] for col in inspect(c).get_columns(table)})


def row_counts(url: str) -> dict[str, int]:
    def count(connection) -> dict[str, int]:
        tables = sorted(set(inspect(connection).get_table_names()) - {"alembic_version"})
        return {
            t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables
        }

    return on_database(url, count)


def execute(url: str, statements: list[tuple[str, dict]]) -> None:
    def run(connection) -> None:
        for sql, params in statements:
            connection.execute(text(sql), params)

    on_database(url, run)


def fetch(url: str, sql: str) -> list[tuple]:
    return on_database(url, lambda c: [tuple(row) for row in c.execute(text(sql))])


# --- the revision graph -------------------------------------------------------------------


def revisions_base_to_head(config: Config) -> list[Script]:
    """Every revision, each after all its ancestors (walk_revisions goes head to base)."""
    return list(reversed(list(ScriptDirectory.from_config(config).walk_revisions())))


def parents(revision: Script) -> tuple[str, ...]:
    return to_tuple(revision.down_revision, default=())


def ancestors_and_self(config: Config, revision: Script) -> set[str]:
    script = ScriptDirectory.from_config(config)
    return {r.revision for r in script.iterate_revisions(revision.revision, "base")}


def step_back_target(revision: Script) -> str:
    """What ``downgrade`` needs to undo ``revision`` alone.

    For a merge, either parent works: downgrading a merge point to one of its parents
    leaves both parents applied (0010 -> 0008 + 0009).
    """
    return parents(revision)[0] if parents(revision) else "base"


def step_onto(config: Config, url: str, revision: Script) -> None:
    """Upgrade to ``revision`` so that exactly it and its ancestors are applied.

    After 0008's round trip, 0009 comes next but does not build on 0008 (a parallel
    branch): step back to their common parent first, or 0008 would stay applied and
    no single downgrade target could undo 0009 alone.
    """
    stray = applied_revisions(url) - ancestors_and_self(config, revision)
    if stray:
        command.downgrade(config, step_back_target(revision))
        assert applied_revisions(url) <= ancestors_and_self(config, revision)
    command.upgrade(config, revision.revision)
    assert applied_revisions(url) == {revision.revision}


# Rows added right after a revision's round trip, in SQL that fits the schema at that point;
# every later round trip must keep them. Ids come from subqueries: explicit ids would leave
# PostgreSQL's sequences behind.
LINK_READER_TO_BOOK = (
    "INSERT INTO user_books (user_id, book_id) SELECT users.id, books.id FROM users, books "
    "WHERE users.email = :email AND books.isbn = :isbn"
)
SAMPLE_ROWS: dict[str, list[tuple[str, dict]]] = {
    "0001": [  # is_active has no server default yet
        (
            "INSERT INTO users (email, hashed_password, full_name, is_active) "
            "VALUES (:email, 'x', :full_name, :active)",
            {"email": "alice@example.com", "full_name": "Alice Liddell", "active": True},
        ),
        (
            "INSERT INTO books (title, author, isbn) VALUES ('Dune', 'Frank Herbert', :isbn)",
            {"isbn": "9780441013593"},
        ),
        (LINK_READER_TO_BOOK, {"email": "alice@example.com", "isbn": "9780441013593"}),
    ],
    "0005": [  # publishers exist; is_active has a server default; no full_name for bob
        ("INSERT INTO publishers (name) VALUES ('Chilton Books')", {}),
        (
            "INSERT INTO books (title, author, isbn, publisher_id) "
            "SELECT 'Dune Messiah', 'Frank Herbert', :isbn, id FROM publishers "
            "WHERE name = 'Chilton Books'",
            {"isbn": "9780593098233"},
        ),
        ("INSERT INTO users (email, hashed_password) VALUES ('bob@example.com', 'x')", {}),
        (LINK_READER_TO_BOOK, {"email": "bob@example.com", "isbn": "9780593098233"}),
    ],
    "0009": [  # display_name (0007) and bio (0009); page_count (0008) is not applied here
        (
            "INSERT INTO users (email, hashed_password, display_name, bio) "
            "VALUES ('carol@example.com', 'x', 'Carol', 'Reads everything')",
            {},
        ),
    ],
}
ROWS_AT_HEAD = {"books": 2, "categories": 3, "publishers": 1, "user_books": 2, "users": 3}


# --- the tests ----------------------------------------------------------------------------


def test_downgrade_base_leaves_only_the_version_table(config: Config, database_url: str) -> None:
    command.upgrade(config, "head")
    assert applied_revisions(database_url) == {HEAD}
    assert APP_TABLES <= table_names(database_url)
    command.downgrade(config, "base")
    assert applied_revisions(database_url) == set()
    assert table_names(database_url) == {"alembic_version"}


def test_each_revision_round_trips_and_keeps_rows(config: Config, database_url: str) -> None:
    for revision in revisions_base_to_head(config):
        step_onto(config, database_url, revision)
        rows_before = row_counts(database_url)

        command.downgrade(config, step_back_target(revision))
        assert applied_revisions(database_url) == set(parents(revision)), revision.revision
        command.upgrade(config, revision.revision)
        assert applied_revisions(database_url) == {revision.revision}

        assert row_counts(database_url) == rows_before, (
            f"rows lost by {revision.revision}'s round trip"
        )
        execute(database_url, SAMPLE_ROWS.get(revision.revision, []))

    assert applied_revisions(database_url) == {HEAD}
    assert row_counts(database_url) == ROWS_AT_HEAD


def test_0006_seeds_three_categories(config: Config, database_url: str) -> None:
    command.upgrade(config, "0006")
    assert fetch(database_url, "SELECT name FROM categories ORDER BY name") == [
        ("Fiction",),
        ("Non-Fiction",),
        ("Science",),
    ]
    command.downgrade(config, "0005")
    assert "categories" not in table_names(database_url)


def test_0007_backfills_display_name_from_full_name_or_email(
    config: Config, database_url: str
) -> None:
    command.upgrade(config, "0006")
    execute(
        database_url,
        [
            (
                "INSERT INTO users (email, hashed_password, full_name) VALUES (:email, 'x', :name)",
                {"email": email, "name": name},
            )
            for email, name in [("ann@example.com", "Ann Author"), ("nameless@example.com", None)]
        ],
    )
    command.upgrade(config, "0007")
    assert dict(fetch(database_url, "SELECT email, display_name FROM users")) == {
        "ann@example.com": "Ann Author",
        "nameless@example.com": "nameless@example.com",
    }
    command.upgrade(config, "head")  # 0011's NOT NULL holds because every row was filled


# Offline mode never connects: the server URLs need no server, the SQLite file stays absent.
OFFLINE_URLS = {
    "sqlite": "sqlite+aiosqlite:///{tmp_path}/offline.db",
    "postgresql": "postgresql+asyncpg://nobody:CHANGE_ME@127.0.0.1:1/offline",
    "mysql": "mysql+aiomysql://nobody:CHANGE_ME@127.0.0.1:1/offline",
}
OFFLINE_DIALECTS = sorted(OFFLINE_URLS)
# How each dialect shortens users.phone_number (0003), and whether the script is one transaction.
PHONE_NUMBER_DDL = {
    "sqlite": "CREATE TABLE _alembic_tmp_users (",  # batch mode: copy, then swap
    "postgresql": "ALTER TABLE users ALTER COLUMN phone_number TYPE VARCHAR(15);",
    "mysql": "ALTER TABLE users MODIFY phone_number VARCHAR(15) NULL;",
}
# MySQL commits each DDL statement implicitly: Alembic writes no BEGIN/COMMIT around it.
ONE_TRANSACTION = {"sqlite": True, "postgresql": True, "mysql": False}


@pytest.fixture
def offline_dialect(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch) -> Iterator[str]:
    point_env_py_at(monkeypatch, OFFLINE_URLS[request.param].format(tmp_path=tmp_path))
    yield request.param
    assert not (tmp_path / "offline.db").exists()


def offline_sql(command_function: Callable, revisions: str) -> str:
    buffer = io.StringIO()
    command_function(reference_config(output_buffer=buffer), revisions, sql=True)
    return buffer.getvalue()


@pytest.mark.parametrize("offline_dialect", OFFLINE_DIALECTS, indirect=True)
def test_offline_upgrade_sql(offline_dialect: str) -> None:
    sql = offline_sql(command.upgrade, "head")
    assert "CREATE TABLE users (" in sql
    assert "INSERT INTO alembic_version (version_num) VALUES ('0001')" in sql
    assert (
        "UPDATE alembic_version SET version_num='0011' WHERE alembic_version.version_num = '0010'"
        in sql
    )
    assert PHONE_NUMBER_DDL[offline_dialect] in sql
    assert sql.lstrip().startswith("BEGIN;") == ONE_TRANSACTION[offline_dialect]
    # the data migrations, rendered as literal SQL
    assert "INSERT INTO categories (name, description) VALUES ('Fiction', 'Fiction books')" in sql
    assert "UPDATE users SET display_name=coalesce(users.full_name, users.email)" in sql


@pytest.mark.parametrize(
    "offline_dialect",
    [
        pytest.param(
            "sqlite",
            marks=pytest.mark.xfail(
                strict=True,
                raises=CommandError,
                reason="known: the downgrades of 0002, 0003, 0005, 0007, 0008, 0009, 0011 and 0012 "
                "rebuild a table (batch drop/alter column, drop constraint) without copy_from=, "
                "so they must reflect it: impossible with --sql on SQLite",
            ),
        ),
        "postgresql",
        "mysql",
    ],
    indirect=True,
)
def test_offline_downgrade_sql(offline_dialect: str) -> None:
    sql = offline_sql(command.downgrade, "head:base")
    assert "DROP TABLE users;" in sql
    assert "DELETE FROM alembic_version WHERE alembic_version.version_num = '0001'" in sql


# What a migration that fails halfway leaves: nothing where DDL is transactional
# (PostgreSQL; SQLite through env.py), its first statements on MySQL, which commits each
# DDL statement implicitly. alembic_version stays at the last revision that succeeded.
LEFT_BEHIND = {
    "sqlite": ((), ()),
    "postgresql": ((), ()),
    "mysql": ((half_applied.NEW_TABLE,), (".".join(half_applied.NEW_COLUMN),)),
}
DDL_LOG = {
    "sqlite": "Will assume transactional DDL",
    "postgresql": "Will assume transactional DDL",
    "mysql": "Will assume non-transactional DDL",
}


def test_failed_migration_leaves_what_the_database_commits(
    database_url: str, reference_project: Path
) -> None:
    project = reference_project
    command.upgrade(reference_config(project / "alembic.ini"), HEAD)

    leftovers = half_applied.fail_halfway(project, database_url, down_revision=HEAD)

    assert leftovers.error == "RuntimeError: this migration fails halfway on purpose"
    assert (leftovers.tables, leftovers.columns) == LEFT_BEHIND[leftovers.dialect]
    assert leftovers.version == (HEAD,)
    assert DDL_LOG[leftovers.dialect] in leftovers.log
    assert table_names(database_url) - set(leftovers.tables) == APP_TABLES | {"alembic_version"}


def test_mysql_leg_says_why_it_cannot_run(tmp_path: Path, monkeypatch) -> None:
    from tests import mysql
    from tests.servers import skip_or_fail

    monkeypatch.setattr(mysql, "SEARCH_PATH", str(tmp_path))  # no mariadbd anywhere
    monkeypatch.delenv("TEST_MYSQL_URL", raising=False)
    with pytest.raises(mysql.MysqlUnavailable) as why, mysql.mysql_server():
        pass
    assert str(why.value).startswith("no mariadb-install-db on PATH, /usr/sbin or /usr/bin")

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="^MySQL leg skipped: no mariadb-install-db"):
        skip_or_fail("MySQL leg", why.value)
    monkeypatch.setenv("CI", "true")  # in CI the leg must run: a failure, not a skip
    with pytest.raises(pytest.fail.Exception, match="^MySQL leg required in CI but unavailable"):
        skip_or_fail("MySQL leg", why.value)
