"""What every exercise-checker test needs: the workspace's fingerprint and short asserts."""

import hashlib
import re
from pathlib import Path

from workbook.exercises import Incorrect, NotAttempted
from workbook.exercises.catalogue import EXERCISES


def state(ws) -> str:
    """Every file of the workspace (database included): a check must not change any."""
    digest = hashlib.sha256()
    files = (p for p in ws.path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in sorted(files):
        digest.update(str(path.relative_to(ws.path)).encode() + path.read_bytes())
    return digest.hexdigest()


def assert_incorrect(result, phrase):
    """Incorrect, with ``phrase`` in a one-line message that names no machine path."""
    assert isinstance(result, Incorrect), result
    assert phrase in result.message, result.message
    assert "\n" not in result.message and "/tmp" not in result.message


def assert_not_attempted(result, phrase):
    """NotAttempted, with ``phrase`` (what to do first) in its message."""
    assert isinstance(result, NotAttempted), result
    assert phrase in result.message, result.message


def run(ws, line):
    """An alembic command that must succeed."""
    result = ws.run(line)
    assert result.ok, result.error
    return result


def start(ws, chapter: str, name: str, setup: bool = True):
    """Bring ``ws`` (at the exercise's stage) to where exercise ``chapter``/``name`` starts,
    as workbook/exercises/catalogue.py says; returns the exercise's catalogue entry."""
    entry = next(e for e in EXERCISES if (e.chapter, e.name) == (chapter, name))
    entry.prepare(ws, setup=setup)
    return entry


_IMPORT = re.compile(r"from workbook\.exercises\.chapter(\d\d) import ([\w, ]+)")


def lesson_exercises(lesson: Path) -> list[str]:
    """The exercises a lesson imports (q1, q2, ...): a chapter in several lessons shares
    its exercise module, each lesson imports its own."""
    chapter = lesson.name[:2]
    imported = [
        name.strip()
        for found, names in _IMPORT.findall(lesson.read_text())
        if found == chapter
        for name in names.split(",")
        if re.fullmatch(r"q\d+", name.strip())
    ]
    return list(dict.fromkeys(imported))  # a setup cell imports its exercise again
