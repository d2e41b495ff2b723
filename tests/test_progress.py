"""workbook.progress: every exercise check is recorded, kept across restarts, shown stably."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from workbook import progress
from workbook.exercises import ____
from workbook.exercises.core import Correct, Exercise, Incorrect, NotAttempted
from workbook.progress import ProgressTable

ROOT = Path(__file__).resolve().parents[1]
LEAK = re.compile(r"(/tmp/|/root/|/home/|/work/|/Users/|[A-Z]:\\)|\b0x[0-9a-fA-F]{6,}")


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private workspaces folder: progress.json goes there."""
    folder = tmp_path / "workspaces"
    monkeypatch.setenv("WORKBOOK_WORKSPACES", str(folder))
    return folder


@pytest.fixture(autouse=True)
def no_active_workspace(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No workspace is active, and what workbook.start() changes is put back afterwards."""
    from workbook import workspace

    monkeypatch.setattr(workspace, "_active", None)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.chdir(tmp_path)


def in_a_new_interpreter(code: str, root: Path) -> str:
    """Run ``code`` in a fresh Python (a restarted kernel) with the same workspaces folder."""
    env = {**os.environ, "WORKBOOK_WORKSPACES": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# -- the file -----------------------------------------------------------------------------------
def test_the_file_lives_in_the_workspaces_folder(root: Path) -> None:
    assert progress.path() == root.resolve() / "progress.json"


def test_nothing_recorded_yet(root: Path) -> None:
    assert progress.load() == {}
    assert not progress.path().exists()


def test_record_and_load(root: Path) -> None:
    progress.record("03", "q1", "Incorrect")
    progress.record(3, "q1", Correct("fine"))  # a Result object, a chapter number
    progress.record("03", "q2", NotAttempted())
    progress.record("00", "q1", Incorrect("no"))
    assert progress.load() == {
        "00": {"q1": "Incorrect"},
        "03": {"q1": "Correct", "q2": "NotAttempted"},
    }
    assert progress.checks() == {"00": {"q1": 1}, "03": {"q1": 2, "q2": 1}}


def test_the_latest_check_counts(root: Path) -> None:
    progress.record("04", "q2", "Correct")
    progress.record("04", "q2", "Incorrect")
    assert progress.load() == {"04": {"q2": "Incorrect"}}


def test_run_all_after_solving_keeps_the_answer(root: Path) -> None:
    """Run All (or a second setup) checks a fresh workspace: "not attempted" then says
    nothing about the learner's answer, which stays, right or wrong."""
    progress.record("05", "q1", "Correct")
    progress.record("05", "q1", NotAttempted())
    progress.record("05", "q2", "Incorrect")
    progress.record("05", "q2", "NotAttempted")
    assert progress.load() == {"05": {"q1": "Correct", "q2": "Incorrect"}}
    assert progress.checks() == {"05": {"q1": 2, "q2": 2}}
    progress.record("05", "q2", "Correct")
    assert progress.load()["05"]["q2"] == "Correct"


def test_the_file_is_stable_json(root: Path) -> None:
    progress.record("01", "q2", "Correct")
    progress.record("01", "q1", "Incorrect")
    text = progress.path().read_text(encoding="utf-8")
    assert json.loads(text) == {
        "format": 1,
        "chapters": {
            "01": {
                "q1": {"checks": 1, "outcome": "Incorrect"},
                "q2": {"checks": 1, "outcome": "Correct"},
            }
        },
    }
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert [p.name for p in root.iterdir() if not p.name.startswith(".")] == ["progress.json"]


@pytest.mark.parametrize(
    "bad", [("3a", "q1", "Correct"), ("03", "one", "Correct"), ("03", "q1", "Maybe")]
)
def test_bad_records_are_refused(root: Path, bad) -> None:
    with pytest.raises(ValueError):
        progress.record(*bad)


def test_a_damaged_file_reads_as_empty_and_is_replaced(root: Path) -> None:
    root.mkdir(parents=True)
    progress.path().write_text("{ not json")
    assert progress.load() == {}
    progress.record("02", "q1", "Correct")
    assert progress.load() == {"02": {"q1": "Correct"}}


def test_progress_survives_a_kernel_restart(root: Path) -> None:
    """Recorded by one Python process (a kernel), read by the next one."""
    in_a_new_interpreter(
        "from workbook.exercises import ____\n"
        "from workbook.exercises.chapter00 import q1\n"
        "q1.check(____)\n",
        root,
    )
    shown = in_a_new_interpreter("from workbook import progress; print(progress.load())", root)
    # (no workspace in that kernel: the check said Incorrect, and that is what counts)
    assert shown.strip() == "{'00': {'q1': 'Incorrect'}}"
    assert progress.load() == {"00": {"q1": "Incorrect"}}


def test_kernels_recording_at_once_lose_nothing(root: Path) -> None:
    code = (
        "import sys\nfrom workbook import progress\n"
        "for n in range(1, 13):\n    progress.record(sys.argv[1], f'q{n}', 'Correct')\n"
    )
    env = {**os.environ, "WORKBOOK_WORKSPACES": str(root)}
    runs = [
        subprocess.Popen([sys.executable, "-c", code, f"{chapter:02d}"], env=env, cwd=ROOT)
        for chapter in range(4)
    ]
    assert [run.wait(timeout=120) for run in runs] == [0, 0, 0, 0]
    recorded = progress.load()
    assert sorted(recorded) == ["00", "01", "02", "03"]
    assert all(len(exercises) == 12 for exercises in recorded.values())


# -- recorded by check() -------------------------------------------------------------------------
def test_check_records_its_outcome(exercise_workspace, root: Path, monkeypatch, capsys) -> None:
    from workbook.exercises.chapter00 import q1

    ws = exercise_workspace("0005")
    monkeypatch.setenv("WORKBOOK_WORKSPACES", str(root))  # the fixture pointed it elsewhere
    q1.check(____, workspace=ws)
    assert progress.load() == {"00": {"q1": "NotAttempted"}}
    q1.check("0001", workspace=ws)
    assert progress.load() == {"00": {"q1": "Incorrect"}}
    q1.check("0005", workspace=ws)
    assert progress.load() == {"00": {"q1": "Correct"}}
    assert progress.checks() == {"00": {"q1": 3}}
    # What check() shows is unchanged: exactly the result, nothing about progress.
    assert capsys.readouterr().out.splitlines() == [
        q1.result(____, workspace=ws).plain,
        q1.result("0001", workspace=ws).plain,
        q1.result("0005", workspace=ws).plain,
    ]


def test_result_records_nothing(exercise_workspace, root: Path, monkeypatch) -> None:
    from workbook.exercises.chapter00 import q1

    ws = exercise_workspace("0005")
    monkeypatch.setenv("WORKBOOK_WORKSPACES", str(root))
    q1.result("0005", workspace=ws)
    assert progress.load() == {}


def test_an_exercise_outside_the_chapter_modules_is_not_recorded(root: Path, capsys) -> None:
    class Scratch(Exercise):
        title = "made up in a notebook"

        def _check(self, workspace, *answer):
            return Correct("fine")

    assert progress.identify(Scratch()) is None
    Scratch().check()  # no workspace: an Incorrect, shown, not recorded
    assert "Incorrect" in capsys.readouterr().out
    assert progress.load() == {}


def test_a_progress_file_that_cannot_be_written_never_fails_a_check(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from workbook.exercises.chapter00 import q1

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("WORKBOOK_WORKSPACES", str(blocked))
    q1.check(____)
    assert capsys.readouterr().out.startswith("✗ Incorrect: no workspace yet")


def test_identify_finds_the_chapter_and_the_name() -> None:
    from workbook.exercises import chapter00, chapter01

    assert progress.identify(chapter00.q1) == ("00", "q1")
    assert progress.identify(chapter01.q2) == ("01", "q2")


# -- resets -------------------------------------------------------------------------------------
def test_a_chapter_reset_clears_that_chapter_only(root: Path) -> None:
    progress.record("02", "q1", "Correct")
    progress.record("03", "q1", "Correct")
    progress.reset("03")
    assert progress.load() == {"02": {"q1": "Correct"}}
    progress.reset(2)
    assert progress.load() == {}


def test_reset_clears_everything(root: Path) -> None:
    progress.record("02", "q1", "Correct")
    progress.reset()
    assert progress.load() == {} and not progress.path().exists()
    progress.reset()  # twice is fine


def test_rebuilding_a_chapter_workspace_keeps_progress(root: Path) -> None:
    import workbook

    progress.record("00", "q1", "Correct")
    progress.record("03", "q2", "Incorrect")
    ws = workbook.start("03_autogenerate", "0001", quiet=True)
    ws.reset()
    assert progress.load() == {"00": {"q1": "Correct"}, "03": {"q2": "Incorrect"}}


def test_deleting_all_workspaces_clears_progress(root: Path) -> None:
    import shutil

    progress.record("00", "q1", "Correct")
    shutil.rmtree(root)
    assert progress.load() == {}


def test_the_command_line(root: Path) -> None:
    progress.record("01", "q1", "Correct")
    progress.record("02", "q1", "Correct")
    assert "Cleared chapter 01's progress" in in_a_new_interpreter(
        "import sys; from workbook.progress import main; sys.exit(main(['reset', '1']))", root
    )
    assert progress.load() == {"02": {"q1": "Correct"}}
    refused = in_a_new_interpreter(
        "import sys; from workbook.progress import main; sys.exit(main(['reset', '99']) - 2)", root
    )
    assert refused.startswith("There is no chapter 99: the chapters are 00, 01, ")
    assert refused.rstrip().endswith("Nothing was cleared.") and len(refused.splitlines()) == 1
    assert progress.load() == {"02": {"q1": "Correct"}}
    shown = in_a_new_interpreter("from workbook.progress import main; main([])", root)
    assert shown.startswith("Progress: 1 of ")
    in_a_new_interpreter("from workbook.progress import main; main(['reset'])", root)
    assert progress.load() == {}


def test_tasks_py_mentions_progress_and_its_reset() -> None:
    text = (ROOT / "tasks.py").read_text()
    assert '"progress": script("-m", "workbook.progress")' in text
    assert "progress reset" in text and "workspace/" in text


# -- display -------------------------------------------------------------------------------------
KNOWN = {
    "00": ("Welcome", {"q1": "Which revision?"}),
    "04": ("Column and schema changes", {"q1": "NOT NULL", "q2": "FK", "q3": "Downgrade"}),
}


def test_the_text_table_exactly() -> None:
    outcomes = {"00": {"q1": "Correct"}, "04": {"q1": "Incorrect", "q3": "NotAttempted"}}
    table = ProgressTable(outcomes, KNOWN)
    assert repr(table) == "\n".join(
        [
            "Progress: 1 of 4 exercises correct (✓ correct · ✗ incorrect · ○ not attempted)",
            "",
            "Chapter                          q1   q2   q3  done",
            "00 · Welcome                      ✓            1/1",
            "04 · Column and schema changes    ✗    ○    ○  0/3",
        ]
    )


def test_the_html_table() -> None:
    table = ProgressTable({"00": {"q1": "Correct"}, "04": {"q2": "Incorrect"}}, KNOWN)
    page = table.html()
    assert page.count("<tr>") == 3 and page.count("<th ") == 5
    assert '<b style="color:#1a7f37">✓</b>' in page and '<b style="color:#cf222e">✗</b>' in page
    assert page.count('<b style="color:#9a6700">○</b>') == 3  # two cells and the legend
    assert 'title="04 q2: FK (incorrect)"' in page
    assert table._repr_html_() == page


def test_chapters_with_records_but_no_module_still_show() -> None:
    table = ProgressTable({"11": {"q1": "Correct"}}, {})
    assert "11  " in repr(table) and "1 of 1 exercises correct" in repr(table)


def test_no_exercises_at_all() -> None:
    assert repr(ProgressTable({}, {})) == "Progress: no exercises yet."


def test_show_is_deterministic_and_leaks_nothing(root: Path, capsys) -> None:
    progress.record("00", "q1", "Correct")
    progress.record("01", "q2", "Incorrect")
    progress.show()
    first = capsys.readouterr().out
    progress.show()
    assert capsys.readouterr().out == first
    assert first == repr(progress.table()) + "\n"
    assert not LEAK.search(first) and not LEAK.search(progress.table().html())
    assert "00 · Welcome" in first  # titles come from the chapter modules


def test_show_displays_text_and_html_in_ipython(root: Path, monkeypatch) -> None:
    shown = []
    monkeypatch.setattr("IPython.get_ipython", lambda: object())
    monkeypatch.setattr(
        "IPython.display.display", lambda bundle, raw=False: shown.append((bundle, raw))
    )
    progress.show()
    ((bundle, raw),) = shown
    assert raw and set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"] == repr(progress.table())


def test_the_catalogue_lists_every_chapter_module() -> None:
    known = progress.catalogue()
    folder = ROOT / "workbook" / "exercises"
    modules = sorted(p.stem[-2:] for p in folder.glob("chapter[0-9][0-9].py"))
    assert sorted(known) == modules
    assert known["00"] == ("Welcome", {"q1": "Which revision is the database at?"})


def test_the_widget_refreshes(root: Path) -> None:
    view = progress.widget()
    assert "0 of" in view.view.value
    progress.record("00", "q1", "Correct")
    assert "0 of" in view.view.value  # until refreshed
    view.button.click()
    assert "1 of" in view.view.value
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == repr(progress.table())
    assert bundle["text/html"] == progress.table().html()
