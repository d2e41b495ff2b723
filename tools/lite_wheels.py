"""The in-browser edition's Python packages: the lock, the checked downloads, and wheels
precompiled for Pyodide's Python (tools/lite.py builds the site from them).

- ``tools/lite/wheels.lock`` pins the npm package ``pyodide`` (the core the kernel loads)
  and every wheel the site serves, by sha256; ``python3 tasks.py lite --lock`` writes it
  from ``tools/lite/requirements.in`` (versions constrained by ``requirements.lock``).
- Downloads are cached in ``build/cache/lite/downloads/`` and checked against the lock,
  so a rebuild works offline. MarkupSafe has no pure wheel: one is built from its sdist.
- :func:`precompiled`: each wheel gains the bytecode of its modules for Pyodide's Python
  (``__pycache__/*.cpython-314.pyc``, unchecked hash-based, so that files unpacked with
  a new time stamp still use it), compiled by Pyodide itself under Node.js. A kernel then
  imports IPython, SQLAlchemy and Alembic without compiling their sources on every page
  load (a ready kernel about a third sooner). Without Node.js the wheels are served as
  they are, and the build says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "tools" / "lite"
LOCK = CONFIG / "wheels.lock"
REQUIREMENTS_IN = CONFIG / "requirements.in"
CACHE = ROOT / "build" / "cache" / "lite"
DOWNLOADS = CACHE / "downloads"
COMPILED = CACHE / "compiled"  # precompiled wheels, by the sha256 of the wheel and core
PYTHON = Path(sys.executable)
PYODIDE_PYTHON = "3.14"  # the Python of Pyodide 314.x
# The kernel's stand-ins (shipped with its extension) replace these real packages.
KERNEL_STAND_INS = {"ipykernel", "widgetsnbextension", "pyodide-kernel", "piplite"}
# No pure wheel on PyPI: built from the sdist with the C extension refused (it falls back
# to pure Python), as Pyodide cannot load a Linux binary.
PURE_FROM_SDIST = {"markupsafe"}


def say(message: str) -> None:
    print(f"[lite] {message}", flush=True)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# -- the lock -----------------------------------------------------------------------------
def read_lock() -> dict:
    """{"pyodide": {version, sha256, micropip: {...}}, "files": [{name, version, file,
    sha256, kind}]} from tools/lite/wheels.lock (TOML)."""
    if not LOCK.exists():
        sys.exit(f"error: {LOCK.relative_to(ROOT)} is missing: run `python3 tasks.py lite --lock`")
    return tomllib.loads(LOCK.read_text())


def write_lock(pyodide: dict, files: list[dict]) -> None:
    def table(entry: dict) -> str:
        return "".join(f"{key} = {json.dumps(value)}\n" for key, value in entry.items())

    parts = [
        "# The in-browser edition's files, checked by sha256 on every build.\n"
        "# Written by `python3 tasks.py lite --lock` from tools/lite/requirements.in\n"
        "# (versions constrained by requirements.lock); do not edit by hand.\n\n",
        "[pyodide]  # the npm package: the core the kernel loads\n",
        table({k: v for k, v in pyodide.items() if k != "micropip"}),
        "\n[pyodide.micropip]  # the one package of Pyodide's lock the kernel needs\n",
        table(pyodide["micropip"]),
    ]
    for entry in files:
        parts += ["\n[[files]]\n", table(entry)]
    LOCK.write_text("".join(parts))


def pip_download(
    requirement: str, dest: Path, sdist: bool = False, digest: str | None = None
) -> Path:
    """Download one file of ``requirement`` (a pure wheel, or the sdist) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        lines = f"{requirement} --hash=sha256:{digest}\n" if digest else f"{requirement}\n"
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text(lines)
        kind = (
            ["--no-binary=:all:"]
            if sdist
            else [
                "--only-binary=:all:",
                "--platform",
                "any",
                "--implementation",
                "py",
                "--abi",
                "none",
                "--python-version",
                PYODIDE_PYTHON,
            ]
        )
        subprocess.run(
            [
                str(PYTHON),
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--disable-pip-version-check",
                *kind,
                "-d",
                scratch,
                "-r",
                str(requirements),
            ],
            check=True,
        )
        (found,) = [p for p in Path(scratch).iterdir() if p != requirements]
        target = dest / found.name
        shutil.move(found, target)
    return target


def npm_pack(version: str, dest: Path) -> Path:
    if not shutil.which("npm"):
        sys.exit(
            "error: npm is needed once to fetch the Pyodide core (npm pack pyodide); "
            "install Node.js, or copy build/cache/lite/downloads/ from a machine that has it"
        )
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "pack", "--silent", f"pyodide@{version}", "--pack-destination", str(dest)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return dest / f"pyodide-{version}.tgz"


def resolve_lock() -> None:
    """Re-resolve requirements.in for Pyodide's Python (emscripten, wasm32) with uv."""
    from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION

    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "uv"], check=True)
    uv = PYTHON.parent / "uv"
    with tempfile.TemporaryDirectory() as scratch:
        constraints = Path(scratch) / "constraints.txt"
        constraints.write_text(
            "".join(
                line.split("#", 1)[0].strip() + "\n"
                for line in (ROOT / "requirements.lock").read_text().splitlines()
                if line.split("#", 1)[0].strip()
            )
        )
        compiled = Path(scratch) / "compiled.txt"
        subprocess.run(
            [
                str(uv),
                "pip",
                "compile",
                str(REQUIREMENTS_IN),
                "-c",
                str(constraints),
                "--python-platform",
                "wasm32-pyodide2025",
                "--python-version",
                PYODIDE_PYTHON,
                "--only-binary",
                ":all:",
                "--no-binary",
                "markupsafe",
                "--no-header",
                "--no-annotate",
                "--quiet",
                "-o",
                str(compiled),
            ],
            check=True,
        )
        pins = [line.split("==") for line in compiled.read_text().split() if "==" in line]
    tarball = npm_pack(PYODIDE_VERSION, DOWNLOADS)
    core_lock = json.loads(_tar_member(tarball, "package/pyodide-lock.json"))
    micropip_version = core_lock["packages"]["micropip"]["version"]
    micropip = pip_download(f"micropip=={micropip_version}", DOWNLOADS)
    pyodide = {
        "version": PYODIDE_VERSION,
        "file": tarball.name,
        "sha256": sha256(tarball),
        "micropip": {
            "version": micropip_version,
            "file": micropip.name,
            "sha256": sha256(micropip),
        },
    }
    files = []
    for name, version in sorted(pins):
        if canonical(name) in KERNEL_STAND_INS:
            continue
        sdist = canonical(name) in PURE_FROM_SDIST
        path = pip_download(f"{name}=={version}", DOWNLOADS, sdist=sdist)
        files.append(
            {
                "name": canonical(name),
                "version": version,
                "file": path.name,
                "sha256": sha256(path),
                "kind": "sdist" if sdist else "wheel",
            }
        )
    write_lock(pyodide, files)
    say(f"wrote {LOCK.relative_to(ROOT)}: Pyodide {PYODIDE_VERSION}, {len(files)} packages")


# -- downloads, checked -----------------------------------------------------------------
def cached(file: str, digest: str, fetch) -> Path:
    """The file from the download cache, fetched first if missing or not ``digest``."""
    path = DOWNLOADS / file
    if not path.exists() or sha256(path) != digest:
        say(f"downloading {file}")
        fetched = fetch()
        if fetched != path:
            shutil.move(fetched, path)
    if sha256(path) != digest:
        path.unlink()
        sys.exit(
            f"error: {file} does not have the sha256 of {LOCK.name} ({digest[:12]}...): "
            "the download was changed; nothing was built"
        )
    return path


def pure_wheel_from_sdist(sdist: Path, digest: str) -> Path:
    """Build the sdist into a ``py3-none-any`` wheel, with no C compiler to be found."""
    built = CACHE / "built" / digest[:16]
    wheels = sorted(built.glob("*-py3-none-any.whl"))
    if wheels:
        return wheels[0]
    say(f"building a pure wheel from {sdist.name}")
    with tempfile.TemporaryDirectory() as scratch:
        with tarfile.open(sdist) as archive:
            # filter= (refuse links and paths out of the folder) came in 3.11.4; the sdist's
            # sha256 is pinned in the lock either way.
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            archive.extractall(scratch, **safe)
        (source,) = [p for p in Path(scratch).iterdir() if p.is_dir()]
        env = {**os.environ, "CC": "false", "CXX": "false", "SOURCE_DATE_EPOCH": "315532800"}
        subprocess.run(
            [
                str(PYTHON),
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "-w",
                str(built),
                str(source),
            ],
            check=True,
            env=env,
        )
    wheels = sorted(built.glob("*-py3-none-any.whl"))
    if not wheels:
        sys.exit(f"error: {sdist.name} did not build a pure wheel (py3-none-any)")
    return wheels[0]


def wheels_of_lock(lock: dict) -> list[Path]:
    result = []
    for entry in lock["files"]:
        requirement = f"{entry['name']}=={entry['version']}"
        sdist = entry["kind"] == "sdist"
        path = cached(
            entry["file"],
            entry["sha256"],
            lambda requirement=requirement, sdist=sdist, entry=entry: pip_download(
                requirement, DOWNLOADS, sdist, entry["sha256"]
            ),
        )
        result.append(pure_wheel_from_sdist(path, entry["sha256"]) if sdist else path)
    return result


def _tar_member(tarball: Path, name: str) -> bytes:
    with tarfile.open(tarball) as archive:
        return archive.extractfile(name).read()


def pyodide_core(lock: dict) -> Path:
    """The npm package ``pyodide`` of the lock (a .tgz), from the cache or npm."""
    core = lock["pyodide"]
    return cached(core["file"], core["sha256"], lambda: npm_pack(core["version"], DOWNLOADS))


def micropip_wheel(lock: dict) -> Path:
    """The one package of Pyodide's own lock that the kernel needs, from the cache or PyPI."""
    micropip = lock["pyodide"]["micropip"]
    return cached(
        micropip["file"],
        micropip["sha256"],
        lambda: pip_download(
            f"micropip=={micropip['version']}", DOWNLOADS, digest=micropip["sha256"]
        ),
    )


# -- bytecode for Pyodide's Python ------------------------------------------------------------
# Run by Pyodide under Node.js, with the host's file system at /host: adds to each wheel
# the bytecode of its modules, unchecked hash-based (the kernel unpacks wheels with new
# time stamps, which would make time-stamped bytecode stale at once).
COMPILE_WHEELS = """
import json, os, sys, warnings, zipfile
from importlib._bootstrap_external import _code_to_hash_pyc
from importlib.util import source_hash

warnings.simplefilter("ignore")  # SyntaxWarnings of the packages' own sources


def bytecode_name(name):
    folder, _, file = name.rpartition("/")
    prefix = folder + "/" if folder else ""
    return f"{prefix}__pycache__/{file[:-3]}.{sys.implementation.cache_tag}.pyc"


for source, target in json.load(open(JOBS)):
    with zipfile.ZipFile(source) as wheel, zipfile.ZipFile(target + ".part", "w") as out:
        for info in wheel.infolist():
            data = wheel.read(info)
            out.writestr(info, data, zipfile.ZIP_DEFLATED)
            if not info.filename.endswith(".py"):
                continue
            try:
                code = compile(data, info.filename, "exec", dont_inherit=True)
            except (SyntaxError, ValueError):  # a template or a Python 2 file
                continue
            entry = zipfile.ZipInfo(bytecode_name(info.filename), date_time=info.date_time)
            entry.external_attr = 0o644 << 16
            pyc = _code_to_hash_pyc(code, source_hash(data), checked=False)
            out.writestr(entry, bytes(pyc), zipfile.ZIP_DEFLATED)
    os.replace(target + ".part", target)
"""
RUN_IN_PYODIDE = """
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";
const [core, script, jobs] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(`${core}/pyodide.mjs`).href);
const pyodide = await loadPyodide({ indexURL: `${core}/` });
pyodide.FS.mkdirTree("/host");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: "/" }, "/host");
pyodide.globals.set("JOBS", `/host${jobs}`);
pyodide.runPython(readFileSync(script, "utf8"));
"""
CORE_FILES = ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip"]


def precompiled(wheels: list[Path], tarball: Path, core_digest: str) -> list[Path]:
    """``wheels``, each with the bytecode of its modules for the Pyodide of ``tarball``.

    Cached in ``build/cache/lite/compiled/`` by the sha256 of the wheel and of the core
    (``core_digest``). Without Node.js (``node``), ``wheels`` as they are, in one line.
    """
    targets = [COMPILED / f"{sha256(w)[:16]}-{core_digest[:8]}" / w.name for w in wheels]
    missing = [(w, t) for w, t in zip(wheels, targets, strict=True) if not t.exists()]
    if not missing:
        return targets
    node = shutil.which("node")
    if node is None:
        say("no Node.js (node): the wheels are served without bytecode (kernels start slower)")
        return wheels
    say(f"compiling {len(missing)} wheels for Pyodide's Python {PYODIDE_PYTHON} (Node.js)")
    with tempfile.TemporaryDirectory(prefix="lite-compile-") as scratch:
        folder = Path(scratch)
        with tarfile.open(tarball) as archive:
            for name in [*CORE_FILES, "pyodide-lock.json", "package.json"]:
                (folder / name).write_bytes(archive.extractfile(f"package/{name}").read())
        (folder / "compile.py").write_text(COMPILE_WHEELS)
        (folder / "run.mjs").write_text(RUN_IN_PYODIDE)
        for _, target in missing:
            target.parent.mkdir(parents=True, exist_ok=True)
        jobs = [(f"/host{w.resolve()}", f"/host{t.resolve()}") for w, t in missing]
        (folder / "jobs.json").write_text(json.dumps(jobs))
        subprocess.run(
            [
                node,
                str(folder / "run.mjs"),
                str(folder),
                str(folder / "compile.py"),
                str(folder / "jobs.json"),
            ],
            check=True,
        )
    return targets
