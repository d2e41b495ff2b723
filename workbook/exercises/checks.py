"""Small helpers checkers and setups share, so that each message is written once.

The ``require_*``, ``bring_copy`` and ``fresh_copy`` helpers raise
:class:`~workbook.exercises.core.Problem` with a one-line message; ``Exercise.result``
turns it into ``Incorrect(message)``, so a check still never raises at the learner.
``setup_revision`` and ``require_written`` raise its
:class:`~workbook.exercises.core.NotStarted`, shown as ``NotAttempted(message)``. A
checklist part catches ``Problem`` and shows the message as its own line instead.
"""

from __future__ import annotations

from alembic.script import Script

from workbook.exercises.core import REBUILD, NotStarted, Problem, Step, code_cell
from workbook.exercises.inspect import (
    Scratch,
    TableInfo,
    does_nothing,
    find_revision,
    function_source,
    learner_revisions,
    mentions,
    run_or_fail,
    source,
    workspace_schema,
)
from workbook.exercises.practice import practice_workspace
from workbook.workspace import DATABASE_FILE, Workspace, WorkspaceError, active_workspace

__all__ = [
    "READ_THE_HEAD",
    "FillRevision",
    "already_done",
    "bring_copy",
    "built_at",
    "fresh_copy",
    "new_revision",
    "rebuild",
    "require_table",
    "require_written",
    "revisions_touching",
    "set_up_own",
    "setup_revision",
    "start_over",
]


def rebuild(what: str) -> Problem:
    """A Problem to raise when ``what`` ("the database has no books table") is gone from
    the workspace: the learner rebuilds it from the chapter's first cell."""
    return Problem(f"{what}: {REBUILD}.")


def require_table(workspace: Workspace, table: str, column: str | None = None) -> TableInfo:
    """The database's ``table`` (and its ``column``, when given); Problem when missing."""
    found = workspace_schema(workspace).get(table)
    if found is None:
        raise rebuild(f"the database has no {table} table")
    if column is not None and column not in found.columns:
        raise rebuild(f"the database has no {table}.{column}")
    return found


def bring_copy(scratch: Scratch, revision: str | None, purpose: str = "to test it") -> None:
    """Upgrade or downgrade the scratch copy's database to ``revision`` (None: base).

    Problem, naming ``purpose`` ("to test the revision"), when alembic cannot get there.
    """
    moved = scratch.goto(revision)
    if not moved.ok:
        raise Problem(
            f"could not bring a copy of the database to {revision or 'base'} "
            f"{purpose}: {moved.error}"
        )


def fresh_copy(scratch: Scratch, revision: str | None, purpose: str = "to test it") -> None:
    """Give the scratch copy a new database, brought from nothing to ``revision`` (None:
    left empty) by upgrades alone: a starting point that no downgrade under test has
    touched (going down with ``bring_copy`` runs the learner's downgrade, whose result is
    no reference).

    Problem, naming ``purpose`` ("to test revision 0007"), when the upgrade fails.
    """
    for file in scratch.db.parent.glob(f"{DATABASE_FILE}*"):  # app.db, its -journal, -wal
        file.unlink()
    if revision is None:
        return
    moved = scratch.alembic("upgrade", revision)
    if not moved.ok:
        raise Problem(f"could not build a new database at {revision} {purpose}: {moved.error}")


def downgrade_drops(
    scratch: Scratch, target: str, table: str, column: str, step: str, left: str
) -> None:
    """Bring the scratch copy down to ``target`` and require ``table.column`` gone.

    Problem: "<step> fails: <error>" when the downgrade fails ("the downgrade",
    "`downgrade 0011`"), ``left`` when the column is still there.
    """
    moved = scratch.goto(target)
    if not moved.ok:
        raise Problem(f"{step} fails: {moved.error}")
    if column in scratch.schema()[table].columns:
        raise Problem(left)


def revisions_touching(workspace: Workspace, name: str, bare: bool = False) -> list[Script]:
    """The learner's revisions whose ``upgrade()`` names ``name``, newest first.

    ``name`` counts in quotes (``'slug'``), or also as a bare word with ``bare``.
    """
    return [
        script
        for script in learner_revisions(workspace)
        if mentions(function_source(source(script), "upgrade"), name, bare=bare)
    ]


def setup_revision(
    workspace: Workspace, message: str, exercise: str, made: str = "the revision to fix"
) -> Script:
    """The revision ``message`` that ``exercise``'s setup makes (``exercise``: "q2").

    NotStarted, ``run `q2.setup()` first: it makes <made>.``, when there is none.
    """
    script = find_revision(workspace, message)
    if script is None:
        raise NotStarted(f"run `{exercise}.setup()` first: it makes {made}.")
    return script


def require_written(script: Script, function: str, missing: str) -> None:
    """NotStarted when ``function`` ("downgrade") of ``script`` is still only ``pass``:
    ``downgrade() of revision 0002 is still `pass`: <missing>.``"""
    if does_nothing(source(script), function):
        raise NotStarted(f"{function}() of revision {script.revision} is still `pass`: {missing}.")


# What a setup note calls the workspace ``practice_workspace`` built, in every chapter.
OWN_WORKSPACE = "this exercise's own: `ws` and `%alembic` act on it now"


def built_at(workspace: Workspace, at: str) -> str:
    """A setup note's start: ``workspace 'x-q1' (this exercise's own: ...) was built at 0001``
    (``at``: a stage or revision)."""
    return f"workspace {workspace.name!r} ({OWN_WORKSPACE}) was built at {at}"


# A setup note's pointer to the revision it made.
READ_THE_HEAD = 'Read it: ws.show_revision("head")'


def start_over(exercise: str) -> str:
    """A setup note's end: ``Run `q1.setup()` again to start over`` (``exercise``: "q1")."""
    return f"Run `{exercise}.setup()` again to start over"


def set_up_own(workspace: Workspace, exercise: str, stage: str, detail: str = "") -> str:
    """The whole setup of an exercise that starts from a stage as it is: its own workspace
    at ``stage`` (``practice_workspace``, made active), and the note that says so,
    ``workspace 'x-q1' (...) was built at 0001<detail>. Run `q1.setup()` again to start over``."""
    own = practice_workspace(workspace, exercise, stage=stage)
    return f"{built_at(own, stage)}{detail}. {start_over(exercise)}"


def already_done(workspace: Workspace, message: str) -> str | None:
    """A setup's note when the revision ``message`` it makes exists already, else None."""
    existing = find_revision(workspace, message)
    if existing is None:
        return None
    return f'already done: revision {existing.revision} ("{message}") exists'


def new_revision(
    workspace: Workspace,
    message: str,
    *options: str,
    upgrade: str | None = None,
    downgrade: str | None = None,
    applied: bool = False,
) -> Script:
    """``alembic revision -m message *options``, its functions filled with the bodies given
    (``Workspace.fill_revision``), and with ``applied`` the database upgraded to it. A
    failure stops the setup (WorkspaceError)."""
    run_or_fail(workspace, "revision", "-m", message, *options)
    script = find_revision(workspace, message)
    workspace.fill_revision(script.revision, upgrade=upgrade, downgrade=downgrade)
    if applied:
        run_or_fail(workspace, "upgrade", script.revision)
    return script


class FillRevision(Step):
    """Write the bodies of downgrade() (and upgrade(), if given) of the revision with
    ``message`` (``ws.fill_revision``)."""

    def __init__(self, message: str, downgrade: str, upgrade: str | None = None):
        self.message, self.downgrade, self.upgrade = message, downgrade, upgrade

    def _revision(self, workspace: Workspace) -> str:
        script = find_revision(workspace, self.message)
        if script is None:
            raise WorkspaceError(f'no revision "{self.message}": run the setup first')
        return script.revision

    def render(self) -> str:
        try:  # the real id when there is a workspace (it may not be the head any more)
            revision = self._revision(active_workspace())
        except Exception:
            revision = "head"
        upgrade = "" if self.upgrade is None else f"upgrade='''\n{self.upgrade.rstrip()}\n''', "
        downgrade = f"downgrade='''\n{self.downgrade.rstrip()}\n'''"
        return code_cell(f"ws.fill_revision({revision!r}, {upgrade}{downgrade})")

    def apply(self, workspace: Workspace) -> None:
        workspace.fill_revision(
            self._revision(workspace), upgrade=self.upgrade, downgrade=self.downgrade
        )
