"""A kernel whose port was taken before it could bind it is started again, once
(tools/kernel_start.py): reproduced with a real kernel and a port held open here."""

from __future__ import annotations

import socket

import nbformat
import pytest
from jupyter_client.connect import LocalPortCache

from tools import kernel_start, run_notebooks


def counting(*outcomes):
    """A stand-in for a kernel start: raises or returns each of ``outcomes`` in turn."""
    calls = []

    def start():
        calls.append(len(calls))
        outcome = outcomes[len(calls) - 1]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return start, calls


def died() -> RuntimeError:
    return RuntimeError(kernel_start.DIED_BEFORE_FIRST_REPLY)


def test_a_kernel_that_died_before_replying_is_started_again():
    start, calls = counting(died(), "kernel")
    assert kernel_start.start_twice(start)() == "kernel"
    assert len(calls) == 2


def test_any_other_error_is_raised_at_once():
    start, calls = counting(RuntimeError("Kernel didn't respond in 60 seconds"), "kernel")
    with pytest.raises(RuntimeError, match="didn't respond"):
        kernel_start.start_twice(start)()
    assert len(calls) == 1


def test_a_kernel_that_cannot_start_fails_on_its_second_start():
    start, calls = counting(died(), died(), "kernel")
    with pytest.raises(RuntimeError, match=kernel_start.DIED_BEFORE_FIRST_REPLY) as raised:
        kernel_start.start_twice(start)()
    assert len(calls) == 2
    assert raised.value.__notes__ == ["kernel_start: the first of 2 kernels died the same way"]


@pytest.fixture
def first_port_taken(monkeypatch):
    """The race, made certain: the first port handed to a kernel is held open here, as
    another connection would hold it, so that kernel dies binding it; later ports are free."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    cache = LocalPortCache.instance()
    free = cache.find_available_port
    handed = []

    def find_available_port(ip):
        handed.append(ip)
        return taken.getsockname()[1] if len(handed) == 1 else free(ip)

    monkeypatch.setattr(cache, "find_available_port", find_available_port)
    yield handed
    taken.close()


@pytest.mark.slow
def test_nbval_starts_another_kernel_after_the_race(first_port_taken):
    import nbval.kernel

    assert nbval.kernel.start_new_kernel.starts_twice  # conftest.py gave it the second start
    manager, client = nbval.kernel.start_new_kernel(kernel_name="python3")
    try:
        assert client.is_alive()
        assert len(first_port_taken) == 10  # five ports for each of the two kernels
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.mark.slow
def test_run_notebooks_runs_the_notebook_after_the_race(first_port_taken, tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    run_notebooks.execute(notebook, tmp_path, timeout=60)
    assert notebook.cells[0].outputs[0]["text"] == "42\n"
    assert len(first_port_taken) == 10
