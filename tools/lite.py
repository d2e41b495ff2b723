"""The in-browser edition: the lessons in JupyterLite, with Python (Pyodide) in the page.

    python3 tasks.py lite                  build build/lite/ (nothing to do if its inputs
                                           did not change; --force builds anyway)
    python3 tasks.py lite --serve          build if needed, then serve it on
                                           http://127.0.0.1:8000/
    python3 tasks.py lite --serve --port N --host 0.0.0.0   (a room: every machine may connect)
    python3 tasks.py lite --lock           re-resolve tools/lite/wheels.lock (maintainers)

The site is a folder of static files that needs nothing else at run time: every file the
page and its Python load comes from the serving host (any static web server, or
``--serve``); nothing is fetched from a CDN or PyPI. It holds:

- JupyterLab (jupyterlite-core) with two extensions only: the Pyodide kernel and the
  widgets manager (the timeline);
- the Pyodide core from the npm package ``pyodide`` (the version the kernel expects), with
  its package lock cut down to what this site serves: micropip and the pure wheels of
  ``tools/lite/wheels.lock`` (with their bytecode, see ``tools/lite_wheels.py``), all
  loaded when the kernel starts (``loadPyodideOptions``), the PyPI fallback disabled;
- the project itself as one archive (``workbook/``, ``app/``, ``alembic/``,
  ``alembic.ini``, ``requirements.lock``, a test file a lesson shows), unpacked into the
  kernel's file system and put on its ``sys.path`` (``PYTHONPATH``), so
  ``workbook.stages.REPO_ROOT`` is a copy of the repository as on a desktop; with it,
  the cells tagged ``desktop-only`` and their stored outputs (``workbook/browser.py``
  replays them instead of running them);
- the lessons, ``notebooks/NN_*.ipynb`` with their stored outputs, as the site's files.

Downloads (the npm tarball, wheels, MarkupSafe's sdist) are cached in
``build/cache/lite/downloads/`` and checked against the sha256 of the lock, so a rebuild
works offline (``tools/lite_wheels.py``). A build whose inputs (:func:`inputs_digest`)
are those of the site in ``build/lite/`` does nothing; JupyterLite's own build (doit)
also skips every step whose inputs did not change.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import io
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lite_wheels import (  # noqa: E402  (a sibling script, not a package)
    CACHE,
    DOWNLOADS,
    KERNEL_STAND_INS,
    LOCK,
    PYODIDE_PYTHON,
    PYTHON,
    canonical,
    micropip_wheel,
    precompiled,
    pyodide_core,
    read_lock,
    resolve_lock,
    say,
    sha256,
    wheels_of_lock,
)

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "build" / "lite"
STAGE = CACHE / "site"  # JupyterLite's "lite dir": its configuration and inputs
NOTEBOOKS = ROOT / "notebooks"
JUPYTER = PYTHON.parent / "jupyter"
LABEXTENSIONS = Path(sys.prefix) / "share" / "jupyter" / "labextensions"
# Where `tasks.py setup` moves the extensions that only the site needs (a desktop
# JupyterLab would load them from LABEXTENSIONS, and fail: tasks.LITE_ONLY_EXTENSIONS).
LITE_LABEXTENSIONS = Path(sys.prefix) / "share" / "jupyterlite" / "labextensions"
EXTENSIONS = ["@jupyterlite/pyodide-kernel-extension", "@jupyter-widgets/jupyterlab-manager"]
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"

# Pyodide's core files (of the npm package's 14: no source maps, consoles or typings).
PYODIDE_FILES = [
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "package.json",
]
SITE_PACKAGES = f"/lib/python{PYODIDE_PYTHON}/site-packages"
# The project archive unpacks here; a folder name that no import can clash with.
PROJECT = "alembic-workbook"
PROJECT_FILES = [
    "workbook",
    "app",
    "alembic",
    "alembic.ini",
    "requirements.lock",
    "tests/test_reference_migrations.py",  # chapter 08 shows its pytest-alembic imports
]
LESSONS = "lessons"  # as workbook.browser.LESSONS
DESKTOP_ONLY = "desktop-only"
DESKTOP_ONLY_FILE = "workbook/desktop_only_cells.json"
STAMP = CACHE / "built-from.sha256"  # inputs_digest() of the site in OUTPUT
# Their versions shape the site (the app, the kernel, the widgets' extension).
BUILD_DISTRIBUTIONS = ["jupyterlite-core", "jupyterlite-pyodide-kernel", "jupyterlab_widgets"]


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write only a real change: JupyterLite's build redoes what has a newer input."""
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def copy_if_changed(source: Path, target: Path) -> bool:
    if (
        target.exists()
        and target.stat().st_size == source.stat().st_size
        and sha256(target) == sha256(source)
    ):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return True


# -- Pyodide, with a lock of this site's own files ------------------------------------------
BROWSER_MARKERS = {
    "sys_platform": "emscripten",
    "platform_system": "Emscripten",
    "platform_machine": "wasm32",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "extra": "",
    "python_version": PYODIDE_PYTHON,
    "python_full_version": PYODIDE_PYTHON + ".2",
}


def wheel_lock_entry(wheel: Path, known: set[str]) -> dict:
    """A package entry of pyodide-lock.json for a pure wheel: what it imports and needs."""
    from packaging.requirements import Requirement
    from packaging.utils import parse_wheel_filename

    name, version, _build, _tags = parse_wheel_filename(wheel.name)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA") and n.count("/") == 1]
        text = archive.read(metadata).decode()
    depends = []
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        requirement = Requirement(line.split(":", 1)[1].strip())
        if requirement.marker and not requirement.marker.evaluate(BROWSER_MARKERS):
            continue
        dependency = canonical(requirement.name)
        if dependency in KERNEL_STAND_INS:
            continue  # the kernel's own stand-in is installed instead
        if dependency not in known:
            sys.exit(
                f"error: {wheel.name} needs {dependency}, which {LOCK.name} lacks: "
                "add it to tools/lite/requirements.in and run `python3 tasks.py lite --lock`"
            )
        depends.append(dependency)
    tops = sorted(
        {
            n.split("/")[0].removesuffix(".py")
            for n in names
            if not n.split("/")[0].endswith((".dist-info", ".data"))
            and n.split("/")[0] != "__pycache__"  # a top-level module's bytecode
            and (n.count("/") or n.endswith(".py"))
        }
    )
    return {
        "name": str(name),
        "version": str(version),
        "file_name": wheel.name,
        "install_dir": "site",
        "sha256": sha256(wheel),
        "package_type": "package",
        "imports": tops,
        "depends": sorted(set(depends)),
        "unvendored_tests": False,
    }


def stage_pyodide(
    lock: dict, tarball: Path, micropip_wheel: Path, wheels: list[Path], project: Path
) -> list[str]:
    """Pyodide's core files (from the npm package ``tarball``), this site's wheels and a
    lock naming exactly those.

    Returns the packages the kernel loads as it starts (the project pulls in the rest).
    """
    target = STAGE / "static" / "pyodide"
    with tarfile.open(tarball) as archive:
        for name in PYODIDE_FILES:
            write_if_changed(target / name, archive.extractfile(f"package/{name}").read())
        core_lock = json.load(archive.extractfile("package/pyodide-lock.json"))
    known = {canonical(w.name.split("-")[0]) for w in wheels}
    packages = {
        "micropip": {
            **core_lock["packages"]["micropip"],
            "file_name": micropip_wheel.name,
            "sha256": sha256(micropip_wheel),
        }
    }
    for wheel in wheels:
        entry = wheel_lock_entry(wheel, known)
        packages[canonical(entry["name"])] = entry
    project_entry = {
        "name": PROJECT,
        "version": "0",
        "file_name": project.name,
        "install_dir": "site",
        "sha256": sha256(project),
        "package_type": "package",
        "imports": [],
        "depends": sorted(known),  # every wheel of the lock: all are loaded as the kernel starts
        "unvendored_tests": False,
    }
    packages[PROJECT] = project_entry
    site_lock = {"info": core_lock["info"], "packages": dict(sorted(packages.items()))}
    write_if_changed(
        target / "pyodide-lock.json",
        (json.dumps(site_lock, indent=1, sort_keys=True) + "\n").encode(),
    )
    served = {
        micropip_wheel.name,
        project.name,
        *(w.name for w in wheels),
        *PYODIDE_FILES,
        "pyodide-lock.json",
    }
    for path in [micropip_wheel, project, *wheels]:
        copy_if_changed(path, target / path.name)
    for stale in target.iterdir():
        if stale.name not in served:
            stale.unlink()
    # Loaded while the kernel starts: the project (and through it the libraries), and the
    # kernel's own needs, which it would otherwise ask piplite for one by one.
    return [PROJECT, *sorted({"ipython", "jedi", "comm"} & known)]


# -- the project and the lessons ----------------------------------------------------------
def desktop_only_cells() -> dict:
    """The cells tagged ``desktop-only`` of every lesson: cell id -> what to show.

    ``workbook.browser`` finds a cell by the id JupyterLab sends with it and checks that
    its source is still the lesson's (sha256 of the stripped source): then, instead of
    running it, it shows a note and the outputs the lesson stores (made on a desktop).
    """
    cells: dict[str, dict] = {}
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code" or DESKTOP_ONLY not in cell["metadata"].get("tags", []):
                continue
            if cell["id"] in cells:
                sys.exit(
                    f"error: {notebook.name} and {cells[cell['id']]['lesson']} both have "
                    f"a desktop-only cell with id {cell['id']}"
                )
            source = "".join(cell["source"])
            cells[cell["id"]] = {
                "lesson": notebook.stem,
                "source_sha256": hashlib.sha256(source.strip().encode()).hexdigest(),
                "outputs": cell.get("outputs", []),
            }
    return cells


def project_archive() -> Path:
    """The project's files as one zip, unpacked under site-packages/alembic-workbook/.

    Byte-stable (sorted names, fixed dates), so an unchanged project leaves the site as it is.
    """
    files = []
    for name in PROJECT_FILES:
        path = ROOT / name
        found = (
            [path]
            if path.is_file()
            else sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".db"}
            )
        )
        files += [(p.relative_to(ROOT).as_posix(), p.read_bytes()) for p in found]
    files.append(
        (DESKTOP_ONLY_FILE, json.dumps(desktop_only_cells(), indent=1, sort_keys=True).encode())
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative, data in sorted(files):
            info = zipfile.ZipInfo(f"{PROJECT}/{relative}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    data = buffer.getvalue()
    path = CACHE / "project" / f"{PROJECT}-{hashlib.sha256(data).hexdigest()[:12]}.zip"
    if not path.exists():
        shutil.rmtree(path.parent, ignore_errors=True)
        write_if_changed(path, data)
    return path


def joined_lines(notebook: Path) -> bytes:
    """The notebook with each multi-line string as one string, as a Jupyter server hands it
    to JupyterLab (JupyterLite serves the file itself: a list of lines in a stream output
    would show as lines joined by commas)."""
    import nbformat

    data = nbformat.read(notebook, as_version=4)
    return (nbformat.writes(data, split_lines=False) + "\n").encode()


def stage_lessons() -> None:
    """The lessons with their stored outputs, in ``lessons/`` of the site's files (the
    workspaces are saved beside it, as on a desktop's ``workspace/``)."""
    target = STAGE / "files" / LESSONS
    wanted = {p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    for name in sorted(wanted):
        write_if_changed(target / name, joined_lines(NOTEBOOKS / name))
    for stale in target.glob("*"):
        if stale.name not in wanted:
            stale.unlink()


def stage_config(packages: list[str]) -> None:
    build_config = {
        "LiteBuildConfig": {
            "apps": ["lab"],
            "contents": ["files"],
            "output_dir": str(OUTPUT),
            "no_sourcemaps": True,
            # Only the two extensions the lessons need, not whatever the .venv holds.
            "ignore_sys_prefix": True,
            "federated_extensions": [str(labextension(name)) for name in EXTENSIONS],
        },
    }
    lite_config = {
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {
            "appName": "Alembic workbook (in your browser)",
            "litePluginSettings": {
                KERNEL_PLUGIN: {
                    "disablePyPIFallback": True,
                    "loadPyodideOptions": {
                        "packages": packages,
                        "env": {"PYTHONPATH": f"{SITE_PACKAGES}/{PROJECT}"},
                    },
                }
            },
        },
    }
    write_if_changed(
        STAGE / "jupyter_lite_config.json", (json.dumps(build_config, indent=2) + "\n").encode()
    )
    write_if_changed(
        STAGE / "jupyter-lite.json", (json.dumps(lite_config, indent=2) + "\n").encode()
    )


def inputs_digest() -> str:
    """sha256 over everything the site is built from: this script, the lock, the project
    archive, the lessons, and the versions of JupyterLite and the widgets' extension."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256()

    def add(name: str, data: bytes) -> None:
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)

    add("tools/lite.py", Path(__file__).read_bytes())
    add("tools/lite_wheels.py", (Path(__file__).parent / "lite_wheels.py").read_bytes())
    add("node", str(bool(shutil.which("node"))).encode())  # the wheels' bytecode
    add("wheels.lock", LOCK.read_bytes())
    add("project", project_archive().read_bytes())
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        add(notebook.name, notebook.read_bytes())
    for name in BUILD_DISTRIBUTIONS:
        try:
            add(name, version(name).encode())
        except PackageNotFoundError:
            add(name, b"")
    return digest.hexdigest()


def up_to_date(digest: str) -> bool:
    """The site in OUTPUT was built from inputs with ``digest``, and is still there."""
    return (
        STAMP.exists()
        and STAMP.read_text().strip() == digest
        and (OUTPUT / "jupyter-lite.json").exists()
        and (OUTPUT / "lab" / "index.html").exists()
    )


def labextension(name: str) -> Path:
    """The folder of the JupyterLab extension ``name`` (npm name) in this environment."""
    kept = LITE_LABEXTENSIONS / name
    return kept if (kept / "package.json").exists() else LABEXTENSIONS / name


def build(force: bool = False) -> None:
    """Build the site into OUTPUT, unless it was built from the same inputs (``force``:
    build anyway)."""
    digest = inputs_digest()
    if not force and up_to_date(digest):
        say(f"site up to date: {shown(OUTPUT)}/ ({site_megabytes():.1f} MB; --force rebuilds)")
        return
    STAMP.unlink(missing_ok=True)
    lock = read_lock()
    for name in EXTENSIONS:
        if not (labextension(name) / "package.json").exists():
            sys.exit(
                f"error: the JupyterLab extension {name} is not in {LABEXTENSIONS}: "
                "run `python3 tasks.py setup`"
            )
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    tarball = pyodide_core(lock)
    micropip, *wheels = precompiled(
        [micropip_wheel(lock), *wheels_of_lock(lock)], tarball, lock["pyodide"]["sha256"]
    )
    project = project_archive()
    packages = stage_pyodide(lock, tarball, micropip, wheels, project)
    stage_lessons()
    stage_config(packages)
    say(f"building {OUTPUT.relative_to(ROOT)}/")
    subprocess.run([str(JUPYTER), "lite", "build", "--lite-dir", str(STAGE)], check=True, cwd=STAGE)
    check_site()
    STAMP.write_text(digest + "\n")
    say(f"site ready: {OUTPUT.relative_to(ROOT)}/ ({site_megabytes():.1f} MB)")


def check_site() -> None:
    """Nothing in the site's configuration points anywhere but the site itself."""
    config = json.loads((OUTPUT / "jupyter-lite.json").read_text())
    kernel = config["jupyter-config-data"]["litePluginSettings"][KERNEL_PLUGIN]
    if not kernel.get("pyodideUrl", "").startswith("./"):
        sys.exit(
            f"error: the site's kernel loads Pyodide from {kernel.get('pyodideUrl')!r}, "
            "not from the site"
        )
    if not kernel.get("disablePyPIFallback"):
        sys.exit("error: the site's kernel would fall back to PyPI")


def site_megabytes() -> float:
    return sum(p.stat().st_size for p in OUTPUT.rglob("*") if p.is_file()) / 1e6


# -- serving --------------------------------------------------------------------------------
class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".json": "application/json",
    }

    def log_message(self, format, *args) -> None:  # quiet: one line per page is noise
        pass


def make_server(
    port: int = 8000, folder: Path = OUTPUT, host: str = "127.0.0.1"
) -> http.server.ThreadingHTTPServer:
    """A static server of ``folder`` (port 0: any free port), with the MIME types the page
    needs (a module script served as anything but JavaScript is refused)."""
    handler = functools.partial(_Handler, directory=str(folder))
    return http.server.ThreadingHTTPServer((host, port), handler)


def serve(port: int, host: str = "127.0.0.1") -> None:
    server = make_server(port, host=host)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    url = (
        f"http://{shown}:{server.server_address[1]}/lab/index.html?path={LESSONS}/00_welcome.ipynb"
    )
    say(f"serving {OUTPUT.relative_to(ROOT)}/ at {url}  (Ctrl+C stops)")
    if shown != host:
        say(
            "other machines: the same address with this machine's name or IP instead of "
            "127.0.0.1 (their work then lasts until a reload: see the instructor guide)"
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python3 tasks.py lite", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--serve", action="store_true", help="serve the site after building it")
    parser.add_argument("--port", type=int, default=8000, help="port for --serve (default 8000)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address for --serve (default 127.0.0.1; 0.0.0.0: the whole room)",
    )
    parser.add_argument("--lock", action="store_true", help="re-resolve tools/lite/wheels.lock")
    parser.add_argument(
        "--force", action="store_true", help="build even if the inputs did not change"
    )
    options = parser.parse_args(argv)
    if options.lock:
        resolve_lock()
        return
    build(force=options.force)
    if options.serve:
        serve(options.port, options.host)


if __name__ == "__main__":
    main(sys.argv[1:])
