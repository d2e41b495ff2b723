"""Chapter 00's environment check: is everything the workbook needs installed and usable?"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from dataclasses import dataclass

# (distribution, the version this workbook needs at least, what it is for)
REQUIREMENTS = [
    ("alembic", "1.20", "the migration tool"),
    ("sqlalchemy", "2.1", "models and database access"),
    ("greenlet", "3.0", "SQLAlchemy's async engine (the 'asyncio' extra)"),
    ("aiosqlite", "0.22", "the async SQLite driver"),
    ("ipywidgets", "8.1", "the timeline widget"),
]
# Drivers for DATABASE_URL's other databases. Optional: every chapter runs on SQLite, so a
# missing one is reported without blocking "Ready to go" (the browser edition has none).
OPTIONAL_DRIVERS = [
    ("asyncpg", "0.30", "the async PostgreSQL driver: postgresql+asyncpg://"),
    ("aiomysql", "0.2", "the async MySQL and MariaDB driver: mysql+aiomysql://"),
]
MIN_PYTHON = (3, 11)


@dataclass(frozen=True)
class Finding:
    ok: bool
    text: str
    optional: bool = False  # not ok, but the workbook runs without it

    def __str__(self) -> str:
        return f"{'✓' if self.ok else '–' if self.optional else '✗'} {self.text}"


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def findings() -> list[Finding]:
    result = [
        Finding(
            sys.version_info >= MIN_PYTHON,
            f"Python {'.'.join(map(str, MIN_PYTHON))} or newer"
            + (
                ""
                if sys.version_info >= MIN_PYTHON
                else f" (this is {sys.version.split()[0]}: SQLAlchemy 2.1 needs 3.11)"
            ),
        )
    ]
    from workbook.browser import DESKTOP_ONLY_REQUIREMENTS, IN_BROWSER

    for name, minimum, purpose in REQUIREMENTS:
        if IN_BROWSER and name in DESKTOP_ONLY_REQUIREMENTS:
            continue
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            result.append(
                Finding(False, f"{name} is missing ({purpose}): run `python3 tasks.py lab`")
            )
            continue
        ok = _version_tuple(version) >= _version_tuple(minimum)
        hint = "" if ok else f", needs {minimum} or newer: run `python3 tasks.py lab`"
        result.append(Finding(ok, f"{name} {version} ({purpose}){hint}"))
    for name, minimum, purpose in OPTIONAL_DRIVERS:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            result.append(
                Finding(
                    False,
                    f"{name} is not installed ({purpose}; optional, "
                    f"for that database only: pip install {name})",
                    optional=True,
                )
            )
            continue
        ok = _version_tuple(version) >= _version_tuple(minimum)
        hint = "" if ok else f"; optional, needs {minimum} or newer: pip install -U {name}"
        result.append(Finding(ok, f"{name} {version} ({purpose}{hint})", optional=not ok))
    if os.environ.get("DATABASE_URL"):
        result.append(
            Finding(
                False,
                "DATABASE_URL is set in this kernel's environment: the "
                "workspaces would use it instead of their own SQLite file; "
                "unset it before starting JupyterLab",
            )
        )
    return result


def check_environment() -> None:
    """Print the edition, one line per requirement, and whether the workbook is ready."""
    from workbook.browser import edition

    print(edition())
    results = findings()
    for finding in results:
        print(finding)
    ready = all(f.ok or f.optional for f in results)
    print("Ready to go." if ready else "Fix the lines marked ✗, then restart the kernel.")
