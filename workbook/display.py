"""How a workspace shows things: files as numbered source or as diffs, failures as one
line, and never a password.

Every text a workspace prints about a URL, a file or an alembic command goes through
:func:`masked`, which is ``app.core.config.mask_password``: the one masking rule.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import html
import sys
import warnings
from pathlib import Path

from workbook.runner import AlembicResult
from workbook.stages import REPO_ROOT


def _reference_config():
    """The project's own configuration code (``app/core/config.py``), loaded privately.

    The same rules env.py follows, without touching ``sys.modules["app"]`` (which may
    be the workspace's own package while a chapter runs).
    """
    import importlib.util

    name = "workbook._reference_config"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, REPO_ROOT / "app" / "core" / "config.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class WorkspaceError(Exception):
    """A workspace request that cannot be done; one line, no traceback in a notebook.

    The message never shows a password, whatever a URL in it holds.
    """

    def __init__(self, message: str):
        super().__init__(masked(message))

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31mWorkspaceError:\x1b[0m {self}"]


def masked(text) -> str:
    """``text`` (or a URL) with every password replaced by ``***``, whatever characters it
    holds: ``app.core.config.mask_password``, the one masking rule of the project."""
    return _reference_config().mask_password(text)


def masked_result(result: AlembicResult) -> AlembicResult:
    """A command's output, error and traceback as they may be shown: no password."""
    return dataclasses.replace(
        result,
        chunks=[(stream, masked(text)) for stream, text in result.chunks],
        error=result.error and masked(result.error),
        details=masked(result.details),
    )


def problem(error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        return f"SyntaxError: {error.msg} ({Path(error.filename or '?').name}, line {error.lineno})"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


@contextlib.contextmanager
def loading_history():
    """Alembic's own errors while it reads the revision scripts, as one WorkspaceError line.

    A missing or mis-linked revision makes alembic warn (``Revision 0044 referenced from
    ... is not present``) and then fail with a bare ``KeyError``: the warning is the line
    that explains it. Warnings of a history that loads are passed on unchanged. No
    bytecode is written: a ``.pyc`` would hide an edit made within the same second.
    """
    saved_bytecode_setting, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            yield
        except WorkspaceError:
            raise
        except Exception as error:
            because = str(seen[0].message) if seen else problem(error)
            raise WorkspaceError(
                f"the revision history does not load: {because}: fix that "
                "revision file, then run this again"
            ) from None
        finally:
            sys.dont_write_bytecode = saved_bytecode_setting
    for warning in seen:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


@contextlib.contextmanager
def one_line_errors(*kinds: type[BaseException]):
    """The views' clear messages (unknown table, ...) without their traceback."""
    try:
        yield
    except kinds as error:
        raise WorkspaceError(str(error).strip().splitlines()[0]) from None


class FileChange:
    """A file edit, displayed as a unified diff (plain text, or coloured HTML)."""

    def __init__(self, name: str, before: str, after: str):
        self.name, self.before, self.after = name, before, after
        self.diff = list(
            difflib.unified_diff(
                masked(before).splitlines(),
                masked(after).splitlines(),
                f"a/{name}",
                f"b/{name}",
                lineterm="",
                n=1,
            )
        )

    def __repr__(self) -> str:
        if not self.diff:
            return f"{self.name}: unchanged"
        return "\n".join(self.diff)

    def _repr_html_(self) -> str:
        if not self.diff:
            return f"<pre>{html.escape(self.name)}: unchanged</pre>"
        colours = {"+": "#e6ffec", "-": "#ffebe9", "@": "#ddf4ff"}
        rows = []
        for line in self.diff:
            colour = colours.get(line[:1], "transparent")
            if line.startswith(("+++", "---")):
                colour = "#f6f8fa"
            ink = "" if colour == "transparent" else ";color:#1f2328"  # dark themes: not white
            text = html.escape(line) or "&nbsp;"
            rows.append(f'<div style="background:{colour}{ink}">{text}</div>')
        return '<pre style="font-size:0.85em;line-height:1.35">' + "".join(rows) + "</pre>"


class SourceView:
    """Lines of a file, numbered, as text (tests, plain viewers) and as HTML."""

    def __init__(self, name: str, lines: list[str], first: int, numbered: bool = True):
        self.name, self.lines, self.first, self.numbered = name, lines, first, numbered

    def _rendered(self) -> list[str]:
        lines = [masked(line) for line in self.lines]
        if not self.numbered:
            return lines
        width = len(str(self.first + len(self.lines)))
        return [f"{n:>{width}} | {line}" for n, line in enumerate(lines, self.first)]

    def __repr__(self) -> str:
        return "\n".join([f"# {self.name}", *self._rendered()])

    def _repr_html_(self) -> str:
        body = html.escape("\n".join(self._rendered()))
        return (
            f'<div style="font-size:0.85em"><b>{html.escape(self.name)}</b>'
            f'<pre style="line-height:1.35">{body}</pre></div>'
        )
