"""Other kernels, driven as JupyterLab drives them: an IPython shell in a separate Python
process that runs cells one by one. For two kernels on the same workspaces, a kernel
restart (a new process), or a kernel as a learner's machine runs it (bytecode written)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from workbook.stages import REPO_ROOT

ANSI = re.compile(r"\x1b\[[0-9;]*m")

KERNEL = r"""
import json, sys
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
for line in sys.stdin:
    shell.run_cell(json.loads(line))
    sys.stdout.write("\n<<done>>\n")
    sys.stdout.flush()
"""


class Kernel:
    """Another kernel: a separate Python process running an IPython shell, cell by cell.

    ``env``: variables to set; ``without``: variables of this process not to pass on
    (``PYTHONDONTWRITEBYTECODE``: bytecode written, as on a learner's machine).
    """

    def __init__(self, cwd: Path, without: tuple[str, ...] = (), **env: str):
        cwd.mkdir(parents=True, exist_ok=True)
        inherited = {name: value for name, value in os.environ.items() if name not in without}
        self.process = subprocess.Popen(
            [sys.executable, "-c", KERNEL],
            cwd=cwd,
            text=True,
            env={**inherited, "PYTHONPATH": str(REPO_ROOT), **env},  # this checkout's workbook
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def run(self, cell: str) -> str:
        """Run ``cell``; what it shows (output and errors), without colours or edge spaces."""
        self.process.stdin.write(json.dumps(cell) + "\n")
        self.process.stdin.flush()
        lines = []
        for line in self.process.stdout:
            if line == "<<done>>\n":
                break
            lines.append(line)
        return ANSI.sub("", "".join(lines)).strip()

    def shut_down(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.process.stdout.close()


@pytest.fixture
def kernels():
    """``kernels(cwd, without=(), **env)`` -> a new :class:`Kernel`; all shut down after."""
    started = []

    def start(cwd: Path, without: tuple[str, ...] = (), **env: str) -> Kernel:
        started.append(Kernel(cwd, without, **env))
        return started[-1]

    yield start
    for kernel in started:
        if kernel.process.poll() is None:
            kernel.shut_down()
