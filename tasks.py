#!/usr/bin/env python3
"""The workbook's commands. Needs only Python 3.11+ (standard library) to start.

    python3 tasks.py setup        create .venv with the pinned packages (lab and test do it)
    python3 tasks.py lab          set up .venv, open the workbook in JupyterLab (your copies
                                  of the lessons, in workspace/lessons/)
    python3 tasks.py test         run ruff, then every test on every CPython 3.11+ found here
                                  (pyenv's versions, python3.X on PATH; one environment each:
                                  .venv, .venvs/3.12, ...); installs PostgreSQL, MariaDB and
                                  Chromium where apt-get can
    python3 tasks.py notebooks    build each notebook from its text twin (notebooks/NN_*.md),
                                  run it top to bottom and store its outputs
    python3 tasks.py twins        write the text twins from the notebooks (after editing in
                                  JupyterLab); `twins --check` says where they disagree
    python3 tasks.py bench        print the workbook's speed ratios
    python3 tasks.py lock         recompute requirements.lock from pyproject.toml
    python3 tasks.py wheelhouse   collect every wheel of the lock into wheelhouse/ (offline setup)
    python3 tasks.py guide        regenerate the chapter summaries in docs/INSTRUCTOR_GUIDE.md
    python3 tasks.py lite         build the in-browser edition into build/lite/
                                  (`--serve`: serve it)
    python3 tasks.py progress     show the learner's exercise progress (workbook.progress);
                                  `progress reset [NN]` clears it (all, or one chapter)

Set PIP_OPTIONS (e.g. "--no-index --find-links wheelhouse") to install from elsewhere:
after `python3 tasks.py wheelhouse` on a connected machine of the same platform,
`PIP_OPTIONS="--no-index --find-links wheelhouse" python3 tasks.py lab` needs no network.
Deleting workspace/ resets every workspace and your lesson copies, and clears the progress
kept there. Extra arguments after `test` go to pytest (and skip the ruff gate: a selection,
not a release).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.pythons import MIN_PYTHON, Python, choose, discover, probe, shown

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
VENV_PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
VENVS = ROOT / ".venvs"  # one environment per other Python version: .venvs/3.12, ...
LOCK = ROOT / "requirements.lock"
WORKSPACE = ROOT / "workspace"  # the learner's: lesson copies and chapter projects (git-ignored)
# Under CI=true, fewer versions run is a failure: CI machines have 3.11, 3.12 and 3.13.
CI_MINIMUM_PYTHONS = 3
# runuser (the PostgreSQL leg as root) and dpkg's helpers live there, off a bare PATH.
SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
# loadscope: a notebook's cells share one worker (and kernel), a test file or class
# too; conftest.py puts the slow scopes first.
PYTEST_OPTIONS = [
    "-n",
    "auto",
    "--dist",
    "loadscope",
    "--no-loadscope-reorder",
    "--nbval",
    "--nbval-current-env",
    "--nbval-sanitize-with",
    "tools/nbval-sanitize.cfg",
]
LINT_GATES = {  # run by a full `test`, before pytest; any finding fails the run
    "ruff check": ["check", "--output-format", "concise", "."],
    "ruff format --check": ["format", "--check", "."],
}


def say(message: str) -> None:
    print(f"[tasks] {message}", flush=True)


def run(*args: str | Path, **kwargs) -> None:
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, **kwargs)


# -- the Pythons on this machine ---------------------------------------------------------------
# Runs under any Python (2.7 too), so that an old one is reported by version, not as broken.
def base_python() -> str:
    """This interpreter if it is new enough and can create a venv, else the newest one found."""
    here = probe(Path(sys.executable))
    if isinstance(here, Python):
        return sys.executable
    usable, _ = discover()
    if usable:
        return str(max(usable, key=lambda p: p.version).path)
    sys.exit(
        f"error: Python {'.'.join(map(str, MIN_PYTHON))} or newer (with venv) is needed; "
        f"this one: {here}"
    )


# -- environments --------------------------------------------------------------------------------
def venv_python(folder: Path) -> Path:
    return (
        folder
        / ("Scripts" if os.name == "nt" else "bin")
        / ("python.exe" if os.name == "nt" else "python")
    )


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def link_project(python: Path = VENV_PYTHON) -> None:
    """Make ``app`` and ``workbook`` importable from a venv: a path entry, no build step."""
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site_packages) / "alembic_workbook.pth").write_text(f"{ROOT}\n")


# JupyterLab extensions for the in-browser edition's build only (tools/lite.py takes them
# from share/jupyterlite/): in a desktop JupyterLab this one fails to load ("Shared module
# @jupyterlite/services doesn't exist"), an error in every page's console.
LITE_ONLY_EXTENSIONS = ["@jupyterlite/pyodide-kernel-extension"]


def keep_lite_extensions_apart(folder: Path = VENV) -> None:
    """Move LITE_ONLY_EXTENSIONS out of the folder JupyterLab loads extensions from."""
    share = folder / "share"
    for name in LITE_ONLY_EXTENSIONS:
        installed = share / "jupyter" / "labextensions" / name
        if not (installed / "package.json").exists():
            continue
        kept = share / "jupyterlite" / "labextensions" / name
        shutil.rmtree(kept, ignore_errors=True)
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(installed, kept)
        if not any(installed.parent.iterdir()):  # an empty @scope folder
            installed.parent.rmdir()


def setup(folder: Path = VENV, base: Path | None = None) -> Path:
    """Create the venv ``folder`` (from ``base``, default base_python()) and install the lock
    into it, unless it is already up to date. Returns its Python.

    With ``base``, a venv made from another interpreter is made again.
    """
    python = venv_python(folder)
    stamp = folder / ".installed"
    wanted = fingerprint()
    made_from_base = base is None or (
        python.exists() and os.path.realpath(python) == os.path.realpath(base)
    )
    if stamp.exists() and stamp.read_text() == wanted and python.exists() and made_from_base:
        keep_lite_extensions_apart(folder)
        return python
    name = shown(folder)
    if not python.exists() or not made_from_base:
        say(f"creating {name}")
        run(base or base_python(), "-m", "venv", "--clear", folder)
    options = shlex.split(os.environ.get("PIP_OPTIONS", ""))
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *options]
    say(
        f"installing {LOCK.name} into {name}"
        + (f" (PIP_OPTIONS: {shlex.join(options)})" if options else "")
    )
    try:
        run(*pip, "-r", LOCK)
    except subprocess.CalledProcessError:
        if "--no-index" in options:  # offline: the usual cause is a wheelhouse for elsewhere
            sys.exit(
                "error: the offline install failed (see above). Build the wheelhouse on a "
                "machine with the same system, processor and Python version: "
                "`python3 tasks.py wheelhouse`"
            )
        raise
    link_project(python)
    # The notebooks ask for the "python3" kernel: make it this environment's Python.
    run(
        python,
        "-m",
        "ipykernel",
        "install",
        "--sys-prefix",
        "--name",
        "python3",
        "--display-name",
        "Python 3 (alembic workbook)",
        stdout=subprocess.DEVNULL,
    )
    # Its kernels load the workbook's extension, so that `%alembic` answers in one line
    # (what to run) even before a lesson's first cell, e.g. right after a kernel restart.
    spec = folder / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    kernel = json.loads(spec.read_text())
    if "--ext=workbook" not in kernel["argv"]:
        kernel["argv"].append("--ext=workbook")
        spec.write_text(json.dumps(kernel, indent=1) + "\n")
    keep_lite_extensions_apart(folder)
    stamp.write_text(wanted)
    say(f"environment ready ({name})")
    return python


# JupyterLab settings for a room without internet: no news prompt, no update check.
LAB_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def lab_command(args: list[str], workspace: Path = WORKSPACE) -> list[str]:
    """JupyterLab serving ``workspace/``: the learner's copies of the lessons (``lessons/``)
    beside the chapters' project folders, so models open in the editor; lesson 00 first."""
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # containers
    return [
        str(BIN / "jupyter"),
        "lab",
        f"--ServerApp.root_dir={workspace}",
        "--LabApp.default_url=/lab/tree/lessons/00_welcome.ipynb",
        *as_root,
        *args,
    ]


def prepare_lab(workspace: Path = WORKSPACE) -> None:
    """Lab settings, the learner's own lesson copies (workbook/lessons.py says why), and
    trust for them, so that their stored pictures render before anything runs."""
    settings = VENV / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=2) + "\n")
    run(VENV_PYTHON, "-m", "workbook.lessons", workspace)
    copies = sorted((workspace / "lessons").glob("*.ipynb"))
    run(BIN / "jupyter", "trust", *copies, stdout=subprocess.DEVNULL)


def lab(args: list[str]) -> None:
    setup()
    prepare_lab()
    os.execv(BIN / "jupyter", lab_command(args))


# -- test ----------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """One line of the closing table: a Python's run, or a gate (ruff, setup, CI's minimum)."""

    name: str
    ok: bool
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    environment: str = ""
    note: str = ""


SUMMARY_ORDER = ("failed", "passed", "skipped", "deselected", "xfailed", "xpassed", "error")


def with_sbin(search_path: str) -> str:
    """``search_path`` with the sbin folders appended where missing."""
    folders = search_path.split(os.pathsep) if search_path else []
    return os.pathsep.join(folders + [f for f in SBIN if f not in folders])


def environment_for_tests(environ: dict[str, str], **extra: str) -> dict[str, str]:
    """What pytest runs with: the learner's defaults, not this machine's.

    Bytecode is written (PYTHONDONTWRITEBYTECODE unset: learners' Pythons write it, and a
    stale .pyc is a bug to catch), and sbin is on PATH (runuser for the PostgreSQL leg).
    """
    env = {key: value for key, value in environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PATH"] = with_sbin(env.get("PATH", os.defpath))
    return {**env, **extra}


def lint(python: Path | str = VENV_PYTHON, root: Path = ROOT) -> list[Outcome]:
    """ruff's lint and format checks on ``root`` (its pyproject.toml's [tool.ruff])."""
    outcomes = []
    for name, arguments in LINT_GATES.items():
        say(f"{name} .")
        started = time.monotonic()
        code = subprocess.run([str(python), "-m", "ruff", *arguments], cwd=root).returncode
        outcomes.append(
            Outcome(
                name,
                code == 0,
                seconds=time.monotonic() - started,
                note="no findings" if code == 0 else "findings above",
            )
        )
    return outcomes


def run_pytest(python: Path, args: list[str], **extra_env: str) -> tuple[int, dict[str, int]]:
    """pytest's exit code and its summary counts (conftest.py writes them to a file)."""
    with tempfile.TemporaryDirectory(prefix="workbook-test-report-") as folder:
        report = Path(folder) / "counts.json"
        env = environment_for_tests(os.environ, WORKBOOK_TEST_REPORT=str(report), **extra_env)
        code = subprocess.run(
            [str(python), "-m", "pytest", *PYTEST_OPTIONS, *args], cwd=ROOT, env=env
        ).returncode
        counts = json.loads(report.read_text()) if report.exists() else {}
    if code not in (0, 5) and not counts.get("failed") and not counts.get("error"):
        counts["error"] = 1  # pytest stopped before its summary (usage error, crash)
    return code, counts


def summary_counts(counts: dict[str, int]) -> str:
    """pytest's wording: "2 failed, 10 passed, 1 skipped"; "no tests ran" when all are 0."""
    parts = [
        f"{counts[key]} {key}{'s' if key == 'error' and counts[key] != 1 else ''}"
        for key in SUMMARY_ORDER
        if counts.get(key)
    ]
    return ", ".join(parts) or "no tests ran"


def closing_line(outcomes: list[Outcome], seconds: float) -> str:
    """pytest's closing line over every run; each failed gate counts as one failed test."""
    total: dict[str, int] = {}
    for outcome in outcomes:
        for key, count in outcome.counts.items():
            total[key] = total.get(key, 0) + count
    total["failed"] = total.get("failed", 0) + sum(
        not outcome.ok for outcome in outcomes if not outcome.counts
    )
    elapsed = time.strftime("%H:%M:%S", time.gmtime(seconds))
    return f" {summary_counts(total)} in {seconds:.2f}s ({elapsed}) ".center(88, "=")


def table(outcomes: list[Outcome]) -> list[str]:
    rows = [("Python", "environment", "status", "result", "seconds", "")]
    rows += [
        (
            o.name,
            o.environment,
            "passed" if o.ok else "FAILED",
            summary_counts(o.counts) if o.counts else "",
            f"{o.seconds:.1f}",
            o.note,
        )
        for o in outcomes
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:5], widths, strict=True))
        + "  "
        + row[5]
        for row in rows
    ]


def pythons_problem(count: int, ci: bool) -> str | None:
    if ci and count < CI_MINIMUM_PYTHONS:
        return (
            f"CI=true needs the tests on at least {CI_MINIMUM_PYTHONS} Python versions; "
            f"{count} ran (install more with pyenv)"
        )
    return None


def install_system_packages() -> None:
    installer = ROOT / "tools" / "install-system-packages.sh"
    if shutil.which("bash") and installer.exists():
        subprocess.run(
            ["bash", str(installer)], cwd=ROOT, check=True, env=environment_for_tests(os.environ)
        )


def test(args: list[str]) -> None:
    """ruff (on a full run), then pytest on every CPython 3.11+ here; a table and pytest's
    closing line at the end. The primary Python (.venv's) runs everything; the others
    skip the PostgreSQL, MySQL, browser and lesson-order legs (CI's time), and say so."""
    started = time.monotonic()
    setup()
    install_system_packages()
    outcomes: list[Outcome] = []
    if args:
        say("ruff gate skipped: pytest arguments select a part of the suite")
    else:
        outcomes += lint()
    primary = probe(VENV_PYTHON)
    if isinstance(primary, str):
        sys.exit(
            f"error: {VENV.name}'s Python is not usable ({primary}); delete {VENV.name}/ "
            "and run again"
        )
    usable, passed_over = discover()
    pythons, others = choose(usable, primary)
    passed_over += others
    for path, why in passed_over:
        say(f"not used: {path}: {why}")
    say("Pythons: " + ", ".join(p.release for p in pythons))
    ran = 0
    for python in pythons:
        is_primary = python == primary
        folder = VENV if is_primary else VENVS / python.minor
        name = shown(folder)
        legs = (
            "whole suite"
            if is_primary
            else (
                "no PostgreSQL/MySQL/browser/lesson-order legs "
                f"(they run on the primary, {primary.release})"
            )
        )
        try:
            interpreter = VENV_PYTHON if is_primary else setup(folder, python.real)
        except (subprocess.CalledProcessError, SystemExit):  # e.g. no wheel for this version
            outcomes.append(
                Outcome(
                    python.release,
                    False,
                    environment=name,
                    note=f"could not install {LOCK.name} (see above)",
                )
            )
            continue
        say(f"==== Python {python.release} ({name}): {legs} ====")
        extra = (
            {}
            if is_primary
            else {
                "WORKBOOK_SKIP_SERVER_LEGS": (
                    "PostgreSQL, MySQL, browser and lesson-order legs run on the primary "
                    f"Python only ({primary.release}, {VENV.name}); this is {python.release}"
                )
            }
        )
        run_started = time.monotonic()
        code, counts = run_pytest(interpreter, args, **extra)
        ran += 1
        outcomes.append(
            Outcome(
                python.release, code in (0, 5), counts, time.monotonic() - run_started, name, legs
            )
        )
    if problem := pythons_problem(ran, os.environ.get("CI") == "true"):
        outcomes.append(Outcome("Pythons", False, note=problem))
    print()
    for line in table(outcomes):
        say(line)
    for path, why in passed_over:
        say(f"not used: {path}: {why}")
    print(closing_line(outcomes, time.monotonic() - started), flush=True)
    sys.exit(0 if all(outcome.ok for outcome in outcomes) else 1)


def script(*command: str):
    def task(args: list[str]) -> None:
        setup()
        sys.exit(subprocess.run([str(VENV_PYTHON), *command, *args], cwd=ROOT).returncode)

    return task


def lock(args: list[str]) -> None:
    setup()
    run(VENV_PYTHON, "-m", "pip", "install", "--quiet", "uv")
    compiled = VENV / "requirements.compiled"
    run(
        BIN / "uv",
        "pip",
        "compile",
        "pyproject.toml",
        "--extra",
        "test",
        "--universal",
        "--python-version",
        "3.11",
        "--no-header",
        "--annotation-style",
        "line",
        "--quiet",
        "-o",
        compiled,
    )
    LOCK.write_text(
        "# Exact versions installed by `python3 tasks.py lab|test`. Generated from\n"
        "# pyproject.toml by `python3 tasks.py lock`; do not edit by hand.\n" + compiled.read_text()
    )
    compiled.unlink()
    say(f"wrote {LOCK.name}")


TASKS = {
    "setup": lambda args: setup(),
    "lab": lab,
    "test": test,
    "notebooks": script("tools/run_notebooks.py"),
    "twins": script("tools/twins.py"),
    "bench": script("benchmarks/run.py"),
    "lock": lock,
    "wheelhouse": script("tools/wheelhouse.py"),
    "guide": script("tools/instructor_guide.py"),
    "lite": script("tools/lite.py"),
    "progress": script("-m", "workbook.progress"),
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        sys.exit(__doc__)
    TASKS[sys.argv[1]](sys.argv[2:])
