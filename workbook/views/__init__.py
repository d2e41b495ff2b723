"""Pictures of the database and of the migration history, for the workbook's notebooks.

Every view is a small object that Jupyter displays through ``_repr_mimebundle_``:

- ``text/plain``: a sorted, deterministic text form (also ``.text`` and ``repr()``), which
  is what plain-text viewers, nbval and the tests read;
- ``image/svg+xml`` (``text/html`` for ``rows``): a picture laid out by hand here, with no
  graphviz and no JavaScript, so JupyterLab, nbviewer and GitHub all show the same thing;
- ``.mermaid``: the same diagram as Mermaid source, for pasting into Markdown.

Outputs are byte-for-byte reproducible (nbval compares them): no memory addresses, no
paths, no timestamps, everything sorted. The SVGs use presentation attributes only, no
``<style>`` and no ids: JupyterLab shows an SVG as an <img>, but other front ends inline
it into the page, where CSS classes and ids would leak into the rest of the notebook.
A white background keeps the pictures readable under dark themes too.

Modules: ``schema`` (the model and its reader), ``svg`` (palette, text metrics, drawing),
``display`` (the view base), ``er`` (schema view), ``diff``, ``graph`` (revisions), ``rows``.
"""

from workbook.views.diff import DiffView, schema_diff
from workbook.views.er import SchemaView, schema
from workbook.views.graph import GraphView, revision_graph
from workbook.views.rows import RowsView, rows
from workbook.views.schema import (
    ColumnInfo, ForeignKeyInfo, IndexInfo, SchemaSnapshot, TableInfo, UniqueInfo,
    snapshot_schema,
)

__all__ = [
    "ColumnInfo", "IndexInfo", "UniqueInfo", "ForeignKeyInfo", "TableInfo", "SchemaSnapshot",
    "SchemaView", "DiffView", "GraphView", "RowsView",
    "snapshot_schema", "schema", "schema_diff", "revision_graph", "rows",
]
