"""A private, throwaway copy of the example project for each chapter.

``start("03_autogenerate", stage="models")`` (re)builds ``workspace/03_autogenerate/``
at that stage (see ``workbook.stages``), moves the kernel into it, and makes ``%alembic``
act on it. Nothing outside the workspace folder is ever written or deleted.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from workbook import browser, ownership
from workbook.building import DATABASE_FILE, build
from workbook.display import (  # noqa: F401 - FileChange, SourceView: part of this API
    FileChange,
    SourceView,
    WorkspaceError,
    _reference_config,
    loading_history,
    masked,
    masked_result,
    one_line_errors,
)
from workbook.runner import (
    AlembicCommandError,
    AlembicInterrupted,
    AlembicResult,
    cache_compiled_code,
    run_alembic,
)
from workbook.stages import (
    REPO_ROOT,
    STAGES,
    get_stage,
)
from workbook.text import with_function_body

WORKSPACES_VARIABLE = "WORKBOOK_WORKSPACES"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def workspaces_root() -> Path:
    """``$WORKBOOK_WORKSPACES`` if set (the tests use a temporary one), else ``workspace/``."""
    return Path(os.environ.get(WORKSPACES_VARIABLE) or REPO_ROOT / "workspace").resolve()


def _checked_workspace_path(name: str) -> Path:
    if not _NAME.match(name):
        raise WorkspaceError(
            f"workspace name {name!r} must be letters, digits, '_', '-' or '.', "
            "not a path (e.g. '03_autogenerate')"
        )
    root = workspaces_root()
    forbidden = {Path("/").resolve(), Path.home().resolve(), REPO_ROOT.resolve()}
    if root in forbidden:
        raise WorkspaceError(f"refusing to use {root} as the workspaces folder")
    path = (root / name).resolve()
    if path.parent != root:
        raise WorkspaceError(f"refusing to touch {path}: it is outside the workspaces folder")
    browser.restore_workspace(name)  # in a browser: back from its storage, when first named
    return path


def kernel_files(name: str) -> tuple[Path, Path]:
    """The lock a kernel holds while it uses workspace ``name``, and its recorded state."""
    folder = workspaces_root() / ownership.FOLDER
    return folder / f"{name}.lock", folder / f"{name}.json"


def _stand_somewhere() -> None:
    """Leave a deleted working directory: ``Path.cwd()`` and IPython's traceback display
    both fail in one. The workspaces folder is a safe place to stand."""
    try:
        os.getcwd()
    except FileNotFoundError:
        root = workspaces_root()
        root.mkdir(parents=True, exist_ok=True)
        os.chdir(root)


def _shown(path: Path) -> str:
    """A path as the learner knows it: relative to the repository when inside it."""
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _remove_tree(path: Path) -> None:
    """Delete one workspace, after checking (again) that it is one."""
    root = workspaces_root()
    if path.is_symlink() or path.resolve().parent != root:
        raise WorkspaceError(f"refusing to delete {path}: not a folder inside {root}")
    if path.exists():
        shutil.rmtree(path, onerror=_make_writable_and_retry)


def _make_writable_and_retry(function, path, _error) -> None:
    """Read-only files (git's objects, on Windows) would stop a reset halfway."""
    os.chmod(path, 0o700)
    function(path)


class Workspace:
    """One chapter's project folder: files, database, and the commands that act on them."""

    def __init__(self, name: str, stage: str):
        self.name = name
        try:
            self.stage = get_stage(stage)
        except ValueError as error:
            raise WorkspaceError(str(error)) from None
        self.path = _checked_workspace_path(name)

    def __repr__(self) -> str:
        return f"<Workspace {self.name!r}: {self.stage.summary}>"

    # -- life cycle -------------------------------------------------------------------
    def reset(self) -> Workspace:
        """Throw the folder away and build it again at the stage (also repairs a broken one).

        Refused (WorkspaceError) while another kernel uses the workspace. Work an earlier
        kernel left in it is moved to ``.previous/`` of the workspaces folder (never over an
        earlier copy), and one line says so; an uncommitted write to ``app.db`` gets a warning.
        """
        lock, state_file = kernel_files(self.name)
        held = ownership.holds(lock)
        self.claim()
        try:
            _stand_somewhere()
            cache_compiled_code(self.path)
            inside = Path.cwd().resolve().is_relative_to(self.path)
            if inside:
                os.chdir(workspaces_root())  # never stand in a folder being deleted
            if ownership.has_open_write_transaction(self.path / DATABASE_FILE):
                print(
                    f"Note: {DATABASE_FILE} had uncommitted changes (a sqlite3 connection "
                    "still open, e.g. db = sqlite3.connect(...)): they are discarded with "
                    "the old database; close that connection (db.close())."
                )
            kept = self._keep_earlier_work(ownership.read_state(state_file))
            _remove_tree(self.path)
            build(self.path, self.stage, workspaces_root() / ".cache")
            ownership.write_state(
                state_file,
                stage=self.stage.name,
                built_by=os.getpid(),
                built=ownership.built_state(self.path),
            )
            if kept:
                print(
                    f"Workspace {self.name!r} was rebuilt at stage {self.stage.name}; the "
                    f"changes made in it since it was built are kept in {_shown(kept)} (after a "
                    f"restart, ws = workbook.attach({self.name!r}) continues instead)."
                )
            if inside:
                os.chdir(self.path)  # a kernel that was in the workspace stays in it
        finally:
            if not held and (_active is None or _active.name != self.name):
                ownership.release(lock)
        return self

    def claim(self) -> None:
        """Hold this workspace for this kernel; WorkspaceError if another kernel has it."""
        lock, state_file = kernel_files(self.name)
        if ownership.holds(lock):
            return
        if ownership.claim(lock):
            ownership.write_state(state_file, owner=os.getpid())
            return
        owner = ownership.read_state(state_file).get("owner", "?")
        raise WorkspaceError(
            f"workspace {self.name!r} is in use by another kernel (process {owner}), and is "
            "left as it is: shut that kernel down (Kernel > Shut Down Kernel in its "
            "notebook), or use another name here, e.g. "
            f"workbook.start({self.name + '-2'!r}, stage={self.stage.name!r})"
        )

    def _keep_earlier_work(self, state: dict) -> Path | None:
        """Move the folder aside when it holds changes made by another (earlier) kernel."""
        if not self.path.is_dir() or self.path.is_symlink():
            return None
        if state.get("built_by") == os.getpid() and self.name not in _attached:
            return None  # this kernel's own work: rebuilding it is what the first cell does
        return ownership.keep_if_changed(self.path, state, workspaces_root() / ".previous")

    def use(self) -> Workspace:
        """Make ``%alembic`` act on this workspace again, as it is on disk (after an
        exercise worked in a workspace of its own). WorkspaceError (one line) when another
        kernel has it or its folder is gone."""
        self.claim()
        self._require_folder()
        _activate(self)
        print(f"Back in workspace {self.name!r}.")
        return self

    def _require_folder(self) -> None:
        if not self.path.is_dir():
            raise WorkspaceError(
                f"the workspace folder {_shown(self.path)} is gone (deleted?): run the "
                "chapter's first cell to build it again"
            )

    # -- alembic ----------------------------------------------------------------------
    def alembic(self, line: str | list[str]) -> AlembicResult:
        """Run ``alembic <line>`` in this workspace, show its output, raise on failure.
        Output is masked before it is shown, an interrupted command's too."""
        _stand_somewhere()
        self._require_folder()
        try:
            result = masked_result(run_alembic(self.path, line))
        except AlembicInterrupted as interrupted:
            masked_result(interrupted.result).show()
            raise
        result.show()
        if result.error:
            raise AlembicCommandError(result.error, result.details)
        return result

    def run(self, line: str | list[str]) -> AlembicResult:
        """Like :meth:`alembic` but quiet and never raising: for checks and tools."""
        _stand_somewhere()
        try:
            self._require_folder()
        except WorkspaceError as error:
            return AlembicResult([], 1, [], str(error))
        return masked_result(run_alembic(self.path, line))

    @property
    def ini_path(self) -> Path:
        return self.path / "alembic.ini"

    @property
    def db_path(self) -> Path:
        """The SQLite file env.py migrates: DATABASE_URL of the environment or ``.env``."""
        self._require_folder()
        try:
            url = _reference_config().get_settings(root=self.path).database_url
        except ValueError as error:  # ConfigError: the learner's .env says something odd
            raise WorkspaceError(str(error)) from None
        if url.get_backend_name() != "sqlite" or not url.database:
            raise WorkspaceError(f"this workspace's database is not a SQLite file ({masked(url)})")
        return Path(url.database)

    @property
    def sync_url(self) -> str:
        """A plain (sync) SQLAlchemy URL of the workspace database, for inspecting it."""
        return f"sqlite:///{self.db_path}"

    def script_directory(self) -> ScriptDirectory:
        self._require_folder()
        return ScriptDirectory.from_config(Config(str(self.ini_path)))

    def heads(self) -> list[str]:
        with loading_history():
            return sorted(self.script_directory().get_heads())

    def current(self) -> list[str]:
        """The revisions recorded in ``alembic_version`` (empty before the first upgrade)."""
        if not self.db_path.exists():
            return []
        try:
            with contextlib.closing(sqlite3.connect(self.db_path)) as connection:
                rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.Error:  # no version table (yet), or not a database
            return []
        return sorted(row[0] for row in rows)

    def revision_file(self, revision: str) -> Path:
        """The script of ``revision`` (an id, a unique prefix, or 'head')."""
        with loading_history():
            scripts = self.script_directory()
            try:
                script = scripts.get_revision(revision)
            except CommandError as error:  # alembic raises for an unknown id
                known = [s.revision for s in scripts.walk_revisions()]
                if any(rev.startswith(str(revision)) for rev in known):
                    raise WorkspaceError(f"revision {revision!r}: {error}") from None
                script = None
        if script is None:
            heads = ", ".join(sorted(scripts.get_heads())) or "no revisions yet"
            raise WorkspaceError(
                f"no revision {revision!r} in this workspace (its history "
                f"ends at {heads}): run the cells that make it first"
            )
        return Path(script.path)

    # -- pictures and data --------------------------------------------------------------
    def schema(self, tables: list[str] | None = None):
        """The database's tables as text and as an ER diagram."""
        from workbook import views

        with one_line_errors(ValueError, FileNotFoundError):
            return views.schema(self._existing_database_url(), tables=tables)

    def snapshot(self):
        """The schema now, to compare with a later one: ``views.schema_diff(before, after)``."""
        from workbook import views

        with one_line_errors(ValueError, FileNotFoundError):
            return views.snapshot_schema(self._existing_database_url())

    def graph(self):
        """The revision graph: heads, branch and merge points, where the database is."""
        from workbook import views

        with loading_history():
            return views.revision_graph(self.script_directory(), current=self.current())

    def rows(self, table: str, limit: int = 20, order_by: str | None = None):
        from workbook import views

        with one_line_errors(ValueError, FileNotFoundError):
            return views.rows(self._existing_database_url(), table, limit=limit, order_by=order_by)

    def sql(self, statement: str, **params) -> int:
        """Run one SQL statement on the workspace database; returns the rows it changed."""
        self._existing_database_url()
        with contextlib.closing(sqlite3.connect(self.db_path)) as connection:
            try:
                with connection:  # commits, or rolls back on error
                    return connection.execute(statement, params).rowcount
            except sqlite3.Error as error:
                raise WorkspaceError(f"the SQL failed: {type(error).__name__}: {error}") from None

    def _existing_database_url(self) -> str:
        if not self.db_path.exists():
            raise WorkspaceError("no database yet: run %alembic upgrade head first")
        return self.sync_url

    # -- files --------------------------------------------------------------------------
    def file(self, relative: str | Path) -> Path:
        """A path inside the workspace; refuses ``..`` and absolute paths outside it."""
        self._require_folder()
        path = (self.path / relative).resolve()
        if not path.is_relative_to(self.path):
            raise WorkspaceError(f"{relative} is outside the workspace")
        return path

    def read(self, relative: str | Path) -> str:
        path = self.file(relative)
        if not path.is_file():
            raise WorkspaceError(
                f"{path.relative_to(self.path)}: no such file in this "
                "workspace (yet): run the cells that make it first"
            )
        return path.read_text()

    def write(self, relative: str | Path, text: str) -> FileChange:
        """Write a file of the workspace and return what changed (shown as a diff)."""
        path = self.file(relative)
        before = path.read_text() if path.exists() else ""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return FileChange(str(path.relative_to(self.path)), before, text)

    def edit(self, relative: str | Path, old: str, new: str) -> FileChange:
        """Replace the one occurrence of ``old`` by ``new`` in a workspace file.

        Already done (``new``, a line or 20 characters at least, is there and ``old`` is not,
        outside it): nothing changes and the change shows ``unchanged``, so a solution can
        be run again after a partial attempt. WorkspaceError (one line) when ``old`` is
        missing or not unique.
        """
        text = self.read(relative)
        name = str(self.file(relative).relative_to(self.path))
        count = text.count(old)
        distinctive = "\n" in new or len(new) >= 20  # not a word found anywhere
        if (
            distinctive
            and new in text
            and (
                count == 0
                or (old in new and text.count(new) == 1 and text.replace(new, "").count(old) == 0)
            )
        ):
            return FileChange(name, text, text)
        if count != 1:
            if count:
                where = f"found {count} times"
            elif distinctive:
                where = (
                    "not found, and the new text is not there either: put back what your "
                    "own edit changed there, then run this edit again"
                )
            else:  # a short or empty new text says nothing about whether this ran before
                where = (
                    "not found: if this cell ran before, the edit is made and there is "
                    f"nothing to do (ws.show({name!r}) shows the file); if not, put back "
                    "what your own edit changed there, then run it again"
                )
            raise WorkspaceError(f"{name}: the text to replace was {where}")
        return self.write(relative, text.replace(old, new))

    def fill_revision(
        self, revision: str, upgrade: str | None = None, downgrade: str | None = None
    ) -> FileChange:
        """Write the bodies of ``upgrade()`` and ``downgrade()`` of a revision script.

        For hand-written migrations: ``%alembic revision -m "..."`` makes the file, this
        fills it in (and shows the diff). The functions' docstrings are kept.
        """
        path = self.revision_file(revision)
        text = path.read_text()
        for name, body in (("upgrade", upgrade), ("downgrade", downgrade)):
            if body is not None:
                try:
                    text = with_function_body(text, name, body)
                except ValueError as error:
                    raise WorkspaceError(str(error)) from None
        return self.write(path, text)

    def show(self, relative: str | Path, start: int = 1, end: int | None = None) -> SourceView:
        """A file of the workspace (or some of its lines), for reading in the notebook."""
        path = self.file(relative)
        lines = self.read(path).splitlines()
        return SourceView(str(path.relative_to(self.path)), lines[start - 1 : end], start)

    def show_definition(self, relative: str | Path, name: str) -> SourceView:
        """The function or class ``name`` of a Python file (found by name, not line number)."""
        import ast

        tree = ast.parse(self.read(relative))
        for node in ast.walk(tree):
            if (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and node.name == name
            ):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                return self.show(relative, first, node.end_lineno)
        raise WorkspaceError(f"{relative} defines no function or class {name!r}")

    def show_revision(self, revision: str) -> SourceView:
        return self.show(self.revision_file(revision))

    def tree(self) -> SourceView:
        """The workspace's files, like ``tree``: what the project is made of."""
        skip = {"__pycache__", ".ipynb_checkpoints"}
        lines = []
        for path in sorted(self.path.rglob("*")):
            relative = path.relative_to(self.path)
            if skip & set(relative.parts):
                continue
            depth = len(relative.parts) - 1
            lines.append("    " * depth + relative.name + ("/" if path.is_dir() else ""))
        return SourceView(f"{self.name}/", lines, 1, numbered=False)


# -- the notebook side ------------------------------------------------------------------
_active: Workspace | None = None
_attached: set[str] = set()  # workspaces this kernel took over as they were (attach)
last_error: str = ""  # the full traceback of the last failed %alembic command
# Variables that would point a chapter's commands at another database (app.core.config).
_OTHER_DATABASE = {"DATABASE_URL": None, "ENVIRONMENT": "test"}


def _no_workspace_message() -> str:
    """What to do before any workspace: the first cell, or attach to this notebook's one."""
    session = Path(os.environ.get("JPY_SESSION_NAME", "")).stem  # the notebook's name
    name = session if session and _NAME.match(session) else ""
    if name and (workspaces_root() / name).is_dir():
        return (
            f"no workspace yet: run the first cell (or ws = project = "
            f"workbook.attach({name!r}) to continue where you were)"
        )
    return (
        "no workspace yet: run the first cell (or workbook.attach(...) to continue where you were)"
    )


def active_workspace() -> Workspace:
    if _active is None:
        raise WorkspaceError(_no_workspace_message())
    return _active


def start(
    name: str, stage: str, *, quiet: bool = False, returns_to: str | None = None
) -> Workspace:
    """Give this chapter a fresh workspace at ``stage`` and make ``%alembic`` act on it.

    Always the chapter's own database: a ``DATABASE_URL`` (or ``ENVIRONMENT=test``) left in
    the kernel's environment is removed, in one line. Raises WorkspaceError (one line) for
    an unknown stage or a workspace another kernel uses; see :meth:`Workspace.reset`.
    ``returns_to``: the workspace this kernel comes back to with ``use()`` (an exercise's
    lesson): it stays this kernel's meanwhile, so no other kernel rebuilds it.
    """
    _stand_somewhere()
    workspace = Workspace(name, stage)
    workspace.claim()
    _use_chapter_database()
    workspace.reset()
    _attached.discard(name)
    _activate(workspace, returns_to)
    if not quiet:
        print(f"Workspace {name!r} is ready: {workspace.stage.summary}.")
    return workspace


def attach(name: str) -> Workspace:
    """Continue with workspace ``name`` as it is on disk: after a kernel restart, instead
    of the first cell (which rebuilds it). WorkspaceError when there is none to attach to,
    or another kernel uses it."""
    _stand_somewhere()
    path = _checked_workspace_path(name)
    stage = ownership.read_state(kernel_files(name)[1]).get("stage")
    if not path.is_dir() or stage not in STAGES:
        raise WorkspaceError(
            f"no workspace {name!r} to continue: run the chapter's first cell to build it"
        )
    workspace = Workspace(name, stage)
    workspace.claim()
    _use_chapter_database()
    _attached.add(name)
    _activate(workspace)
    try:
        current = f"the database is at {', '.join(workspace.current()) or 'no revision'}"
    except WorkspaceError:  # .env points elsewhere: %alembic current will say where
        current = "its .env names another database"
    print(
        f"Workspace {name!r} as you left it (built at stage {stage}, {current}); the "
        "first cell would rebuild it."
    )
    return workspace


def _activate(workspace: Workspace, returns_to: str | None = None) -> None:
    global _active
    _active = workspace
    kept = (kernel_files(name)[0] for name in (workspace.name, returns_to) if name)
    ownership.release_all_except(*kept)
    os.chdir(workspace.path)  # relative paths, %%writefile and !alembic work as in a terminal
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"  # keep __pycache__ out of `!alembic` runs too
    _put_python_first_on_path()
    _register_magics()


def _use_chapter_database() -> None:
    """Remove what would send this chapter's commands to another database, and say so."""
    removed = []
    for variable, only_value in _OTHER_DATABASE.items():
        value = os.environ.get(variable, "").strip()
        if variable in os.environ and (only_value is None or value == only_value):
            del os.environ[variable]
            if value:
                removed.append(f"{variable}={masked(value)}")
    if removed:
        print(
            f"Removed {' and '.join(removed)} from this kernel's environment: this "
            f"chapter's commands use its own database ({DATABASE_FILE} in the workspace)."
        )


def _put_python_first_on_path() -> None:
    """`!alembic` must find this environment's alembic, even when PATH does not (CI)."""
    scripts = str(Path(sys.executable).parent)
    entries = os.environ.get("PATH", "").split(os.pathsep)
    if entries[:1] != [scripts]:
        os.environ["PATH"] = os.pathsep.join([scripts, *[e for e in entries if e != scripts]])


def alembic_magic(line: str) -> None:
    """%alembic <arguments>: the alembic command line, run in the active workspace."""
    global last_error
    _stand_somewhere()
    try:
        active_workspace().alembic(line)
    except AlembicCommandError as error:
        last_error = error.details or error.message
        raise


def _check_working_directory(*_info) -> None:
    """Before each cell: a deleted working directory (the workspace folder removed from
    the file browser, say) breaks every later cell, even IPython's error display."""
    try:
        os.getcwd()
    except FileNotFoundError:
        _stand_somewhere()
        print(
            f"The folder this kernel was in is gone; now in {_shown(Path.cwd())}. If it "
            "was the workspace, run the chapter's first cell to build it again."
        )


def _register_magics(shell=None) -> None:
    """``%alembic``, and the working-directory check, in this IPython shell (if any)."""
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython else None
    if shell is not None:
        shell.register_magic_function(alembic_magic, "line", "alembic")
        if _check_working_directory not in shell.events.callbacks["pre_run_cell"]:
            shell.events.register("pre_run_cell", _check_working_directory)
