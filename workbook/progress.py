"""What the learner has done: the outcome of every exercise check, kept across restarts.

Each ``qN.check()`` records its outcome (Correct, Incorrect or NotAttempted) for its
chapter and exercise in ``progress.json`` in the workspaces folder (``workspace/``, or
``$WORKBOOK_WORKSPACES``), so it survives kernel restarts and is the same for every
notebook::

    from workbook import progress

    progress.show()          # chapters × exercises: ✓ correct, ✗ incorrect, ○ not attempted
    progress.widget()        # the same table with a Refresh button
    progress.reset("03")     # forget chapter 03's outcomes
    progress.reset()         # forget everything

What is kept, and what clears it:

- The **latest** check of each exercise counts (and how many checks there were): it
  says where the learner stands now, like the check itself. A "not attempted" never
  replaces a right or wrong answer already recorded: it only says that the exercise's
  workspace is fresh (*Run All* runs every check cell right after its setup).
- Rebuilding a chapter's workspace (its first cell, ``ws.reset()``, the timeline's
  *Reset workspace*, *Restart Kernel and Run All Cells*) changes no progress: the
  workspace is scratch, the outcomes are the learner's. Running the chapter's checks
  again records them again.
- ``progress.reset("03")`` clears chapter 03's entries and no other chapter's.
- Resetting **all** workspaces (deleting the workspaces folder, or
  ``python3 tasks.py progress reset``) clears all progress: the file lives there.

Outputs are deterministic (no times, no paths): a stored notebook output of
``progress.show()`` only changes when the outcomes do. From a terminal:
``python -m workbook.progress [reset [NN]]``.
"""

from __future__ import annotations

import contextlib
import html
import importlib
import json
import os
import pkgutil
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from workbook.workspace import workspaces_root

__all__ = [
    "FILE_NAME",
    "OUTCOMES",
    "path",
    "load",
    "record",
    "record_check",
    "reset",
    "table",
    "show",
    "widget",
    "ProgressTable",
    "ProgressView",
]

FILE_NAME = "progress.json"
FORMAT = 1
# outcome -> (symbol, colour, label); the symbols and colours of workbook.exercises' results
OUTCOMES = {
    "Correct": ("✓", "#1a7f37", "correct"),
    "Incorrect": ("✗", "#cf222e", "incorrect"),
    "NotAttempted": ("○", "#9a6700", "not attempted"),
}
NOT_CHECKED = "NotAttempted"  # an exercise never checked shows as not attempted
_CHAPTER = re.compile(r"^\d\d$")
_EXERCISE = re.compile(r"^q(\d+)$")
_MODULE = re.compile(r"^workbook\.exercises\.chapter(\d\d)$")


# -- the file ---------------------------------------------------------------------------------
def path() -> Path:
    """Where progress is kept: ``progress.json`` in the workspaces folder."""
    return workspaces_root() / FILE_NAME


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    """Serialise read-modify-write between kernels (POSIX; elsewhere the last writer wins)."""
    folder = path().parent
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f".{FILE_NAME}.lock", "a") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read() -> dict:
    try:
        data = json.loads(path().read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or not readable: start again
        return {}
    chapters = data.get("chapters") if isinstance(data, dict) else None
    if not isinstance(chapters, dict):
        return {}
    clean: dict[str, dict[str, dict]] = {}
    for chapter, exercises in chapters.items():
        if not (_CHAPTER.match(str(chapter)) and isinstance(exercises, dict)):
            continue
        for exercise, entry in exercises.items():
            if (
                _EXERCISE.match(str(exercise))
                and isinstance(entry, dict)
                and entry.get("outcome") in OUTCOMES
            ):
                clean.setdefault(chapter, {})[exercise] = {
                    "outcome": entry["outcome"],
                    "checks": int(entry.get("checks", 1)),
                }
    return clean


def _write(chapters: dict) -> None:
    """Write atomically: a kernel reading at the same time sees the old or the new file."""
    target = path()
    text = (
        json.dumps(
            {"format": FORMAT, "chapters": chapters}, indent=2, sort_keys=True, ensure_ascii=False
        )
        + "\n"
    )
    handle, partial = tempfile.mkstemp(prefix=f".{FILE_NAME}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


def load() -> dict[str, dict[str, str]]:
    """``{"03": {"q1": "Correct", ...}, ...}``: the latest outcome of each checked exercise."""
    return {
        chapter: {exercise: entry["outcome"] for exercise, entry in exercises.items()}
        for chapter, exercises in _read().items()
    }


def checks() -> dict[str, dict[str, int]]:
    """``{"03": {"q1": 2}}``: how many times each exercise was checked."""
    return {
        chapter: {exercise: entry["checks"] for exercise, entry in exercises.items()}
        for chapter, exercises in _read().items()
    }


# -- recording ----------------------------------------------------------------------------------
def _outcome_name(outcome) -> str:
    """ "Correct", "Incorrect" or "NotAttempted", from that name or a check's result object."""
    if isinstance(outcome, str):
        names = [outcome]
    else:  # a Result: its class, or the workbook result class it derives from
        names = [cls.__name__ for cls in type(outcome).__mro__]
    for name in names:
        if name in OUTCOMES:
            return name
    raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")


def record(chapter: str | int, exercise: str, outcome) -> None:
    """Record one check: ``record("03", "q1", "Correct")`` (or a Result object)."""
    chapter = f"{int(chapter):02d}"
    if not _EXERCISE.match(exercise):
        raise ValueError(f"exercise must be named like 'q1', not {exercise!r}")
    name = _outcome_name(outcome)
    with _locked():
        chapters = _read()
        entry = chapters.setdefault(chapter, {}).get(exercise, {"checks": 0})
        if name == NOT_CHECKED and entry.get("outcome", NOT_CHECKED) != NOT_CHECKED:
            name = entry["outcome"]  # a fresh workspace is not a wrong answer
        chapters[chapter][exercise] = {"outcome": name, "checks": entry["checks"] + 1}
        _write(chapters)


def identify(exercise) -> tuple[str, str] | None:
    """(chapter, name) of an exercise object: the ``qN`` of a loaded chapter module it is."""
    for module_name, module in list(sys.modules.items()):
        match = _MODULE.match(module_name)
        if not match or module is None:
            continue
        for name, value in list(vars(module).items()):
            if value is exercise and _EXERCISE.match(name):
                return match.group(1), name
    return None


def record_check(exercise, result) -> bool:
    """Record what ``exercise.check()`` found; quietly nothing for an unknown exercise.

    Called by ``Exercise.check()``; returns whether something was recorded.
    """
    where = identify(exercise)
    if where is None:
        return False
    record(*where, result)
    return True


def reset(chapter: str | int | None = None) -> None:
    """Forget the outcomes of ``chapter`` (e.g. ``"03"``), or of every chapter."""
    with _locked():
        if chapter is None:
            with contextlib.suppress(FileNotFoundError):
                path().unlink()
            return
        chapters = _read()
        if chapters.pop(f"{int(chapter):02d}", None) is not None:
            _write(chapters)


# -- what there is to do ----------------------------------------------------------------------
def catalogue() -> dict[str, tuple[str, dict[str, str]]]:
    """``{"03": ("Autogenerate, review, apply", {"q1": "title", ...})}`` of every chapter module.

    A chapter module that cannot be imported (one being written) is left out.
    """
    from workbook import exercises as package
    from workbook.exercises.core import Exercise

    found = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        match = re.fullmatch(r"chapter(\d\d)", info.name)
        if not match:
            continue
        try:
            module = importlib.import_module(f"{package.__name__}.{info.name}")
        except Exception:  # noqa: BLE001 - a half-written chapter must not break the table
            continue
        title = re.match(r"\s*Chapter \d\d · ([^:\n]+)", module.__doc__ or "")
        questions = {
            name: value.title
            for name, value in vars(module).items()
            if _EXERCISE.match(name) and isinstance(value, Exercise)
        }
        found[match.group(1)] = (title.group(1).strip() if title else "", questions)
    return found


def _by_number(names) -> list[str]:
    return sorted(names, key=lambda name: int(_EXERCISE.match(name).group(1)))


class ProgressTable:
    """Chapters × exercises, as text and as an HTML table (what ``show()`` displays)."""

    def __init__(
        self, outcomes: dict[str, dict[str, str]], known: dict[str, tuple[str, dict[str, str]]]
    ):
        self.outcomes, self.known = outcomes, known
        self.chapters = sorted(set(outcomes) | set(known))
        self.columns = _by_number({q for c in self.chapters for q in self._exercises(c)})

    def _exercises(self, chapter: str) -> list[str]:
        known = self.known.get(chapter, ("", {}))[1]
        return _by_number(set(known) | set(self.outcomes.get(chapter, {})))

    def _outcome(self, chapter: str, exercise: str) -> str | None:
        if exercise not in self._exercises(chapter):
            return None
        return self.outcomes.get(chapter, {}).get(exercise, NOT_CHECKED)

    def _label(self, chapter: str) -> str:
        title = self.known.get(chapter, ("", {}))[0]
        return f"{chapter} · {title}" if title else chapter

    def _done(self, chapter: str) -> tuple[int, int]:
        names = self._exercises(chapter)
        return sum(self._outcome(chapter, q) == "Correct" for q in names), len(names)

    @property
    def summary(self) -> str:
        done = [self._done(c) for c in self.chapters]
        correct, total = sum(d[0] for d in done), sum(d[1] for d in done)
        return f"Progress: {correct} of {total} exercises correct"

    @property
    def legend(self) -> str:
        return " · ".join(f"{symbol} {label}" for symbol, _colour, label in OUTCOMES.values())

    def __repr__(self) -> str:
        if not self.chapters:
            return "Progress: no exercises yet."
        width = max(len(self._label(c)) for c in self.chapters)
        lines = [
            f"{self.summary} ({self.legend})",
            "",
            "  ".join(["Chapter".ljust(width), *(q.rjust(3) for q in self.columns), "done"]),
        ]
        for chapter in self.chapters:
            cells = []
            for exercise in self.columns:
                outcome = self._outcome(chapter, exercise)
                cells.append((OUTCOMES[outcome][0] if outcome else "").rjust(3))
            correct, total = self._done(chapter)
            lines.append(
                "  ".join(
                    [self._label(chapter).ljust(width), *cells, f"{correct}/{total}"]
                ).rstrip()
            )
        return "\n".join(lines)

    def html(self) -> str:
        if not self.chapters:
            return "<p>Progress: no exercises yet.</p>"
        cell = 'style="padding:0.2em 0.7em;border-bottom:1px solid #d0d7de;text-align:{}"'
        head = "".join(f"<th {cell.format('center')}>{q}</th>" for q in self.columns)
        rows = []
        for chapter in self.chapters:
            tds = []
            titles = self.known.get(chapter, ("", {}))[1]
            for exercise in self.columns:
                outcome = self._outcome(chapter, exercise)
                if outcome is None:
                    tds.append(f"<td {cell.format('center')}></td>")
                    continue
                symbol, colour, label = OUTCOMES[outcome]
                title = titles.get(exercise)
                tip = html.escape(
                    f"{chapter} {exercise}" + (f": {title}" if title else "") + f" ({label})",
                    quote=True,
                )
                tds.append(
                    f'<td {cell.format("center")} title="{tip}">'
                    f'<b style="color:{colour}">{symbol}</b></td>'
                )
            correct, total = self._done(chapter)
            rows.append(
                f"<tr><td {cell.format('left')}>{html.escape(self._label(chapter))}</td>"
                + "".join(tds)
                + f"<td {cell.format('right')}>{correct}/{total}</td></tr>"
            )
        legend = " · ".join(
            f'<b style="color:{colour}">{symbol}</b> {label}'
            for symbol, colour, label in OUTCOMES.values()
        )
        return (
            f'<div class="workbook-progress" style="line-height:1.45">'
            f"<p><b>{html.escape(self.summary)}</b> ({legend})</p>"
            f'<table style="border-collapse:collapse"><thead><tr>'
            f"<th {cell.format('left')}>Chapter</th>{head}<th {cell.format('right')}>done</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )

    def _repr_html_(self) -> str:
        return self.html()


def table() -> ProgressTable:
    """The progress table now (display it, or ``repr()`` it for text)."""
    return ProgressTable(load(), catalogue())


def show() -> None:
    """Display the progress table (text/plain and HTML; printed outside IPython)."""
    from workbook.exercises.core import show as display

    now = table()
    display(repr(now), now.html())


class ProgressView:
    """The progress table in a widget, with a Refresh button (after more checks)."""

    def __init__(self) -> None:
        import ipywidgets as widgets

        self.button = widgets.Button(
            description="Refresh", icon="refresh", tooltip="read progress.json again"
        )
        self.view = widgets.HTML()
        self.button.on_click(lambda _button: self.refresh())
        self.widget = widgets.VBox([self.view, self.button])
        self.refresh()

    def refresh(self) -> ProgressTable:
        self.table = table()
        self.view.value = self.table.html()
        return self.table

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
        bundle["text/plain"] = repr(self.table)  # what plain viewers (and nbval) see
        bundle["text/html"] = self.table.html()
        return bundle

    def __repr__(self) -> str:
        return repr(self.table)


def widget() -> ProgressView:
    """The progress table as a widget with a Refresh button."""
    return ProgressView()


def main(argv: list[str]) -> int:
    """``python -m workbook.progress`` shows progress; ``... reset [NN]`` clears it."""
    if argv[:1] == ["reset"] and len(argv) <= 2:
        chapter = argv[1] if len(argv) == 2 else None
        if chapter is not None and not chapter.isdigit():
            print(f"usage: python -m workbook.progress reset [NN]  (not {chapter!r})")
            return 2
        if chapter is not None and f"{int(chapter):02d}" not in catalogue():
            print(
                f"There is no chapter {int(chapter):02d}: the chapters are "
                f"{', '.join(catalogue())}. Nothing was cleared."
            )
            return 2
        reset(chapter)
        which = f"chapter {int(chapter):02d}'s" if chapter is not None else "all"
        print(f"Cleared {which} progress in {path()}.")
        return 0
    if argv:
        print("usage: python -m workbook.progress [reset [NN]]")
        return 2
    print(repr(table()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
