"""The timeline widget moves the database and redraws; its fallbacks are stable and
survive sanitizing; its status line reads on light and dark pages."""

import base64
import re

import pytest

import workbook
from tests.views.helpers import contrast
from workbook.timeline_widget import BASE, direction, revision_choices, timeline


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_WORKSPACES", str(tmp_path / "workspaces"))
    monkeypatch.chdir(tmp_path)
    return workbook.start("timeline", "0011", quiet=True)


def test_choices_run_from_base_to_head(ws):
    values = [value for _label, value in revision_choices(ws)]
    assert values[0] == BASE and values[-1] == "0011" and len(values) == 12
    assert values.index("0007") < values.index("0008") < values.index("0010")
    assert values == [BASE] + [f"{n:04d}" for n in range(1, 12)]  # siblings by id: 0008, 0009


def test_direction_follows_the_history(ws):
    assert direction(ws, "0005") == "downgrade"
    assert direction(ws, BASE) == "downgrade"
    ws.run("downgrade 0007")
    assert direction(ws, "0009") == "upgrade"


def test_buttons_move_and_reset(ws):
    view = timeline(ws)
    view.picker.value = "0005"
    view.move_button.click()
    assert ws.current() == ["0005"]
    assert "now at 0005" in view.status.value
    assert "publishers" in view.schema_view.value and "categories" not in view.schema_view.value
    view.picker.value = "0009"
    view.move_button.click()
    assert ws.current() == ["0009"]
    view.reset_button.click()
    assert ws.current() == ["0011"] and "workspace rebuilt" in view.status.value


def test_a_failed_move_says_why_and_changes_nothing(ws):
    view = timeline(ws)
    message = view.move("0042")
    assert "failed: Can't locate revision identified by '0042'" in message
    assert ws.current() == ["0011"]


def test_fallbacks_for_viewers_without_widgets(ws):
    bundle = timeline(ws)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith(
        "Timeline of workspace 'timeline' (the database is at 0011)"
    )
    assert bundle["text/plain"] == timeline(ws)._repr_mimebundle_()["text/plain"]


def test_the_html_fallback_survives_sanitizing(ws):
    # A sanitizer (JupyterLab's, for outputs it does not trust) strips inline <svg> and runs
    # its texts together; it keeps an <img>'s data: URI. So: pictures as images only.
    view = timeline(ws)
    html = view._repr_mimebundle_()["text/html"]
    assert "<svg" not in html
    images = re.findall(
        r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)"', html
    )
    assert [alt for _data, alt in images] == ["revision graph", "database schema"]
    decoded = [base64.b64decode(data).decode() for data, _alt in images]
    assert decoded == [ws.graph().svg, ws.schema().svg]
    assert "the database is at 0011" in html  # the status line, in front


def status_colours(view) -> tuple[str, str]:
    style = re.search(r'style="([^"]*)"', view.status.value).group(1)
    values = dict(part.split(":", 1) for part in style.split(";"))
    return values["color"], values["background"]


def test_the_status_line_sets_its_own_background(ws):
    view = timeline(ws)
    ink, background = status_colours(view)
    assert contrast(ink, background) >= 4.5  # whatever the page's colour behind it
    view.move("0042")
    failed_ink, failed_background = status_colours(view)
    assert failed_ink != ink and contrast(failed_ink, failed_background) >= 4.5
