"""Every exercise of the workbook, and the workspace it starts from.

One :class:`Start` per ``qN`` of the ``chapterNN`` modules: the stage a workspace is built
at (``workbook.stages``), plus the steps its chapter takes before the exercise. The tests
build each exercise's starting state from here (``tests/test_exercise_contract.py`` checks
every exercise against the same contract, and that this list names every exercise).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from workbook.exercises.core import Alembic, Edit, Exercise, Step
from workbook.workspace import Workspace, active_workspace

__all__ = ["EXERCISES", "Start"]


@dataclass(frozen=True)
class Start:
    """Where exercise ``chapter``/``name`` starts.

    ``stage``: the workspace stage; ``steps``: what the chapter did after it, applied in
    order; ``answer``: whether ``check()`` takes an answer (``q1.check(answer)``).
    """

    chapter: str  # "05"
    name: str  # "q2"
    stage: str
    steps: tuple[Step, ...] = ()
    answer: bool = False

    @property
    def id(self) -> str:
        return f"chapter{self.chapter}.{self.name}"

    @property
    def exercise(self) -> Exercise:
        module = importlib.import_module(f"workbook.exercises.chapter{self.chapter}")
        return getattr(module, self.name)

    @property
    def has_setup(self) -> bool:
        return type(self.exercise)._setup is not Exercise._setup

    def prepare(self, workspace: Workspace, setup: bool = True) -> Workspace:
        """Apply the chapter's steps, then (with ``setup``) the exercise's setup if it has
        one; returns the workspace the exercise is done in (a setup may make one of its
        own and activate it, as chapter 06's do). A failure raises: the tests must not
        start from a broken state."""
        for step in self.steps:
            step.apply(workspace)
        if setup and self.has_setup:
            self.exercise._setup(workspace)
            return active_workspace()
        return workspace


# Chapter 08 starts at 0011 and adds books.language (revision 0012, the reference's head)
# before its exercises; the steps replay it.
_PAGE_COUNT = "    page_count: Mapped[Optional[int]] = mapped_column(default=None)\n"
_LANGUAGE = "    language: Mapped[Optional[str]] = mapped_column(String(10), default=None)\n"
_CHAPTER_08 = (
    Edit("app/models/book.py", _PAGE_COUNT, _PAGE_COUNT + _LANGUAGE),
    Alembic('revision --autogenerate -m "Add language to books"'),
    Alembic("upgrade head"),
)


def _starting_together(
    chapter: str, stage: str, *names: str, steps: tuple[Step, ...] = ()
) -> list[Start]:
    """The exercises ``names`` of ``chapter`` that all start at ``stage`` (after ``steps``),
    as chapters with one ``_STAGE`` for their exercises have them."""
    return [Start(chapter, name, stage, steps) for name in names]


EXERCISES = [
    Start("00", "q1", "0005", answer=True),
    Start("01", "q1", "configured"),
    Start("01", "q2", "models"),
    *_starting_together("02", "models", "q1", "q2"),
    *_starting_together("03", "0001", "q1", "q2"),
    *_starting_together("04", "0001", "q1", "q2", "q3"),
    *_starting_together("05", "0006", "q1", "q2", "q3"),
    Start("05", "q4", "0007", answer=True),
    Start("06", "q1", "0007"),
    Start("06", "q2", "0007", answer=True),
    *_starting_together("07", "0011", "q1", "q2", "q3", "q4"),
    Start("08", "q1", "0011", _CHAPTER_08),
    Start("08", "q2", "head"),
    *_starting_together("08", "0011", "q3", "q4", steps=_CHAPTER_08),
    *_starting_together("09", "head", "q1", "q2", "q3", "q4"),
]
