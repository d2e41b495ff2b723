"""Checklist results: one line per part of an exercise, each done, wrong or still to do.

An exercise of several parts (chapter 09's capstone, the broken workspace) answers with a
summary and a list: plain text shows a line per part, HTML a list. The result's
``message`` stays one line (the summary and the parts joined), for tests and tools.
"""

from __future__ import annotations

import html

from workbook.exercises.core import CHIP, Correct, Incorrect, NotAttempted, Result
from workbook.text import inline

DONE, WRONG, TODO = "✓", "✗", "○"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


class _Checklist:
    """A result made of a summary and ``(mark, part, detail)`` items."""

    def __init__(self, summary: str, items: list[tuple[str, str, str]]):
        self.summary = summary
        self.items = [(mark, part, _sentence(detail)) for mark, part, detail in items]
        joined = " ".join(f"{mark} {part}: {detail}" for mark, part, detail in self.items)
        super().__init__(f"{summary} {joined}")  # type: ignore[call-arg]

    @property
    def plain(self) -> str:
        lines = [f"{self.symbol} {self.label}: {self.summary}"]  # type: ignore[attr-defined]
        lines += [f"  {mark} {part}: {detail}" for mark, part, detail in self.items]
        return "\n".join(lines)

    def html(self) -> str:
        colours = {DONE: "#1a7f37", WRONG: "#cf222e", TODO: "#9a6700"}
        rows = "".join(
            f'<li><b style="color:{colours[mark]};{CHIP}">{mark} {html.escape(part)}:</b> '
            f"{inline(detail)}</li>"
            for mark, part, detail in self.items
        )
        colour = self.colour  # type: ignore[attr-defined]
        head = (
            f'<b style="color:{colour};{CHIP}">{self.symbol} '  # type: ignore[attr-defined]
            f"{self.label}:</b> {inline(self.summary)}"
        )  # type: ignore[attr-defined]
        return (
            f'<div style="line-height:1.45">{head}'
            f'<ul style="list-style:none;padding-left:1em;margin:0.2em 0">{rows}</ul></div>'
        )


class CorrectChecklist(_Checklist, Correct):
    pass


class IncorrectChecklist(_Checklist, Incorrect):
    pass


class NotAttemptedChecklist(_Checklist, NotAttempted):
    pass


def checklist(
    items: list[tuple[str, str, str]], correct: str, not_attempted: str, progress: str
) -> Result:
    """Correct when every item is done, NotAttempted when none is started, else Incorrect.

    ``progress`` is formatted with ``done`` and ``total``.
    """
    done = sum(mark == DONE for mark, _, _ in items)
    if done == len(items):
        return CorrectChecklist(correct, items)
    if all(mark == TODO for mark, _, _ in items):
        return NotAttemptedChecklist(not_attempted, items)
    return IncorrectChecklist(progress.format(done=done, total=len(items)), items)
