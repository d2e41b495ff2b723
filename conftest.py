"""Test-wide settings (the whole suite: tests/ and the notebooks run by nbval)."""

import contextlib
import functools
import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


def pytest_configure(config):
    # Tests and notebook kernels build workspaces in a private folder, never in the
    # learner's workspace/ (a lab session may be open on it). Kernels inherit this.
    if not os.environ.get("WORKBOOK_WORKSPACES"):
        os.environ["WORKBOOK_WORKSPACES"] = tempfile.mkdtemp(prefix="workbook-tests-")
    # The workspaces' env.py must use their own SQLite file, whatever the shell exports.
    for variable in ("DATABASE_URL", "TEST_DATABASE_URL", "ENVIRONMENT"):
        os.environ.pop(variable, None)
    if not hasattr(config, "workerinput"):  # the controller: before workers and kernels
        _serve_mysql_to_lessons(config)


def _lessons_in_run(config) -> list[Path]:
    """The lessons needing MySQL that this run's nbval may collect."""
    from tests.mysql import lessons_needing_a_server

    if not (config.getoption("nbval", False) or config.getoption("nbval_lax", False)):
        return []
    wanted = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return [twin for twin in lessons_needing_a_server(ROOT / "notebooks")
            if any(path in (twin.with_suffix(".ipynb"), *twin.parents) for path in wanted)]


def _serve_mysql_to_lessons(config) -> None:
    """Export WORKBOOK_MYSQL_URL (a throwaway MariaDB's database) for the lessons' kernels.

    Started here, in the controller, so that xdist's workers and their kernels inherit it;
    stopped when pytest ends. Where none can be had, the reason goes to the workers, whose
    ``pytest_runtest_setup`` below skips the cells that need it (fails them under CI=true).
    """
    from tests import mysql

    if os.environ.get(mysql.LESSON_VARIABLE) or not _lessons_in_run(config):
        return
    stack = contextlib.ExitStack()
    config.add_cleanup(stack.close)
    try:
        url = stack.enter_context(mysql.lesson_server())
    except mysql.MysqlUnavailable as why:
        os.environ[mysql.UNAVAILABLE_VARIABLE] = str(why)
        return
    os.environ[mysql.LESSON_VARIABLE] = url.render_as_string(hide_password=False)
    stack.callback(os.environ.pop, mysql.LESSON_VARIABLE, None)


@functools.cache
def _lesson_server():
    from workbook.half_applied import mysql_server

    return mysql_server()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A lesson cell that needs MySQL (nbval's item has ``.cell``) runs only with a server."""
    cell = getattr(item, "cell", None)
    if cell is None or cell.get("cell_type") != "code":
        return
    from tests import mysql

    if mysql.cell_needs_a_server(cell.source) and not _lesson_server():
        why = os.environ.get(mysql.UNAVAILABLE_VARIABLE) or _lesson_server().line
        mysql.lesson_cell_without_server(why)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """In xdist's workers, the slow tests come first (`--no-loadscope-reorder` keeps this
    order), so that they start at once instead of running last, alone on one worker."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)
