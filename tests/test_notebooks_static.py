"""The stored notebooks themselves: executed, portable, and shaped like chapters.

nbval checks that outputs reproduce; these checks catch what nbval cannot see: a cell
stored unrun (nbval skips it), a machine path or memory address in an output, an ignored
output without a reason, a chapter without objectives, summary, exercises or next link.
"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
LEAK = re.compile(r"(/tmp/|/root/|/home/|/work/|/Users/|[A-Z]:\\\\)|\b0x[0-9a-fA-F]{6,}")


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(notebook):
    return [
        c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()
    ]


def source(cell) -> str:
    return "".join(cell["source"])


def outputs_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append("".join(output.get("text", [])))
        parts.append(json.dumps(output.get("data", {})))
        parts.append(str(output.get("evalue", "")))
    return "\n".join(parts)


def test_chapters_exist_and_are_numbered_in_order():
    # NN_name, or NN_k_name for a chapter in several lessons (k = 1, 2, ...).
    numbered = [re.match(r"(\d\d)(?:_(\d)(?=_))?", p.name).groups() for p in CHAPTERS]
    numbers = sorted({int(chapter) for chapter, _part in numbered})
    assert numbers and numbers == list(range(len(numbers)))
    for number in numbers:
        parts = [part for chapter, part in numbered if int(chapter) == number]
        assert parts == [None] or parts == [str(k) for k in range(1, len(parts) + 1)], parts


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_metadata_is_normalised(path):
    notebook = load(path)
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    assert "version" not in notebook["metadata"].get("language_info", {})
    assert all("id" in cell for cell in notebook["cells"])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_code_cell_is_stored_executed_in_order(path):
    counts = [cell["execution_count"] for cell in code_cells(load(path))]
    assert None not in counts, "a cell is stored unrun: run `python3 tasks.py notebooks`"
    assert counts == list(range(1, len(counts) + 1)), "outputs are not from one top-to-bottom run"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_each_stream_is_stored_as_one_output(path):
    # A shell's output arrives in chunks that split lines differently on every run.
    for cell in code_cells(load(path)):
        names = [o.get("name") for o in cell["outputs"]]
        repeated = [a for a, b in zip(names, names[1:], strict=False) if a is not None and a == b]
        assert not repeated, f"split {repeated[0]} output in {source(cell)[:60]!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_outputs_hold_no_machine_paths_or_addresses(path):
    for cell in code_cells(load(path)):
        match = LEAK.search(outputs_text(cell))
        assert not match, f"{source(cell)[:60]!r} prints {match.group(0)!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_only_marked_cells_raise_and_marked_cells_do(path):
    for cell in code_cells(load(path)):
        raised = any(o["output_type"] == "error" for o in cell.get("outputs", []))
        marked = "# NBVAL_RAISES_EXCEPTION" in source(cell)
        assert raised == marked, f"{source(cell)[:60]!r}: raised={raised}, marked={marked}"
        tagged = "raises-exception" in cell["metadata"].get("tags", [])
        assert tagged == marked, (
            "nbmake needs the raises-exception tag (tasks.py notebooks adds it)"
        )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_ignored_outputs_say_why(path):
    for cell in code_cells(load(path)):
        text = source(cell)
        if "NBVAL_IGNORE_OUTPUT" in text:
            lines = text.splitlines()
            reason = (
                lines[lines.index("# NBVAL_IGNORE_OUTPUT") + 1]
                if "# NBVAL_IGNORE_OUTPUT" in lines
                else ""
            )
            assert reason.startswith("#") and len(reason) > 15, f"no reason given: {text[:60]!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_shape(path):
    notebook = load(path)
    markdown = [source(c) for c in notebook["cells"] if c["cell_type"] == "markdown"]
    title = markdown[0]
    assert title.startswith(f"# {path.name[:2]} · "), "first cell: '# NN · Title'"
    assert "**Time:**" in title and "By the end of this chapter you will" in title
    assert any("## Key points" in m for m in markdown), "a 'Key points' summary"
    assert any(re.search(r"## Exercises?\b", m) for m in markdown), "exercises at the end"
    first_code = source(code_cells(notebook)[0]) + source(code_cells(notebook)[1])
    assert "workbook.start(" in first_code or path.name.startswith("00_")
    checks = [c for c in code_cells(notebook) if re.search(r"\bq\d\.check\(", source(c))]
    assert checks, "exercises are checked with qN.check()"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_links_point_to_existing_chapters(path):
    notebook = load(path)
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for target in re.findall(r"\]\(([^)#]+\.ipynb)\)", source(cell)):
            assert (NOTEBOOKS / target).exists(), f"broken link to {target}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_each_setup_cell_imports_its_exercise(path):
    """An exercise can be started on its own (after a restart, or skipping ahead): the
    cell that runs ``qN.setup()`` imports ``qN`` itself, not an earlier exercise's cell."""
    missing = []
    for cell in code_cells(load(path)):
        text = source(cell)
        for match in re.finditer(r"^(q\d+)\.setup\(", text, re.MULTILINE):
            name = match.group(1)
            if not re.search(rf"^from workbook\.exercises\.\w+ import .*\b{name}\b", text, re.M):
                missing.append(name)
    assert not missing, f"setup cells without their import: {missing}"
