"""The exercises' core: results, display, hints, solutions, setups, and the helpers checkers
share (workbook/text.py, workbook/exercises/checks.py). What every exercise must do is in
test_exercise_contract.py."""

from __future__ import annotations

import copy
import pickle

import IPython
import IPython.display
import pytest
from alembic.util import CommandError

from tests.exercise_helpers import state
from workbook.exercises import PLACEHOLDER, Correct, Incorrect, NotAttempted, ____
from workbook.exercises.chapter00 import q1
from workbook.exercises.checks import (
    bring_copy,
    new_revision,
    require_table,
    require_written,
    setup_revision,
)
from workbook.exercises.core import Exercise, Note, Problem, Write, markdown_html, show
from workbook.exercises.inspect import Scratch
from workbook.text import inline, one_line, relative


# -- core ------------------------------------------------------------------------------------
def test_the_placeholder_is_one_object_that_shows_as_four_underscores():
    assert ____ is PLACEHOLDER
    assert repr(____) == "____"
    assert copy.deepcopy(____) is ____
    assert pickle.loads(pickle.dumps(____)) is ____


def test_results_render_as_plain_text_and_html():
    assert repr(Correct("fine")) == "✓ Correct: fine"
    assert repr(Incorrect("use `x`")) == "✗ Incorrect: use `x`"
    assert repr(NotAttempted("later")) == "○ Not attempted: later"
    html = Incorrect("use `a<b`").html()
    assert "<code>a&lt;b</code>" in html and "✗ Incorrect:" in html
    assert Correct("x").ok and not Incorrect("x").ok and not NotAttempted("x").ok


def test_check_displays_one_line_and_returns_nothing(exercise_workspace, capsys):
    exercise_workspace("0001")
    assert q1.check("0001") is None
    assert capsys.readouterr().out == (
        "✓ Correct: the database is at revision 0001; `alembic_version` records it.\n"
    )


def test_in_a_kernel_check_displays_a_bundle_with_html_and_plain_text(
    exercise_workspace, monkeypatch
):
    exercise_workspace("0001")
    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(
        IPython.display, "display", lambda data, raw=False: shown.append((data, raw))
    )
    q1.check(____)
    [(bundle, raw)] = shown
    assert raw is True and set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"] == (
        "○ Not attempted: replace `____` by the revision id, then check again."
    )
    assert bundle["text/html"].startswith('<div style="line-height:1.45"><b style="color:')
    assert "<code>____</code>" in bundle["text/html"]


def test_hints_come_one_after_another_then_round_again(capsys):
    exercise = type(q1)()
    for _ in range(4):
        exercise.hint()
    exercise.hint(2)
    exercise.hint(7)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "Hint 1 of 3",
        "Hint 2 of 3",
        "Hint 3 of 3",
        "Hint 1 of 3",
        "Hint 2 of 3",
        "There are 3 hints",
    ]
    assert lines[-1] == "There are 3 hints: hint(1) to hint(3)."


def test_show_displays_one_bundle_in_a_kernel_and_prints_outside(monkeypatch, capsys):
    show("a", "<b>a</b>")
    assert capsys.readouterr().out == "a\n"
    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda data, raw=False: shown.append(data))
    show("a", "<b>a</b>")
    assert shown == [{"text/plain": "a", "text/html": "<b>a</b>"}]


def test_hint_and_solution_markdown_renders_bold_lists_links_and_code():
    html = markdown_html(
        "Use **one** head:\n\n- `merge heads`\n- [the docs](https://alembic."
        "sqlalchemy.org/)\n\n```python\nx = 1 < 2\n```\n\n<b>raw</b>"
    )
    assert "<strong>one</strong>" in html
    assert "<ul>\n<li><code>merge heads</code></li>" in html
    assert '<a href="https://alembic.sqlalchemy.org/">the docs</a>' in html
    assert ">x = 1 &lt; 2</pre>" in html and "var(--jp-cell-editor-background," in html
    assert "&lt;b&gt;raw&lt;/b&gt;" in html  # HTML in a hint is shown, not run


def test_a_one_paragraph_hint_is_inline(monkeypatch):
    class OneHint(Exercise):
        hints = ["Run **`%alembic heads`**."]

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda data, raw=False: shown.append(data))
    OneHint().hint()
    assert shown[0]["text/html"] == (
        '<div style="line-height:1.45"><b style="color:#0969da;background:#f6f8fa;'
        'padding:0 0.3em;border-radius:3px">Hint 1 of 1:</b> '
        "Run <strong><code>%alembic heads</code></strong>.</div>"
    )


def test_no_workspace_yet_is_a_result_not_an_error(monkeypatch):
    from workbook import workspace as workspace_module

    monkeypatch.setattr(workspace_module, "_active", None)
    result = q1.result("0001")
    assert isinstance(result, Incorrect) and "no workspace yet" in result.message


class _Broken(Exercise):
    title = "a checker with a bug"
    hints = []
    solution_steps = [Note("Nothing."), Write("x.txt", "x\n")]

    def _check(self, workspace, *answer):
        raise RuntimeError("something\nsecond line")

    def _setup(self, workspace):
        raise RuntimeError(f"cannot write {workspace.path}/x.txt")


def test_a_failing_checker_or_setup_never_raises_at_the_learner(exercise_workspace, capsys):
    ws = exercise_workspace("0001")
    result = _Broken().result(workspace=ws)
    assert isinstance(result, Incorrect)
    assert result.message == "the checker could not read your workspace: RuntimeError: something"
    _Broken().setup(workspace=ws)
    _Broken().hint()
    out = capsys.readouterr().out
    assert out == (
        "Setup could not run: RuntimeError: cannot write x.txt. Rebuild the "
        "workspace (run the chapter's first cell again), then retry.\n"
        "There is no hint for this exercise.\n"
    )
    assert str(ws.path) not in out
    assert "%%writefile x.txt" in _Broken().solution_text


def test_setup_without_a_workspace_says_so(monkeypatch, capsys):
    from workbook import workspace as workspace_module
    from workbook.exercises import chapter02

    monkeypatch.setattr(workspace_module, "_active", None)
    chapter02.q2.setup()
    assert capsys.readouterr().out == (
        "Setup could not run: WorkspaceError: no workspace yet: run the first cell (or "
        "workbook.attach(...) to continue where you were). Rebuild the workspace (run the "
        "chapter's first cell again), then retry.\n"
    )


# -- workbook/text.py ----------------------------------------------------------------------------
def test_one_line_is_the_first_line_with_its_type_and_no_paths(tmp_path):
    assert one_line(RuntimeError("first\nsecond")) == "RuntimeError: first"
    assert one_line(CommandError("Can't locate revision 'x'\nmore")) == "Can't locate revision 'x'"
    assert one_line(SyntaxError("invalid syntax")) == "SyntaxError: invalid syntax"
    assert one_line(KeyError()) == "KeyError: KeyError"
    error = FileNotFoundError(f"no {tmp_path / 'app' / 'x.py'} at 0x7f00aa")
    assert one_line(error, tmp_path) == "FileNotFoundError: no app/x.py"


def test_relative_and_inline(tmp_path):
    assert relative(f"in {tmp_path}, see {tmp_path}/a.py", tmp_path) == "in ., see a.py"
    assert inline("use `a<b` & go") == "use <code>a&lt;b</code> &amp; go"


# -- workbook/exercises/checks.py ------------------------------------------------------------------
def test_require_table_asks_to_rebuild_the_workspace(exercise_workspace):
    ws = exercise_workspace("0001")
    assert "full_name" in require_table(ws, "users", "full_name").columns
    with pytest.raises(Problem) as missing:
        require_table(ws, "reviews")
    assert str(missing.value) == (
        "the database has no reviews table: rebuild the workspace "
        "(run the chapter's first cell again)."
    )
    with pytest.raises(Problem, match=r"^the database has no users.nickname: rebuild the"):
        require_table(ws, "users", "nickname")


class _FixTheDowngrade(Exercise):
    """A check built from the NotStarted helpers alone."""

    def _check(self, workspace, *answer):
        script = setup_revision(workspace, "Drop a column", "q3")
        require_written(script, "downgrade", "it does not restore the column")
        return Correct("written.")


def test_an_exercise_whose_setup_did_not_run_is_not_attempted(exercise_workspace):
    ws = exercise_workspace("0001")
    check = _FixTheDowngrade()
    assert check.result(workspace=ws) == NotAttempted(
        "run `q3.setup()` first: it makes the revision to fix."
    )
    script = new_revision(ws, "Drop a column", upgrade="pass", downgrade="pass")
    assert check.result(workspace=ws) == NotAttempted(
        f"downgrade() of revision {script.revision} is still `pass`: "
        "it does not restore the column."
    )
    ws.fill_revision(script.revision, downgrade="op.drop_table('nothing')")
    assert check.result(workspace=ws) == Correct("written.")


def test_a_scratch_copy_inserts_and_reads_rows_of_its_own(exercise_workspace):
    ws = exercise_workspace("0001")
    before = state(ws)
    with Scratch(ws) as scratch:
        scratch.insert("users", {"email": "a@example.com"}, {"email": "b@example.com"})
        assert scratch.value("SELECT count(*) FROM users") == 2
        found = scratch.rows("SELECT email FROM users WHERE email = ?", "b@example.com")
        assert found == [("b@example.com",)]
        assert scratch.value("SELECT email FROM users WHERE email = ?", "c@example.com") is None
    assert state(ws) == before  # the rows went into the copy only


def test_bring_copy_says_where_it_could_not_go(exercise_workspace):
    ws = exercise_workspace("0001")
    with Scratch(ws) as scratch:
        bring_copy(scratch, None)
        assert scratch.current() == []
        with pytest.raises(Problem) as failed:
            bring_copy(scratch, "0042", "to test the backfill")
    assert str(failed.value).startswith(
        "could not bring a copy of the database to 0042 to test the backfill: "
    )
    assert "\n" not in str(failed.value)
