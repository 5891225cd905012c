"""Quotations, citations and attribution checked against sources, case by case."""

from __future__ import annotations

from stemmatic.pipeline import trace
from stemmatic.types import Attribution, DiffType, Document, Fidelity, Kind

SOURCE = Document(
    id="whitfield-2004.txt",
    title="The Labour of Cities",
    author="Margaret Whitfield",
    date="2004",
    text=(
        "The Labour of Cities\n\n"
        "The dock was never simply a workplace; it was the city's clock, its gossip and its "
        "school. In 1911, some 42,000 dock workers in Liverpool stopped work for nine weeks, "
        "and the organisational lessons of that summer shaped a generation of labour leaders. "
        "Each morning the men drifted quayward before dawn, hoping to catch the foreman's eye. "
        "Strike committees met in chapels and public houses rather than in any union office, "
        "and the neighbourhood kept the strike alive long after the leaders had tired of it."
    ),
)
OTHER = Document(
    id="okafor-2011.md",
    title="Cities That Remember",
    author="Chidi Okafor",
    date="2011",
    text=(
        "# Cities That Remember\n\n"
        "Port cities often remember their migrants through the food they left behind long "
        "after they have forgotten the names of the people who cooked it. Every arrival hall "
        "was also a place of departure for the stories people would later tell."
    ),
)


def _trace(essay: str):
    return trace(Document(id="essay", text=essay), sources=[SOURCE, OTHER])


def _one(report, kind: Kind):
    found = [p for p in report.passages if p.kind is kind]
    assert len(found) == 1, report.passages
    return found[0]


def _types(report) -> list[str]:
    return sorted(f.type for f in report.findings)


def test_exact_quotation_with_curly_marks_is_cited_and_exact() -> None:
    essay = (
        "As Whitfield puts it, “The dock was never simply a workplace; it was the city’s clock, "
        "its gossip and its school” (Whitfield 2004, p. 3)."
    )
    report = _trace(essay)
    quote = _one(report, Kind.QUOTATION)
    assert essay[quote.query_start : quote.query_end].startswith("The dock was never")
    assert SOURCE.text[quote.source_start : quote.source_end].startswith("The dock was never")
    assert quote.fidelity is Fidelity.EXACT
    assert quote.attribution is Attribution.CITED
    assert report.findings == ()
    assert [c.status.value for c in report.citations] == ["resolved", "resolved"]


def test_spelling_variants_make_a_variant_not_a_misquote() -> None:
    essay = (
        "Whitfield (2004) argues that “the organizational lessons of that summer shaped a "
        "generation of labor leaders.”"
    )
    quote = _one(_trace(essay), Kind.QUOTATION)
    assert quote.fidelity is Fidelity.VARIANT
    assert {d.type for d in quote.differences} == {DiffType.SPELLING}
    assert {(d.query, d.source) for d in quote.differences} == {
        ("organizational", "organisational"), ("labor", "labour")
    }


def test_ellipsis_and_brackets_are_editorial() -> None:
    essay = (
        "She writes that “[s]trike committees met in chapels … rather than in any union "
        "office” (Whitfield 2004)."
    )
    quote = _one(_trace(essay), Kind.QUOTATION)
    assert quote.fidelity is Fidelity.VARIANT, quote.differences
    assert DiffType.EDITORIAL in {d.type for d in quote.differences}


def test_changed_and_dropped_words_are_a_misquote_that_names_them() -> None:
    essay = (
        "Okafor observes that “Port cities rarely remember their migrants through the food "
        "they left behind after they have forgotten the names of the people who cooked it” "
        "(Okafor 2011)."
    )
    report = _trace(essay)
    quote = _one(report, Kind.QUOTATION)
    assert quote.fidelity is Fidelity.ALTERED
    changes = {(d.type, d.query, d.source) for d in quote.differences}
    assert (DiffType.WORD, "rarely", "often") in changes
    assert (DiffType.OMISSION, "", "long") in changes
    assert "misquote" in _types(report)
    misquote = next(f for f in report.findings if f.type == "misquote")
    assert "rarely" in misquote.message and "often" in misquote.message


def test_quotation_cited_to_the_wrong_source_is_miscited() -> None:
    essay = (
        "As one historian put it, “Each morning the men drifted quayward before dawn, hoping "
        "to catch the foreman’s eye” (Okafor 2011)."
    )
    report = _trace(essay)
    quote = _one(report, Kind.QUOTATION)
    assert quote.source_id == SOURCE.id
    assert quote.attribution is Attribution.MISCITED
    assert "miscited" in _types(report)


def test_unquoted_uncited_copy_and_shared_error() -> None:
    essay = (
        "Work began early. Each morning the men drifted quayward before dawn, hoping to catch "
        "the foreman's eye. Nobody wrote that down."
    )
    report = _trace(essay)
    copy = _one(report, Kind.COPY)
    assert copy.attribution is Attribution.UNCITED
    assert {"unquoted-copy", "uncited-passage", "shared-error"} <= set(_types(report))
    shared = next(f for f in report.findings if f.type == "shared-error")
    assert essay[shared.start : shared.end] == "quayward"


def test_citation_of_a_missing_work_is_not_in_corpus() -> None:
    essay = "Harrington insists that “the ledger is the true history” (Harrington 1998)."
    report = _trace(essay)
    assert report.citations and {c.status.value for c in report.citations} == {"not_in_corpus"}
    assert "citation-not-in-corpus" in _types(report)
    assert "quotation-not-found" not in _types(report)


def test_invented_quotation_attributed_to_a_corpus_source_is_not_found() -> None:
    essay = (
        "Whitfield claims that “every crane that rose over the river was a monument to a "
        "trade already dying” (Whitfield 2004)."
    )
    report = _trace(essay)
    assert "quotation-not-found" in _types(report)
    assert not [p for p in report.passages if p.kind is Kind.QUOTATION]


def test_drift_in_numbers_is_flagged() -> None:
    essay = (
        "In 1912, some 24,000 dock workers in Liverpool stopped work for nine weeks, and the "
        "organizational lessons of that summer shaped a generation of labor leaders."
    )
    report = _trace(essay)
    drift = [f for f in report.findings if f.type == "drift"]
    assert drift, report.findings
    assert "1911" in drift[0].message and "1912" in drift[0].message


def test_unbalanced_quote_does_not_swallow_the_document() -> None:
    filler = "The weather in the harbour was unremarkable that year. " * 60
    essay = (
        "He said “this never closes. " + filler
        + "Each morning the men drifted quayward before dawn, hoping to catch the foreman’s eye."
    )
    report = _trace(essay)
    assert all(p.kind is not Kind.QUOTATION for p in report.passages)
    assert any(p.kind is Kind.COPY for p in report.passages)
    assert any("unbalanced" in w for w in report.warnings)
