"""Keep docs/INSTRUCTOR_GUIDE.md true to the chapters.

    python3 tasks.py guide            rewrite the generated parts of the guide
    python3 tasks.py guide --check    only say whether they are up to date (exit 1 if not)

The guide mixes two kinds of text:

- **generated** (between ``<!-- BEGIN GENERATED ... -->`` and ``<!-- END GENERATED ... -->``,
  and each chapter's summary): every chapter's title, minutes and objectives, read from
  the chapter's first cell (``# NN · Title``, ``**Time:** about N minutes`` and the
  bullets after "By the end of this chapter you will"), the overview table and the
  pacing plans computed from those minutes;
- **hand-written**: everything else, and each chapter's teaching notes. The notes are
  kept by chapter number when the guide is regenerated. Notes of a chapter that is not
  in notebooks/ (one still being written, or one removed) are kept too, hidden in an
  HTML comment, and come back when a chapter with that number does.

The exercise minutes are the chapter's own when its Time line says so ("about 60
minutes (40 teaching, 20 exercises)"); otherwise an estimate: 8 minutes per exercise,
at most 40 % of the chapter, in steps of 5 minutes.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
GUIDE = ROOT / "docs" / "INSTRUCTOR_GUIDE.md"
COMMAND = "python3 tasks.py guide"

MINUTES_PER_EXERCISE = 8
EXERCISE_SHARE = 0.4
# Pacing: sessions (start minute of the day, length), a break after about 90 minutes.
HALF_DAY = [(9 * 60, 210)]  # 09:00-12:30
FULL_DAY = [(9 * 60, 210), (13 * 60 + 30, 210)]  # 09:00-12:30, lunch, 13:30-17:00
BREAK_AFTER, BREAK_MINUTES = 90, 15

NOTES_PLACEHOLDER = f"*(No teaching notes yet: write them here; `{COMMAND}` keeps them.)*"
_HIDDEN = re.compile(
    r"<!-- chapter (\d\d(?:_\d)?) · hidden teaching notes[^\n]*\n(.*?)\n-->\n*", re.S
)
_MARK = re.compile(r"<!-- chapter (\d\d(?:_\d)?) · (generated|teaching notes)\b[^\n]*?-->\n?")
_BLOCK = re.compile(
    r"(<!-- BEGIN GENERATED (\w+)[^\n]*?-->\n)(.*?)(<!-- END GENERATED \2 -->)", re.S
)


class GuideError(Exception):
    """A chapter or the guide is not shaped as this script expects; one line, said plainly."""


# -- the chapters -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Chapter:
    number: str  # "03", or "09_1" for part 1 of a chapter split into lessons
    file: str  # "03_autogenerate.ipynb"
    title: str
    time_text: str  # "about 45 minutes", as the chapter says it
    minutes: int
    exercise_minutes: int
    exercises: tuple[str, ...]  # ("q1", "q2")
    objectives: tuple[str, ...]

    @property
    def teaching_minutes(self) -> int:
        return self.minutes - self.exercise_minutes

    @property
    def name(self) -> str:
        """The lesson's heading: "07 · Rollback and recovery, part 1: ..." for 07_1 too."""
        return f"{self.number[:2]} · {self.title}"


def _minutes(text: str, where: str) -> int:
    """Minutes in "about 45 minutes", "1 hour 15 minutes", "40-50 minutes" (the upper end)."""
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)\s*(hours?|h\b|minutes?|mins?\b)", text):
        total += float(amount) * (60 if unit.startswith("h") else 1)
    if total == 0:
        raise GuideError(
            f"{where}: no minutes in the Time line {text!r}; "
            "write e.g. '**Time:** about 40 minutes'"
        )
    return round(total)


def lesson_number(file_name: str) -> str:
    """``"03"`` for ``03_autogenerate.ipynb``; ``"09_1"`` for ``09_1_<name>.ipynb``, part 1
    of a chapter split into lessons."""
    return re.match(r"\d\d(?:_\d(?=_))?", file_name).group()


def read_chapter(path: Path) -> Chapter:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = notebook["cells"]
    first = "".join(cells[0]["source"]) if cells and cells[0]["cell_type"] == "markdown" else ""
    number = lesson_number(path.name)
    title = re.match(rf"# {number[:2]} · (.+)", first)
    if not title:
        raise GuideError(f"{path.name}: the first cell must start with '# {number[:2]} · Title'")
    time_line = re.search(r"\*\*Time:\*\*\s*([^·\n]+)", first)
    if not time_line:
        raise GuideError(f"{path.name}: the first cell has no '**Time:** about N minutes'")
    time_text = time_line.group(1).strip()
    split = re.search(r"\(([^)]*)\)", time_text)
    total_text = time_text[: split.start()] if split else time_text
    minutes = _minutes(total_text, path.name)

    objectives = []
    lines = first.split("By the end of this chapter you will", 1)
    if len(lines) < 2:
        raise GuideError(f"{path.name}: no 'By the end of this chapter you will' bullets")
    for line in lines[1].splitlines()[1:]:  # the first is the rest of the bold line
        if line.startswith(("- ", "* ")):
            objectives.append(line[2:].strip())
        elif objectives and line.startswith("  ") and line.strip():  # a continued bullet
            objectives[-1] += " " + line.strip()
        elif objectives:
            break
    if not objectives:
        raise GuideError(f"{path.name}: no bullets after 'By the end of this chapter you will'")

    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    exercises = tuple(sorted(set(re.findall(r"\b(q\d+)\.check\(", code)), key=lambda q: int(q[1:])))
    stated = (
        re.search(r"(\d+)\s*(?:min(?:utes)?\s*)?(?:of\s+)?exercises?\b", split.group(1))
        if split
        else None
    )
    if stated:
        exercise_minutes = int(stated.group(1))
    else:
        estimate = min(MINUTES_PER_EXERCISE * len(exercises), EXERCISE_SHARE * minutes)
        exercise_minutes = max(5, int(estimate // 5) * 5) if exercises else 0
    if exercise_minutes >= minutes:
        raise GuideError(f"{path.name}: {exercise_minutes} exercise minutes of {minutes} in all")
    return Chapter(
        number,
        path.name,
        title.group(1).strip(),
        time_text,
        minutes,
        exercise_minutes,
        exercises,
        tuple(objectives),
    )


def read_chapters(folder: Path = NOTEBOOKS) -> list[Chapter]:
    chapters = [read_chapter(path) for path in sorted(folder.glob("[0-9][0-9]_*.ipynb"))]
    numbers = [c.number for c in chapters]
    if len(set(numbers)) != len(numbers):
        raise GuideError(f"two notebooks share a chapter number: {sorted(numbers)}")
    return chapters


# -- generated text -----------------------------------------------------------------------------
def _split(chapter: Chapter) -> str:
    return f"{chapter.teaching_minutes} + {chapter.exercise_minutes}"


def overview(chapters: list[Chapter]) -> str:
    rows = ["| # | Chapter | Minutes | Teaching + exercises | Exercises |", "|---|---|--:|--:|---|"]
    for c in chapters:
        rows.append(
            f"| {c.number.replace('_', '.')} | [{c.title}](../notebooks/{c.file}) | {c.minutes} | "
            f"{_split(c)} | {', '.join(f'`{q}`' for q in c.exercises) or '—'} |"
        )
    total = sum(c.minutes for c in chapters)
    rows.append(
        f"| | **All {len(chapters)} chapters** | **{total}** | "
        f"{sum(c.teaching_minutes for c in chapters)} + "
        f"{sum(c.exercise_minutes for c in chapters)} | "
        f"{sum(len(c.exercises) for c in chapters)} |"
    )
    return "\n".join(rows) + f"\n\n{_clock(total)} of chapters in all, without breaks.\n"


def chapter_summary(chapter: Chapter) -> str:
    count = len(chapter.exercises)
    exercises = (
        (
            f"{count} exercise{'s' if count != 1 else ''}: "
            + ", ".join(f"`{q}`" for q in chapter.exercises)
        )
        if count
        else "no exercises"
    )
    lines = [
        f"### {chapter.name}",
        "",
        f"[`notebooks/{chapter.file}`](../notebooks/{chapter.file}) · "
        f"**Time:** {chapter.time_text} · about {chapter.teaching_minutes} min teaching, "
        f"{chapter.exercise_minutes} min exercises ({exercises})",
        "",
        "**Objectives** (the chapter's own list: *By the end of this chapter you will*)",
        "",
    ]
    lines += [f"- {objective}" for objective in chapter.objectives]
    return "\n".join(lines) + "\n"


def _clock(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def _time(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def schedule(chapters: list[Chapter], sessions: list[tuple[int, int]]):
    """Rows (start, end, what) in chapter order, with breaks; and the chapters left over.

    A chapter is never split across sessions; a break comes at the first chapter boundary
    after about 90 minutes without one.
    """
    rows, queue = [], list(chapters)
    for number, (start, length) in enumerate(sessions):
        if number:
            rows.append((sessions[number - 1][0] + sessions[number - 1][1], start, "*lunch*"))
        now, end, since_break = start, start + length, 0
        while queue and now + queue[0].minutes <= end:
            if since_break >= BREAK_AFTER and now + BREAK_MINUTES + queue[0].minutes <= end:
                rows.append((now, now + BREAK_MINUTES, "*break*"))
                now, since_break = now + BREAK_MINUTES, 0
            chapter = queue.pop(0)
            rows.append((now, now + chapter.minutes, f"{chapter.name} ({_split(chapter)})"))
            now += chapter.minutes
            since_break += chapter.minutes
        if now < end:
            rows.append((now, end, "*questions, catch-up, wrap-up*"))
    return rows, queue


def pacing_table(chapters: list[Chapter], sessions: list[tuple[int, int]]) -> str:
    rows, left = schedule(chapters, sessions)
    lines = ["| Time | Block |", "|---|---|"]
    lines += [f"| {_time(start)}–{_time(end)} | {what} |" for start, end, what in rows]
    taught = sum(c.minutes for c in chapters if c not in left)
    text = "\n".join(lines) + f"\n\nChapters: {_clock(taught)}."
    if left:
        text += (
            " Not in this plan (homework, or a second session): "
            + ", ".join(c.name for c in left)
            + "."
        )
    return text + "\n"


def pacing(chapters: list[Chapter]) -> str:
    return (
        "#### Half day (09:00–12:30)\n\n"
        + pacing_table(chapters, HALF_DAY)
        + "\n#### Full day (09:00–17:00, lunch 12:30–13:30)\n\n"
        + pacing_table(chapters, FULL_DAY)
    )


GENERATORS = {"overview": overview, "pacing": pacing}


# -- the guide ------------------------------------------------------------------------------
def _notes(chapters_block: str) -> dict[str, str]:
    """Teaching notes by chapter number, visible and hidden, from the chapters block."""
    notes: dict[str, str] = {}
    for number, text in _HIDDEN.findall(chapters_block):
        notes[number] = text.strip("\n")
    visible = _HIDDEN.sub("", chapters_block)
    marks = list(_MARK.finditer(visible))
    for index, mark in enumerate(marks):
        if mark.group(2) != "teaching notes":
            continue
        end = marks[index + 1].start() if index + 1 < len(marks) else len(visible)
        notes[mark.group(1)] = visible[mark.end() : end].strip("\n")
    return notes


def chapters_block(chapters: list[Chapter], notes: dict[str, str]) -> str:
    parts = []
    for chapter in chapters:
        parts.append(
            f"<!-- chapter {chapter.number} · generated from notebooks/{chapter.file}: "
            f"edit the notebook, then run {COMMAND} -->\n" + chapter_summary(chapter)
        )
        text = notes.get(chapter.number, "").strip("\n")
        if not text.strip() or text.strip() == NOTES_PLACEHOLDER:
            text = NOTES_PLACEHOLDER
        parts.append(
            f"<!-- chapter {chapter.number} · teaching notes (hand-written; "
            f"{COMMAND} keeps them) -->\n{text}\n"
        )
    existing = {c.number for c in chapters}
    for number in sorted(set(notes) - existing):
        text = notes[number].strip("\n")
        if not text.strip() or text.strip() == NOTES_PLACEHOLDER:
            continue
        if "-->" in text:
            raise GuideError(
                f"the notes of chapter {number} contain '-->': they cannot be "
                "kept in a comment while the chapter is missing"
            )
        parts.append(
            f"<!-- chapter {number} · hidden teaching notes: no "
            f"notebooks/{number}_*.ipynb yet; shown when it exists ({COMMAND} keeps "
            f"them)\n{text}\n-->\n"
        )
    return "\n".join(parts)


def render(guide: str, chapters: list[Chapter]) -> str:
    """``guide`` with every generated part made from ``chapters``; hand-written text kept."""
    found = {match.group(2) for match in _BLOCK.finditer(guide)}
    expected = {*GENERATORS, "chapters"}
    if found != expected:
        raise GuideError(
            f"the guide must have the generated blocks {sorted(expected)}, has {sorted(found)}"
        )

    def fill(match: re.Match) -> str:
        begin, name, content, end = match.group(1), match.group(2), match.group(3), match.group(4)
        if name == "chapters":
            fresh = chapters_block(chapters, _notes(content))
        else:
            fresh = GENERATORS[name](chapters)
        return f"{begin}{fresh}{end}"

    return _BLOCK.sub(fill, guide)


def listed_chapters(guide: str) -> list[str]:
    """The chapter headings the guide shows ("03 · Autogenerate, review, apply")."""
    block = next(m.group(3) for m in _BLOCK.finditer(guide) if m.group(2) == "chapters")
    return re.findall(r"^### (\d\d · .+)$", _HIDDEN.sub("", block), re.M)


def notes_by_chapter(guide: str) -> dict[str, str]:
    block = next(m.group(3) for m in _BLOCK.finditer(guide) if m.group(2) == "chapters")
    return _notes(block)


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    if argv and not check:
        print(__doc__.split("\n\n")[1])
        return 2
    try:
        before = GUIDE.read_text(encoding="utf-8")
        after = render(before, read_chapters())
    except GuideError as error:
        print(f"[guide] error: {error}")
        return 1
    if check:
        if after == before:
            print(f"[guide] {GUIDE.relative_to(ROOT)} is up to date")
            return 0
        sys.stdout.writelines(
            difflib.unified_diff(
                before.splitlines(True), after.splitlines(True), "guide now", "guide regenerated"
            )
        )
        print(f"[guide] {GUIDE.relative_to(ROOT)} is out of date: run {COMMAND}")
        return 1
    if after != before:
        GUIDE.write_text(after, encoding="utf-8")
        print(f"[guide] updated {GUIDE.relative_to(ROOT)}")
    else:
        print(f"[guide] {GUIDE.relative_to(ROOT)} was up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
