"""A private, throwaway copy of the example project for each chapter.

``start("03_autogenerate", stage="models")`` (re)builds ``workspace/03_autogenerate/``
at that stage (see ``workbook.stages``), moves the kernel into it, and makes ``%alembic``
act on it. Nothing outside the workspace folder is ever written or deleted.
"""

from __future__ import annotations

import difflib
import hashlib
import html
import os
import re
import shutil
import sqlite3
import sys
import textwrap
from pathlib import Path

import alembic
import sqlalchemy
from alembic.config import Config
from alembic.script import ScriptDirectory

from workbook.runner import AlembicCommandError, AlembicResult, cache_compiled_code, run_alembic
from workbook.stages import (
    ALEMBIC_FILES,
    APP_FILES,
    REPO_ROOT,
    UNCHANGED_MODEL_FILES,
    Stage,
    get_stage,
)

WORKSPACES_VARIABLE = "WORKBOOK_WORKSPACES"
DATABASE_FILE = "app.db"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _reference_config():
    """The project's own configuration code (``app/core/config.py``), loaded privately.

    The same rules env.py follows, without touching ``sys.modules["app"]`` (which may
    be the workspace's own package while a chapter runs).
    """
    import importlib.util

    name = "workbook._reference_config"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, REPO_ROOT / "app" / "core" / "config.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class WorkspaceError(Exception):
    """A workspace request that cannot be done; one line, no traceback in a notebook."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31mWorkspaceError:\x1b[0m {self}"]


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
    return path


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


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _revision_files(revision: str) -> list[Path]:
    """The reference revision scripts from ``revision`` down to base."""
    cache_compiled_code(REPO_ROOT / "alembic")
    script = ScriptDirectory.from_config(Config(str(REPO_ROOT / "alembic.ini")))
    return sorted(Path(rev.path) for rev in script.iterate_revisions(revision, "base"))


def _populate(path: Path, stage: Stage) -> None:
    """Write the project files of ``stage`` into an empty folder ``path``."""
    path.mkdir(parents=True)
    for relative in APP_FILES:
        _copy(REPO_ROOT / relative, path / relative)
    (path / ".env").write_text(f"DATABASE_URL=sqlite+aiosqlite:///{DATABASE_FILE}\n")
    if stage.alembic:
        for relative in ALEMBIC_FILES:
            _copy(REPO_ROOT / relative, path / relative)
        (path / "alembic" / "versions").mkdir(exist_ok=True)
    if stage.models is not None:
        models = path / "app" / "models"
        own = stage.model_files()
        for name in UNCHANGED_MODEL_FILES:  # final form = form at every stage that has them
            if name not in own and _imports_model(own["__init__.py"], name):
                _copy(REPO_ROOT / "app" / "models" / name, models / name)
        for name, source in own.items():
            _copy(source, models / name)
    if stage.revision is not None:
        for source in _revision_files(stage.revision):
            _copy(source, path / "alembic" / "versions" / source.name)


def _imports_model(init: Path, file_name: str) -> bool:
    """A model file is part of a stage when the stage's ``app/models/__init__`` imports it."""
    return f"app.models.{file_name.removesuffix('.py')} import" in init.read_text()


def _fingerprint(path: Path) -> str:
    """What the stage's database depends on: every file copied, and the library versions."""
    digest = hashlib.sha256(f"{alembic.__version__} {sqlalchemy.__version__}".encode())
    for file in sorted(p for p in path.rglob("*") if p.is_file() and p.name != DATABASE_FILE):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _stage_database(path: Path, stage: Stage) -> None:
    """Put the stage's database into ``path``: from the cache, or built once and cached."""
    cache = workspaces_root() / ".cache"
    cached = cache / f"{stage.name}-{_fingerprint(path)}.db"
    if not cached.exists():
        cache.mkdir(parents=True, exist_ok=True)
        result = run_alembic(path, ["upgrade", stage.revision])
        if not result.ok:
            raise WorkspaceError(f"building stage {stage.name!r} failed: {result.error}")
        partial = cache / f".{cached.name}.{os.getpid()}"
        shutil.copyfile(path / DATABASE_FILE, partial)
        os.replace(partial, cached)  # atomic: parallel kernels never see half a file
    else:
        shutil.copyfile(cached, path / DATABASE_FILE)


class Workspace:
    """One chapter's project folder: files, database, and the commands that act on them."""

    def __init__(self, name: str, stage: str):
        self.name = name
        self.stage = get_stage(stage)
        self.path = _checked_workspace_path(name)

    def __repr__(self) -> str:
        return f"<Workspace {self.name!r}: {self.stage.summary}>"

    # -- life cycle -------------------------------------------------------------------
    def reset(self) -> "Workspace":
        """Throw the folder away and build it again at the stage (also repairs a broken one)."""
        cache_compiled_code(self.path)
        inside = Path.cwd().resolve().is_relative_to(self.path)
        if inside:
            os.chdir(workspaces_root().parent)  # never stand in a folder being deleted
        _remove_tree(self.path)
        _populate(self.path, self.stage)
        if self.stage.revision is not None:
            _stage_database(self.path, self.stage)
        if inside:
            os.chdir(self.path)  # a kernel that was in the workspace stays in it
        return self

    # -- alembic ----------------------------------------------------------------------
    def alembic(self, line: str | list[str]) -> AlembicResult:
        """Run ``alembic <line>`` in this workspace, show its output, raise on failure."""
        result = run_alembic(self.path, line, show=True)
        if result.error:
            raise AlembicCommandError(result.error, result.details)
        return result

    def run(self, line: str | list[str]) -> AlembicResult:
        """Like :meth:`alembic` but quiet and never raising: for checks and tools."""
        return run_alembic(self.path, line)

    @property
    def ini_path(self) -> Path:
        return self.path / "alembic.ini"

    @property
    def db_path(self) -> Path:
        """The SQLite file env.py migrates: DATABASE_URL of the environment or ``.env``."""
        try:
            url = _reference_config().get_settings(root=self.path).database_url
        except ValueError as error:  # ConfigError: the learner's .env says something odd
            raise WorkspaceError(str(error)) from None
        if url.get_backend_name() != "sqlite" or not url.database:
            raise WorkspaceError(f"this workspace's database is not a SQLite file "
                                 f"({url.render_as_string(hide_password=True)})")
        return Path(url.database)

    @property
    def sync_url(self) -> str:
        """A plain (sync) SQLAlchemy URL of the workspace database, for inspecting it."""
        return f"sqlite:///{self.db_path}"

    def script_directory(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(Config(str(self.ini_path)))

    def heads(self) -> list[str]:
        return sorted(self.script_directory().get_heads())

    def current(self) -> list[str]:
        """The revisions recorded in ``alembic_version`` (empty before the first upgrade)."""
        if not self.db_path.exists():
            return []
        with sqlite3.connect(self.db_path) as connection:
            try:
                rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
            except sqlite3.OperationalError:
                return []
        return sorted(row[0] for row in rows)

    def revision_file(self, revision: str) -> Path:
        """The script of ``revision`` (an id, a unique prefix, or 'head')."""
        script = self.script_directory().get_revision(revision)
        if script is None:
            raise WorkspaceError(f"no revision {revision!r} in this workspace")
        return Path(script.path)

    # -- pictures and data --------------------------------------------------------------
    def schema(self, tables: list[str] | None = None):
        """The database's tables as text and as an ER diagram."""
        from workbook import views

        return views.schema(self.sync_url, tables=tables)

    def snapshot(self):
        """The schema now, to compare with a later one: ``views.schema_diff(before, after)``."""
        from workbook import views

        return views.snapshot_schema(self.sync_url)

    def graph(self):
        """The revision graph: heads, branch and merge points, where the database is."""
        from workbook import views

        return views.revision_graph(self.script_directory(), current=self.current())

    def rows(self, table: str, limit: int = 20, order_by: str | None = None):
        from workbook import views

        return views.rows(self.sync_url, table, limit=limit, order_by=order_by)

    def sql(self, statement: str, **params) -> int:
        """Run one SQL statement on the workspace database; returns the rows it changed."""
        if not self.db_path.exists():
            raise WorkspaceError("no database yet: run %alembic upgrade head first")
        with sqlite3.connect(self.db_path) as connection:
            return connection.execute(statement, params).rowcount

    # -- files --------------------------------------------------------------------------
    def file(self, relative: str | Path) -> Path:
        """A path inside the workspace; refuses ``..`` and absolute paths outside it."""
        path = (self.path / relative).resolve()
        if not path.is_relative_to(self.path):
            raise WorkspaceError(f"{relative} is outside the workspace")
        return path

    def read(self, relative: str | Path) -> str:
        return self.file(relative).read_text()

    def write(self, relative: str | Path, text: str) -> "FileChange":
        """Write a file of the workspace and return what changed (shown as a diff)."""
        path = self.file(relative)
        before = path.read_text() if path.exists() else ""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return FileChange(str(path.relative_to(self.path)), before, text)

    def edit(self, relative: str | Path, old: str, new: str) -> "FileChange":
        """Replace the one occurrence of ``old`` by ``new`` in a workspace file."""
        text = self.read(relative)
        count = text.count(old)
        if count != 1:
            where = "not found" if count == 0 else f"found {count} times"
            raise WorkspaceError(f"{relative}: the text to replace was {where}")
        return self.write(relative, text.replace(old, new))

    def fill_revision(self, revision: str, upgrade: str | None = None,
                      downgrade: str | None = None) -> "FileChange":
        """Write the bodies of ``upgrade()`` and ``downgrade()`` of a revision script.

        For hand-written migrations: ``%alembic revision -m "..."`` makes the file, this
        fills it in (and shows the diff). The functions' docstrings are kept.
        """
        path = self.revision_file(revision)
        text = path.read_text()
        for name, body in (("upgrade", upgrade), ("downgrade", downgrade)):
            if body is not None:
                text = _with_function_body(text, name, body)
        return self.write(path, text)

    def show(self, relative: str | Path, start: int = 1, end: int | None = None) -> "SourceView":
        """A file of the workspace (or some of its lines), for reading in the notebook."""
        path = self.file(relative)
        lines = path.read_text().splitlines()
        return SourceView(str(path.relative_to(self.path)), lines[start - 1:end], start)

    def show_definition(self, relative: str | Path, name: str) -> "SourceView":
        """The function or class ``name`` of a Python file (found by name, not line number)."""
        import ast

        tree = ast.parse(self.read(relative))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                    and node.name == name:
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                return self.show(relative, first, node.end_lineno)
        raise WorkspaceError(f"{relative} defines no function or class {name!r}")

    def show_revision(self, revision: str) -> "SourceView":
        return self.show(self.revision_file(revision))

    def tree(self) -> "SourceView":
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


def _with_function_body(source: str, name: str, body: str) -> str:
    """``source`` with the body of top-level ``def name(...)`` replaced by ``body``."""
    lines = source.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith(f"def {name}(")]
    if len(starts) != 1:
        raise WorkspaceError(f"the script has no single top-level def {name}()")
    first = end = starts[0] + 1
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith((" ", "\t"))):
        end += 1
    while end > first and not lines[end - 1].strip():  # keep the blank lines after it
        end -= 1
    docstring = lines[first:first + 1] if lines[first].strip().startswith('"""') else []
    code = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"
    return "".join(lines[:first] + docstring + [code] + lines[end:])


_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]+@")


def masked(text: str) -> str:
    """``scheme://user:secret@host`` -> ``scheme://user:***@host``: files are shown, never
    the passwords in them."""
    return _URL_PASSWORD.sub(r"\1***@", text)


class FileChange:
    """A file edit, displayed as a unified diff (plain text, or coloured HTML)."""

    def __init__(self, name: str, before: str, after: str):
        self.name, self.before, self.after = name, before, after
        self.diff = list(difflib.unified_diff(
            masked(before).splitlines(), masked(after).splitlines(),
            f"a/{name}", f"b/{name}", lineterm="", n=1,
        ))

    def __repr__(self) -> str:
        if not self.diff:
            return f"{self.name}: unchanged"
        return "\n".join(self.diff)

    def _repr_html_(self) -> str:
        if not self.diff:
            return f"<pre>{html.escape(self.name)}: unchanged</pre>"
        colours = {"+": "#e6ffec", "-": "#ffebe9", "@": "#ddf4ff"}
        rows = []
        for line in self.diff:
            colour = colours.get(line[:1], "transparent")
            if line.startswith(("+++", "---")):
                colour = "#f6f8fa"
            rows.append(f'<div style="background:{colour}">{html.escape(line) or "&nbsp;"}</div>')
        return ('<pre style="font-size:0.85em;line-height:1.35">' + "".join(rows) + "</pre>")


class SourceView:
    """Lines of a file, numbered, as text (tests, plain viewers) and as HTML."""

    def __init__(self, name: str, lines: list[str], first: int, numbered: bool = True):
        self.name, self.lines, self.first, self.numbered = name, lines, first, numbered

    def _rendered(self) -> list[str]:
        lines = [masked(line) for line in self.lines]
        if not self.numbered:
            return lines
        width = len(str(self.first + len(self.lines)))
        return [f"{n:>{width}} | {line}" for n, line in enumerate(lines, self.first)]

    def __repr__(self) -> str:
        return "\n".join([f"# {self.name}", *self._rendered()])

    def _repr_html_(self) -> str:
        body = html.escape("\n".join(self._rendered()))
        return (f'<div style="font-size:0.85em"><b>{html.escape(self.name)}</b>'
                f'<pre style="line-height:1.35">{body}</pre></div>')


# -- the notebook side ------------------------------------------------------------------
_active: Workspace | None = None
last_error: str = ""  # the full traceback of the last failed %alembic command


def active_workspace() -> Workspace:
    if _active is None:
        raise WorkspaceError("no workspace yet: run workbook.start(...) in the first cell")
    return _active


def start(name: str, stage: str, *, quiet: bool = False) -> Workspace:
    """Give this chapter a fresh workspace at ``stage`` and make ``%alembic`` act on it."""
    global _active
    workspace = Workspace(name, stage).reset()
    _active = workspace
    os.chdir(workspace.path)  # relative paths, %%writefile and !alembic work as in a terminal
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"  # keep __pycache__ out of `!alembic` runs too
    _put_python_first_on_path()
    _register_magics()
    if not quiet:
        print(f"Workspace {name!r} is ready: {workspace.stage.summary}.")
    return workspace


def _put_python_first_on_path() -> None:
    """`!alembic` must find this environment's alembic, even when PATH does not (CI)."""
    scripts = str(Path(sys.executable).parent)
    entries = os.environ.get("PATH", "").split(os.pathsep)
    if entries[:1] != [scripts]:
        os.environ["PATH"] = os.pathsep.join([scripts, *[e for e in entries if e != scripts]])


def alembic_magic(line: str) -> None:
    """%alembic <arguments>: the alembic command line, run in the active workspace."""
    global last_error
    try:
        active_workspace().alembic(line)
    except AlembicCommandError as error:
        last_error = error.details or error.message
        raise


def _register_magics() -> None:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    if shell is not None:
        shell.register_magic_function(alembic_magic, "line", "alembic")
