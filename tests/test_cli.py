"""The real ``alembic`` command line, as a learner types it, on the reference environment.

Each command runs in a subprocess from the repository root (alembic.ini finds its
scripts through %(here)s) with DATABASE_URL, ENVIRONMENT and TEST_DATABASE_URL set
explicitly, so neither the shell nor a developer's .env can change what is tested.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
ALEMBIC = Path(sys.executable).with_name("alembic")  # the virtualenv's console script
OFFLINE_POSTGRES_URL = "postgresql+asyncpg://nobody:CHANGE_ME@127.0.0.1:1/offline"  # never reached


def alembic(
    *args: str, url: str, cwd: Path = ROOT, **variables: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ENVIRONMENT": "development",
        "TEST_DATABASE_URL": "",  # empty beats a value in .env
        **variables,
    }
    return subprocess.run(
        [str(ALEMBIC), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def succeeds(*args: str, url: str, cwd: Path = ROOT) -> str:
    """Run alembic, insist it worked without a traceback, return its stdout."""
    result = alembic(*args, url=url, cwd=cwd)
    assert result.returncode == 0, (
        f"alembic {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def sqlite_rows(path: Path, sql: str) -> set:
    """Read the SQLite file directly: quicker than another `alembic current` subprocess."""
    with closing(sqlite3.connect(path)) as connection:  # sqlite3's own `with` does not close
        return {row[0] for row in connection.execute(sql)}


def sqlite_tables(path: Path) -> set[str]:
    return sqlite_rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")


def recorded_revisions(path: Path) -> set[str]:
    return sqlite_rows(path, "SELECT version_num FROM alembic_version")


@pytest.fixture
def empty_db(tmp_path: Path) -> Path:
    return tmp_path / "workbook.db"


@pytest.fixture(scope="module")
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database at head, shared by the commands that only read."""
    url = sqlite_url(tmp_path_factory.mktemp("cli") / "workbook.db")
    succeeds("upgrade", "head", url=url)
    return url


def test_alembic_console_script_is_next_to_python() -> None:
    assert ALEMBIC.exists(), (
        f"no alembic at {ALEMBIC}: is the project installed in this environment?"
    )


def test_upgrade_head_then_current_shows_head(empty_db: Path) -> None:
    url = sqlite_url(empty_db)
    succeeds("upgrade", "head", url=url)
    assert succeeds("current", url=url) == "0012 (head)\n"


def test_the_command_line_logs_as_alembic_ini_says(empty_db: Path) -> None:
    result = alembic("upgrade", "0001", url=sqlite_url(empty_db))
    assert "INFO  [alembic.runtime.migration] Context impl SQLiteImpl.\n" in result.stderr


def test_merge_heads_gets_the_next_number_like_revision(
    reference_project: Path, tmp_path: Path
) -> None:
    project = reference_project
    url = sqlite_url(tmp_path / "workbook.db")
    succeeds("revision", "-m", "feature a", url=url, cwd=project)
    succeeds("revision", "-m", "feature b", "--head", "0012", "--splice", url=url, cwd=project)
    assert sorted(succeeds("heads", url=url, cwd=project).splitlines()) == [
        "0013 (head)",
        "0014 (head)",
    ]

    succeeds("merge", "heads", "-m", "merge a and b", url=url, cwd=project)

    assert succeeds("heads", url=url, cwd=project).splitlines() == ["0015 (head)"]
    assert [p.name for p in (project / "alembic" / "versions").glob("*_0015_*.py")] != []
    succeeds("revision", "-m", "feature c", "--head", "0014", "--splice", url=url, cwd=project)
    succeeds("merge", "heads", "--rev-id", "f00d", "-m", "chosen id", url=url, cwd=project)
    assert succeeds("heads", url=url, cwd=project).splitlines() == ["f00d (head)"]


def test_history_verbose_shows_the_whole_graph(migrated_url: str) -> None:
    history = succeeds("history", "--verbose", url=migrated_url)
    for number in range(1, 13):
        assert f"Rev: {number:04d}" in history
    assert "Rev: 0012 (head)" in history
    assert "Rev: 0010 (mergepoint)\nMerges: 0008, 0009" in history
    assert "Rev: 0007 (branchpoint)" in history
    assert "Parent: <base>" in history


def test_heads_prints_exactly_one_head(migrated_url: str) -> None:
    assert succeeds("heads", url=migrated_url).splitlines() == ["0012 (head)"]


def test_check_finds_models_and_migrations_in_step(migrated_url: str) -> None:
    assert succeeds("check", url=migrated_url).strip() == "No new upgrade operations detected."


def test_step_down_and_up_then_back_to_base(empty_db: Path) -> None:
    url = sqlite_url(empty_db)
    succeeds("upgrade", "head", url=url)
    succeeds("downgrade", "-1", url=url)
    assert recorded_revisions(empty_db) == {"0011"}
    succeeds("upgrade", "+1", url=url)
    assert recorded_revisions(empty_db) == {"0012"}
    succeeds("downgrade", "base", url=url)
    assert recorded_revisions(empty_db) == set()
    assert sqlite_tables(empty_db) == {"alembic_version"}


def test_stamp_head_records_the_revision_without_running_it(empty_db: Path) -> None:
    url = sqlite_url(empty_db)
    succeeds("stamp", "head", url=url)
    assert recorded_revisions(empty_db) == {"0012"}
    assert sqlite_tables(empty_db) == {"alembic_version"}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_upgrade_head_sql_prints_the_sql_without_connecting(dialect: str, empty_db: Path) -> None:
    url = sqlite_url(empty_db) if dialect == "sqlite" else OFFLINE_POSTGRES_URL
    sql = succeeds("upgrade", "head", "--sql", url=url)
    assert "CREATE TABLE users (" in sql
    assert "INSERT INTO alembic_version (version_num) VALUES ('0001')" in sql
    assert "UPDATE alembic_version SET version_num='0012'" in sql
    assert not empty_db.exists()


BAD_SETTINGS = {
    "not-a-url": (
        {"DATABASE_URL": "nonsense"},
        "FAILED: DATABASE_URL is not a database URL",
    ),
    "unreachable-server": (
        {"DATABASE_URL": "postgresql+asyncpg://bob:s3cret@127.0.0.1:1/db"},
        "FAILED: cannot connect to postgresql+asyncpg://bob:***@127.0.0.1:1/db",
    ),
    "sync-driver": (
        {"DATABASE_URL": "postgresql://bob:s3cret@127.0.0.1/db"},
        "FAILED: DATABASE_URL uses 'postgresql', which is not an async driver; "
        "the async engine needs e.g. postgresql+asyncpg://",
    ),
    "mysql-sync-driver": (
        {"DATABASE_URL": "mysql://bob:s3cret@127.0.0.1/db"},
        "FAILED: DATABASE_URL uses 'mysql', which is not an async driver; "
        "the async engine needs e.g. mysql+aiomysql://",
    ),
    "mysql-unreachable-server": (
        {"DATABASE_URL": "mysql+aiomysql://bob:s3cret@127.0.0.1:1/db"},
        "FAILED: cannot connect to mysql+aiomysql://bob:***@127.0.0.1:1/db: "
        "Can't connect to MySQL server on '127.0.0.1' (MySQL error 2003)",
    ),
    "mysql-password-with-an-unencoded-at": (
        {"DATABASE_URL": "mysql+aiomysql://bob:s3cret@s3cret@127.0.0.1:1/db"},
        "FAILED: DATABASE_URL has an '@' in its password or user name: write it as %40 there "
        "('mysql+aiomysql://bob:***@127.0.0.1:1/db')",
    ),
    "mysql-driver-not-installed": (
        {"DATABASE_URL": "mysql+asyncmy://bob:s3cret@127.0.0.1/db"},
        "FAILED: cannot use mysql+asyncmy://bob:***@127.0.0.1/db: its driver 'asyncmy' is "
        "not installed (pip install asyncmy)",
    ),
    "test-environment-without-its-url": (
        {"ENVIRONMENT": "test", "TEST_DATABASE_URL": ""},
        "FAILED: ENVIRONMENT=test but TEST_DATABASE_URL is not set",
    ),
}


@pytest.mark.parametrize("variables, first_words", BAD_SETTINGS.values(), ids=BAD_SETTINGS)
def test_bad_settings_fail_in_one_line(variables: dict, first_words: str, empty_db: Path) -> None:
    result = alembic("current", url=sqlite_url(empty_db), **variables)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert len(result.stdout.splitlines()) == 1, result.stdout
    assert result.stdout.startswith(first_words), result.stdout
    assert "Traceback" not in output
    assert "s3cret" not in output


def test_the_project_is_found_from_another_working_directory(
    reference_project: Path, tmp_path: Path
) -> None:
    """`prepend_sys_path = %(here)s`: `alembic -c project/alembic.ini` from the parent folder
    imports the project's `app` (with `.` it looked in the working directory and failed)."""
    assert reference_project == tmp_path / "project"  # run as project/alembic.ini below
    database = tmp_path / "elsewhere.db"
    code = (  # a Python that cannot import the repository's own `app`, as in any other project
        "import sys; from pathlib import Path; "
        f"sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path({str(ROOT)!r})]; "
        "from alembic.config import main; main(['-c', 'project/alembic.ini', 'upgrade', 'head'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": sqlite_url(database), "ENVIRONMENT": "development"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert recorded_revisions(database) == {"0012"}


def test_mysql_wrong_password_fails_in_one_line(mysql_url: str, empty_db: Path) -> None:
    wrong = make_url(mysql_url).set(password="s3cret@:/%")
    result = alembic(
        "current",
        url=sqlite_url(empty_db),
        DATABASE_URL=wrong.render_as_string(hide_password=False),
    )
    masked = wrong.render_as_string(hide_password=True)
    assert result.returncode != 0
    assert result.stdout == (
        f"FAILED: cannot connect to {masked}: Access denied for user 'workbook'@'127.0.0.1' "
        "(using password: YES) (MySQL error 1045)\n"
    )
    assert "Traceback" not in result.stderr and "s3cret" not in result.stdout + result.stderr


def test_mysql_database_that_does_not_exist_fails_in_one_line(
    mysql_url: str, empty_db: Path
) -> None:
    missing = make_url(mysql_url).set(database="no_such_database")
    result = alembic(
        "current",
        url=sqlite_url(empty_db),
        DATABASE_URL=missing.render_as_string(hide_password=False),
    )
    password = make_url(mysql_url).password
    assert result.returncode != 0
    assert result.stdout.startswith(
        f"FAILED: cannot connect to {missing.render_as_string(hide_password=True)}: "
        "Access denied for user 'workbook'@'127.0.0.1' to database 'no_such_database' "
        "(MySQL error 1044)"
    ), result.stdout
    assert len(result.stdout.splitlines()) == 1
    assert password not in result.stdout + result.stderr
