"""The learner's own copies of the lessons, in ``workspace/lessons/``.

    python -m workbook.lessons [WORKSPACE_ROOT]     # make or refresh the copies, print what changed

Why copies: a learner runs cells, writes answers and saves; in ``notebooks/`` every save
would dirty the clone's ``git status`` and turn the next ``git pull`` into a conflict. The
copies live in the git-ignored ``workspace/`` beside the chapters' project folders, so
JupyterLab, serving ``workspace/``, shows the lessons and the models they edit side by side.

Rules (standard library only: this runs before JupyterLab starts):
- a missing copy is made from ``notebooks/``, with its stored outputs (pictures show at once);
- a copy the learner has not changed follows the repository's lesson when that changes;
- a copy the learner changed is never overwritten: one line says where the new version is;
- a copy of a lesson the repository no longer has (split or renamed) goes when the learner
  has not changed it, and stays, with one line saying so, when they have;
- links out of ``notebooks/`` (``](../tests/...)``) are rewritten to still reach the repository.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO_ROOT / "notebooks"
MANIFEST = ".copied.json"  # lesson name -> sha256 of the copy as written, and of its source
_LINK_OUT = re.compile(r"\]\(\.\./")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _copy_text(source: bytes) -> bytes:
    """The lesson as the learner gets it: links that leave ``notebooks/`` go one level up
    more, since the copy sits in ``workspace/lessons/``."""
    notebook = json.loads(source)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            cell["source"] = _LINK_OUT.sub("](../../", text).splitlines(keepends=True)
    return (json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def refresh_copies(workspace_root: Path, notebooks: Path = NOTEBOOKS) -> list[str]:
    """Make or refresh ``workspace_root/lessons/NN_*.ipynb`` from ``notebooks``.

    Returns one line per copy that was made, updated or kept back (empty when nothing
    changed). Never overwrites a copy whose bytes differ from what was last written.
    """
    target = workspace_root / "lessons"
    target.mkdir(parents=True, exist_ok=True)
    manifest_path = target / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    lines = []
    for source_path in sorted(notebooks.glob("[0-9][0-9]_*.ipynb")):
        source = source_path.read_bytes()
        copy_path = target / source_path.name
        known = manifest.get(source_path.name, {})
        if copy_path.exists() and known.get("source") == _sha256(source):
            continue  # the repository's lesson has not changed since it was copied
        if copy_path.exists() and _sha256(copy_path.read_bytes()) != known.get("copy"):
            lines.append(
                f"kept your copy of {source_path.name} (you changed it); the updated "
                f"lesson is notebooks/{source_path.name}"
            )
            continue
        written = _copy_text(source)
        lines.append(("updated " if copy_path.exists() else "copied ") + source_path.name)
        copy_path.write_bytes(written)
        manifest[source_path.name] = {"source": _sha256(source), "copy": _sha256(written)}
    lines += _remove_retired(
        target, manifest, {p.name for p in notebooks.glob("[0-9][0-9]_*.ipynb")}
    )
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return lines


def _remove_retired(target: Path, manifest: dict, current: set[str]) -> list[str]:
    """Copies of lessons the repository no longer has: removed unless the learner changed
    them. Updates ``manifest``; returns one line per copy removed or kept."""
    lines = []
    for name in sorted(set(manifest) - current):
        copy_path = target / name
        if copy_path.exists() and _sha256(copy_path.read_bytes()) != manifest[name].get("copy"):
            lines.append(
                f"kept your copy of {name} (you changed it), although the workbook no longer "
                "has that lesson: its lessons are the other NN_*.ipynb here"
            )
            continue
        copy_path.unlink(missing_ok=True)
        del manifest[name]
        lines.append(f"removed {name} (the workbook no longer has that lesson)")
    return lines


def main(arguments: list[str]) -> None:
    root = Path(arguments[0]) if arguments else REPO_ROOT / "workspace"
    for line in refresh_copies(root):
        print(f"[lessons] {line}")


if __name__ == "__main__":
    main(sys.argv[1:])
