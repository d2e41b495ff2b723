"""What the PostgreSQL and MySQL legs share (tests/postgres.py, tests/mysql.py).

A server comes from a URL in the environment (``TEST_POSTGRES_URL``, ``TEST_MYSQL_URL``)
or is started for the run; where none can be had, the leg is skipped with the reason in
pytest's summary, except under ``CI=true``, where a green run must include every leg.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

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
