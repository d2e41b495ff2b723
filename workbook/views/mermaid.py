"""Names and types spelled so that Mermaid's erDiagram accepts them."""

from __future__ import annotations

import re


def mermaid_name(name: str) -> str:
    """An entity name: bare when Mermaid allows it, else in double quotes."""
    return name if re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name) else f'"{name}"'


def mermaid_type(type_: str) -> str:
    """Mermaid attribute types allow letters, digits, _ - ( ) [ ] only."""
    return re.sub(r"[^A-Za-z0-9_()\[\]-]", "_", type_) or "UNKNOWN"
