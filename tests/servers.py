"""What the PostgreSQL and MySQL legs share (tests/postgres.py, tests/mysql.py).

A server comes from a URL in the environment (``TEST_POSTGRES_URL``, ``TEST_MYSQL_URL``)
or is started for the run; where none can be had, the leg is skipped with the reason in
pytest's summary, except under ``CI=true``, where a green run must include every leg.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Self

import pytest
from sqlalchemy.engine import URL


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def last_line(text: str) -> str:
    """The last non-blank line of a tool's output, for a one-line error."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


class ServerUnavailable(RuntimeError):
    """No server for a leg: the reason, in one line."""


class LocalServer:
    """A server the tests start themselves on 127.0.0.1: its data (``data_dir``) and log
    (``log_file``) in a temporary folder that ``stop()`` deletes, its own password, and
    the port it got (``port``, set by the subclass's start). ``with`` stops it at the end.

    ``owner``: the system user the server runs as, or None. When we are root the folder is
    made in /tmp (TMPDIR could be under /root) and given to that user.
    """

    driver = ""  # the SQLAlchemy drivername of its URLs, e.g. "postgresql+asyncpg"

    def __init__(self, prefix: str, password: str, owner: pwd.struct_passwd | None) -> None:
        parent = "/tmp" if os.geteuid() == 0 else None
        self.base = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        self.data_dir = self.base / "data"
        self.log_file = self.base / "server.log"
        self.password = password
        self.port = 0
        if owner is not None:
            os.chown(self.base, owner.pw_uid, owner.pw_gid)

    def local_url(self, username: str, database: str) -> URL:
        """The URL of ``database`` on this server, as ``username`` with the password."""
        return URL.create(
            self.driver,
            username=username,
            password=self.password,
            host="127.0.0.1",
            port=self.port,
            database=database,
        )

    def _shut_down(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Shut the server down, then delete its folder (whatever the shutdown did)."""
        try:
            self._shut_down()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


@contextmanager
def given_or_throwaway(
    variable: str,
    async_url: Callable[[str], URL],
    throwaway: Callable[[], AbstractContextManager[URL]],
) -> Iterator[URL]:
    """The URL in ``variable`` (through ``async_url``, which names the async driver) if
    set, else a ``throwaway()`` server's. Raises ServerUnavailable."""
    given = os.environ.get(variable, "").strip()
    if given:
        yield async_url(given)
        return
    with throwaway() as url:
        yield url


def skip_or_fail(what: str, why: Exception):
    """Skip ``what`` (e.g. "PostgreSQL leg") because of ``why``; fail under CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} required in CI but unavailable: {why}")
    pytest.skip(f"{what} skipped: {why}")


@contextmanager
def url_or_skip(what: str, server: AbstractContextManager[URL]) -> Iterator[str]:
    """The URL of ``server`` with its password (for the code under test), or a skip."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(server)
        except ServerUnavailable as why:
            skip_or_fail(what, why)
        yield url.render_as_string(hide_password=False)
