"""How a workspace is laid out at a stage: its files, and its database built once per content.

``populate`` copies the reference files of a stage (see ``workbook.stages``) into an empty
folder; ``stage_database`` brings that folder's SQLite file to the stage's revision,
from a cache keyed by ``fingerprint`` (the files copied and the library versions), so a
second start of the same stage costs a file copy. ``build`` does both.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import sqlalchemy
from alembic.config import Config
from alembic.script import ScriptDirectory

import alembic
from workbook.display import WorkspaceError
from workbook.runner import cache_compiled_code, run_alembic
from workbook.stages import ALEMBIC_FILES, APP_FILES, REPO_ROOT, UNCHANGED_MODEL_FILES, Stage

DATABASE_FILE = "app.db"


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _revision_files(revision: str) -> list[Path]:
    """The reference revision scripts from ``revision`` down to base."""
    cache_compiled_code(REPO_ROOT / "alembic")
    script = ScriptDirectory.from_config(Config(str(REPO_ROOT / "alembic.ini")))
    return sorted(Path(rev.path) for rev in script.iterate_revisions(revision, "base"))


def populate(path: Path, stage: Stage) -> None:
    """Write the project files of ``stage`` into an empty folder ``path``."""
    path.mkdir(parents=True)
    for relative in APP_FILES:
        _copy(REPO_ROOT / relative, path / relative)
    (path / ".env").write_text(f"DATABASE_URL=sqlite+aiosqlite:///{DATABASE_FILE}\n")
    if stage.alembic:
        for relative in ALEMBIC_FILES:
            _copy(REPO_ROOT / relative, path / relative)
        (path / "alembic" / "versions").mkdir(exist_ok=True)
    if stage.models is not None:
        models = path / "app" / "models"
        own = stage.model_files()
        for name in UNCHANGED_MODEL_FILES:  # final form = form at every stage that has them
            if name not in own and _imports_model(own["__init__.py"], name):
                _copy(REPO_ROOT / "app" / "models" / name, models / name)
        for name, source in own.items():
            _copy(source, models / name)
    if stage.revision is not None:
        for source in _revision_files(stage.revision):
            _copy(source, path / "alembic" / "versions" / source.name)


def build(path: Path, stage: Stage, cache: Path) -> None:
    """The whole of ``stage`` in the empty folder ``path``: its files (``populate``), then
    its database when it has a revision (``stage_database``, cached in ``cache``)."""
    populate(path, stage)
    if stage.revision is not None:
        stage_database(path, stage, cache)


def _imports_model(init: Path, file_name: str) -> bool:
    """A model file is part of a stage when the stage's ``app/models/__init__`` imports it."""
    return f"app.models.{file_name.removesuffix('.py')} import" in init.read_text()


def fingerprint(path: Path) -> str:
    """What the stage's database depends on: every file copied, and the library versions."""
    digest = hashlib.sha256(f"{alembic.__version__} {sqlalchemy.__version__}".encode())
    for file in sorted(path.rglob("*")):
        relative = file.relative_to(path)
        if (
            file.is_file()
            and not file.name.startswith(DATABASE_FILE)
            and "__pycache__" not in relative.parts
        ):
            digest.update(str(relative).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def stage_database(path: Path, stage: Stage, cache: Path) -> None:
    """Put the stage's database into ``path``: from ``cache``, or built once and cached
    there (``<stage>-<fingerprint>.db``). Raises ``WorkspaceError`` if the build fails."""
    cached = cache / f"{stage.name}-{fingerprint(path)}.db"
    if not cached.exists():
        cache.mkdir(parents=True, exist_ok=True)
        result = run_alembic(path, ["upgrade", stage.revision])
        if not result.ok:
            raise WorkspaceError(f"building stage {stage.name!r} failed: {result.error}")
        partial = cache / f".{cached.name}.{os.getpid()}"
        shutil.copyfile(path / DATABASE_FILE, partial)
        os.replace(partial, cached)  # atomic: parallel kernels never see half a file
    else:
        shutil.copyfile(cached, path / DATABASE_FILE)
