"""A real MySQL-family server for the tests: the one in TEST_MYSQL_URL, or a throwaway MariaDB.

The throwaway server uses Debian's ``mariadb-install-db`` and ``mariadbd``
(``tools/install-system-packages.sh`` installs them). It lives in a temporary folder,
listens on a free port of 127.0.0.1 only (its socket file stays in that folder), and
starts with ``--no-defaults``, so no ``/etc/mysql`` setting reaches it. The tests connect
as a user that is not root, whose password holds characters a URL must encode
(``@ : / % ' #``). Stopped and deleted afterwards; each pytest-xdist worker that needs
one starts its own.

The driver is aiomysql (``mysql+aiomysql://``), the guide's: kept by aio-libs, pure
Python on top of PyMySQL, so it installs on every CPython without a compiler.

When no server can be had, ``MysqlUnavailable`` says why; the fixtures skip with that
reason, or fail under ``CI=true``, where the leg must run.

The lessons use the same server: ``lesson_server()`` gives them a fresh database on it
(or ``WORKBOOK_MYSQL_URL`` as it is); ``tools/run_notebooks.py`` and the root
``conftest.py`` export it as ``WORKBOOK_MYSQL_URL`` before any kernel starts, and the
lesson cells that need it (``workbook.half_applied.NEEDS_SERVER``) are skipped, with the
reason, where there is none (failed under ``CI=true``).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pymysql
import pytest
from sqlalchemy.engine import URL, make_url

from tests.servers import (
    LocalServer,
    ServerUnavailable,
    free_port,
    given_or_throwaway,
    last_line,
    skip_or_fail,
    url_or_skip,
)

# Debian keeps the server in /usr/sbin, which a bare PATH (env -i) leaves out.
SEARCH_PATH = os.pathsep.join(filter(None, [os.environ.get("PATH"), "/usr/sbin", "/usr/bin"]))
SYSTEM_USER = "mysql"  # mariadbd refuses root; as root it drops to this user (--user)
APP_USER = "workbook"
APP_DATABASE = "workbook"
LESSON_VARIABLE = "WORKBOOK_MYSQL_URL"  # the lessons' server (workbook/half_applied.py)
UNAVAILABLE_VARIABLE = "WORKBOOK_MYSQL_UNAVAILABLE"  # why there is none, for the skip reason
TEST_DATABASE_PREFIX = "test_"
TEST_DATABASES = r"test\_%"  # GRANT's pattern for them (an unescaped _ matches any character)
AWKWARD = "@:/%'#"  # characters a URL must percent-encode, and SQL must quote
START_ATTEMPTS = 3  # another process may take the free port before the server binds it
START_TIMEOUT = 60.0  # seconds; a loaded 2-core machine needs a few

# Settings for a server whose data is thrown away: durability costs time and buys nothing.
SERVER_OPTIONS = [
    "--bind-address=127.0.0.1",
    "--skip-name-resolve",
    # What a production server uses; the built-in default is latin1.
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
    "--innodb-buffer-pool-size=32M",
    "--innodb-log-file-size=8M",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    "--skip-log-bin",
    "--max-connections=30",
]


class MysqlUnavailable(ServerUnavailable):
    """No MySQL-family server can be had here; the message says why, in one line."""


def async_url(raw: str) -> URL:
    """``raw`` with the aiomysql driver, whatever driver it named (mysql://, mariadb+pymysql...)."""
    url = make_url(raw)
    if url.get_backend_name() not in {"mysql", "mariadb"}:
        raise MysqlUnavailable(f"TEST_MYSQL_URL is not a MySQL URL: {url!r}")
    return url.set(drivername="mysql+aiomysql")


def connect(url: URL, database: str | None = None) -> pymysql.Connection:
    """A plain PyMySQL connection (aiomysql's own base) for setting up and tearing down."""
    return pymysql.connect(
        host=url.host,
        port=url.port or 3306,
        user=url.username,
        password=url.password or "",
        database=database,
        autocommit=True,
        connect_timeout=5,
    )


def find_tool(*names: str) -> str:
    for name in names:
        found = shutil.which(name, path=SEARCH_PATH)
        if found:
            return found
    raise MysqlUnavailable(
        f"no {names[0]} on PATH, /usr/sbin or /usr/bin, and TEST_MYSQL_URL unset "
        "(run `bash tools/install-system-packages.sh` as root)"
    )


def sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


class ThrowawayServer(LocalServer):
    """mariadb-install-db + mariadbd in a temporary folder; ``stop()`` removes every trace."""

    driver = "mysql+aiomysql"

    def __init__(self) -> None:
        self.install_db = find_tool("mariadb-install-db", "mysql_install_db")
        self.server = find_tool("mariadbd", "mysqld")
        self.run_as = self._run_as()
        owner = pwd.getpwnam(self.run_as) if self.run_as not in (None, "root") else None
        super().__init__("workbook-mysql-", secrets.token_urlsafe(12) + AWKWARD, owner)
        self.process: subprocess.Popen | None = None

    @staticmethod
    def _run_as() -> str | None:
        """``--user`` for the server: mysql when we are root (root if there is none)."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(SYSTEM_USER).pw_name
        except KeyError:
            return "root"

    def _user_option(self) -> list[str]:
        return [f"--user={self.run_as}"] if self.run_as else []

    def install(self) -> None:
        result = subprocess.run(
            [
                self.install_db,
                "--no-defaults",
                *self._user_option(),
                f"--datadir={self.data_dir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
                "--innodb-log-file-size=8M",
            ],
            cwd=self.base,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise MysqlUnavailable(
                f"mariadb-install-db failed ({result.returncode}): "
                f"{last_line(result.stderr or result.stdout)}"
            )

    def _init_file(self) -> Path:
        """SQL the server runs as it starts: the app user and its databases."""
        user = f"{sql_string(APP_USER)}@'127.0.0.1'"
        path = self.base / "init.sql"
        path.write_text(
            f"CREATE DATABASE IF NOT EXISTS `{APP_DATABASE}`;\n"
            f"CREATE USER IF NOT EXISTS {user} IDENTIFIED BY {sql_string(self.password)};\n"
            f"GRANT ALL PRIVILEGES ON `{APP_DATABASE}`.* TO {user};\n"
            # one fresh database per test: test_<hex>
            f"GRANT ALL PRIVILEGES ON `{TEST_DATABASES}`.* TO {user};\n"
        )
        if self.run_as not in (None, "root"):
            owner = pwd.getpwnam(self.run_as)
            os.chown(path, owner.pw_uid, owner.pw_gid)
        path.chmod(0o600)
        return path

    def start(self) -> None:
        init_file = self._init_file()
        try:
            for attempt in range(1, START_ATTEMPTS + 1):
                self.port = free_port()
                try:
                    self._start_once(init_file)
                    return
                except MysqlUnavailable:
                    if attempt == START_ATTEMPTS:
                        raise
        finally:
            init_file.unlink(missing_ok=True)  # it holds the password

    def _start_once(self, init_file: Path) -> None:
        self.process = subprocess.Popen(
            [
                self.server,
                "--no-defaults",
                *self._user_option(),
                f"--datadir={self.data_dir}",
                f"--port={self.port}",
                f"--socket={self.base / 'mysqld.sock'}",
                f"--pid-file={self.base / 'mysqld.pid'}",
                f"--log-error={self.log_file}",
                f"--init-file={init_file}",
                *SERVER_OPTIONS,
            ],
            cwd=self.base,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                raise MysqlUnavailable(f"mariadbd stopped while starting{self._log_tail()}")
            try:
                with closing(connect(self.url(), APP_DATABASE)):
                    return
            except pymysql.err.OperationalError:
                time.sleep(0.1)
        self._shut_down()
        raise MysqlUnavailable(f"mariadbd did not accept connections in {START_TIMEOUT:.0f} s")

    def _log_tail(self) -> str:
        if not self.log_file.exists():
            return ""
        errors = [line for line in self.log_file.read_text().splitlines() if "[ERROR]" in line]
        return f"; server log: {errors[0] if errors else last_line(self.log_file.read_text())}"

    def _shut_down(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)  # a clean shutdown takes a second
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def url(self) -> URL:
        return self.local_url(APP_USER, APP_DATABASE)


@contextmanager
def throwaway_server() -> Iterator[URL]:
    """Start a MariaDB server, yield the app user's URL to its database, stop and delete it."""
    with ThrowawayServer() as server:
        server.install()
        server.start()
        yield server.url()


@contextmanager
def mysql_server() -> Iterator[URL]:
    """TEST_MYSQL_URL if set, else a throwaway server. Raises MysqlUnavailable."""
    with given_or_throwaway("TEST_MYSQL_URL", async_url, throwaway_server) as url:
        yield url


@contextmanager
def fresh_database(server: URL) -> Iterator[URL]:
    """A new empty database on ``server`` for one test, dropped afterwards."""
    name = f"{TEST_DATABASE_PREFIX}{secrets.token_hex(6)}"
    with closing(connect(server)) as connection, connection.cursor() as cursor:
        try:
            cursor.execute(f"CREATE DATABASE `{name}`")
        except pymysql.err.OperationalError as error:  # 1044: access denied
            raise MysqlUnavailable(
                f"user {server.username!r} may not CREATE DATABASE {name} "
                f"(needed for one database per test): {error.args[-1]}"
            ) from None
        try:
            yield server.set(database=name)
        finally:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


@contextmanager
def lesson_server() -> Iterator[URL]:
    """WORKBOOK_MYSQL_URL if set; else a fresh database on ``mysql_server()``, dropped after.

    Raises MysqlUnavailable.
    """
    given = os.environ.get(LESSON_VARIABLE, "").strip()
    if given:
        yield async_url(given)
        return
    with mysql_server() as server:
        try:  # TEST_MYSQL_URL may name a server that is down
            connect(server).close()
        except pymysql.MySQLError as error:
            raise MysqlUnavailable(
                f"the server of TEST_MYSQL_URL did not answer: "
                f"{error.args[-1] if error.args else error}"
            ) from None
        with fresh_database(server) as url:
            yield url


def lessons_needing_a_server(notebooks: Path) -> list[Path]:
    """The lessons (text twins ``NN_*.md`` in ``notebooks``) with a cell that needs MySQL."""
    from workbook.half_applied import NEEDS_SERVER

    return sorted(
        twin
        for twin in notebooks.glob("[0-9][0-9]_*.md")
        if any(
            line.startswith(NEEDS_SERVER) for line in twin.read_text(encoding="utf-8").splitlines()
        )
    )


def cell_needs_a_server(source: str) -> bool:
    from workbook.half_applied import NEEDS_SERVER

    return any(line.startswith(NEEDS_SERVER) for line in source.splitlines())


def lesson_cell_without_server(why: str):
    """Skip a lesson cell that needs MySQL, where none is (fail under CI=true)."""
    skip_or_fail("MySQL lesson cell", why)


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str]:
    """``mysql+aiomysql://USER:PASSWORD@127.0.0.1:PORT/DB`` of a real server.

    TEST_MYSQL_URL if set, else a throwaway MariaDB shared by this process's tests.
    Skips, with the reason in pytest's summary, when no server can be had (fails under
    CI=true).
    """
    with url_or_skip("MySQL leg", mysql_server()) as url:
        yield url


@pytest.fixture
def mysql_database_url(mysql_url: str) -> Iterator[str]:
    """Like ``mysql_url``, but a new empty database, dropped after the test."""
    with url_or_skip("MySQL leg", fresh_database(make_url(mysql_url))) as url:
        yield url
