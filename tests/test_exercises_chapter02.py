"""Exercises of chapter 02: a Review model, and the Tag model autogenerate cannot see."""

from __future__ import annotations

import pytest

from tests.exercise_helpers import assert_incorrect
from tests.exercise_workspaces import fresh_workspace, own_workspace, set_up
from workbook.exercises import Correct
from workbook.exercises.chapter02 import REVIEW_PY, q1, q2
from workbook.project_state import project_state

_IMPORT_REVIEW = (
    "from app.models.user import User\n",
    "from app.models.review import Review\nfrom app.models.user import User\n",
)
_IMPORT_TAG = (
    "from app.models.user import User\n",
    "from app.models.tag import Tag\nfrom app.models.user import User\n",
)
_OWN_BASE = (
    "from app.models.base import Base\n",
    "from sqlalchemy.orm import DeclarativeBase, MappedAsDataclass\n\n\n"
    "class Base(MappedAsDataclass, DeclarativeBase):\n    pass\n",
)


ws = fresh_workspace("models")


# -- both: practice in a workspace of the exercise's own ------------------------------
@pytest.mark.parametrize("exercise", [q1, q2], ids=["q1", "q2"])
def test_setup_and_solution_leave_the_lessons_project_alone(ws, exercise, capsys):
    """The lesson's project ends with the models lesson 03 starts from: the exercise
    works in ``<workspace>-qN``, built with those models, whatever the lesson's stage."""
    lesson = ws
    before = project_state(lesson.path)
    own = set_up(exercise, lesson)
    assert own.name == f"{lesson.name}-{exercise is q1 and 'q1' or 'q2'}"
    assert own.stage.name == "models"
    assert capsys.readouterr().out.startswith(f"Setup: workspace {own.name!r} holds")
    exercise._solve(own)
    assert isinstance(exercise.result(workspace=own), Correct)
    assert project_state(lesson.path) == before


# -- q1: Review ------------------------------------------------------------------------------
def test_q1_what_the_check_accepts_autogenerate_sees(ws):
    q1._solve(ws)
    assert isinstance(q1.result(workspace=ws), Correct)
    result = ws.run(["revision", "--autogenerate", "-m", "x"])
    assert result.ok and "Detected added table 'reviews'" in result.stderr


@pytest.mark.parametrize(
    "change, phrase",
    [
        ([], "defined but not imported in app/models/__init__.py"),
        ([_IMPORT_REVIEW, ('ondelete="CASCADE"', "")], "no ON DELETE CASCADE"),
        (
            [
                _IMPORT_REVIEW,
                (
                    "rating: Mapped[int]",
                    "rating: Mapped[Optional[int]] = mapped_column(default=None)",
                ),
                ("    body:", "    body_:"),
            ],
            "reviews has no `body` column",
        ),
        (
            [
                _IMPORT_REVIEW,
                ("    rating: Mapped[int]\n", ""),
                (
                    "    body: Mapped[Optional[str]] = mapped_column(Text, default=None)\n",
                    "    body: Mapped[Optional[str]] = mapped_column(Text, default=None)\n"
                    "    rating: Mapped[Optional[int]] = mapped_column(default=None)\n",
                ),
            ],
            "`rating` is nullable",
        ),
        (
            [
                _IMPORT_REVIEW,
                ("mapped_column(Text, default=None)", "mapped_column(String(2000), default=None)"),
                ("import ForeignKey, Text", "import ForeignKey, String, Text"),
            ],
            "`body` is VARCHAR(2000), not Text",
        ),
        ([_IMPORT_REVIEW, _OWN_BASE], "Review uses its own Base"),
        (
            [_IMPORT_REVIEW, ('ForeignKey("users.id")', 'ForeignKey("books.id")')],
            "`user_id` should be a foreign key to `users.id`",
        ),
    ],
    ids=[
        "not-imported",
        "no-cascade",
        "no-body",
        "rating-nullable",
        "body-string",
        "own-base",
        "user-fk",
    ],
)
def test_q1_wrong_answers(ws, change, phrase):
    ws.write("app/models/review.py", REVIEW_PY)
    for old, new in change:
        path = "app/models/__init__.py" if "import User" in old else "app/models/review.py"
        ws.edit(path, old, new)
    assert_incorrect(q1.result(workspace=ws), phrase)


def test_q1_broken_model_file(ws):
    q1._solve(ws)
    ws.edit("app/models/review.py", "class Review(Base):", "class Review(Base)")
    result = q1.result(workspace=ws)
    assert_incorrect(result, "your models do not import: SyntaxError")
    ws.edit("app/models/__init__.py", *reversed(_IMPORT_REVIEW))
    assert_incorrect(q1.result(workspace=ws), "app/models/review.py does not import: SyntaxError")


# -- q2: Tag -----------------------------------------------------------------------------------
tags = own_workspace(q2)


def test_q2_a_second_base_is_wrong(tags):
    tags.edit("app/models/tag.py", *_OWN_BASE)
    tags.edit("app/models/__init__.py", *_IMPORT_TAG)
    assert_incorrect(
        q2.result(workspace=tags), "Tag uses its own Base; import Base from app.models.base"
    )


def test_q2_mentioning_tag_without_importing_it_is_wrong(tags):
    tags.edit(
        "app/models/__init__.py",
        "from app.models.user import User\n",
        "from app.models.user import User\n# TODO: Tag\n",
    )
    assert_incorrect(q2.result(workspace=tags), "does not import app.models.tag")


def test_q2_a_typo_in_the_import_is_wrong_and_one_line(tags):
    tags.edit(
        "app/models/__init__.py",
        "from app.models.user import User\n",
        "from app.models.tags import Tag\nfrom app.models.user import User\n",
    )
    assert_incorrect(
        q2.result(workspace=tags),
        "your models do not import: ModuleNotFoundError: No module named 'app.models.tags'",
    )
