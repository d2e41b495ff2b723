"""A time machine for a workspace: pick a revision, move the database there, watch it change.

``workbook.timeline(ws)`` shows a revision picker, "Move here" and "Reset workspace"
buttons, the revision graph and the schema. Moving runs ``alembic upgrade`` or
``alembic downgrade`` (whichever goes there) through the same runner as ``%alembic``.

Where widgets do not render (a static viewer, a plain-text console) the same output shows
the graph and schema as pictures (HTML) or as text.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
from alembic.util import to_tuple

from workbook.workspace import Workspace, active_workspace

BASE = "base"


def revision_choices(ws: Workspace) -> list[tuple[str, str]]:
    """(label, revision) pairs from base to the newest: parents before children, and
    revisions that could come in either order (two branches) by id, 0008 before 0009."""
    script = ws.script_directory()
    scripts = {rev.revision: rev for rev in script.walk_revisions()}
    parents = {rev_id: set(to_tuple(rev.down_revision) or ()) & scripts.keys()
               for rev_id, rev in scripts.items()}
    choices = [("base · empty database", BASE)]
    done: set[str] = set()
    while len(done) < len(scripts):
        ready = sorted(r for r in scripts if r not in done and parents[r] <= done)
        rev = scripts[ready[0]]
        done.add(rev.revision)
        message = (rev.doc or "").strip().splitlines()[0] if rev.doc else ""
        choices.append((f"{rev.revision} · {message}", rev.revision))
    return choices


def direction(ws: Workspace, target: str) -> str:
    """"downgrade" if ``target`` is at or below where the database is now, else "upgrade"."""
    current = ws.current()
    if target == BASE:
        return "downgrade"
    if not current:
        return "upgrade"
    below = {rev.revision for rev in ws.script_directory().iterate_revisions(current, BASE)}
    return "downgrade" if target in below else "upgrade"


class Timeline:
    """The widget and its static fallbacks, for one workspace."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self.picker = widgets.Dropdown(description="Revision", layout=widgets.Layout(width="60%"))
        self.move_button = widgets.Button(description="Move here", button_style="primary",
                                          icon="play")
        self.reset_button = widgets.Button(description="Reset workspace", icon="undo")
        self.status = widgets.HTML()
        half = widgets.Layout(width="50%")  # side by side; each picture shrinks to fit
        self.graph_view = widgets.HTML(layout=half)
        self.schema_view = widgets.HTML(layout=half)
        self.move_button.on_click(lambda _button: self.move(self.picker.value))
        self.reset_button.on_click(lambda _button: self.reset())
        self.widget = widgets.VBox([
            widgets.HBox([self.picker, self.move_button, self.reset_button]),
            self.status,
            widgets.HBox([self.graph_view, self.schema_view]),
        ])
        self.refresh("")

    # -- actions ----------------------------------------------------------------------
    def move(self, target: str) -> str:
        """Upgrade or downgrade the database to ``target``; returns the status line."""
        verb = direction(self.ws, target)
        result = self.ws.run([verb, target])
        if result.ok:
            message = f"{verb} {target}: the database is now at {self._where()}"
        else:
            message = f"{verb} {target} failed: {result.error}"
        self.refresh(message, ok=result.ok)
        return message

    def reset(self) -> str:
        self.ws.reset()
        message = f"workspace rebuilt: {self.ws.stage.summary}"
        self.refresh(message)
        return message

    # -- display ----------------------------------------------------------------------
    def _where(self) -> str:
        return ", ".join(self.ws.current()) or BASE

    def refresh(self, message: str, ok: bool = True) -> None:
        self.picker.options = revision_choices(self.ws)
        current = self.ws.current()
        self.picker.value = current[0] if len(current) == 1 else BASE if not current else current[-1]
        colour = "#1a7f37" if ok else "#cf222e"
        text = html.escape(message or f"the database is at {self._where()}")
        self.status.value = f'<span style="color:{colour}">{text}</span>'
        self.graph_view.value = self._svg(self.ws.graph())
        self.schema_view.value = self._svg(self.ws.schema())

    @staticmethod
    def _svg(view) -> str:
        """The view's picture, scaled down to its box (the SVGs have a viewBox)."""
        svg = view._repr_mimebundle_()["image/svg+xml"]
        return svg.replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)

    def text(self) -> str:
        return "\n".join([f"Timeline of workspace {self.ws.name!r} "
                          f"(the database is at {self._where()})", "",
                          repr(self.ws.graph()), "", repr(self.ws.schema())])

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
        bundle["text/plain"] = self.text()  # what plain viewers (and nbval) see
        bundle["text/html"] = (f"<div>{self.status.value}</div>"
                               f"<div style='display:flex;gap:1em'>"
                               f"<div style='flex:1;min-width:0'>{self.graph_view.value}</div>"
                               f"<div style='flex:1;min-width:0'>{self.schema_view.value}</div>"
                               f"</div>")
        return bundle

    def __repr__(self) -> str:
        return self.text()


def timeline(ws: Workspace | None = None) -> Timeline:
    """The timeline of ``ws`` (default: the chapter's workspace)."""
    return Timeline(ws or active_workspace())
