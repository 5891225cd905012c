"""The shipped example, checked against its answer key (examples/expected.json, EXPECTED.md).

A case the current code gets wrong is still asserted, and marked ``xfail(strict=True)``
with the gap in its reason, so the gap stays visible and the test flips when it is fixed.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from stemmatic.citations import sentences
from stemmatic.pipeline import trace
from stemmatic.types import Passage, Report

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
KEY: list[dict[str, Any]] = json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))
BY_CASE = {c["case"]: c for c in KEY}

# Cases the current code gets wrong, and why.  Remove an entry when the gap is fixed
# (strict xfail makes the test fail as soon as the case passes).
GAPS: dict[str, str] = {}

OVERLAP = 0.5


@pytest.fixture(scope="module")
def report() -> Report:
    return trace(EXAMPLES / "essay.md", sources=[EXAMPLES / "sources"])


def _span(text: str, excerpt: str) -> tuple[int, int]:
    start = text.find(excerpt)
    assert start >= 0, f"excerpt not in the essay: {excerpt[:60]!r}"
    assert text.find(excerpt, start + 1) < 0, f"excerpt occurs twice: {excerpt[:60]!r}"
    return start, start + len(excerpt)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _covered(span: tuple[int, int], pieces: list[tuple[int, int]]) -> int:
    total, reach = 0, span[0]
    for a, b in sorted((max(a, span[0]), min(b, span[1])) for a, b in pieces):
        a = max(a, reach)
        if b > a:
            total, reach = total + b - a, b
    return total


def _source_id(path: str | None) -> str | None:
    return None if path is None else Path(path).name


def _passages(report: Report, span: tuple[int, int]) -> list[Passage]:
    return [p for p in report.passages if _overlap((p.query_start, p.query_end), span)]


def _finding_types(report: Report, span: tuple[int, int]) -> set[str]:
    """Findings about the words of ``span``: those lying half inside it or covering half
    of it, and a citation-not-in-corpus in the sentence that holds it (the finding sits
    on the citation, which follows or introduces the quoted words)."""
    text = report.query.text
    around = [s for s in sentences(text) if _overlap(s, span)]
    types = set()
    for f in report.findings:
        own = (f.start, f.end)
        inside = _overlap(own, span)
        about_words = inside > 0 and (
            inside >= OVERLAP * (f.end - f.start) or inside >= OVERLAP * (span[1] - span[0])
        )
        on_citation = f.type == "citation-not-in-corpus" and any(_overlap(own, s) for s in around)
        if about_words or on_citation:
            types.add(f.type)
    return types


def _case_param(case: dict[str, Any]) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=GAPS[case["case"]])] if case["case"] in GAPS else []
    return pytest.param(case["case"], id=case["case"], marks=marks)


@pytest.mark.parametrize("case_id", [_case_param(c) for c in KEY])
def test_case_matches_answer_key(report: Report, case_id: str) -> None:
    case = BY_CASE[case_id]
    text = report.query.text
    span = _span(text, case["query_excerpt"])
    source = _source_id(case["source"])

    if case["kind"] == "quotation":
        quoted = [q for q in report.quotations if _overlap((q.start, q.end), span) >= OVERLAP * (span[1] - span[0])]
        assert quoted, "the quotation is not detected"

    passages = _passages(report, span)
    if case["attribution"] is None:
        # Nothing to attribute: no source holds these words.
        assert passages == [], [text[p.query_start : p.query_end] for p in passages]
    else:
        mine = [p for p in passages if p.source_id == source]
        assert mine, f"no passage from {source}"
        assert _covered(span, [(p.query_start, p.query_end) for p in mine]) >= OVERLAP * (span[1] - span[0])
        # Neighbouring passages may touch the excerpt; those mostly inside it must agree.
        for p in mine:
            if _overlap((p.query_start, p.query_end), span) < OVERLAP * (p.query_end - p.query_start):
                continue
            assert p.kind.value == case["kind"], text[p.query_start : p.query_end]
            assert (p.fidelity.value if p.fidelity else None) == case["fidelity"]
            assert p.attribution is not None and p.attribution.value == case["attribution"]
        assert all(p.source_id == source for p in passages if
                   _overlap((p.query_start, p.query_end), span) >= OVERLAP * (p.query_end - p.query_start))

    assert _finding_types(report, span) == set(case["findings"])


# The parenthetical citations of EXPECTED.md's section n, in order.
PARENTHETICALS = [
    ("(Whitfield 2004, p. 3)", "whitfield-2004.txt"),
    ("(Whitfield 2004, p. 5)", "whitfield-2004.txt"),
    ("(Whitfield 2004, p. 4)", "whitfield-2004.txt"),
    ("(Whitfield 2004, p. 6)", "whitfield-2004.txt"),
    ("(Okafor 2011)", "okafor-2011.md"),
    ("(Okafor\n2011)", "okafor-2011.md"),
    ("(Okafor 2011)", "okafor-2011.md"),
    ("(Lindqvist 2019)", "lindqvist-2019.html"),
    ("(Lindqvist 2019)", "lindqvist-2019.html"),
    ("(Okafor 2011)", "okafor-2011.md"),
    ("(Harrington 1998)", None),
    ("(Whitfield\n2004, p. 9)", "whitfield-2004.txt"),
]


def test_parenthetical_citations_resolve(report: Report) -> None:
    found = [(c.text, c.source_id) for c in report.citations if c.style == "parenthetical"]
    assert found == PARENTHETICALS
    statuses = [c.status.value for c in report.citations if c.style == "parenthetical"]
    assert statuses == ["not_in_corpus" if s is None else "resolved" for _, s in PARENTHETICALS]


def test_reference_list_entries_resolve(report: Report) -> None:
    entries = {c.text.split(",")[0]: c.source_id for c in report.citations if c.style == "reference"}
    assert entries == {
        "Harrington": None,
        "Lindqvist": "lindqvist-2019.html",
        "Okafor": "okafor-2011.md",
        "Whitfield": "whitfield-2004.txt",
    }


def test_reader_comments_and_page_furniture_are_not_matched(report: Report) -> None:
    text = report.query.text
    comment = _span(text, "The old men at the Tilbury gate used to\nsay that the cranes arrived on a Tuesday and the pub closed on the Friday")
    assert not _passages(report, comment)
    assert not [f for f in report.findings if _overlap((f.start, f.end), comment)]
    page = next(s for s in report.sources if s.id == "lindqvist-2019.html")
    # The main text is the extracted text less the spans extraction marked as excluded.
    main_text, pos = [], 0
    for a, b in sorted(page.excluded):
        main_text.append(page.text[pos:a])
        pos = max(pos, b)
    main_text.append(page.text[pos:])
    main = "".join(main_text)
    assert "waterfront used to look like" in main
    for furniture in ("Tilbury gate", "About & Contact", "Subscribe", "All rights reserved"):
        assert furniture not in main, furniture


def test_unrelated_source_gives_nothing(report: Report) -> None:
    assert "unrelated-notes.txt" in {s.id for s in report.sources}
    assert not [p for p in report.passages if p.source_id == "unrelated-notes.txt"]
    assert not [f for f in report.findings if f.source_id == "unrelated-notes.txt"]


def test_exactly_ten_quotations_in_order(report: Report) -> None:
    text = report.query.text
    assert text.count("‘") == 0 and sum(text.count(m) for m in "“”") == 20
    order = ["a", "b", "c1", "c2", "d", "m", "o", "e", "i", "j"]
    spans = [_span(text, BY_CASE[c]["query_excerpt"]) for c in order]
    got = [(q.start, q.end) for q in report.quotations]
    assert len(got) == 10
    for case_id, want, have in zip(order, spans, got):
        assert _overlap(want, have) >= OVERLAP * (want[1] - want[0]), case_id


def test_apostrophes_are_not_quote_marks(report: Report) -> None:
    text = report.query.text
    marks = set()
    for q in report.quotations:
        marks.add(q.start - len(q.open_mark))
        marks.add(q.end)
    apostrophes = {m.start() for m in re.finditer("’", text)}
    assert len(apostrophes) >= 10  # don’t, workers’, city’s, man’s, foreman’s, it’s, ...
    assert not marks & apostrophes
    # The possessive plural right before a word is the hardest case: it must not close.
    workers = _span(text, "workers’\ninsecurity")[0] + len("workers")
    assert workers in apostrophes and workers not in marks


def test_original_prose_is_not_reported(report: Report) -> None:
    """Every passage lies in a case of the key: short incidental overlaps are not passages."""
    text = report.query.text
    spans = [_span(text, c["query_excerpt"]) for c in KEY]
    for p in report.passages:
        own = (p.query_start, p.query_end)
        assert any(_overlap(own, s) >= OVERLAP * (own[1] - own[0]) for s in spans), text[own[0] : own[1]]


def test_rare_names_in_correct_quotations_are_not_shared_errors(report: Report) -> None:
    text = report.query.text
    errors = [text[f.start : f.end] for f in report.findings if f.type == "shared-error"]
    assert "Maasvlakte" not in errors
    assert errors == ["quayward"]


def test_finding_totals(report: Report) -> None:
    # EXPECTED.md's totals: unquoted-copy f, k, l and uncited-passage g, k, l, where case
    # l may give one of each per reordered sentence.
    counts = Counter(f.type for f in report.findings)
    assert counts.pop("uncited-passage", 0) in (3, 4)
    assert counts.pop("unquoted-copy", 0) in (3, 4)
    assert dict(counts) == {
        "misquote": 1,
        "miscited": 1,
        "drift": 1,
        "citation-not-in-corpus": 1,
        "quotation-not-found": 1,
        "shared-error": 1,
    }


def _source_span(report: Report, source_id: str, excerpt: str) -> tuple[int, int]:
    """The excerpt's span in the source's extracted text (white space may differ from the
    file: HTML is re-flowed by extraction)."""
    doc = next(d for d in report.sources if d.id == source_id)
    pattern = r"\s+".join(re.escape(word) for word in excerpt.split())
    found = list(re.finditer(pattern, doc.text))
    assert len(found) == 1, f"source excerpt found {len(found)} times: {excerpt[:60]!r}"
    return found[0].span()


@pytest.mark.parametrize("case_id", [c["case"] for c in KEY if c["source_excerpt"]])
def test_passages_point_at_the_source_words_of_the_key(report: Report, case_id: str) -> None:
    # A passage must point at the words it was taken from, not at a much larger stretch
    # of the source that merely contains them (a "summary of the whole source").
    case = BY_CASE[case_id]
    span = _span(report.query.text, case["query_excerpt"])
    source = _source_id(case["source"])
    expected = _source_span(report, source, case["source_excerpt"])
    mine = [
        p for p in _passages(report, span)
        if p.source_id == source
        and _overlap((p.query_start, p.query_end), span) >= OVERLAP * (p.query_end - p.query_start)
    ]
    assert mine
    for p in mine:
        inside = _overlap((p.source_start, p.source_end), expected)
        assert inside >= OVERLAP * (p.source_end - p.source_start), (
            case_id, p.source_start, p.source_end, expected,
        )


def test_drift_names_the_changed_facts(report: Report) -> None:
    # Case h: the date, the number and the place changed; the negation did not.
    (drift,) = [f for f in report.findings if f.type == "drift"]
    assert "1913 → 1931" in drift.message and "18,000 → 81,000" in drift.message
    assert "Locust → Fells" in drift.message
    assert "negation" not in drift.message
