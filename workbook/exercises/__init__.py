"""Exercises at the end of each chapter: ``q1.check()``, ``q1.hint()``, ``q1.solution()``.

In a notebook::

    from workbook.exercises import ____
    from workbook.exercises.chapter00 import q1

    answer = ____          # replace ____ by your answer
    q1.check(answer)
"""

from workbook.exercises.core import (
    PLACEHOLDER,
    Correct,
    Exercise,
    Incorrect,
    NotAttempted,
    Result,
    ____,
)

__all__ = ["____", "PLACEHOLDER", "Correct", "Incorrect", "NotAttempted", "Result", "Exercise"]
