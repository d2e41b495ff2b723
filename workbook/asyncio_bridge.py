"""env.py's ``asyncio.run()`` inside a kernel whose event loop is already running.

Why: an async env.py (the stock ``alembic init -t async`` one, or the workbook's own with
a server URL) ends in ``asyncio.run(...)``, which refuses to start inside a running event
loop, and a Jupyter kernel runs every cell inside one. While a command runs, a call made
there is given a thread of its own with a fresh loop; nothing else of the command leaves
the kernel's thread, and a call made where no loop runs is left as it is.

Why the waiting is done this way: Ctrl-C lands on the kernel's thread, which waits here.
The first one cancels the coroutine (at its next ``await``, that is the next SQL
statement; the async connection then rolls back and closes); a second one also raises
KeyboardInterrupt inside the helper thread (for code that never awaits); a third stops
waiting, and the thread is listed as still ending so that no command starts over it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

from alembic.util import CommandError


@contextlib.contextmanager
def asyncio_run_beside_a_running_loop(ending: list):
    """Within the block, ``asyncio.run`` works where an event loop runs too.

    ``ending``: a list to which a helper thread abandoned by a third Ctrl-C adds its
    ``threading.Event``, set when the thread has ended.
    """
    original = asyncio.run

    def run(main, **kwargs):
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop here: the real thing, Ctrl-C handling included
            return original(main, **kwargs)
        if sys.platform == "emscripten":  # a browser tab: no threads (see workbook.browser)
            from workbook.browser import run_in_place

            return run_in_place(main)
        return _in_helper_thread(original, main, kwargs, ending)

    asyncio.run = run
    try:
        yield
    finally:
        asyncio.run = original


class _Helper:
    loop: asyncio.AbstractEventLoop | None = None
    task: asyncio.Task | None = None
    cancel_requested = False

    def cancel(self) -> None:
        self.cancel_requested = True  # read by the coroutine if it has not started yet
        loop, task = self.loop, self.task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(task.cancel)


def _raise_keyboard_interrupt_in(thread) -> None:
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(KeyboardInterrupt)
    )


def _in_helper_thread(original_run, main, kwargs: dict, ending: list):
    import threading  # only here: a browser kernel has none to start

    helper = _Helper()
    outcome: dict = {}
    done = threading.Event()  # not Thread.join: on 3.11, a Ctrl-C in join() marks a live
    # thread as stopped (its lock is released by the interrupted wait).

    async def watched():
        helper.loop, helper.task = asyncio.get_running_loop(), asyncio.current_task()
        if helper.cancel_requested:
            main.close()
            raise asyncio.CancelledError
        return await main

    def target() -> None:
        try:
            outcome["value"] = original_run(watched(), **kwargs)
        except BaseException as error:  # handed to the kernel's thread
            outcome["error"] = error
        finally:
            done.set()

    thread = threading.Thread(target=target, name="alembic-env-asyncio", daemon=True)
    try:
        thread.start()
    except RuntimeError as error:
        main.close()
        raise CommandError(
            f"env.py calls asyncio.run() inside a running event loop, and {error}: hand "
            "env.py a connection in config.attributes['connection'] (Alembic cookbook, "
            "connection sharing)"
        ) from None
    interrupts = 0
    while not done.is_set():
        try:
            done.wait()
        except KeyboardInterrupt:
            interrupts += 1
            helper.cancel()
            if interrupts == 2:
                _raise_keyboard_interrupt_in(thread)
            elif interrupts > 2:
                ending.append(done)
                raise
    if interrupts and "value" not in outcome:
        raise KeyboardInterrupt
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
