"""Collect every wheel the setup installs, to set the workbook up without the internet.

    python3 tasks.py wheelhouse                  # into wheelhouse/ (git-ignored)
    python3 tasks.py wheelhouse --dest DIR       # somewhere else (a USB stick)

Then, on a machine like this one (same operating system, processor and Python minor
version), with the repository and the wheelhouse but no network:

    PIP_OPTIONS="--no-index --find-links wheelhouse" python3 tasks.py lab

The wheelhouse holds one wheel per pin of requirements.lock that applies to this
platform (pins for other platforms, such as ``colorama ; sys_platform == 'win32'``, are
left out), built where PyPI has no wheel. Setup needs nothing else: ``python -m venv``
brings pip, and the project is linked into the environment, not built. Wheels of
versions the lock no longer pins are removed, and the result is checked: every pin has
exactly one wheel this Python can install.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
DEFAULT_DEST = ROOT / "wheelhouse"


def say(message: str) -> None:
    print(f"[wheelhouse] {message}", flush=True)


def pins(lock: Path = LOCK) -> dict[str, str]:
    """canonical name -> version, for the pins of ``lock`` that apply to this platform."""
    found = {}
    for line in lock.read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        (specifier,) = requirement.specifier
        if specifier.operator != "==":
            raise SystemExit(f"{lock.name}: {text!r} is not pinned with ==")
        found[canonicalize_name(requirement.name)] = specifier.version
    return found


def wheels(folder: Path) -> dict[Path, tuple[str, str, frozenset]]:
    """wheel file -> (canonical name, version, tags)."""
    found = {}
    for path in sorted(folder.glob("*.whl")):
        name, version, _build, tags = parse_wheel_filename(path.name)
        found[path] = (canonicalize_name(name), str(version), frozenset(tags))
    return found


def problems(folder: Path, wanted: dict[str, str]) -> list[str]:
    """What stops ``pip install --no-index --find-links folder -r requirements.lock`` here."""
    supported = set(sys_tags())
    usable: dict[str, list[str]] = {}
    for path, (name, version, tags) in wheels(folder).items():
        if wanted.get(name) == version and tags & supported:
            usable.setdefault(name, []).append(path.name)
    found = []
    for name, version in sorted(wanted.items()):
        if name not in usable:
            found.append(f"no wheel of {name}=={version} for this Python and platform")
    return found


def prune(folder: Path, wanted: dict[str, str]) -> list[str]:
    """Remove wheels of versions (or packages) the lock does not pin; returns their names."""
    removed = []
    for path, (name, version, _tags) in wheels(folder).items():
        if wanted.get(name) != version:
            path.unlink()
            removed.append(path.name)
    return removed


def collect(dest: Path, lock: Path = LOCK, pip_args: list[str] | None = None) -> None:
    """Fill ``dest`` with the lock's wheels for this platform (downloaded or built)."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = pins(lock)
    say(f"collecting {len(wanted)} wheels of {lock.name} into {dest}")
    # `pip wheel` saves a wheel PyPI has as it is, and builds one where PyPI has only the
    # source; --no-deps: the lock already lists every dependency, pinned.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--wheel-dir",
            str(dest),
            "-r",
            str(lock),
            *(pip_args or []),
        ],
        check=True,
    )
    removed = prune(dest, wanted)
    if removed:
        say(f"removed {len(removed)} wheels the lock no longer pins: {', '.join(removed)}")
    missing = problems(dest, wanted)
    if missing:
        raise SystemExit("[wheelhouse] incomplete:\n  " + "\n  ".join(missing))
    size = sum(path.stat().st_size for path in dest.glob("*.whl")) / 1e6
    python = f"{sys.implementation.name} {sys.version_info.major}.{sys.version_info.minor}"
    say(
        f"{len(wanted)} wheels, {size:.0f} MB, for {python} on {sys.platform} "
        f"({next(iter(sys_tags()))})"
    )
    try:
        shown = dest.resolve().relative_to(ROOT)
    except ValueError:
        shown = dest
    say(
        f'install without the internet: PIP_OPTIONS="--no-index --find-links {shown}" '
        "python3 tasks.py lab"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dest", type=Path, default=DEFAULT_DEST, help="the folder to fill (default: wheelhouse/)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only check that the folder has every wheel; download nothing",
    )
    args, pip_args = parser.parse_known_args(argv)
    if args.check:
        missing = problems(args.dest, pins())
        for line in missing:
            say(line)
        say("complete" if not missing else f"{len(missing)} wheels missing")
        return 1 if missing else 0
    collect(args.dest, pip_args=pip_args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
