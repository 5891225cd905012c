"""``classify.warm`` and the quicker ways of checking quotations: the same results as
the plain way."""

from __future__ import annotations

import random
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

from stemmatic import classify as stage
from stemmatic.align.diff import (
    WordAlignment,
    _mark_differences,
    align_words,
    classify_words,
    differences,
)
from stemmatic.align.units import prepare
from stemmatic.normalize import Tokens, tokenize
from stemmatic.settings import Settings
from stemmatic.types import Difference, DiffType, Document

SOURCES = [
    Document(
        id="whitfield-2004.txt", title="The Labour of Cities", author="Margaret Whitfield",
        date="2004",
        text=(
            "The dock was never simply a workplace; it was the city's clock, its gossip and "
            "its school. In 1911, some 42,000 dock workers in Liverpool stopped work for nine "
            "weeks, and the organisational lessons of that summer shaped a generation of "
            "labour leaders. Each morning the men drifted quayward before dawn, hoping to "
            "catch the foreman's eye."
        ),
    ),
    Document(
        id="okafor-2011.md", title="Cities That Remember", author="Chidi Okafor", date="2011",
        text=(
            "Memory in a port city is kept by families rather than archives. The strike of "
            "1911 survives in songs, in nicknames and in the names of streets that the "
            "council later renamed."
        ),
    ),
]
QUERY = Document(
    id="essay.md",
    text=(
        "# The Docks\n\n"
        "Whitfield calls the dock “the city's clock, its gossip and its school” (2004, p. 3). "
        "In 1912, some 24,000 dock workers in Liverpool stopped work for nine weeks, and the "
        "organisational lessons of that summer shaped a generation of labour leaders.\n\n"
        "Okafor notes that “memory in a port city is kept by archives rather than families” "
        "(Okafor 2011). A “quotation that no source holds at all, however long it may be” "
        "is reported, as is the title “Cities That Remember”. An opening quote “never closes.\n\n"
        "## References\n\n"
        "Okafor, C. (2011). *Cities That Remember*.\n\n"
        "Whitfield, M. (2004). *The Labour of Cities*.\n"
    ),
)


def _passages(query: Document, sources: list[Document], settings_: Settings) -> list:
    from stemmatic.align import align

    found = [p for s in sources for p in align(query, s, settings_)]
    return sorted(found, key=lambda p: (p.query_start, p.query_end, p.source_id, p.source_start))


@pytest.fixture(autouse=True)
def _forget_warmed() -> None:
    stage._WARMED.clear()


@pytest.mark.parametrize(
    "settings_",
    [Settings(), Settings(citation_scope="paragraph"), Settings(max_quote_chars=40)],
)
def test_classify_is_the_same_with_or_without_warm(settings_: Settings) -> None:
    passages = _passages(QUERY, SOURCES, settings_)
    cold = stage.classify(QUERY, SOURCES, passages, settings_)
    assert stage._WARMED == {}  # classify alone keeps nothing
    stage.warm(QUERY, settings_)
    assert len(stage._WARMED) == 1
    warmed = stage.classify(QUERY, SOURCES, passages, settings_)
    assert warmed == cold
    assert cold.quotations and cold.citations and cold.findings and cold.passages


def test_warm_for_other_settings_is_not_used() -> None:
    plain, wide = Settings(), Settings(citation_scope="paragraph", max_quote_chars=40)
    passages = _passages(QUERY, SOURCES, plain)
    expected = stage.classify(QUERY, SOURCES, passages, plain)
    stage.warm(QUERY, wide)
    assert stage.classify(QUERY, SOURCES, passages, plain) == expected
    other = replace(QUERY, text=QUERY.text.replace("Okafor notes", "Okafor writes"))
    stage.warm(other, plain)
    assert stage.classify(QUERY, SOURCES, passages, plain) == expected


def test_warmed_queries_are_few() -> None:
    for k in range(stage._WARMED_SIZE + 3):
        stage.warm(Document(id=f"q{k}", text=f"Query {k} quotes “some words here”."), Settings())
    assert len(stage._WARMED) == stage._WARMED_SIZE
    assert all(f"Query {k} " in key[0] for k, key in enumerate(stage._WARMED, start=3))


# ---------------------------------------------------------------------------------------
# Quotations are aligned as strings of code points (``_Coding``; that they align as
# their words' ids is tested in test_source_side_speed.py).

_VOCABULARY = ["the", "of", "and", "dock", "city", "strike", "never", "workers", "summer",
               "clock", "school", "memory"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 11), max_size=60), st.lists(st.integers(0, 11), max_size=120),
       st.data())
def test_quicker_alignment_is_align_words(query: list[int], source: list[int],
                                          data: st.DataObject) -> None:
    q = tokenize(" ".join(_VOCABULARY[k] for k in query))
    s = tokenize(" ".join(_VOCABULARY[k] for k in source))
    q0 = data.draw(st.integers(0, len(q)))
    q1 = data.draw(st.integers(q0, len(q)))
    s0 = data.draw(st.integers(0, len(s)))
    s1 = data.draw(st.integers(s0, len(s)))
    assert align_words(q, q0, q1, s, s0, s1) == _reference_align_words(q, q0, q1, s, s0, s1)


def _reference_align_words(
    query: Tokens, q0: int, q1: int, source: Tokens, s0: int, s1: int
) -> WordAlignment:
    """``align_words`` as first written: rapidfuzz's opcode objects read one by one."""
    ops = []
    equal = 0
    for op in Levenshtein.opcodes(query.ids[q0:q1].tolist(), source.ids[s0:s1].tolist()):
        ops.append(
            (op.tag, op.src_start + q0, op.src_end + q0, op.dest_start + s0, op.dest_end + s0)
        )
        if op.tag == "equal":
            equal += op.src_end - op.src_start
    return WordAlignment(tuple(ops), equal)


def test_coded_words_have_no_surrogates() -> None:
    # More distinct words than there are code points below the surrogates: the codes
    # skip them (a string holding one cannot be encoded), and stay distinct.
    ids = np.arange(0xD800 + 50, dtype=np.uint64) * np.uint64(7)
    coding = stage._Coding(ids, {"s": SimpleNamespace(tokens=SimpleNamespace(ids=ids[::-1].copy()))})
    text = coding.text(np.arange(1, len(ids) + 1))
    assert len(text) == len(set(text)) == len(ids)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    text.encode("utf-8")
    assert coding.source("s") == text[::-1]


# ---------------------------------------------------------------------------------------
# Differences with white space between matched words skipped quickly.

_SURFACE = ["The", "the", "dock's", "dock’s", "colour", "color", "—", "--", ",", "“", "\"",
            "1911", "never", "workers", "-", "– –", "a"]


def _text(rng: random.Random, words: list[str]) -> str:
    return "".join(w + rng.choice([" ", " ", "  ", "\n", " , ", "\n\n", " — "]) for w in words)


@pytest.mark.parametrize("seed", range(300))
def test_differences_are_those_of_align_diff(seed: int) -> None:
    rng = random.Random(seed)
    words = [rng.choice(_SURFACE) for _ in range(rng.randint(1, 40))]
    other = [rng.choice(_SURFACE) if rng.random() < 0.15 else w for w in words]
    q, s = tokenize(_text(rng, words)), tokenize(_text(rng, other))
    if not len(q) or not len(s):
        return
    alignment = align_words(q, 0, len(q), s, 0, len(s))
    assert differences(q, s, alignment) == _reference_differences(q, s, alignment)


def _reference_differences(q: Tokens, s: Tokens, alignment: WordAlignment) -> tuple:
    """``differences`` as first written: the marks between every two matched words are
    compared with ``_mark_differences``, white space included."""
    out: list[Difference] = []
    for tag, i1, i2, j1, j2 in alignment.opcodes:
        if tag != "equal":
            out.extend(differences(q, s, WordAlignment(((tag, i1, i2, j1, j2),), 0)))
            continue
        for k in range(i2 - i1):
            qs, qe = int(q.starts[i1 + k]), int(q.ends[i1 + k])
            ss, se = int(s.starts[j1 + k]), int(s.ends[j1 + k])
            qw, sw = q.text[qs:qe], s.text[ss:se]
            if qw != sw:
                out.append(Difference(qw, sw, classify_words(qw, sw), qs, qe, ss, se))
            if k < i2 - i1 - 1:
                qn, sn = int(q.starts[i1 + k + 1]), int(s.starts[j1 + k + 1])
                out.extend(_mark_differences(q.text, qe, qn, s.text, se, sn))
    return tuple(out)


def _reference_word_changes(q: object, s: object, alignment: object) -> list[Difference]:
    """The word changes as drift first found them: every difference, then those kept."""
    out = []
    for d in differences(q, s, alignment):  # type: ignore[arg-type]
        if d.type in (DiffType.INSERTION, DiffType.OMISSION) or (
            d.type is DiffType.WORD and (d.query != d.source)
        ):
            if d.type is DiffType.WORD and classify_words(d.query, d.source) is not DiffType.WORD:
                continue
            out.append(d)
    return out


@pytest.mark.parametrize("seed", range(200))
def test_word_changes_are_the_changed_words(seed: int) -> None:
    rng = random.Random(seed)
    words = [rng.choice([*_SURFACE, "walked", "walks", "dock", "docks"])
             for _ in range(rng.randint(1, 30))]
    other = [rng.choice(["walked", "walks", "docks", "dock", "The"]) if rng.random() < 0.2 else w
             for w in words]
    q, s = tokenize(_text(rng, words)), tokenize(_text(rng, other))
    if not len(q) or not len(s):
        return
    alignment = align_words(q, 0, len(q), s, 0, len(s))
    assert list(stage._word_changes(q, s, alignment)) == _reference_word_changes(q, s, alignment)


# ---------------------------------------------------------------------------------------
# Overlapping spans found by bisection.


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 30)), max_size=15),
       st.integers(0, 70), st.integers(0, 40))
def test_overlaps_are_the_spans_overlapping(spans: list[tuple[int, int]], start: int,
                                            length: int) -> None:
    spans = [(a, a + n) for a, n in spans]
    end = start + length
    expected = [k for k, (a, b) in enumerate(spans) if a < end and start < b]
    assert sorted(stage._Overlaps(spans)(start, end)) == expected


def test_counting_in_small_batches_gives_the_same_hits(monkeypatch: pytest.MonkeyPatch) -> None:
    settings_ = Settings()
    q = prepare(QUERY.text, settings_)
    spans = [(a, min(len(q.tokens), a + 9)) for a in range(0, len(q.tokens), 7)]
    whole = stage._Lookup(q, SOURCES, settings_)
    whole.count(spans)
    monkeypatch.setattr(stage, "_COUNT_BATCH", 1)
    batched = stage._Lookup(q, SOURCES, settings_)
    batched.count(spans)
    for first, stop in spans:
        for single in (True, False):
            assert batched.hits(first, stop, single=single) == whole.hits(first, stop, single=single)
    assert any(whole.hits(first, stop, single=False)["whitfield-2004.txt"] for first, stop in spans)
