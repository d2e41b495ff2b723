"""Chapter 07's exercises on ``stamp`` and on backups (``chapter07`` exports them as ``q2``
and ``q4``).

- ``AdoptWithStamp`` (lesson 07_1, section 3): ``app.db`` was made by
  ``Base.metadata.create_all()`` and holds a user, but no ``alembic_version``. Fixed when
  the database is recorded at head without a migration run (``stamp head``), the user is
  still there, and ``alembic check`` is clean. Typical mistakes: ``upgrade head`` (fails on
  the existing tables), stamping another revision, rebuilding the database (the row is lost).
- ``RestoreFromBackup`` (lesson 07_2, section 5): a migration dropped ``users.bio`` after a
  backup was taken. Fixed when the bios are back from the backup, the database is at 0011
  again, and the code matches it (the revision deleted, ``bio`` back in the model).
  Typical mistake: ``downgrade -1`` (the column comes back empty).

Both work in a workspace of their own, built fresh at ``STAGE`` by ``setup()``.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import sqlalchemy as sa

from workbook.exercises import Correct, Exercise, Incorrect, NotAttempted, Result
from workbook.exercises.checks import new_revision
from workbook.exercises.core import Alembic, Edit, Note, Step, code_cell
from workbook.exercises.inspect import (
    database_file,
    differences,
    differences_message,
    find_revision,
    insert_row,
    models,
    read_only,
    read_write,
    workspace_current,
    workspace_schema,
)
from workbook.exercises.practice import practice_workspace
from workbook.workspace import Workspace

__all__ = ["AdoptWithStamp", "RestoreFromBackup", "sqlite_backup"]

STAGE = "0011"  # where chapter 07 starts
_USER = "app/models/user.py"
LEGACY_EMAIL = "legacy@example.com"


def sqlite_backup(source: Path, target: Path) -> None:
    """Copy the SQLite database ``source`` to ``target`` with SQLite's online backup API
    (a consistent copy, as the lesson's ``backup()``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(source)) as src:
        with contextlib.closing(sqlite3.connect(target)) as dst:
            src.backup(dst)


def _built_by_setup(workspace: Workspace, exercise: str) -> bool:
    return workspace.name.endswith(f"-{exercise}")


def _users(db: Path) -> dict[str, str | None]:
    """email -> bio (None where the column is gone or empty)."""
    with read_only(db) as connection:
        columns = {row[1] for row in connection.exec_driver_sql("PRAGMA table_info(users)")}
        bio = "bio" if "bio" in columns else "NULL"
        rows = connection.exec_driver_sql(f"SELECT email, {bio} FROM users").all()
    return dict(rows)


# == q2: adopt a database with stamp ===========================================================
class AdoptWithStamp(Exercise):
    title = "Adopt a database made without Alembic"
    hints = [
        "`%alembic current` prints no revision: to Alembic this database is empty, although "
        "every table is there. What would `upgrade head` try first?",
        "No migration must run: the tables exist. Which command writes a revision into "
        "alembic_version, and does nothing else? Which revision are these tables?",
        "`%alembic stamp head` (create_all built the tables from the head models), then "
        "`%alembic check` to confirm that the schema really is head.",
    ]
    solution_intro = "Record the revision the tables already are, without running it:"
    solution_steps = [
        Alembic("stamp head"),
        Note("And confirm that the claim is true:"),
        Alembic("check"),
    ]

    def _setup(self, workspace: Workspace) -> str:
        workspace = practice_workspace(workspace, "q2", stage=STAGE)
        db = database_file(workspace)
        db.unlink()
        with models(workspace) as module:
            engine = sa.create_engine(f"sqlite:///{db}")
            try:
                module.Base.metadata.create_all(engine)
            finally:
                engine.dispose()
        with read_write(db) as connection:
            insert_row(
                connection,
                "users",
                {"email": LEGACY_EMAIL, "hashed_password": "x", "display_name": "Legacy"},
            )
        return (
            "app.db is now a database made by `Base.metadata.create_all()`, as before the "
            f"project used Alembic: every table, one user ({LEGACY_EMAIL}), no alembic_version. "
            "Start with `%alembic current`"
        )

    def _check(self, workspace: Workspace, *answer) -> Result:
        if not _built_by_setup(workspace, "q2"):
            return NotAttempted("run `q2.setup()` first: it builds this exercise's workspace.")
        db = database_file(workspace)
        if "users" not in workspace_schema(workspace) or LEGACY_EMAIL not in _users(db):
            return Incorrect(
                f"the user {LEGACY_EMAIL} is gone: the database was rebuilt, not adopted. "
                "Adopting keeps the data; run `q2.setup()` to start over."
            )
        here, heads = workspace_current(workspace), workspace.heads()
        if not here:
            return NotAttempted(
                "alembic_version holds no revision yet: to Alembic the database is empty."
            )
        if here != heads:
            return Incorrect(
                f"alembic_version says {', '.join(here)}, but the tables are those of head "
                f"({', '.join(heads)}): stamp the revision the schema really is."
            )
        found = differences(workspace)
        if found:
            return Incorrect(
                "alembic_version says head, but the models and the database differ: "
                f"{differences_message(found)}."
            )
        return Correct(
            "the database is recorded at head without a migration run, its rows kept, and "
            "`check` agrees: from now on it upgrades like any other."
        )


# == q4: restore from a backup =================================================================
DROP_MESSAGE = "Drop users.bio"
BACKUP = "backups/app-0011.db"
BIOS = {"ada@example.com": "Wrote the first program", "grace@example.com": "Found the first bug"}
_BIO_LINE = "    bio: Mapped[Optional[str]] = mapped_column(Text, default=None)\n"
_PHONE_LINE = "    phone_number: Mapped[Optional[str]] = mapped_column(String(15), default=None)\n"
_DROP_UPGRADE = """\
with op.batch_alter_table('users', schema=None) as batch_op:
    batch_op.drop_column('bio')
"""
_DROP_DOWNGRADE = """\
with op.batch_alter_table('users', schema=None) as batch_op:
    batch_op.add_column(sa.Column('bio', sa.Text(), nullable=True))
"""


class Restore(Step):
    """Copy a backup over the workspace's database (shown as the lesson's ``backup()``)."""

    def __init__(self, backup: str, database: str = "app.db"):
        self.backup, self.database = backup, database

    def render(self) -> str:
        return code_cell(f'backup("{self.backup}", "{self.database}")')

    def apply(self, workspace: Workspace) -> None:
        sqlite_backup(workspace.path / self.backup, workspace.path / self.database)


class DeleteHead(Step):
    """Delete the newest revision script (shown as ``ws.revision_file("head").unlink()``)."""

    def render(self) -> str:
        return code_cell('ws.revision_file("head").unlink()')

    def apply(self, workspace: Workspace) -> None:
        workspace.revision_file("head").unlink()


class RestoreFromBackup(Exercise):
    title = "Restore from a backup"
    hints = [
        'Look first: `ws.current()`, `query("SELECT email, bio FROM users")` fails (no bio '
        f"column), and `{BACKUP}` holds the database as it was before the migration.",
        "`downgrade -1` brings the column back, but empty: a downgrade restores structure, "
        "not data. The backup has the bios, and alembic_version with them.",
        f'`backup("{BACKUP}", "app.db")`; then the code: `ws.revision_file("head").unlink()` '
        "(the revision never reached another database) and the `bio` line back in "
        "app/models/user.py; `%alembic check`.",
    ]
    solution_intro = "The data first: copy the backup over the database."
    solution_steps = [
        Restore(BACKUP),
        Note(
            "The database is at 0011 again, bios included. Now the code: the revision that "
            "drops the column, and the model without it."
        ),
        DeleteHead(),
        Edit(_USER, _PHONE_LINE, _PHONE_LINE + _BIO_LINE),
        Alembic("check"),
    ]

    def _setup(self, workspace: Workspace) -> str:
        workspace = practice_workspace(workspace, "q4", stage=STAGE)
        db = database_file(workspace)
        with read_write(db) as connection:
            for email, bio in BIOS.items():
                insert_row(
                    connection,
                    "users",
                    {"email": email, "hashed_password": "x", "display_name": email, "bio": bio},
                )
        sqlite_backup(db, workspace.path / BACKUP)
        workspace.edit(_USER, _BIO_LINE, "")
        script = new_revision(
            workspace, DROP_MESSAGE, upgrade=_DROP_UPGRADE, downgrade=_DROP_DOWNGRADE, applied=True
        )
        return (
            f"two users with bios, a backup of the database in {BACKUP}, then `bio` out of the "
            f'model and revision {script.revision} ("{DROP_MESSAGE}") applied: the bios are '
            "gone. Bring them back"
        )

    def _check(self, workspace: Workspace, *answer) -> Result:
        if not _built_by_setup(workspace, "q4"):
            return NotAttempted("run `q4.setup()` first: it builds this exercise's workspace.")
        script = find_revision(workspace, DROP_MESSAGE)
        here = workspace_current(workspace)
        table = workspace_schema(workspace).get("users")
        if table is None:
            return Incorrect("the database has no users table: run `q4.setup()` to start over.")
        if "bio" not in table.columns:
            if script is not None and here == [script.revision]:
                return NotAttempted(f"the bios are still gone; the backup is {BACKUP}.")
            return Incorrect(f"users has no bio column: restore {BACKUP}.")
        users = _users(database_file(workspace))
        lost = [email for email, bio in BIOS.items() if users.get(email) != bio]
        if lost:
            return Incorrect(
                f"users.bio is back, but not the bios of {', '.join(lost)}: a downgrade "
                f"restores structure, not data. Restore {BACKUP}."
            )
        if here != [STAGE]:
            return Incorrect(
                f"the bios are back, but alembic_version says {', '.join(here) or 'nothing'}: "
                f"the backup was taken at {STAGE}; restore the whole file."
            )
        if script is not None:
            return Incorrect(
                f'the data is safe, but revision {script.revision} ("{DROP_MESSAGE}") is still '
                "there: the next `upgrade head` drops the bios again. Delete it (it never "
                "reached another database)."
            )
        found = differences(workspace)
        if found:
            return Incorrect(
                "the database is at 0011 with its bios, but the models differ from it: "
                f"{differences_message(found)}. Put `bio` back in app/models/user.py."
            )
        return Correct(
            "the bios are back from the backup, alembic_version with them, and the code "
            "matches the database again."
        )
