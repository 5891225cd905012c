"""Tests of the HTML report that need no browser: escaping, segments, self-containment.

``handmade_report()`` is also used by ``test_browser.py``: a report with every kind,
attribution and difference type, findings of many types, and a source full of markup.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tomllib
from dataclasses import replace
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stemmatic.report import load_json, render_json, to_dict
from stemmatic.report.html import (
    finding_label,
    page_data,
    render_html,
    render_html_report,
    script_json,
    soft_breaks,
)
from stemmatic.types import (
    Attribution,
    Citation,
    CitationStatus,
    Difference,
    DiffType,
    Document,
    Fidelity,
    Finding,
    Kind,
    Passage,
    Report,
    Skipped,
)

EVIL = (
    '<script>window.__pwned=1</script> Harbour <img src=x onerror="window.__pwned=1"> notes '
    "</style></script><!-- <b>bold</b> & &amp; \u2028\u2029 end. "
)
EVIL_WORDS = 'Some <img src=x onerror="window.__pwned=1"> said the dockers were paid by the hour.'
SMITH_QUOTE = "The quick brown fox jumps over the lazy dog."
SMITH_COPY = "It was the colour of autumn leaves, and the hunter never saw it again in the valley."
JONES_WORDS = "Rivers remember every stone they have ever moved, said the old surveyor."


def filler(paragraphs: int, seed: str) -> str:
    """Hard-wrapped paragraphs of neutral text, different for each ``seed``."""
    out = []
    for number in range(paragraphs):
        sentence = (
            f"Paragraph {number} of {seed}: harbour records from the period are patchy, and the "
            "ledgers that survive were kept for the owners rather than for the men who worked "
            "on the quays, so much of what we know comes from memory and from the newspapers."
        )
        words = sentence.split()
        lines, line = [], ""
        for word in words:
            if line and len(line) + 1 + len(word) > 72:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n\n"


class Text:
    """Builds a text piece by piece and remembers where each piece went."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, piece: str) -> tuple[int, int]:
        start = self.length
        self.parts.append(piece)
        self.length += len(piece)
        return start, self.length

    def text(self) -> str:
        return "".join(self.parts)


def at(text: str, words: str, start: int = 0) -> tuple[int, int]:
    where = text.index(words, start)
    return where, where + len(words)


def diff(
    dtype: DiffType,
    query: str,
    q_span: tuple[int, int],
    source: str,
    s_span: tuple[int, int],
) -> Difference:
    return Difference(query, source, dtype, q_span[0], q_span[1], s_span[0], s_span[1])


def handmade_report() -> Report:
    """A report with every kind, attribution and difference type and many finding types."""
    smith_text = Text()
    smith_text.add(filler(24, "Smith"))
    s_quote = smith_text.add(SMITH_QUOTE)
    smith_text.add("\n\n" + filler(12, "Smith, later"))
    s_copy = smith_text.add(SMITH_COPY)
    smith_text.add("\n\n" + filler(6, "Smith, end"))
    smith = smith_text.text()

    jones_text = Text()
    jones_text.add(filler(30, "Jones"))
    s_jones = jones_text.add(JONES_WORDS)
    jones_text.add("\n" + filler(3, "Jones, end"))
    jones = jones_text.text()

    evil_text = Text()
    evil_text.add(EVIL + "\n\n" + filler(20, "Evil"))
    s_evil = evil_text.add(EVIL_WORDS)
    evil_text.add("\n\n" + EVIL)
    evil = evil_text.text()

    q = Text()
    q.add("# Docks \U0001f41f and </script><b>memory</b>\n\n")
    q.add(filler(4, "the essay's opening"))
    q.add("As Smith wrote, \u201c")
    q_quote = q.add("the quick red fox jumps over the lazy dog")
    q.add("\u201d ")
    cite_smith = q.add("(Smith 1999)")
    q.add(".\n\n" + filler(8, "the essay's middle"))
    q_copy = q.add(
        "The fox was the color of autumn leaves, and the hunter never saw it in the valley."
    )
    q.add("\n\n" + filler(6, "the essay's turn"))
    q_para = q.add("Rivers, it seems, remember every stone [they] have ever moved")
    q.add(" ")
    cite_brown = q.add("(Brown 2001)")
    q.add(".\n\n" + filler(6, "the essay's close"))
    q_evil = q.add(EVIL_WORDS)
    q.add("\n\n\u201c")
    q_lost = q.add("A quotation that comes from nowhere at all")
    q.add("\u201d, and a last \U0001f41f line.\n")
    query = q.text()

    quote_diffs = (
        diff(
            DiffType.CASE, "the", (q_quote[0], q_quote[0] + 3), "The", (s_quote[0], s_quote[0] + 3)
        ),
        diff(
            DiffType.WORD,
            "red",
            at(query, "red", q_quote[0]),
            "brown",
            at(smith, "brown", s_quote[0]),
        ),
    )
    copy_diffs = (
        diff(
            DiffType.SPELLING,
            "color",
            at(query, "color", q_copy[0]),
            "colour",
            at(smith, "colour", s_copy[0]),
        ),
        diff(
            DiffType.OMISSION,
            "",
            (at(query, "saw it ", q_copy[0])[1],) * 2,
            "again",
            at(smith, "again", s_copy[0]),
        ),
    )
    para_diffs = (
        diff(
            DiffType.INSERTION,
            "it seems,",
            at(query, "it seems,", q_para[0]),
            "",
            (s_jones[0] + 7,) * 2,
        ),
        diff(
            DiffType.EDITORIAL,
            "[they]",
            at(query, "[they]", q_para[0]),
            "they",
            at(jones, "they", s_jones[0]),
        ),
        diff(DiffType.TYPOGRAPHY, ",", at(query, ",", q_para[0]), "", (s_jones[0] + 6,) * 2),
    )
    s_smith_para = at(smith, "brown fox jumps")
    passages = (
        Passage(
            *q_quote,
            "smith",
            *s_quote[:1],
            s_quote[1] - 1,
            Kind.QUOTATION,
            0.93,
            quote_diffs,
            Fidelity.ALTERED,
            Attribution.CITED,
        ),
        Passage(*q_copy, "smith", *s_copy, Kind.COPY, 0.88, copy_diffs, None, Attribution.UNCITED),
        Passage(
            *q_para,
            "jones",
            s_jones[0],
            s_jones[1] - len(", said the old surveyor."),
            Kind.PARAPHRASE,
            0.61,
            para_diffs,
            None,
            Attribution.MISCITED,
            method="sentence",
        ),
        # Nested in the quotation: an unassessed paraphrase of a few of its words.
        Passage(q_quote[0] + 14, q_quote[0] + 29, "smith", *s_smith_para, Kind.PARAPHRASE, 0.55),
        Passage(*q_evil, "evil", *s_evil, Kind.COPY, 1.0),
    )
    findings = (
        Finding(
            "misquote",
            *at(query, "red", q_quote[0]),
            'Quotes "red" where Smith wrote "brown".',
            "smith",
            *at(smith, "brown", s_quote[0]),
        ),
        Finding(
            "unquoted-copy",
            *q_copy,
            "Words copied from Smith without quotation marks.",
            "smith",
            *s_copy,
        ),
        Finding("uncited-passage", *q_copy, "Copied from Smith with no citation.", "smith"),
        Finding(
            "miscited",
            *q_para,
            "Cited to Brown, but the words come from Jones.",
            "jones",
            s_jones[0],
            s_jones[1] - len(", said the old surveyor."),
        ),
        Finding("drift", *q_para, "Differs from Jones in facts.", "jones"),
        Finding(
            "citation-not-in-corpus", *cite_brown, "Brown 2001 is cited, but no source matches it."
        ),
        Finding("quotation-not-found", *q_lost, "The quotation is found in no source."),
        Finding(
            "shared-error",
            *at(query, "dockers", q_evil[0]),
            "\u201cdockers\u201d <i>also</i> appears in the evil source.",
            "evil",
            *at(evil, "dockers", s_evil[0]),
        ),
        Finding("odd_new-type", *at(query, "Paragraph 2"), "A finding type no renderer knows."),
    )
    return Report(
        query=Document("essay", query, path="essay.md", title="Docks & <Memory>", format="md"),
        sources=(
            Document(
                "smith",
                smith,
                path="corpus/smith.txt",
                title="Foxes",
                author="A. Smith",
                date="1999",
            ),
            Document("jones", jones, path="corpus/jones.txt"),
            Document(
                "evil",
                evil,
                path="corpus/<evil>.html",
                title="</title><script>window.__pwned=1</script>",
                format="html",
            ),
            Document("unused", "UNUSED-SOURCE-TEXT " * 20, path="corpus/unused.txt"),
        ),
        passages=passages,
        citations=(
            Citation(*cite_smith, "(Smith 1999)", "smith", CitationStatus.RESOLVED),
            Citation(*cite_brown, "(Brown 2001)", None, CitationStatus.NOT_IN_CORPUS),
        ),
        findings=findings,
        skipped=(Skipped("corpus/broken.pdf", "not a PDF file <script>"),),
        warnings=("1 source was empty",),
    )


# ------------------------------------------------------------------------------ helpers


def embedded(page: str) -> tuple[str, dict[str, Any]]:
    """The page's data block, as text and parsed."""
    match = re.search(
        r'<script type="application/json" id="stemmatic-data">(.*?)</script>', page, re.DOTALL
    )
    assert match is not None
    return match.group(1), json.loads(match.group(1))


def walk(
    segments: list[Any],
) -> tuple[str, list[tuple[int, int, list[Any]]], list[tuple[int, dict[str, int]]]]:
    """Rebuild the text from segments (skipped characters as NUL) with every offset."""
    text: list[str] = []
    pieces: list[tuple[int, int, list[Any]]] = []
    markers: list[tuple[int, dict[str, int]]] = []
    position = 0
    for segment in segments:
        if isinstance(segment, list):
            words = segment[0] if isinstance(segment[0], str) else "\n".join(segment[0])
            pieces.append((position, position + len(words), segment))
            text.append(words)
            position += len(words)
        elif "skip" in segment:
            text.append("\0" * segment["skip"])
            position += segment["skip"]
        else:
            markers.append((position, segment))
    return "".join(text), pieces, markers


def layer(segment: list[Any], index: int) -> list[int]:
    return segment[index] if len(segment) > index else []


# ------------------------------------------------------------------------------ tests


def test_page_is_self_contained_with_a_strict_policy() -> None:
    page = render_html_report(handmade_report())
    data_text, _ = embedded(page)
    chrome = page.replace(data_text, "")
    # No address of any kind outside the (escaped) document text.
    assert not re.search(r"https?:|//[a-z]|url\(|@import", chrome, re.IGNORECASE)
    assert not re.search(
        r"<(link|img|iframe|object|embed|audio|video|source|base)\b", chrome, re.IGNORECASE
    )
    assert re.findall(r'\b(?:src|href|action)="([^"]*)"', chrome) == ["#query-body"]
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    rules = dict(rule.split(" ", 1) for rule in policy.group(1).split("; "))
    assert rules["default-src"] == "'none'"
    assert rules["img-src"] == "data:"
    assert "unsafe" not in policy.group(1)
    # The hashes allow exactly the page's own inline script and style.
    script = re.search(r"<script>(.*?)</script>", page, re.DOTALL)
    style = re.search(r"<style>(.*?)</style>", page, re.DOTALL)
    assert script is not None and style is not None

    def sha(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert rules["script-src"] == sha(script.group(1))
    assert rules["style-src"] == sha(style.group(1))
    assert page.count("<script") == 2 and page.count("<style") == 1


def test_document_text_is_escaped_in_the_data_block() -> None:
    page = render_html_report(handmade_report())
    data_text, data = embedded(page)
    for forbidden in ("<", ">", "&", "\u2028", "\u2029"):
        assert forbidden not in data_text
    # The markup is still there, as data, for textContent to show.
    evil = next(s for s in data["sources"] if s["id"] == "evil")
    assert EVIL in walk(evil["segments"])[0] and EVIL_WORDS in walk(evil["segments"])[0]
    assert evil["name"].startswith("</title>")
    # Markup reaches the page's HTML only through the data block: the title is escaped.
    head = page[: page.index("<body>")]
    assert "<title>Stemmatic report: Docks &amp; &lt;Memory&gt;</title>" in head
    assert "__pwned" not in page.replace(data_text, "")


def test_script_json_round_trips_and_escapes() -> None:
    value = {"t": "</script><!-- & \u2028\u2029 \\< \U0001f41f \ud800 ok"}
    text = script_json(value)
    assert not re.search("[<>&\u2028\u2029\ud800-\udfff]", text)
    assert json.loads(text) == value
    text.encode("utf-8")  # lone surrogates are escaped, so the page can be written


def test_page_with_lone_surrogates_encodes_as_utf8() -> None:
    report = handmade_report()
    odd = Document("odd", "caf\udce9 " * 30, path="odd.txt")
    report = replace(
        report,
        query=replace(report.query, title="title \udce9"),
        sources=(*report.sources, odd),
        passages=(*report.passages, Passage(0, 4, "odd", 0, 4, Kind.COPY, 0.5)),
    )
    page = render_html_report(report)
    page.encode("utf-8")
    assert "\\udce9" in embedded(page)[0]


def test_segments_rebuild_the_texts_and_carry_the_right_layers() -> None:
    report = handmade_report()
    data = to_dict(report, include_texts=True)
    view = page_data(data)
    text, pieces, markers = walk(view["query"]["segments"])
    assert text == report.query.text
    spans = {
        0: [(p["query_start"], p["query_end"]) for p in data["passages"]],
        2: [(f["start"], f["end"]) for f in data["findings"]],
        3: [(c["start"], c["end"]) for c in data["citations"]],
    }
    for start, end, segment in pieces:
        for index, layer_spans in spans.items():
            covering = {i for i, (a, b) in enumerate(layer_spans) if a <= start and end <= b}
            assert set(layer(segment, index + 1)) == covering
            # No span starts or ends inside a segment.
            assert all(not (start < a < end or start < b < end) for a, b in layer_spans)
    # Passages are listed innermost first: the nested paraphrase before the quotation.
    nested = [seg for _, _, seg in pieces if len(layer(seg, 1)) == 2]
    assert nested and all(data["passages"][seg[1][0]]["kind"] == "paraphrase" for seg in nested)
    # Markers sit where their item starts.
    for position, marker in markers:
        if "flag" in marker:
            assert data["findings"][marker["flag"]]["start"] == position
        if "pm" in marker:
            assert data["passages"][marker["pm"]]["query_start"] == position
        if "gap" in marker:
            gap = view["differences"][marker["gap"]]
            assert gap["query"] == "" and gap["type"] in ("omission",)
    assert {m["flag"] for _, m in markers if "flag" in m} == set(range(len(data["findings"])))
    assert {m["pm"] for _, m in markers if "pm" in m} == set(range(len(data["passages"])))


def test_source_segments_mark_passages_differences_and_gaps() -> None:
    report = handmade_report()
    data = to_dict(report, include_texts=True)
    view = page_data(data)
    texts = {s.id: s.text for s in report.sources}
    for source in view["sources"]:
        text, pieces, markers = walk(source["segments"])
        assert text == texts[source["id"]]
        for start, end, segment in pieces:
            for i in layer(segment, 1):
                passage = data["passages"][i]
                assert passage["source_id"] == source["id"]
                assert passage["source_start"] <= start and end <= passage["source_end"]
            for i in layer(segment, 2):
                difference = view["differences"][i]
                assert difference["source"] and difference["source"].find(text[start:end]) != -1
    jones = next(s for s in view["sources"] if s["id"] == "jones")
    _, _, markers = walk(jones["segments"])
    gaps = [view["differences"][m["gap"]]["type"] for _, m in markers if "gap" in m]
    assert sorted(gaps) == ["insertion", "typography"]


def test_only_used_sources_are_carried() -> None:
    page = render_html_report(handmade_report())
    _, data = embedded(page)
    assert [s["id"] for s in data["sources"]] == ["smith", "evil", "jones"]  # most reused first
    assert "UNUSED-SOURCE-TEXT" not in page
    assert data["sources_searched"] == 4


def test_findings_get_labels_passages_and_sources() -> None:
    _, data = embedded(render_html_report(handmade_report()))
    by_type = {f["type"]: f for f in data["findings"]}
    assert by_type["unquoted-copy"]["label"] == "Unquoted copy"
    assert by_type["odd_new-type"]["label"] == "Odd new type"
    assert by_type["citation-not-in-corpus"]["source"] is None
    assert by_type["citation-not-in-corpus"]["passage"] is None
    # A finding without a source span is tied to the passage it is about.
    uncited = by_type["uncited-passage"]
    assert uncited["source_start"] is None
    assert data["passages"][uncited["passage"]]["kind"] == "copy"
    assert data["sources"][uncited["source"]]["id"] == "smith"


def test_finding_labels() -> None:
    assert finding_label("misquote") == "Misquote"
    assert finding_label("citation-not-in-corpus") == "Citation not in the corpus"
    assert finding_label("citation_not_in_corpus") == "Citation not in the corpus"
    assert finding_label("shared-error") == "Shared error"
    assert finding_label("drift") == "Drifted passage"
    assert finding_label("brand_new-kind") == "Brand new kind"
    assert finding_label("") == "Finding"


def test_soft_breaks_only_in_hard_wrapped_paragraphs() -> None:
    wrapped = filler(3, "test")
    breaks = soft_breaks(wrapped)
    assert breaks and all(wrapped[b] == "\n" for b in breaks)
    # Paragraph breaks stay: neither newline of a blank line is soft.
    for b in breaks:
        assert wrapped[b - 1] != "\n" and wrapped[b + 1] != "\n"
    # One paragraph per line (extracted HTML): nothing is soft.
    assert (
        soft_breaks("A long paragraph of text. " * 10 + "\n" + "Another one. " * 20 + "\n" * 3)
        == []
    )
    # List items and headings keep their breaks.
    listing = (
        wrapped + "- an item that is long enough to look like a wrapped line of text here\n- next\n"
    )
    assert len(soft_breaks(listing)) == len(breaks)
    assert soft_breaks("short\nlines\nonly\nhere\n") == []


def test_soft_breaks_split_segment_text() -> None:
    report = handmade_report()
    view = page_data(to_dict(report, include_texts=True))
    lists = [s for s in view["query"]["segments"] if isinstance(s, list) and isinstance(s[0], list)]
    assert lists, "the hard-wrapped filler must give segments with soft breaks"
    text, _, _ = walk(view["query"]["segments"])
    assert text == report.query.text


def test_layout_blocks_end_at_hard_line_breaks() -> None:
    report = handmade_report()
    view = page_data(to_dict(report, include_texts=True))
    texts = [report.query.text] + [
        next(s.text for s in report.sources if s.id == source["id"]) for source in view["sources"]
    ]
    segment_lists = [view["query"]["segments"]] + [s["segments"] for s in view["sources"]]
    blocks = 0
    for text, segments in zip(texts, segment_lists):
        soft = set(soft_breaks(text))
        _, _, markers = walk(segments)
        for position, marker in markers:
            if "br" in marker:
                blocks += 1
                # A block boundary breaks the line: only where the text breaks it too.
                assert text[position - 1] == "\n" and position - 1 not in soft
    assert blocks >= 3


def test_report_without_texts_shows_the_reported_spans() -> None:
    report = handmade_report()
    data = load_json(render_json(report))  # no texts, as `stemmatic render` reads it
    view = page_data(data)
    assert view["query"]["complete"] is False
    text, _, _ = walk(view["query"]["segments"])
    assert len(text) == len(report.query.text)
    for passage in data["passages"]:
        start, end = passage["query_start"], passage["query_end"]
        assert text[start:end] == report.query.text[start:end]
    assert any("skip" in s for s in view["query"]["segments"] if isinstance(s, dict))
    smith = next(s for s in view["sources"] if s["id"] == "smith")
    assert smith["complete"] is False
    assert "Paragraph 3 of Smith" not in json.dumps(smith)
    render_html(data)  # renders without error


def test_render_html_report_equals_render_html_of_the_dict() -> None:
    report = handmade_report()
    assert render_html_report(report) == render_html(to_dict(report, include_texts=True))
    reordered = replace(report, passages=report.passages[::-1], findings=report.findings[::-1])
    assert render_html_report(reordered) == render_html_report(report)


def test_assets_are_declared_package_data() -> None:
    # The page inlines these files at render time: a wheel without them cannot render.
    root = Path(__file__).resolve().parents[1]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["stemmatic"]
    package = root / "src" / "stemmatic"
    assets = sorted((package / "report" / "assets").iterdir())
    assert {a.name for a in assets} >= {"report.css", "report.js"}
    for asset in assets:
        name = asset.relative_to(package).as_posix()
        assert any(fnmatch(name, pattern) for pattern in patterns), name


def test_empty_report_renders() -> None:
    query = Document("q", "Nothing borrowed here.\n", path="q.txt")
    page = render_html_report(Report(query=query, sources=(), passages=()))
    _, data = embedded(page)
    assert data["sources"] == [] and data["passages"] == [] and data["findings"] == []
    assert walk(data["query"]["segments"])[0] == query.text


@st.composite
def reports(draw: st.DrawFn) -> Report:
    # Any characters, astral ones included (st.text leaves out lone surrogates).
    query = draw(st.text(min_size=1, max_size=60))
    source = draw(st.text(min_size=1, max_size=40))

    def span(length: int) -> tuple[int, int]:
        a = draw(st.integers(0, length))
        b = draw(st.integers(a, length))
        return a, b

    passages = []
    for _ in range(draw(st.integers(0, 5))):
        qs, qe = span(len(query))
        ss, se = span(len(source))
        differences = []
        for _ in range(draw(st.integers(0, 2))):
            dqs, dqe = span(len(query))
            dss, dse = span(len(source))
            differences.append(
                Difference(
                    query[dqs:dqe],
                    source[dss:dse],
                    draw(st.sampled_from(DiffType)),
                    dqs,
                    dqe,
                    dss,
                    dse,
                )
            )
        passages.append(
            Passage(qs, qe, "s", ss, se, draw(st.sampled_from(Kind)), 0.5, tuple(differences))
        )
    findings = []
    for _ in range(draw(st.integers(0, 3))):
        fs, fe = span(len(query))
        findings.append(Finding("drift", fs, fe, "m", "s" if draw(st.booleans()) else None))
    return Report(
        query=Document("q", query),
        sources=(Document("s", source),),
        passages=tuple(passages),
        findings=tuple(findings),
    )


@settings(max_examples=150, deadline=None)
@given(reports())
def test_segments_partition_any_text(report: Report) -> None:
    data = to_dict(report, include_texts=True)
    view = page_data(data)
    text, pieces, markers = walk(view["query"]["segments"])
    assert text == report.query.text
    for start, end, segment in pieces:
        assert start < end or segment[0] == ""
        covering = {
            i
            for i, p in enumerate(data["passages"])
            if p["query_start"] <= start
            and end <= p["query_end"]
            and p["query_end"] > p["query_start"]
        }
        assert set(layer(segment, 1)) == covering
    assert len([m for _, m in markers if "pm" in m]) == len(data["passages"])
    assert len([m for _, m in markers if "flag" in m]) == len(data["findings"])
    if view["sources"]:
        assert walk(view["sources"][0]["segments"])[0] == report.sources[0].text
