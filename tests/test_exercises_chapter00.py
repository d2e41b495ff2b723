"""Exercises: the learntools-style core (results, display, hints, solutions) and chapter 00."""

from __future__ import annotations

import copy
import pickle

import IPython
import IPython.display
import pytest

from workbook.exercises import PLACEHOLDER, Correct, Incorrect, NotAttempted, ____, chapter00
from workbook.exercises.core import Exercise, Note, Write, show
from workbook.exercises.chapter00 import q1


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
        "✓ Correct: the database is at revision 0001; `alembic_version` records it.\n")


def test_in_a_kernel_check_displays_a_bundle_with_html_and_plain_text(exercise_workspace,
                                                                        monkeypatch):
    exercise_workspace("0001")
    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display",
                        lambda data, raw=False: shown.append((data, raw)))
    q1.check(____)
    [(bundle, raw)] = shown
    assert raw is True and set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"] == ("○ Not attempted: replace `____` by the revision id, "
                                    "then check again.")
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
        "Hint 1 of 3", "Hint 2 of 3", "Hint 3 of 3", "Hint 1 of 3", "Hint 2 of 3",
        "There are 3 hints"]
    assert lines[-1] == "There are 3 hints: hint(1) to hint(3)."


def test_solution_shows_the_steps(capsys):
    q1.solution()
    out = capsys.readouterr().out
    assert out.startswith("Solution:\n")
    assert "%alembic current" in out and 'answer = "0005"' in out


def test_solution_html_has_code_blocks(monkeypatch):
    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda data, raw=False: shown.append(data))
    q1.solution()
    assert "<pre" in shown[0]["text/html"] and "%alembic current" in shown[0]["text/html"]
    show("a", "<b>a</b>")
    assert shown[-1] == {"text/plain": "a", "text/html": "<b>a</b>"}


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
    assert out == ("Setup could not run: RuntimeError: cannot write x.txt. Rebuild the "
                   "workspace (run the chapter's first cell again), then retry.\n"
                   "There is no hint for this exercise.\n")
    assert str(ws.path) not in out
    assert "%%writefile x.txt" in _Broken().solution_text


# -- chapter 00 · q1 ---------------------------------------------------------------------------
def test_q1_not_attempted(exercise_workspace):
    ws = exercise_workspace("0005")
    assert isinstance(q1.result(____, workspace=ws), NotAttempted)


@pytest.mark.parametrize("stage", ["0005", "head"])
def test_q1_reference_solution_is_correct(exercise_workspace, stage):
    ws = exercise_workspace(stage)
    answer = q1._solve(ws)
    result = q1.result(*answer, workspace=ws)
    assert isinstance(result, Correct), result
    assert result.message == (f"the database is at revision {ws.current()[0]}; "
                              "`alembic_version` records it.")
    assert isinstance(q1.result(answer[0], workspace=None), Correct)  # the active workspace


@pytest.mark.parametrize("answer, phrase", [
    ("head", "the question asks for the id: see `%alembic current`"),
    ("0001", "the database is not at '0001'"),
    ("0005 (head)", "Store just the id, without `(head)`"),
    (5, "the id as a string"),
])
def test_q1_wrong_answers(exercise_workspace, answer, phrase):
    ws = exercise_workspace("0005")
    result = q1.result(answer, workspace=ws)
    assert isinstance(result, Incorrect)
    assert phrase in result.message


def test_q1_broken_workspace_is_one_line_incorrect(exercise_workspace):
    ws = exercise_workspace("0005")
    ws.db_path.write_bytes(b"this is not a database" * 100)
    result = q1.result("0005", workspace=ws)
    assert isinstance(result, Incorrect)
    assert result.message.startswith("the checker could not read your workspace: ")
    assert "\n" not in result.message and str(ws.path) not in result.message


def test_chapter00_hint_and_solution_display(capsys):
    for exercise in [chapter00.q1]:
        fresh = type(exercise)()
        fresh.hint()
        fresh.hint()
        fresh.solution()
    out = capsys.readouterr().out
    assert "Hint 1 of" in out and "Hint 2 of" in out and "Solution:" in out


def test_setup_without_a_workspace_says_so(monkeypatch, capsys):
    from workbook import workspace as workspace_module
    from workbook.exercises import chapter02

    monkeypatch.setattr(workspace_module, "_active", None)
    chapter02.q2.setup()
    assert capsys.readouterr().out == (
        "Setup could not run: WorkspaceError: no workspace yet: run the first cell (or "
        "workbook.attach(...) to continue where you were). Rebuild the workspace (run the "
        "chapter's first cell again), then retry.\n")
