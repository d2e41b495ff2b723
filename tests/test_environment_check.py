"""Chapter 00's environment check says plainly what is missing."""

import importlib.metadata

from workbook import environment


def test_this_environment_is_ready(capsys, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    environment.check_environment()
    out = capsys.readouterr().out
    assert out.endswith("Ready to go.\n") and "✗" not in out


def test_a_missing_package_is_named_with_the_fix(monkeypatch, capsys):
    real = importlib.metadata.version

    def version(name):
        if name == "aiosqlite":
            raise importlib.metadata.PackageNotFoundError(name)
        return "0.1" if name == "alembic" else real(name)

    monkeypatch.setattr(environment.importlib.metadata, "version", version)
    environment.check_environment()
    out = capsys.readouterr().out
    assert "✗ aiosqlite is missing (the async SQLite driver): run `python3 tasks.py lab`" in out
    assert "✗ alembic 0.1 (the migration tool), needs 1.20 or newer" in out
    assert out.endswith("Fix the lines marked ✗, then restart the kernel.\n")


def test_a_database_url_in_the_kernel_is_flagged(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///elsewhere.db")
    assert any("DATABASE_URL is set" in str(f) and not f.ok for f in environment.findings())


def test_the_database_drivers_are_reported_like_the_others(capsys, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    environment.check_environment()
    out = capsys.readouterr().out
    for name, purpose in [
        ("aiomysql", "the async MySQL and MariaDB driver: mysql+aiomysql://"),
        ("asyncpg", "the async PostgreSQL driver: postgresql+asyncpg://"),
    ]:
        assert f"✓ {name} {importlib.metadata.version(name)} ({purpose})\n" in out


def test_a_missing_database_driver_is_named_but_does_not_block(monkeypatch, capsys):
    real = importlib.metadata.version

    def version(name):
        if name == "aiomysql":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(environment.importlib.metadata, "version", version)
    environment.check_environment()
    out = capsys.readouterr().out
    assert (
        "– aiomysql is not installed (the async MySQL and MariaDB driver: mysql+aiomysql://; "
        "optional, for that database only: pip install aiomysql)\n"
    ) in out
    assert out.endswith("Ready to go.\n")
