"""No password is ever printed, whatever characters it holds and however broken its URL.

A corpus of URLs (``@ : / %`` unencoded in the password, no ``//``, no scheme, a password
where the port goes, unknown and sync drivers) is driven through every place that can
print a URL: app.core.config's errors, ``%alembic`` (output, FAILED line, last_error),
the first cell, ``ws.db_path``/``schema``/``rows``/``graph``, ``ws.write`` diffs and
``ws.show``, and the exercise checkers that read ``.env``.
"""

import asyncio

import pytest

import workbook
from app.core.config import ConfigError, get_settings, mask_password
from workbook import workspace as workspace_module
from workbook.exercises import chapter01, chapter04
from workbook.runner import AlembicCommandError
from workbook.workspace import WorkspaceError

# (id, URL, fragments of its password that must never appear). Hosts are 127.0.0.1 on a
# closed port: a refused connection is immediate, and nothing leaves the machine.
CORPUS = [
    ("plain", "postgresql+asyncpg://learner:Zq7xKw3y@127.0.0.1:5999/library", ["Zq7x", "Kw3y"]),
    ("at", "postgresql+asyncpg://learner:Zq7x@Kw3y!@127.0.0.1:5999/library", ["Zq7x", "Kw3y"]),
    (
        "two-ats",
        "postgresql+asyncpg://learner:Zq7x@Kw3y@Jm5w@127.0.0.1:5999/library",
        ["Zq7x", "Kw3y", "Jm5w"],
    ),
    ("colon", "postgresql+asyncpg://learner:Zq7x:Kw3y@127.0.0.1:5999/library", ["Zq7x", "Kw3y"]),
    ("slash", "postgresql+asyncpg://learner:Zq7x/Kw3y@127.0.0.1:5999/library", ["Zq7x", "Kw3y"]),
    ("percent", "postgresql+asyncpg://learner:Zq7x%Kw3y@127.0.0.1:5999/library", ["Zq7x", "Kw3y"]),
    (
        "encoded-at",
        "postgresql+asyncpg://learner:Zq7x%40Kw3y@127.0.0.1:5999/library",
        ["Zq7x", "Kw3y"],
    ),
    (
        "everything",
        "postgresql+asyncpg://learner:Zq7x@:/%Kw3y@127.0.0.1:5999/library",
        ["Zq7x", "Kw3y"],
    ),
    (
        "at-and-slash",
        "postgresql+asyncpg://learner:Zq7x@Kw3y/Jm5w@127.0.0.1:5999/library",
        ["Zq7x", "Kw3y", "Jm5w"],
    ),
    ("one-slash", "postgresql+asyncpg:/learner:Zq7xKw3y@127.0.0.1:5999/library", ["Zq7x"]),
    ("no-slashes", "postgresql+asyncpg:learner:Zq7xKw3y@127.0.0.1:5999/library", ["Zq7x"]),
    ("no-scheme", "learner:Zq7x@Kw3y@127.0.0.1:5999/library", ["Zq7x", "Kw3y"]),
    ("password-as-port", "postgresql+asyncpg://learner:Zq7xKw3y/library", ["Zq7x"]),
    ("sync-driver", "postgresql://learner:Zq7x@Kw3y@127.0.0.1:5999/library", ["Zq7x", "Kw3y"]),
    ("unknown-driver", "nosuchdb+nodriver://learner:Zq7x:Kw3y@127.0.0.1/library", ["Zq7x", "Kw3y"]),
    ("mysql", "mysql+aiomysql://learner:Zq7x@Kw3y@127.0.0.1:5999/library", ["Zq7x", "Kw3y"]),
    ("space", "postgresql+asyncpg://learner:Zq7x Kw3y@127.0.0.1:5999/library", ["Zq7x", "Kw3y"]),
    (
        "space-and-at",
        "postgresql+asyncpg://learner:Zq7x@Kw3y Jm5w@127.0.0.1:5999/library",
        ["Zq7x", "Kw3y", "Jm5w"],
    ),
    (
        "query-password",
        "postgresql+asyncpg://learner@127.0.0.1:5999/library?password=Zq7xKw3y",
        ["Zq7x"],
    ),
    (
        "query-password-after-another",
        "postgresql+asyncpg://learner@127.0.0.1:5999/library?ssl=disable&password=Zq7xKw3y",
        ["Zq7x"],
    ),
    (
        "quoted-in-env-file",
        '"postgresql+asyncpg://learner:Zq7x@Kw3y@127.0.0.1:5999/library"',
        ["Zq7x", "Kw3y"],
    ),
]
IDS = [case[0] for case in CORPUS]


@pytest.fixture(autouse=True)
def private_workspaces(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_WORKSPACES", str(tmp_path / "workspaces"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(workspace_module, "last_error", "")


def assert_secret_free(text: str, fragments: list[str]) -> None:
    for fragment in fragments:
        assert fragment not in text, text


def in_running_loop(function, *args):
    """As in a Jupyter kernel: an event loop runs in this thread."""

    async def main():
        return function(*args)

    return asyncio.run(main())


@pytest.mark.parametrize("url, fragments", [case[1:] for case in CORPUS], ids=IDS)
def test_mask_password_hides_every_fragment(url, fragments):
    assert_secret_free(mask_password(url), fragments)
    assert_secret_free(mask_password(f"DATABASE_URL={url}  # the team's server"), fragments)
    assert "***" in mask_password(url)


@pytest.mark.parametrize("url, fragments", [case[1:] for case in CORPUS], ids=IDS)
def test_config_errors_and_safe_url(url, fragments, tmp_path):
    try:
        shown = get_settings({"DATABASE_URL": url.strip('"')}, root=tmp_path).safe_url
    except ConfigError as error:
        shown = str(error)
        assert "\n" not in shown
    assert_secret_free(shown, fragments)


@pytest.mark.parametrize("url, fragments", [case[1:] for case in CORPUS], ids=IDS)
def test_alembic_magic_output_error_and_last_error(url, fragments, monkeypatch, capsys):
    workbook.start("secrets", "0001", quiet=True)
    monkeypatch.setenv("DATABASE_URL", url.strip('"'))
    shown = []
    for line in ["current", "upgrade head --sql"]:
        try:
            in_running_loop(workspace_module.alembic_magic, line)
        except AlembicCommandError as error:
            shown += [error.message, *error._render_traceback_(), error.details]
    captured = capsys.readouterr()
    shown += [captured.out, captured.err, workspace_module.last_error]
    assert_secret_free("\n".join(shown), fragments)


@pytest.mark.parametrize("url, fragments", [case[1:] for case in CORPUS], ids=IDS)
def test_the_first_cell_says_what_it_removed_without_the_password(
    url, fragments, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", url)
    ws = workbook.start("secrets", "0001")
    out = capsys.readouterr().out
    assert out.startswith("Removed DATABASE_URL=") and "***" in out
    assert_secret_free(out, fragments)
    assert ws.current() == ["0001"]


@pytest.mark.parametrize("url, fragments", [case[1:] for case in CORPUS], ids=IDS)
def test_workspace_views_and_errors(url, fragments, monkeypatch):
    ws = workbook.start("secrets", "0001", quiet=True)
    change = ws.write(".env", f"DATABASE_URL={url}\n")
    shown = [
        repr(change),
        change._repr_html_(),
        repr(ws.show(".env")),
        ws.show(".env")._repr_html_(),
    ]
    for action in [
        lambda: ws.db_path,
        ws.schema,
        ws.graph,
        lambda: ws.rows("users"),
        lambda: ws.sql("SELECT 1"),
    ]:
        try:
            action()
        except WorkspaceError as error:
            shown += [str(error), *error._render_traceback_()]
    result = ws.run("current")
    shown += [result.error or "", result.details, result.stdout, result.stderr]
    assert_secret_free("\n".join(shown), fragments)


@pytest.mark.parametrize("url, fragments", [case[1:] for case in CORPUS], ids=IDS)
def test_exercise_checkers_that_read_the_env_file(url, fragments, capsys):
    shown = []
    for exercise, stage in [
        (chapter01.q1, "configured"),
        (chapter04.q1, "0001"),
        (chapter04.q2, "0001"),
    ]:
        ws = workbook.start(f"secrets-{stage}", stage, quiet=True)
        ws.write(".env", f"DATABASE_URL={url}\n")
        shown.append(exercise.result(workspace=ws).message)
        exercise.check(workspace=ws)
    shown.append(capsys.readouterr().out)
    assert_secret_free("\n".join(shown), fragments)


def test_a_url_object_hides_a_query_password_too():
    """SQLAlchemy's hide_password covers the password field only; asyncpg and others also
    take ?password=... (the masking rule is the same for text and URL objects)."""
    from sqlalchemy import make_url

    url = make_url("postgresql+asyncpg://learner:Zq7x@127.0.0.1/library?password=Kw3y")
    assert mask_password(url) == "postgresql+asyncpg://learner:***@127.0.0.1/library?password=***"
