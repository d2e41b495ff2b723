"""`python3 tasks.py test`: every CPython 3.11+ here, a learner's environment, the ruff gate.

The Pythons are fakes (shell scripts answering tools/pythons.py's probe), so these tests do not
depend on what this machine has installed; the orchestration runs with pytest and setup
replaced by recorders. The real thing: `python3 tasks.py test -k test_command`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tasks
from tools import pythons

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(os.name == "nt", reason="fake interpreters are shell scripts")
# A pytest of its own, quiet, with no cache folder and no workers.
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q"]


@pytest.fixture(autouse=True)
def all_pythons(monkeypatch):
    """Discovery as it is, with no version held back (pythons.HELD_BACK has its own test)."""
    monkeypatch.setenv("WORKBOOK_ALL_PYTHONS", "1")


def fake_python(
    path: Path, version: str, implementation: str = "CPython", can_make_venvs: bool = True
) -> Path:
    """A script that answers tools/pythons.py's PROBE like that Python would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    numbers = ", ".join(version.split("."))
    answer = f'["{implementation}", [{numbers}], "\'"$0"\'", {str(can_make_venvs).lower()}]'
    path.write_text(f"#!/bin/sh\necho '{answer}'\n")
    path.chmod(0o755)
    return path


def python(version: str, real: str) -> tasks.Python:
    return tasks.Python(Path(real), Path(real), tuple(int(n) for n in version.split(".")))


# -- discovery -----------------------------------------------------------------------------------
def test_finds_pyenv_versions_and_python3x_on_path_each_once(tmp_path: Path) -> None:
    pyenv = tmp_path / "pyenv"
    in_pyenv = fake_python(pyenv / "versions/3.12.4/bin/python", "3.12.4")
    fake_python(pyenv / "versions/3.13.1/bin/python", "3.13.1")
    on_path = tmp_path / "bin"
    fake_python(on_path / "python3.14", "3.14.0")
    on_path.joinpath("python3.12").symlink_to(in_pyenv)  # the same file: one Python
    fake_python(on_path / "python3.12-config", "3.12.4")  # not an interpreter's name
    fake_python(pyenv / "shims/python3.13", "3.13.1")  # pyenv's shims lead to its versions

    usable, passed_over = pythons.discover(f"{on_path}{os.pathsep}{pyenv / 'shims'}", [pyenv])

    fakes = [p for p in usable if p.real.is_relative_to(tmp_path)]
    assert sorted(p.release for p in fakes) == ["3.12.4", "3.13.1", "3.14.0"]
    assert not [path for path, _ in passed_over if path.is_relative_to(tmp_path)]


@pytest.mark.parametrize(
    ("version", "implementation", "venv", "why"),
    [
        ("3.10.13", "CPython", True, "Python 3.10.13 is older than 3.11"),
        ("2.7.18", "CPython", True, "Python 2.7.18 is older than 3.11"),
        ("3.11.9", "PyPy", True, "PyPy 3.11.9, not CPython"),
        ("3.12.3", "CPython", False, "apt-get install python3.12-venv"),
    ],
)
def test_an_unusable_python_is_passed_over_and_says_why(
    tmp_path: Path, version: str, implementation: str, venv: bool, why: str
) -> None:
    path = fake_python(tmp_path / "versions/x/bin/python", version, implementation, venv)
    usable, passed_over = pythons.discover("", [tmp_path])
    assert path not in [p.path for p in usable]
    (reason,) = [why_not for where, why_not in passed_over if where == path]
    assert why in reason


def test_a_python_that_does_not_run_is_passed_over_with_its_error(tmp_path: Path) -> None:
    broken = tmp_path / "bin" / "python3.15"
    broken.parent.mkdir()
    broken.write_text(
        "#!/bin/sh\necho 'error while loading shared libraries: libpython' >&2\nexit 127\n"
    )
    broken.chmod(0o755)
    _, passed_over = pythons.discover(str(broken.parent), [])
    assert (broken, "does not run: error while loading shared libraries: libpython") in passed_over


def test_one_python_per_version_the_primary_first_else_the_newest() -> None:
    primary = python("3.11.2", "/usr/bin/python3.11")
    found = [
        python("3.11.7", "/pyenv/3.11.7"),
        primary,
        python("3.12.1", "/pyenv/3.12.1"),
        python("3.12.4", "/pyenv/3.12.4"),
        python("3.13.0", "/pyenv/3.13.0"),
    ]
    chosen, passed_over = pythons.choose(found, primary)
    assert [p.release for p in chosen] == ["3.11.2", "3.12.4", "3.13.0"]
    assert dict(passed_over) == {
        Path("/pyenv/3.11.7"): "Python 3.11.7: 3.11 runs as 3.11.2 (/usr/bin/python3.11)",
        Path("/pyenv/3.12.1"): "Python 3.12.1: 3.12 runs as 3.12.4 (/pyenv/3.12.4)",
    }


def test_a_bare_environment_still_finds_the_users_pyenv(monkeypatch, tmp_path: Path) -> None:
    """`env -i HOME=$(mktemp -d) PATH=/usr/local/bin:/usr/bin:/bin`: no PYENV_ROOT, no pyenv
    on PATH, an empty HOME; the home of the password database still leads to ~/.pyenv."""
    pwd = pytest.importorskip("pwd")
    monkeypatch.delenv("PYENV_ROOT", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", "/usr/local/bin:/usr/bin:/bin")
    roots = pythons.pyenv_roots()
    assert tmp_path / ".pyenv" in roots
    assert Path(pwd.getpwuid(os.getuid()).pw_dir) / ".pyenv" in roots


# -- the learner's environment, not this machine's -----------------------------------------------
def test_tests_write_bytecode_and_find_sbin_tools() -> None:
    env = tasks.environment_for_tests(
        {"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/h"}
    )
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PATH"] == "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
    assert env["HOME"] == "/h"
    assert tasks.with_sbin("/usr/sbin:/usr/bin") == "/usr/sbin:/usr/bin:/usr/local/sbin:/sbin"


def test_resource_warning_fails_a_test(tmp_path: Path) -> None:
    (tmp_path / "test_leak.py").write_text(
        textwrap.dedent("""\
        import gc

        def test_leaks_a_file():
            leaked = open(__file__)
            del leaked
            gc.collect()
        """)
    )
    result = subprocess.run(
        [
            *PYTEST,
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert "1 failed" in result.stdout, result.stdout[-2000:]
    assert "ResourceWarning: unclosed file" in result.stdout


def test_resource_warning_is_an_error_in_kernels_and_other_pythons(tmp_path: Path) -> None:
    """conftest.py exports it: nbval's kernels print "Exception ignored" into the cell."""
    assert "error::ResourceWarning" in os.environ["PYTHONWARNINGS"].split(",")
    leak = "import gc; leaked = open(__import__('sys').executable, 'rb'); del leaked; gc.collect()"
    result = subprocess.run(
        [sys.executable, "-c", leak], capture_output=True, text=True, timeout=60
    )
    assert "Exception ignored" in result.stderr and "ResourceWarning" in result.stderr


@pytest.mark.parametrize(
    "selection",
    [
        [
            "tests/test_reference_migrations.py",
            "tests/test_browser.py",
            "-m",
            "postgres or mysql or browser",
        ],
        ["tests/test_lesson_orders.py::test_a_marked_cell_that_does_not_raise_fails"],
    ],
    ids=["server and browser legs", "lesson orders"],
)
def test_the_other_pythons_skip_the_primary_only_legs_and_say_why(selection) -> None:
    """`tasks.py test` runs these modules on the primary Python only (conftest.py)."""
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["WORKBOOK_SKIP_SERVER_LEGS"] = "these legs run on the primary Python only"
    result = subprocess.run(
        [*PYTEST, "-rs", *selection],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    summary = result.stdout.strip().splitlines()[-1]
    skipped = re.fullmatch(r"\d+ skipped(, \d+ deselected)? in [\d.]+s", summary)
    assert skipped, result.stdout[-3000:]
    assert "these legs run on the primary Python only" in result.stdout
    for module in (
        part.split("::")[0] for part in selection if part.endswith(".py") or "::" in part
    ):
        assert module.removeprefix("tests/") in result.stdout


# -- the ruff gate ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "failing"),
    [
        ('"""A clean module."""\n\nimport os\n\nprint(os.sep)\n', []),
        ('"""An unused import."""\n\nimport os\n', ["ruff check"]),
        ('"""Badly formatted."""\n\nprint( 1 )\n', ["ruff format --check"]),
    ],
)
def test_the_gate_fails_on_a_finding(tmp_path: Path, source: str, failing: list[str]) -> None:
    shutil.copyfile(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "module.py").write_text(source)
    outcomes = tasks.lint(sys.executable, tmp_path)
    assert [o.name for o in outcomes] == ["ruff check", "ruff format --check"]
    assert [o.name for o in outcomes if not o.ok] == failing


def test_ci_runs_the_full_test_command() -> None:
    """No pytest arguments: the gate runs, on every Python."""
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert lines[-1] == "exec python3 tasks.py test"


# -- the whole command, with setup and pytest recorded ------------------------------------------
PRIMARY = tasks.Python(tasks.VENV_PYTHON, Path("/pyenv/3.11.7"), (3, 11, 7))
OTHERS = [python("3.12.1", "/pyenv/3.12.1"), python("3.13.0", "/pyenv/3.13.0")]


@pytest.fixture
def recorded(monkeypatch):
    """tasks.test() with setup, ruff and pytest recorded; set .pythons/.lint_ok/.failing."""

    class Recorder:
        calls: list[tuple] = []
        pythons = OTHERS
        lint_ok = True
        failing: set[str] = set()

        def run(self, args: list[str]) -> tuple[int, str]:
            with pytest.raises(SystemExit) as ended:
                tasks.test(args)
            return ended.value.code

    recorder = Recorder()
    recorder.calls = []

    def setup(folder=tasks.VENV, base=None):
        recorder.calls.append(("setup", tasks.shown(folder)))
        return tasks.venv_python(folder)

    def lint():
        recorder.calls.append(("lint",))
        return [tasks.Outcome("ruff check", recorder.lint_ok)]

    def run_pytest(interpreter, args, **env):
        recorder.calls.append(("pytest", tasks.shown(interpreter), tuple(args), env))
        failed = any(minor in str(interpreter) for minor in recorder.failing)
        return (1, {"failed": 1, "passed": 2}) if failed else (0, {"passed": 3})

    monkeypatch.setattr(tasks, "setup", setup)
    monkeypatch.setattr(tasks, "install_system_packages", lambda: None)
    monkeypatch.setattr(tasks, "lint", lint)
    monkeypatch.setattr(tasks, "probe", lambda path: PRIMARY)
    monkeypatch.setattr(tasks, "discover", lambda: ([PRIMARY, *recorder.pythons], []))
    monkeypatch.setattr(tasks, "run_pytest", run_pytest)
    monkeypatch.setenv("CI", "true")
    return recorder


def closing(capsys) -> str:
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_a_full_run_lints_then_tests_every_version(recorded, capsys) -> None:
    assert recorded.run([]) == 0
    assert closing(capsys).strip("= ").startswith("9 passed in ")
    names = [call[:2] for call in recorded.calls]
    assert names == [
        ("setup", ".venv"),
        ("lint",),
        ("pytest", ".venv/bin/python"),
        ("setup", ".venvs/3.12"),
        ("pytest", ".venvs/3.12/bin/python"),
        ("setup", ".venvs/3.13"),
        ("pytest", ".venvs/3.13/bin/python"),
    ]
    environments = [call[3] for call in recorded.calls if call[0] == "pytest"]
    assert environments[0] == {}  # the primary runs every leg
    assert all("3.11.7" in env["WORKBOOK_SKIP_SERVER_LEGS"] for env in environments[1:])


def test_a_selection_runs_on_every_version_without_the_gate(recorded) -> None:
    assert recorded.run(["-k", "environment_files"]) == 0
    assert ("lint",) not in recorded.calls
    pytest_calls = [call for call in recorded.calls if call[0] == "pytest"]
    assert [call[2] for call in pytest_calls] == [("-k", "environment_files")] * 3


@pytest.mark.parametrize(
    ("change", "closing_line"),
    [
        ({"lint_ok": False}, "1 failed, 9 passed"),
        ({"failing": {"3.13"}}, "1 failed, 8 passed"),
        ({"pythons": []}, "1 failed, 3 passed"),  # CI needs three versions
        ({"pythons": OTHERS[:1]}, "1 failed, 6 passed"),
    ],
)
def test_any_failure_fails_the_command_and_shows_in_the_closing_line(
    recorded, capsys, change: dict, closing_line: str
) -> None:
    for name, value in change.items():
        setattr(recorded, name, value)
    assert recorded.run([]) == 1
    assert closing(capsys).strip("= ").startswith(f"{closing_line} in ")


def test_the_table_names_each_version_with_its_result(recorded, capsys) -> None:
    recorded.pythons = []
    recorded.run([])
    out = capsys.readouterr().out
    assert re.search(r"3\.11\.7 +\.venv +passed +3 passed +[\d.]+ +whole suite", out)
    assert "CI=true needs the tests on at least 3 Python versions; 1 ran" in out


def test_every_version_runs_and_ci_needs_three() -> None:
    """CI machines have 3.11, 3.12 and 3.13: each must run, none is held back."""
    assert pythons.HELD_BACK == {}
    assert tasks.CI_MINIMUM_PYTHONS == 3


def test_a_held_back_version_is_passed_over_with_its_reason(monkeypatch, tmp_path) -> None:
    fake = fake_python(tmp_path / "python3.14", "3.14.0")
    monkeypatch.setitem(pythons.HELD_BACK, (3, 14), "held back: a reason")
    assert isinstance(tasks.probe(fake), tasks.Python)  # WORKBOOK_ALL_PYTHONS=1 runs it
    monkeypatch.delenv("WORKBOOK_ALL_PYTHONS")
    assert tasks.probe(fake) == "Python 3.14.0 held back: a reason; WORKBOOK_ALL_PYTHONS=1 runs it"
