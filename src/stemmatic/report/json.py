"""The JSON report (schema version 1): rendering, summary, loading and validation.

The report is a plain JSON object whose shape is described by ``report.schema.json``
(shipped in this package and copied to ``docs/``).  Rendering is deterministic: equal
reports give byte-identical JSON whatever order their passages, findings or sources came
in, so reports can be diffed and kept as golden files.

Full texts are left out by default: every span is given by offsets into the extracted
text together with the words it covers, and ``text_sha256`` lets a reader holding the
text check that the offsets still apply.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from functools import lru_cache
from importlib import resources
from itertools import groupby
from typing import Any

from stemmatic.errors import StemmaticError
from stemmatic.types import (
    SCHEMA_VERSION,
    Attribution,
    Citation,
    CitationStatus,
    Difference,
    Document,
    Finding,
    Kind,
    Passage,
    Quotation,
    Report,
)

SCHEMA_ID = "https://stemmatic.dev/schema/report-1.json"
SCHEMA_FILE = "report.schema.json"

# Which text the offsets of a document index, by input format.  Users need this to
# reproduce a span: offsets into an HTML file's markup would be useless.
TEXT_SOURCES: dict[str, str] = {
    "txt": "decoded file content, unchanged",
    "text": "decoded file content, unchanged",
    "md": "decoded file content, unchanged",
    "markdown": "decoded file content, unchanged",
    "html": "main text extracted by trafilatura",
    "htm": "main text extracted by trafilatura",
    "xhtml": "main text extracted by trafilatura",
    "pdf": "text layer extracted by pypdf",
    "docx": "paragraph text extracted by python-docx",
    "jsonl": "record text field",
    "ndjson": "record text field",
    "json": "record text field",
    "parquet": "record text field",
}

# How the verdict names finding types; any other type is named after itself.
FINDING_LABELS: dict[str, tuple[str, str]] = {
    "misquote": ("misquote", "misquotes"),
    "unquoted-copy": ("unquoted copy", "unquoted copies"),
    "uncited-passage": ("uncited passage", "uncited passages"),
    "miscited": ("miscited passage", "miscited passages"),
    "citation-not-in-corpus": ("citation not in the corpus", "citations not in the corpus"),
    "quotation-not-found": ("quotation found nowhere", "quotations found nowhere"),
    "drift": ("drifted passage", "drifted passages"),
    "shared-error": ("shared error", "shared errors"),
    "unbalanced-quote": ("unbalanced quotation mark", "unbalanced quotation marks"),
}


def text_source(fmt: str) -> str:
    """Say in words which text a document's offsets index.

    Args:
        fmt: the document's ``format`` (``"txt"``, ``"html"``, ``"pdf"``...).

    Returns:
        A short phrase such as ``"main text extracted by trafilatura"``.
    """
    return TEXT_SOURCES.get(fmt.lower().lstrip("."), f"text extracted from {fmt} input")


def text_sha256(text: str) -> str:
    """SHA-256 of the UTF-8 encoding of ``text``, as 64 lowercase hex digits."""
    # surrogatepass: text decoded with errors="surrogateescape" can hold lone surrogates,
    # which strict UTF-8 refuses, and such a text still needs a hash.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# --------------------------------------------------------------------------- summary


def _union_length(spans: Iterable[tuple[int, int]], length: int) -> int:
    """Characters of ``[0, length)`` covered by at least one span, overlaps counted once."""
    total = 0
    reach = 0  # end of the covered region so far; spans are visited by start
    for start, end in sorted((max(0, s), min(length, e)) for s, e in spans):
        if end <= start:
            continue
        if start >= reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def _share(characters: int, length: int) -> float:
    return round(characters / length, 4) if length else 0.0


def _stats(passages: Sequence[Passage], length: int) -> dict[str, Any]:
    characters = _union_length(((p.query_start, p.query_end) for p in passages), length)
    return {
        "passages": len(passages),
        "characters": characters,
        "share": _share(characters, length),
    }


def _percent(share: float) -> str:
    # Never round a little reuse down to "0%" or most of the text up to "100%".
    if share <= 0.0:
        return "0%"
    if share < 0.01:
        return "<1%"
    if share < 1.0 and share > 0.99:
        return ">99%"
    return f"{round(share * 100)}%"


def _finding_phrase(kind: str, count: int) -> str:
    singular, plural = FINDING_LABELS.get(kind, (kind.replace("_", " "), ""))
    if count == 1:
        return f"1 {singular}"
    return f"{count} {plural or singular + 's'}"


def verdict(summary: Mapping[str, Any]) -> str:
    """One line saying how much of the query is reused and what is wrong with it.

    Args:
        summary: a summary as returned by :func:`summarize`.

    Returns:
        For example ``"12% of the text comes from 2 sources; 1 misquote, 2 uncited
        passages"`` or ``"No reuse found"``.
    """
    reused = summary["reused"]
    if reused["passages"] == 0:
        head = "No reuse found"
    else:
        used = summary["sources_used"]
        share = reused["characters"] / summary["query_length"] if summary["query_length"] else 0.0
        head = f"{_percent(share)} of the text comes from {used} source{'s' if used != 1 else ''}"
    counts = summary["findings"]["by_type"]
    # The most frequent problems first; the type name breaks ties so the line is stable.
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    parts = [_finding_phrase(kind, count) for kind, count in ordered]
    return head + ("; " + ", ".join(parts) if parts else "")


def summarize(report: Report) -> dict[str, Any]:
    """Count what a report found.

    Shares are fractions (0..1) of the query's length.  Within one group (all passages,
    one kind, one attribution, one source) characters covered by several passages are
    counted once; groups can overlap each other, so the shares of the kinds may add up
    to more than the share of all reuse.  Passages whose attribution was not assessed
    (``None``) are not counted under any attribution.

    Args:
        report: the report to summarize.

    Returns:
        A JSON-ready dict with ``verdict``, ``query_length``, ``reused``, ``by_kind``,
        ``by_attribution``, ``by_source``, ``sources_used``, ``findings``, ``citations``
        and ``skipped``.
    """
    length = len(report.query.text)
    passages = report.passages
    by_source: dict[str, list[Passage]] = {}
    for passage in passages:
        by_source.setdefault(passage.source_id, []).append(passage)
    finding_counts = Counter(f.type for f in report.findings)
    citation_counts = Counter(c.status for c in report.citations)
    summary: dict[str, Any] = {
        "verdict": "",
        "query_length": length,
        "reused": _stats(passages, length),
        "by_kind": {
            kind.value: _stats([p for p in passages if p.kind == kind], length) for kind in Kind
        },
        "by_attribution": {
            attribution.value: _stats([p for p in passages if p.attribution == attribution], length)
            for attribution in Attribution
        },
        "by_source": {sid: _stats(by_source[sid], length) for sid in sorted(by_source)},
        "sources_used": len(by_source),
        "findings": {
            "total": len(report.findings),
            "by_type": {kind: finding_counts[kind] for kind in sorted(finding_counts)},
        },
        "citations": {
            "total": len(report.citations),
            **{status.value: citation_counts[status] for status in CitationStatus},
        },
        "skipped": len(report.skipped),
    }
    summary["verdict"] = verdict(summary)
    return summary


# --------------------------------------------------------------------------- to_dict


def to_jsonable(value: Any) -> Any:
    """Turn evidence and settings values into JSON values (enums, tuples, numpy scalars)."""
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        # NaN and infinities are not JSON; null says "no value" honestly.
        return value if math.isfinite(value) else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [to_jsonable(v) for v in value]
        if isinstance(value, (set, frozenset)):
            items.sort(key=_canonical)
        return items
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return to_jsonable(item())
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist):
        return to_jsonable(tolist())
    return str(value)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=True)


def _sorted(
    items: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], tuple[Any, ...]]
) -> list[dict[str, Any]]:
    """``items`` sorted by ``key``, ties broken by their canonical JSON form, so that the
    order never depends on the input order.  Only tied items are rendered for it: that
    costs a JSON encoding per item, most of the time of writing a long report."""
    keyed = sorted(((key(item), item) for item in items), key=lambda pair: pair[0])
    out: list[dict[str, Any]] = []
    for _, group in groupby(keyed, key=lambda pair: pair[0]):
        tied = [item for _, item in group]
        if len(tied) > 1:
            tied.sort(key=_canonical)
        out.extend(tied)
    return out


def _display_path(document: Document) -> str:
    # A document made in memory has no path; "<id>" follows Python's "<stdin>" convention
    # and cannot be mistaken for a file.
    return document.path if document.path is not None else f"<{document.id}>"


def _check_span(what: str, start: int, end: int, length: int, text_name: str) -> None:
    if not 0 <= start <= end <= length:
        raise StemmaticError(
            f"{what}: span {start}-{end} lies outside the {text_name} (length {length})"
        )


def _document(document: Document, include_texts: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": document.id,
        "path": _display_path(document),
        "title": document.title,
        "author": document.author,
        "date": document.date,
        "format": document.format,
        "length": len(document.text),
        "text_source": text_source(document.format),
        "text_sha256": text_sha256(document.text),
        "warnings": list(document.warnings),
    }
    if include_texts:
        data["text"] = document.text
    return data


def _difference(difference: Difference) -> dict[str, Any]:
    return {
        "type": difference.type.value,
        "query": difference.query,
        "source": difference.source,
        "query_start": difference.query_start,
        "query_end": difference.query_end,
        "source_start": difference.source_start,
        "source_end": difference.source_end,
    }


def _passage(passage: Passage, query: Document, sources: Mapping[str, Document]) -> dict[str, Any]:
    where = f"passage at {passage.query_start}-{passage.query_end} from {passage.source_id!r}"
    source = sources.get(passage.source_id)
    if source is None:
        raise StemmaticError(
            f"{where}: source {passage.source_id!r} is not among the report's sources"
        )
    _check_span(where, passage.query_start, passage.query_end, len(query.text), "query text")
    _check_span(where, passage.source_start, passage.source_end, len(source.text), "source text")
    if not math.isfinite(passage.score):
        raise StemmaticError(f"{where}: score {passage.score} is not a finite number")
    for d in passage.differences:
        _check_span(
            f"{where}, difference", d.query_start, d.query_end, len(query.text), "query text"
        )
        _check_span(
            f"{where}, difference", d.source_start, d.source_end, len(source.text), "source text"
        )
    differences = _sorted(
        (_difference(d) for d in passage.differences),
        lambda d: (d["query_start"], d["source_start"], d["query_end"], d["source_end"]),
    )
    return {
        "query_start": passage.query_start,
        "query_end": passage.query_end,
        "query_text": query.text[passage.query_start : passage.query_end],
        "source_id": passage.source_id,
        "source_start": passage.source_start,
        "source_end": passage.source_end,
        "source_text": source.text[passage.source_start : passage.source_end],
        "kind": passage.kind.value,
        "fidelity": passage.fidelity.value if passage.fidelity is not None else None,
        "attribution": passage.attribution.value if passage.attribution is not None else None,
        "score": round(float(passage.score), 4),
        "method": passage.method,
        "differences": differences,
    }


def _quotation(quotation: Quotation, query: Document) -> dict[str, Any]:
    _check_span("quotation", quotation.start, quotation.end, len(query.text), "query text")
    return {
        "start": quotation.start,
        "end": quotation.end,
        "text": query.text[quotation.start : quotation.end],
        "open_mark": quotation.open_mark,
        "close_mark": quotation.close_mark,
        "block": quotation.block,
    }


def _citation(citation: Citation, query: Document) -> dict[str, Any]:
    _check_span("citation", citation.start, citation.end, len(query.text), "query text")
    return {
        "start": citation.start,
        "end": citation.end,
        "text": citation.text,
        "source_id": citation.source_id,
        "status": citation.status.value,
        "style": citation.style,
        "method": citation.method,
    }


def _finding(finding: Finding, query: Document, sources: Mapping[str, Document]) -> dict[str, Any]:
    where = f"finding {finding.type!r} at {finding.start}-{finding.end}"
    _check_span(where, finding.start, finding.end, len(query.text), "query text")
    source = sources.get(finding.source_id) if finding.source_id is not None else None
    source_text: str | None = None
    if source is not None and finding.source_start is not None and finding.source_end is not None:
        _check_span(
            where, finding.source_start, finding.source_end, len(source.text), "source text"
        )
        source_text = source.text[finding.source_start : finding.source_end]
    return {
        "type": finding.type,
        "start": finding.start,
        "end": finding.end,
        "text": query.text[finding.start : finding.end],
        "message": finding.message,
        "source_id": finding.source_id,
        "source_start": finding.source_start,
        "source_end": finding.source_end,
        "source_text": source_text,
        "evidence": {str(key): to_jsonable(value) for key, value in finding.evidence},
    }


def _tool() -> dict[str, str]:
    # Imported here: the package's __init__ may import the report modules one day.
    from stemmatic import __version__

    return {"name": "stemmatic", "version": __version__}


def to_dict(report: Report, *, include_texts: bool = False) -> dict[str, Any]:
    """Turn a report into the JSON object of schema version 1.

    Passages are sorted by (query_start, query_end, source_id, source_start), findings by
    (start, type), sources by id, citations and quotations by offsets, skipped inputs by
    path; remaining ties are broken by content, so the result never depends on the order
    the pipeline produced things in.

    Args:
        report: the report to render.
        include_texts: also give the full extracted texts as ``query.text`` and
            ``sources[].text`` (the HTML report needs them; they can be large).

    Returns:
        A dict ready for :func:`json.dumps`.

    Raises:
        StemmaticError: a span lies outside its text, a passage names a source the report
            does not hold, or a score is not a finite number.
    """
    query = report.query
    sources = {source.id: source for source in report.sources}
    return {
        "schema_version": report.schema_version,
        "tool": _tool(),
        "query": _document(query, include_texts),
        "summary": summarize(report),
        "sources": _sorted(
            (_document(s, include_texts) for s in report.sources), lambda d: (d["id"], d["path"])
        ),
        "passages": _sorted(
            (_passage(p, query, sources) for p in report.passages),
            lambda d: (
                d["query_start"],
                d["query_end"],
                d["source_id"],
                d["source_start"],
                d["source_end"],
            ),
        ),
        "quotations": _sorted(
            (_quotation(q, query) for q in report.quotations), lambda d: (d["start"], d["end"])
        ),
        "citations": _sorted(
            (_citation(c, query) for c in report.citations), lambda d: (d["start"], d["end"])
        ),
        "findings": _sorted(
            (_finding(f, query, sources) for f in report.findings),
            lambda d: (d["start"], d["type"], d["end"]),
        ),
        "skipped": _sorted(
            ({"path": s.path, "reason": s.reason} for s in report.skipped),
            lambda d: (d["path"], d["reason"]),
        ),
        # Sorted keys: dicts that compare equal must render the same bytes.
        "settings": {key: to_jsonable(report.settings[key]) for key in sorted(report.settings)},
        "warnings": list(dict.fromkeys(report.warnings)),
    }


def render_json(report: Report, *, include_texts: bool = False, indent: int | None = 2) -> str:
    """Render a report as JSON text (schema version 1), ending with a newline.

    Equal reports give byte-identical text.  Non-ASCII characters are written as they
    are, so quoted words stay readable.

    Args:
        report: the report to render.
        include_texts: also give the full extracted texts (see :func:`to_dict`).
        indent: spaces per level, or ``None`` for one compact line.

    Returns:
        The JSON text.
    """
    return (
        json.dumps(to_dict(report, include_texts=include_texts), indent=indent, ensure_ascii=False)
        + "\n"
    )


# --------------------------------------------------------------------------- loading


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files("stemmatic.report").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of report schema version 1, as a fresh dict."""
    data: dict[str, Any] = json.loads(_schema_text())
    return data


def load_json(text: str | bytes, *, check: bool = True) -> dict[str, Any]:
    """Read a JSON report written by :func:`render_json`.

    Args:
        text: the JSON text.
        check: also validate it against the schema (see :func:`validate`).

    Returns:
        The report as a dict.

    Raises:
        StemmaticError: the text is not JSON, not an object, of another schema version,
            or (with ``check``) does not match the schema.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise StemmaticError(
            f"not a JSON report: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except UnicodeDecodeError as error:
        raise StemmaticError(f"not a JSON report: not UTF-8 text ({error.reason})") from None
    if not isinstance(data, dict):
        raise StemmaticError(
            f"not a JSON report: the top level is a {type(data).__name__}, not an object"
        )
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise StemmaticError(
            f"report schema version {version!r} is not supported "
            f"(this Stemmatic reads version {SCHEMA_VERSION})"
        )
    if check:
        validate(data)
    return data


def _pointer(path: Sequence[Any]) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _spans_in_order(data: Mapping[str, Any]) -> None:
    """Checks a schema cannot express: every span ends after it starts and inside its text."""
    query_length = data["query"]["length"]
    source_lengths = {s["id"]: s["length"] for s in data["sources"]}

    def check(where: str, start: int, end: int, length: int | None) -> None:
        if end < start:
            raise StemmaticError(
                f"report is invalid at {where}: span ends ({end}) before it starts ({start})"
            )
        if length is not None and end > length:
            raise StemmaticError(
                f"report is invalid at {where}: span end {end} is past the text's length {length}"
            )

    for i, p in enumerate(data["passages"]):
        check(f"$.passages[{i}]", p["query_start"], p["query_end"], query_length)
        source_length = source_lengths.get(p["source_id"])
        check(f"$.passages[{i}]", p["source_start"], p["source_end"], source_length)
        for j, d in enumerate(p["differences"]):
            check(
                f"$.passages[{i}].differences[{j}]", d["query_start"], d["query_end"], query_length
            )
            check(
                f"$.passages[{i}].differences[{j}]",
                d["source_start"],
                d["source_end"],
                source_length,
            )
    for name in ("quotations", "citations", "findings"):
        for i, item in enumerate(data[name]):
            check(f"$.{name}[{i}]", item["start"], item["end"], query_length)


def validate(data: Any) -> None:
    """Check a report dict against the JSON Schema of version 1 and its span rules.

    Args:
        data: a dict as made by :func:`to_dict` or read by :func:`load_json`.

    Raises:
        StemmaticError: naming where (e.g. ``$.passages[0].kind``) the most relevant
            error is and what it is.
    """
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - jsonschema is a dependency
        raise StemmaticError(
            "validating a report needs the jsonschema package (pip install jsonschema)"
        ) from None
    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise StemmaticError(
            f"report is invalid at {_pointer(error.absolute_path)}: {error.message}"
        )
    _spans_in_order(data)


__all__ = [
    "FINDING_LABELS",
    "SCHEMA_ID",
    "TEXT_SOURCES",
    "load_json",
    "render_json",
    "schema",
    "summarize",
    "text_sha256",
    "text_source",
    "to_dict",
    "validate",
    "verdict",
]
