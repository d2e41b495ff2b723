"""Chapter 02 · Models: a new model, and a model autogenerate cannot see.

Both exercises work in a workspace of their own (``02_models-qN``, built at the stage
``models``: the lesson's models as it writes them), so that the lesson's project ends
with exactly the models lesson 03 starts from.
"""

from __future__ import annotations

import importlib
import sys

import sqlalchemy as sa

from workbook.exercises import Correct, Exercise, Incorrect, NotAttempted, Result
from workbook.exercises.core import Edit, Note, Problem, Write
from workbook.exercises.inspect import models
from workbook.exercises.practice import practice_workspace
from workbook.text import one_line
from workbook.workspace import Workspace

_INIT = "app/models/__init__.py"
_STAGE = "models"  # the lesson's models, as the lesson ends with them
_USER_IMPORT = "from app.models.user import User\n"


def _built(workspace: Workspace) -> str:
    return f"workspace {workspace.name!r} holds the lesson's models and is active"


def _tables_in(module) -> list[sa.Table]:
    """The tables of the mapped classes defined in ``module``."""
    found = []
    for value in vars(module).values():
        table = getattr(value, "__table__", None)
        if (
            isinstance(value, type)
            and value.__module__ == module.__name__
            and isinstance(table, sa.Table)
        ):
            found.append(table)
    return found


def _import_model(module_name: str, table: str) -> tuple[bool, list[sa.Table]]:
    """Whether ``app.models.<module_name>`` was imported already (by ``app.models``), and
    the tables named ``table`` it maps, once imported. Problem when it does not import."""
    name = f"app.models.{module_name}"
    imported = name in sys.modules
    try:
        module = importlib.import_module(name)
    except Exception as error:
        raise Problem(f"app/models/{module_name}.py does not import: {one_line(error)}") from None
    return imported, [t for t in _tables_in(module) if t.name == table]


def _references(column: sa.Column) -> list[str]:
    return [fk.target_fullname for fk in column.foreign_keys]


# -- q1: a Review model ------------------------------------------------------------------
REVIEW_PY = '''\
"""Reviews: a user's rating of a book, with an optional text."""

from typing import Optional

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    rating: Mapped[int]
    body: Mapped[Optional[str]] = mapped_column(Text, default=None)
'''

# Review's columns that are not keys: (name, type, nullable, what to say when the type is
# wrong, what to say when the nullability is wrong).
_PLAIN_COLUMNS = [
    (
        "rating",
        sa.Integer,
        False,
        "not an integer: `Mapped[int]`",
        "`rating` is nullable: every review has a rating. Use "
        "`Mapped[int]`, not `Mapped[Optional[int]]`.",
    ),
    (
        "body",
        sa.Text,
        True,
        "not Text: `mapped_column(Text, ...)`",
        "`body` is NOT NULL: a review may have no text. Use "
        "`Mapped[Optional[str]]` with `default=None`.",
    ),
]


class ReviewModel(Exercise):
    title = "Add a Review model"
    hints = [
        "Copy the shape of `app/models/book.py`: a class deriving from `Base` (from "
        "`app.models.base`), `__tablename__`, and `Mapped[...]` attributes.",
        "`Mapped[int]` is NOT NULL, `Mapped[Optional[str]]` is nullable. Foreign keys: "
        '`mapped_column(ForeignKey("books.id", ondelete="CASCADE"))`; a Text column: '
        "`mapped_column(Text, default=None)`.",
        "Alembic only sees models that are imported when `app.models` is: add "
        "`from app.models.review import Review` to `app/models/__init__.py`. With the "
        "dataclass Base, attributes with a default come after those without.",
    ]
    solution_intro = "Write the model:"
    solution_steps = [
        Write("app/models/review.py", REVIEW_PY),
        Note("and import it where Alembic's env.py will find it:"),
        Edit(_INIT, _USER_IMPORT, "from app.models.review import Review\n" + _USER_IMPORT),
        Note("`%alembic check` (in a workspace with a database) now reports the new table."),
    ]

    def _setup(self, workspace: Workspace) -> str:
        workspace = practice_workspace(workspace, "q1", stage=_STAGE)
        return f"{_built(workspace)}; run `q1.setup()` again to start over"

    def _check(self, workspace: Workspace, *answer) -> Result:
        if not workspace.file("app/models/review.py").exists():
            if not workspace.name.endswith("-q1"):
                return NotAttempted(
                    "run `q1.setup()` first: it gives the exercise a workspace of its own."
                )
            return NotAttempted("there is no `app/models/review.py` yet.")
        with models(workspace) as package:
            metadata = package.Base.metadata
            if "reviews" not in metadata.tables:
                return self._missing_table(package)
            try:
                package.Base.registry.configure()
            except Exception as error:
                return Incorrect(f"the models do not map: {one_line(error, workspace.path)}")
            return self._check_table(metadata.tables["reviews"])

    @staticmethod
    def _missing_table(package) -> Result:
        imported, tables = _import_model("review", "reviews")
        if not tables:
            return Incorrect(
                'app/models/review.py defines no model with `__tablename__ = "reviews"`.'
            )
        if tables[0].metadata is not package.Base.metadata:
            return Incorrect(
                "Review uses its own Base: import Base from app.models.base, so "
                "the table is in the `Base.metadata` Alembic compares."
            )
        if not imported:
            return Incorrect(
                "Review is defined but not imported in app/models/__init__.py: "
                "Alembic only sees imported models. Add "
                "`from app.models.review import Review`."
            )
        return Incorrect("`reviews` is not in Base.metadata.")  # pragma: no cover

    @staticmethod
    def _check_table(table: sa.Table) -> Result:
        columns = table.columns
        if [c.name for c in table.primary_key.columns] != ["id"]:
            return Incorrect(
                "reviews needs `id` as its (only) primary key: "
                "`mapped_column(primary_key=True, init=False)`."
            )
        for name in ("book_id", "user_id", "rating", "body"):
            if name not in columns:
                return Incorrect(f"reviews has no `{name}` column.")
        book_fks = list(columns["book_id"].foreign_keys)
        if [fk.target_fullname for fk in book_fks] != ["books.id"]:
            return Incorrect(
                "`book_id` should be a foreign key to `books.id`: "
                '`mapped_column(ForeignKey("books.id", ondelete="CASCADE"))`.'
            )
        if (book_fks[0].ondelete or "").upper() != "CASCADE":
            return Incorrect(
                "`book_id`'s foreign key has no ON DELETE CASCADE: deleting a book "
                'should delete its reviews. Add `ondelete="CASCADE"` to the '
                "ForeignKey."
            )
        if _references(columns["user_id"]) != ["users.id"]:
            return Incorrect(
                "`user_id` should be a foreign key to `users.id`: "
                '`mapped_column(ForeignKey("users.id"))`.'
            )
        for name, kind, nullable, wrong_kind, wrong_nullability in _PLAIN_COLUMNS:
            column = columns[name]
            if not isinstance(column.type, kind):
                return Incorrect(f"`{name}` is {column.type}, {wrong_kind}.")
            if column.nullable != nullable:
                return Incorrect(wrong_nullability)
        return Correct(
            "Review is in Base.metadata with its foreign keys (books ON DELETE "
            "CASCADE), a NOT NULL rating and an optional body: autogenerate will "
            "create the `reviews` table."
        )


# -- q2: the invisible Tag ---------------------------------------------------------------
TAG_PY = '''\
"""Tags for books: a label such as "classic" or "to-read"."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    name: Mapped[str] = mapped_column(String(50), unique=True)
'''


class InvisibleTag(Exercise):
    title = "Autogenerate cannot see Tag"
    hints = [
        "Autogenerate compares the database with `target_metadata` in env.py, which is "
        "`Base.metadata` as it is after `from app.models import Base`.",
        "A model class joins `Base.metadata` when its module runs. Which module imports "
        "`app/models/tag.py`? Compare it with `app/models/book.py`.",
        "Import the model in `app/models/__init__.py`: `from app.models.tag import Tag`.",
    ]
    solution_intro = (
        "Nothing imports `app.models.tag`, so the `Tag` class is never "
        "created and `Base.metadata` never hears of `tags`. Import it with the "
        "other models:"
    )
    solution_steps = [
        Edit(_INIT, _USER_IMPORT, "from app.models.tag import Tag\n" + _USER_IMPORT),
        Note("Now `%alembic revision --autogenerate` detects the added table `tags`."),
    ]

    def _setup(self, workspace: Workspace) -> str:
        workspace = practice_workspace(workspace, "q2", stage=_STAGE)
        workspace.write("app/models/tag.py", TAG_PY)
        return (
            f"{_built(workspace)}; wrote app/models/tag.py, a Tag model (table `tags`) that "
            "nothing imports yet"
        )

    def _check(self, workspace: Workspace, *answer) -> Result:
        if not workspace.file("app/models/tag.py").exists():
            return NotAttempted("run `q2.setup()` first: it writes app/models/tag.py.")
        init_text = workspace.read(_INIT) if workspace.file(_INIT).exists() else ""
        with models(workspace) as package:
            if "tags" in package.Base.metadata.tables:
                return Correct(
                    "`tags` is in Base.metadata: app/models/__init__.py imports the "
                    "Tag model, so autogenerate sees it."
                )
            imported, tables = _import_model("tag", "tags")
            if imported and tables and tables[0].metadata is not package.Base.metadata:
                return Incorrect(
                    "Tag uses its own Base; import Base from app.models.base, so "
                    "its table joins the Base.metadata Alembic compares."
                )
            if imported and not tables:
                return Incorrect(
                    "app/models/tag.py no longer defines a model with "
                    '`__tablename__ = "tags"`: run `q2.setup()` again.'
                )
        if "tag" not in init_text.lower():
            return NotAttempted("`tags` is still missing from Base.metadata.")
        return Incorrect(
            "`tags` is still missing from Base.metadata: app/models/__init__.py "
            "does not import app.models.tag."
        )


q1 = ReviewModel()
q2 = InvisibleTag()
