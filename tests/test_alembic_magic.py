"""``%alembic``: the real command line in the kernel, stable output, one-line failures."""

import asyncio
import logging
import sqlite3
import sys
from contextlib import closing

import pytest
from IPython.core.interactiveshell import InteractiveShell

import workbook
from workbook.runner import AlembicCommandError, run_alembic, subcommand


@pytest.fixture(autouse=True)
def private_workspaces(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_WORKSPACES", str(tmp_path / "workspaces"))
    monkeypatch.chdir(tmp_path)


def in_running_loop(function, *args):
    """Call ``function`` while an event loop runs in this thread, as in a Jupyter kernel."""

    async def main():
        return function(*args)

    return asyncio.run(main())


def output(ws, line):
    result = in_running_loop(ws.run, line)
    assert result.ok, result.error
    return result


def failure(ws, line, usable_after=True) -> str:
    result = in_running_loop(ws.run, line)
    assert not result.ok
    if usable_after:
        assert ws.run("current").ok  # still usable afterwards
    return result.error


def test_upgrade_inside_a_running_event_loop():
    ws = workbook.start("loop", "0001", quiet=True)
    result = output(ws, "upgrade head")
    assert "asyncio.run() cannot be called" not in result.stderr
    assert ws.current() == ["0001"]
    output(ws, "downgrade base")
    assert ws.current() == []


def test_init_shows_relative_paths():
    ws = workbook.start("init", "empty", quiet=True)
    result = output(ws, "init -t async alembic")
    assert "Creating directory alembic ...  done" in result.stdout
    assert str(ws.path) not in result.stdout
    assert (ws.path / "alembic" / "env.py").exists() and (ws.path / "alembic.ini").exists()
    assert "async" in output(ws, "list_templates").stdout


def test_revisions_get_readable_ids_and_the_workbook_clock():
    ws = workbook.start("revs", "0001", quiet=True)
    ws.edit(
        "app/models/user.py",
        "    is_active: Mapped[bool] = mapped_column(default=True)\n",
        "    is_active: Mapped[bool] = mapped_column(default=True)\n"
        "    nickname: Mapped[Optional[str]] = mapped_column(String(50), default=None)\n",
    )
    auto = output(ws, ["revision", "--autogenerate", "-m", "Add nickname"])
    assert "Generating alembic/versions/20241209_0731_0002_add_nickname.py ...  done" in auto.stdout
    assert "Detected added column 'users.nickname'" in auto.stderr
    script = ws.read("alembic/versions/20241209_0731_0002_add_nickname.py")
    assert "Create Date: 2024-12-09 07:31:00+00:00" in script and "revision: str = '0002'" in script
    empty = output(ws, ["revision", "-m", "Empty one"])
    assert "0003_empty_one.py" in empty.stdout
    custom = output(ws, ["revision", "-m", "Custom", "--rev-id", "abc123"])
    assert "abc123_custom.py" in custom.stdout  # --rev-id is the learner's to use


def test_read_only_commands():
    ws = workbook.start("read", "0011", quiet=True)
    assert output(ws, "current").stdout == "0011 (head)\n"
    assert output(ws, "heads").stdout == "0011 (head)\n"
    history = output(ws, "history").stdout
    assert history.splitlines()[0] == "0010 -> 0011 (head), Make users.display_name non-nullable"
    assert "(mergepoint)" in history and "(branchpoint)" in history
    assert "Path: alembic/versions/20241209_0740_0011_" in output(ws, "history --verbose").stdout
    assert "0007 (branchpoint)" in output(ws, "branches").stdout
    assert "Rev: 0005" in output(ws, "show 0005").stdout
    assert output(ws, "check").stdout == "No new upgrade operations detected.\n"
    sql = output(ws, "upgrade 0010:0011 --sql").stdout  # a batch recreate, offline
    assert "CREATE TABLE _alembic_tmp_users" in sql
    assert "UPDATE alembic_version SET version_num='0011'" in sql


def normalised_schema(path):
    """Tables, columns and indexes as SQLite reports them (whitespace-free)."""
    with closing(sqlite3.connect(path)) as connection:
        tables = [
            r[0]
            for r in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"
            )
        ]
        return {
            t: (
                connection.execute(f"PRAGMA table_xinfo('{t}')").fetchall(),
                sorted(row[1:] for row in connection.execute(f"PRAGMA index_list('{t}')")),
                connection.execute(f"PRAGMA foreign_key_list('{t}')").fetchall(),
            )
            for t in tables
        }


def test_offline_sql_builds_the_same_database_as_online(tmp_path):
    """`upgrade head --sql` on SQLite is complete: batch recreates use copy_from offline."""
    ws = workbook.start("offline", "head", quiet=True)
    script = output(ws, "upgrade head --sql").stdout
    with closing(sqlite3.connect(tmp_path / "offline.db")) as connection:
        connection.executescript(script)
    offline, online = normalised_schema(tmp_path / "offline.db"), normalised_schema(ws.db_path)

    def strip(s):
        return {
            t: ([c[:4] + (str(c[4]).strip("()"),) + c[5:] for c in cols], i, f)
            for t, (cols, i, f) in s.items()
        }

    assert strip(offline) == strip(online)


def test_stamp_and_relative_moves():
    ws = workbook.start("moves", "0011", quiet=True)
    output(ws, "downgrade 0008")
    assert ws.current() == ["0008", "0009"]  # 0009 stays: it is not above 0008
    assert failure(ws, "upgrade +1") == "Ambiguous upgrade from multiple current revisions"
    output(ws, "upgrade 0010")
    assert ws.current() == ["0010"]
    assert failure(ws, "downgrade -1") == "Ambiguous walk"  # one step back from a merge
    output(ws, "stamp 0005")
    assert ws.current() == ["0005"]
    output(ws, "stamp --purge head")
    assert ws.current() == ["0011"]


def test_two_heads_then_merge():
    ws = workbook.start("heads", "0001", quiet=True)
    output(ws, ["revision", "-m", "Feature A"])
    assert "--splice" in failure(ws, ["revision", "-m", "Feature B", "--head", "0001"])
    output(ws, ["revision", "-m", "Feature B", "--head", "0001", "--splice"])
    assert ws.heads() == ["0002", "0003"]
    message = failure(ws, "upgrade head")
    assert message.startswith("Multiple head revisions are present for given argument 'head'")
    message = failure(ws, ["revision", "-m", "More"])
    assert message.startswith("Multiple heads are present")
    merge = output(ws, ["merge", "-m", "Merge A and B", "heads"])
    assert "0004_merge_a_and_b.py" in merge.stdout  # merges get readable ids too
    output(ws, "upgrade head")
    assert ws.current() == ["0004"]


@pytest.mark.parametrize(
    "line, message",
    [
        ("upgrade nope", "Can't locate revision identified by 'nope'"),
        ("downgrade -5", "Relative revision -5 didn't produce 5 migrations"),
        ("frobnicate", "error: argument"),
        ("downgrade base --sql", "downgrade with --sql requires <fromrev>:<torev>"),
    ],
)
def test_bad_input_is_one_clear_line(line, message):
    ws = workbook.start("bad", "0001", quiet=True)
    error = failure(ws, line)
    assert message in error and "\n" not in error
    assert ws.current() == ["0001"]


def test_a_broken_model_file():
    ws = workbook.start("syntax", "0001", quiet=True)
    good = ws.read("app/models/book.py")
    ws.write("app/models/book.py", good + "\nclass Oops(:\n")
    error = failure(ws, ["revision", "--autogenerate", "-m", "x"], usable_after=False)
    assert error == "SyntaxError: invalid syntax (book.py, line 36)"
    assert not list((ws.path / "alembic" / "versions").glob("*0002*"))
    ws.write("app/models/book.py", good)  # fixed: everything works again
    assert ws.run("current").ok


def test_a_failed_migration_changes_nothing():
    ws = workbook.start("fails", "0001", quiet=True)
    output(ws, ["revision", "-m", "Breaks halfway"])
    path = next((ws.path / "alembic" / "versions").glob("*0002*"))
    path.write_text(
        path.read_text().replace(
            "    # ### commands auto generated by Alembic - please adjust! ###\n    pass",
            '    """Apply migration."""\n    op.create_table("half", sa.Column("id", sa.Integer))\n'
            '    op.execute("INSERT INTO nowhere VALUES (1)")',
        )
    )
    error = failure(ws, "upgrade head")
    assert error.startswith("OperationalError: ") and "no such table: nowhere" in error
    assert ws.current() == ["0001"]
    with closing(sqlite3.connect(ws.db_path)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert "half" not in tables and not any(t.startswith("_alembic_tmp") for t in tables)


def test_the_same_commands_print_the_same_text_in_any_workspace():
    transcripts = []
    for name in ("first", "second"):
        ws = workbook.start(name, "0005", quiet=True)
        lines = [
            "downgrade -1",
            "upgrade head",
            "history -r 0003:0005",
            "heads",
            ["revision", "--autogenerate", "-m", "Nothing"],
        ]
        transcripts.append([output(ws, line).chunks for line in lines])
    assert transcripts[0] == transcripts[1]


def test_logging_and_modules_are_left_as_found():
    ws = workbook.start("clean", "0001", quiet=True)
    handler = logging.StreamHandler(sys.stdout)
    logging.getLogger("kernel.own").addHandler(handler)
    root_before = list(logging.root.handlers)
    sys.modules["app"] = sentinel = type(sys)("app")
    try:
        output(ws, "upgrade head")
        assert logging.root.handlers == root_before
        assert logging.getLogger("kernel.own").handlers == [handler]
        assert sys.modules["app"] is sentinel
    finally:
        del sys.modules["app"]
        logging.getLogger("kernel.own").removeHandler(handler)


def test_models_are_imported_fresh_after_an_edit():
    ws = workbook.start("fresh", "0001", quiet=True)
    output(ws, "check")
    ws.edit(
        "app/models/book.py",
        "    description: Mapped[Optional[str]] = mapped_column(Text, default=None)\n",
        "    description: Mapped[Optional[str]] = mapped_column(Text, default=None)\n"
        "    pages: Mapped[Optional[int]] = mapped_column(default=None)\n",
    )
    assert "('add_column', None, 'books', Column('pages'" in failure(ws, "check")


def _count_model_imports(ws):
    """Make the workspace's models append a line to ``imports.log`` each time they import."""
    ws.edit(
        "app/models/__init__.py",
        "from app.models.base import Base",
        "import pathlib\n\n"
        "with pathlib.Path(__file__).parents[2].joinpath('imports.log').open('a') as log:\n"
        "    log.write('imported\\n')\n\n"
        "from app.models.base import Base",
    )
    return lambda: len((ws.path / "imports.log").read_text().splitlines())


def test_unchanged_models_are_imported_once():
    ws = workbook.start("reuse", "0001", quiet=True)
    imports = _count_model_imports(ws)
    for line in ["check", "current", "downgrade base", "upgrade head", "check"]:
        output(ws, line)
    assert imports() == 1
    ws.write("app/models/user.py", ws.read("app/models/user.py") + "\n")  # any byte counts
    output(ws, "check")
    assert imports() == 2
    (ws.path / "app" / "models" / "spare.py").write_text("")  # so does a new file
    output(ws, "current")
    assert imports() == 3


def test_a_failed_command_imports_the_models_afresh():
    ws = workbook.start("reuse_failed", "0001", quiet=True)
    imports = _count_model_imports(ws)
    output(ws, "current")
    failure(ws, "upgrade nowhere")
    output(ws, "current")
    output(ws, "current")
    assert imports() == 2


def test_each_version_of_a_file_is_compiled_once(tmp_path):
    import importlib.machinery

    from workbook.runner import cache_compiled_code

    cache_compiled_code(tmp_path)
    path = tmp_path / "module.py"
    loader = importlib.machinery.SourceFileLoader("module", str(path))
    path.write_text("VALUE = 1\n")
    first = loader.source_to_code(path.read_bytes(), str(path))
    assert loader.source_to_code(path.read_bytes(), str(path)) is first
    path.write_text("VALUE = 2\n")  # same size, same second: still a new version
    second = loader.source_to_code(path.read_bytes(), str(path))
    assert second is not first
    namespace = {}
    exec(second, namespace)
    assert namespace["VALUE"] == 2
    elsewhere = tmp_path.parent / f"{tmp_path.name}-other.py"
    elsewhere.write_text("VALUE = 3\n")
    assert loader.source_to_code(
        elsewhere.read_bytes(), str(elsewhere)
    ) is not loader.source_to_code(elsewhere.read_bytes(), str(elsewhere))


def test_subcommand_skips_option_values():
    assert subcommand(["-c", "x.ini", "-x", "a=b", "merge", "heads"]) == "merge"
    assert subcommand(["--raiseerr", "upgrade", "head"]) == "upgrade"
    assert subcommand(["--help"]) is None


def test_the_magic_in_an_ipython_shell(capsys):
    shell = InteractiveShell.instance()
    workbook.start("magic", "0001", quiet=True)
    in_running_loop(shell.run_line_magic, "alembic", "current")
    captured = capsys.readouterr()  # a terminal IPython: the log, then the answer
    assert captured.out.splitlines()[-1] == "0001 (head)"
    assert "Context impl SQLiteImpl." in captured.out and captured.err == ""
    with pytest.raises(AlembicCommandError) as raised:
        shell.run_line_magic("alembic", "upgrade 0042")
    assert raised.value._render_traceback_() == [
        "\x1b[31mFAILED:\x1b[0m Can't locate revision identified by '0042'"
    ]
    assert workbook.workspace.last_error  # the full traceback stays available


def test_run_alembic_outside_any_workspace(tmp_path):
    result = run_alembic(tmp_path, ["current"])
    assert not result.ok and "No 'script_location' key found" in result.error


def test_several_heads_print_in_revision_order_every_time():
    transcripts = set()
    for attempt in range(3):
        ws = workbook.start(f"order{attempt}", "head", quiet=True)
        output(ws, "downgrade 0007")
        output(ws, "upgrade 0009")
        output(ws, "upgrade 0008")
        transcripts.add((output(ws, "current").stdout, output(ws, "branches").stdout))
    ((current, branches),) = transcripts
    assert current == "0008\n0009\n"
    assert branches.splitlines()[:3] == ["0007 (branchpoint)", "     -> 0008", "     -> 0009"]


def test_warnings_are_one_line_without_paths():
    ws = workbook.start("warn", "head", quiet=True)
    output(ws, "downgrade 0007")
    output(ws, "upgrade 0008")
    output(ws, "upgrade 0009")
    result = in_running_loop(ws.run, "downgrade -1")  # two heads: alembic warns
    assert "UserWarning: " in result.stderr and "site-packages" not in result.stderr
