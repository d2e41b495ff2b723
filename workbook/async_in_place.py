"""SQLAlchemy's async engine on SQLite in a browser tab, which has no greenlet and no threads.

On a desktop, ``create_async_engine("sqlite+aiosqlite:///app.db")`` runs SQLAlchemy's sync
core inside a greenlet, which hands each awaitable to the event loop, and aiosqlite runs
every ``sqlite3`` call in a worker thread of its own. A browser tab (Pyodide) has neither,
so :func:`adapt` (called by ``workbook.browser.prepare``, and nowhere else) puts two
stand-ins in their place:

- **aiosqlite's worker thread**: the queue that feeds it runs each call as it is put, on
  the caller's thread, and settles its future at once. The database sees the same
  ``sqlite3`` calls, in the same order, on the same ``sqlite3`` connection, with its default
  transaction handling: chapter 07's guide ``env.py`` fails halfway in a browser exactly
  as on a desktop.
- **SQLAlchemy's greenlet**: ``greenlet_spawn(fn)`` calls ``fn`` at once, and each
  awaitable that ``fn`` hands over (``await_``) is stepped through to its end in place. It
  never has to wait: aiosqlite's futures are already settled. An awaitable that would
  really wait (a server's driver, a sleep) fails in one line instead of hanging the tab.
"""

from __future__ import annotations

from typing import Any


class WouldWait(RuntimeError):
    """An awaitable stepped through in place had to wait for something."""

    def __init__(self) -> None:
        super().__init__(
            "an async call here would have to wait, which a browser tab cannot do in "
            "place (no greenlet, no threads): SQLite's aiosqlite never waits, a server does"
        )


class _RunsAtOnce:
    """aiosqlite's queue of ``(future, call)`` for its worker thread: each call runs as it
    is put, as the thread would run it (an error goes to the future, or nowhere)."""

    def put_nowait(self, item: tuple[Any, Any]) -> None:
        future, call = item
        try:
            result = call()
        except BaseException as error:  # noqa: BLE001  (the worker thread hands on all)
            if future is not None and not future.done():
                future.set_exception(error)
            return
        if future is not None and not future.done():
            future.set_result(result)


class _NoThread:
    """Where aiosqlite keeps its worker thread: nothing to start, nothing to join."""

    daemon = True

    def start(self) -> None:
        pass

    def join(self, timeout: float | None = None) -> None:
        pass

    def is_alive(self) -> bool:
        return False


def wait_in_place(awaitable):
    """The value of ``awaitable``, stepped through on this stack; :class:`WouldWait` if it
    has to wait (it is closed then)."""
    steps = awaitable.__await__()
    try:
        steps.send(None)
    except StopIteration as finished:
        return finished.value
    steps.close()
    raise WouldWait


class _Waiter:
    """The "parent greenlet" that ``await_`` switches to with an awaitable."""

    def switch(self, awaitable):
        _spawned[-1].awaited = True
        return wait_in_place(awaitable)


class _Settled:
    """An awaitable whose value is already there."""

    def __init__(self, value) -> None:
        self.value = value

    def __await__(self):
        return self.value
        yield  # a generator that never waits


_WAITER = _Waiter()
_spawned: list[_Spawned] = []  # the greenlet_spawn calls running now, innermost last


class _Spawned:
    """One ``greenlet_spawn(fn, ...)``: ``fn`` runs at once, on this stack.

    ``greenlet_spawn`` switches in once, and then once per awaitable handed back to it
    (it checks that one was, for an async driver): a run that awaited hands its value
    back as one settled awaitable, and is done at the next switch."""

    __sqlalchemy_greenlet_provider__ = True  # await_ works inside it

    def __init__(self, fn, driver=None) -> None:
        self.fn, self.parent = fn, _WAITER
        self.dead = self.started = self.awaited = False

    def switch(self, *args, **kwargs):
        if self.started:  # greenlet_spawn hands back the settled value
            self.dead = True
            return args[0] if args else None
        self.started = True
        _spawned.append(self)
        try:
            value = self.fn(*args, **kwargs)
        except BaseException:
            self.dead = True
            raise
        finally:
            _spawned.pop()
        if not self.awaited:
            self.dead = True
            return value
        return _Settled(value)


class _Outside:
    """What ``getcurrent()`` gives outside any ``greenlet_spawn``: ``await_`` refuses there,
    as SQLAlchemy's MissingGreenlet says."""

    parent = None


_OUTSIDE = _Outside()


def _getcurrent():
    return _spawned[-1] if _spawned else _OUTSIDE


def adapt() -> None:
    """Put the two stand-ins in place (once per process; only where greenlet is missing)."""
    from sqlalchemy.util import concurrency

    shim = concurrency._concurrency_shim
    shim._initialize(raise_=False)
    if shim._has_greenlet:
        return  # a real greenlet: nothing to stand in for
    shim.getcurrent = _getcurrent
    shim.greenlet = shim._AsyncIoGreenlet = _Spawned

    try:
        from aiosqlite import core
    except ImportError:  # no aiosqlite: only the sync engine is used
        return
    if getattr(core.Connection, "_runs_in_place", False):
        return
    started = core.Connection.__init__

    def __init__(self, *args, **kwargs) -> None:
        started(self, *args, **kwargs)
        self._tx, self._thread = _RunsAtOnce(), _NoThread()

    core.Connection.__init__ = __init__
    core.Connection._runs_in_place = True
