"""What a command wrote, kept in the order a terminal shows it, and shown quietly.

Why not write it back to ``sys.stdout`` and ``sys.stderr``: a notebook keeps the two
streams apart, so the answer (stdout) came first and the log (stderr) after it, in
JupyterLab's pink stderr box, as if every successful command had gone wrong. Shown
instead as one block, in the terminal's order, with alembic's routine log lines (INFO)
muted and everything else (answers, warnings, usage) in the normal colour. A failure
stays an error of the cell, after the block (see ``AlembicCommandError``).

The block has a ``text/plain`` form (what nbval compares, GitHub shows, and a terminal
IPython prints) and a ``text/html`` form whose colours are the theme's own variables,
with a fallback readable on light and dark pages.
"""

from __future__ import annotations

import html
import io
import re
import sys

Chunk = tuple[str, str]  # ("stdout" | "stderr", text)

# alembic's log format is "%(levelname)-5.5s [%(name)s] %(message)s".
_ROUTINE_LOG_LINE = re.compile(r"(?:INFO|DEBUG) +\[")
_MUTED = "color:var(--jp-content-font-color2,#6a737d)"
_BLOCK = (
    "margin:0;padding:0;background:transparent;font-size:var(--jp-code-font-size,inherit);"
    "line-height:var(--jp-code-line-height,1.35)"
)  # as a plain output looks


class Recorder(io.TextIOBase):
    """A text stream that records what is written to it, tagged with the stream's name."""

    def __init__(self, name: str, chunks: list[Chunk]):
        self.name, self.chunks = name, chunks

    @property
    def encoding(self) -> str:  # alembic encodes messages with the stream's encoding
        return "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.chunks.append((self.name, text))
        return len(text)


def merge_chunks(chunks: list[Chunk]) -> list[Chunk]:
    """Join neighbouring writes to the same stream (then lines stay whole)."""
    merged: list[Chunk] = []
    for stream, text in chunks:
        if merged and merged[-1][0] == stream:
            merged[-1] = (stream, merged[-1][1] + text)
        else:
            merged.append((stream, text))
    return merged


def _lines(chunks: list[Chunk]) -> list[tuple[bool, str]]:
    """(muted, line) for every line written, in order."""
    lines = []
    for stream, text in chunks:
        for line in text.splitlines(keepends=True):
            lines.append((stream == "stderr" and bool(_ROUTINE_LOG_LINE.match(line)), line))
    return lines


def as_text(chunks: list[Chunk]) -> str:
    return "".join(text for _stream, text in chunks)


def as_html(chunks: list[Chunk]) -> str:
    """One ``<pre>``: routine log lines muted, consecutive ones in a single span."""
    parts: list[str] = []
    run: list[str] = []
    for muted, line in _lines(chunks) + [(False, "")]:
        if muted:
            run.append(line)
            continue
        if run:
            body = "".join(run)
            tail = "\n" if body.endswith("\n") else ""
            parts.append(
                f'<span style="{_MUTED}">{html.escape(body.removesuffix(tail))}</span>' + tail
            )
            run = []
        parts.append(html.escape(line))
    return f'<pre style="{_BLOCK}">{"".join(parts).rstrip()}</pre>'


def show(chunks: list[Chunk]) -> None:
    """Show a command's output: one quiet block in IPython, the two streams elsewhere."""
    if not chunks:
        return
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    if shell is None:  # a script or a plain terminal: as alembic itself would
        for stream, text in chunks:
            getattr(sys, stream).write(text)
        sys.stdout.flush()
        sys.stderr.flush()
        return
    from IPython.display import display

    display({"text/plain": as_text(chunks).rstrip("\n"), "text/html": as_html(chunks)}, raw=True)
