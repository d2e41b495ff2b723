"""``%alembic`` stays usable whatever the learner does: Ctrl-C, fast edits, typos, overlaps.

The rows of the learner-mistakes notes these tests cover: 18-21 (argparse errors), 44
(an apostrophe), 45-47 (Ctrl-C, and a command after it), 49 (a merge of one head), a
``--rev-id`` used twice, and the bytecode, logging and Python 3.13 items of the same issue.
"""

import asyncio
import contextlib
import gc
import logging
import os
import py_compile
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import warnings

import pytest
from alembic.script import ScriptDirectory
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbook
from workbook import runner
from workbook.runner import AlembicCommandError, AlembicInterrupted


@pytest.fixture(autouse=True)
def private_workspaces(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_WORKSPACES", str(tmp_path / "workspaces"))
    monkeypatch.chdir(tmp_path)


def in_kernel_loop(function, *args):
    """Call ``function`` from a running event loop, as ipykernel runs a cell.

    Not ``asyncio.run``: it would install its own Ctrl-C handler, which a kernel has not.
    """
    loop = asyncio.new_event_loop()

    async def cell():
        return function(*args)

    try:
        return loop.run_until_complete(cell())
    finally:
        loop.close()


@contextlib.contextmanager
def ctrl_c_once_started(ws, *delays):
    """Once the migration has begun (it writes ``started``), send SIGINT to the main thread
    after each delay, as a kernel interrupt does. Never sooner, however slow the machine."""
    main = threading.main_thread().ident
    stop = threading.Event()
    marker = ws.path / "started"
    marker.unlink(missing_ok=True)

    def interrupt() -> None:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            if stop.wait(0.02):
                return
        began = time.monotonic()
        for delay in delays or (0.2,):
            if stop.wait(max(0.0, began + delay - time.monotonic())):
                return
            signal.pthread_kill(main, signal.SIGINT)

    thread = threading.Thread(target=interrupt, name="ctrl-c")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def kernel_state():
    """What a command may change in the process, and must give back."""
    return (
        sys.stdout,
        sys.stderr,
        list(logging.root.handlers),
        logging.root.level,
        asyncio.run,
        ScriptDirectory._generate_create_date,
        os.getcwd(),
        signal.getsignal(signal.SIGINT),
        sys.modules.get("app"),
    )


SLOW_UPGRADE = """\
import pathlib, time
op.create_table("slow", sa.Column("id", sa.Integer, primary_key=True))
pathlib.Path("started").touch()
for _ in range(200):  # ten seconds, a statement at a time
    op.execute("SELECT 1")
    time.sleep(0.05)
pathlib.Path("finished").touch()
"""
WHERE_AM_I = """\
import pathlib, threading
pathlib.Path("thread.txt").write_text(f"{threading.get_ident()} {threading.current_thread().name}")
"""


def add_revision(ws, message, upgrade, rev_id=()):
    """A hand-written revision on top of head (``rev_id``: for env.py's without numbering)."""
    assert ws.run(["revision", "-m", message, *(["--rev-id", rev_id] if rev_id else [])]).ok
    ws.fill_revision("head", upgrade=upgrade)


def tables(ws):
    connection = sqlite3.connect(ws.db_path)
    try:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    finally:
        connection.close()


# -- where commands run -------------------------------------------------------------------
def test_a_sqlite_command_runs_on_the_kernels_thread(monkeypatch):
    ws = workbook.start("in_place", "0001", quiet=True)
    add_revision(ws, "Where am I", WHERE_AM_I)

    def no_threads(self):  # as in a browser kernel (Pyodide)
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_threads)
    result = in_kernel_loop(ws.run, "upgrade head")
    assert result.ok, result.error
    ident, _name = (ws.path / "thread.txt").read_text().split()
    assert int(ident) == threading.get_ident()


def stock_async_project(name):
    """A project set up as chapter 01 does: ``init -t async``, env.py as generated."""
    ws = workbook.start(name, "empty", quiet=True)
    assert ws.run("init -t async alembic").ok
    ws.edit(
        "alembic.ini",
        "sqlalchemy.url = driver://user:pass@localhost/dbname",
        "sqlalchemy.url = sqlite+aiosqlite:///app.db",
    )
    return ws


def test_an_env_py_calling_asyncio_run_gets_a_thread_for_its_coroutine_only():
    ws = stock_async_project("stock")
    add_revision(ws, "Where am I", WHERE_AM_I, "0001")
    before = kernel_state()
    result = in_kernel_loop(ws.run, "upgrade head")
    assert result.ok, result.error
    assert "asyncio.run() cannot be called" not in result.stderr
    ident, name = (ws.path / "thread.txt").read_text().split()
    assert int(ident) != threading.get_ident() and name == "alembic-env-asyncio"
    assert kernel_state() == before
    assert ws.run("upgrade head").ok  # where no loop runs, asyncio.run is the real one


# -- Ctrl-C ---------------------------------------------------------------------------------
def test_ctrl_c_stops_the_command_rolls_it_back_and_restores_the_kernel(capsys):
    ws = workbook.start("ctrl_c", "0001", quiet=True)
    add_revision(ws, "Slow", SLOW_UPGRADE)
    before = kernel_state()
    with ctrl_c_once_started(ws), pytest.raises(AlembicInterrupted) as raised:
        in_kernel_loop(ws.run, "upgrade head")
    assert not (ws.path / "finished").exists()  # stopped, not run to its end
    assert str(raised.value) == "upgrade stopped and rolled back; the database is still at 0001."
    assert raised.value._render_traceback_() == [
        (
            "\x1b[31mInterrupted:\x1b[0m upgrade stopped and rolled back; "
            "the database is still at 0001."
        )
    ]
    assert isinstance(raised.value, KeyboardInterrupt)  # a script around it stops too
    assert kernel_state() == before
    assert ws.current() == ["0001"] and "slow" not in tables(ws)
    print("the next cell prints")
    assert capsys.readouterr().out == "the next cell prints\n"
    assert in_kernel_loop(ws.run, "current").stdout == "0001\n"
    assert in_kernel_loop(ws.run, "upgrade 0001:head --sql").ok  # row 47's next command


def test_ctrl_c_shows_what_ran_then_one_line(capsys):
    ws = workbook.start("ctrl_c_shown", "0001", quiet=True)
    add_revision(ws, "Slow", SLOW_UPGRADE)
    with ctrl_c_once_started(ws), pytest.raises(AlembicInterrupted):
        in_kernel_loop(ws.alembic, "upgrade head")
    shown = capsys.readouterr()  # stderr in a script, stdout in a terminal IPython
    lines = (shown.out + shown.err).splitlines()
    assert lines[-1] == "INFO  [alembic.runtime.migration] Running upgrade 0001 -> 0002, Slow"
    assert "Traceback" not in shown.out + shown.err


def test_ctrl_c_cancels_the_coroutine_of_an_env_py_that_calls_asyncio_run():
    ws = stock_async_project("stock_ctrl_c")
    add_revision(ws, "First", "pass", "0001")
    assert ws.run("upgrade head").ok
    add_revision(ws, "Slow", SLOW_UPGRADE, "0002")
    before = kernel_state()
    with ctrl_c_once_started(ws), pytest.raises(AlembicInterrupted) as raised:
        in_kernel_loop(ws.run, "upgrade head")
    assert not (ws.path / "finished").exists()
    assert str(raised.value) == "upgrade stopped; the database is at 0001."
    assert kernel_state() == before
    assert not [
        t for t in threading.enumerate() if t.name == "alembic-env-asyncio" and t.is_alive()
    ]
    assert in_kernel_loop(ws.run, "current").stdout == "0001\n"


@pytest.mark.postgres
def test_ctrl_c_cancels_a_statement_waiting_on_a_server(postgres_database_url, monkeypatch):
    ws = workbook.start("server", "0001", quiet=True)
    add_revision(
        ws,
        "Waits",
        'import pathlib\npathlib.Path("started").touch()\nop.execute("SELECT pg_sleep(30)")',
    )
    monkeypatch.setenv("DATABASE_URL", postgres_database_url)
    assert in_kernel_loop(ws.run, "upgrade 0001").ok
    before = kernel_state()
    started = time.monotonic()
    with ctrl_c_once_started(ws), pytest.raises(AlembicInterrupted) as raised:
        in_kernel_loop(ws.run, "upgrade head")
    assert time.monotonic() - started < 20  # the server's sleep was cut short
    assert str(raised.value) == "upgrade stopped."  # where it is: `%alembic current` says
    assert kernel_state() == before
    assert in_kernel_loop(ws.run, "current").stdout == "0001\n"


def test_a_command_that_will_not_stop_is_left_ending_and_nothing_runs_over_it(capsys):
    ws = stock_async_project("stuck")
    add_revision(ws, "First", "pass", "0001")
    assert ws.run("upgrade head").ok
    add_revision(
        ws,
        "Stuck",
        "import pathlib, time\npathlib.Path('started').touch()\n"
        "time.sleep(6)  # no await: cancelling waits for it",
        "0002",
    )
    before = kernel_state()
    with ctrl_c_once_started(ws, 0.2, 0.5, 0.8), pytest.raises(AlembicInterrupted) as raised:
        in_kernel_loop(ws.run, "upgrade head")  # the third Ctrl-C stops the waiting
    assert str(raised.value).startswith("upgrade stopped")
    assert kernel_state() == before
    print("the kernel prints")
    assert capsys.readouterr().out == "the kernel prints\n"
    refused = in_kernel_loop(ws.run, "upgrade 0001:head --sql")
    assert refused.error.startswith("an interrupted command is still ending in the background")
    assert "\n" not in refused.error
    for done in list(runner._ENDING):
        assert done.wait(10)
    assert in_kernel_loop(ws.run, "current").stdout == "0001\n"  # it was not committed


def test_a_command_started_while_one_runs_is_refused():
    ws = workbook.start("nested", "0001", quiet=True)
    add_revision(
        ws,
        "Nested",
        "from workbook.runner import run_alembic\n"
        "print('nested:', run_alembic('.', 'upgrade 0001:head --sql').error)",
    )
    before = kernel_state()
    result = in_kernel_loop(ws.run, "upgrade head")
    assert result.ok
    assert (
        "nested: another alembic command (alembic upgrade head) is still running in this "
        "kernel; run this one after it\n"
    ) in result.stdout
    assert kernel_state() == before


# -- bytecode -------------------------------------------------------------------------------
def rewrite_keeping_size_and_time(path, old, new):
    assert len(old) == len(new)
    stat = path.stat()
    path.write_text(path.read_text().replace(old, new))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # "within the same second"


def test_a_fast_same_size_edit_is_seen_with_bytecode_writing_on(monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as on a learner's machine
    ws = workbook.start("bytecode", "0001", quiet=True)
    add_revision(ws, "Table", 'op.create_table("aaaa", sa.Column("id", sa.Integer))')
    revision = ws.revision_file("0002")
    model = ws.path / "app" / "models" / "book.py"
    ws.heads(), ws.graph()  # the kernel loads the scripts too, outside any command
    assert ws.run("history").ok
    assert not list(ws.path.rglob("__pycache__/*.pyc"))  # the project's sources never cached
    for path in (revision, model):  # and any tool may have compiled them
        py_compile.compile(str(path))
    rewrite_keeping_size_and_time(revision, '"aaaa"', '"bbbb"')
    rewrite_keeping_size_and_time(model, "String(13)", "String(17)")
    assert ws.run("upgrade head").ok
    assert "bbbb" in tables(ws) and "aaaa" not in tables(ws)
    check = ws.run("check")
    assert not check.ok and "String(length=17)" in check.error


# -- logging --------------------------------------------------------------------------------
def test_the_kernels_logging_survives_failed_and_interrupted_commands(tmp_path, caplog):
    ws = workbook.start("logging", "0001", quiet=True)
    add_revision(ws, "Slow", SLOW_UPGRADE)
    log_file = tmp_path / "kernel.log"
    handler = logging.FileHandler(log_file, mode="w")  # a closed "w" handler never reopens
    kernel_log = logging.getLogger("kernel.own")
    kernel_log.addHandler(handler)
    caplog.set_level(logging.INFO, logger="kernel.own")
    try:
        before = kernel_state()
        assert in_kernel_loop(ws.run, "current").ok
        assert not in_kernel_loop(ws.run, "upgrade nowhere").ok
        with ctrl_c_once_started(ws), pytest.raises(AlembicInterrupted):
            in_kernel_loop(ws.run, "upgrade head")
        assert kernel_state() == before
        kernel_log.info("still logging")
        handler.flush()
        assert log_file.read_text() == "still logging\n"
        assert [r.getMessage() for r in caplog.records if r.name == "kernel.own"] == [
            "still logging"
        ]
        assert not any(r.name.startswith("alembic") for r in caplog.records)
    finally:
        kernel_log.removeHandler(handler)
        handler.close()


# -- one-line errors ------------------------------------------------------------------------
def test_an_apostrophe_in_an_unquoted_message_is_one_line():
    shell = InteractiveShell.instance()
    ws = workbook.start("quote", "0001", quiet=True)
    error = ws.run("revision -m don't forget the index").error
    assert error == (
        "No closing quotation: put a message with an apostrophe in double "
        'quotes, as in a terminal: revision -m "don\'t forget the index"'
    )
    assert not list((ws.path / "alembic" / "versions").glob("*0002*"))
    with pytest.raises(AlembicCommandError) as raised:
        shell.run_line_magic("alembic", "history -r 'base:head")
    assert raised.value._render_traceback_()[0].startswith(
        "\x1b[31mFAILED:\x1b[0m No closing quotation: "
    )
    assert ws.run(["revision", "-m", "don't forget the index"]).ok


def test_a_subcommands_usage_error_is_lifted_into_the_failed_line():
    ws = workbook.start("usage", "0001", quiet=True)
    result = ws.run("downgrade")
    assert result.error == "downgrade: error: the following arguments are required: revision"
    assert result.stderr == "usage: alembic downgrade [-h] [--sql] [--tag TAG] revision\n"


# -- a quiet log ----------------------------------------------------------------------------
def shown(ws, line):
    shell = InteractiveShell.instance()
    with capture_output() as captured, contextlib.suppress(AlembicCommandError):
        in_kernel_loop(shell.run_line_magic, "alembic", line)
    return captured


def test_the_log_is_quiet_in_terminal_order_and_the_same_every_run():
    InteractiveShell.instance()  # before workbook.start, which registers %alembic in it
    bundles = []
    for name in ("quiet_a", "quiet_b"):
        ws = workbook.start(name, "0001", quiet=True)
        ws.edit(
            "app/models/book.py",
            "    description: Mapped[Optional[str]] = mapped_column(Text, default=None)\n",
            "    description: Mapped[Optional[str]] = mapped_column(Text, default=None)\n"
            "    pages: Mapped[Optional[int]] = mapped_column(default=None)\n",
        )
        captured = shown(ws, "revision --autogenerate -m pages")
        assert captured.stderr == "" and captured.stdout == ""  # nothing in the pink box
        (output,) = captured.outputs
        bundles.append(output.data)
    assert bundles[0] == bundles[1]
    text, page = bundles[0]["text/plain"], bundles[0]["text/html"]
    lines = text.splitlines()
    assert lines[0] == "INFO  [alembic.runtime.migration] Context impl SQLiteImpl."
    assert lines[-1] == "Generating alembic/versions/20241209_0731_0002_pages.py ...  done"
    assert (
        lines.index(
            "INFO  [alembic.autogenerate.compare.tables] Detected added column 'books.pages'"
        )
        == len(lines) - 2
    )
    muted = '<span style="color:var(--jp-content-font-color2,#6a737d)">'
    assert page.count(muted) == 1  # the log lines, together
    assert page.split("</span>")[1].strip().startswith("Generating alembic/versions/")


def test_a_failure_is_an_error_after_the_quiet_log():
    InteractiveShell.instance()
    ws = workbook.start("quiet_failed", "0001", quiet=True)
    captured = shown(ws, "upgrade 0042")
    assert captured.stderr == "" and "FAILED" not in captured.outputs[0].data["text/plain"]
    with pytest.raises(AlembicCommandError) as raised:
        in_kernel_loop(InteractiveShell.instance().run_line_magic, "alembic", "upgrade 0042")
    assert raised.value.message == "Can't locate revision identified by '0042'"


# -- Python 3.13 ----------------------------------------------------------------------------
def test_no_connection_is_left_open(recwarn):
    ws = workbook.start("closed", "0001", quiet=True)
    add_revision(ws, "Slow", SLOW_UPGRADE)
    warnings.simplefilter("always", ResourceWarning)
    for line in ("current", "upgrade 0001:head --sql", "upgrade nowhere", "check"):
        in_kernel_loop(ws.run, line)
    with ctrl_c_once_started(ws), pytest.raises(AlembicInterrupted):
        in_kernel_loop(ws.run, "upgrade head")
    gc.collect()
    assert not [w for w in recwarn if issubclass(w.category, ResourceWarning)]


def newest_python():
    """A Python 3.13+ that runs (a pyenv shim may name one that does not), or None."""
    import glob

    candidates = [shutil.which(f"python3.{minor}") for minor in (14, 13)]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[3-9].*/bin/python")))
    for python in filter(None, candidates):
        check = subprocess.run(
            [python, "-c", "import sys; assert sys.version_info >= (3, 13)"],
            capture_output=True,
            check=False,
        )
        if check.returncode == 0:
            return python
    return None


def test_child_processes_print_tracebacks_without_colours():
    python = newest_python()
    if python is None:
        pytest.skip("no Python 3.13+ here (only it colours tracebacks)")
    import pty

    output = []
    pid, fd = pty.fork()
    if pid == 0:  # the child: what `!python ...` runs, in a terminal
        os.execve(python, [python, "-c", "1/0"], dict(os.environ))
    with contextlib.suppress(OSError):
        while chunk := os.read(fd, 4096):
            output.append(chunk)
    os.waitpid(pid, 0)
    text = b"".join(output).decode()
    assert "ZeroDivisionError" in text and "\x1b[" not in text


# -- in a real kernel, driven as JupyterLab drives it ---------------------------------------
def execute(client, code, timeout=60):
    """Run ``code`` in the kernel; its outputs (iopub messages' content, with their type)."""
    msg_id = client.execute(code)
    return collect(client, msg_id, timeout)


def collect(client, msg_id, timeout=60):
    outputs = []
    deadline = time.monotonic() + timeout
    while True:
        message = client.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "status" and content["execution_state"] == "idle":
            return outputs
        if kind in ("stream", "display_data", "execute_result", "error"):
            outputs.append({"type": kind, **content})


@pytest.mark.slow
def test_ctrl_c_and_the_quiet_log_in_a_real_kernel(tmp_path):
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(
        kernel_name="python3",
        cwd=str(tmp_path),
        env={**os.environ, "WORKBOOK_WORKSPACES": str(tmp_path / "workspaces")},
    )
    try:
        execute(client, "import workbook\nws = workbook.start('kernel', '0001', quiet=True)")
        started = tmp_path / "workspaces" / "kernel" / "started"
        execute(
            client,
            "ws.run(['revision', '-m', 'Slow']); "
            f"ws.fill_revision('head', upgrade={SLOW_UPGRADE!r})",
        )
        (current,) = execute(client, "%alembic current")
        assert current["type"] == "display_data"
        assert current["data"]["text/plain"] == (
            "INFO  [alembic.runtime.migration] Context impl SQLiteImpl.\n"
            "INFO  [alembic.runtime.migration] Will assume transactional DDL.\n"
            "0001"
        )

        msg_id = client.execute("%alembic upgrade head")
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        manager.interrupt_kernel()
        shown, error = collect(client, msg_id)
        assert shown["type"] == "display_data"
        assert shown["data"]["text/plain"].endswith("Running upgrade 0001 -> 0002, Slow")
        assert (error["type"], error["ename"], error["evalue"], error["traceback"]) == (
            "error",
            "AlembicInterrupted",
            "upgrade stopped and rolled back; the database is still at 0001.",
            [
                (
                    "\x1b[31mInterrupted:\x1b[0m upgrade stopped and rolled back; "
                    "the database is still at 0001."
                )
            ],
        )

        assert execute(client, "print('after')") == [
            {"type": "stream", "name": "stdout", "text": "after\n"}
        ]
        (current,) = execute(client, "%alembic current")
        assert current["data"]["text/plain"].endswith("\n0001")
        (ready,) = execute(client, "ws = workbook.start('kernel', '0001')")  # row 46
        assert ready["text"] == "Workspace 'kernel' is ready: the initial migration applied.\n"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_edit_is_refused_in_one_line_instead_of_waiting_for_a_terminal(monkeypatch):
    monkeypatch.setenv("EDITOR", "sleep 600")  # what a terminal editor is to a kernel
    ws = workbook.start("edit", "0001", quiet=True)
    started = time.monotonic()
    result = ws.run("edit head")
    assert time.monotonic() - started < 30
    assert result.error.startswith("edit opens a terminal editor, and a notebook has no terminal")
    assert "\n" not in result.error


# -- a --rev-id used twice -----------------------------------------------------------------
def test_revid2_a_rev_id_the_history_has_is_refused_in_one_line_and_writes_nothing():
    """Alembic itself writes a second file with the id, whose parent is itself: from then
    on every command fails ("Self-loop is detected in revisions")."""
    shell = InteractiveShell.instance()
    ws = workbook.start("revid2", "0001", quiet=True)
    shell.run_line_magic("alembic", 'revision --rev-id 0002 -m "add notes"')
    (first,) = (ws.path / "alembic" / "versions").glob("*_0002_add_notes.py")
    versions = sorted((ws.path / "alembic" / "versions").iterdir())
    with pytest.raises(AlembicCommandError) as raised:
        shell.run_line_magic("alembic", 'revision --rev-id 0002 -m "add notes"')
    assert raised.value.message == (
        f"revision id 0002 is taken: alembic/versions/{first.name} has it. Pick another "
        "--rev-id (or leave it out for a new id), or delete that file first if you mean to "
        "replace it"
    )
    assert raised.value._render_traceback_() == [f"\x1b[31mFAILED:\x1b[0m {raised.value.message}"]
    assert sorted((ws.path / "alembic" / "versions").iterdir()) == versions
    assert ws.run("revision --rev-id=0001 --autogenerate -m again").error.startswith(
        "revision id 0001 is taken: alembic/versions/"
    )
    assert ws.run("revision -m three --head 0001 --splice --rev-id 0003").ok
    assert ws.run("merge heads --rev-id 0003").error.startswith(
        "revision id 0003 is taken: alembic/versions/"
    )
    assert sorted(ws.heads()) == ["0002", "0003"]  # nothing written, the history still loads
    assert ws.run("merge heads --rev-id 0004").ok and ws.heads() == ["0004"]
    # `-n audit`: another section of alembic.ini, its own history (lesson 08): ids of its own.
    assert ws.run("init -t generic audit_migrations").ok
    ws.edit(
        "alembic.ini",
        "\n[loggers]\n",
        "\n[audit]\nscript_location = %(here)s/audit_migrations\n"
        "sqlalchemy.url = sqlite:///%(here)s/audit.db\n\n[loggers]\n",
    )
    assert ws.run("-n audit revision -m audit --rev-id 0001").ok
    assert ws.run("-n audit revision -m again --rev-id 0001").error.startswith(
        "revision id 0001 is taken: audit_migrations/versions/0001_audit.py has it."
    )


# -- row 49: a merge with nothing to merge ---------------------------------------------------
def test_merge1_a_merge_of_one_head_is_refused_in_one_line_and_writes_nothing():
    """Alembic itself would write an ordinary revision (one parent) called "merge"."""
    shell = InteractiveShell.instance()
    ws = workbook.start("merge1", "0001", quiet=True)
    versions = sorted((ws.path / "alembic" / "versions").iterdir())
    with pytest.raises(AlembicCommandError) as raised:
        shell.run_line_magic("alembic", 'merge heads -m "merge"')
    assert raised.value.message == (
        "nothing to merge: `heads` is one revision (0001); Alembic would still write an "
        "ordinary revision on top of it, not a merge. Merge when `%alembic heads` lists two "
        "or more (a plain new revision: `%alembic revision -m ...`)"
    )
    assert sorted((ws.path / "alembic" / "versions").iterdir()) == versions
    assert ws.run("merge 0001 0001").error == "Duplicate head revisions specified"  # Alembic's
    assert ws.run("revision -m two").ok and ws.run("revision -m three --head 0001 --splice").ok
    assert ws.run('merge heads -m "merge"').ok and ws.heads() == ["0004"]  # a real fork
    empty = workbook.start("merge0", "models", quiet=True)
    assert empty.run("merge heads").error.startswith(
        "nothing to merge: there are no revisions yet; Alembic would still write a first "
        "revision, with no parent, not a merge."
    )
