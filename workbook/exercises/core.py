"""Exercises in the style of Kaggle's learntools: ``q1.check()``, ``q1.hint()``, ``q1.solution()``.

A chapter module defines one small :class:`Exercise` subclass per question and an
instance of each (``q1``, ``q2``, ...). A subclass sets ``title``, ``hints`` (weakest
first) and its solution, and implements ``_check(workspace, *answer)``, which looks at
the learner's workspace (files, models, database) and returns one of the three results:

- :class:`NotAttempted`: nothing changed yet (or the answer is still ``____``);
- :class:`Incorrect`: what is wrong, and what to try;
- :class:`Correct`: what is right, in one sentence.

``check()`` never raises at the learner: a broken workspace, or a checker that cannot
read it, becomes an ``Incorrect`` with a one-line reason. Every message is plain,
deterministic text (no paths, no memory addresses), shown as coloured HTML with a
``text/plain`` twin in the same display bundle, so stored notebook outputs compare
exactly under nbval.

The solution of an exercise is a list of :class:`Step` objects: the same steps render
the text ``solution()`` shows and are applied by ``_solve()``, which the tests use, so
the tests check exactly what the solution shows. Each exercise has a line in
``catalogue.py`` (where it starts), and ``tests/test_exercise_contract.py`` holds every
exercise to this contract; helpers checkers share are in ``checks.py``.
"""

from __future__ import annotations

import html
import importlib
import re
import shlex
from pathlib import Path
from typing import Any, ClassVar

import mistune

from workbook.text import inline, one_line, relative
from workbook.workspace import Workspace, WorkspaceError, active_workspace, workspaces_root

__all__ = [
    "PLACEHOLDER",
    "____",
    "Result",
    "Correct",
    "Incorrect",
    "NotAttempted",
    "Exercise",
    "Problem",
    "NotStarted",
    "Step",
    "CodeLine",
    "code_cell",
    "Write",
    "Edit",
    "EditRevision",
    "Alembic",
    "Note",
    "Sql",
    "show",
    "REBUILD",
]

# What to do when the workspace lost what an exercise starts from.
REBUILD = "rebuild the workspace (run the chapter's first cell again)"


# -- the learner's unanswered variable ---------------------------------------------------
class _Placeholder:
    """The value of ``____``: an answer that was not given yet."""

    _instance: ClassVar[_Placeholder | None] = None

    def __new__(cls) -> _Placeholder:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "____"

    def __reduce__(self):  # copies and pickles stay the one placeholder
        return (_Placeholder, ())


PLACEHOLDER = _Placeholder()
____ = PLACEHOLDER


# -- results -------------------------------------------------------------------------------
class Result:
    """What a check found: a kind (Correct, Incorrect, NotAttempted) and a message."""

    label: ClassVar[str] = ""
    symbol: ClassVar[str] = ""
    colour: ClassVar[str] = ""
    ok: ClassVar[bool] = False

    def __init__(self, message: str = ""):
        self.message = str(message).strip()

    @property
    def plain(self) -> str:
        return (
            f"{self.symbol} {self.label}: {self.message}"
            if self.message
            else f"{self.symbol} {self.label}"
        )

    def html(self) -> str:
        head = f'<b style="color:{self.colour};{CHIP}">{self.symbol} {self.label}:</b>'
        return f'<div style="line-height:1.45">{head} {inline(self.message)}</div>'

    def __repr__(self) -> str:
        return self.plain

    def _repr_html_(self) -> str:
        return self.html()

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.message == other.message  # type: ignore

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.message))


class Correct(Result):
    label, symbol, colour, ok = "Correct", "✓", "#1a7f37", True


class Incorrect(Result):
    label, symbol, colour = "Incorrect", "✗", "#cf222e"


class NotAttempted(Result):
    label, symbol, colour = "Not attempted", "○", "#9a6700"


class Problem(Exception):
    """Raised by checker helpers: a problem of the workspace, shown as ``Incorrect(message)``."""

    shown_as: ClassVar[type[Result]] = Incorrect


class NotStarted(Problem):
    """Raised by checker helpers when the exercise is not started (its setup has not run, or
    what it made is unchanged): shown as ``NotAttempted(message)``."""

    shown_as = NotAttempted


# -- display -------------------------------------------------------------------------------
# Coloured labels and notes sit on a light chip of their own: every label colour here reads
# at 4.5:1 or more on it, on light and dark pages alike (on a dark page alone, none does).
CHIP = "background:#f6f8fa;padding:0 0.3em;border-radius:3px"
_SCRATCH = re.compile(r"\.scratch/[^/\s]+/?")  # a scratch copy's random folder name
# Code blocks set their text and background colours together, from JupyterLab's theme
# (light or dark) where there is one, else light: readable in every front end.
_PRE_STYLE = (
    "font-size:0.85em;line-height:1.35;padding:0.5em;overflow-x:auto;"
    "color:var(--jp-content-font-color1,#1f2328);"
    "background:var(--jp-cell-editor-background,#f6f8fa)"
)


class _HtmlRenderer(mistune.HTMLRenderer):
    def block_code(self, code: str, info: str | None = None) -> str:
        escaped = html.escape(code.rstrip("\n"), quote=False)
        return f'<pre style="{_PRE_STYLE}">{escaped}</pre>\n'


# Raw HTML in a hint is shown as text (escape=True), like everything else.
_markdown = mistune.create_markdown(renderer=_HtmlRenderer(escape=True))


def markdown_html(text: str) -> str:
    """Hint and solution Markdown as HTML (CommonMark, by mistune): paragraphs, `code`,
    fenced code blocks, **bold**, lists and links."""
    return str(_markdown(text)).strip()


def show(plain: str, html_text: str) -> None:
    """Display one output with a plain-text and an HTML form (print outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the workbook
        get_ipython = lambda: None  # noqa: E731
    if get_ipython() is None:
        print(plain)
        return
    from IPython.display import display

    display({"text/plain": plain, "text/html": html_text}, raw=True)


def unpath(text: str, *paths: Path) -> str:
    """``text`` with paths under ``paths`` (and the workspaces folder) made relative."""
    try:
        root = workspaces_root()
    except Exception:  # pragma: no cover
        root = None
    text = relative(text, *(Path(path) for path in paths), *([root] if root else []))
    return _SCRATCH.sub("", text)


def clean(text: str, *paths: Path) -> str:
    """The first line of ``text``, with paths made relative (see :func:`unpath`)."""
    lines = str(text).strip().splitlines()
    return unpath(lines[0] if lines else "", *paths)


# -- solution steps ----------------------------------------------------------------------
def _literal(text: str) -> str:
    """A Python string literal for ``text``: triple-quoted when that reads better."""
    if "\n" in text and '"""' not in text and "\\" not in text and not text.endswith('"'):
        return '"""' + text + '"""'
    return repr(text)


def code_cell(code: str) -> str:
    """``code`` as a Python code cell of a solution (Markdown)."""
    return f"```python\n{code}\n```"


class Step:
    """One thing a learner does: shown in the solution and applied by the tests."""

    def render(self) -> str:
        raise NotImplementedError

    def apply(self, workspace: Workspace) -> None:
        raise NotImplementedError


class CodeLine(Step):
    """A step given by one piece of text, shown as one line of code: ``shown`` with the
    text in its ``{}`` (``"%alembic {}"``)."""

    shown: ClassVar[str] = "{}"

    def __init__(self, text: str):
        self.text = text

    def render(self) -> str:
        return code_cell(self.shown.format(self.text))


class Note(Step):
    """A sentence between steps (nothing to apply)."""

    def __init__(self, text: str):
        self.text = text

    def render(self) -> str:
        return self.text

    def apply(self, workspace: Workspace) -> None:
        pass


class Write(Step):
    """Write a whole file (shown as a ``%%writefile`` cell)."""

    def __init__(self, path: str, text: str):
        self.path, self.text = path, text

    def render(self) -> str:
        return code_cell(f"%%writefile {self.path}\n{self.text.rstrip()}")

    def apply(self, workspace: Workspace) -> None:
        workspace.write(self.path, self.text)


class Edit(Step):
    """Replace one piece of a workspace file (shown as ``ws.edit(...)``)."""

    def __init__(self, path: str, old: str, new: str):
        self.path, self.old, self.new = path, old, new

    def _target(self) -> str:
        return repr(self.path)

    def render(self) -> str:
        return code_cell(f"ws.edit({self._target()},\n{_literal(self.old)},\n{_literal(self.new)})")

    def _file(self, workspace: Workspace) -> Path | str:
        return self.path

    def apply(self, workspace: Workspace) -> None:
        workspace.edit(self._file(workspace), self.old, self.new)


class EditRevision(Edit):
    """Replace one piece of a revision script (``ws.revision_file("head")`` by default)."""

    def __init__(self, old: str, new: str, revision: str = "head"):
        super().__init__("", old, new)
        self.revision = revision

    def _target(self) -> str:
        return f"ws.revision_file({self.revision!r})"

    def _file(self, workspace: Workspace) -> Path:
        return workspace.revision_file(self.revision)


class Alembic(CodeLine):
    """Run an alembic command (shown as ``%alembic ...``)."""

    shown = "%alembic {}"

    def apply(self, workspace: Workspace) -> None:
        words = shlex.split(self.text)
        if (
            words[:1] in (["revision"], ["merge"])
            and "-m" in words[:-1]
            and _has_revision(workspace, words[words.index("-m") + 1])
        ):
            return  # written already (a partial attempt): a second one would duplicate it
        result = workspace.run(words)
        if not result.ok:
            raise WorkspaceError(f"alembic {self.text} failed: {result.error}")


def _has_revision(workspace: Workspace, message: str) -> bool:
    return any(script.doc == message for script in workspace.script_directory().walk_revisions())


class Sql(CodeLine):
    """One SQL statement on the workspace database (shown as ``ws.sql(...)``)."""

    shown = 'ws.sql("{}")'

    def apply(self, workspace: Workspace) -> None:
        workspace.sql(self.text)


# -- exercises ----------------------------------------------------------------------------
def _record_progress(exercise: Exercise, result: Result) -> None:
    """Note the outcome in the learner's progress (``workbook.progress``), silently.

    Never fails a check: a progress file that cannot be written only goes unrecorded.
    """
    try:
        from workbook import progress

        progress.record_check(exercise, result)
    except Exception:  # noqa: BLE001
        pass


def _not_yet(waiting: list[str]) -> str:
    """The setup note of a setup that waits for the exercises ``waiting`` (``["q1"]``)."""
    numbers = " and ".join(name[1:] for name in waiting)
    if len(waiting) == 1:
        return (
            f"not yet: exercise {numbers} comes first (this setup would get in its way); "
            "do it, then run this cell again"
        )
    return (
        f"not yet: exercises {numbers} come first (this setup would get in their way); "
        "do them, then run this cell again"
    )


class Exercise:
    """One question. Subclasses set the class attributes and implement ``_check``."""

    title: ClassVar[str] = ""
    hints: ClassVar[list[str]] = []
    solution_intro: ClassVar[str] = ""
    solution_steps: ClassVar[list[Step]] = []
    solution_outro: ClassVar[str] = ""
    setup_note: ClassVar[str] = ""  # what setup() prepared, printed after it ran
    # Exercises of the chapter (``"q1"``) this one's setup would break if they are not
    # started yet: Run All runs every setup, so this setup waits for them.
    comes_after: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self._next_hint = 0

    def __repr__(self) -> str:
        return f"<Exercise: {self.title}>"

    # -- what subclasses implement ---------------------------------------------------
    def _check(self, workspace: Workspace, *answer: Any) -> Result:
        raise NotImplementedError

    def _setup(self, workspace: Workspace) -> str:
        """Prepare the workspace; return a one-line note of what was done."""
        return "nothing to prepare for this exercise"

    def _solve(self, workspace: Workspace) -> tuple:
        """Apply the reference solution; returns the answer to pass to ``check``.

        Steps already done (after a partial attempt) change nothing; a step that cannot
        be applied raises WorkspaceError naming it: ``step 2 of 4 (%alembic upgrade head)``.
        """
        done = [step for step in self.solution_steps if not isinstance(step, Note)]
        for number, step in enumerate(done, 1):
            try:
                step.apply(workspace)
            except Exception as error:
                shown = step.render().strip("`").removeprefix("python").strip().splitlines()
                reason = (
                    str(error)
                    if isinstance(error, WorkspaceError)
                    else one_line(error, workspace.path)
                )
                raise WorkspaceError(
                    f"step {number} of {len(done)} ({shown[0]}) could not be "
                    f"applied: {clean(reason, workspace.path)}"
                ) from error
        return ()

    def _waiting_for(self, workspace: Workspace) -> list[str]:
        """The exercises of ``comes_after`` not started in ``workspace`` nor ever checked
        Correct (``workbook.progress``): once done, later changes to them do not count."""
        if not self.comes_after:
            return []
        from workbook import progress

        module = importlib.import_module(type(self).__module__)
        chapter = module.__name__[-2:]
        try:
            done = progress.load().get(chapter, {})
        except Exception:  # noqa: BLE001 - an unreadable progress file: judge by the workspace
            done = {}
        return [
            name
            for name in self.comes_after
            if done.get(name) != "Correct"
            and isinstance(getattr(module, name).result(workspace=workspace), NotAttempted)
        ]

    @property
    def solution_text(self) -> str:
        parts = [
            self.solution_intro,
            *(s.render() for s in self.solution_steps),
            self.solution_outro,
        ]
        return "\n\n".join(part.strip("\n") for part in parts if part)

    # -- the learner's buttons ---------------------------------------------------------
    def result(self, *answer: Any, workspace: Workspace | None = None) -> Result:
        """The check's result, without displaying it (for tests and tools)."""
        try:
            workspace = workspace if workspace is not None else active_workspace()
        except WorkspaceError as error:
            return Incorrect(f"{error}")
        try:
            result = self._check(workspace, *answer)
        except Problem as problem:
            result = problem.shown_as(clean(str(problem), workspace.path))
        except Exception as error:  # never raise at the learner
            result = Incorrect(
                f"the checker could not read your workspace: {one_line(error, workspace.path)}"
            )
        if not isinstance(result, Result):  # a checker bug, said plainly
            result = Incorrect(f"the checker returned {type(result).__name__}, not a result")
        result.message = unpath(result.message, workspace.path)
        return result

    def check(self, *answer: Any, workspace: Workspace | None = None) -> None:
        """Check the answer (or the workspace) and show the result."""
        result = self.result(*answer, workspace=workspace)
        _record_progress(self, result)
        show(result.plain, result.html())

    def hint(self, level: int | None = None) -> None:
        """Show the next hint (each call a stronger one, then round again), or hint ``level``."""
        count = len(self.hints)
        if count == 0:
            show(
                "There is no hint for this exercise.", "<p>There is no hint for this exercise.</p>"
            )
            return
        if level is None:
            index = self._next_hint
        elif isinstance(level, int) and 1 <= level <= count:
            index = level - 1
        else:
            message = f"There are {count} hints: hint(1) to hint({count})."
            show(message, f"<p>{inline(message)}</p>")
            return
        self._next_hint = (index + 1) % count
        label = f"Hint {index + 1} of {count}"
        text = self.hints[index]
        body = markdown_html(text)
        if body.count("<p>") == 1 and body.startswith("<p>") and body.endswith("</p>"):
            body = body.removeprefix("<p>").removesuffix("</p>")  # one paragraph: inline
        show(
            f"{label}: {text}",
            f'<div style="line-height:1.45"><b style="color:#0969da;{CHIP}">{label}:</b> '
            f"{body}</div>",
        )

    def solution(self) -> None:
        """Show the solution."""
        text = self.solution_text
        show(
            f"Solution:\n{text}",
            f'<div style="line-height:1.45"><b style="color:#8250df;{CHIP}">Solution:</b>'
            f"{markdown_html(text)}</div>",
        )

    def setup(self, workspace: Workspace | None = None) -> None:
        """Prepare the workspace for this exercise (some exercises start from a mistake)."""
        try:
            workspace = workspace if workspace is not None else active_workspace()
            waiting = self._waiting_for(workspace)
            note = _not_yet(waiting) if waiting else self._setup(workspace)
        except Exception as error:
            where = [workspace.path] if isinstance(workspace, Workspace) else []
            message = (
                f"Setup could not run: {clean(one_line(error), *where)}. "
                f"{REBUILD.capitalize()}, then retry."
            )
            show(message, f'<div><span style="color:#cf222e;{CHIP}">{inline(message)}</span></div>')
            return
        message = f"Setup: {note}."
        show(message, f'<div><span style="color:#57606a;{CHIP}">{inline(message)}</span></div>')
