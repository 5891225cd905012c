"""Quotations, citations and attribution checked against sources, case by case."""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stemmatic import classify as stage
from stemmatic.align.diff import align_words, differences
from stemmatic.align.units import prepare
from stemmatic.pipeline import trace
from stemmatic.settings import Settings
from stemmatic.types import Attribution, Difference, DiffType, Document, Fidelity, Kind

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
    assert report.citations and {c.status.value for c in report.citations} == {"resolved"}


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


def _not_found(report):
    found = [f for f in report.findings if f.type == "quotation-not-found"]
    assert len(found) == 1, report.findings
    return found[0]


def test_garbled_quotation_points_at_its_closest_source_passage() -> None:
    # Fewer than half of the words survive, so it is no misquote, but what does survive
    # (strike committees, chapels, union) places it in Whitfield.
    essay = (
        "Whitfield recalls that “strike committees gathered in chapels and taverns, never "
        "in a union hall, while the whole district sustained the walkout for months” "
        "(Whitfield 2004)."
    )
    finding = _not_found(_trace(essay))
    assert finding.source_id == SOURCE.id
    assert dict(finding.evidence)["similarity"] >= stage.CLOSEST_MIN
    assert "Strike committees met in chapels" in SOURCE.text[finding.source_start : finding.source_end]


def test_invented_quotation_sharing_only_common_words_has_no_closest_passage() -> None:
    # "the", "of", "a", "was" occur in any English source: no passage is close to this.
    essay = (
        "As the saying goes, “a harbour of the mind was a refuge for the weary and the "
        "restless alike”, and nobody could say where it came from."
    )
    finding = _not_found(_trace(essay))
    assert finding.source_id is None and finding.evidence == ()
    assert finding.message == "quotation found in no source"


_WHO = Document(
    id="who-2023", title="Global Tuberculosis Report 2023", author="World Health Organization",
    date="2023",
    text=(
        "In 2022, 7.5 million people were newly diagnosed with tuberculosis, the highest "
        "number since WHO began global TB monitoring in 1995. An estimated 1.3 million "
        "people died from tuberculosis in 2022, including 167,000 people with HIV. "
        "Tuberculosis was the world's second leading cause of death from a single "
        "infectious agent, after COVID-19. Treatment success rates remain high: 88% for "
        "people treated for drug-susceptible tuberculosis and 63% for multidrug-resistant "
        "tuberculosis."
    ),
)
def test_a_word_added_inside_a_quotation_is_an_addition_not_two_changed_words() -> None:
    # "very high" against "high: 88%" is two replaced words at the same edit cost as one
    # added word; the quotation keeps "high", and the source's "88" is not quoted at all.
    source = _WHO
    essay = "The WHO reports that “treatment success rates remain very high” [1]."
    report = trace(Document(id="essay", text=essay), sources=[source])
    quoted = _one(report, Kind.QUOTATION)
    assert quoted.fidelity is Fidelity.ALTERED
    assert [(d.type, d.query, d.source) for d in quoted.differences
            if d.type is not DiffType.CASE] == [(DiffType.INSERTION, "very", "")]
    assert source.text[quoted.source_start : quoted.source_end] == (
        "Treatment success rates remain high"
    )


def test_prefer_matches_splits_a_replaced_run_on_its_shared_words() -> None:
    from stemmatic.align.diff import WordAlignment, prefer_matches

    q = np.array([1, 2, 3, 4, 5, 6], dtype=np.uint64)  # ... "very high"
    s = np.array([1, 2, 3, 4, 6, 7], dtype=np.uint64)  # ... "high 88"
    found = prefer_matches(
        WordAlignment((("equal", 0, 4, 0, 4), ("replace", 4, 6, 4, 6)), 4), q, s
    )
    assert found.opcodes == (
        ("equal", 0, 4, 0, 4), ("delete", 4, 5, 4, 4), ("equal", 5, 6, 4, 5),
        ("insert", 6, 6, 5, 6),
    )
    assert found.equal == 5
    # A run sharing nothing stays one replaced run, and words changed on both sides
    # between two matches are a replaced run again.
    q2 = np.array([8, 2, 9], dtype=np.uint64)
    s2 = np.array([7, 2, 5], dtype=np.uint64)
    split = prefer_matches(WordAlignment((("replace", 0, 3, 0, 3),), 0), q2, s2)
    assert split.opcodes == (
        ("replace", 0, 1, 0, 1), ("equal", 1, 2, 1, 2), ("replace", 2, 3, 2, 3),
    )
    kept = WordAlignment((("replace", 0, 1, 0, 1),), 0)
    assert prefer_matches(kept, q2, s2) is kept


_ANSWER = (
    "Tuberculosis remains a major global health problem. An estimated {} million people "
    "died from the disease in 2022 [1].\n\n## Sources\n\n"
    "[1] World Health Organization. Global Tuberculosis Report 2023.\n"
)


def test_a_cited_claim_too_short_for_the_aligner_is_checked_against_its_source() -> None:
    # The sentence shares five content words with one sentence of the cited report, too
    # few to stand out for the aligner; the citation says where to look.
    from stemmatic.align import align

    essay = _ANSWER.format("1.6")
    assert align(Document(id="essay", text=essay), _WHO) == []
    report = trace(Document(id="essay", text=essay), sources=[_WHO])
    claim = _one(report, Kind.PARAPHRASE)
    assert claim.method == "citation" and claim.attribution is Attribution.CITED
    assert essay[claim.query_start : claim.query_end] == (
        "An estimated 1.6 million people died from the disease in 2022"
    )
    assert _WHO.text[claim.source_start : claim.source_end].startswith("An estimated 1.3")
    (drift,) = [f for f in report.findings if f.type == "drift"]
    assert "1.3 million → 1.6 million" in drift.message
    # An organization is named in full, not by its last word.
    assert drift.message.startswith("differs from World Health Organization 2023 in facts")


_CITED_SHORT = "Treatment success rates {} [1].\n\n## Sources\n\n[1] {}.\n"
_WHO_REF = "World Health Organization. Global Tuberculosis Report 2023"


def _short(quoted: str, cited: str = _WHO_REF):
    essay = _CITED_SHORT.format(quoted, cited)
    return essay, trace(Document(id="essay", text=essay), sources=[_WHO])


@pytest.mark.parametrize(
    ("quoted", "says"),
    [
        ("“remain very high”", "“very” added"),
        ("“remain extremely high”", "“extremely” added"),
        ("“stay high”", None),  # one word of two: too little to place it
        ("“remain low”", None),
        ("“high: 88% for people”", None),  # whole: found by the first check
        ("“rates remain high”", None),  # whole: found by the first check
    ],
)
def test_a_short_cited_quotation_is_checked_in_its_source_with_a_word_changed(
    quoted: str, says: str | None
) -> None:
    # Under five words, a quotation is otherwise found only whole (a scare quote is no
    # quotation of anything); the citation says it quotes the report.
    essay, report = _short(quoted)
    misquotes = [f for f in report.findings if f.type == "misquote"]
    if says is None:
        assert misquotes == [], misquotes
        return
    (misquote,) = misquotes
    assert says in misquote.message
    passage = next(p for p in report.passages if p.kind is Kind.QUOTATION)
    assert passage.fidelity is Fidelity.ALTERED and passage.attribution is Attribution.CITED
    assert essay[passage.query_start : passage.query_end] == quoted.strip("“”")
    assert _WHO.text[passage.source_start : passage.source_end] == "remain high"


def test_a_short_quotation_is_not_checked_without_a_citation_to_a_corpus_source() -> None:
    essay = "Treatment success rates “remain very high”, it is said.\n"
    report = trace(Document(id="essay", text=essay), sources=[_WHO])
    assert report.findings == () and report.passages == ()
    # Cited to a work the corpus does not hold: that is the finding, and nothing more.
    _, report = _short("“remain very high”", cited="Stop TB Partnership. Funding Review 2021")
    assert _types(report) == ["citation-not-in-corpus"]


def test_a_short_cited_quotation_with_a_word_dropped_between_two_is_a_misquote() -> None:
    _, report = _short("“success remain high”")
    (misquote,) = [f for f in report.findings if f.type == "misquote"]
    assert "“rates” dropped" in misquote.message


def test_a_short_cited_quotation_with_an_ellipsis_may_leave_out_several_words() -> None:
    # Two words left out where one stands: only an ellipsis allows that.
    for quoted, fidelity in (("people … tuberculosis", Fidelity.VARIANT), ("people tuberculosis", None)):
        essay = f"In 2022 1.3 million “{quoted}” deaths were counted [1].\n\n[1] {_WHO_REF}.\n"
        report = trace(Document(id="essay", text=essay), sources=[_WHO])
        assert [f for f in report.findings if f.type == "misquote"] == []
        found = [p for p in report.passages if p.kind is Kind.QUOTATION]
        if fidelity is None:
            assert found == []
            continue
        (quotation,) = found
        assert quotation.fidelity is fidelity
        assert _WHO.text[quotation.source_start : quotation.source_end] == (
            "people died from tuberculosis"
        )
        (omitted,) = quotation.differences
        assert (omitted.type, omitted.source) == (DiffType.EDITORIAL, "died from")


def test_short_cited_quoted_words_far_apart_in_the_source_are_no_quotation() -> None:
    # Both words are in the report, but not side by side: a scare quote.
    _, report = _short("“tuberculosis success”")
    assert [f for f in report.findings if f.type == "misquote"] == []
    assert not any(p.kind is Kind.QUOTATION for p in report.passages)


# The report's summary: sentences the answer below rewords one after the other.
_WHO_SUMMARY = replace(_WHO, text=(
    "Tuberculosis remains one of the world's deadliest infectious killers. An estimated "
    "1.3 million people died from the disease in 2022, including people with HIV. "
    "Treatment success rates remain high: 88% for people treated for drug-susceptible "
    "TB. Funding for TB prevention rose by 15% over the decade but remains far below "
    "the global target."
))


def test_the_pieces_of_a_passage_cut_around_a_quotation_leave_out_its_citation() -> None:
    # The aligner finds the two sentences as one paraphrase; the quotation cuts it.  The
    # copied piece before it is placed on the source words it copies, not on the rest of
    # the passage's source; the piece after it begins after its citation mark.
    answer = (
        "An estimated 1.6 million people died from the disease in 2022 [1]. Treatment "
        "success rates “remain high” [1], and funding for TB prevention rose by 12% over the "
        "decade but remains far below the global target [1].\n\n## Sources\n\n"
        "[1] World Health Organization. Global Tuberculosis Report 2023.\n"
    )
    report = trace(Document(id="answer", text=answer), sources=[_WHO_SUMMARY])
    pieces = sorted(
        (p for p in report.passages if p.kind is not Kind.QUOTATION), key=lambda p: p.query_start
    )
    assert len(pieces) == 2, pieces
    before, after = pieces
    assert answer[before.query_start : before.query_end].startswith("An estimated 1.6")
    assert _WHO_SUMMARY.text[before.source_start : before.source_end].endswith(
        "Treatment success rates"
    )
    assert answer[after.query_start : after.query_end].startswith("and funding")
    assert all(p.attribution is Attribution.CITED for p in pieces)


@pytest.mark.parametrize(
    ("author", "label"),
    [
        ("Smith, Jane", "Smith"),
        ("Maarten de Vries", "de Vries"),
        ("Jane Smith and Bob Lee", "Smith"),
        ("World Health Organization", "World Health Organization"),
        ("U.S. Department of Energy", "U.S. Department of Energy"),
        ("Stop TB Partnership", "Stop TB Partnership"),
        ("Bank, Anna", "Bank"),  # a person whose surname is an organization word
    ],
)
def test_a_source_is_named_by_its_first_authors_surname_or_its_organization(
    author: str, label: str
) -> None:
    assert stage._surname(author) == label


def test_a_quotation_found_word_for_word_is_exact_beside_a_heading_with_its_words() -> None:
    # The source repeats the quotation's first words in capitals just before it.  An
    # alignment of the window around it matched them there and reported the words
    # themselves as dropped: a misquote of an exact quotation.
    source = Document(id="hughes", author="Ann Smith", date="2004", title="Satellites", text=(
        "HUGHES ELECTRONICS CORPORATION\n"
        "Hughes Electronics Corporation is a leading provider of digital television "
        "entertainment, broadband satellite networks and services, and global video and "
        "data broadcasting. It was founded long ago.\n"
    ))
    query = Document(id="essay", text=(
        "The company described itself plainly. As Smith (2004) writes, “Hughes Electronics "
        "Corporation is a leading provider of digital television entertainment, broadband "
        "satellite networks and services”.\n"
    ))
    report = trace(query, sources=[source])
    quoted = _one(report, Kind.QUOTATION)
    assert quoted.fidelity is Fidelity.EXACT and quoted.differences == ()
    assert source.text[quoted.source_start : quoted.source_end].startswith("Hughes Electronics")
    assert quoted.attribution is Attribution.CITED
    assert report.findings == ()


@pytest.mark.parametrize(
    ("query", "source", "says"),
    [
        ("cost $4 each", "cost $5 each", "$5 → $4"),
        ("rose by 12% in", "rose by 15% in", "15% → 12%"),
        ("some 7 Km of track", "some 9 km of track", "9 Km → 7 Km"),
        ("about 2 billion people", "about 3 billion people", "3 billion → 2 billion"),
        # Different units, or none, are not named: the words around say what they are.
        ("ran 5 metres", "ran 6 miles", "6 → 5"),
        ("in 1913 the strike", "in 1931 the strike", "1931 → 1913"),
        ("cost €4 each", "cost $5 each", "5 → 4"),
        ("12 percentage points", "15 percentage points", "15 → 12"),
    ],
)
def test_a_changed_number_is_named_with_its_unit(query: str, source: str, says: str) -> None:
    from stemmatic.classify import _unit

    # The one number that differs, as the word alignment gives it.
    q_num, s_num = (re.search(r"\d+(?:\.\d+)?", text) for text in (query, source))
    assert q_num is not None and s_num is not None
    d = Difference(q_num.group(), s_num.group(), DiffType.WORD, *q_num.span(), *s_num.span())
    before, after = _unit(query, source, d)
    assert f"{before}{d.source}{after} → {before}{d.query}{after}" == says


def test_a_faithful_cited_claim_has_no_finding_and_an_unrelated_one_no_passage() -> None:
    faithful = trace(Document(id="essay", text=_ANSWER.format("1.3")), sources=[_WHO])
    assert _one(faithful, Kind.PARAPHRASE).attribution is Attribution.CITED
    assert faithful.findings == ()
    # Citing the report for a sentence it does not hold links nothing.
    unrelated = (
        "Vaccination campaigns in rural districts doubled their reach last spring [1].\n\n"
        "[1] World Health Organization. Global Tuberculosis Report 2023.\n"
    )
    report = trace(Document(id="essay", text=unrelated), sources=[_WHO])
    assert report.passages == ()
    assert report.citations and {c.status.value for c in report.citations} == {"resolved"}


def test_drift_in_numbers_is_flagged() -> None:
    essay = (
        "In 1912, some 24,000 dock workers in Liverpool stopped work for nine weeks, and the "
        "organizational lessons of that summer shaped a generation of labor leaders."
    )
    report = _trace(essay)
    drift = [f for f in report.findings if f.type == "drift"]
    assert drift, report.findings
    assert "1911" in drift[0].message and "1912" in drift[0].message


_WATER = Document(
    id="water",
    text=(
        "The council settled disputes over water in public, and for six hundred years no "
        "king found it necessary to abolish it.\n\nThe drought of 1879 tested the system "
        "as never before. Wells ran dry across the valley, the river fell to a thread, and "
        "more than four thousand people left the huerta for Algeria before the rains "
        "returned."
    ),
)


def _drift(essay: str) -> list[str]:
    report = trace(Document(id="essay", text=essay), sources=[_WATER])
    assert report.passages, "the essay borrows from the source"
    return [f.message for f in report.findings if f.type == "drift"]


def test_a_date_changed_in_a_sentence_joined_to_a_copy_is_drift() -> None:
    # The copy starts at "wells", where the source's sentence starts: the changed year
    # lies in the source's sentence before, which the essay's sentence holds.
    lead = "The council faced its hardest test in the drought of {}, when wells ran dry "
    rest = (
        "across the valley, the river fell to a thread, and more than four thousand people "
        "left the huerta for Algeria before the rains returned."
    )
    changed = _drift(lead.format(1897) + rest)
    assert changed and "1879 → 1897" in changed[0]
    assert _drift(lead.format(1879) + rest) == []


def test_the_same_span_of_time_in_other_units_is_not_drift() -> None:
    essay = (
        "The council settled disputes over water in public, and for {} no king found it "
        "necessary to abolish it."
    )
    assert _drift(essay.format("six centuries")) == []
    assert _drift(essay.format("sixty decades")) == []
    assert _drift(essay.format("seven centuries"))


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


# --- the quick ways of checking quotations agree with the plain ones ---------------------

_VOCABULARY = ("the of and a dock city strike workers clock school gossip summer port food "
               "names arrival hall departure stories leaders chapel union never simply").split()


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_VOCABULARY) for _ in range(n)) + "."


def _corpus(seed: int, n_sources: int = 12) -> tuple[Document, list[Document]]:
    """Sources of common words, and a query quoting them exactly, altered and not at all."""
    rng = random.Random(seed)
    sources = [Document(id=f"s{k:02d}", text=_words(rng, rng.randint(0, 300)))
               for k in range(n_sources)]
    sources.append(Document(id="one", text="dock"))
    parts = []
    for _ in range(12):
        source = rng.choice(sources).text.rstrip(".").split()
        a = rng.randrange(max(1, len(source)))
        quoted = source[a : a + rng.randint(1, 30)] or ["dock"]
        if rng.random() < 0.4 and len(quoted) > 3:
            quoted[rng.randrange(len(quoted))] = "never"
        if rng.random() < 0.2:
            quoted = _words(rng, rng.randint(1, 12)).rstrip(".").split()
        parts.append(f"{_words(rng, rng.randint(3, 15))} “{' '.join(quoted)}” {_words(rng, 5)}")
    return Document(id="query", text="\n\n".join(parts)), sources


@pytest.mark.parametrize("seed", range(6))
def test_hits_count_the_keys_each_source_has(seed: int) -> None:
    query, sources = _corpus(seed)
    sources.append(Document(id="s00", text="dock city strike"))  # the last "s00" counts
    settings_ = Settings()
    q = prepare(query.text, settings_)
    rng = random.Random(seed)
    n = len(q.tokens)
    spans = [(a, min(n, a + rng.randint(1, 40))) for a in rng.sample(range(n), 30)]
    batched = stage._Lookup(q, sources, settings_)
    batched.count(spans)
    one_by_one = stage._Lookup(q, sources, settings_)
    by_id = {s.id: s for s in sources}
    for first, stop in spans:
        for single in (True, False):
            q_keys = stage._keys(q.tokens.ids[first:stop], single=single).tolist()
            expected = {}
            for source_id, source in by_id.items():
                s_ids = prepare(source.text, settings_).tokens.ids
                table = set(stage._keys(s_ids, single=single).tolist())
                expected[source_id] = sum(1 for k in q_keys if k in table)
            assert batched.hits(first, stop, single=single) == expected
            assert one_by_one.hits(first, stop, single=single) == expected


def _table_diagonals(q_keys: list[int], s_keys: list[int]) -> list[int]:
    """The diagonals as the first implementation found them, from a dict of places."""
    table: dict[int, list[int]] = {}
    for j, k in enumerate(s_keys):
        table.setdefault(k, []).append(j)
    q_at, s_at = [], []
    for i, k in enumerate(q_keys):
        for j in table.get(k, ())[:50]:
            q_at.append(i)
            s_at.append(j)
    if not q_at:
        return []
    values, counts = np.unique(np.array(s_at) - np.array(q_at), return_counts=True)
    return [int(v) for v in values[np.argsort(-counts, kind="stable")][:3]]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=80), st.lists(st.integers(0, 6), max_size=300),
       st.sampled_from([0, 10, 10_000]))
def test_diagonals_are_those_of_a_table_of_places(
    query: list[int], source: list[int], few: int
) -> None:
    keys = np.array(source, dtype=np.uint64)
    order = np.argsort(keys, kind="stable")
    table = stage._Table(keys[order], order, order.tolist())
    old = stage._FEW_ANCHORS
    stage._FEW_ANCHORS = few  # counted in Python below this many anchors, else by numpy
    try:
        found = stage._diagonals(np.array(query, dtype=np.uint64), table)
    finally:
        stage._FEW_ANCHORS = old
    assert found == _table_diagonals(query, source)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=12),
       st.integers(0, 30), st.integers(0, 30))
def test_within_is_inside_some_span(spans: list[tuple[int, int]], start: int, end: int) -> None:
    inside = stage._Within(spans)
    assert inside(start, end) == any(a <= start and end <= b for a, b in spans)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Dock", "dock", "docks", "1911", "1912", "nine", "ten",
                                 "not", "never", "“city”", "city", "colour", "color"]),
                min_size=1, max_size=20),
       st.lists(st.sampled_from(["Dock", "dock", "1911", "nine", "not", "city", "colour",
                                 "“city”"]), min_size=1, max_size=20))
def test_word_changes_are_those_differences_reports(query: list[str], source: list[str]) -> None:
    settings_ = Settings()
    q = prepare(" ".join(query), settings_).tokens
    s = prepare(" ".join(source), settings_).tokens
    alignment = align_words(q, 0, len(q), s, 0, len(s))
    kept = (DiffType.WORD, DiffType.INSERTION, DiffType.OMISSION)
    assert list(stage._word_changes(q, s, alignment)) == [
        d for d in differences(q, s, alignment) if d.type in kept
    ]


@pytest.mark.parametrize("seed", range(8))
def test_skipping_sources_that_cannot_do_better_changes_nothing(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    query, sources = _corpus(seed, n_sources=20)
    quick = stage.classify(query, sources, [], Settings())
    counts = stage._Lookup.hits

    def everything(self: stage._Lookup, first: int, stop: int, *, single: bool) -> dict[str, int]:
        found = counts(self, first, stop, single=single)
        # Word counts only bound what a source can match (quotations of one word aside,
        # whose pairs are words): saying every source has every word skips none.
        return {k: 10**9 for k in found} if single and stop - first > 1 else found

    monkeypatch.setattr(stage._Lookup, "hits", everything)
    monkeypatch.setattr(stage._Lookup, "most", lambda self, first, stop: 10**9)
    assert stage.classify(query, sources, [], Settings()) == quick
    assert Counter(p.kind for p in quick.passages)[Kind.QUOTATION] >= 3
