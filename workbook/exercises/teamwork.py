"""Chapter 08's practice exercise on migration tests (``chapter08`` exports it as ``q2``).

``FixTheDowngrade`` (lesson 08_1, section 3): a teammate's revision adds ``books.subtitle``
and its ``downgrade()`` does nothing, so pytest-alembic's up/down consistency test fails.
Fixed when the downgrade drops the column again: on a copy of the database, the revision
goes down (``subtitle`` gone) and up again, and the database itself is at head. It works
in a workspace of its own, built fresh at the head stage by ``setup()``.
"""

from __future__ import annotations

from workbook.exercises import Correct, Exercise, Incorrect, NotAttempted, Result
from workbook.exercises.checks import downgrade_drops, new_revision
from workbook.exercises.core import Alembic, EditRevision, Note
from workbook.exercises.inspect import (
    Scratch,
    does_nothing,
    find_revision,
    source,
    workspace_current,
)
from workbook.exercises.practice import practice_workspace
from workbook.workspace import Workspace

__all__ = ["FixTheDowngrade"]

MESSAGE = "Add books.subtitle"
_BOOK = "app/models/book.py"
_LANGUAGE = "    language: Mapped[Optional[str]] = mapped_column(String(10), default=None)\n"
_SUBTITLE = "    subtitle: Mapped[Optional[str]] = mapped_column(String(255), default=None)\n"
_UPGRADE = """\
with op.batch_alter_table('books', schema=None) as batch_op:
    batch_op.add_column(sa.Column('subtitle', sa.String(length=255), nullable=True))
"""
EMPTY_DOWNGRADE = "pass  # the column is nullable: harmless to keep"
_DROP = (
    "with op.batch_alter_table('books', schema=None) as batch_op:\n"
    "        batch_op.drop_column('subtitle')"
)


class FixTheDowngrade(Exercise):
    title = "Fix the downgrade the fourth test catches"
    hints = [
        "Run the four tests of section 3 on this workspace (`for test in ALL_TESTS: ...`): "
        'which one fails, and at which revision? `ws.show_revision("head")` shows it.',
        "The downgrade must undo the upgrade: after `downgrade`, `books.subtitle` must be "
        "gone, or the next `upgrade` adds a column that exists.",
        "In `downgrade()`, replace the `pass` with a batch block that drops the column: "
        "`with op.batch_alter_table('books', schema=None) as batch_op:` and "
        "`batch_op.drop_column('subtitle')`. Then try the round trip: `%alembic downgrade -1`, "
        "`%alembic upgrade head`.",
    ]
    solution_intro = "The downgrade drops what the upgrade added:"
    solution_steps = [
        EditRevision(EMPTY_DOWNGRADE, _DROP),
        Note("The fourth test's round trip, by hand:"),
        Alembic("downgrade -1"),
        Alembic("upgrade head"),
    ]

    def _setup(self, workspace: Workspace) -> str:
        workspace = practice_workspace(workspace, "q2", stage="head")
        workspace.edit(_BOOK, _LANGUAGE, _LANGUAGE + _SUBTITLE)
        script = new_revision(
            workspace, MESSAGE, upgrade=_UPGRADE, downgrade=EMPTY_DOWNGRADE, applied=True
        )
        return (
            f'a teammate\'s revision {script.revision} ("{MESSAGE}") is applied; its '
            "downgrade() does nothing. Find the test that catches it"
        )

    def _check(self, workspace: Workspace, *answer) -> Result:
        if not workspace.name.endswith("-q2"):
            return NotAttempted("run `q2.setup()` first: it builds this exercise's workspace.")
        script = find_revision(workspace, MESSAGE)
        if script is None:
            return Incorrect(
                f'the revision "{MESSAGE}" is gone: fix its downgrade instead. Run '
                "`q2.setup()` to start over."
            )
        if does_nothing(source(script), "downgrade"):
            return NotAttempted(
                f"revision {script.revision}'s downgrade() still does nothing: the up/down "
                "consistency test fails on it."
            )
        parent = script.down_revision
        with Scratch(workspace) as scratch:
            moved = scratch.goto(script.revision)
            if not moved.ok:
                return Incorrect(f"`upgrade {script.revision}` fails: {moved.error}")
            downgrade_drops(
                scratch,
                parent,
                "books",
                "subtitle",
                f"`downgrade {parent}`",
                f"after `downgrade {parent}`, books.subtitle is still there: the next "
                "upgrade would add a column that exists.",
            )
            up = scratch.alembic("upgrade", script.revision)
            if not up.ok:
                return Incorrect(f"after the downgrade, `upgrade` fails: {up.error}")
        if workspace_current(workspace) != workspace.heads():
            return Incorrect("the fix works; now bring the database back: `%alembic upgrade head`.")
        return Correct(
            f"revision {script.revision} goes down and up again: the fourth test passes, and "
            "the database is at head."
        )
