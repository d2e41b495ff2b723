"""Workspaces: built at any stage, fast, private, resettable, and never writing elsewhere."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import workbook
from workbook import workspace as workspace_module
from workbook.stages import REPO_ROOT, STAGES
from workbook.workspace import Workspace, WorkspaceError


@pytest.fixture(autouse=True)
def private_workspaces(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_WORKSPACES", str(tmp_path / "workspaces"))
    monkeypatch.chdir(tmp_path)  # start() moves into the workspace; put the cwd back after
    return tmp_path / "workspaces"


def tracked_files_state() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    ).stdout


@pytest.mark.parametrize("stage", list(STAGES))
def test_every_stage_builds_and_matches_its_models(stage):
    ws = workbook.start(f"t_{stage}", stage, quiet=True)
    assert Path.cwd() == ws.path
    if STAGES[stage].revision:
        assert ws.current() == [STAGES[stage].revision]
        result = ws.run("check")
        assert result.ok, result.error  # the stage's models and migrations agree
    else:
        assert ws.current() == []


def test_start_is_fast_once_the_stage_is_cached():
    workbook.start("warm", "head", quiet=True)
    started = time.perf_counter()
    workbook.start("again", "head", quiet=True)
    assert time.perf_counter() - started < 1.0


def test_start_resets_everything_the_learner_did(capsys):
    ws = workbook.start("reset_me", "0001", quiet=True)
    ws.write("notes.txt", "scratch")
    ws.edit("app/models/user.py", "String(255), default=None", "String(99), default=None")
    ws.run("downgrade base")
    ws = workbook.start("reset_me", "0001")
    assert not (ws.path / "notes.txt").exists()
    assert "String(99)" not in ws.read("app/models/user.py")
    assert ws.current() == ["0001"]
    assert capsys.readouterr().out == (
        "Workspace 'reset_me' is ready: the initial migration applied.\n"
    )


def test_reset_recovers_a_broken_workspace():
    ws = workbook.start("broken", "0005", quiet=True)
    ws.write("app/models/user.py", "this is not python")
    (ws.path / "alembic.ini").unlink()
    ws.reset()
    assert ws.run("current").ok and ws.current() == ["0005"]


def test_reset_while_the_database_is_open():
    import sqlite3

    ws = workbook.start("open_db", "0001", quiet=True)
    connection = sqlite3.connect(ws.db_path)
    connection.execute("SELECT count(*) FROM users").fetchall()
    ws.reset()
    connection.close()
    assert ws.current() == ["0001"]


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden", "/etc", "x y"])
def test_names_that_are_paths_are_refused(name):
    with pytest.raises(WorkspaceError, match="must be letters"):
        Workspace(name, "empty")


def test_refuses_the_repository_or_home_as_workspaces_folder(monkeypatch):
    for forbidden in (REPO_ROOT, Path.home()):
        monkeypatch.setenv("WORKBOOK_WORKSPACES", str(forbidden))
        with pytest.raises(WorkspaceError, match="refusing"):
            Workspace("x", "empty")


def test_never_deletes_a_symlinked_workspace(private_workspaces, tmp_path):
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    private_workspaces.mkdir(parents=True)
    (private_workspaces / "linked").symlink_to(outside)
    with pytest.raises(WorkspaceError, match="refusing"):
        Workspace("linked", "empty").reset()
    assert (outside / "keep.txt").read_text() == "keep"


def test_files_outside_the_workspace_are_refused():
    ws = workbook.start("files", "empty", quiet=True)
    with pytest.raises(WorkspaceError, match="outside the workspace"):
        ws.write("../elsewhere.txt", "x")


def test_edit_shows_a_diff_and_refuses_ambiguous_text():
    ws = workbook.start("edit", "models", quiet=True)
    change = ws.edit(
        "app/models/user.py",
        "    is_active: Mapped[bool] = mapped_column(default=True)\n",
        "    is_active: Mapped[bool] = mapped_column(default=True)\n"
        "    nickname: Mapped[Optional[str]] = mapped_column(String(50), default=None)\n",
    )
    text = repr(change)
    assert "+    nickname: Mapped[Optional[str]]" in text
    assert text.startswith("--- a/app/models/user.py\n+++ b/app/models/user.py")
    assert "#e6ffec" in change._repr_html_()
    with pytest.raises(WorkspaceError, match=r"found \d+ times"):
        ws.edit("app/models/user.py", "mapped_column(", "x(")
    with pytest.raises(WorkspaceError, match="not found"):
        ws.edit("app/models/user.py", "no such text", "x")


def test_an_edit_already_made_changes_nothing_and_a_lost_one_says_what_to_put_back():
    """A solution's ws.edit run again after a partial attempt: no duplicate, no error."""
    ws = workbook.start("edit-again", "models", quiet=True)
    active = "    is_active: Mapped[bool] = mapped_column(default=True)\n"
    nickname = "    nickname: Mapped[Optional[str]] = mapped_column(String(50), default=None)\n"
    ws.edit("app/models/user.py", active, active + nickname)
    text = ws.read("app/models/user.py")
    again = ws.edit("app/models/user.py", active, active + nickname)  # appended already
    assert repr(again) == "app/models/user.py: unchanged"
    assert ws.read("app/models/user.py") == text and text.count(nickname) == 1
    ws.edit("app/models/user.py", "String(50), default=None)", "String(60), default=None)")
    assert repr(
        ws.edit("app/models/user.py", "String(50), default=None)", "String(60), default=None)")
    ).endswith("unchanged")
    ws.write("app/models/user.py", ws.read("app/models/user.py").replace(active, ""))
    with pytest.raises(WorkspaceError) as raised:  # neither the old text nor the new one
        ws.edit(ws.file("app/models/user.py"), active, active + "    x: int\n")
    assert str(raised.value).startswith(
        "app/models/user.py: the text to replace was not "
        "found, and the new text is not there either: put back"
    )


def test_a_short_edit_run_again_does_not_claim_the_new_text_is_missing():
    """Removing a line, or a short replacement, run a second time: the new text cannot
    tell whether it ran before, so the message says both what is likely and what to do."""
    ws = workbook.start("edit-short", "models", quiet=True)
    active = "    is_active: Mapped[bool] = mapped_column(default=True)\n"
    ws.edit("app/models/user.py", active, "")
    with pytest.raises(WorkspaceError) as raised:
        ws.edit("app/models/user.py", active, "")
    assert str(raised.value) == (
        "app/models/user.py: the text to replace was not found: if this cell ran before, "
        "the edit is made and there is nothing to do (ws.show('app/models/user.py') shows "
        "the file); if not, put back what your own edit changed there, then run it again"
    )
    assert "not there either" not in str(raised.value)


def test_tree_and_show_are_relative_and_stable():
    ws = workbook.start("views", "0001", quiet=True)
    tree = repr(ws.tree())
    assert tree.splitlines()[0] == "# views/"
    assert "    versions/" in tree and str(ws.path) not in tree
    shown = repr(ws.show("alembic.ini", 1, 3))
    assert shown.splitlines()[1].startswith("1 | # The reference migration environment")
    assert repr(ws.show_revision("0001")).startswith("# alembic/versions/20241209_0730_0001_")


def test_nothing_tracked_is_written():
    before = tracked_files_state()
    for stage in STAGES:
        ws = workbook.start(f"tracked_{stage}", stage, quiet=True)
        if STAGES[stage].alembic and STAGES[stage].models:
            ws.run(["revision", "--autogenerate", "-m", "noop"])
    assert tracked_files_state() == before


def test_parallel_cold_starts_agree(private_workspaces):
    """Two processes building the same stage at once (empty cache) both succeed."""
    code = (
        "import workbook, sys; ws = workbook.start(sys.argv[1], 'head', quiet=True); "
        "print(ws.current())"
    )
    env = {**os.environ, "WORKBOOK_WORKSPACES": str(private_workspaces)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, f"p{i}"],
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert outputs == ["['0012']\n", "['0012']\n"]
    assert not list((private_workspaces / ".cache").glob(".*"))  # no half-written files left


def test_active_workspace_before_start(monkeypatch):
    monkeypatch.setattr(workspace_module, "_active", None)
    with pytest.raises(
        WorkspaceError, match=r"no workspace yet: run the first cell \(or workbook.attach"
    ):
        workbook.active_workspace()


def test_absolute_paths_are_shown_relative_to_the_workspace():
    ws = workbook.start("absolute", "0001", quiet=True)
    change = ws.edit(ws.revision_file("0001"), "Initial migration", "First migration")
    assert repr(change).startswith("--- a/alembic/versions/20241209_0730_0001_")
    assert str(ws.path) not in repr(ws.show(ws.path / "alembic.ini", 1, 2))


def test_the_shell_finds_this_environments_alembic():
    workbook.start("shell", "0001", quiet=True)
    result = subprocess.run(
        "alembic current", shell=True, capture_output=True, text=True, env={**os.environ}
    )
    assert result.returncode == 0 and "0001 (head)" in result.stdout


def test_the_database_follows_the_env_file():
    ws = workbook.start("dotenv", "0001", quiet=True)
    ws.write(".env", "DATABASE_URL=sqlite+aiosqlite:///library.db\n")
    assert ws.db_path == ws.path / "library.db"
    with pytest.raises(WorkspaceError, match="no database yet"):
        ws.sql("SELECT 1")
    assert not (ws.path / "library.db").exists()  # looking never creates it
    assert ws.run("upgrade head").ok and ws.current() == ["0001"]
    ws.write(".env", "DATABASE_URL=nonsense\n")
    with pytest.raises(WorkspaceError, match="DATABASE_URL is not a database URL"):
        _ = ws.db_path


def test_a_project_without_models_never_borrows_the_repositorys():
    ws = workbook.start("no_models", "configured", quiet=True)
    result = ws.run("check")
    assert result.error == "ModuleNotFoundError: No module named 'app.models'"


def test_fill_revision_writes_both_bodies_and_keeps_the_docstrings():
    ws = workbook.start("fill", "0001", quiet=True)
    assert ws.run(["revision", "-m", "Add a nickname"]).ok
    change = ws.fill_revision(
        "0002",
        upgrade="""
            with op.batch_alter_table("users") as batch_op:
                batch_op.add_column(sa.Column("nickname", sa.String(50)))
        """,
        downgrade="""
            with op.batch_alter_table("users") as batch_op:
                batch_op.drop_column("nickname")
        """,
    )
    text = ws.read(ws.revision_file("0002"))
    assert (
        '    """Apply migration."""\n    with op.batch_alter_table("users") as batch_op:\n' in text
    )
    assert "auto generated" not in text and "\n\n\ndef downgrade() -> None:" in text
    assert text.endswith('batch_op.drop_column("nickname")\n')
    assert "+        batch_op.add_column" in repr(change)
    assert ws.run("upgrade head").ok and ws.run("downgrade -1").ok
    ws.write("alembic/versions/broken.py", 'revision = "0099"\ndown_revision = "0001"\n')
    with pytest.raises(WorkspaceError, match="no single top-level def upgrade"):
        ws.fill_revision("0099", upgrade="pass")


def test_show_definition_finds_code_by_name():
    ws = workbook.start("definition", "0001", quiet=True)
    shown = repr(ws.show_definition("app/core/database.py", "make_sqlite_transactional"))
    assert "def make_sqlite_transactional(sync_engine: Engine) -> None:" in shown
    assert 'connection.exec_driver_sql("BEGIN")' in shown and "def create_engine" not in shown
    with pytest.raises(WorkspaceError, match="defines no function or class 'nope'"):
        ws.show_definition("app/core/database.py", "nope")


def test_passwords_in_files_are_never_shown():
    ws = workbook.start("secrets", "0001", quiet=True)
    change = ws.write(".env", "DATABASE_URL=postgresql+asyncpg://bob:s3cret@db:5432/books\n")
    shown = repr(change) + change._repr_html_() + repr(ws.show(".env"))
    assert "s3cret" not in shown and "bob:***@db:5432" in shown
    assert "s3cret" in ws.read(".env")  # the file itself is the learner's


def other_kernel(private_workspaces, code: str) -> subprocess.CompletedProcess:
    """``code`` run in another Python process (another kernel) on the same workspaces."""
    env = {
        **os.environ,
        "WORKBOOK_WORKSPACES": str(private_workspaces),
        "PYTHONPATH": str(REPO_ROOT),
    }
    return subprocess.run(
        [sys.executable, "-c", f"import workbook\n{code}"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_earlier_kernels_untouched_workspace_is_rebuilt_without_a_word(
    private_workspaces, capsys
):
    assert other_kernel(private_workspaces, "workbook.start('untouched', '0001')").returncode == 0
    ws = Workspace("untouched", "0001")
    (ws.path / "app" / "__pycache__").mkdir(exist_ok=True)  # bytecode is not the learner's work
    (ws.path / "app" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    workbook.start("untouched", "0001")
    assert (
        capsys.readouterr().out
        == "Workspace 'untouched' is ready: the initial migration applied.\n"
    )
    assert not (private_workspaces / ".previous").exists()


def test_work_attached_to_is_kept_when_the_first_cell_runs_again(private_workspaces, capsys):
    ws = workbook.start("attached", "0001", quiet=True)
    ws.write("notes.txt", "mine")
    workbook.attach("attached")
    workbook.start("attached", "0001", quiet=True)
    assert "the changes made in it since it was built are kept in" in capsys.readouterr().out
    assert (private_workspaces / ".previous" / "attached" / "notes.txt").read_text() == "mine"


def test_a_kernel_lets_go_of_the_workspace_it_leaves(private_workspaces):
    workbook.start("left", "empty", quiet=True)
    refused = other_kernel(private_workspaces, "workbook.start('left', 'empty')")
    assert "is in use by another kernel" in refused.stderr
    workbook.start("next", "empty", quiet=True)
    assert other_kernel(private_workspaces, "workbook.start('left', 'empty')").returncode == 0


def test_a_plain_reset_takes_the_lock_only_while_it_runs(private_workspaces):
    Workspace("plain", "empty").reset()
    assert other_kernel(private_workspaces, "workbook.start('plain', 'empty')").returncode == 0


def test_practice_happens_in_a_workspace_of_its_own_and_use_comes_back(capsys):
    """An exercise's workspace is built apart; the lesson's project is untouched, and
    ``use()`` makes ``%alembic`` act on it again."""
    from workbook.exercises.practice import practice_workspace

    lesson = workbook.start("lesson", stage="0001")
    before = lesson.current()
    own = practice_workspace(lesson, "q1")
    assert own.name == "lesson-q1" and workbook.workspace.active_workspace() is own
    own.alembic("downgrade base")
    assert own.current() == [] and lesson.current() == before == ["0001"]
    assert practice_workspace(own, "q2").name == "lesson-q2"  # never lesson-q1-q2
    capsys.readouterr()
    assert lesson.use() is lesson and workbook.workspace.active_workspace() is lesson
    assert capsys.readouterr().out == "Back in workspace 'lesson'.\n"
    assert Path.cwd() == lesson.path
