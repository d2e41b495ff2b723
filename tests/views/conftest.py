"""Fixtures for the views' tests.

Databases are made in tmp_path, either by running the reference migrations for real
(once per session, copied at each revision the tests need) or, for small hand-made
schemas, with ``MetaData.create_all`` on a sync SQLite engine (``helpers.small_db``).
"""

import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from tests.views.helpers import ROOT

REVISIONS = ("0002", "0003", "0004", "0005", "0011")


@pytest.fixture(scope="session")
def migrated(tmp_path_factory) -> dict[str, Path]:
    """The reference chain applied to one SQLite file, copied after each revision in REVISIONS."""
    folder = tmp_path_factory.mktemp("migrated")
    work = folder / "work.db"
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False  # keep pytest's logging as it is
    copies = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{work}")
        mp.delenv("ENVIRONMENT", raising=False)
        for rev in REVISIONS:
            command.upgrade(config, rev)
            copies[rev] = folder / f"{rev}.db"
            shutil.copy(work, copies[rev])
    return copies
