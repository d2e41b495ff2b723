"""alembic/env.py embedded in a program, as learners will use it: a test harness, an application.

- One engine handed in ``config.attributes["connection"]`` serves several commands.
- A program's call keeps the program's logging; the command line gets alembic.ini's.
- SQLite with foreign keys enforced: a batch rebuild never deletes rows of other tables.
"""

from __future__ import annotations

import asyncio
import io
import logging
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import event, pool
from sqlalchemy.ext.asyncio import create_async_engine

from alembic import command
from app.core.database import create_engine

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite file that env.py's own engine (DATABASE_URL) also reaches."""
    path = tmp_path / "workbook.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("ENVIRONMENT", "development")
    return path


def rows(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(sql).fetchall()


def version(path: Path) -> set[str]:
    return {row[0] for row in rows(path, "SELECT version_num FROM alembic_version")}


def programmatic_config(ini: Path = ROOT / "alembic.ini") -> Config:
    return Config(str(ini), stdout=io.StringIO())  # not the real stdout, bound at import


# --- one engine, several commands ----------------------------------------------------------


def test_one_async_engine_serves_several_commands(database: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{database}", poolclass=pool.NullPool)
    config = programmatic_config()
    config.attributes["connection"] = engine
    try:
        command.upgrade(config, "0005")
        command.downgrade(config, "0003")
        command.upgrade(config, "head")
        command.check(config)
    finally:
        asyncio.run(engine.dispose())
    assert version(database) == {"0012"}


def test_a_sync_engine_is_accepted_too(database: Path) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{database}")
    config = programmatic_config()
    config.attributes["connection"] = engine
    try:
        command.upgrade(config, "head")
        command.downgrade(config, "0010")
    finally:
        engine.dispose()
    assert version(database) == {"0010"}


# --- logging --------------------------------------------------------------------------------


@pytest.fixture
def logging_restored() -> Iterator[None]:
    """Put the logging configuration back, whatever env.py did to it."""
    loggers = [logging.getLogger(name) for name in ("", "alembic", "sqlalchemy.engine", "library")]
    saved = [(lg, lg.level, list(lg.handlers), lg.disabled) for lg in loggers]
    yield
    for lg, level, handlers, disabled in saved:
        lg.setLevel(level)
        lg.handlers[:] = handlers
        lg.disabled = disabled


def test_a_programmatic_call_keeps_the_callers_logging(
    database: Path, caplog: pytest.LogCaptureFixture, logging_restored: None
) -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))

    command.upgrade(programmatic_config(), "head")

    assert (root.level, list(root.handlers)) == before
    logging.getLogger("library").warning("still heard")
    assert "still heard" in caplog.text


def test_configure_logger_true_asks_for_alembic_ini_logging(
    database: Path, logging_restored: None
) -> None:
    config = programmatic_config()
    config.attributes["configure_logger"] = True
    command.upgrade(config, "head")
    assert logging.getLogger("alembic").level == logging.INFO  # [logger_alembic] in alembic.ini


# --- SQLite foreign keys and batch rebuilds -------------------------------------------------


def enforcing_foreign_keys(path: Path) -> sqlalchemy.Engine:
    """An application's sync engine: every connection runs PRAGMA foreign_keys=ON."""
    engine = sqlalchemy.create_engine(f"sqlite:///{path}", poolclass=pool.NullPool)

    @event.listens_for(engine, "connect")
    def _foreign_keys_on(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    return engine


@pytest.fixture
def at_0010_with_a_reader(database: Path) -> Path:
    """At 0010 (0011 rebuilds users in batch mode), one user who has one book."""
    command.upgrade(programmatic_config(), "0010")
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute(
            "INSERT INTO users (id, email, hashed_password, display_name, "
            "is_active) VALUES (1, 'ada@example.com', 'x', 'Ada', 1)"
        )
        connection.execute("INSERT INTO books (id, title, author) VALUES (1, 'Dune', 'Herbert')")
        connection.execute("INSERT INTO user_books (user_id, book_id) VALUES (1, 1)")
    return database


def test_shared_connection_with_foreign_keys_keeps_rows_through_a_rebuild(
    at_0010_with_a_reader: Path,
) -> None:
    engine = enforcing_foreign_keys(at_0010_with_a_reader)
    config = programmatic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0011")
        connection.commit()
        foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    assert version(at_0010_with_a_reader) == {"0011"}
    assert rows(at_0010_with_a_reader, "SELECT * FROM user_books") == [(1, 1)]
    assert foreign_keys == 1  # put back for the application


def test_application_async_engine_keeps_rows_through_a_rebuild(
    at_0010_with_a_reader: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{at_0010_with_a_reader}", poolclass=pool.NullPool)
    config = programmatic_config()
    config.attributes["connection"] = engine
    try:
        command.upgrade(config, "head")
    finally:
        asyncio.run(engine.dispose())
    assert rows(at_0010_with_a_reader, "SELECT * FROM user_books") == [(1, 1)]


def test_a_connection_inside_a_transaction_is_refused_before_the_rebuild(
    at_0010_with_a_reader: Path,
) -> None:
    engine = enforcing_foreign_keys(at_0010_with_a_reader)
    config = programmatic_config()
    with pytest.raises(CommandError) as refused, engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    message = str(refused.value)
    assert message.startswith("refused to rebuild or drop a table") and "\n" not in message
    assert version(at_0010_with_a_reader) == {"0010"}
    assert rows(at_0010_with_a_reader, "SELECT * FROM user_books") == [(1, 1)]
    tables = {
        name
        for (name,) in rows(
            at_0010_with_a_reader, "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    }
    assert not any(name.startswith("_alembic_tmp_") for name in tables)


LEAVES_AN_ORPHAN = '''\
"""Leaves a row pointing at nothing (written by tests/test_env_py.py)."""
from alembic import op

revision = "9998"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("INSERT INTO user_books (user_id, book_id) VALUES (999, 999)")


def downgrade() -> None:
    pass
'''


def test_rows_left_pointing_at_nothing_roll_the_migration_back(
    at_0010_with_a_reader: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "alembic.ini", project / "alembic.ini")
    shutil.copytree(
        ROOT / "alembic", project / "alembic", ignore=shutil.ignore_patterns("__pycache__")
    )
    (project / "alembic" / "versions" / "9998_leaves_an_orphan.py").write_text(LEAVES_AN_ORPHAN)
    engine = enforcing_foreign_keys(at_0010_with_a_reader)
    config = programmatic_config(project / "alembic.ini")
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0011")
        with pytest.raises(
            CommandError,
            match=r"^rolled back: the migration left 1 row\(s\) in "
            r"user_books whose foreign key points at nothing",
        ):
            command.upgrade(config, "9998")
    assert version(at_0010_with_a_reader) == {"0011"}
    assert rows(at_0010_with_a_reader, "SELECT * FROM user_books") == [(1, 1)]
