"""docs/INSTRUCTOR_GUIDE.md follows the chapters, and keeps what was written by hand.

The generated parts (chapter summaries, overview, pacing) must be exactly what
``tools/instructor_guide.py`` makes from the notebooks now: adding, renaming or
re-timing a chapter, or changing its objectives, fails here until
``python3 tasks.py guide`` is run. Whatever chapters exist at test time are the ones
the guide must list.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "INSTRUCTOR_GUIDE.md"
NOTEBOOKS = ROOT / "notebooks"
_spec = importlib.util.spec_from_file_location(
    "tools_instructor_guide", ROOT / "tools" / "instructor_guide.py"
)
guide_tool = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = guide_tool  # dataclasses look their module up
_spec.loader.exec_module(guide_tool)

REGENERATE = "docs/INSTRUCTOR_GUIDE.md is out of date: run `python3 tasks.py guide`"


def guide_text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def chapter_files() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


# -- the real guide, against the chapters as they are now ---------------------------------------
def test_the_generated_parts_are_what_the_chapters_say_now() -> None:
    text = guide_text()
    assert guide_tool.render(text, guide_tool.read_chapters()) == text, REGENERATE


def test_the_guide_lists_exactly_the_chapters_that_exist() -> None:
    expected = []
    for path in chapter_files():
        first = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"])
        expected.append(first.splitlines()[0].removeprefix("# "))
    assert expected, "no chapters found"
    assert guide_tool.listed_chapters(guide_text()) == expected, REGENERATE


def test_every_chapter_shows_its_time_and_objectives() -> None:
    text = guide_text()
    for chapter in guide_tool.read_chapters():
        section = text.split(f"### {chapter.name}\n", 1)[1].split("<!-- chapter", 1)[0]
        assert f"**Time:** {chapter.time_text}" in section
        minutes = f"{chapter.teaching_minutes} min teaching, {chapter.exercise_minutes} min"
        assert minutes in section
        for objective in chapter.objectives:
            assert f"- {objective}\n" in section


@pytest.mark.parametrize("path", chapter_files(), ids=lambda p: p.stem)
def test_every_chapter_has_hand_written_teaching_notes(path: Path) -> None:
    number = guide_tool.lesson_number(path.name)
    notes = guide_tool.notes_by_chapter(guide_text()).get(number, "")
    assert notes.strip() and notes.strip() != guide_tool.NOTES_PLACEHOLDER, (
        f"write the teaching notes of chapter {number} in docs/INSTRUCTOR_GUIDE.md"
    )
    assert "**Teaching notes.**" in notes and "**Where learners get stuck.**" in notes
    assert len(re.findall(r"^- ", notes, re.M)) >= 3, "at least three typical mistakes"


def test_the_guide_covers_getting_learners_unstuck() -> None:
    text = guide_text()
    for needle in (
        "Restart Kernel and Run All Cells",
        "ws.reset()",
        "Reset workspace",
        "alembic_version",
        "stamp --purge",
        "Multiple head revisions are present",
        "merge heads",
        "Target database is not up to date",
    ):
        assert needle in text, needle


def test_the_guide_explains_progress_and_its_resets() -> None:
    text = guide_text()
    for needle in (
        "progress.show()",
        "progress.widget()",
        'progress.reset("03")',
        "progress.reset()",
        "python3 tasks.py progress",
        "workspace/progress.json",
    ):
        assert needle in text, needle


def test_pacing_plans_fit_their_day() -> None:
    chapters = guide_tool.read_chapters()
    for sessions in (guide_tool.HALF_DAY, guide_tool.FULL_DAY):
        rows, left = guide_tool.schedule(chapters, sessions)
        ends = [start + length for start, length in sessions]
        assert rows[0][0] == sessions[0][0] and rows[-1][1] == ends[-1]
        assert all(a[1] == b[0] for a, b in itertools.pairwise(rows)), "no gaps, no overlaps"
        taught = [c for c in chapters if c not in left]
        assert taught == chapters[: len(taught)], "chapters in order"
        assert taught, "at least one chapter"
    assert "#### Half day" in guide_text() and "#### Full day" in guide_text()


def test_tasks_py_runs_the_generator() -> None:
    assert '"guide": script("tools/instructor_guide.py")' in (ROOT / "tasks.py").read_text()


def test_the_check_command_says_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "instructor_guide.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "is up to date" in result.stdout


# -- the generator, on copies: what makes the test above fail, and what it keeps ---------------
@pytest.fixture
def copies(tmp_path: Path) -> Path:
    """A notebooks folder with copies of chapters 00 and 01 (small and stable)."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for path in chapter_files()[:2]:
        shutil.copyfile(path, folder / path.name)
    return folder


def edit_first_cell(path: Path, old: str, new: str) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    source = "".join(notebook["cells"][0]["source"])
    assert old in source
    notebook["cells"][0]["source"] = source.replace(old, new, 1)
    path.write_text(json.dumps(notebook), encoding="utf-8")


def fresh_guide(copies: Path) -> str:
    return guide_tool.render(guide_text(), guide_tool.read_chapters(copies))


def test_a_new_chapter_makes_the_guide_out_of_date_until_regenerated(copies: Path) -> None:
    guide = fresh_guide(copies)
    new = copies / "02_new_chapter.ipynb"
    shutil.copyfile(copies / sorted(p.name for p in copies.iterdir())[1], new)
    edit_first_cell(new, "# 01 · Initialize and configure", "# 02 · A new chapter")
    chapters = guide_tool.read_chapters(copies)
    assert guide_tool.render(guide, chapters) != guide
    regenerated = guide_tool.render(guide, chapters)
    assert guide_tool.listed_chapters(regenerated)[-1] == "02 · A new chapter"
    assert guide_tool.render(regenerated, chapters) == regenerated


@pytest.mark.parametrize(
    "old,new",
    [
        ("# 01 · Initialize and configure", "# 01 · Set up Alembic"),  # renamed
        ("about 50 minutes", "about 55 minutes"),  # re-timed
        ("- know what to install", "- know exactly what to install"),  # objectives
    ],
    ids=["renamed", "time", "objectives"],
)
def test_a_changed_chapter_makes_the_guide_out_of_date(copies: Path, old: str, new: str) -> None:
    guide = fresh_guide(copies)
    edit_first_cell(next(copies.glob("01_*")), old, new)
    changed = guide_tool.render(guide, guide_tool.read_chapters(copies))
    assert changed != guide
    assert new.removeprefix("# ").removeprefix("- ") in changed


def test_notes_are_kept_by_number_hidden_while_the_chapter_is_missing(copies: Path) -> None:
    guide = fresh_guide(copies)
    notes = guide_tool.notes_by_chapter(guide)
    assert set(notes) >= {"00", "01"}
    # 02..09's notes are kept, hidden, while only 00 and 01 exist
    assert guide_tool.listed_chapters(guide) == [
        line.removeprefix("### ") for line in re.findall(r"^### \d\d · .+$", guide, re.M)
    ]
    assert [name[:2] for name in guide_tool.listed_chapters(guide)] == ["00", "01"]
    hidden = set(notes) - {"00", "01"}
    assert hidden and all(f"<!-- chapter {n} · hidden teaching notes" in guide for n in hidden)

    edited = guide.replace(notes["01"], notes["01"] + "\n\nA note added by an instructor.")
    next(copies.glob("01_*")).rename(copies / "01_renamed.ipynb")  # renamed: same number
    again = guide_tool.render(edited, guide_tool.read_chapters(copies))
    assert "A note added by an instructor." in guide_tool.notes_by_chapter(again)["01"]

    next(copies.glob("01_*")).unlink()  # chapter 01 goes away: its notes stay, hidden
    without = guide_tool.render(again, guide_tool.read_chapters(copies))
    assert [name[:2] for name in guide_tool.listed_chapters(without)] == ["00"]
    assert "A note added by an instructor." in guide_tool.notes_by_chapter(without)["01"]
    assert "<!-- chapter 01 · hidden teaching notes" in without

    shutil.copyfile(chapter_files()[1], copies / chapter_files()[1].name)  # and comes back
    back = guide_tool.render(without, guide_tool.read_chapters(copies))
    assert "<!-- chapter 01 · hidden teaching notes" not in back
    assert "A note added by an instructor." in guide_tool.notes_by_chapter(back)["01"]


def test_a_chapter_without_notes_gets_the_placeholder(copies: Path) -> None:
    guide = fresh_guide(copies)
    notes = guide_tool.notes_by_chapter(guide)["01"]
    rendered = guide_tool.render(guide.replace(notes, ""), guide_tool.read_chapters(copies))
    assert guide_tool.notes_by_chapter(rendered)["01"] == guide_tool.NOTES_PLACEHOLDER


def test_hand_written_text_outside_the_blocks_is_kept(copies: Path) -> None:
    guide = fresh_guide(copies).replace(
        "## Before the workshop", "## Before the workshop\n\nBring coffee.", 1
    )
    assert "Bring coffee." in guide_tool.render(guide, guide_tool.read_chapters(copies))


@pytest.mark.parametrize(
    "time_text,minutes,exercises",
    [
        ("about 15 minutes", 15, 5),
        ("about 1 hour 15 minutes", 75, 5),  # one exercise: 8 minutes, in steps of 5
        ("about 90 minutes (60 teaching, 30 exercises)", 90, 30),
    ],
)
def test_minutes_from_the_time_line(
    copies: Path, time_text: str, minutes: int, exercises: int
) -> None:
    path = next(copies.glob("00_*"))
    edit_first_cell(path, "about 15 minutes", time_text)
    chapter = guide_tool.read_chapter(path)
    assert (chapter.minutes, chapter.exercise_minutes) == (minutes, exercises)


def test_a_chapter_without_minutes_is_refused_clearly(copies: Path) -> None:
    path = next(copies.glob("00_*"))
    edit_first_cell(path, "about 15 minutes", "a short while")
    with pytest.raises(guide_tool.GuideError, match="no minutes in the Time line"):
        guide_tool.read_chapter(path)
