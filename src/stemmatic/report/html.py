"""The HTML report: one self-contained page to read a report side by side.

The page carries its CSS, JavaScript and data inline and makes no network request; its
Content-Security-Policy forbids every fetch and allows only the page's own script and
style (by hash).  Document text never passes through an HTML parser: it travels as JSON
inside ``<script type="application/json">`` (with ``<``, ``>``, ``&`` and the JavaScript
line separators escaped) and the script puts it into the page with ``textContent``.

Offsets are code points in Python but UTF-16 units in JavaScript, so the texts are cut
here, in Python, into *segments* at every boundary the page needs (passages, word
differences, findings, citations); the browser never does offset arithmetic.  A segment
is ``[text, passages, differences, findings, citations]`` (lists of indices, trailing
empty lists left out); ``text`` is a list of strings where the segment holds *soft*
line breaks (breaks that only wrap a paragraph of hard-wrapped text, which the page shows
as spaces unless asked for the original breaks): the strings go between them.  Markers between segments are small objects: ``{"flag": f}`` (a
finding starts here), ``{"pm": p}`` (a passage starts here), ``{"gap": d}`` (words the
other side has are missing here), ``{"br": 1}`` (a layout block ends; the browser lays out
blocks lazily) and ``{"skip": n}`` (``n`` characters the report does not hold).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

from stemmatic.report.json import FINDING_LABELS, to_dict
from stemmatic.report.terminal import truncate_middle
from stemmatic.types import Report

# Layers of a segment, in the order they appear in it.
_PASSAGE, _DIFFERENCE, _FINDING, _CITATION = 0, 1, 2, 3

# Markers at one offset are emitted in this order: a finding's flag before the mark of a
# passage starting there, and that before a gap inside the passage.
_FLAG, _PASSAGE_MARK, _GAP = 0, 1, 2

# A layout block ends at the first line break after this many characters.  Blocks let
# the browser skip laying out text that is off screen (CSS content-visibility), which
# keeps a page with a megabyte of text quick to open.
BLOCK_CHARS = 6000

# Longest excerpt of the query shown in the findings list.
EXCERPT_CHARS = 120

_LINE_SEPARATORS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029"})
_SURROGATE = re.compile("[\ud800-\udfff]")


def finding_label(finding_type: str) -> str:
    """A readable label for a finding type, e.g. ``"unquoted-copy"`` -> ``"Unquoted copy"``.

    The names are those of the verdict (:data:`stemmatic.report.json.FINDING_LABELS`), so
    the page and the terminal agree; any other type is named after itself.

    Args:
        finding_type: the finding's ``type``, in any spelling (hyphens or underscores).

    Returns:
        A capitalised label.
    """
    known = FINDING_LABELS.get(finding_type) or FINDING_LABELS.get(
        finding_type.lower().replace("_", "-")
    )
    label = known[0] if known else re.sub(r"[-_\s]+", " ", finding_type).strip()
    return label[:1].upper() + label[1:] if label else "Finding"


# --------------------------------------------------------------------------- segments


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    layer: int
    id: int


@dataclass(frozen=True, slots=True)
class _Point:
    at: int
    order: int
    marker: dict[str, int]


def _pieces(
    text: str | None, length: int, known: Iterable[tuple[int, int, str | None]]
) -> list[tuple[int, str]]:
    """The stretches of a document's text the page can show, as ``(offset, text)``.

    All of it when the report holds the text; otherwise the spans the report quotes
    (passages, findings...), merged, so a report written without texts still renders.
    """
    if text is not None:
        return [(0, text)]
    spans = sorted(
        (start, end, words)
        for start, end, words in known
        if words is not None and 0 <= start < end <= length and len(words) == end - start
    )
    pieces: list[tuple[int, str]] = []
    for start, end, words in spans:
        if pieces:
            offset, held = pieces[-1]
            reach = offset + len(held)
            if start <= reach:  # touching or overlapping: extend the previous piece
                if end > reach:
                    pieces[-1] = (offset, held + words[reach - start :])
                continue
        pieces.append((start, words))
    return pieces


# A line that starts like this begins a block of its own (heading, list item, quotation,
# table row, indented text), so the break before it is kept.
_BLOCK_START = re.compile(r"[\s#>|*+-]|\d{1,3}[.)]\s|\[\^?\w+\]:")


def soft_breaks(text: str) -> list[int]:
    """Offsets of the line breaks that only wrap a paragraph of hard-wrapped text.

    Text wrapped at a fixed width (plain text, e-mail, much Markdown) reads badly in a
    pane of another width: these breaks are shown as spaces.  A text is taken as
    hard-wrapped when most of its lines are nearly as long as its longest ordinary lines
    (the 90th percentile of line lengths, at most 120 characters); a break is soft when
    the line before it is that long and neither line starts a block of its own.

    Args:
        text: a document's text.

    Returns:
        Sorted offsets of ``"\n"`` characters in ``text``.
    """
    lines = text.split("\n")
    lengths = sorted(len(line.rstrip()) for line in lines if line.strip())
    if len(lengths) < 4:
        return []
    width = lengths[int(0.9 * (len(lengths) - 1))]
    if not 30 <= width <= 120:
        return []
    full = 0.6 * width
    if sum(1 for length in lengths if length >= full) < 0.5 * len(lengths):
        return []
    breaks = []
    offset = 0
    for line, following in pairwise(lines):
        offset += len(line)
        if (
            len(line.rstrip()) >= full
            and following.strip()
            and not line.endswith("  ")  # Markdown's hard line break
            and not _BLOCK_START.match(line)
            and not _BLOCK_START.match(following)
        ):
            breaks.append(offset)
        offset += 1
    return breaks


def _split_soft(words: str, at: int, soft: Sequence[int]) -> str | list[str]:
    """``words`` (starting at offset ``at``) cut at its soft breaks, which are dropped."""
    first = bisect_left(soft, at)
    if first == len(soft) or soft[first] >= at + len(words):
        return words
    parts = []
    cut = 0
    for position in soft[first:]:
        if position >= at + len(words):
            break
        parts.append(words[cut : position - at])
        cut = position - at + 1
    parts.append(words[cut:])
    return parts


def _block_breaks(offset: int, text: str, soft: frozenset[int], block_chars: int) -> list[int]:
    """Where layout blocks start: after a line break that ends a paragraph or a line.

    A block boundary always breaks the line, so it must never fall on a soft break.
    Paragraph ends (a blank line) are preferred, but a text without them still gets blocks.
    """
    breaks = []
    at = block_chars
    while at < len(text):
        paragraph = text.find("\n\n", at, at + 4 * block_chars)
        if paragraph != -1:
            cut = paragraph + 2
        else:
            cut = text.find("\n", at)
            while cut != -1 and offset + cut in soft:
                cut = text.find("\n", cut + 1)
            if cut == -1:
                break
            cut += 1
        if cut >= len(text):
            break
        breaks.append(offset + cut)
        at = cut + block_chars
    return breaks


def _segments(
    pieces: Sequence[tuple[int, str]],
    length: int,
    spans: Sequence[_Span],
    points: Sequence[_Point],
    passage_order: Mapping[int, tuple[int, int]],
    soft: Sequence[int] = (),
    block_chars: int = BLOCK_CHARS,
) -> list[Any]:
    """Cut the known text into segments at every span boundary and marker.

    Each segment lists the spans covering all of it.  Passages are listed innermost
    first (``passage_order``), because the page styles a segment after its first
    visible passage and the shortest one says most about those words.
    """
    out: list[Any] = []
    previous_end = 0
    soft_set = frozenset(soft)
    # Hand each span and marker to the pieces it touches (one piece when the text is
    # known), so a report of many pieces does not test every span against every piece.
    offsets = [offset for offset, _ in pieces]
    piece_spans: list[list[_Span]] = [[] for _ in pieces]
    piece_points: list[list[_Point]] = [[] for _ in pieces]
    for span in spans:
        index = max(0, bisect_right(offsets, span.start) - 1)
        while index < len(pieces) and pieces[index][0] < span.end:
            piece_spans[index].append(span)
            index += 1
    for point in points:
        index = bisect_right(offsets, point.at) - 1
        if index >= 0:
            piece_points[index].append(point)
    for (offset, text), spans_here, points_here in zip(pieces, piece_spans, piece_points):
        end = offset + len(text)
        if offset > previous_end:
            out.append({"skip": offset - previous_end})
        starts: dict[int, list[_Span]] = {}
        ends: dict[int, list[_Span]] = {}
        bounds = {offset, end}
        for span in spans_here:
            start, stop = max(span.start, offset), min(span.end, end)
            if start >= stop:
                continue
            starts.setdefault(start, []).append(span)
            ends.setdefault(stop, []).append(span)
            bounds.update((start, stop))
        here: dict[int, list[_Point]] = {}
        for point in points_here:
            if point.at <= end:
                here.setdefault(point.at, []).append(point)
                bounds.add(point.at)
        breaks = set(_block_breaks(offset, text, soft_set, block_chars))
        bounds |= breaks
        active: tuple[set[int], ...] = (set(), set(), set(), set())
        ordered = sorted(bounds)
        for index, at in enumerate(ordered):
            for span in ends.get(at, ()):
                active[span.layer].discard(span.id)
            for span in starts.get(at, ()):
                active[span.layer].add(span.id)
            if at in breaks:
                out.append({"br": 1})
            markers = here.get(at)
            if markers:
                markers.sort(key=lambda p: (p.order, _key(p.marker)))
                out.extend(point.marker for point in markers)
            if index + 1 == len(ordered):
                break
            words = text[at - offset : ordered[index + 1] - offset]
            segment: list[Any] = [_split_soft(words, at, soft) if soft else words]
            if any(active):
                segment += [
                    sorted(active[_PASSAGE], key=passage_order.__getitem__),
                    sorted(active[_DIFFERENCE]),
                    sorted(active[_FINDING]),
                    sorted(active[_CITATION]),
                ]
                while not segment[-1]:
                    segment.pop()
            out.append(segment)
        previous_end = end
    if pieces and length > previous_end:
        out.append({"skip": length - previous_end})
    if not pieces and length:
        out.append({"skip": length})
    return out


def _key(marker: Mapping[str, int]) -> tuple[str, int]:
    ((name, value),) = marker.items()
    return name, value


# --------------------------------------------------------------------------- page data


def _source_name(source: Mapping[str, Any]) -> str:
    title = source.get("title")
    return str(title) if title else str(source["id"])


def _finding_passage(
    finding: Mapping[str, Any], passages: Sequence[tuple[int, Mapping[str, Any]]]
) -> int | None:
    """The passage a finding is about: most overlap in the query among ``passages``.

    ``passages`` are the (index, passage) pairs of the finding's source.
    """
    best: int | None = None
    best_overlap = -1
    for index, passage in passages:
        overlap = min(passage["query_end"], finding["end"]) - max(
            passage["query_start"], finding["start"]
        )
        touches = passage["query_start"] <= finding["start"] <= passage["query_end"]
        if (overlap > 0 or touches) and overlap > best_overlap:
            best, best_overlap = index, overlap
    return best


def _difference_points(
    side: str, difference: Mapping[str, Any], index: int
) -> tuple[_Span | None, _Point | None]:
    start, end = difference[f"{side}_start"], difference[f"{side}_end"]
    if start == end:
        return None, _Point(start, _GAP, {"gap": index})
    return _Span(start, end, _DIFFERENCE, index), None


def page_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """The data the page's script reads: texts cut into segments, and the report's items.

    Only the sources that passages or findings point at are carried, so a report from a
    large corpus stays small.

    Args:
        data: a report dict as made by :func:`stemmatic.report.to_dict` (ideally with
            ``include_texts=True``; without texts only the reported spans are shown).

    Returns:
        A JSON-ready dict (see the module docstring for the segment format).
    """
    query = data["query"]
    passages: list[Mapping[str, Any]] = list(data["passages"])
    findings: list[Mapping[str, Any]] = list(data["findings"])
    citations: list[Mapping[str, Any]] = list(data.get("citations", ()))
    all_sources = {source["id"]: source for source in data["sources"]}

    used_ids = {p["source_id"] for p in passages if p["source_id"] in all_sources}
    used_ids |= {f["source_id"] for f in findings if f.get("source_id") in all_sources}
    by_source = data["summary"].get("by_source", {})
    # Most reused first: the page opens on the first one.
    used = sorted(
        used_ids, key=lambda sid: (-by_source.get(sid, {}).get("characters", 0), str(sid))
    )
    source_index = {sid: index for index, sid in enumerate(used)}

    differences: list[dict[str, Any]] = []
    passage_rows: list[dict[str, Any]] = []
    passage_order: dict[int, tuple[int, int]] = {}
    query_spans: list[_Span] = []
    query_points: list[_Point] = []
    source_spans: dict[str, list[_Span]] = {sid: [] for sid in used}
    source_points: dict[str, list[_Point]] = {sid: [] for sid in used}
    for index, p in enumerate(passages):
        sid = p["source_id"]
        passage_order[index] = (p["query_end"] - p["query_start"], index)
        diff_ids = []
        for d in p["differences"]:
            diff_id = len(differences)
            diff_ids.append(diff_id)
            differences.append(
                {"type": d["type"], "query": d["query"], "source": d["source"], "passage": index}
            )
            span, point = _difference_points("query", d, diff_id)
            query_spans.extend([span] if span else [])
            query_points.extend([point] if point else [])
            if sid in source_spans:
                span, point = _difference_points("source", d, diff_id)
                source_spans[sid].extend([span] if span else [])
                source_points[sid].extend([point] if point else [])
        if p["query_end"] > p["query_start"]:
            query_spans.append(_Span(p["query_start"], p["query_end"], _PASSAGE, index))
        query_points.append(_Point(p["query_start"], _PASSAGE_MARK, {"pm": index}))
        if sid in source_spans and p["source_end"] > p["source_start"]:
            source_spans[sid].append(_Span(p["source_start"], p["source_end"], _PASSAGE, index))
        passage_rows.append(
            {
                "kind": p["kind"],
                "attribution": p.get("attribution"),
                "fidelity": p.get("fidelity"),
                "source": source_index.get(sid),
                "source_id": sid,
                "score": p["score"],
                "method": p.get("method"),
                "query_start": p["query_start"],
                "query_end": p["query_end"],
                "source_start": p["source_start"],
                "source_end": p["source_end"],
                "differences": diff_ids,
            }
        )

    passages_of: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
    for index, p in enumerate(passages):
        passages_of.setdefault(p["source_id"], []).append((index, p))
    finding_rows: list[dict[str, Any]] = []
    for index, f in enumerate(findings):
        sid = f.get("source_id")
        has_span = f.get("source_start") is not None and f.get("source_end") is not None
        if f["end"] > f["start"]:
            query_spans.append(_Span(f["start"], f["end"], _FINDING, index))
        query_points.append(_Point(f["start"], _FLAG, {"flag": index}))
        if sid in source_spans and has_span and f["source_end"] > f["source_start"]:
            source_spans[sid].append(_Span(f["source_start"], f["source_end"], _FINDING, index))
        finding_rows.append(
            {
                "type": f["type"],
                "label": finding_label(str(f["type"])),
                "message": f["message"],
                "start": f["start"],
                "end": f["end"],
                "excerpt": truncate_middle(
                    " ".join(str(f.get("text") or "").split()), EXCERPT_CHARS
                )
                if f.get("text")
                else "",
                "source": source_index.get(sid) if sid is not None else None,
                "source_id": sid,
                "source_start": f.get("source_start") if has_span else None,
                "source_end": f.get("source_end") if has_span else None,
                "passage": _finding_passage(f, passages_of.get(sid, ()))
                if sid is not None
                else None,
            }
        )

    citation_rows = []
    for index, c in enumerate(citations):
        if c["end"] > c["start"]:
            query_spans.append(_Span(c["start"], c["end"], _CITATION, index))
        citation_rows.append(
            {
                "status": c["status"],
                "source_id": c.get("source_id"),
                "style": c.get("style"),
            }
        )

    query_known: list[tuple[int, int, str | None]] = [
        (p["query_start"], p["query_end"], p.get("query_text")) for p in passages
    ]
    query_known += [(f["start"], f["end"], f.get("text")) for f in findings]
    query_known += [(q["start"], q["end"], q.get("text")) for q in data.get("quotations", ())]
    query_known += [(c["start"], c["end"], c.get("text")) for c in citations]
    query_pieces = _pieces(query.get("text"), query["length"], query_known)

    source_rows = []
    for sid in used:
        source = all_sources[sid]
        known: list[tuple[int, int, str | None]] = [
            (p["source_start"], p["source_end"], p.get("source_text"))
            for p in passages
            if p["source_id"] == sid
        ]
        known += [
            (f["source_start"], f["source_end"], f.get("source_text"))
            for f in findings
            if f.get("source_id") == sid and f.get("source_start") is not None
        ]
        pieces = _pieces(source.get("text"), source["length"], known)
        stats = by_source.get(sid, {})
        source_rows.append(
            {
                "id": sid,
                "name": _source_name(source),
                "path": source.get("path"),
                "title": source.get("title"),
                "author": source.get("author"),
                "date": source.get("date"),
                "format": source.get("format"),
                "text_source": source.get("text_source"),
                "length": source["length"],
                "complete": source.get("text") is not None,
                "passages": stats.get("passages", 0),
                "characters": stats.get("characters", 0),
                "share": stats.get("share", 0.0),
                "segments": _segments(
                    pieces,
                    source["length"],
                    source_spans[sid],
                    source_points[sid],
                    passage_order,
                    soft_breaks(source["text"]) if source.get("text") is not None else (),
                ),
            }
        )

    return {
        "tool": data.get("tool", {}),
        "query": {
            "id": query["id"],
            "name": query.get("title") or query.get("path") or query["id"],
            "path": query.get("path"),
            "title": query.get("title"),
            "author": query.get("author"),
            "date": query.get("date"),
            "format": query.get("format"),
            "text_source": query.get("text_source"),
            "length": query["length"],
            "complete": query.get("text") is not None,
            "segments": _segments(
                query_pieces,
                query["length"],
                query_spans,
                query_points,
                passage_order,
                soft_breaks(query["text"]) if query.get("text") is not None else (),
            ),
        },
        "summary": data["summary"],
        "sources": source_rows,
        "sources_searched": len(all_sources),
        "passages": passage_rows,
        "differences": differences,
        "findings": finding_rows,
        "citations": citation_rows,
        "skipped": [{"path": s["path"], "reason": s["reason"]} for s in data.get("skipped", ())],
        "warnings": [*query.get("warnings", ()), *data.get("warnings", ())],
    }


# --------------------------------------------------------------------------- page


@cache
def _asset(name: str) -> str:
    return resources.files("stemmatic.report").joinpath("assets", name).read_text(encoding="utf-8")


def script_json(value: Any) -> str:
    """JSON that is safe to place inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``... so no ``</script>`` or ``<!--``
    can end or confuse the element, U+2028/U+2029 are escaped for old JavaScript parsers,
    and lone surrogates (text decoded with ``surrogateescape``) are escaped so the page
    can be written as UTF-8.

    Args:
        value: a JSON-ready value.

    Returns:
        The JSON text.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.translate(_LINE_SEPARATORS)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _plain(text: str) -> str:
    """Text for the page's markup: escaped, lone surrogates replaced, one line."""
    return html.escape(" ".join(_SURROGATE.sub("\ufffd", text).split()), quote=True)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{generator}">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<a class="skip-link" href="#query-body">Skip to the query text</a>
<header class="top" id="top">
  <div class="top-line">
    <h1><span class="brand">Stemmatic</span> <span id="doc-name"></span></h1>
    <div class="nav-buttons" role="group" aria-label="Findings navigation">
      <button type="button" id="prev-finding" aria-label="Previous finding (p)" aria-keyshortcuts="p">&#8593; Prev</button>
      <button type="button" id="next-finding" aria-label="Next finding (n)" aria-keyshortcuts="n">Next &#8595;</button>
    </div>
  </div>
  <p id="verdict" class="verdict"></p>
  <ul id="summary" class="summary" aria-label="Share of the query"></ul>
</header>
<div class="layout">
  <aside class="side" id="side" aria-label="Findings, filters and legend">
    <details id="findings-box" class="box" open>
      <summary><h2>Findings <span id="findings-count" class="count"></span></h2></summary>
      <ol id="findings" class="findings"></ol>
    </details>
    <details id="filters-box" class="box" open>
      <summary><h2>Filters and sources</h2></summary>
      <fieldset id="kind-filter"><legend>Kind</legend></fieldset>
      <fieldset id="attribution-filter"><legend>Attribution</legend></fieldset>
      <fieldset id="source-filter"><legend>Sources</legend></fieldset>
    </details>
    <details id="legend-box" class="box" open>
      <summary><h2>Legend</h2></summary>
      <div id="legend"></div>
    </details>
    <details id="notes-box" class="box" hidden>
      <summary><h2>Skipped inputs and warnings</h2></summary>
      <ul id="notes" class="notes"></ul>
    </details>
  </aside>
  <main class="pane query-pane" id="query-pane" aria-labelledby="query-title">
    <div class="pane-head">
      <div class="query-bar">
        <h2 id="query-title">Query</h2>
        <label class="breaks"><input type="checkbox" id="keep-breaks"> Original line breaks</label>
      </div>
      <p id="query-meta" class="meta"></p>
    </div>
    <div id="query-body" class="pane-body text-body" tabindex="0" role="region" aria-label="Query text"></div>
  </main>
  <section class="pane source-pane" id="source-pane" aria-labelledby="source-title">
    <div class="pane-head">
      <div class="source-bar">
        <h2 id="source-title"><label for="source-select">Source</label></h2>
        <select id="source-select"></select>
        <button type="button" id="sheet-toggle" class="sheet-toggle" aria-controls="source-pane" aria-expanded="false">Show</button>
      </div>
      <p id="source-meta" class="meta"></p>
      <div id="detail" class="detail" aria-live="polite"></div>
    </div>
    <div id="source-body" class="pane-body text-body" tabindex="0" role="region" aria-label="Source text"></div>
  </section>
</div>
<div id="announce" class="visually-hidden" aria-live="polite"></div>
<noscript><p class="noscript">This report is drawn by JavaScript, which is turned off. The JSON report holds the same findings.</p></noscript>
<script type="application/json" id="stemmatic-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""


def render_html(data: Mapping[str, Any]) -> str:
    """Render a report as one self-contained HTML page.

    The page needs no network and no other file: CSS, JavaScript and data are inline.

    Args:
        data: the report dict from :func:`stemmatic.report.to_dict` with
            ``include_texts=True`` (or a loaded JSON report; without texts the page shows
            only the reported spans of each document).

    Returns:
        The HTML text (encode it as UTF-8).
    """
    style = _asset("report.css")
    script = _asset("report.js")
    # A "</script" or "</style" in our own assets would end their element early.
    if "</script" in script.lower() or "</style" in style.lower():
        raise RuntimeError("an HTML report asset contains a closing tag")
    csp = "; ".join(
        (
            "default-src 'none'",
            f"style-src {_hash(style)}",
            f"script-src {_hash(script)}",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    query = data["query"]
    tool = data.get("tool", {})
    name = query.get("title") or query.get("path") or query.get("id") or "query"
    return _PAGE.format(
        csp=csp,
        generator=_plain(f"{tool.get('name', 'stemmatic')} {tool.get('version', '')}".strip()),
        title=_plain(f"Stemmatic report: {name}"),
        style=style,
        script=script,
        data=script_json(page_data(data)),
    )


def render_html_report(report: Report) -> str:
    """Render a :class:`~stemmatic.types.Report` as one self-contained HTML page.

    Args:
        report: the report to render.

    Returns:
        The HTML text, as :func:`render_html` gives it.
    """
    return render_html(to_dict(report, include_texts=True))


__all__ = [
    "finding_label",
    "page_data",
    "render_html",
    "render_html_report",
    "script_json",
    "soft_breaks",
]
