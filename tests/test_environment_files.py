"""environment.yml, requirements.lock and pyproject.toml agree; .env.example is safe to commit;
ruff's configuration covers every file kept by hand.

environment.yml cannot include the lock (Binder builds it before the repository is
copied in), so it repeats the direct dependencies with the lock's versions; these
tests catch the two drifting apart after `python3 tasks.py lock`.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml  # in requirements.lock (via jupyter-events)
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from app.core.config import get_settings

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER_PASSWORDS = {"CHANGE_ME"}


def lock_versions() -> dict[str, set[str]]:
    """name -> versions pinned in requirements.lock (a name may repeat under markers)."""
    versions: dict[str, set[str]] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        pin = line.split("#", 1)[0].split(";", 1)[0].strip()
        if pin:
            name, _, version = pin.partition("==")
            versions.setdefault(canonicalize_name(name), set()).add(version.strip())
    return versions


def direct_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    return [Requirement(text) for text in declared]


def environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def conda_dependencies() -> list[str]:
    return [dep for dep in environment()["dependencies"] if isinstance(dep, str)]


def pip_requirements() -> list[Requirement]:
    (pip_section,) = [dep["pip"] for dep in environment()["dependencies"] if isinstance(dep, dict)]
    return [Requirement(line) for line in pip_section]


def pinned_version(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", f"{requirement} is not pinned with =="
    return specifier.version


def test_environment_yml_is_a_conda_forge_python_environment() -> None:
    env = environment()
    assert env["name"] == "alembic-workbook"
    assert env["channels"] == ["conda-forge"]
    assert {"python=3.11", "pip"} <= set(conda_dependencies())


def test_environment_yml_python_satisfies_requires_python() -> None:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    (python,) = [dep for dep in conda_dependencies() if dep.startswith("python=")]
    assert Requirement(f"python{requires}").specifier.contains(python.removeprefix("python="))


def test_environment_yml_needs_nothing_from_the_repository() -> None:
    """repo2docker installs it before the repository is there: no -r, no -e, no paths."""
    text = (ROOT / "environment.yml").read_text()
    assert not re.search(r"^\s*-\s*(-r|-e|--requirement|--editable|\.)", text, re.MULTILINE)


@pytest.mark.parametrize("requirement", pip_requirements(), ids=str)
def test_every_environment_pin_matches_the_lock(requirement: Requirement) -> None:
    locked = lock_versions().get(canonicalize_name(requirement.name))
    assert locked, f"{requirement.name} is not in requirements.lock"
    assert {pinned_version(requirement)} == locked


def test_every_direct_dependency_is_in_environment_yml() -> None:
    in_environment = {canonicalize_name(r.name): r.extras for r in pip_requirements()}
    for requirement in direct_requirements():
        name = canonicalize_name(requirement.name)
        assert name in in_environment, f"{requirement} (pyproject.toml) not in environment.yml"
        assert requirement.extras <= in_environment[name], f"{requirement}: extras lost"


def test_environment_yml_lists_nothing_else() -> None:
    direct = {canonicalize_name(r.name) for r in direct_requirements()}
    assert {canonicalize_name(r.name) for r in pip_requirements()} == direct


@pytest.mark.parametrize("requirement", direct_requirements(), ids=str)
def test_lock_satisfies_pyproject(requirement: Requirement) -> None:
    (locked,) = lock_versions()[canonicalize_name(requirement.name)]
    assert requirement.specifier.contains(locked, prereleases=True)


@pytest.mark.parametrize("name", ["sqlalchemy", "greenlet"])
def test_lock_pins_the_async_engine_needs(name: str) -> None:
    """SQLAlchemy 2.1 no longer brings greenlet along; its async engine fails without it."""
    assert lock_versions().get(name), f"{name} is not pinned in requirements.lock"


def test_env_example_exists_and_works_as_a_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    settings = get_settings({}, root=tmp_path)
    assert settings.source == ".env"
    assert settings.database_url.render_as_string() == f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"


def test_env_example_holds_no_real_password() -> None:
    text = (ROOT / ".env.example").read_text()
    passwords = set(re.findall(r"://[^:/@\s]+:([^@\s]+)@", text))
    real_looking = passwords - PLACEHOLDER_PASSWORDS
    assert not real_looking, f"real-looking passwords: {real_looking}"
    assert not re.search(r"^\s*\w*PASSWORD\w*\s*=\s*\S", text, re.MULTILINE | re.IGNORECASE)


# -- ruff (run by `python3 tasks.py test` before pytest: tests/test_test_command.py) -------------
def ruff_settings() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]


def test_ruff_checks_the_projects_rules() -> None:
    settings = ruff_settings()
    assert settings["line-length"] == 100
    assert set(settings["lint"]["select"]) == {"F", "E", "W", "B", "I", "UP"}


def test_ruff_leaves_out_only_generated_folders_and_the_lessons() -> None:
    """Generated means git ignores it: workspaces, build/, wheelhouse/... The lessons' cells
    are the other exception: they show the guide's code as written, mistakes included."""
    ignored = {line.strip().strip("/") for line in (ROOT / ".gitignore").read_text().splitlines()}
    assert set(ruff_settings()["extend-exclude"]) <= ignored | {"notebooks"}


def test_ruff_sees_the_hand_kept_revisions_and_chapters() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--show-files", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    files = {
        Path(line.strip()).resolve().relative_to(ROOT).as_posix()
        for line in listed.splitlines()
        if line.strip().startswith(str(ROOT))
    }
    for kept in [
        *ROOT.glob("alembic/versions/*.py"),
        *ROOT.glob("notebooks/*.ipynb"),
        *ROOT.glob("workbook/starting_points/**/*.py"),
        ROOT / "tasks.py",
    ]:
        assert kept.relative_to(ROOT).as_posix() in files
