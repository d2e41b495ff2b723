"""Test-wide settings (the whole suite: tests/ and the notebooks run by nbval)."""

import os
import tempfile

import pytest


def pytest_configure(config):
    # Tests and notebook kernels build workspaces in a private folder, never in the
    # learner's workspace/ (a lab session may be open on it). Kernels inherit this.
    if not os.environ.get("WORKBOOK_WORKSPACES"):
        os.environ["WORKBOOK_WORKSPACES"] = tempfile.mkdtemp(prefix="workbook-tests-")
    # The workspaces' env.py must use their own SQLite file, whatever the shell exports.
    for variable in ("DATABASE_URL", "TEST_DATABASE_URL", "ENVIRONMENT"):
        os.environ.pop(variable, None)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """In xdist's workers, the slow tests come first (`--no-loadscope-reorder` keeps this
    order), so that they start at once instead of running last, alone on one worker."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)
