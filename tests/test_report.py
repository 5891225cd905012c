"""Tests of the JSON and terminal report renderers, on reports built by hand."""

from __future__ import annotations

import copy
import io
import json
import random
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from stemmatic.errors import SettingsError, StemmaticError
from stemmatic.report import (
    load_json,
    render_json,
    render_terminal,
    schema,
    summarize,
    text_sha256,
    text_source,
    to_dict,
    truncate_middle,
    validate,
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
    Quotation,
    Report,
    Skipped,
)

SMITH = (
    "The quick brown fox jumps over the lazy dog. It was the colour of autumn leaves, "
    "and the hunter never saw it again in the valley."
)
JONES = "Rivers [1] remember every stone they have ever moved, said the old surveyor."
QUERY = (
    'As Smith wrote, "the quick red fox jumps over the lazy dog" (Smith 1999). '
    "The fox was the color of autumn leaves, and the hunter never saw it in the valley. "
    "Rivers [1] remember every stone they have ever moved."
)


def span(text: str, words: str, after: int = 0) -> tuple[int, int]:
    """Offsets of ``words`` in ``text``, searching from ``after``."""
    start = text.index(words, after)
    return start, start + len(words)


def diff(dtype: DiffType, q: str, s: str, q_after: int, s_after: int) -> Difference:
    """A difference whose offsets are found in QUERY and SMITH (empty side: a point)."""
    qs, qe = span(QUERY, q, q_after) if q else (q_after, q_after)
    ss, se = span(SMITH, s, s_after) if s else (s_after, s_after)
    return Difference(
        query=q, source=s, type=dtype, query_start=qs, query_end=qe, source_start=ss, source_end=se
    )


def passages() -> list[Passage]:
    q1 = span(QUERY, "the quick red fox jumps over the lazy dog")
    s1 = span(SMITH, "The quick brown fox jumps over the lazy dog")
    quote = Passage(
        query_start=q1[0],
        query_end=q1[1],
        source_id="smith",
        source_start=s1[0],
        source_end=s1[1],
        kind=Kind.QUOTATION,
        score=0.91,
        differences=(
            diff(DiffType.CASE, "the", "The", q1[0], s1[0]),
            diff(DiffType.WORD, "red", "brown", q1[0], s1[0]),
        ),
        fidelity=Fidelity.ALTERED,
        attribution=Attribution.CITED,
    )
    # Overlaps the quotation's last words on purpose ("lazy dog" ... "valley"), so the
    # summary must count those characters once.
    q2 = span(
        QUERY,
        'lazy dog" (Smith 1999). The fox was the color of autumn leaves, and the hunter never saw it in the valley',
    )
    s2 = span(
        SMITH,
        "lazy dog. It was the colour of autumn leaves, and the hunter never saw it again in the valley",
    )
    copy_ = Passage(
        query_start=q2[0],
        query_end=q2[1],
        source_id="smith",
        source_start=s2[0],
        source_end=s2[1],
        kind=Kind.COPY,
        score=0.8,
        differences=(
            diff(DiffType.SPELLING, "color", "colour", q2[0], s2[0]),
            diff(DiffType.OMISSION, "", "again", span(QUERY, "saw it ")[1], s2[0]),
        ),
        attribution=Attribution.UNCITED,
    )
    q3 = span(QUERY, "Rivers [1] remember every stone they have ever moved")
    s3 = span(JONES, "Rivers [1] remember every stone they have ever moved")
    jones = Passage(
        query_start=q3[0],
        query_end=q3[1],
        source_id="jones",
        source_start=s3[0],
        source_end=s3[1],
        kind=Kind.COPY,
        score=1.0,
        attribution=Attribution.UNCITED,
    )
    return [quote, copy_, jones]


def make_report(order: list[Passage] | None = None, **changes: object) -> Report:
    query = Document(id="essay", text=QUERY, path="essay.txt", title="An essay", format="txt")
    smith = Document(id="smith", text=SMITH, path="corpus/smith.html", title="Foxes", format="html")
    jones = Document(id="jones", text=JONES, path="corpus/jones.pdf", format="pdf")
    q_red = span(QUERY, "red")
    s_brown = span(SMITH, "brown")
    cite = span(QUERY, "(Smith 1999)")
    quoted = span(QUERY, "the quick red fox jumps over the lazy dog")
    report = Report(
        query=query,
        sources=(smith, jones),
        passages=tuple(order if order is not None else passages()),
        citations=(Citation(cite[0], cite[1], "(Smith 1999)", "smith", CitationStatus.RESOLVED),),
        quotations=(Quotation(quoted[0], quoted[1], '"', '"'),),
        findings=(
            Finding(
                type="misquote",
                start=q_red[0],
                end=q_red[1],
                message='The quotation says "red" where Smith wrote "brown".',
                source_id="smith",
                source_start=s_brown[0],
                source_end=s_brown[1],
                evidence=(("changed_words", 1), ("fidelity", Fidelity.ALTERED)),
            ),
            Finding(
                type="uncited-passage",
                start=span(QUERY, "Rivers")[0],
                end=span(QUERY, "moved")[1],
                message="Copied from jones without a citation.",
                source_id="jones",
            ),
        ),
        skipped=(Skipped("corpus/broken.pdf", "not a PDF file (no %PDF header)"),),
        settings={"ngram": 4, "min_words": 8},
        warnings=("1 source was empty",),
    )
    return replace(report, **changes) if changes else report


def record_console(width: int = 100) -> Console:
    return Console(record=True, width=width, no_color=True, file=io.StringIO())


# ------------------------------------------------------------------------------ JSON


def test_json_validates_against_schema() -> None:
    data = json.loads(render_json(make_report()))
    jsonschema.Draft202012Validator(schema()).validate(data)
    validate(data)
    assert data["schema_version"] == 1
    assert data["tool"]["name"] == "stemmatic"
    assert [s["id"] for s in data["sources"]] == ["jones", "smith"]
    assert data["query"]["text_source"] == "decoded file content, unchanged"
    assert data["sources"][1]["text_source"] == "main text extracted by trafilatura"
    assert data["query"]["text_sha256"] == text_sha256(QUERY)
    assert "text" not in data["query"] and all("text" not in s for s in data["sources"])


def test_schema_copies_are_identical_and_valid() -> None:
    docs = Path(__file__).resolve().parents[1] / "docs" / "report.schema.json"
    assert json.loads(docs.read_text(encoding="utf-8")) == schema()
    jsonschema.Draft202012Validator.check_schema(schema())


def test_bogus_kind_fails_validation_with_its_path() -> None:
    data = to_dict(make_report())
    data["passages"][0]["kind"] = "bogus"
    with pytest.raises(StemmaticError, match=r"\$\.passages\[0\]\.kind"):
        validate(data)


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.pop("query"), "query"),
        (lambda d: d["passages"][1].__setitem__("query_start", -1), "query_start"),
        (lambda d: d["passages"][0]["differences"][0].__setitem__("type", "typo"), "type"),
        (lambda d: d["citations"][0].__setitem__("status", "maybe"), "status"),
        (lambda d: d["passages"][0].__setitem__("extra", 1), "extra"),
        (lambda d: d["passages"][0].__setitem__("query_end", 0), "before it starts"),
        (lambda d: d["findings"][0].__setitem__("end", 10_000), "past the text"),
    ],
)
def test_invalid_reports_fail_validation(mutate: object, where: str) -> None:
    data = to_dict(make_report())
    mutate(data)  # type: ignore[operator]
    with pytest.raises(StemmaticError, match=where):
        validate(data)


def test_unknown_top_level_fields_are_allowed() -> None:
    data = to_dict(make_report())
    data["future_field"] = {"anything": True}
    validate(data)


def test_offsets_slice_to_the_reported_words() -> None:
    data = to_dict(make_report(), include_texts=True)
    query = data["query"]["text"]
    sources = {s["id"]: s["text"] for s in data["sources"]}
    assert query == QUERY and sources["smith"] == SMITH
    assert len(data["passages"]) == 3
    for p in data["passages"]:
        assert query[p["query_start"] : p["query_end"]] == p["query_text"]
        assert sources[p["source_id"]][p["source_start"] : p["source_end"]] == p["source_text"]
        for d in p["differences"]:
            assert query[d["query_start"] : d["query_end"]] == d["query"]
            assert sources[p["source_id"]][d["source_start"] : d["source_end"]] == d["source"]
    finding = data["findings"][0]
    assert finding["type"] == "misquote"
    assert query[finding["start"] : finding["end"]] == finding["text"] == "red"
    assert finding["source_text"] == "brown"
    assert finding["evidence"] == {"changed_words": 1, "fidelity": "altered"}
    validate(data)


def test_summary_counts_overlapping_passages_once() -> None:
    report = make_report()
    quote, copy_, jones = passages()
    assert quote.query_end > copy_.query_start  # the fixture overlaps on purpose
    summary = summarize(report)
    length = len(QUERY)
    smith_chars = copy_.query_end - quote.query_start
    jones_chars = jones.query_end - jones.query_start
    assert summary["query_length"] == length
    assert summary["reused"]["characters"] == smith_chars + jones_chars
    assert summary["reused"]["share"] == round((smith_chars + jones_chars) / length, 4)
    assert summary["by_source"]["smith"] == {
        "passages": 2,
        "characters": smith_chars,
        "share": round(smith_chars / length, 4),
    }
    assert (
        summary["by_kind"]["copy"]["characters"]
        == (copy_.query_end - copy_.query_start) + jones_chars
    )
    assert summary["by_kind"]["quotation"]["passages"] == 1
    assert summary["by_kind"]["paraphrase"] == {"passages": 0, "characters": 0, "share": 0.0}
    assert summary["by_attribution"]["cited"]["characters"] == quote.query_end - quote.query_start
    assert summary["by_attribution"]["uncited"]["passages"] == 2
    assert summary["findings"] == {"total": 2, "by_type": {"misquote": 1, "uncited-passage": 1}}
    assert summary["citations"] == {"total": 1, "resolved": 1, "not_in_corpus": 0}
    percent = round(100 * (smith_chars + jones_chars) / length)
    assert (
        summary["verdict"]
        == f"{percent}% of the text comes from 2 sources; 1 misquote, 1 uncited passage"
    )


def test_summary_of_identical_passages_equals_one_passage() -> None:
    quote = passages()[0]
    once = summarize(make_report([quote]))
    twice = summarize(make_report([quote, quote]))
    assert (
        once["reused"]["characters"]
        == twice["reused"]["characters"]
        == quote.query_end - quote.query_start
    )
    assert twice["reused"]["passages"] == 2


@settings(max_examples=60, deadline=None)
@given(
    spans=st.lists(
        st.tuples(st.integers(0, 60), st.integers(0, 30), st.sampled_from(list(Kind))), max_size=8
    )
)
def test_summary_matches_a_character_count(spans: list[tuple[int, int, Kind]]) -> None:
    text = "x" * 100
    query = Document(id="q", text=text, path="q.txt")
    source = Document(id="s", text=text, path="s.txt")
    report = Report(
        query=query,
        sources=(source,),
        passages=tuple(
            Passage(start, start + size, "s", start, start + size, kind, 0.5)
            for start, size, kind in spans
        ),
    )
    summary = summarize(report)
    covered = {i for start, size, _ in spans for i in range(start, start + size)}
    assert summary["reused"]["characters"] == len(covered)
    for kind in Kind:
        chars = {i for start, size, k in spans if k == kind for i in range(start, start + size)}
        assert summary["by_kind"][kind.value]["characters"] == len(chars)
        assert 0.0 <= summary["by_kind"][kind.value]["share"] <= 1.0
    validate(to_dict(report))


@pytest.mark.parametrize(
    ("fmt", "phrase"),
    [
        ("md", "decoded file content, unchanged"),
        ("pdf", "text layer extracted by pypdf"),
        ("docx", "paragraph text extracted by python-docx"),
        ("jsonl", "record text field"),
        ("parquet", "record text field"),
        ("epub", "text extracted from epub input"),
    ],
)
def test_text_source(fmt: str, phrase: str) -> None:
    assert text_source(fmt) == phrase


def test_no_reuse_verdict() -> None:
    report = make_report([], findings=(), citations=())
    summary = summarize(report)
    assert summary["verdict"] == "No reuse found"
    assert summary["reused"] == {"passages": 0, "characters": 0, "share": 0.0}
    validate(to_dict(report))


def test_render_is_deterministic_whatever_the_input_order() -> None:
    expected = render_json(make_report())
    rng = random.Random(7)
    for _ in range(5):
        order = passages()
        rng.shuffle(order)
        shuffled = [
            replace(p, differences=tuple(rng.sample(p.differences, len(p.differences))))
            for p in order
        ]
        report = make_report(shuffled)
        report = replace(
            report,
            findings=tuple(reversed(report.findings)),
            sources=tuple(reversed(report.sources)),
            settings=dict(reversed(list(report.settings.items()))),
        )
        assert render_json(report) == expected
    data = json.loads(expected)
    starts = [(p["query_start"], p["query_end"]) for p in data["passages"]]
    assert starts == sorted(starts)
    assert [f["start"] for f in data["findings"]] == sorted(f["start"] for f in data["findings"])


def test_load_json_round_trip_and_errors() -> None:
    text = render_json(make_report(), include_texts=True)
    assert load_json(text) == json.loads(text)
    with pytest.raises(StemmaticError, match="not a JSON report"):
        load_json("{not json")
    with pytest.raises(StemmaticError, match="top level"):
        load_json("[1, 2]")
    data = json.loads(text)
    data["schema_version"] = 2
    with pytest.raises(StemmaticError, match="version 2 is not supported"):
        load_json(json.dumps(data))
    broken = copy.deepcopy(json.loads(text))
    broken["passages"][0]["fidelity"] = "perfect"
    with pytest.raises(StemmaticError, match="fidelity"):
        load_json(json.dumps(broken))
    assert load_json(json.dumps(broken), check=False)["passages"][0]["fidelity"] == "perfect"


def test_inconsistent_report_is_refused() -> None:
    quote = passages()[0]
    with pytest.raises(StemmaticError, match="not among the report's sources"):
        to_dict(make_report([replace(quote, source_id="nobody")]))
    with pytest.raises(StemmaticError, match="outside the query text"):
        to_dict(make_report([replace(quote, query_end=len(QUERY) + 5)]))


def test_document_without_path_gets_a_placeholder() -> None:
    report = make_report()
    report = replace(report, query=replace(report.query, path=None))
    data = to_dict(report)
    assert data["query"]["path"] == "<essay>"
    validate(data)


# -------------------------------------------------------------------------- terminal


def test_terminal_default_shows_findings_side_by_side() -> None:
    console = record_console()
    render_terminal(make_report(), console)
    out = console.export_text()
    assert 'The quotation says "red" where Smith wrote "brown".' in out
    assert "Copied from jones without a citation." in out
    # Output is not a terminal here, so differences are marked in text, wdiff style.
    assert "{+red+}" in out and "[-brown-]" in out
    assert "Rivers [1] remember every stone" in out  # brackets in documents are not markup
    assert "essay.txt" in out and "2 sources searched" in out
    assert "corpus/broken.pdf" in out and "no %PDF header" in out
    assert "1 source was empty" in out
    assert "quotation" in out and "uncited" in out
    assert max(len(line) for line in out.splitlines()) <= 100
    # Passages are listed only in verbose mode.
    assert "Passages (3)" not in out


def test_terminal_verbose_lists_every_passage() -> None:
    console = record_console()
    render_terminal(make_report(), console, verbose=True)
    out = console.export_text()
    assert "Passages (3)" in out
    assert "{~color~}" in out and "{~colour~}" in out
    assert "[-again-]" in out and "‸" in out
    assert "changed_words=1" in out


def test_terminal_quiet_is_one_line() -> None:
    console = record_console(width=40)
    render_terminal(make_report(), console, quiet=True)
    lines = console.export_text().strip().splitlines()
    assert len(lines) == 1
    assert "of the text comes from 2 sources; 1 misquote, 1 uncited passage" in lines[0]
    assert "3 passages, 2 findings, 1 skipped" in lines[0]


def test_terminal_quiet_verbose_conflict() -> None:
    with pytest.raises(SettingsError):
        render_terminal(make_report(), record_console(), quiet=True, verbose=True)


def test_terminal_with_colours_on_a_terminal() -> None:
    console = Console(
        record=True, width=100, force_terminal=True, color_system="truecolor", file=io.StringIO()
    )
    render_terminal(make_report(), console)
    styled = console.export_text(styles=True, clear=False)
    assert "\x1b[" in styled  # styles are used instead of text markers
    plain = console.export_text()
    assert "{+red+}" not in plain and "red" in plain and "brown" in plain


def test_terminal_no_reuse() -> None:
    console = record_console()
    render_terminal(make_report([], findings=(), citations=(), skipped=(), warnings=()), console)
    out = console.export_text()
    assert "No reuse found" in out
    assert "Findings" not in out and "Summary" not in out


def test_truncate_middle() -> None:
    text = "abcdefghijklmnopqrstuvwxyz"
    assert truncate_middle(text, 30) == text
    short = truncate_middle(text, 11)
    assert short == "abcde…vwxyz" and len(short) == 11
    assert truncate_middle(text, 1) == "…"
    with pytest.raises(SettingsError):
        truncate_middle(text, 0)


def test_long_passages_are_cut_in_the_middle() -> None:
    filler = " ".join(f"word{i}" for i in range(2000))
    query_text = "START " + filler + " END"
    source_text = "Intro. " + query_text
    query = Document(id="q", text=query_text, path="q.txt")
    source = Document(id="s", text=source_text, path="s.txt")
    passage = Passage(0, len(query_text), "s", 7, len(source_text), Kind.COPY, 1.0)
    finding = Finding("uncited-passage", 0, len(query_text), "Long copy without a citation.", "s")
    report = Report(query=query, sources=(source,), passages=(passage,), findings=(finding,))
    console = record_console()
    render_terminal(report, console, excerpt_chars=120)
    out = console.export_text()
    assert "START" in out and "END" in out and "…" in out
    assert "word1000" not in out
    assert len(out.splitlines()) < 40
    validate(to_dict(report))


def test_finding_without_a_source_shows_the_query_words_only() -> None:
    cite = span(QUERY, "(Smith 1999)")
    finding = Finding("citation-not-in-corpus", cite[0], cite[1], "No source of the corpus matches this.")
    report = make_report(findings=(finding,))
    console = record_console()
    render_terminal(report, console)
    out = console.export_text()
    assert "No source of the corpus matches this." in out
    assert "(Smith 1999)" in out and "Source" not in out.split("citation-not-in-corpus", 1)[1]
    assert "1 citation not in the corpus" in summarize(report)["verdict"]
    validate(to_dict(report))
