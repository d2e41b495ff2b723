"""Which CPythons this machine has, for `python3 tasks.py test` (standard library only).

``discover()`` probes this Python, pyenv's versions and ``python3``/``python3.X`` on PATH,
once per interpreter file, and says why each one it passes over cannot run the tests;
``choose()`` keeps one per minor version.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIN_PYTHON = (3, 11)  # SQLAlchemy 2.1
# Versions found but not run yet, and why ({(3, 14): "held back: <reason>"}): each is a
# failing row to fix, not to forget. WORKBOOK_ALL_PYTHONS=1 runs them all the same.
HELD_BACK: dict[tuple[int, int], str] = {}


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


PROBE = """\
import json, platform, sys
try:
    import ensurepip
except ImportError:
    ensurepip = None
print(json.dumps([platform.python_implementation(), list(sys.version_info[:3]),
                  sys.executable, ensurepip is not None]))
"""


@dataclass(frozen=True)
class Python:
    """A CPython 3.11+ that can create a venv: ``path`` as found, ``real`` the file it runs."""

    path: Path
    real: Path
    version: tuple[int, int, int]

    @property
    def minor(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def release(self) -> str:
        return ".".join(map(str, self.version))


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def probe(path: Path) -> Python | str:
    """The Python at ``path``, or one line saying why the tests cannot run on it."""
    try:
        answer = subprocess.run(
            [str(path), "-c", PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"does not run ({error})"
    try:
        implementation, version, executable, has_ensurepip = json.loads(
            answer.stdout.strip().splitlines()[-1]
        )
    except (ValueError, IndexError):
        return f"does not run: {_last_line(answer.stderr)}"
    release = ".".join(map(str, version))
    if implementation != "CPython":
        return f"{implementation} {release}, not CPython"
    if tuple(version[:2]) < MIN_PYTHON:
        return f"Python {release} is older than {'.'.join(map(str, MIN_PYTHON))}"
    if tuple(version[:2]) in HELD_BACK and not os.environ.get("WORKBOOK_ALL_PYTHONS"):
        return f"Python {release} {HELD_BACK[tuple(version[:2])]}; WORKBOOK_ALL_PYTHONS=1 runs it"
    if not has_ensurepip:
        return (
            f"Python {release} cannot create a venv (no ensurepip; on Debian: "
            f"apt-get install python{version[0]}.{version[1]}-venv)"
        )
    return Python(Path(path), Path(os.path.realpath(executable)), tuple(version))


def pyenv_roots() -> list[Path]:
    """Where pyenv keeps its versions: $PYENV_ROOT, `pyenv root`, ~/.pyenv.

    ~ is both $HOME and the user's home in the password database: a bare environment
    (`env -i HOME=$(mktemp -d) ...`) still finds the user's pyenv.
    """
    roots = [Path(os.environ["PYENV_ROOT"])] if os.environ.get("PYENV_ROOT") else []
    if pyenv := shutil.which("pyenv"):
        answer = subprocess.run(
            [pyenv, "root"], capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
        )
        if answer.returncode == 0 and answer.stdout.strip():
            roots.append(Path(answer.stdout.strip()))
    homes = [os.path.expanduser("~")]
    try:
        import pwd

        homes.append(pwd.getpwuid(os.getuid()).pw_dir)
    except (ImportError, KeyError):  # Windows; a user without an entry
        pass
    roots += [Path(home) / ".pyenv" for home in homes]
    return list(dict.fromkeys(roots))


def candidates(search_path: str, roots: list[Path]) -> list[Path]:
    """This Python, then pyenv's versions, then python3 and python3.X on ``search_path``.

    pyenv's shims are left out: they lead to the versions already listed, or fail.
    """
    found = [Path(sys.executable)]
    for root in roots:
        found += sorted(root.glob("versions/*/bin/python"))
    shims = {os.path.realpath(root / "shims") for root in roots}
    for folder in filter(None, search_path.split(os.pathsep)):
        if os.path.realpath(folder) not in shims:
            found += sorted(
                path
                for path in Path(folder).glob("python3*")
                if re.fullmatch(r"python3(\.\d+)?", path.name)
            )
    return list(dict.fromkeys(found))


def discover(
    search_path: str | None = None, roots: list[Path] | None = None
) -> tuple[list[Python], list[tuple[Path, str]]]:
    """Every usable Python here, once per interpreter file; and the others, each with why."""
    search_path = os.environ.get("PATH", os.defpath) if search_path is None else search_path
    roots = pyenv_roots() if roots is None else roots
    # A symlink and the file it leads to are one Python: probe it once, by its first path.
    by_file: dict[str, Path] = {}
    for path in candidates(search_path, roots):
        by_file.setdefault(os.path.realpath(path), path)
    paths = list(by_file.values())
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(probe, paths))
    usable: list[Python] = []
    passed_over: list[tuple[Path, str]] = []
    for path, found in zip(paths, answers, strict=True):
        if isinstance(found, str):
            passed_over.append((path, found))
        elif all(python.real != found.real for python in usable):
            usable.append(found)
    return usable, passed_over


def choose(usable: list[Python], primary: Python) -> tuple[list[Python], list[tuple[Path, str]]]:
    """One Python per minor version: the primary's own, else the newest release."""
    chosen = {primary.minor: primary}
    passed_over = []
    for python in sorted(usable, key=lambda p: p.version, reverse=True):
        kept = chosen.setdefault(python.minor, python)
        if kept.real != python.real:
            passed_over.append(
                (
                    python.path,
                    f"Python {python.release}: {python.minor} runs "
                    f"as {kept.release} ({shown(kept.path)})",
                )
            )
    return sorted(chosen.values(), key=lambda p: p.version), passed_over
