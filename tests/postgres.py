"""A real PostgreSQL server for the tests: the one in TEST_POSTGRES_URL, or a throwaway cluster.

The throwaway cluster uses the distribution's ``initdb``/``pg_ctl`` (Debian puts them in
``/usr/lib/postgresql/<version>/bin``; ``tools/install-system-packages.sh`` installs them).
It lives in a temporary folder, listens on a free port of 127.0.0.1 only, asks for a
password (scram-sha-256) like a real server, and is stopped and deleted afterwards.
Each pytest-xdist worker that needs one starts its own: different port, different folder.

When no server can be had, ``PostgresUnavailable`` says why, so the tests can skip visibly.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

from tests.servers import (
    LocalServer,
    ServerUnavailable,
    free_port,
    given_or_throwaway,
    last_line,
)

POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"
SYSTEM_USER = "postgres"  # initdb refuses to run as root; Debian's package creates this user
SUPERUSER = "postgres"
APP_ROLE = "workbook"  # what the tests connect as: not a superuser, but may create databases
APP_DATABASE = "workbook"
START_ATTEMPTS = 3  # another process may take the free port before the server binds it

# Settings for a server whose data is thrown away: durability costs time and buys nothing.
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",  # TCP only: no socket file in /var/run/postgresql
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_connections": "30",
}


class PostgresUnavailable(ServerUnavailable):
    """No PostgreSQL server can be had here; the message says why, in one line."""


def async_url(raw: str) -> URL:
    """``raw`` with the asyncpg driver, whatever driver it named (postgres://, psycopg...)."""
    url = make_url(raw)
    if url.get_backend_name() != "postgresql":
        raise PostgresUnavailable(f"TEST_POSTGRES_URL is not a PostgreSQL URL: {url!r}")
    return url.set(drivername="postgresql+asyncpg")


def asyncpg_dsn(url: URL, database: str | None = None) -> str:
    """The URL as asyncpg wants it: no SQLAlchemy driver suffix."""
    url = url.set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def find_postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin folder with initdb and pg_ctl."""
    candidates = [
        path
        for path in Path("/").glob(POSTGRES_BIN_GLOB.lstrip("/"))
        if (path / "initdb").exists() and (path / "pg_ctl").exists()
    ]
    if not candidates:
        raise PostgresUnavailable(
            f"no initdb under {POSTGRES_BIN_GLOB.removesuffix('/*/bin')} and TEST_POSTGRES_URL "
            "unset (run `bash tools/install-system-packages.sh` as root)"
        )
    return max(candidates, key=lambda path: _version_key(path.parent.name))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


class ThrowawayCluster(LocalServer):
    """initdb + pg_ctl in a temporary folder; ``stop()`` removes every trace."""

    driver = "postgresql+asyncpg"

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.owner = self._system_user()  # set exactly when we are root
        super().__init__("workbook-pg-", secrets.token_urlsafe(16), self.owner)

    @staticmethod
    def _system_user() -> pwd.struct_passwd | None:
        """The user to run initdb/pg_ctl as: ``postgres`` when we are root, else ourselves."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise PostgresUnavailable(
                f"running as root and there is no {SYSTEM_USER!r} user to run initdb as"
            ) from None

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_dir / tool), *args]
        if self.owner:
            if shutil.which("runuser") is None:
                raise PostgresUnavailable("running as root and runuser is missing")
            command = ["runuser", "-u", self.owner.pw_name, "--", *command]
        result = subprocess.run(
            command, cwd=self.base, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"{tool} failed ({result.returncode}): {last_line(result.stderr or result.stdout)}"
                f"{self._log_tail()}"
            )

    def _write_owned(self, path: Path, text: str) -> None:
        path.write_text(text)
        if self.owner:
            os.chown(path, self.owner.pw_uid, self.owner.pw_gid)

    def _log_tail(self) -> str:
        if not self.log_file.exists():
            return ""
        return f"; server log: {last_line(self.log_file.read_text())}"

    def initdb(self) -> None:
        password_file = self.base / "superuser-password"
        self._write_owned(password_file, self.password + "\n")
        self._run(
            "initdb",
            "--pgdata",
            str(self.data_dir),
            "--username",
            SUPERUSER,
            "--pwfile",
            str(password_file),
            "--auth",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        password_file.unlink()
        settings = "".join(f"{name} = {value}\n" for name, value in SERVER_SETTINGS.items())
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# tests/postgres.py\n" + settings)

    def start(self) -> None:
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = free_port()
            try:
                self._run(
                    "pg_ctl",
                    "start",
                    "--pgdata",
                    str(self.data_dir),
                    "--wait",
                    "--timeout",
                    "30",
                    "--log",
                    str(self.log_file),
                    "-o",
                    f"-p {self.port}",
                )
                return
            except PostgresUnavailable:
                if attempt == START_ATTEMPTS:
                    raise

    def _shut_down(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            # immediate: the data is about to be deleted, no need for a clean checkpoint
            self._run("pg_ctl", "stop", "--pgdata", str(self.data_dir), "--mode", "immediate")

    def superuser_url(self) -> URL:
        return self.local_url(SUPERUSER, "postgres")


async def _create_app_role_and_database(superuser: URL, password: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(superuser))
    try:
        await connection.execute(f"CREATE ROLE {APP_ROLE} LOGIN CREATEDB PASSWORD '{password}'")
        await connection.execute(f"CREATE DATABASE {APP_DATABASE} OWNER {APP_ROLE}")
    finally:
        await connection.close()


@contextmanager
def throwaway_server() -> Iterator[URL]:
    """Start a cluster, yield the app role's URL to its database, stop and delete it."""
    with ThrowawayCluster(find_postgres_bin()) as cluster:
        cluster.initdb()
        cluster.start()
        password = secrets.token_urlsafe(16)
        asyncio.run(_create_app_role_and_database(cluster.superuser_url(), password))
        yield cluster.superuser_url().set(
            username=APP_ROLE, password=password, database=APP_DATABASE
        )


@contextmanager
def postgres_server() -> Iterator[URL]:
    """TEST_POSTGRES_URL if set, else a throwaway cluster. Raises PostgresUnavailable."""
    with given_or_throwaway("TEST_POSTGRES_URL", async_url, throwaway_server) as url:
        yield url


async def _execute_autocommit(url: URL, statement: str) -> None:
    """CREATE/DROP DATABASE cannot run in a transaction; asyncpg's execute() runs outside one."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def fresh_database(server: URL) -> Iterator[URL]:
    """A new empty database on ``server`` for one test, dropped afterwards."""
    name = f"test_{secrets.token_hex(6)}"
    try:
        asyncio.run(_execute_autocommit(server, f'CREATE DATABASE "{name}"'))
    except asyncpg.InsufficientPrivilegeError:
        raise PostgresUnavailable(
            f"role {server.username!r} may not CREATE DATABASE (needed for one database per test)"
        ) from None
    try:
        yield server.set(database=name)
    finally:
        asyncio.run(_execute_autocommit(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
