"""Where the database is: ``DATABASE_URL`` from the environment, else ``.env``, else SQLite.

The guide's best practice 9 is kept: with ``ENVIRONMENT=test`` the variable read is
``TEST_DATABASE_URL`` instead. A relative SQLite path is anchored to the project folder
(the one holding ``app/``), so the database does not move with the working directory.
Every error is one line that names the variable and never shows a password.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_FILE = "app.db"


class ConfigError(ValueError):
    """The configured database URL cannot be used; the message is one line for a human."""


@dataclass(frozen=True)
class Settings:
    database_url: URL
    variable: str  # the variable the URL came from, e.g. "DATABASE_URL"
    source: str  # "environment", ".env" or "default"

    @property
    def safe_url(self) -> str:
        """The URL as it may be printed: password replaced by ***."""
        return self.database_url.render_as_string(hide_password=True)


def mask_password(raw: str) -> str:
    """Hide a password even in a URL that does not parse (user:secret@host -> user:***@host)."""
    head, at, host = raw.rpartition("@")
    if not at:
        return raw
    scheme, slashes, credentials = head.rpartition("//")
    user, colon, _password = credentials.partition(":")
    return f"{scheme}{slashes}{user}{colon}{'***' if colon else ''}@{host}"


def parse_database_url(raw: str, variable: str = "DATABASE_URL", root: Path = PROJECT_ROOT) -> URL:
    """Validate ``raw`` as an async SQLAlchemy URL; anchor relative SQLite paths to ``root``."""
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise ConfigError(
            f"{variable} is not a database URL: {mask_password(raw)!r} "
            "(expected e.g. sqlite+aiosqlite:///app.db or postgresql+asyncpg://user:***@host/db)"
        ) from None
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        raise ConfigError(
            f"{variable} names an unknown database driver {url.drivername!r} in {mask_password(raw)!r}"
        ) from None
    if not getattr(dialect, "is_async", False):
        hint = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg",
                "mysql": "mysql+aiomysql"}.get(url.get_backend_name(),
                                               f"{url.get_backend_name()}+<async driver>")
        raise ConfigError(
            f"{variable} uses {url.drivername!r}, which is not an async driver; "
            f"the async engine needs e.g. {hint}://..."
        )
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        given = Path(url.database)
        path = given if given.is_absolute() else root / given
        url = url.set(database=str(path))
        if not path.parent.is_dir():  # SQLite creates the file, never its folder
            raise ConfigError(
                f"{variable} points to a SQLite file in a folder that does not exist: "
                f"{given.parent}"
            )
    return url


def get_settings(
    environ: Mapping[str, str] | None = None, root: Path = PROJECT_ROOT
) -> Settings:
    """Read the settings now (not at import), so a changed environment is seen."""
    environ = os.environ if environ is None else environ
    file_values = {k: v for k, v in dotenv_values(root / ".env").items() if v is not None}
    merged = {**file_values, **environ}  # the real environment wins over .env
    variable = "TEST_DATABASE_URL" if merged.get("ENVIRONMENT") == "test" else "DATABASE_URL"
    raw = merged.get(variable, "").strip()
    if raw:
        source = "environment" if environ.get(variable, "").strip() else ".env"
        return Settings(parse_database_url(raw, variable, root), variable, source)
    if variable == "TEST_DATABASE_URL":
        raise ConfigError("ENVIRONMENT=test but TEST_DATABASE_URL is not set")
    default = f"sqlite+aiosqlite:///{DEFAULT_SQLITE_FILE}"
    return Settings(parse_database_url(default, variable, root), variable, "default")
