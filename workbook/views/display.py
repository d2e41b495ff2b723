"""What every view shares: how it shows itself in Jupyter (a text twin beside every
picture), and the small helpers its text forms use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from workbook.views.svg import message_svg


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the last one an ellipsis if cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_names(value: Iterable[str] | str | None) -> tuple[str, ...]:
    """One name or several as a tuple: ``"a"`` -> ``("a",)``; None -> ``()``."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


class View:
    """Shared display plumbing: text and picture are computed once, on first use.

    A subclass writes ``_make_text`` (the ``text/plain`` form) and ``_make_picture``
    (the ``picture_mime`` form); both must be deterministic, as nbval compares them. A
    view that can be empty says so with ``empty`` and ``_is_empty``: its picture is then
    that sentence in a box.
    """

    picture_mime = "image/svg+xml"
    empty: ClassVar[str] = ""  # what an empty view says, as text and as its picture

    def _is_empty(self) -> bool:
        return False

    def _make_text(self) -> str:
        raise NotImplementedError

    def _make_picture(self) -> str:
        raise NotImplementedError

    @property
    def text(self) -> str:
        if getattr(self, "_text", None) is None:
            self._text = self._make_text()
        return self._text

    @property
    def picture(self) -> str:
        """The SVG (HTML for ``rows``); also available as ``.svg`` or ``.html``."""
        if getattr(self, "_picture", None) is None:
            self._picture = message_svg(self.empty) if self._is_empty() else self._make_picture()
        return self._picture

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": self.text, self.picture_mime: self.picture}
        return {
            mime: data
            for mime, data in bundle.items()
            if (not include or mime in include) and (not exclude or mime not in exclude)
        }

    def __repr__(self) -> str:
        return self.text
