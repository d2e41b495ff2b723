"""The contract of workbook/exercises/core.py, checked for every exercise of the catalogue.

For each exercise: it is not attempted where its chapter starts it (before and after its
setup); its reference solution, applied step by step, checks Correct, and the check
changes nothing (files, database, the kernel's modules, environment and folder); every
hint and the solution display as HTML with a plain-text twin; and every message is one
line that names no path of this machine. The chapter test files hold only what is
particular to one exercise: its wrong answers.
"""

from __future__ import annotations

import os
import re
import sys
import xml.etree.ElementTree as ElementTree

import IPython
import IPython.display
import pytest

from tests.exercise_helpers import state
from workbook import progress
from workbook.exercises import Correct, NotAttempted, ____
from workbook.exercises.catalogue import EXERCISES
from workbook.exercises.core import Note
from workbook.workspace import WorkspaceError, active_workspace

each_exercise = pytest.mark.parametrize("start", EXERCISES, ids=[s.id for s in EXERCISES])
# Variables that would point a check at another database than the workspace's file.
_URL_VARIABLES = ("DATABASE_URL", "TEST_DATABASE_URL", "ENVIRONMENT")


@pytest.fixture
def workspace_at(exercise_workspace, monkeypatch):
    for name in _URL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return exercise_workspace


def assert_one_line(text: str, ws) -> None:
    """One line, with no path of this machine (workspace, scratch copy, temp folder)."""
    assert text and "\n" not in text.strip(), text
    for machine_path in (str(ws.path), str(ws.path.parent), "/tmp", ".scratch"):
        assert machine_path not in text, text


def kernel_state(ws) -> tuple:
    """What a check could change besides the files: modules, environment, folder."""
    apps = sorted(name for name in sys.modules if name == "app" or name.startswith("app."))
    return state(ws), apps, dict(os.environ), os.getcwd()


def test_the_catalogue_names_every_exercise_once():
    known = {
        (chapter, name)
        for chapter, (_title, questions) in progress.catalogue().items()
        for name in questions
    }
    listed = [(start.chapter, start.name) for start in EXERCISES]
    assert sorted(listed) == sorted(known) and len(set(listed)) == len(listed)


@each_exercise
def test_not_attempted_where_the_chapter_starts_it(start, workspace_at, capsys):
    ws = workspace_at(start.stage)
    start.prepare(ws, setup=False)
    exercise, answer = start.exercise, (____,) if start.answer else ()
    result = exercise.result(*answer, workspace=ws)
    assert isinstance(result, NotAttempted), result
    assert_one_line(result.message, ws)
    if not start.has_setup:
        return
    assert f"`{start.name}.setup()`" in result.message  # says what to run first
    exercise.setup(workspace=ws)
    ws = active_workspace()  # a setup may make the exercise a workspace of its own
    note = capsys.readouterr().out
    assert note.startswith("Setup: ") and note.count("\n") == 1, note
    assert_one_line(note, ws)
    result = exercise.result(*answer, workspace=ws)
    assert isinstance(result, NotAttempted), result
    assert_one_line(result.message, ws)


@each_exercise
def test_the_reference_solution_is_correct_and_the_check_changes_nothing(start, workspace_at):
    ws = start.prepare(workspace_at(start.stage))
    exercise = start.exercise
    answer = exercise._solve(ws)
    before = kernel_state(ws)
    result = exercise.result(*answer, workspace=ws)
    assert isinstance(result, Correct), result
    assert kernel_state(ws) == before
    assert_one_line(result.message, ws)


def _prose(html_text: str) -> tuple[str, set[str]]:
    """The HTML's text outside code, as it reads; and every word it shows (links included)."""
    root = ElementTree.fromstring(f"<div>{html_text}</div>")  # well-formed, or it raises
    words = set(
        re.findall(
            r"\w+", " ".join([*root.itertext(), *(a.get("href", "") for a in root.iter("a"))])
        )
    )
    for code in [*root.iter("pre"), *root.iter("code")]:
        code.clear()
    return "".join(root.itertext()), words


@each_exercise
def test_hints_and_the_solution_display_as_html_with_a_plain_twin(start, capsys, monkeypatch):
    exercise = type(start.exercise)()  # a fresh one: hints start at the first
    hints = exercise.hints
    assert hints and exercise.solution_text
    for _ in range(len(hints) + 1):  # every hint, then round again to the first
        exercise.hint()
    exercise.solution()
    lines = [f"Hint {i} of {len(hints)}: {hint}" for i, hint in enumerate(hints, 1)]
    assert (
        capsys.readouterr().out
        == "\n".join([*lines, lines[0], f"Solution:\n{exercise.solution_text}"]) + "\n"
    )

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda data, raw=False: shown.append(data))
    for level in range(1, len(hints) + 1):
        exercise.hint(level)
    exercise.solution()
    assert [bundle["text/plain"] for bundle in shown] == [
        *lines,
        f"Solution:\n{exercise.solution_text}",
    ]
    for bundle in shown:
        html_text = bundle["text/html"]
        prose, words = _prose(html_text)
        typed = re.sub(r"```\w*", "", bundle["text/plain"])  # a fence's language is not shown
        lost = set(re.findall(r"\w+", typed)) - words
        assert not lost, lost  # no word eaten as Markdown (`__init__` as bold "init")
        for markdown in ("`", "**", "](", "\n- "):  # rendered, not shown as typed
            assert markdown not in prose, (markdown, prose)
        for style in re.findall(r'<pre style="([^"]*)"', html_text):  # light and dark themes
            assert "color:var(--jp-" in style and "background:var(--jp-" in style, style
    blocks = exercise.solution_text.count("```") // 2
    assert shown[-1]["text/html"].count("<pre ") == blocks


@each_exercise
@pytest.mark.parametrize("done", ["first step", "every step"])
def test_the_solution_after_a_partial_attempt_finishes_it_or_names_the_step(
    start, done, workspace_at
):
    """A learner who did part of it (or all of it) and then applies the solution: Correct,
    or one line naming the step that cannot be applied."""
    ws = start.prepare(workspace_at(start.stage))
    exercise = start.exercise
    steps = [step for step in exercise.solution_steps if not isinstance(step, Note)]
    for step in steps[:1] if done == "first step" else steps:
        step.apply(ws)
    try:
        answer = exercise._solve(ws)
    except WorkspaceError as error:
        assert re.match(rf"step \d of {len(steps)} \(", str(error)), error
        assert_one_line(str(error), ws)
        return
    result = exercise.result(*answer, workspace=ws)
    assert isinstance(result, Correct), result
