"""Chapter 07 · Rollback and recovery: roll back, adopt with stamp, recover, restore a backup.

Lesson 07_1 has q1 and q2 (``recovery.AdoptWithStamp``); lesson 07_2 has q3 and q4
(``recovery.RestoreFromBackup``).

- q1: bring the database down to 0005 (the revision that added publishers) in one
  downgrade, keeping the rows of the tables 0005 already had. Typical mistakes: one
  ``downgrade -1``, going through ``base`` (every row lost), ``stamp 0005`` (the version
  table says 0005, the tables are still those of head), deleting revision scripts.
- q3: ``q3.setup()`` runs a migration with a non-transactional env.py (like the guide's)
  and lets it fail halfway: a column that stuck, a leftover ``_alembic_tmp_books`` table,
  ``alembic_version`` unchanged. The learner cleans up, fixes the migration, upgrades.

Every exercise works in a workspace of its own (``<lesson's workspace>-qN``, built fresh
at ``STAGE`` by its setup): the lesson's project is where the next lesson starts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from workbook.exercises import Correct, Exercise, Incorrect, NotAttempted, Result
from workbook.exercises.checks import new_revision, setup_revision
from workbook.exercises.core import Alembic, EditRevision, Note, Problem, Sql
from workbook.exercises.inspect import (
    CheckedTable as TableInfo,
)
from workbook.exercises.inspect import (
    Scratch,
    database_file,
    differences,
    differences_message,
    function_source,
    insert_row,
    read_only,
    read_write,
    source,
    workspace_current,
    workspace_schema,
)
from workbook.exercises.practice import practice_workspace
from workbook.exercises.recovery import STAGE, AdoptWithStamp, RestoreFromBackup
from workbook.stages import REPO_ROOT, stage_revision_files
from workbook.workspace import Workspace, WorkspaceError

TMP_PREFIX = "_alembic_tmp_"
_BOOK = "app/models/book.py"


def _scalar(db: Path, sql: str, *params) -> object:
    with read_only(db) as connection:
        return connection.exec_driver_sql(sql, params).scalar()


def _row_counts(db: Path) -> dict[str, int]:
    with read_only(db) as connection:
        names = [
            name
            for (name,) in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {
            name: connection.exec_driver_sql(f'SELECT count(*) FROM "{name}"').scalar()
            for name in names
        }


def _ancestors(workspace: Workspace, revisions: list[str]) -> set[str]:
    """``revisions`` and everything below them."""
    if not revisions:
        return set()
    script = workspace.script_directory()
    return {rev.revision for rev in script.iterate_revisions(revisions, "base")}


# -- q1: roll back to a named revision ------------------------------------------------------
TARGET = "0005"
_PUBLISHER = "Checker Press"
_BOOK_TITLE = "The Checker's Atlas"
_USER_EMAIL = "q1.checker@example.com"


def _markers(db: Path) -> dict[str, bool]:
    """Which of the rows q1.setup() adds are in the database."""
    found = {"publisher": False, "book": False, "user": False}
    if not db.exists():
        return found
    queries = {
        "publisher": ("SELECT count(*) FROM publishers WHERE name = ?", _PUBLISHER),
        "book": ("SELECT count(*) FROM books WHERE title = ?", _BOOK_TITLE),
        "user": ("SELECT count(*) FROM users WHERE email = ?", _USER_EMAIL),
    }
    with read_only(db) as connection:
        tables = {
            name
            for (name,) in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
        for key, (sql, value) in queries.items():
            table = sql.split(" FROM ")[1].split()[0]
            if table in tables:
                found[key] = bool(connection.exec_driver_sql(sql, (value,)).scalar())
    return found


def _reference_scripts_changed(workspace: Workspace) -> list[str]:
    """Reference revisions of ``STAGE`` whose script is missing from the workspace, or edited."""
    versions = workspace.path / "alembic" / "versions"
    changed = []
    for reference in stage_revision_files(STAGE):
        mine = versions / reference.name
        if not mine.exists() or mine.read_text() != reference.read_text():
            changed.append(reference.name.split("_")[2])
    return changed


def _shape(tables: dict[str, TableInfo]) -> dict[str, tuple[set[str], set[str]]]:
    """Per table: its columns and the names of its indexes (alembic_version left out)."""
    return {
        name: (set(table.columns), {ix["name"] for ix in table.indexes})
        for name, table in tables.items()
        if name != "alembic_version"
    }


def _shape_differences(mine: dict, expected: dict) -> list[str]:
    found = []
    for name in sorted(set(mine) - set(expected)):
        found.append(f"table {name} should not exist at {TARGET}")
    for name in sorted(set(expected) - set(mine)):
        found.append(f"table {name} is missing")
    for name in sorted(set(mine) & set(expected)):
        columns, indexes = mine[name]
        want_columns, want_indexes = expected[name]
        extra = f"should not exist at {TARGET}"
        found += [f"{name}.{c} {extra}" for c in sorted(columns - want_columns)]
        found += [f"{name}.{c} is missing" for c in sorted(want_columns - columns)]
        found += [f"index {i} {extra}" for i in sorted(indexes - want_indexes)]
        found += [f"index {i} is missing" for i in sorted(want_indexes - indexes)]
    return found


class RollBackToNamedRevision(Exercise):
    title = "Roll back to a named revision"
    hints = [
        "`%alembic history` lists the revisions: the one that added publishers is "
        f"{TARGET}. A downgrade can take a revision id as its target, not only -1.",
        "`downgrade -1` goes one step back (and refuses to step over a merge: Ambiguous "
        "walk). Going through `base` drops every table, rows included. And `stamp` only "
        "rewrites alembic_version: it runs no migration.",
        f"`%alembic downgrade {TARGET}`: it runs every downgrade above {TARGET}, newest first, "
        "and the tables that already existed at "
        f"{TARGET} keep their rows.",
    ]
    solution_intro = "Name the target revision:"
    solution_steps = [
        Alembic(f"downgrade {TARGET}"),
        Note(
            f"`%alembic current` now says {TARGET}. `%alembic upgrade head` brings the "
            "database back up; the columns dropped on the way come back empty."
        ),
    ]

    def _setup(self, workspace: Workspace) -> str:
        workspace = practice_workspace(workspace, "q1", stage=STAGE)  # fresh, at head
        db = database_file(workspace)
        heads = workspace.heads()
        with read_write(db) as connection:
            insert_row(connection, "publishers", {"name": _PUBLISHER})
            publisher_id = connection.exec_driver_sql(
                "SELECT id FROM publishers WHERE name = ?", (_PUBLISHER,)
            ).scalar()
            insert_row(
                connection,
                "books",
                {"title": _BOOK_TITLE, "author": "A. Checker", "publisher_id": publisher_id},
            )
            insert_row(
                connection,
                "users",
                {"email": _USER_EMAIL, "hashed_password": "x", "display_name": "Q1 Checker"},
            )
        return (
            f"added the publisher {_PUBLISHER!r}, its book {_BOOK_TITLE!r} and the user "
            f"{_USER_EMAIL}; the database is at {', '.join(heads)} (head)"
        )

    def _check(self, workspace: Workspace, *answer) -> Result:
        changed = _reference_scripts_changed(workspace)
        if changed:
            raise Problem(
                f"revision script(s) {', '.join(changed)} were deleted or edited: a "
                "rollback moves the database, never the scripts. To start over, run "
                "`q1.setup()` again (it rebuilds this exercise's workspace)."
            )
        db = database_file(workspace)
        here, heads = workspace_current(workspace), workspace.heads()
        markers = _markers(db)
        if here == heads:
            if not all(markers.values()):
                return NotAttempted(
                    "run `q1.setup()` first (it adds the rows to keep), then "
                    f"roll the database back to {TARGET}."
                )
            return NotAttempted(f"the database is still at head ({', '.join(heads)}).")
        if not here:
            return Incorrect(
                f"the database is at base (empty): that is past {TARGET}, and "
                "every row went with the tables. `%alembic upgrade head`, "
                f"`q1.setup()` again, then one `%alembic downgrade {TARGET}`."
            )
        if here != [TARGET]:
            below = _ancestors(workspace, [TARGET])
            where = ", ".join(here)
            if set(here) <= below:
                return Incorrect(
                    f"the database is at {where}, below {TARGET}: you went too "
                    f"far. `%alembic upgrade {TARGET}` brings it back up."
                )
            parents = set()
            for head in heads:
                down = workspace.script_directory().get_revision(head).down_revision
                parents |= {down} if isinstance(down, str) else set(down or ())
            if set(here) == parents:
                return Incorrect(
                    f"the database is at {where}: `downgrade -1` undoes only the "
                    f"newest revision. Name the target instead: "
                    f"`%alembic downgrade {TARGET}`."
                )
            return Incorrect(
                f"the database is at {where}, still above {TARGET}: `%alembic downgrade {TARGET}`."
            )
        with Scratch(workspace) as scratch:
            scratch.db.unlink(missing_ok=True)
            built = scratch.alembic("upgrade", TARGET)
            if not built.ok:
                return Incorrect(
                    f"could not build a fresh database at {TARGET} to compare "
                    f"with yours: {built.error}"
                )
            expected = _shape(scratch.schema())
        found = _shape_differences(_shape(workspace_schema(workspace)), expected)
        if found:
            return Incorrect(
                f"alembic_version says {TARGET}, but the tables are not those of "
                f"{TARGET}: {differences_message(found)}. Did you `stamp`? It "
                "only rewrites alembic_version and runs no migration. "
                f"`%alembic stamp head`, then `%alembic downgrade {TARGET}`."
            )
        if not all(markers.values()):
            lost = ", ".join(key for key, present in markers.items() if not present)
            return Incorrect(
                f"the database is at {TARGET} with the right tables, but rows are "
                f"gone ({lost}): did you go through base? That drops every "
                f"table. `%alembic upgrade head`, `q1.setup()` again, then one "
                f"`%alembic downgrade {TARGET}`."
            )
        return Correct(
            f"the database is at {TARGET}, its tables are exactly those of {TARGET}, "
            "the publisher, book and user are still there, and every later revision "
            "is still in alembic/versions, ready for `upgrade head`."
        )


# -- q3: recover a half-applied migration -----------------------------------------------------
SLUG_MESSAGE = "Add books.slug"
_START_OVER = "To start over, run `q3.setup()` again (it rebuilds this exercise's workspace)"
LEFTOVER = f"{TMP_PREFIX}books"
_PUBLISHER_ID = (
    '        ForeignKey("publishers.id", ondelete="SET NULL"), index=True, default=None\n    )\n'
)
_SLUG = "    slug: Mapped[Optional[str]] = mapped_column(String(300), unique=True, default=None)\n"
_BROKEN_SLUG = "lower(replace(title, ' ', '-'))"
_FIXED_SLUG = "lower(replace(title, ' ', '-')) || '-' || id"
_BROKEN_BACKFILL = f'op.execute("UPDATE books SET slug = {_BROKEN_SLUG}")'
_SLUG_UPGRADE = f"""\
# 1. The column, nullable for now.
with op.batch_alter_table('books', schema=None) as batch_op:
    batch_op.add_column(sa.Column('slug', sa.String(length=300), nullable=True))

# 2. Slugs are unique (a new constraint: SQLite recreates the table).
with op.batch_alter_table('books', schema=None) as batch_op:
    batch_op.create_unique_constraint(batch_op.f('uq_books_slug'), ['slug'])

# 3. Backfill: a slug from the title.
{_BROKEN_BACKFILL}
"""
_SLUG_DOWNGRADE = """\
with op.batch_alter_table('books', schema=None) as batch_op:
    batch_op.drop_constraint(batch_op.f('uq_books_slug'), type_='unique')
    batch_op.drop_column('slug')
"""
_DUNES = [
    {"title": "Dune", "author": "Frank Herbert", "published_date": dt.date(1965, 8, 1)},
    {"title": "Dune", "author": "Frank Herbert", "published_date": dt.date(2005, 8, 2)},
]

# The guide's env.py as far as transactions go: its own async engine, no transactional
# setup for SQLite. (The URL comes from app.core.config rather than load_dotenv(), which
# would leave DATABASE_URL in the kernel's environment.)
NON_TRANSACTIONAL_ENV = '''\
"""The guide's env.py, as far as transactions go (written by chapter 07's q3.setup()).

No transactional setup for SQLite: each DDL statement sent outside a transaction is
committed at once. q3.setup() puts the project's env.py back right after using it.
"""
import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from app.core.config import get_settings
from app.models import Base

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = Base.metadata


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = async_engine_from_config({"sqlalchemy.url": get_settings().database_url},
                                      prefix="sqlalchemy.", poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


asyncio.run(run_async_migrations())
'''


class RecoverHalfAppliedMigration(Exercise):
    title = "Recover a half-applied migration"
    hints = [
        "Look before you touch anything: `ws.schema()` warns about a leftover table, and shows "
        "what else the failed run left behind; `ws.current()` says what alembic_version "
        'holds; `ws.show_revision("head")` shows the migration.',
        f"Two things stuck: the leftover `{LEFTOVER}` (check that books still holds its rows, "
        "then drop it) and the column that step 1 added: books.slug is already there, so a "
        "retry fails with `duplicate column name`. "
        '`ws.sql("ALTER TABLE books DROP COLUMN slug")` undoes it.',
        "Then the bug: two books are both called Dune, so step 3 gives them the same slug. "
        "Append the id to make every slug unique: "
        "`lower(replace(title, ' ', '-')) || '-' || id`. Then `%alembic upgrade head` (env.py "
        "is the transactional one again: a failure now leaves nothing behind).",
    ]
    solution_intro = (
        "First look: `ws.schema()` shows the leftover `_alembic_tmp_books` and a "
        "books table that already has `slug`. books still holds its rows, so the "
        "leftover copy can go, and so can the column step 1 added:"
    )
    solution_steps = [
        Sql(f"DROP TABLE {LEFTOVER}"),
        Sql("ALTER TABLE books DROP COLUMN slug"),
        Note("Fix the backfill: two books share a title, so the slug gets the id appended:"),
        EditRevision(_BROKEN_SLUG, _FIXED_SLUG),
        Alembic("upgrade head"),
    ]
    solution_outro = (
        "`%alembic check` then finds nothing to do, and every book has its own "
        "slug: the two Dunes get `dune-` followed by their id."
    )

    def __init__(self) -> None:
        super().__init__()
        self._baselines: dict[Path, dict[str, int]] = {}  # row counts when setup ran

    def _setup(self, workspace: Workspace) -> str:
        workspace = practice_workspace(workspace, "q3", stage=STAGE)  # fresh, at head
        db = database_file(workspace)
        with read_write(db) as connection:
            for row in _DUNES:
                insert_row(connection, "books", row)
        workspace.edit(_BOOK, _PUBLISHER_ID, _PUBLISHER_ID + _SLUG)
        script = new_revision(
            workspace, SLUG_MESSAGE, upgrade=_SLUG_UPGRADE, downgrade=_SLUG_DOWNGRADE
        )
        previous = ", ".join(workspace_current(workspace))
        self._baselines[workspace.path] = _row_counts(db)
        env = workspace.file("alembic/env.py")
        try:
            workspace.write(env, NON_TRANSACTIONAL_ENV)
            result = workspace.run(["upgrade", "head"])
        finally:
            workspace.write(env, (REPO_ROOT / "alembic" / "env.py").read_text())
        if result.ok or LEFTOVER not in workspace_schema(workspace):
            raise WorkspaceError(
                f"the migration did not fail halfway as planned ({result.error or 'it succeeded'})"
            )
        return (
            f"added two books called Dune, the model attribute Book.slug, and revision "
            f'{script.revision} ("{SLUG_MESSAGE}"); ran `alembic upgrade head` with a '
            f"non-transactional env.py, like the guide's. It failed: {result.error}. "
            f"alembic_version still says {previous}. env.py is the project's (atomic) one "
            "again. Start with ws.schema()"
        )

    def _check(self, workspace: Workspace, *answer) -> Result:
        script = setup_revision(
            workspace, SLUG_MESSAGE, "q3", "the half-applied migration to recover from"
        )
        db = database_file(workspace)
        tables = workspace_schema(workspace)
        leftovers = sorted(name for name in tables if name.startswith(TMP_PREFIX))
        upgrade = function_source(source(script), "upgrade")
        if leftovers and _BROKEN_BACKFILL in upgrade:
            return NotAttempted(
                f"the workspace is as q3.setup() left it: {leftovers[0]} is "
                "still there, and the migration is unchanged. Start with "
                "ws.schema()."
            )
        if leftovers:
            return Incorrect(
                f"the leftover table {leftovers[0]} is still there: check that "
                f"{leftovers[0][len(TMP_PREFIX) :]} holds its rows, then "
                f'`ws.sql("DROP TABLE {leftovers[0]}")`.'
            )
        here, heads = workspace_current(workspace), workspace.heads()
        where = ", ".join(here) or "base"
        if here != heads:
            books = tables.get("books")
            if books is not None and "slug" in books.columns and script.revision not in here:
                return Incorrect(
                    f"books already has slug, but alembic_version says {where}: "
                    "step 1 of the migration (ADD COLUMN) stuck when it failed, "
                    "so a retry fails with `duplicate column name: slug`. Undo it "
                    'first: `ws.sql("ALTER TABLE books DROP COLUMN slug")`.'
                )
            with Scratch(workspace) as scratch:
                trial = scratch.alembic("upgrade", "heads")
            if trial.ok:
                return Incorrect(
                    f"the database is clean but still at {where}: run `%alembic upgrade head`."
                )
            if "UNIQUE constraint failed: books.slug" in (trial.error or ""):
                return Incorrect(
                    f"the database is clean again, still at {where}, but the "
                    "migration still fails: UNIQUE constraint failed: books.slug. "
                    "Two books share a title: make each slug unique (append the "
                    "id), then `%alembic upgrade head`."
                )
            return Incorrect(
                f"the database is at {where}, not at head, and `upgrade head` fails: {trial.error}"
            )
        baseline = self._baselines.get(workspace.path)
        counts = _row_counts(db)
        if baseline is not None:
            for table, before in sorted(baseline.items()):
                if table in counts and counts[table] != before:
                    return Incorrect(
                        f"{table} had {before} rows when the migration failed and "
                        f"has {counts[table]} now: a recovery must keep every row. "
                        f"{_START_OVER}."
                    )
        if (_scalar(db, "SELECT count(*) FROM books WHERE title = 'Dune'") or 0) < 2:
            return Incorrect(
                f"one of the two Dune books is gone: a recovery must keep every row. {_START_OVER}."
            )
        if "slug" in tables.get("books", TableInfo("books")).columns:
            empty = _scalar(db, "SELECT count(*) FROM books WHERE slug IS NULL") or 0
            if empty:
                return Incorrect(
                    f"{empty} book(s) have no slug: the backfill did not run. "
                    "(`stamp` records a revision without running it.) Fill them "
                    "through the migration: stamp back to "
                    f"{script.down_revision}, undo what is there, fix, upgrade."
                )
        found = differences(workspace)
        if found:
            return Incorrect(
                "the database is at head, but the models and the database "
                f"differ (as `%alembic check` would say): "
                f"{differences_message(found)}. (`stamp head` only writes "
                "alembic_version: it does not finish a migration.)"
            )
        return Correct(
            f"no leftover table, revision {script.revision} is applied in full "
            "(every book has its own slug), every row is still there, and the "
            "models agree with the database."
        )


q1 = RollBackToNamedRevision()
q2 = AdoptWithStamp()
q3 = RecoverHalfAppliedMigration()
q4 = RestoreFromBackup()
