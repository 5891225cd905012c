"""Renderers of a :class:`~stemmatic.types.Report`: JSON (schema version 1) and terminal.

The JSON report is the stable interface for programs; ``report.schema.json`` in this
package (also ``docs/report.schema.json``) describes it.
"""

from stemmatic.report.json import (
    SCHEMA_ID,
    load_json,
    render_json,
    schema,
    summarize,
    text_sha256,
    text_source,
    to_dict,
    validate,
)
from stemmatic.report.terminal import render_terminal, truncate_middle

__all__ = [
    "SCHEMA_ID",
    "load_json",
    "render_json",
    "render_terminal",
    "schema",
    "summarize",
    "text_sha256",
    "text_source",
    "to_dict",
    "truncate_middle",
    "validate",
]
