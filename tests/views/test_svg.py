"""The drawing kit: one palette, one set of text metrics, numbers that print the same."""

import ast
import re

import pytest

from tests.views.helpers import ROOT
from workbook.views.svg import char_width, message_svg, number, text_width

PACKAGE = ROOT / "workbook" / "views"


def modules() -> dict[str, str]:
    found = {path.name: path.read_text() for path in sorted(PACKAGE.glob("*.py"))}
    assert {"svg.py", "schema.py", "er.py", "diff.py", "graph.py", "rows.py"} <= set(found)
    return found


def test_colours_and_character_widths_are_written_once():
    for name, text in modules().items():
        if name == "svg.py":
            continue
        assert not re.findall(r"#[0-9a-fA-F]{6}\b", text), f"{name}: name the colour in svg.py"
        assert not re.findall(r"\b0\.(?:61|55)\b", text), f"{name}: use svg.char_width"


def test_no_private_name_crosses_modules():
    for name, text in modules().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("workbook"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{name} imports {private} from {node.module}"


def test_numbers_print_with_at_most_one_decimal():
    assert [number(v) for v in (12, 12.0, 7.32, 0.5, 280 * 0.61)] == [
        "12", "12", "7.3", "0.5", "170.8"]


def test_text_metrics():
    assert char_width(12) == 12 * 0.61 and char_width(10, mono=False) == 10 * 0.55
    assert text_width("abc", 10) == pytest.approx(3 * char_width(10))
    assert text_width("abc", 10, mono=False) < text_width("abc", 10)
    wide = message_svg("x" * 200)
    assert f'width="{number(text_width("x" * 200, 13, mono=False) + 40)}"' in wide
    assert 'width="240"' in message_svg("short")  # never narrower than 240
