"""app.core.config (where the database is) and app.core.database (SQLite foreign keys).

Every test passes its own environment mapping and root folder, so neither the shell
nor a .env in the repository is read.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import pool, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import ConfigError, get_settings, mask_password, parse_database_url
from app.core.database import create_engine

ENV_URL = "sqlite+aiosqlite:///from-environment.db"
DOTENV_URL = "sqlite+aiosqlite:///from-dotenv.db"


def write_dotenv(root: Path, **values: str) -> None:
    (root / ".env").write_text("".join(f"{key}={value}\n" for key, value in values.items()))


# --- precedence: environment > .env > default -----------------------------------------------


def test_environment_beats_dotenv(tmp_path: Path) -> None:
    write_dotenv(tmp_path, DATABASE_URL=DOTENV_URL)
    settings = get_settings({"DATABASE_URL": ENV_URL}, root=tmp_path)
    assert settings.database_url.database == str(tmp_path / "from-environment.db")
    assert (settings.variable, settings.source) == ("DATABASE_URL", "environment")


def test_dotenv_beats_default(tmp_path: Path) -> None:
    write_dotenv(tmp_path, DATABASE_URL=DOTENV_URL)
    settings = get_settings({}, root=tmp_path)
    assert settings.database_url.database == str(tmp_path / "from-dotenv.db")
    assert settings.source == ".env"


def test_default_is_app_db_in_the_root(tmp_path: Path) -> None:
    settings = get_settings({}, root=tmp_path)
    assert settings.database_url.drivername == "sqlite+aiosqlite"
    assert settings.database_url.database == str(tmp_path / "app.db")
    assert settings.source == "default"


def test_empty_environment_value_still_beats_dotenv(tmp_path: Path) -> None:
    """As with python-dotenv's load_dotenv(): a variable set, even to "", is not overridden.

    test_cli.py relies on it to keep a developer's TEST_DATABASE_URL in .env out.
    """
    write_dotenv(tmp_path, DATABASE_URL=DOTENV_URL)
    assert get_settings({"DATABASE_URL": ""}, root=tmp_path).source == "default"


# --- relative SQLite paths are anchored to the root ----------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("sqlite+aiosqlite:///app.db", "{root}/app.db"),
        ("sqlite+aiosqlite:///data/dev.db", "{root}/data/dev.db"),
        ("sqlite+aiosqlite:////srv/absolute.db", "/srv/absolute.db"),
        ("sqlite+aiosqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_paths(raw: str, expected: str, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()  # a SQLite file's folder must exist
    url = parse_database_url(raw, root=tmp_path)
    assert url.database == expected.format(root=tmp_path)


def test_postgresql_url_is_left_alone(tmp_path: Path) -> None:
    raw = "postgresql+asyncpg://bob:s3cret@db.example:5432/books"
    assert parse_database_url(raw, root=tmp_path).render_as_string(hide_password=False) == raw


# --- ENVIRONMENT=test reads TEST_DATABASE_URL -----------------------------------------------


def test_environment_test_reads_test_database_url(tmp_path: Path) -> None:
    environ = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": ENV_URL,
        "TEST_DATABASE_URL": "sqlite+aiosqlite:///test.db",
    }
    settings = get_settings(environ, root=tmp_path)
    assert settings.variable == "TEST_DATABASE_URL"
    assert settings.database_url.database == str(tmp_path / "test.db")


def test_environment_test_from_dotenv_counts_too(tmp_path: Path) -> None:
    write_dotenv(tmp_path, ENVIRONMENT="test", TEST_DATABASE_URL="sqlite+aiosqlite:///t.db")
    settings = get_settings({"DATABASE_URL": ENV_URL}, root=tmp_path)
    assert (settings.variable, settings.source) == ("TEST_DATABASE_URL", ".env")


def test_environment_test_without_its_url_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="^ENVIRONMENT=test but TEST_DATABASE_URL is not set$"):
        get_settings({"ENVIRONMENT": "test", "DATABASE_URL": ENV_URL}, root=tmp_path)


# --- errors are one line, name the variable, never show a password -------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("nonsense", "is not a database URL"),
        ("postgresql://bob:s3cret@db/books", "is not an async driver"),
        ("nosuchdb+nodriver://bob:s3cret@db/books", "unknown database driver"),
    ],
)
def test_bad_urls(raw: str, expected: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        parse_database_url(raw, variable="DATABASE_URL", root=tmp_path)
    message = str(error.value)
    assert expected in message
    assert message.startswith("DATABASE_URL ")
    assert "\n" not in message
    assert "s3cret" not in message


def test_safe_url_hides_the_password(tmp_path: Path) -> None:
    settings = get_settings(
        {"DATABASE_URL": "postgresql+asyncpg://bob:s3cret@db/books"}, root=tmp_path
    )
    assert settings.safe_url == "postgresql+asyncpg://bob:***@db/books"


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("postgresql+asyncpg://bob:s3cret@db/books", "postgresql+asyncpg://bob:***@db/books"),
        ("postgresql+asyncpg://bob@db/books", "postgresql+asyncpg://bob@db/books"),
        ("postgresql://bob:p@ss@db/books", "postgresql://bob:***@db/books"),  # @ in password
        ("not a url://bob:s3cret@db", "not a url://bob:***@db"),
        ("bob:s3cret@db", "bob:***@db"),
        ("nonsense", "nonsense"),
        ("sqlite+aiosqlite:///app.db", "sqlite+aiosqlite:///app.db"),
    ],
)
def test_mask_password(raw: str, masked: str) -> None:
    assert mask_password(raw) == masked


# --- app.core.database.create_engine enforces SQLite foreign keys ---------------------------


async def insert_orphan(engine) -> None:
    """Create parent/child tables and insert a child whose parent does not exist."""
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
            await connection.execute(
                text(
                    "CREATE TABLE child (id INTEGER PRIMARY KEY, "
                    "parent_id INTEGER NOT NULL REFERENCES parent (id))"
                )
            )
            await connection.execute(text("INSERT INTO child (parent_id) VALUES (42)"))
    finally:
        await engine.dispose()


def test_create_engine_enforces_sqlite_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fk.db'}", poolclass=pool.NullPool)
    with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"):
        asyncio.run(insert_orphan(engine))


def test_plain_sqlite_engine_would_not(tmp_path: Path) -> None:
    """Why create_engine's PRAGMA matters: SQLite ignores foreign keys by default."""
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'fk.db'}", poolclass=pool.NullPool
    )
    asyncio.run(insert_orphan(engine))  # no error


def test_a_sqlite_file_in_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="in a folder that does not exist"):
        parse_database_url("sqlite+aiosqlite:///missing_dir/app.db", root=tmp_path)
    assert parse_database_url("sqlite+aiosqlite:///app.db", root=tmp_path).database == str(
        tmp_path / "app.db"
    )
