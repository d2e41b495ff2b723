"""`python3 tasks.py lab`: the learner's own lesson copies, trusted, served from workspace/.

The copies keep the clone's `git status` clean whatever the learner saves; serving
workspace/ puts the lessons and the chapters' models side by side in the file browser;
trust makes stored pictures render before anything runs; the lab asks nothing of the
network. A real JupyterLab server answers the last three.
"""

from __future__ import annotations

import importlib.util
import json
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.servers import free_port
from workbook import lessons

ROOT = Path(__file__).resolve().parents[1]


def load_tasks():
    spec = importlib.util.spec_from_file_location("tasks", ROOT / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["tasks"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def write_lesson(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    notebook = {
        "cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": [text]}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = folder / name
    path.write_text(json.dumps(notebook))
    return path


def cell_text(path: Path) -> str:
    return "".join(json.loads(path.read_text())["cells"][0]["source"])


def test_copies_are_made_then_left_alone(tmp_path):
    source = tmp_path / "notebooks"
    write_lesson(source, "00_a.ipynb", "Hello")
    assert lessons.refresh_copies(tmp_path / "ws", source) == ["copied 00_a.ipynb"]
    assert cell_text(tmp_path / "ws" / "lessons" / "00_a.ipynb") == "Hello"
    assert lessons.refresh_copies(tmp_path / "ws", source) == []


def test_an_unchanged_copy_follows_the_repository(tmp_path):
    source = tmp_path / "notebooks"
    write_lesson(source, "00_a.ipynb", "Hello")
    lessons.refresh_copies(tmp_path / "ws", source)
    write_lesson(source, "00_a.ipynb", "Hello again")
    assert lessons.refresh_copies(tmp_path / "ws", source) == ["updated 00_a.ipynb"]
    assert cell_text(tmp_path / "ws" / "lessons" / "00_a.ipynb") == "Hello again"


def test_a_copy_the_learner_changed_is_never_overwritten(tmp_path):
    source = tmp_path / "notebooks"
    write_lesson(source, "00_a.ipynb", "Hello")
    lessons.refresh_copies(tmp_path / "ws", source)
    mine = write_lesson(tmp_path / "ws" / "lessons", "00_a.ipynb", "my answers")
    write_lesson(source, "00_a.ipynb", "Hello again")
    [line] = lessons.refresh_copies(tmp_path / "ws", source)
    assert line.startswith("kept your copy of 00_a.ipynb") and "notebooks/00_a.ipynb" in line
    assert cell_text(mine) == "my answers"


def test_a_split_lesson_leaves_no_stale_copy_but_keeps_the_learners_work(tmp_path):
    """When a lesson is split or renamed, its old unchanged copy goes; a changed one stays."""
    source = tmp_path / "notebooks"
    old = write_lesson(source, "05_a.ipynb", "Both halves")
    kept = write_lesson(source, "06_b.ipynb", "Other")
    lessons.refresh_copies(tmp_path / "ws", source)
    mine = write_lesson(tmp_path / "ws" / "lessons", "06_b.ipynb", "my answers")
    old.unlink(), kept.unlink()
    write_lesson(source, "05_1_a.ipynb", "First half")
    lines = lessons.refresh_copies(tmp_path / "ws", source)
    assert lines[:2] == [
        "copied 05_1_a.ipynb",
        "removed 05_a.ipynb (the workbook no longer has that lesson)",
    ]
    assert lines[2].startswith("kept your copy of 06_b.ipynb (you changed it), although")
    assert not (tmp_path / "ws" / "lessons" / "05_a.ipynb").exists()
    assert cell_text(mine) == "my answers"
    assert lessons.refresh_copies(tmp_path / "ws", source)[0].startswith("kept your copy of 06_b")


def test_links_out_of_notebooks_still_reach_the_repository(tmp_path):
    source = tmp_path / "notebooks"
    write_lesson(source, "00_a.ipynb", "[tests](../tests/x.py) and [next](01_b.ipynb)")
    lessons.refresh_copies(tmp_path / "ws", source)
    assert cell_text(tmp_path / "ws" / "lessons" / "00_a.ipynb") == (
        "[tests](../../tests/x.py) and [next](01_b.ipynb)"
    )


def test_lab_serves_the_workspace_and_opens_lesson_00():
    command = load_tasks().lab_command([], Path("/somewhere/workspace"))
    assert "--ServerApp.root_dir=/somewhere/workspace" in command
    assert "--LabApp.default_url=/lab/tree/lessons/00_welcome.ipynb" in command


def get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_a_real_lab_shows_trusted_copies_and_asks_no_news(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))  # trust database
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "config"))
    tasks = load_tasks()
    workspace = tmp_path / "workspace"
    (workspace / "00_welcome" / "app" / "models").mkdir(parents=True)
    (workspace / "00_welcome" / "app" / "models" / "user.py").write_text("class User: ...\n")
    tasks.prepare_lab(workspace)
    port, token = free_port(), secrets.token_hex(8)
    server = subprocess.Popen(
        tasks.lab_command([], workspace)
        + [
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a busy 2-core machine starts JupyterLab slowly
        while True:
            try:
                get(f"{base}/api/status?token={token}")
                break
            except OSError:
                assert server.poll() is None, "JupyterLab exited before it answered"
                assert time.monotonic() < deadline, "JupyterLab did not answer in 180 s"
                time.sleep(0.2)
        model = get(
            f"{base}/api/contents/00_welcome/app/models/user.py?type=file&format=text&token={token}"
        )
        assert model["content"] == "class User: ...\n"  # the learner's models, in the editor
        lesson = get(f"{base}/api/contents/lessons/00_welcome.ipynb?token={token}")
        code = [c for c in lesson["content"]["cells"] if c["cell_type"] == "code"]
        assert code and all(c["metadata"].get("trusted") for c in code)
        settings = get(
            f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}"
        )
        # Overrides become the schema's defaults (JupyterLab's own is "none": ask).
        defaults = {k: v["default"] for k, v in settings["schema"]["properties"].items()}
        assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.slow
def test_a_restarted_kernel_answers_alembic_with_what_to_run():
    """The kernel this environment registers loads the workbook's extension: `%alembic`
    before any lesson cell is one line saying what to run, not "magic not found"."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        reply = client.execute_interactive(
            "%alembic current", timeout=60, output_hook=lambda m: None
        )
        assert reply["content"]["status"] == "error"
        assert reply["content"]["evalue"].startswith("no workspace yet: run the first cell")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
        manager.cleanup_resources()
