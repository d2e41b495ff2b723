"""Where the database is: ``DATABASE_URL`` from the environment, else ``.env``, else SQLite.

The guide's best practice 9 is kept: with ``ENVIRONMENT=test`` the variable read is
``TEST_DATABASE_URL`` instead. A relative SQLite path is anchored to the project folder
(the one holding ``app/``), so the database does not move with the working directory.
Every error is one line that names the variable and never shows a password.
"""

from __future__ import annotations

import os
import re
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
        """The URL as it may be printed: password replaced by ***, also in the query."""
        return mask_password(self.database_url.render_as_string(hide_password=True))


# A word of text that may hold a URL: it has an "@" or a "scheme:/".
_URL_WORD = re.compile(r"\S*(?:@|:/)\S*")
# From the start of a URL to the ":" that ends its user name: "scheme:/+user:", or "user:"
# not followed by "//" (else "postgresql://bob@db" would read as user "postgresql").
_USER_PART = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*:/+[^\s:/@'\"=(,;]*:|[^\s:/@'\"=(,;]*:(?!//))")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:/+")
_PORT = re.compile(r"\d*[\"'),;\]}>.]*")  # a number, then at most closing punctuation


def mask_password(text: str | URL) -> str:
    """``text`` as it may be printed: the password of every URL in it replaced by ``***``.

    A ``URL`` object is rendered by SQLAlchemy with ``hide_password=True``. Text may hold
    URLs that do not parse, or that SQLAlchemy parses wrongly (it ends the password at the
    first ``@``), so in text the password is, conservatively, everything from the ``:``
    after the user name to the LAST ``@`` of the word: ``scheme://user:p@s:s/w%d@host`` ->
    ``scheme://user:***@host``, also without ``//`` or without a scheme at all. A word
    with ``scheme:/`` and no ``@`` is masked from a ``:`` that is not followed by a port
    number (``postgresql://user:secret/db`` -> ``postgresql://user:***/db``). A password
    with whitespace in it (pasted unencoded) runs, on the same line, to the last ``@``
    before the next URL. A ``password=`` (or ``pass=``, ``passwd=``, ``pwd=``) query
    parameter is masked too.
    """
    if isinstance(text, URL):  # rendered; when parsed at the wrong "@", as it was written
        hide = "@" not in f"{text.host or ''}{text.database or ''}"
        text = text.render_as_string(hide_password=hide)
    text = _SPACED_PASSWORD.sub(_masked_spaced, text)
    text = _QUERY_PASSWORD.sub(r"\1***", text)
    return _URL_WORD.sub(lambda match: _masked_word(match.group()), text)


# "scheme://user:" then, on the same line and before the next "scheme:/", a stretch with
# whitespace in it that ends at the last "@": a password pasted with spaces.
_SPACED_PASSWORD = re.compile(
    r"([A-Za-z][A-Za-z0-9+.\-]*:/+[^\s:/@'\"=(,;]*:)"
    r"((?:(?![A-Za-z][A-Za-z0-9+.\-]*:/)[^\n])*?\s(?:(?![A-Za-z][A-Za-z0-9+.\-]*:/)[^\n])*)@"
    r"(?=[A-Za-z0-9\[][A-Za-z0-9.\-\[\]]*(?::\d+)?(?:[/?\s'\"),;]|$))"  # a host follows
)
_QUERY_PASSWORD = re.compile(
    r"([?&;](?:password|passwd|pass|pwd)=)[^&\s'\"#;]*?(?=:?(?:\s|$)|[&'\"#;])", re.IGNORECASE
)


def _masked_spaced(match: re.Match) -> str:
    return f"{match.group(1)}***@"


def _masked_word(word: str) -> str:
    at = word.rfind("@")
    if at >= 0:
        user = _USER_PART.search(word, 0, at)
        return word if user is None else f"{word[: user.end()]}***{word[at:]}"
    scheme = _SCHEME.search(word)
    if scheme is None:
        return word
    host_port = re.match(r"[^/?#]*", word[scheme.end() :]).group()
    host, colon, port = host_port.partition(":")
    if not colon or _PORT.fullmatch(port):
        return word
    start = scheme.end() + len(host) + 1
    return f"{word[:start]}***{word[start + len(port) :]}"


def parse_database_url(raw: str, variable: str = "DATABASE_URL", root: Path = PROJECT_ROOT) -> URL:
    """Validate ``raw`` as an async SQLAlchemy URL; anchor relative SQLite paths to ``root``."""
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigError(
            f"{variable} is not a database URL: {mask_password(raw)!r} "
            "(expected e.g. sqlite+aiosqlite:///app.db or postgresql+asyncpg://user:***@host/db; "
            "a password with @ : / % in it needs them percent-encoded: %40 %3A %2F %25)"
        ) from None
    if url.password is not None and raw.count("@") > 1:  # SQLAlchemy split at the first "@"
        raise ConfigError(
            f"{variable} has an '@' in its password or user name: write it as %40 there "
            f"({mask_password(raw)!r}); the URL would point at the wrong host"
        )
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        raise ConfigError(
            f"{variable} names an unknown database driver {url.drivername!r} "
            f"in {mask_password(raw)!r}"
        ) from None
    if not getattr(dialect, "is_async", False):
        hint = {
            "sqlite": "sqlite+aiosqlite",
            "postgresql": "postgresql+asyncpg",
            "mysql": "mysql+aiomysql",
        }.get(url.get_backend_name(), f"{url.get_backend_name()}+<async driver>")
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


def get_settings(environ: Mapping[str, str] | None = None, root: Path = PROJECT_ROOT) -> Settings:
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
