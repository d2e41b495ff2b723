"""Shared fixtures: a real PostgreSQL server (tests/postgres.py) and one database per test."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests import postgres
from tests.kernels import kernels  # noqa: F401  (a fixture: other kernels, as processes)
from tests.mysql import mysql_database_url, mysql_url  # noqa: F401  (fixtures, like the ones below)
from tests.servers import url_or_skip


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgresql+asyncpg://USER:PASSWORD@127.0.0.1:PORT/DB`` of a real server.

    TEST_POSTGRES_URL if set, else a throwaway cluster shared by this process's tests
    (each xdist worker starts its own). Skips, with the reason in pytest's summary,
    when no server can be had.
    """
    with url_or_skip("PostgreSQL leg", postgres.postgres_server()) as url:
        yield url


@pytest.fixture
def postgres_database_url(postgres_url: str) -> Iterator[str]:
    """Like ``postgres_url``, but a new empty database, dropped after the test."""
    with url_or_skip("PostgreSQL leg", postgres.fresh_database(make_url(postgres_url))) as url:
        yield url


@pytest.fixture
def reference_project(tmp_path: Path) -> Path:
    """``tmp_path/project``: the repository's alembic.ini, alembic/ and app/ copied, so a
    throwaway revision never lands in the repository."""
    root, project = Path(__file__).resolve().parents[1], tmp_path / "project"
    project.mkdir()
    shutil.copy(root / "alembic.ini", project / "alembic.ini")
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("alembic", "app"):
        shutil.copytree(root / folder, project / folder, ignore=ignore)
    return project


# -- exercises (tests/test_exercises_*.py) ------------------------------------------------
_WORKSPACE_NUMBERS = itertools.count()  # per process: each xdist worker has its own folder


@pytest.fixture(scope="session")
def _exercise_workspaces_root(tmp_path_factory: pytest.TempPathFactory):
    """One workspaces folder per test process: the stage database cache is shared."""
    return tmp_path_factory.mktemp("exercise-workspaces")


@pytest.fixture
def exercise_workspace(_exercise_workspaces_root, tmp_path, monkeypatch, request):
    """``exercise_workspace(stage)`` -> a fresh, active workspace for one exercise test.

    WORKBOOK_WORKSPACES points at a temporary folder, and the working directory, the
    environment and the active workspace are put back after the test. Names are unique in
    the folder (modules share test names): a setup finding another test's work in its
    workspace would keep it aside, as it does a learner's.
    """
    import re

    from workbook import workspace as workspace_module

    monkeypatch.setenv("WORKBOOK_WORKSPACES", str(_exercise_workspaces_root))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # start() sets it
    monkeypatch.chdir(tmp_path)  # start() moves into the workspace
    monkeypatch.setattr(workspace_module, "_active", None)
    prefix = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:80]

    def start(stage: str):
        return workspace_module.start(f"{prefix}-{next(_WORKSPACE_NUMBERS)}", stage, quiet=True)

    return start


@pytest.fixture
def private_workspaces(tmp_path, monkeypatch) -> Path:
    """A workspaces folder of the test's own, the working directory beside it, no active
    workspace and none of the learner's variables: a fresh kernel's start."""
    from workbook import workspace as workspace_module

    monkeypatch.setenv("WORKBOOK_WORKSPACES", str(tmp_path / "workspaces"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(workspace_module, "_active", None)
    for variable in ("DATABASE_URL", "ENVIRONMENT", "JPY_SESSION_NAME"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path / "workspaces"


@pytest.fixture
def setups_do_not_wait(monkeypatch):
    """Each exercise started on its own: a setup runs even where, in a chapter run top to
    bottom, it waits for an earlier exercise (tests/test_run_all.py). For a whole module:
    ``pytestmark = pytest.mark.usefixtures("setups_do_not_wait")``."""
    from workbook.exercises.core import Exercise

    monkeypatch.setattr(Exercise, "_waiting_for", lambda self, workspace: [])
