"""A second start for a Jupyter kernel that died before its first reply.

Why: jupyter_client gives a new kernel its five TCP ports by binding port 0 on 127.0.0.1
and closing the socket; the kernel binds them a second or so later. A connection opened in
between may take one of them (outgoing connections draw their ports from the same range),
and the kernel exits with ``ZMQError: Address already in use`` before it answers
``kernel_info`` (jupyter_client#154, nbmake#129). jupyter_client's cache of ports handed out
is per process, so another pytest worker may also be handed the same port. Two workers that
start kernels and connect to them make that window busy: a CI run of the suite met it once
(3.13's leg).

A kernel that died before its first reply has run nothing, so starting another is safe; a
kernel that cannot start at all fails its second start too, and that error is raised. Used
for nbval's kernels (conftest.py) and for tools/run_notebooks.py's.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TypeVar

# jupyter_client's message when the kernel process has exited before its kernel_info reply.
DIED_BEFORE_FIRST_REPLY = "Kernel died before replying to kernel_info"

T = TypeVar("T")


def died_before_first_reply(error: BaseException) -> bool:
    return isinstance(error, RuntimeError) and DIED_BEFORE_FIRST_REPLY in str(error)


def start_twice(start: Callable[..., T]) -> Callable[..., T]:
    """``start`` (anything that starts a kernel and waits for its first reply), run a
    second time when the first kernel died before replying. Other errors are raised
    unchanged; the second start's, with a note that the first kernel died too."""

    @functools.wraps(start)
    def starting(*args, **kwargs) -> T:
        try:
            return start(*args, **kwargs)
        except RuntimeError as error:
            if not died_before_first_reply(error):
                raise
            print(f"kernel_start: {error}; starting another kernel", file=sys.stderr)
        try:
            return start(*args, **kwargs)
        except RuntimeError as error:
            if died_before_first_reply(error):
                error.add_note("kernel_start: the first of 2 kernels died the same way")
            raise

    starting.starts_twice = True  # type: ignore[attr-defined]
    return starting


def patch_nbval() -> None:
    """nbval starts each notebook's kernel through ``nbval.kernel.start_new_kernel``,
    looked up when the notebook's first cell is set up: give it the second start."""
    import nbval.kernel

    if not getattr(nbval.kernel.start_new_kernel, "starts_twice", False):
        nbval.kernel.start_new_kernel = start_twice(nbval.kernel.start_new_kernel)
