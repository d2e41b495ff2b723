"""Test-wide settings (the whole suite: tests/ and the notebooks run by nbval)."""

import contextlib
import functools
import json
import os
import tempfile
from pathlib import Path

import pytest

# What `python3 tasks.py test` runs on the primary Python only (see its docstring).
SERVER_LEG_MARKERS = ("postgres", "mysql", "browser")
# The lesson orders run every lesson about seven times over (tests/test_lesson_orders.py).
SERVER_LEG_MODULES = ("test_browser.py", "test_lesson_orders.py")
# pytest's closing-line categories, written for tasks.py's table (WORKBOOK_TEST_REPORT).
SUMMARY_KEYS = ("failed", "passed", "skipped", "deselected", "xfailed", "xpassed", "error")
REPORT_PATH = pytest.StashKey[str]()
ROOT = Path(__file__).resolve().parent


def pytest_configure(config):
    # Tests and notebook kernels build workspaces in a private folder, never in the
    # learner's workspace/ (a lab session may be open on it). Kernels inherit this.
    if not os.environ.get("WORKBOOK_WORKSPACES"):
        os.environ["WORKBOOK_WORKSPACES"] = tempfile.mkdtemp(prefix="workbook-tests-")
    # The workspaces' env.py must use their own SQLite file, whatever the shell exports.
    for variable in ("DATABASE_URL", "TEST_DATABASE_URL", "ENVIRONMENT"):
        os.environ.pop(variable, None)
    # ResourceWarning is an error in the notebook kernels and every other Python the tests
    # start, as pyproject.toml makes it one in the tests: an unclosed file or database
    # prints "Exception ignored ... ResourceWarning" into the cell, which fails it.
    warnings = os.environ.get("PYTHONWARNINGS", "")
    if "error::ResourceWarning" not in warnings.split(","):
        os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [warnings, "error::ResourceWarning"]))
    # Taken out of the environment so that a pytest run by a test does not overwrite it.
    if report := os.environ.pop("WORKBOOK_TEST_REPORT", None):
        config.stash[REPORT_PATH] = report
    if not hasattr(config, "workerinput"):  # the controller: before workers and kernels
        _serve_mysql_to_lessons(config)
    if config.pluginmanager.hasplugin("nbval"):
        from tools import kernel_start

        kernel_start.patch_nbval()  # a kernel that died before its first reply starts again


def _lessons_in_run(config) -> list[Path]:
    """The lessons needing MySQL that this run's nbval may collect."""
    from tests.mysql import lessons_needing_a_server

    if not (config.getoption("nbval", False) or config.getoption("nbval_lax", False)):
        return []
    wanted = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return [
        twin
        for twin in lessons_needing_a_server(ROOT / "notebooks")
        if any(path in (twin.with_suffix(".ipynb"), *twin.parents) for path in wanted)
    ]


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


def is_server_leg(item) -> bool:
    return (
        any(item.get_closest_marker(name) for name in SERVER_LEG_MARKERS)
        or item.path.name in SERVER_LEG_MODULES
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Skip the server and browser legs when WORKBOOK_SKIP_SERVER_LEGS gives a reason.

    In xdist's workers, the slow tests come first (`--no-loadscope-reorder` keeps this
    order), so that they start at once instead of running last, alone on one worker."""
    if reason := os.environ.get("WORKBOOK_SKIP_SERVER_LEGS"):
        for item in items:
            if is_server_leg(item):
                item.add_marker(pytest.mark.skip(reason=reason))
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Write the closing line's counts as JSON, for tasks.py's table of Python versions."""
    if REPORT_PATH not in config.stash:
        return
    counts = {
        key: sum(
            getattr(report, "count_towards_summary", True)
            for report in terminalreporter.stats.get(key, [])
        )
        for key in SUMMARY_KEYS
    }
    Path(config.stash[REPORT_PATH]).write_text(
        json.dumps({key: count for key, count in counts.items() if count})
    )
