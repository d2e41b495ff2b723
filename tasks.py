#!/usr/bin/env python3
"""The workbook's commands. Needs only Python 3.11+ (standard library) to start.

    python3 tasks.py lab          set up .venv, open the workbook in JupyterLab (your copies
                                  of the lessons, in workspace/lessons/)
    python3 tasks.py test         set up .venv (and PostgreSQL where apt-get can), run every test
    python3 tasks.py notebooks    build each notebook from its text twin (notebooks/NN_*.md),
                                  run it top to bottom and store its outputs
    python3 tasks.py twins        write the text twins from the notebooks (after editing in
                                  JupyterLab); `twins --check` says where they disagree
    python3 tasks.py bench        print the workbook's speed ratios
    python3 tasks.py lock         recompute requirements.lock from pyproject.toml
    python3 tasks.py wheelhouse   collect every wheel of the lock into wheelhouse/ (offline setup)
    python3 tasks.py guide        regenerate the chapter summaries in docs/INSTRUCTOR_GUIDE.md
    python3 tasks.py lite         build the in-browser edition into build/lite/ (`--serve`: serve it)
    python3 tasks.py progress     show the learner's exercise progress (workbook.progress);
                                  `progress reset [NN]` clears it (all, or one chapter)

Set PIP_OPTIONS (e.g. "--no-index --find-links wheelhouse") to install from elsewhere:
after `python3 tasks.py wheelhouse` on a connected machine of the same platform,
`PIP_OPTIONS="--no-index --find-links wheelhouse" python3 tasks.py lab` needs no network.
Deleting workspace/ resets every workspace and your lesson copies, and clears the progress kept there.
Extra arguments after `test` go to pytest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
VENV_PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"
LOCK = ROOT / "requirements.lock"
WORKSPACE = ROOT / "workspace"  # the learner's: lesson copies and chapter projects (git-ignored)
MIN_PYTHON = (3, 11)  # SQLAlchemy 2.1


def say(message: str) -> None:
    print(f"[tasks] {message}", flush=True)


def run(*args: str | Path, **kwargs) -> None:
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, **kwargs)


def base_python() -> str:
    """This interpreter if new enough, else the first python3.x on PATH that is."""
    if sys.version_info >= MIN_PYTHON:
        return sys.executable
    for name in ("python3.13", "python3.12", "python3.11"):
        if found := shutil.which(name):
            return found
    sys.exit(f"error: Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed; "
             f"this is {sys.version.split()[0]}")


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def link_project() -> None:
    """Make ``app`` and ``workbook`` importable from .venv: a path entry, no build step."""
    site_packages = subprocess.run(
        [str(VENV_PYTHON), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    (Path(site_packages) / "alembic_workbook.pth").write_text(f"{ROOT}\n")


def setup() -> None:
    """Create .venv and install the lock into it, unless it is already up to date."""
    wanted = fingerprint()
    if STAMP.exists() and STAMP.read_text() == wanted and VENV_PYTHON.exists():
        return
    if not VENV_PYTHON.exists():
        say(f"creating {VENV.name}")
        run(base_python(), "-m", "venv", VENV)
    options = shlex.split(os.environ.get("PIP_OPTIONS", ""))
    pip = [VENV_PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *options]
    say(f"installing {LOCK.name}" + (f" (PIP_OPTIONS: {shlex.join(options)})" if options else ""))
    try:
        run(*pip, "-r", LOCK)
    except subprocess.CalledProcessError:
        if "--no-index" in options:  # offline: the usual cause is a wheelhouse for elsewhere
            sys.exit("error: the offline install failed (see above). Build the wheelhouse on a "
                     "machine with the same system, processor and Python version: "
                     "`python3 tasks.py wheelhouse`")
        raise
    link_project()
    # The notebooks ask for the "python3" kernel: make it this environment's Python.
    run(VENV_PYTHON, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3",
        "--display-name", "Python 3 (alembic workbook)", stdout=subprocess.DEVNULL)
    STAMP.write_text(wanted)
    say("environment ready")


# JupyterLab settings for a room without internet: no news prompt, no update check.
LAB_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def lab_command(args: list[str], workspace: Path = WORKSPACE) -> list[str]:
    """JupyterLab serving ``workspace/``: the learner's copies of the lessons (``lessons/``)
    beside the chapters' project folders, so models open in the editor; lesson 00 first."""
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # containers
    return [str(BIN / "jupyter"), "lab", f"--ServerApp.root_dir={workspace}",
            "--LabApp.default_url=/lab/tree/lessons/00_welcome.ipynb", *as_root, *args]


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


def test(args: list[str]) -> None:
    setup()
    installer = ROOT / "tools" / "install-system-packages.sh"
    if shutil.which("bash") and installer.exists():
        subprocess.run(["bash", str(installer)], cwd=ROOT, check=True)
    # loadscope: a notebook's cells share one worker (and kernel), a test file or class
    # too; conftest.py puts the slow scopes first.
    command = [str(VENV_PYTHON), "-m", "pytest", "-n", "auto", "--dist", "loadscope",
               "--no-loadscope-reorder",
               "--nbval", "--nbval-current-env",
               "--nbval-sanitize-with", "tools/nbval-sanitize.cfg", *args]
    sys.exit(subprocess.run(command, cwd=ROOT).returncode)


def script(*command: str):
    def task(args: list[str]) -> None:
        setup()
        sys.exit(subprocess.run([str(VENV_PYTHON), *command, *args], cwd=ROOT).returncode)
    return task


def lock(args: list[str]) -> None:
    setup()
    run(VENV_PYTHON, "-m", "pip", "install", "--quiet", "uv")
    compiled = VENV / "requirements.compiled"
    run(BIN / "uv", "pip", "compile", "pyproject.toml", "--extra", "test", "--universal",
        "--python-version", "3.11", "--no-header", "--annotation-style", "line", "--quiet",
        "-o", compiled)
    LOCK.write_text("# Exact versions installed by `python3 tasks.py lab|test`. Generated from\n"
                    "# pyproject.toml by `python3 tasks.py lock`; do not edit by hand.\n"
                    + compiled.read_text())
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
