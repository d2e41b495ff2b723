"""Text the workbook shows a learner: one-line errors, relative paths, inline HTML.

Every message a learner reads is one line, names no path of this machine and no memory
address, so that it is short, says the same on every machine, and compares exactly in
stored notebook outputs.
"""

from __future__ import annotations

import html
import os
import re
import textwrap
from pathlib import Path

from alembic.util import CommandError

__all__ = ["inline", "one_line", "relative", "with_function_body"]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_CODE = re.compile(r"`([^`]+)`")


def relative(text: str, *folders: Path) -> str:
    """``text`` with paths under ``folders`` made relative to them (the folder itself: ``.``),
    and no memory addresses (``<object at 0x7f..>``)."""
    for folder in folders:
        for prefix in {str(folder), str(Path(folder).resolve())}:
            text = text.replace(prefix + os.sep, "").replace(prefix, ".")
    return _ADDRESS.sub("", text)


def one_line(error: BaseException, *folders: Path) -> str:
    """An exception as one line: ``Type: first line`` (an alembic ``CommandError``: its
    first line alone, as the command line prints it), paths under ``folders`` relative."""
    text = str(error).strip() or type(error).__name__
    first = text.splitlines()[0]
    if isinstance(error, SyntaxError):
        first = f"SyntaxError: {first}"
    elif not isinstance(error, CommandError):
        first = f"{type(error).__name__}: {first}"
    return relative(first, *folders)


def inline(text: str) -> str:
    """One line of text as HTML: escaped, with each `code` span in ``<code>``."""
    return _CODE.sub(r"<code>\1</code>", html.escape(text, quote=False))


def with_function_body(source: str, name: str, body: str) -> str:
    """``source`` with the body of top-level ``def name(...)`` replaced by ``body`` (its
    docstring and the blank lines after it kept). ValueError unless there is exactly one."""
    lines = source.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith(f"def {name}(")]
    if len(starts) != 1:
        raise ValueError(f"the script has no single top-level def {name}()")
    first = end = starts[0] + 1
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith((" ", "\t"))):
        end += 1
    while end > first and not lines[end - 1].strip():  # keep the blank lines after it
        end -= 1
    docstring = lines[first : first + 1] if lines[first].strip().startswith('"""') else []
    code = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"
    return "".join(lines[:first] + docstring + [code] + lines[end:])
