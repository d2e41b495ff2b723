"""Setting up without the internet (a wheelhouse), and on Binder (postBuild).

The offline test is real: it builds a wheelhouse with ``tools/wheelhouse.py``, then runs
``tasks.py setup`` into a NEW virtual environment with the package index unreachable
and every pip configuration of the machine ignored, and imports the workbook's
packages from it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# tools/ is not a package (and a built wheelhouse/ folder must not shadow the module)
_spec = importlib.util.spec_from_file_location("tools_wheelhouse", ROOT / "tools" / "wheelhouse.py")
wheelhouse = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wheelhouse)

UNREACHABLE_INDEX = "http://127.0.0.1:9/"  # the discard port: nothing answers
OFFLINE_COMMAND = 'PIP_OPTIONS="--no-index --find-links wheelhouse" python3 tasks.py lab'


def offline_environment(**extra: str) -> dict[str, str]:
    """os.environ without any pip setting, the index unreachable, no configuration file.

    This machine's pip.conf adds file:// indexes and find-links; PIP_CONFIG_FILE=/dev/null
    makes pip read no configuration file at all.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_")) and key not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_INDEX_URL=UNREACHABLE_INDEX,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        **extra,
    )
    return env


# -- the tool, without the network --------------------------------------------------------------
def test_pins_are_the_locks_pins_for_this_platform(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "# comment\n"
        "alembic==1.20.1           # via alembic-workbook\n"
        "colorama==0.4.6 ; sys_platform == 'win32'  # via pytest\n"
        "appnope==1.0.0 ; sys_platform == 'darwin'\n"
        "Jupyter_LSP==2.3.0\n"
    )
    expected = {"alembic": "1.20.1", "jupyter-lsp": "2.3.0"}
    if sys.platform == "win32":
        expected["colorama"] = "0.4.6"
    if sys.platform == "darwin":
        expected["appnope"] = "1.0.0"
    assert wheelhouse.pins(lock) == expected


def test_the_real_lock_is_fully_pinned() -> None:
    pins = wheelhouse.pins()
    assert {"alembic", "sqlalchemy", "aiosqlite", "jupyterlab", "ipykernel"} <= set(pins)


def test_check_names_missing_wheels_and_prune_drops_stale_ones(tmp_path: Path) -> None:
    wanted = {"alembic": "1.20.1", "mako": "1.3.10"}
    (tmp_path / "alembic-1.20.1-py3-none-any.whl").touch()
    (tmp_path / "alembic-1.19.0-py3-none-any.whl").touch()  # an older lock's
    (tmp_path / "mako-1.3.10-py3-none-win_arm64.whl").touch()  # another platform's
    assert wheelhouse.problems(tmp_path, wanted) == [
        "no wheel of mako==1.3.10 for this Python and platform"
    ]
    assert wheelhouse.prune(tmp_path, wanted) == ["alembic-1.19.0-py3-none-any.whl"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "alembic-1.20.1-py3-none-any.whl",
        "mako-1.3.10-py3-none-win_arm64.whl",
    ]


def test_tasks_py_has_the_task_and_reads_pip_options() -> None:
    text = (ROOT / "tasks.py").read_text()
    assert '"wheelhouse": script("tools/wheelhouse.py")' in text
    assert 'os.environ.get("PIP_OPTIONS"' in text


def test_readme_documents_the_offline_setup() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "## Offline setup" in readme
    assert "python3 tasks.py wheelhouse" in readme and OFFLINE_COMMAND in readme


def test_wheelhouse_is_git_ignored() -> None:
    assert "wheelhouse/" in (ROOT / ".gitignore").read_text().splitlines()


# -- for real: build it, then set up a new environment from it, offline ---------------------
@pytest.fixture(scope="session")
def built_wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheelhouse of requirements.lock, built by the tool (from PyPI, or pip's cache)."""
    dest = tmp_path_factory.mktemp("wheelhouse")
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "wheelhouse.py"), "--dest", str(dest)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "install without the internet" in result.stdout
    return dest


@pytest.mark.slow
def test_the_wheelhouse_has_one_installable_wheel_per_pin(built_wheelhouse: Path) -> None:
    pins = wheelhouse.pins()
    assert wheelhouse.problems(built_wheelhouse, pins) == []
    assert len(list(built_wheelhouse.glob("*.whl"))) == len(pins)
    assert not [p for p in built_wheelhouse.iterdir() if p.suffix != ".whl"]


@pytest.mark.slow
def test_the_index_is_really_unreachable_in_the_offline_environment(tmp_path: Path) -> None:
    """The control: without the wheelhouse, the same environment can install nothing."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--retries",
            "0",
            "--timeout",
            "5",
            "--dest",
            str(tmp_path),
            "alembic==1.20.1",
        ],
        env=offline_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert f"Looking in indexes: {UNREACHABLE_INDEX}" in result.stdout  # and nowhere else
    assert "No matching distribution found for alembic" in result.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_setup_installs_from_the_wheelhouse_without_the_internet(
    built_wheelhouse: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("tasks.py", "requirements.lock", "pyproject.toml"):
        shutil.copyfile(ROOT / name, project / name)
    env = offline_environment(PIP_OPTIONS=f"--no-index --find-links {built_wheelhouse}")
    result = subprocess.run(
        [sys.executable, str(project / "tasks.py"), "setup"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "environment ready" in result.stdout

    python = project / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    imported = subprocess.run(
        [
            str(python),
            "-c",
            "import alembic, sqlalchemy, aiosqlite, jupyterlab, ipykernel; "
            "print(alembic.__version__, sqlalchemy.__version__)",
        ],
        env=offline_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr
    pins = wheelhouse.pins()
    assert imported.stdout.split() == [pins["alembic"], pins["sqlalchemy"]]
    # The notebooks' kernel is registered in the new environment.
    kernel = project / ".venv" / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    assert kernel.exists()


# -- Binder ---------------------------------------------------------------------------------------
POST_BUILD = ROOT / "postBuild"


def test_postbuild_is_an_executable_bash_script() -> None:
    assert POST_BUILD.exists()
    assert os.access(POST_BUILD, os.X_OK), "chmod +x postBuild (repo2docker runs it as ./postBuild)"
    assert POST_BUILD.read_text().startswith("#!/usr/bin/env bash\n")


@pytest.mark.skipif(shutil.which("bash") is None, reason="postBuild needs bash")
def test_postbuild_makes_the_repository_importable(tmp_path: Path) -> None:
    """Run it as repo2docker does (the environment's python first on PATH), in a temp venv."""
    environment = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(environment)
    bin_dir = environment / ("Scripts" if os.name == "nt" else "bin")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [str(POST_BUILD)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr

    probe = (
        "import importlib.util, json; print(json.dumps("
        "{n: importlib.util.find_spec(n).origin for n in ('app', 'workbook')}))"
    )
    found = subprocess.run(
        [str(bin_dir / "python"), "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr
    origins = {name: Path(origin) for name, origin in json.loads(found.stdout).items()}
    assert origins == {
        "app": ROOT / "app" / "__init__.py",
        "workbook": ROOT / "workbook" / "__init__.py",
    }


def test_readme_has_a_binder_badge_marked_as_a_placeholder() -> None:
    readme = (ROOT / "README.md").read_text()
    badge = re.search(
        r"\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]"
        r"\(https://mybinder\.org/v2/gh/([^/]+)/([^/]+)/HEAD"
        r"\?labpath=notebooks%2F00_welcome\.ipynb\)",
        readme,
    )
    assert badge, "the Binder launch badge"
    assert "placeholder" in readme.lower()


def test_binder_reads_the_top_level_files() -> None:
    """With a binder/ (or .binder/) folder, repo2docker ignores top-level configuration."""
    assert (ROOT / "environment.yml").exists()
    for folder in ("binder", ".binder"):
        assert not (ROOT / folder).exists(), f"{folder}/ would hide environment.yml and postBuild"
