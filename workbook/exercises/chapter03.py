"""Chapter 03 · Autogenerate, review, apply: a new column, and a rename autogenerate gets wrong.

Each setup builds a workspace of the exercise's own (``<chapter's workspace>-q1``) at 0001,
where the chapter's project stands once its rename is undone: the chapter's project is not
changed by the practice (chapter 04 starts from it), and running a setup again starts over.
"""

from __future__ import annotations

import sqlalchemy as sa

from workbook.exercises import Correct, Exercise, Incorrect, NotAttempted, Result
from workbook.exercises.checks import (
    READ_THE_HEAD,
    bring_copy,
    built_at,
    revisions_touching,
    set_up_own,
    setup_revision,
)
from workbook.exercises.core import Alembic, Edit, EditRevision, Note
from workbook.exercises.inspect import (
    Scratch,
    find_revision,
    function_source,
    model_column,
    models_match_database,
    source,
    workspace_current,
    workspace_schema,
)
from workbook.exercises.practice import practice_workspace, setup_first
from workbook.workspace import Workspace, WorkspaceError

_BOOK = "app/models/book.py"
_USER = "app/models/user.py"
_DESCRIPTION = "    description: Mapped[Optional[str]] = mapped_column(Text, default=None)\n"
_LANGUAGE = "    language: Mapped[Optional[str]] = mapped_column(String(8), default=None)\n"
# The model change exercise 1 asks for: its solution's first step, which the tests make too.
ADD_LANGUAGE = Edit(_BOOK, _DESCRIPTION, _DESCRIPTION + _LANGUAGE)
# Where the exercises start: the initial migration applied, as chapter 04 starts too.
_STAGE = "0001"


# -- q1: a new column, the whole loop ----------------------------------------------------
class AddLanguage(Exercise):
    title = "Add books.language: model, revision, upgrade"
    hints = [
        "Three steps: change the model, let Alembic write the revision "
        "(`revision --autogenerate`), then apply it (`upgrade`).",
        "Put the new attribute next to `description` in `app/models/book.py` (attributes "
        "with a default go after those without). Then "
        '`%alembic revision --autogenerate -m "Add language to books"`.',
        'Read the new revision (`ws.show_revision("head")`): it should add one column in a '
        "batch block. Apply it with `%alembic upgrade head`; `%alembic check` then says "
        "nothing is left to do.",
    ]
    solution_intro = "Change the model:"
    solution_steps = [
        ADD_LANGUAGE,
        Note("let autogenerate write the migration, and review it:"),
        Alembic('revision --autogenerate -m "Add language to books"'),
        Note("then apply it:"),
        Alembic("upgrade head"),
    ]

    def _setup(self, workspace: Workspace) -> str:
        return set_up_own(workspace, "q1", _STAGE, ", the initial migration applied")

    def _check(self, workspace: Workspace, *answer) -> Result:
        column = model_column(workspace, "books", "language")
        if column is None:
            return NotAttempted(
                "the Book model has no `language` attribute yet." + setup_first(workspace, "q1")
            )
        if (
            not isinstance(column.type, sa.String)
            or isinstance(column.type, sa.Text)
            or column.type.length != 8
        ):
            return Incorrect(
                f"Book.language is {column.type}; the exercise asks for String(8): "
                "`mapped_column(String(8), default=None)`."
            )
        if not column.nullable:
            return Incorrect("Book.language is NOT NULL: use `Mapped[Optional[str]]`.")
        mine = revisions_touching(workspace, "language")
        if not mine:
            return Incorrect(
                "the model has `language`, but no revision adds it yet: "
                "autogenerate a revision, "
                '`%alembic revision --autogenerate -m "Add language to books"`.'
            )
        if workspace_current(workspace) != workspace.heads():
            return Incorrect(
                f"revision {mine[0].revision} adds the column, but the database is "
                "not at head: apply it, `%alembic upgrade head`."
            )
        books = workspace_schema(workspace).get("books")
        found = books.columns.get("language") if books else None
        if found is None:
            return Incorrect(
                "the database is at head but has no books.language: does the "
                "revision's upgrade() add the column?"
            )
        if not isinstance(found["type"], sa.String) or getattr(found["type"], "length", 0) != 8:
            return Incorrect(f"books.language is {found['type']} in the database, not VARCHAR(8).")
        return models_match_database(workspace) or Correct(
            f"books.language is VARCHAR(8) in the database, revision {mine[0].revision} adds "
            "it, and the models and the database agree."
        )


# -- q2: a rename --------------------------------------------------------------------------
RENAME_MESSAGE = "Rename full_name to name"
_AUTOGENERATED_UPGRADE = """\
        batch_op.add_column(sa.Column('name', sa.String(length=255), nullable=True))
        batch_op.drop_column('full_name')"""
_AUTOGENERATED_DOWNGRADE = """\
        batch_op.add_column(sa.Column('full_name', sa.VARCHAR(length=255), nullable=True))
        batch_op.drop_column('name')"""
_RENAMED_UPGRADE = """\
        batch_op.alter_column('full_name', new_column_name='name',
               existing_type=sa.String(length=255), existing_nullable=True)"""
_RENAMED_DOWNGRADE = """\
        batch_op.alter_column('name', new_column_name='full_name',
               existing_type=sa.String(length=255), existing_nullable=True)"""
_ADA = {"email": "ada.checker@example.com", "full_name": "Ada Lovelace"}


def _user_row(scratch: Scratch) -> dict:
    found = scratch.rows("SELECT * FROM users WHERE email = ?", _ADA["email"])
    return dict(found[0]._mapping) if found else {}


class RenameNotDropAdd(Exercise):
    title = "Autogenerate turned a rename into drop + add"
    hints = [
        'Read the revision (`ws.show_revision("head")`): what happens to the names already '
        "stored in `full_name` when it is dropped?",
        "A rename is one operation, `alter_column` with `new_column_name=`. In batch mode "
        "(SQLite) it goes inside the `with op.batch_alter_table('users') as batch_op:` block.",
        "upgrade(): `batch_op.alter_column('full_name', new_column_name='name')`; "
        "downgrade(): `batch_op.alter_column('name', new_column_name='full_name')`, each "
        "replacing its add_column + drop_column pair.",
    ]
    solution_intro = "Replace each add + drop pair by one rename, in upgrade() and in downgrade():"
    solution_steps = [
        EditRevision(_AUTOGENERATED_UPGRADE, _RENAMED_UPGRADE),
        EditRevision(_AUTOGENERATED_DOWNGRADE, _RENAMED_DOWNGRADE),
        Note("Then `%alembic upgrade head`: every user keeps their name."),
    ]

    def _setup(self, workspace: Workspace) -> str:
        workspace = practice_workspace(workspace, "q2", stage=_STAGE)
        before = workspace.read(_USER)
        workspace.edit(
            _USER, "    full_name: Mapped[Optional[str]]", "    name: Mapped[Optional[str]]"
        )
        result = workspace.run(["revision", "--autogenerate", "-m", RENAME_MESSAGE])
        if not result.ok:
            workspace.write(_USER, before)
            raise WorkspaceError(f"autogenerate failed: {result.error}")
        script = find_revision(workspace, RENAME_MESSAGE)
        return (
            f"{built_at(workspace, _STAGE)}; User.full_name "
            f'is now User.name, and revision {script.revision} ("{RENAME_MESSAGE}") is '
            f"autogenerated but not applied. {READ_THE_HEAD}"
        )

    def _check(self, workspace: Workspace, *answer) -> Result:
        script = setup_revision(workspace, RENAME_MESSAGE, "q2", "the autogenerated revision")
        upgrade = function_source(source(script), "upgrade")
        compact = upgrade.replace('"', "'").replace(" ", "")
        if "drop_column('full_name')" in compact and not any(
            word in upgrade.lower() for word in ("alter_column", "execute", "update")
        ):
            return NotAttempted(
                f"revision {script.revision} still drops `full_name` and adds "
                "an empty `name`: every stored name would be lost."
            )
        parent = script.down_revision
        with Scratch(workspace) as scratch:
            bring_copy(scratch, parent, "to test the revision")
            scratch.insert("users", _ADA)
            result = scratch.alembic("upgrade", script.revision)
            if not result.ok:
                return Incorrect(f"the upgrade fails: {result.error}")
            row = _user_row(scratch)
            if "name" not in row:
                return Incorrect("after the upgrade, users has no `name` column.")
            if "full_name" in row:
                return Incorrect(
                    "after the upgrade, users still has `full_name`: rename it "
                    "rather than adding a second column."
                )
            if row["name"] != _ADA["full_name"]:
                return Incorrect(
                    "the upgrade loses the data: a user named 'Ada Lovelace' has "
                    f"name {row['name']!r} afterwards. Use "
                    "batch_op.alter_column('full_name', new_column_name='name')."
                )
            result = scratch.goto(parent)
            if not result.ok:
                return Incorrect(f"the downgrade fails: {result.error}")
            row = _user_row(scratch)
            if row.get("full_name") != _ADA["full_name"]:
                return Incorrect(
                    "the downgrade loses the data: after it, 'Ada Lovelace' is "
                    f"{row.get('full_name')!r} in full_name. Use "
                    "batch_op.alter_column('name', new_column_name='full_name')."
                )
        return Correct("the rename keeps every name, on the way up and on the way down.")


q1 = AddLanguage()
q2 = RenameNotDropAdd()
