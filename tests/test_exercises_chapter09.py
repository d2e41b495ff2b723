"""Exercises of chapter 09: the capstone (four parts, one checklist) and the broken workspace."""

from __future__ import annotations

import pytest

from tests.exercise_helpers import run, state
from tests.exercise_workspaces import fresh_workspace, own_workspace
from workbook.exercises import Incorrect, NotAttempted, chapter09
from workbook.exercises.chapter09 import DONE, TEAMMATE_MESSAGE, TODO, WRONG, q2, q4
from workbook.exercises.core import Alembic, Edit, EditRevision, Write
from workbook.exercises.inspect import find_revision

# These tests start each exercise on its own (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("setups_do_not_wait")


def clean_message(result) -> None:
    assert (
        "\n" not in result.message
        and "/tmp" not in result.message
        and ".scratch" not in result.message
    )


def item(result, part: str):
    """The (mark, detail) of the checklist line whose part starts with ``part``."""
    for mark, name, detail in result.items:
        if name.startswith(part):
            return mark, detail
    raise AssertionError(f"no part {part!r} in {result.plain}")


def assert_part(result, part: str, mark: str, phrase: str) -> None:
    assert isinstance(result, (Incorrect, NotAttempted)) or mark == DONE, result.plain
    clean_message(result)
    got_mark, detail = item(result, part)
    assert got_mark == mark, result.plain
    assert phrase in detail, detail


def apply(ws, steps) -> None:
    for step in steps:
        step.apply(ws)


ws = fresh_workspace("head")


# The reference solution's steps, by part.
PART_A = q4.solution_steps[:6]
PART_B = q4.solution_steps[6:12]


def do_merge(ws):
    q4.setup(workspace=ws)
    run(ws, 'merge heads -m "Merge reviews and publishers.website"')
    run(ws, "upgrade head")


# -- q4: the capstone ------------------------------------------------------------------------------
def test_q4_setup_waits_for_part_a_then_makes_two_heads_and_is_idempotent(ws, capsys):
    before = state(ws)
    q4.setup(workspace=ws)
    assert capsys.readouterr().out.startswith("Setup: not yet: do parts A and B first")
    assert state(ws) == before
    apply(ws, PART_A + PART_B)
    q4.setup(workspace=ws)
    out = capsys.readouterr().out
    assert 'revision 0015 ("Add website to publishers"), made from 0012' in out
    assert ws.heads() == ["0014", "0015"]
    assert "website" in ws.read("app/models/publisher.py")
    q4.setup(workspace=ws)
    assert capsys.readouterr().out.startswith("Setup: already done")
    assert ws.heads() == ["0014", "0015"]


def test_q4_part_a_done_others_waiting(ws):
    apply(ws, PART_A)
    result = q4.result(workspace=ws)
    assert isinstance(result, Incorrect)
    assert result.summary == "1 of 4 parts done."
    assert_part(result, "A", DONE, "revision 0013 creates reviews")
    assert_part(result, "B", TODO, "no review_count yet")
    assert_part(result, "D", TODO, "checked once A, B and C are done")
    assert "\n  ✓ A · the reviews table: " in result.plain  # one line per part


def test_q4_model_not_imported(ws):
    ws.write("app/models/review.py", chapter09.REVIEW_MODEL)
    result = q4.result(workspace=ws)
    assert_part(
        result,
        "A",
        WRONG,
        "app/models/review.py defines reviews, but Alembic cannot see "
        "it: import the model in app/models/__init__.py",
    )


def test_q4_a_part_is_done_only_when_the_models_agree_about_it(ws):
    apply(ws, PART_A)
    ws.edit(
        "app/models/review.py",
        "    rating: Mapped[int]\n",
        "    rating: Mapped[int]\n"
        "    title: Mapped[Optional[str]] = mapped_column(Text, default=None)\n",
    )
    result = q4.result(workspace=ws)
    assert_part(result, "A", WRONG, "the models and the database differ: ")
    assert "reviews.title" in item(result, "A")[1]
    assert_part(result, "B", TODO, "no review_count yet")


def test_q4_model_without_a_revision(ws):
    apply(ws, PART_A[:3])
    assert_part(q4.result(workspace=ws), "A", WRONG, "no revision of yours creates reviews")


def test_q4_revision_not_applied(ws):
    apply(ws, PART_A[:4])
    assert_part(q4.result(workspace=ws), "A", WRONG, "`%alembic upgrade head`")


@pytest.mark.parametrize(
    "old, new, phrase",
    [
        (", index=True)", ")", "reviews.book_id has no index"),
        (
            'ForeignKey("users.id", ondelete="CASCADE")',
            'ForeignKey("users.id")',
            "the foreign key on reviews.user_id has no ON DELETE CASCADE",
        ),
        (
            'ForeignKey("books.id", ondelete="CASCADE"), ',
            "",
            "reviews.book_id has no foreign key to books.id",
        ),
    ],
    ids=["no-index", "no-cascade", "no-fk"],
)
def test_q4_wrong_reviews_tables(ws, old, new, phrase):
    model = chapter09.REVIEW_MODEL.replace(old, new, 1)
    assert model != chapter09.REVIEW_MODEL
    apply(ws, [Write("app/models/review.py", model), *PART_A[1:]])
    assert_part(q4.result(workspace=ws), "A", WRONG, phrase)


def test_q4_review_count_without_the_backfill(ws):
    no_backfill = [s for s in PART_B if not isinstance(s, EditRevision)]
    apply(ws, PART_A + no_backfill)
    result = q4.result(workspace=ws)
    assert_part(result, "A", DONE, "creates reviews")
    assert_part(
        result,
        "B",
        WRONG,
        "have 2, 1 and 0 reviews, revision 0014 leaves review_count at 0, 0, 0: backfill it",
    )


def test_q4_review_count_without_a_server_default(ws):
    steps = [
        Edit(s.path, s.old, s.new.replace(', server_default="0"', "")) if isinstance(s, Edit) else s
        for s in PART_B
        if not isinstance(s, EditRevision)
    ]
    # On this empty table, adding a NOT NULL column without a default works; with rows it
    # would fail. The check names the missing default.
    apply(ws, PART_A + steps)
    assert_part(q4.result(workspace=ws), "B", WRONG, "books.review_count has no server default 0")


def test_q4_table_and_column_in_one_revision(ws):
    apply(ws, PART_A[:3])  # the model and its import, no revision yet
    apply(ws, PART_B[:2])  # review_count in the Book model too
    run(ws, 'revision --autogenerate -m "Reviews and review_count"')
    ws.edit(
        ws.revision_file("head"),
        chapter09._AUTOGENERATED_REVIEW_COUNT,
        chapter09._AUTOGENERATED_REVIEW_COUNT + chapter09._BACKFILL,
    )
    run(ws, "upgrade head")
    assert_part(
        q4.result(workspace=ws),
        "B",
        WRONG,
        "both creates reviews and adds review_count: put the backfill in a revision of its own",
    )


@pytest.fixture
def two_heads(ws):
    """Parts A and B done, then ``q4.setup()``: the teammate's revision is a second head."""
    apply(ws, PART_A + PART_B)
    q4.setup(workspace=ws)


def test_q4_two_heads_not_merged(ws, two_heads):
    result = q4.result(workspace=ws)
    assert_part(result, "A", DONE, "creates reviews")
    assert_part(result, "B", DONE, "backfills it")
    assert_part(result, "C", WRONG, "there are 2 heads (0014, 0015): `%alembic merge heads")


def test_q4_merged_but_not_applied(ws, two_heads):
    run(ws, 'merge heads -m "Merge"')
    assert_part(
        q4.result(workspace=ws),
        "C",
        WRONG,
        "merge revision 0016 is there, but the database is not at head",
    )


def test_q4_a_rebase_instead_of_a_merge(ws, two_heads):
    teammate = find_revision(ws, TEAMMATE_MESSAGE)
    ws.edit(
        teammate.path,
        "down_revision: Union[str, Sequence[str], None] = '0012'",
        "down_revision: Union[str, Sequence[str], None] = '0014'",
    )
    run(ws, "upgrade head")
    assert_part(q4.result(workspace=ws), "C", WRONG, "no merge revision joins the teammate's 0015")


def test_q4_a_downgrade_that_does_nothing_fails_the_drill(ws):
    apply(ws, PART_A + PART_B[:-1])
    ws.edit(
        ws.revision_file("head"), "        batch_op.drop_column('review_count')\n", "        pass\n"
    )
    run(ws, "upgrade head")
    do_merge(ws)
    result = q4.result(workspace=ws)
    assert_part(result, "C", DONE, "merges the teammate's 0015")
    assert_part(result, "B", WRONG, "downgrade() of revision 0014 leaves books.review_count behind")


def test_q4_a_downgrade_that_deletes_the_reviewed_books_fails_the_drill(ws):
    apply(ws, PART_A + PART_B[:-1])
    ws.fill_revision(
        "head",
        downgrade="op.execute('DELETE FROM books WHERE review_count > 0')\n"
        "with op.batch_alter_table('books', schema=None) as batch_op:\n"
        "    batch_op.drop_column('review_count')",
    )
    run(ws, "upgrade head")
    do_merge(ws)
    result = q4.result(workspace=ws)
    assert_part(result, "B", DONE, "backfills it")
    assert_part(result, "D", WRONG, "the downgrade loses rows of books or users")


def test_q4_broken_model_file_is_one_line(ws):
    apply(ws, PART_A)
    ws.edit(
        "app/models/review.py",
        "class Review(Base, TimestampMixin):",
        "class Review(Base, TimestampMixin)",
    )
    result = q4.result(workspace=ws)
    assert type(result) is Incorrect
    assert "your models do not import: SyntaxError" in result.message
    clean_message(result)


# -- q2: the broken workspace ----------------------------------------------------------------------
broken = own_workspace(q2)


_FIX_ENV = Write(".env", chapter09.GOOD_ENV)
_IMPORT_TAG = next(s for s in q2.solution_steps if isinstance(s, Edit))


def test_q2_setup_breaks_a_workspace_of_its_own(ws, broken):
    assert broken.name == f"{ws.name}-q2" and ws.run("current").ok  # the lesson's project works
    assert not broken.run("current").ok
    assert "from app.models.tag import Tag" not in broken.read("app/models/__init__.py")
    result = q2.result(workspace=broken)
    assert isinstance(result, NotAttempted) and result.summary == "the workspace is still broken."
    assert_part(
        result,
        "the database URL",
        TODO,
        "DATABASE_URL names an unknown database driver 'sqlite+aoisqlite'",
    )


def test_q2_setup_again_starts_over(broken):
    q2._solve(broken)
    q2.setup(workspace=broken)
    assert not broken.run("current").ok
    assert "from app.models.tag import Tag" not in broken.read("app/models/__init__.py")


def test_q2_only_the_url_fixed(broken):
    apply(broken, [_FIX_ENV])
    result = q2.result(workspace=broken)
    assert isinstance(result, Incorrect) and result.summary == "1 of 3 fixed."
    assert_part(result, "the database URL", DONE, "Alembic reaches app.db again")
    assert_part(result, "Tag visible", TODO, "is it imported?")


@pytest.mark.parametrize(
    "url, phrase",
    [
        (
            "sqlite+aiosqlite:///library.db",
            "library.db is an empty database (no revision, no tables)",
        ),
        ("sqlite+aiosqlite:///db/app.db", "a SQLite file in db/, a folder that does not exist"),
        ("sqlite:///app.db", "which is not an async driver"),
    ],
    ids=["another-file-is-empty", "missing-folder", "sync-driver"],
)
def test_q2_wrong_database_urls(broken, url, phrase):
    broken.write(".env", f"DATABASE_URL={url}\n")
    assert_part(q2.result(workspace=broken), "the database URL", WRONG, phrase)
    assert not broken.file("db").exists()  # named without connecting: the check creates nothing


def test_q2_autogenerate_before_the_import_is_empty(broken):
    apply(broken, [_FIX_ENV, Alembic('revision --autogenerate -m "Add tags table"')])
    result = q2.result(workspace=broken)
    assert_part(result, "the tags table", TODO, "no revision creates tags yet")


def test_q2_revision_not_applied(broken):
    apply(broken, [_FIX_ENV, _IMPORT_TAG, Alembic('revision --autogenerate -m "Add tags table"')])
    assert_part(
        q2.result(workspace=broken),
        "the tags table",
        WRONG,
        "revision 0013 creates tags, but the database has none: `%alembic upgrade head`",
    )


def test_q2_broken_model_file_is_one_line(broken):
    broken.edit("app/models/tag.py", "class Tag(Base):", "class Tag(Base)")
    apply(broken, [_IMPORT_TAG])
    result = q2.result(workspace=broken)
    assert type(result) is Incorrect and "your models do not import: SyntaxError" in result.message
    clean_message(result)


# -- checklists ------------------------------------------------------------------------------------
def test_a_checklist_displays_a_line_per_part(capsys, ws):
    q4.check(workspace=ws)
    out = capsys.readouterr().out
    assert out.startswith("○ Not attempted: none of the four parts is done yet.\n  ○ A · ")
    assert out.count("\n") == 5
    result = q4.result(workspace=ws)
    assert "<ul" in result.html() and result.html().count("<li>") == 4
    assert chapter09.capstone is q4
