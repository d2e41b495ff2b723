"""Exercises of chapter 02: a Review model, and the Tag model autogenerate cannot see."""

from __future__ import annotations

import sys

import pytest

from workbook.exercises import Correct, NotAttempted, chapter02
from workbook.exercises.chapter02 import REVIEW_PY, TAG_PY, q1, q2
from tests.exercise_helpers import assert_incorrect, assert_not_attempted

_IMPORT_REVIEW = ("from app.models.user import User\n",
                  "from app.models.review import Review\nfrom app.models.user import User\n")
_IMPORT_TAG = ("from app.models.user import User\n",
               "from app.models.tag import Tag\nfrom app.models.user import User\n")
_OWN_BASE = ("from app.models.base import Base\n",
             "from sqlalchemy.orm import DeclarativeBase, MappedAsDataclass\n\n\n"
             "class Base(MappedAsDataclass, DeclarativeBase):\n    pass\n")


@pytest.fixture
def ws(exercise_workspace):
    return exercise_workspace("models")


# -- q1: Review ------------------------------------------------------------------------------
def test_q1_not_attempted(ws):
    assert isinstance(q1.result(workspace=ws), NotAttempted)


def test_q1_reference_solution_is_correct(ws):
    q1._solve(ws)
    assert isinstance(q1.result(workspace=ws), Correct)
    assert "app.models.review" not in sys.modules  # the kernel's own modules are put back
    result = ws.run(["revision", "--autogenerate", "-m", "x"])  # and autogenerate sees it
    assert result.ok and "Detected added table 'reviews'" in result.stderr


def test_q1_the_solution_shows_what_the_tests_apply():
    text = q1.solution_text
    assert "%%writefile app/models/review.py" in text and REVIEW_PY.strip() in text
    assert "from app.models.review import Review" in text


@pytest.mark.parametrize("change, phrase", [
    ([], "defined but not imported in app/models/__init__.py"),
    ([_IMPORT_REVIEW, ('ondelete="CASCADE"', "")], "no ON DELETE CASCADE"),
    ([_IMPORT_REVIEW, ("rating: Mapped[int]", "rating: Mapped[Optional[int]] = mapped_column(default=None)"),
      ("    body:", "    body_:")], "reviews has no `body` column"),
    ([_IMPORT_REVIEW, ("    rating: Mapped[int]\n", ""),
      ("    body: Mapped[Optional[str]] = mapped_column(Text, default=None)\n",
       "    body: Mapped[Optional[str]] = mapped_column(Text, default=None)\n"
       "    rating: Mapped[Optional[int]] = mapped_column(default=None)\n")], "`rating` is nullable"),
    ([_IMPORT_REVIEW, ("mapped_column(Text, default=None)", "mapped_column(String(2000), default=None)"),
      ("import ForeignKey, Text", "import ForeignKey, String, Text")], "`body` is VARCHAR(2000), not Text"),
    ([_IMPORT_REVIEW, _OWN_BASE], "Review uses its own Base"),
    ([_IMPORT_REVIEW, ('ForeignKey("users.id")', 'ForeignKey("books.id")')],
     "`user_id` should be a foreign key to `users.id`"),
], ids=["not-imported", "no-cascade", "no-body", "rating-nullable", "body-string", "own-base",
        "user-fk"])
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
def test_q2_not_set_up(ws):
    result = q2.result(workspace=ws)
    assert_not_attempted(result, "run `q2.setup()` first")


def test_q2_setup_then_not_attempted(ws, capsys):
    q2.setup(workspace=ws)
    assert ws.read("app/models/tag.py") == TAG_PY
    assert capsys.readouterr().out.startswith("Setup: wrote app/models/tag.py")
    result = q2.result(workspace=ws)
    assert isinstance(result, NotAttempted), result


def test_q2_reference_solution_is_correct(ws):
    q2.setup(workspace=ws)
    q2._solve(ws)
    assert isinstance(q2.result(workspace=ws), Correct)


def test_q2_a_second_base_is_wrong(ws):
    q2.setup(workspace=ws)
    ws.edit("app/models/tag.py", *_OWN_BASE)
    ws.edit("app/models/__init__.py", *_IMPORT_TAG)
    assert_incorrect(q2.result(workspace=ws), "Tag uses its own Base; import Base from "
                                              "app.models.base")


def test_q2_mentioning_tag_without_importing_it_is_wrong(ws):
    q2.setup(workspace=ws)
    ws.edit("app/models/__init__.py", "from app.models.user import User\n",
            "from app.models.user import User\n# TODO: Tag\n")
    assert_incorrect(q2.result(workspace=ws), "does not import app.models.tag")


def test_q2_a_typo_in_the_import_is_wrong_and_one_line(ws):
    q2.setup(workspace=ws)
    ws.edit("app/models/__init__.py", "from app.models.user import User\n",
            "from app.models.tags import Tag\nfrom app.models.user import User\n")
    assert_incorrect(q2.result(workspace=ws),
                     "your models do not import: ModuleNotFoundError: No module named "
                     "'app.models.tags'")


def test_chapter02_hints_and_solutions_display(capsys):
    for exercise in [chapter02.q1, chapter02.q2]:
        fresh = type(exercise)()
        for _ in range(len(fresh.hints) + 1):
            fresh.hint()
        fresh.solution()
        out = capsys.readouterr().out
        count = len(fresh.hints)
        assert f"Hint {count} of {count}" in out and out.count("Hint 1 of") == 2
        assert "Solution:\n" in out
