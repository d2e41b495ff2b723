"""Every SQLite connection the workbook opens is closed by the time its call returns.

Python 3.13 warns about a connection garbage-collected unclosed (``ResourceWarning:
unclosed database``, an error in the tests and the notebook kernels); older Pythons
close it silently, whenever the collector runs. Here every connection ``sqlite3`` makes
is recorded (SQLAlchemy's and aiosqlite's too) and must be closed when the toolkit call
returns, whatever it did (a failure included): a leak fails the same way on every Python.
"""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from workbook import views
from workbook.exercises import Correct, chapter04
from workbook.exercises.core import Exercise
from workbook.workspace import WorkspaceError


@pytest.fixture
def opened(monkeypatch) -> list[sqlite3.Connection]:
    """The connections ``sqlite3.connect`` makes from now on, kept for inspection.

    Both names are patched: SQLAlchemy's sqlite dialect calls ``sqlite3.dbapi2.connect``.
    """
    connections: list[sqlite3.Connection] = []
    connect = sqlite3.connect

    def recorded(*args, **kwargs):
        connection = connect(*args, **kwargs)
        connections.append(connection)
        return connection

    monkeypatch.setattr(sqlite3, "connect", recorded)
    monkeypatch.setattr(sqlite3.dbapi2, "connect", recorded)
    return connections


def is_open(connection: sqlite3.Connection) -> bool:
    try:
        connection.total_changes  # noqa: B018 - raises on a closed connection, any thread
    except sqlite3.ProgrammingError:
        return False
    return True


def left_open(connections: list[sqlite3.Connection]) -> int:
    return sum(is_open(connection) for connection in connections)


@pytest.fixture
def ws(exercise_workspace, opened, monkeypatch):
    """A workspace at 0001; the connections its building opened are left out."""
    monkeypatch.setattr(Exercise, "_waiting_for", lambda self, workspace: [])
    workspace = exercise_workspace("0001")
    assert left_open(opened) == 0, "building the workspace left a connection open"
    opened.clear()
    return workspace


def in_kernel_loop(function, *args):
    """As ipykernel runs a cell: inside a running event loop (the runner then hands
    env.py its shared connection; a thread otherwise)."""

    async def cell():
        return function(*args)

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(cell())
    finally:
        loop.close()


def fails(call, *args):
    with pytest.raises(WorkspaceError):
        call(*args)


CALLS = {
    "alembic commands": lambda ws: [
        in_kernel_loop(ws.run, line)
        for line in (
            "current",
            "upgrade head",
            "downgrade -1",
            "upgrade 0001:head --sql",
            "check",
            "history",
            "upgrade nowhere",  # a failure
        )
    ],
    "alembic outside a loop": lambda ws: [ws.run("current"), ws.run("upgrade nowhere")],
    "views": lambda ws: [
        ws.current(),
        ws.schema(),
        ws.snapshot(),
        ws.rows("users"),
        ws.graph(),
        views.query(ws.sync_url, "SELECT count(*) FROM users"),
        views.rows(f"sqlite+aiosqlite:///{ws.db_path}", "books"),
    ],
    "their failures": lambda ws: [
        fails(ws.rows, "nope"),
        fails(ws.schema, ["nope"]),
        fails(ws.sql, "SELEC * FROM users"),
    ],
    "sql": lambda ws: ws.sql("UPDATE books SET title = :title WHERE id = 0", title="x"),
    "a rebuild": lambda ws: ws.reset(),
    "exercise setup, check and solution": lambda ws: [
        chapter04.q1.result(workspace=ws),  # not attempted
        chapter04.q3.setup(workspace=ws),
        chapter04.q3.result(workspace=ws),
        chapter04.q1._solve(ws),
        solved(chapter04.q1, ws),  # tried on a scratch copy, with a row in it
    ],
}


def solved(exercise, ws) -> None:
    result = exercise.result(workspace=ws)
    assert isinstance(result, Correct), result


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_every_connection_is_closed_when_the_call_returns(ws, opened, call):
    call(ws)
    assert opened, "the calls opened no connection: they test nothing"
    assert left_open(opened) == 0, f"{left_open(opened)} of {len(opened)} connections left open"


def test_a_connection_left_open_is_counted(opened, tmp_path):
    """The control: what the test above counts."""
    forgotten = sqlite3.connect(tmp_path / "forgotten.db")
    assert left_open(opened) == 1
    forgotten.close()
    assert left_open(opened) == 0
