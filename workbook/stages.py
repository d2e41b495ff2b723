"""Where each chapter starts: the files and database state the earlier chapters leave.

A stage names a point in the reference project's history. Building a workspace at a
stage copies the reference files (``alembic.ini``, ``alembic/``, ``app/core``), the
revision scripts up to that point, and the models as they were then; the database is
brought to that revision. So any chapter can run first, alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
STARTING_POINTS = PACKAGE_DIR / "starting_points"


@dataclass(frozen=True)
class Stage:
    name: str
    summary: str
    alembic: bool = True  # alembic.ini and alembic/ present (else the learner runs `init`)
    models: str | None = None  # "repo", a folder under starting_points/, or None
    revision: str | None = None  # the reference revision scripts and database are at

    @classmethod
    def at(cls, revision: str, summary: str) -> Stage:
        """The stage named after reference ``revision``: its revisions and database, and the
        models as they were then (the starting point of that name)."""
        return cls(revision, summary, models=revision, revision=revision)

    def model_files(self) -> dict[str, Path]:
        """File name -> source. A starting point holds only the files that changed since
        the one before it; the rest come from earlier starting points, or from the
        reference's ``app/models`` once they reach their final form (``FINAL_FROM``)."""
        if self.models is None:
            return {}
        final = {p.name: p for p in sorted((REPO_ROOT / "app" / "models").glob("*.py"))}
        if self.models == "repo":
            return final
        files: dict[str, Path] = {}
        for folder in sorted(STARTING_POINTS.iterdir()):  # 0001, 0005, 0006, ... in order
            if folder.name <= self.models:
                files.update({p.name: p for p in sorted((folder / "app" / "models").glob("*.py"))})
        reached = [name for name, since in FINAL_FROM.items() if since <= self.models]
        files.update({name: final[name] for name in reached})
        return files


STAGES = {
    stage.name: stage
    for stage in [
        Stage("empty", "an empty project: app/core only, no Alembic yet", alembic=False),
        Stage("configured", "Alembic configured (alembic.ini, async env.py), no models yet"),
        Stage("models", "the guide's models, no revisions yet, empty database", models="0001"),
        Stage.at("0001", "the initial migration applied"),
        Stage.at("0005", "the column and schema changes of chapter 04 applied"),
        Stage.at("0006", "the categories and their rows (lesson 05.1) applied"),
        Stage.at("0007", "the data migrations of chapter 05 applied"),
        Stage.at(
            "0011",
            "the reference history up to chapter 07 applied (0011, display_name non-nullable)",
        ),
        Stage(
            "head",
            "the whole reference history applied (0012, books.language from chapter 08)",
            models="repo",
            revision="0012",
        ),
    ]
}

# Files of the reference project every workspace with Alembic gets, as they are.
ALEMBIC_FILES = ["alembic.ini", "alembic/env.py", "alembic/script.py.mako", "alembic/README"]
APP_FILES = [
    "app/__init__.py",
    "app/core/__init__.py",
    "app/core/config.py",
    "app/core/database.py",
]
# Model files that reach their final form (app/models) at a starting point, and keep it.
FINAL_FROM = {"__init__.py": "0011", "user.py": "0011"}
# Model files whose final form is also their form at every stage that has them.
UNCHANGED_MODEL_FILES = ["base.py", "publisher.py", "category.py"]


def stage_revision_files(name: str) -> list[Path]:
    """The reference revision scripts a workspace built at stage ``name`` has, sorted by file
    name (its revision down to base; none for a stage without one). ValueError for an
    unknown stage, as ``get_stage``."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    revision = get_stage(name).revision
    if revision is None:
        return []
    script = ScriptDirectory.from_config(Config(str(REPO_ROOT / "alembic.ini")))
    return sorted(Path(rev.path) for rev in script.iterate_revisions(revision, "base"))


def get_stage(name: str) -> Stage:
    try:
        return STAGES[name]
    except KeyError:
        raise ValueError(f"unknown stage {name!r}; stages are: {', '.join(STAGES)}") from None
