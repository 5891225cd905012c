"""The shortcuts that make checking quotations against the sources cheaper give the same
results as the plain search they replace, kept here as the reference."""

from __future__ import annotations

import pickle
import random
from collections.abc import Sequence
from dataclasses import FrozenInstanceError, asdict, fields
from itertools import pairwise
from typing import Any, cast

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Indel, LCSseq, Levenshtein

from stemmatic import classify as stage
from stemmatic.align import align, diff
from stemmatic.align.diff import (
    WordAlignment,
    align_words,
    classify_words,
    differences,
    opcode_alignment,
    prefer_matches,
)
from stemmatic.align.units import Prepared, prepare, span_tokens
from stemmatic.citations import CitationMark
from stemmatic.normalize import Tokens
from stemmatic.settings import Settings
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
)

# ---------------------------------------------------------------------------------------
# The reference: the quotation search as it was, every window of every candidate source
# aligned.


def _reference_check_quotation(
    q: Prepared,
    quotation: Quotation,
    first: int,
    stop: int,
    near_sources: stage._Near,
    sources: Sequence[Document],
    settings: Settings,
    lookup: stage._Lookup,
) -> Passage | tuple[None, tuple[str, float, int, int] | None] | None:
    words = stop - first
    if words == 0:
        return None
    near = near_sources(quotation.start, quotation.end)
    single = words < 2
    hits = lookup.hits(first, stop, single=single)
    ordered = sorted(
        (s for s in sources if hits[s.id] or s.id in near),
        key=lambda s: (s.id not in near, -hits[s.id], s.id),
    )[: len(near) + stage.QUOTE_CANDIDATES]
    best: tuple[float, Document, WordAlignment] | None = None
    needed = words if words < stage.QUOTE_MIN_WORDS else 0
    present: dict[str, int] | None = None
    for source in ordered:
        if best is not None or needed:
            if present is None:
                present = lookup.hits(first, stop, single=True)
            if present[source.id] < needed or (
                best is not None and present[source.id] <= best[2].equal
            ):
                continue
        match = _reference_locate(
            q, first, stop, lookup.prepared[source.id], lookup.table(source.id, single=single),
            lookup.query_keys(first, stop),
        )
        if match is None:
            continue
        ratio = match.equal / words
        if best is None or ratio > best[0]:
            best = (ratio, source, match)
        if ratio == 1.0 and source.id in near:
            break
    if best is None or best[0] < stage.QUOTE_FOUND or (
        words < stage.QUOTE_MIN_WORDS and best[0] < 1.0
    ):
        if words < stage.QUOTE_MIN_WORDS:
            return None
        closest = None
        if (
            best is not None
            and best[0] >= stage.CLOSEST_MIN
            and stage._content_matched(q, best[2]) >= stage.CLOSEST_CONTENT_WORDS
        ):
            s = prepare(best[1].text, settings, best[1].excluded)
            s0, s1 = stage._source_extent(best[2])
            closest = (
                best[1].id, round(best[0], 3), int(s.tokens.starts[s0]), int(s.tokens.ends[s1 - 1])
            )
        return None, closest
    ratio, source, alignment = best
    s = prepare(source.text, settings, source.excluded)
    diffs = stage._editorial(q.tokens.text, differences(q.tokens, s.tokens, alignment))
    s0, s1 = stage._source_extent(alignment)
    return Passage(
        query_start=quotation.start,
        query_end=quotation.end,
        source_id=source.id,
        source_start=int(s.tokens.starts[s0]),
        source_end=int(s.tokens.ends[s1 - 1]),
        kind=Kind.QUOTATION,
        score=round(ratio, 4),
        differences=diffs,
        fidelity=stage._fidelity(diffs),
        method="quotation",
    )


def _reference_locate(
    q: Prepared, first: int, stop: int, s: Prepared, table: stage._Table, q_keys: np.ndarray
) -> WordAlignment | None:
    if not len(s.tokens):
        return None
    diagonals = stage._diagonals(q_keys, table)
    if not diagonals:
        return None
    best: WordAlignment | None = None
    n_source = len(s.tokens)
    aligned: dict[tuple[int, int], WordAlignment] = {}
    coded = _ReferenceCoded(q.tokens.ids[first:stop]) if stop - first >= 100 else None

    def aligned_with(s0: int, s1: int) -> WordAlignment:
        found = aligned.get((s0, s1))
        if found is None:
            if coded is None:
                found = prefer_matches(
                    align_words(q.tokens, first, stop, s.tokens, s0, s1),
                    q.tokens.ids, s.tokens.ids,
                )
            else:
                found = coded.align(first, s.tokens.ids, s0, s1)
            aligned[s0, s1] = found
        return found

    for diagonal in diagonals:
        margin = max(3, (stop - first) // 2)
        lo = max(0, int(diagonal) - margin)
        hi = min(n_source, int(diagonal) + (stop - first) + margin)
        window = aligned_with(lo, hi)
        blocks = window.equal_blocks(2) or window.equal_blocks()
        if not blocks:
            continue
        lead = blocks[0][0] - first
        tail = stop - blocks[-1][1]
        s0 = max(lo, blocks[0][2] - lead)
        s1 = min(hi, blocks[-1][3] + tail)
        tight = stage._without_source_edges(aligned_with(s0, s1))
        if best is None or tight.equal > best.equal:
            best = tight
            if best.equal == stop - first:
                break
    return best


class _ReferenceCoded:
    def __init__(self, ids: np.ndarray) -> None:
        self._distinct = np.unique(ids)
        self._query = self._text(self._distinct.searchsorted(ids) + 1)
        self._of: np.ndarray | None = None
        self._span = (0, 0)
        self._source = ""

    def _text(self, codes: np.ndarray) -> str:
        codes = codes.astype(np.uint32)
        if len(self._distinct) >= 0xD7FF:
            codes += (codes >= 0xD800) * np.uint32(0x800)
        return codes.tobytes().decode("utf-32-le")

    def align(self, first: int, source_ids: np.ndarray, s0: int, s1: int) -> WordAlignment:
        lo, hi = self._span
        if not (self._of is source_ids and lo <= s0 and s1 <= hi):
            window = source_ids[s0:s1]
            at = np.minimum(self._distinct.searchsorted(window), len(self._distinct) - 1)
            self._source = self._text(np.where(self._distinct[at] == window, at + 1, 0))
            self._of, self._span = source_ids, (s0, s1)
            lo, hi = s0, s1
        found = Levenshtein.opcodes(self._query, self._source[s0 - lo : s1 - lo])
        return opcode_alignment(found, first, s0)


# ---------------------------------------------------------------------------------------
# Texts to check: sources of a small vocabulary (so that word pairs recur and windows
# hold the quoted words in several ways), and queries quoting them exactly, with a word
# changed, with words left out, at length, in a few words, or not at all.

_STOP = "the of and a in".split()
# (Stop words are frequent, as in prose: a quotation keeping them and a few of its
# source's other words is near the floor of a closest passage.)
_VOCABULARY = _STOP * 3 + ("dock city strike workers clock school gossip summer port food "
                           "names arrival hall departure stories leaders chapel union never "
                           "simply 1911 nine Liverpool").split()


def _words(rng: random.Random, n: int, vocabulary: Sequence[str] = _VOCABULARY) -> list[str]:
    return [rng.choice(vocabulary) for _ in range(n)]


def _quoted(rng: random.Random, sources: list[Document]) -> str:
    source = rng.choice(sources).text.split()
    size = rng.choice([1, 3, 4, 6, 12, 25, 40, 120])
    a = rng.randrange(max(1, len(source)))
    quoted = source[a : a + size] or ["dock"]
    roll = rng.random()
    if roll < 0.25 and len(quoted) > 3:
        quoted[rng.randrange(len(quoted))] = rng.choice(["never", "harbour", "1912"])
    elif roll < 0.4 and len(quoted) > 6:
        cut = rng.randrange(1, len(quoted) - 3)
        quoted = [*quoted[:cut], "…", *quoted[cut + rng.randint(1, 3):]]
    elif roll < 0.55:
        quoted = _words(rng, size)
    elif roll < 0.65:
        # Mostly words of no source, with a few of theirs.
        quoted = [w if rng.random() < 0.4 else rng.choice(_FOREIGN) for w in _words(rng, size)]
    elif roll < 0.8:
        # The source's stop words and a few of its other words (0 to 3), the rest
        # replaced: near the floors of a closest passage.
        content = [k for k, w in enumerate(quoted) if w not in _STOP]
        kept = set(rng.sample(content, min(len(content), rng.randint(0, 3))))
        quoted = [w if w in _STOP or k in kept else rng.choice(_FOREIGN)
                  for k, w in enumerate(quoted)]
    return " ".join(quoted)


_FOREIGN = ["zeppelin", "quartz", "myrrh", "lute", "fjord"]


def _corpus(seed: int) -> tuple[Document, list[Document]]:
    rng = random.Random(seed)
    sources = []
    for k in range(rng.randint(1, 6)):
        vocabulary = _VOCABULARY[: rng.randint(6, len(_VOCABULARY))]
        sentences = [" ".join(_words(rng, rng.randint(4, 20), vocabulary)) + "."
                     for _ in range(rng.randint(1, 40))]
        sources.append(Document(id=f"s{k}", text=" ".join(sentences)))
    parts = []
    for _ in range(rng.randint(1, 14)):
        lead = " ".join(_words(rng, rng.randint(2, 12)))
        if rng.random() < 0.3:
            # A copied stretch around the quotation, so that the aligner finds a passage
            # there and its source is searched first.
            copied = rng.choice(sources).text.split()
            a = rng.randrange(max(1, len(copied)))
            lead = " ".join(copied[a : a + 30])
        parts.append(f"{lead} “{_quoted(rng, sources)}” {' '.join(_words(rng, 4))}.")
    return Document(id="query", text="\n\n".join(parts)), sources


def _classified(query: Document, sources: list[Document]) -> stage.Classified:
    settings_ = Settings()
    passages = sorted(
        [p for s in sources for p in align(query, s, settings_)],
        key=lambda p: (p.query_start, p.query_end, p.source_id, p.source_start),
    )
    return stage.classify(query, sources, passages, settings_)


@pytest.mark.parametrize("seed", range(60))
def test_quotation_search_matches_the_plain_search(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    query, sources = _corpus(seed)
    quick = _classified(query, sources)
    monkeypatch.setattr(stage, "_check_quotation", _reference_check_quotation)
    assert _classified(query, sources) == quick


@pytest.mark.parametrize("seed", range(8))
def test_quotations_coded_apart_match_the_plain_search(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quotations too many to code together are coded in groups, each with its own
    coding of the sources."""
    query, sources = _corpus(seed)
    monkeypatch.setattr(stage, "_CODES", 7)
    quick = _classified(query, sources)
    monkeypatch.setattr(stage, "_check_quotation", _reference_check_quotation)
    assert _classified(query, sources) == quick


def test_the_texts_checked_hold_every_kind_of_result() -> None:
    """The corpus of the test above is not trivial: quotations are found exactly, with
    changes, at length, and not at all (with and without a closest passage)."""
    found: set[str] = set()
    for seed in range(60):
        result = _classified(*_corpus(seed))
        for p in result.passages:
            if p.kind is Kind.QUOTATION:
                found.add(str(p.fidelity))
                if p.query_end - p.query_start > 500:
                    found.add("long")
        for f in result.findings:
            if f.type == stage.FindingType.QUOTE_NOT_FOUND:
                found.add("closest" if f.source_id else "nowhere")
    assert {"exact", "variant", "altered", "long", "closest", "nowhere"} <= found, found


# ---------------------------------------------------------------------------------------
# A quotation held in one way only by the words aligned with it is aligned as the
# aligner would.


def _reference_aligned(quoted: list[int], window: list[int], first: int, s0: int
                       ) -> WordAlignment:
    return prefer_matches(
        opcode_alignment(Levenshtein.opcodes(quoted, window), first, s0),
        np.array([0] * first + quoted), np.array([0] * s0 + window),
    )


@settings(max_examples=600, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=12),
       st.lists(st.integers(0, 5), max_size=30), st.data())
def test_embedding_is_the_alignment_when_there_is_one_way(
    quoted: list[int], noise: list[int], data: st.DataObject
) -> None:
    # The quotation side by side or spread over the window among other words, or not
    # all in it.
    window = list(noise)
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(window)))
        window[at:at] = quoted
    else:
        for word in quoted:
            window.insert(data.draw(st.integers(0, len(window))), word)
    if data.draw(st.booleans()):
        window = window[: data.draw(st.integers(0, len(window)))]
    first, s0 = data.draw(st.integers(0, 5)), data.draw(st.integers(0, 5))
    found = stage._embedding(_coded(quoted), first, s0, _coded(window))
    if found is not None:
        assert _ways(quoted, window) == 1
        assert found == _reference_aligned(quoted, window, first, s0)
    elif _ways(quoted, window) == 1 and _side_by_side(quoted, window):
        raise AssertionError("a quotation held word for word in one way only is missed")


def _coded(words: list[int]) -> str:
    """Words as ``_Coding`` gives them: one code point each, 0 for none quoted."""
    return "".join(chr(word + 1) for word in words)


def _side_by_side(quoted: list[int], window: list[int]) -> bool:
    return any(window[k : k + len(quoted)] == quoted for k in range(len(window)))


def _ways(quoted: list[int], window: list[int]) -> int:
    """How many ways ``window`` holds ``quoted`` in order (counted, up to 2)."""
    ways = [1] + [0] * len(quoted)  # ways[k]: ways the first k words are held so far
    for word in window:
        for k in range(len(quoted), 0, -1):
            if quoted[k - 1] == word:
                ways[k] = min(2, ways[k] + ways[k - 1])
    return ways[-1]


def test_embedding_finds_a_quotation_held_word_for_word() -> None:
    found = stage._embedding("\3\4\5", 10, 100, "\1\3\4\5\2")
    assert found == WordAlignment(
        (("insert", 10, 10, 100, 101), ("equal", 10, 13, 101, 104), ("insert", 13, 13, 104, 105)),
        3,
    )
    assert stage._embedding("\3\4\5", 0, 0, "\3\4\5\5") is None  # two ways
    assert stage._embedding("\3\4\5", 0, 0, "\3\4\2") is None  # not all there


# ---------------------------------------------------------------------------------------
# The bounds the search prunes with.


@settings(max_examples=300, deadline=None)
@given(st.floats(0.01, 1.0), st.integers(1, 2000))
def test_least_is_the_fewest_words_reaching_a_share(share: float, words: int) -> None:
    least = stage._least(share, words)
    assert least / words >= share
    assert least == 0 or (least - 1) / words < share


@pytest.mark.parametrize("seed", range(4))
def test_content_hits_count_the_words_each_source_has(seed: int) -> None:
    query, sources = _corpus(seed + 100)
    settings_ = Settings()
    q = prepare(query.text, settings_)
    rng = random.Random(seed)
    n = len(q.tokens)
    spans = [(a, min(n, a + rng.randint(1, 40))) for a in rng.sample(range(n), min(n, 25))]
    batched = stage._Lookup(q, sources, settings_)
    batched.count(spans)
    one_by_one = stage._Lookup(q, sources, settings_)
    for first, stop in spans:
        expected = {}
        for source in sources:
            has = set(prepare(source.text, settings_).tokens.ids.tolist())
            expected[source.id] = sum(
                1 for k in range(first, stop)
                if not q.tokens.stop[k] and int(q.tokens.ids[k]) in has
            )
        assert batched.content_hits(first, stop) == expected
        assert one_by_one.content_hits(first, stop) == expected


@pytest.mark.parametrize("seed", range(4))
def test_pair_hits_counted_together_are_those_counted_apart(seed: int) -> None:
    """Word pairs counted for some ranges at once, and for others when asked, are the
    pairs each source has, repeats counted."""
    query, sources = _corpus(seed + 200)
    settings_ = Settings()
    q = prepare(query.text, settings_)
    rng = random.Random(seed)
    n = len(q.tokens)
    spans = [(a, min(n, a + rng.randint(0, 40))) for a in rng.sample(range(n), min(n, 25))]
    lookup = stage._Lookup(q, sources, settings_)
    lookup.count(spans[::2])
    q_ids = q.tokens.ids.tolist()
    for first, stop in spans:
        expected = {}
        for source in sources:
            s_ids = prepare(source.text, settings_).tokens.ids.tolist()
            has = set(pairwise(s_ids))
            expected[source.id] = sum(
                1 for k in range(first, stop - 1) if (q_ids[k], q_ids[k + 1]) in has
            )
        assert lookup.hits(first, stop, single=False) == expected


def test_empty_ranges_have_no_hits() -> None:
    settings_ = Settings()
    q = prepare("the dock city strike of the port", settings_)
    sources = [Document(id="a", text="the dock city"), Document(id="b", text="strike")]
    lookup = stage._Lookup(q, sources, settings_)
    lookup.count([(0, 0), (1, 4), (4, 4)])
    assert lookup.hits(1, 4, single=True) == {"a": 2, "b": 1}
    for first in (0, 2, 4):
        for single in (True, False):
            assert lookup.hits(first, first, single=single) == {"a": 0, "b": 0}
        assert lookup.content_hits(first, first) == {"a": 0, "b": 0}
        assert lookup.most(first, first) == 0


@pytest.mark.parametrize("seed", range(6))
def test_windows_never_match_more_than_their_common_words(seed: int) -> None:
    """What each window's alignment matches is at most its longest common subsequence
    with the quotation, and that is at most the bound of the source."""
    query, sources = _corpus(seed + 200)
    settings_ = Settings()
    q = prepare(query.text, settings_)
    lookup = stage._Lookup(q, sources, settings_)
    rng = random.Random(seed)
    n = len(q.tokens)
    checked = 0
    for _ in range(20):
        first = rng.randrange(n)
        stop = min(n, first + rng.choice([2, 8, 30, 150]))
        quote = stage._Quote(q, first, stop, lookup)
        quoted = q.tokens.ids[first:stop].tolist()
        for source in sources:
            search = quote.search(source.id)
            listed = lookup.prepared[source.id].tokens.ids.tolist()
            bound = search.bound()
            if len(listed) <= stage._WHOLE_SOURCE * quote.words:
                assert bound == _lcs(quoted, listed)
            else:
                assert bound == quote.words
            for lo, hi in search.windows:
                common = search.common(lo, hi)
                assert common <= bound
                assert common == _lcs(quoted, listed[lo:hi])
                reference = _reference_locate_window(q, first, stop, search.s, lo, hi)
                assert reference.equal <= common
                checked += 1
    assert checked > 20


@pytest.mark.parametrize(("seed", "codes"), [(seed, codes) for seed in range(4)
                                            for codes in (3, 40, stage._CODES)])
def test_coded_words_compare_as_their_ids(seed: int, codes: int) -> None:
    """Longest common subsequences and edit scripts of coded words are those of the
    words' ids, whether the spans were coded together, in groups, or one by one."""
    query, sources = _corpus(seed + 400)
    settings_ = Settings()
    q = prepare(query.text, settings_)
    rng = random.Random(seed)
    n = len(q.tokens)
    spans = [(a, min(n, a + rng.randint(1, 60))) for a in rng.sample(range(n), min(n, 12))]
    old = stage._CODES
    stage._CODES = codes
    try:
        lookup = stage._Lookup(q, sources, settings_)
        lookup.count(spans[:8])
        for first, stop in spans:  # the last ones were not counted: coded on their own
            quoted, coding = lookup.coded(first, stop)
            q_ids = q.tokens.ids[first:stop].tolist()
            assert len(quoted) == stop - first
            for source in sources:
                s_ids = lookup.prepared[source.id].tokens.ids.tolist()
                coded = coding.source(source.id)
                assert len(coded) == len(s_ids)
                lo = rng.randrange(len(s_ids) + 1)
                hi = rng.randint(lo, len(s_ids))
                assert LCSseq.similarity(quoted, coded[lo:hi]) == _lcs(q_ids, s_ids[lo:hi])
                assert Levenshtein.opcodes(quoted, coded[lo:hi]).as_list() == (
                    Levenshtein.opcodes(q_ids, s_ids[lo:hi]).as_list()
                )
    finally:
        stage._CODES = old


def test_a_long_quotation_is_bounded_by_the_whole_source() -> None:
    rng = random.Random(3)
    source = Document(id="s", text=" ".join(_words(rng, 600)))
    query = Document(id="q", text=" ".join(_words(rng, 200)))
    settings_ = Settings()
    q = prepare(query.text, settings_)
    lookup = stage._Lookup(q, [source], settings_)
    quote = stage._Quote(q, 10, 160, lookup)
    bound = quote.search("s").bound()
    assert bound == _lcs(
        q.tokens.ids[10:160].tolist(), lookup.prepared["s"].tokens.ids.tolist()
    ) < quote.words


def _lcs(a: list[int], b: list[int]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        previous = 0
        for j, y in enumerate(b):
            previous, row[j + 1] = row[j + 1], (
                previous + 1 if x == y else max(row[j + 1], row[j])
            )
    return row[-1]


def _reference_locate_window(
    q: Prepared, first: int, stop: int, s: Prepared, lo: int, hi: int
) -> WordAlignment:
    if stop - first >= 100:
        return _ReferenceCoded(q.tokens.ids[first:stop]).align(first, s.tokens.ids, lo, hi)
    return prefer_matches(
        align_words(q.tokens, first, stop, s.tokens, lo, hi), q.tokens.ids, s.tokens.ids
    )


# ---------------------------------------------------------------------------------------
# Passages outside quotations, their drift and shared errors.


@pytest.mark.parametrize("seed", range(6))
def test_alignments_shared_with_drift_give_its_word_changes(seed: int) -> None:
    query, sources = _corpus(seed + 300)
    settings_ = Settings()
    q = prepare(query.text, settings_)
    rng = random.Random(seed)
    alignments = stage._Alignments(q)
    for _ in range(30):
        source = rng.choice(sources)
        s = prepare(source.text, settings_)
        if not len(s.tokens):
            continue
        q0 = rng.randrange(len(q.tokens))
        q1 = min(len(q.tokens), q0 + rng.randint(1, 40))
        s0 = rng.randrange(len(s.tokens))
        s1 = min(len(s.tokens), s0 + rng.randint(1, 40))
        plain = list(stage._word_changes(
            q.tokens, s.tokens, align_words(q.tokens, q0, q1, s.tokens, s0, s1)
        ))
        if rng.random() < 0.5:
            assert alignments.differences(s, source.id, q0, q1, s0, s1) == differences(
                q.tokens, s.tokens, align_words(q.tokens, q0, q1, s.tokens, s0, s1)
            )
        assert list(alignments.word_changes(s, source.id, q0, q1, s0, s1)) == plain


def _reference_shared_errors(
    text: str, p: Passage, source: Document | None, label: str
) -> list[stage.Finding]:
    if source is None:
        return []
    q_words = set(stage._LOWER_WORD.findall(text, p.query_start, p.query_end))
    s_words = set(stage._LOWER_WORD.findall(source.text, p.source_start, p.source_end))
    shared = sorted(w for w in q_words & s_words if stage._oddity(w))
    out = []
    for word in shared:
        found = stage.regex.search(
            rf"(?<![\p{{L}}]){word}(?![\p{{L}}])", text, pos=p.query_start, endpos=p.query_end
        )
        at = found.start() if found else p.query_start
        out.append(stage.replace(
            stage._about(p, stage.FindingType.SHARED_ERROR,
                         f"“{word}”, {stage._oddity(word)}, also appears in {label}",
                         (("word", word),)),
            start=at, end=at + len(word),
        ))
    return out


_ODD = ["recieved", "occured", "teh", "zorbly", "the", "dock", "city", "harbour", "Recieved",
        "qwertyx", "seperate"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_ODD), max_size=12), st.lists(st.sampled_from(_ODD), max_size=12))
def test_shared_errors_are_those_of_both_sides(query: list[str], source: list[str]) -> None:
    q_text, s_text = " ".join(query), " ".join(source)
    p = Passage(query_start=0, query_end=len(q_text), source_id="s", source_start=0,
                source_end=len(s_text), kind=Kind.COPY, score=1.0)
    doc = Document(id="s", text=s_text)
    assert stage._shared_errors(q_text, p, doc, "S") == _reference_shared_errors(
        q_text, p, doc, "S"
    )


# ASCII letters, figures and marks; and others that are letters (lower case, upper case,
# title case), figures or marks beyond ASCII.
_ASCII_ALPHABET = "abcdefxyzABCZ0189'- .,\n\t"
_BEYOND_ASCII = "’éÉßǅ²Ⅻİ—“"


@settings(max_examples=1500, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=_ASCII_ALPHABET, max_size=40),
        st.text(alphabet=_ASCII_ALPHABET + _BEYOND_ASCII, max_size=40),
    ),
    st.integers(0, 44),
    st.integers(0, 44),
)
def test_lower_case_words_are_those_the_pattern_finds(text: str, start: int, end: int) -> None:
    """The whole lower-case words of a span are those ``_LOWER_WORD`` finds there, ASCII
    or not (its look-behind reads the character before the span)."""
    assert stage._lower_words(text, start, end) == stage._LOWER_WORD.findall(text, start, end)


def test_lower_case_words_are_found_with_the_character_before_the_span() -> None:
    assert stage._lower_words("well-known ’tis ab", 5, 18) == ["ab"]
    assert stage._lower_words("don't re-use x2y", 0, 16) == ["don", "re"]
    assert stage._lower_words("recieved it", 0, 4) == ["reci"]
    assert stage._lower_words("Ægir saw teh dock", 5, 17) == ["saw", "teh", "dock"]


def _reference_hits(lookup: stage._Lookup, first: int, stop: int, *, single: bool
                    ) -> tuple[dict[str, int], dict[str, int]]:
    """The hits of a span (and its content words' hits, for words), as ``_Lookup`` counted
    them: each source's keys sorted by themselves, the span's distinct keys looked up
    among them."""
    q_keys = stage._keys(lookup._q_ids[first:stop], single=single)
    hits, content = {}, {}
    for source_id, s in lookup.prepared.items():
        if not len(q_keys):
            hits[source_id] = content[source_id] = 0
            continue
        distinct, which = np.unique(q_keys, return_inverse=True)
        s_keys = np.sort(stage._keys(s.tokens.ids, single=single))
        has = np.zeros(len(distinct), dtype=np.int64)
        if len(s_keys):
            at = np.minimum(s_keys.searchsorted(distinct), len(s_keys) - 1)
            has = (s_keys[at] == distinct).astype(np.int64)
        hits[source_id] = int(has[which].sum())
        if single:
            content[source_id] = int((has[which] * lookup._q_content[first:stop]).sum())
    return hits, content


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(_ODD[:7]), max_size=30),
    st.lists(st.lists(st.sampled_from(_ODD[:7]), max_size=12), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=6),
)
def test_hits_are_those_of_each_source_sorted_apart(
    query: list[str], sources: list[list[str]], spans: list[tuple[int, int]]
) -> None:
    """The pairs of a source are sorted once, as the table of where they occur (which
    its search uses too): the hits are those of each source's keys sorted apart, for
    sources of no word or one word too."""
    settings_ = Settings()
    q = prepare(" ".join(query), settings_)
    docs = [Document(id=f"s{k}", text=" ".join(words)) for k, words in enumerate(sources)]
    n = len(q.tokens)
    spans = [(min(a, b, n), min(max(a, b), n)) for a, b in spans]
    lookup = stage._Lookup(q, docs, settings_)
    lookup.count(spans[::2])
    for first, stop in spans:
        for single in (True, False):
            hits, content = _reference_hits(lookup, first, stop, single=single)
            assert lookup.hits(first, stop, single=single) == hits
            if single:
                assert lookup.content_hits(first, stop) == content
    for doc in docs:
        table = lookup.table(doc.id, single=False)
        keys = stage._keys(lookup.prepared[doc.id].tokens.ids, single=False)
        assert table.keys.tolist() == np.sort(keys).tolist()
        assert table.listed == np.argsort(keys, kind="stable").tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=10),
       st.integers(0, 50), st.integers(1, 30))
def test_cutting_only_the_overlapping_spans_cuts_the_same(
    spans: list[tuple[int, int]], start: int, length: int
) -> None:
    text = " ".join(["word"] * 20)
    spans = sorted((a, b) for a, b in spans if a < b)
    doc = Document(id="s", text=text)
    settings_ = Settings(min_words=1)
    q = prepare(text, settings_)
    passage = Passage(query_start=start, query_end=min(len(text), start + length),
                      source_id="s", source_start=0, source_end=len(text), kind=Kind.COPY,
                      score=1.0)
    overlapping = [spans[k] for k in sorted(
        stage._Overlaps(spans)(passage.query_start, passage.query_end)
    )]
    none = stage._Within([])
    cut = stage._cut(q, passage, overlapping, {"s": doc}, settings_, stage._Alignments(q), none)
    everything = stage._cut(q, passage, spans, {"s": doc}, settings_, stage._Alignments(q), none)
    assert cut == everything


def _reference_cut(
    q: Prepared,
    passage: Passage,
    spans: Sequence[tuple[int, int]],
    by_id: dict[str, Document],
    settings: Settings,
    alignments: stage._Alignments,
    marks: Sequence[tuple[int, int]],
) -> list[Passage]:
    pieces = [(passage.query_start, passage.query_end)]
    for a, b in spans:
        nxt = []
        for x, y in pieces:
            if b <= x or a >= y:
                nxt.append((x, y))
                continue
            if x < a:
                nxt.append((x, a))
            if b < y:
                nxt.append((b, y))
        pieces = nxt
    source = by_id.get(passage.source_id)
    if source is None:
        return []
    s = prepare(source.text, settings, source.excluded)
    s_first, s_stop = span_tokens(s, passage.source_start, passage.source_end)
    out = []
    whole = pieces == [(passage.query_start, passage.query_end)]
    for x, y in pieces:
        first, stop = span_tokens(q, x, y)
        if not whole:
            def in_mark(k: int) -> bool:
                return any(a <= q.tokens.starts[k] and q.tokens.ends[k] <= b for a, b in marks)

            while first < stop and in_mark(first):
                first += 1
            while stop > first and in_mark(stop - 1):
                stop -= 1
        needed = settings.min_words if whole else max(settings.min_words, stage.PIECE_WORDS)
        if stop - first < needed or s_stop <= s_first:
            continue
        s0, s1 = s_first, s_stop
        alignment = alignments.align(s, passage.source_id, first, stop, s0, s1)
        if whole:
            qs, qe = passage.query_start, passage.query_end
            ss, se = passage.source_start, passage.source_end
        else:
            if stage._containment(q, first, stop, s, s_first, s_stop) < stage.PIECE_CONTAINMENT:
                continue
            blocks = alignment.equal_blocks()
            if not blocks:
                continue
            if passage.kind is Kind.COPY or stage._longest_run(alignment) >= stage.COPY_RUN:
                runs = alignment.equal_blocks(2) or blocks
                s0, s1 = runs[0][2], runs[-1][3]
                alignment = alignments.align(s, passage.source_id, first, stop, s0, s1)
            qs, qe = stage._span(q, alignment, query_side=True)
            ss, se = stage._span(s, alignment, query_side=False)
        run = stage._longest_run(alignment)
        kind = Kind.COPY if run >= stage.COPY_RUN else Kind.PARAPHRASE
        out.append(
            stage.replace(
                passage,
                query_start=qs,
                query_end=qe,
                source_start=ss,
                source_end=se,
                kind=kind,
                differences=alignments.differences(s, passage.source_id, first, stop, s0, s1),
            )
        )
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 300)), max_size=4),
       st.integers(0, 200), st.integers(1, 300), st.sampled_from([Kind.COPY, Kind.PARAPHRASE]),
       st.sampled_from([None, *Attribution]), st.sampled_from(["ngram", "citation"]),
       st.lists(st.tuples(st.integers(0, 3), st.integers(1, 12)), max_size=4))
def test_cutting_gives_the_pieces_replace_gives(
    spans: list[tuple[int, int]], start: int, length: int, kind: Kind,
    attribution: Attribution | None, method: str, marks: list[tuple[int, int]],
) -> None:
    """Passages kept whole, and cut into pieces (their ends out of citation marks), with
    all their fields."""
    text = " ".join(["dock", "city", "strike", "workers", "the", "port"] * 10)
    spans = sorted((a, b) for a, b in spans if a < b)
    # A citation mark often follows a quotation cut out, a little after its end.
    marks = [(b + gap, b + gap + n) for (_, b), (gap, n) in zip(spans, marks)]
    doc = Document(id="s", text=text[7:] + " nine")
    settings_ = Settings(min_words=1)
    q, s = prepare(text, settings_), prepare(doc.text, settings_)
    end = min(len(text), start + length)
    # A passage as the aligner gives it: the differences of its tokens aligned.
    q0, q1 = span_tokens(q, start, end)
    found = differences(
        q.tokens, s.tokens, align_words(q.tokens, q0, q1, s.tokens, 0, len(s.tokens))
    )
    passage = Passage(query_start=start, query_end=end, source_id="s", source_start=0,
                      source_end=len(doc.text), kind=kind, score=0.75, differences=found,
                      attribution=attribution, method=method)
    assert stage._cut(
        q, passage, spans, {"s": doc}, settings_, stage._Alignments(q), stage._Within(marks)
    ) == _reference_cut(q, passage, spans, {"s": doc}, settings_, stage._Alignments(q), marks)


def _reference_differences(query: Tokens, source: Tokens, alignment: WordAlignment
                           ) -> tuple[Difference, ...]:
    """``differences`` as it was: every matched word and every gap compared one by one."""
    out: list[Difference] = []
    qt, st_ = query.text, source.text
    for tag, i1, i2, j1, j2 in alignment.opcodes:
        if tag == "equal":
            q_starts, q_ends = query.starts[i1:i2].tolist(), query.ends[i1:i2].tolist()
            s_starts, s_ends = source.starts[j1:j2].tolist(), source.ends[j1:j2].tolist()
            last = i2 - i1 - 1
            for k, (qs, qe, ss, se) in enumerate(zip(q_starts, q_ends, s_starts, s_ends)):
                qw, sw = qt[qs:qe], st_[ss:se]
                if qw != sw:
                    out.append(Difference(qw, sw, classify_words(qw, sw), qs, qe, ss, se))
                if k < last:
                    qn, sn = q_starts[k + 1], s_starts[k + 1]
                    q_gap, s_gap = qt[qe:qn], st_[se:sn]
                    if q_gap != s_gap and not (q_gap.isspace() and s_gap.isspace()):
                        out.extend(diff._mark_differences(qt, qe, qn, st_, se, sn))
            continue
        qs = int(query.starts[i1]) if i2 > i1 else diff._gap_position(query, i1)
        qe = int(query.ends[i2 - 1]) if i2 > i1 else qs
        ss = int(source.starts[j1]) if j2 > j1 else diff._gap_position(source, j1)
        se = int(source.ends[j2 - 1]) if j2 > j1 else ss
        kind = {"replace": DiffType.WORD, "delete": DiffType.INSERTION,
                "insert": DiffType.OMISSION}[tag]
        out.append(Difference(qt[qs:qe], st_[ss:se], kind, qs, qe, ss, se))
    return tuple(out)


_PIECES = ["dock", "Dock", "city", "“city”", "colour", "color", "1911", "nine", "co-op",
           "twenty five", "the", "-", "—", "--", " -- ", ",", ", ", ",\n", ";", "'s", "’s",
           "\n", "  ", "\x1c", "\u00a0"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=40), st.data())
def test_differences_are_those_of_every_word_and_gap_compared(
    words: list[str], data: st.DataObject
) -> None:
    """Matched runs compared as whole texts, and gaps by their marks between white space,
    give what comparing each word and gap gives: when the two sides are the same text,
    differ in a few places, or are tokenized differently around them; for the whole
    alignment, its opcodes other than the matched runs (as drift asks), or a part."""
    source_words = list(words)
    for _ in range(data.draw(st.integers(0, 3))):
        source_words[data.draw(st.integers(0, len(words) - 1))] = data.draw(
            st.sampled_from(_PIECES)
        )
    prefix = data.draw(st.sampled_from(["", "x ", "twenty ", "co-"]))
    source_text = prefix + " ".join(source_words * 3)
    # Wrapped at other places: some spaces of the source are line breaks.
    wraps = data.draw(st.sets(st.integers(0, len(source_text) - 1), max_size=8))
    source_text = "".join(
        "\n" if k in wraps and c == " " else c for k, c in enumerate(source_text)
    )
    settings_ = Settings()
    q = prepare(" ".join(words * 3), settings_).tokens
    s = prepare(source_text, settings_).tokens
    alignment = align_words(q, 0, len(q), s, 0, len(s))
    ops = alignment.opcodes
    lo = data.draw(st.integers(0, len(ops)))
    hi = data.draw(st.integers(lo, len(ops)))
    for part in (
        alignment,
        WordAlignment(tuple(op for op in ops if op[0] != "equal"), 0),
        WordAlignment(ops[lo:hi], 0),
    ):
        assert differences(q, s, part) == _reference_differences(q, s, part)


def _reference_prefer_matches(
    alignment: WordAlignment, query_ids: np.ndarray, source_ids: np.ndarray
) -> WordAlignment:
    """``prefer_matches`` as it was: each opcode unpacked to find a replaced run."""
    if not any(tag == "replace" for tag, *_ in alignment.opcodes):
        return alignment
    out: list[tuple[str, int, int, int, int]] = []
    equal = alignment.equal
    for op in alignment.opcodes:
        tag, i1, i2, j1, j2 = op
        if tag != "replace" or max(i2 - i1, j2 - j1) > diff.PREFER_RUN or not set(
            query_ids[i1:i2].tolist()
        ) & set(source_ids[j1:j2].tolist()):
            out.append(op)
            continue
        found = cast(
            list[tuple[str, int, int, int, int]],
            Indel.opcodes(query_ids[i1:i2].tolist(), source_ids[j1:j2].tolist()).as_list(),
        )
        pending: list[tuple[str, int, int, int, int]] = []
        for sub_tag, a1, a2, b1, b2 in found:
            piece = (sub_tag, a1 + i1, a2 + i1, b1 + j1, b2 + j1)
            if sub_tag == "equal":
                out.extend(diff._joined(pending))
                pending = []
                out.append(piece)
                equal += a2 - a1
            else:
                pending.append(piece)
        out.extend(diff._joined(pending))
    if equal == alignment.equal:
        return alignment
    return WordAlignment(tuple(out), equal)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=30), st.lists(st.integers(0, 6), max_size=30))
def test_preferring_matches_gives_what_it_gave(query: list[int], source: list[int]) -> None:
    """Alignments with and without replaced runs (few words: many of them shared) are
    split as before, and one without any is handed back as it is."""
    q_ids, s_ids = np.array(query, dtype=np.uint64), np.array(source, dtype=np.uint64)
    alignment = opcode_alignment(Levenshtein.opcodes(query, source), 0, 0)
    found = prefer_matches(alignment, q_ids, s_ids)
    assert found == _reference_prefer_matches(alignment, q_ids, s_ids)
    if all(op[0] != "replace" for op in alignment.opcodes):
        assert found is alignment


_GAPS = [" ", "\n", "  ", " \n", ", ", ",\n", ",", " , ", "; ", ". ", " — ", "—", " -- ",
         "--", "-- -", "- --", "- -", "---", " ‘", " '", "’ ", "' ", "\x1c", "\u00a0", ",\x1c",
         "\u2003—\u2003", " (", "( "]


def test_gaps_are_compared_as_every_mark_is() -> None:
    """Every pair of gaps between two matched words gives the differences of comparing
    their marks, white space apart (dashes split differently included)."""
    settings_ = Settings()
    for q_gap in _GAPS:
        q = prepare(f"dock{q_gap}city", settings_).tokens
        for s_gap in _GAPS:
            s = prepare(f"dock{s_gap}city", settings_).tokens
            alignment = align_words(q, 0, len(q), s, 0, len(s))
            assert differences(q, s, alignment) == _reference_differences(q, s, alignment), (
                q_gap, s_gap
            )


def test_the_texts_compared_hold_every_kind_of_difference() -> None:
    """The pieces the differences are checked on give differences of every type, and
    gaps that differ in white space alone."""
    settings_ = Settings()
    q = prepare("the “city” — dock, colour co-op", settings_).tokens
    s = prepare("The \"city\" -- Dock;\ncolor co-op the", settings_).tokens
    found = differences(q, s, align_words(q, 0, len(q), s, 0, len(s)))
    assert {d.type for d in found} >= {
        DiffType.CASE, DiffType.TYPOGRAPHY, DiffType.SPELLING, DiffType.OMISSION
    }


def test_runs_the_same_text_are_not_compared_word_by_word() -> None:
    """A matched run with the same text, or the same text wrapped at other places, is
    known to show no difference at once; a changed word or white space within a gap
    changed for other white space is not."""
    settings_ = Settings()
    text = " ".join(_VOCABULARY[15:]) + " " + " ".join(_VOCABULARY[15:])
    q = prepare(text, settings_).tokens
    for source_text, same in ((text, True), (text.replace("dock", "Dock"), False),
                              (text.replace(" ", "\n"), True),
                              (text.replace(" ", "  "), False)):
        s = prepare(source_text, settings_).tokens
        spans = (q.starts.tolist(), q.ends.tolist(), s.starts.tolist(), s.ends.tolist())
        assert diff._same_text(q.text, s.text, *spans) is same, source_text
        assert differences(q, s, align_words(q, 0, len(q), s, 0, len(s))) == (
            _reference_differences(q, s, align_words(q, 0, len(q), s, 0, len(s)))
        )
    # The same text with its words at other places ("co-op" as one word, "co" and "op")
    # is not the same run.
    assert diff._same_text("co-op x", "co-op x", [0, 6], [5, 7], [0, 6], [5, 7])
    assert not diff._same_text("co-op x", "co-op x", [0, 6], [5, 7], [0, 3], [2, 7])
    assert not diff._same_text("co-op x", "co-op x", [0, 6], [5, 7], [0, 6], [4, 7])


# ---------------------------------------------------------------------------------------
# Citations and attribution.


def _reference_attribute(passage: Passage, covers: stage._Covering) -> Passage:
    covering = covers(passage.query_start, passage.query_end)
    if not covering:
        return stage.replace(passage, attribution=Attribution.UNCITED)
    if any(r.source_id == passage.source_id for r in covering):
        return stage.replace(passage, attribution=Attribution.CITED)
    return stage.replace(passage, attribution=Attribution.MISCITED)


def _reference_by_evidence(
    mark: CitationMark, passages: Sequence[Passage], by_id: dict[str, Document]
) -> str | None:
    a, b = mark.covers
    found = {p.source_id for p in passages if p.query_start < b and a < p.query_end}
    if len(found) != 1:
        return None
    source = by_id.get(next(iter(found)))
    if source is None or source.author or source.title:
        return None
    return source.id


_SPAN = st.tuples(st.integers(0, 40), st.integers(0, 40)).map(lambda span: tuple(sorted(span)))
_PASSAGE = st.builds(
    lambda span, source, kind, fidelity, method: Passage(
        query_start=span[0], query_end=span[1], source_id=source, source_start=3,
        source_end=9, kind=kind, score=0.5, fidelity=fidelity, method=method,
        differences=(Difference("a", "b", DiffType.WORD, 1, 2, 3, 4),),
    ),
    _SPAN, st.sampled_from(["s1", "s2", "s3"]), st.sampled_from(list(Kind)),
    st.sampled_from([None, *Fidelity]), st.sampled_from(["ngram", "quotation"]),
)
_RESOLVED = st.builds(
    lambda span, source, style: stage._Resolved(
        CitationMark(start=span[0], end=span[0] + 1, text="(X)", style=style, covers=span),
        source, None,
    ),
    _SPAN, st.sampled_from([None, "s1", "s2"]), st.sampled_from(["parenthetical", "reference"]),
)


def test_passages_and_citations_are_built_with_all_their_fields() -> None:
    # ``_attribute`` and ``classify`` list the fields of a passage and of a citation in
    # their order: one added must be added there too.
    assert [f.name for f in fields(Passage)] == [
        "query_start", "query_end", "source_id", "source_start", "source_end", "kind",
        "score", "differences", "fidelity", "attribution", "method",
    ]
    assert [f.name for f in fields(Citation)] == [
        "start", "end", "text", "source_id", "status", "style", "method",
    ]
    # (The builders below set the slots of these and of findings and differences in the
    # order of their fields.)
    assert [f.name for f in fields(Finding)] == [
        "type", "start", "end", "message", "source_id", "source_start", "source_end",
        "evidence",
    ]
    assert [f.name for f in fields(Difference)] == [
        "query", "source", "type", "query_start", "query_end", "source_start", "source_end",
    ]


_TEXT = st.text(max_size=6)
_OPTIONAL_INT = st.none() | st.integers(0, 99)
_DIFFERENCE = st.builds(
    Difference, _TEXT, _TEXT, st.sampled_from(DiffType), st.integers(0, 99),
    st.integers(0, 99), st.integers(0, 99), st.integers(0, 99),
)


def _same_object(built: object, reference: object) -> None:
    """``built`` is what ``reference`` (made by its ``__init__``) is: equal, of the same
    class, with the same hash and repr, and the same once pickled or as a dict."""
    assert type(built) is type(reference)
    assert built == reference
    assert hash(built) == hash(reference)
    assert repr(built) == repr(reference)
    assert pickle.loads(pickle.dumps(built)) == reference
    assert asdict(built) == asdict(reference)  # type: ignore[call-overload]


@settings(max_examples=200, deadline=None)
@given(
    st.tuples(
        st.integers(0, 99), st.integers(0, 99), _TEXT, st.integers(0, 99), st.integers(0, 99),
        st.sampled_from(Kind), st.floats(0, 1), st.lists(_DIFFERENCE, max_size=3).map(tuple),
        st.none() | st.sampled_from(Fidelity), st.none() | st.sampled_from(Attribution), _TEXT,
    ),
    st.tuples(
        st.integers(0, 99), st.integers(0, 99), _TEXT, st.none() | _TEXT,
        st.sampled_from(CitationStatus), _TEXT, st.none() | _TEXT,
    ),
    st.tuples(
        _TEXT, st.integers(0, 99), st.integers(0, 99), _TEXT, st.none() | _TEXT,
        _OPTIONAL_INT, _OPTIONAL_INT, st.lists(st.tuples(_TEXT, _TEXT), max_size=2).map(tuple),
    ),
    _DIFFERENCE,
)
def test_results_built_by_their_slots_are_those_their_init_builds(
    passage: tuple[Any, ...], citation: tuple[Any, ...], finding: tuple[Any, ...],
    difference: Difference,
) -> None:
    """The passages, citations, findings and differences built by setting their slots
    are those their classes' ``__init__`` builds from the same fields."""
    _same_object(stage._passage(*passage), Passage(*passage))
    _same_object(stage._citation(*citation), Citation(*citation))
    _same_object(stage._finding(*finding), Finding(*finding))
    fields_ = [getattr(difference, f.name) for f in fields(Difference)]
    _same_object(diff._difference(*fields_), Difference(*fields_))
    # Frozen all the same.
    with pytest.raises(FrozenInstanceError):
        stage._passage(*passage).score = 0.5  # type: ignore[misc]


def test_a_slot_builder_takes_the_fields_defaults_and_refuses_a_default_factory() -> None:
    from stemmatic.types import Quotation, Report, slot_builder

    build = slot_builder(Quotation)
    assert build(3, 9, "“", "”") == Quotation(3, 9, "“", "”")  # block defaults to False
    assert build(3, 9, "", "", True) == Quotation(3, 9, "", "", True)
    assert build(start=1, end=2, open_mark="'", close_mark="'").end == 2
    with pytest.raises(TypeError, match="settings has a default factory"):
        slot_builder(Report)


@settings(max_examples=300, deadline=None)
@given(_PASSAGE, st.lists(_RESOLVED, max_size=6))
def test_attributing_gives_the_passage_replace_gives(
    passage: Passage, resolved: list[stage._Resolved]
) -> None:
    covers = stage._Covering(resolved)
    assert stage._attribute(passage, covers) == _reference_attribute(passage, covers)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PASSAGE, max_size=8), _SPAN, st.booleans())
def test_evidence_finds_the_one_source_of_the_passages_cited(
    passages: list[Passage], covers: tuple[int, int], titled: bool
) -> None:
    by_id = {
        "s1": Document(id="s1", text="x"),
        "s2": Document(id="s2", text="x", title="A Title" if titled else None),
    }
    mark = CitationMark(start=0, end=1, text="(X)", style="parenthetical", covers=covers)
    assert stage._by_evidence(mark, stage._Near(passages), by_id) == _reference_by_evidence(
        mark, passages, by_id
    )


def _reference_sentence_of(q: Prepared, mark: CitationMark) -> tuple[int, int]:
    """The sentence of a citation as it was looked up, one citation at a time."""
    k = int(q.tokens.starts.searchsorted(mark.start)) - 1
    covers = mark.covers
    if k < 0 or q.tokens.ends[k] <= covers[0]:
        k = int(q.tokens.starts.searchsorted(mark.end))
        if k >= len(q.tokens) or q.tokens.starts[k] >= covers[1]:
            return 0, 0
    sentence = int(q.tok_sent[k])
    return int(q.sent_start[sentence]), int(q.sent_end[sentence])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["dock", "city.", "Strike", "workers!", "the", "(Smith 2004)",
                                 "[3]", "\n\n", "1911", "—"]), max_size=30), st.data())
def test_sentences_of_citations_are_those_looked_up_one_by_one(
    words: list[str], data: st.DataObject
) -> None:
    """Citations before, inside, after the words, at their edges, with scopes that hold
    the words around them or not (their ends often at the words' edges), and a text
    with no words."""
    q = prepare(" ".join(words), Settings())
    edges = st.sampled_from(sorted({0, len(q.tokens.text), *q.tokens.starts.tolist(),
                                    *q.tokens.ends.tolist()}))
    place = st.one_of(edges, st.integers(0, len(q.tokens.text) + 5))
    cited = []
    for _ in range(data.draw(st.integers(0, 8))):
        at, end, a, b = (data.draw(place) for _ in range(4))
        cited.append(CitationMark(start=min(at, end), end=max(at, end), text="(X)",
                                  style="parenthetical", covers=(min(a, b), max(a, b))))
    assert stage._sentences_of(q, cited) == [_reference_sentence_of(q, m) for m in cited]


def _reference_claim(
    q: Prepared, mark: CitationMark, span: tuple[int, int], cut: stage._Within, s: Prepared
) -> tuple[int, int, int, int, float] | None:
    first, stop = span_tokens(q, *span)
    keep = [
        k for k in range(first, stop)
        if not (mark.start <= q.tokens.starts[k] < mark.end)
        and not cut(int(q.tokens.starts[k]), int(q.tokens.ends[k]))
    ]
    content = {int(q.tokens.ids[k]) for k in keep if q.content[k]}
    if len(content) < stage.CLAIM_SHARED or not s.n_sentences:
        return None
    words = np.array(sorted(content), dtype=np.uint64)
    ids = s.tokens.ids
    at = np.minimum(words.searchsorted(ids), len(words) - 1)
    hits = np.flatnonzero((words[at] == ids) & s.content)
    if not len(hits):
        return None
    keys = np.unique(s.tok_sent[hits].astype(np.int64) * len(words) + at[hits])
    sentence, word = keys // len(words), keys % len(words)
    per_sentence = np.bincount(sentence, minlength=s.n_sentences)
    s_first = s_last = int(per_sentence.argmax())
    best = int(per_sentence[s_first])
    for k in np.flatnonzero(per_sentence[:-1] + per_sentence[1:] > best).tolist():
        shared = len(np.unique(word[(sentence == k) | (sentence == k + 1)]))
        if shared > best:
            best, s_first, s_last = shared, k, k + 1
    share = best / len(content)
    if best < stage.CLAIM_SHARED or share < stage.CLAIM_SHARE:
        return None
    q0, q1 = keep[0], keep[-1] + 1
    return (q0, q1, int(s.sent_first[s_first]), int(s.sent_stop[s_last]), share)


@settings(max_examples=400, deadline=None)
@given(st.lists(_SPAN, max_size=8), st.lists(st.integers(0, 45), max_size=24))
def test_words_inside_spans_are_those_looked_up_one_by_one(
    spans: list[tuple[int, int]], edges: list[int]
) -> None:
    """``_Within.holding``, which tells a claim the words cut out of its sentence."""
    edges = sorted(set(edges))
    # Words in order, not overlapping, not empty: each pair of successive edges, or
    # every other one.
    words = list(pairwise(edges))[:: 1 + len(edges) % 2]
    within = stage._Within(spans)
    assert within.holding([a for a, _ in words], [b for _, b in words]) == [
        within(a, b) for a, b in words
    ]


def test_claims_are_those_of_the_plain_search() -> None:
    """A cited sentence's claim, with the citation and quoted words left out, matched
    with the sentences of each source."""
    settings_ = Settings()
    found = 0
    for seed in range(12):
        query, sources = _corpus(seed + 500)
        q = prepare(query.text, settings_)
        rng = random.Random(seed)
        for _ in range(25):
            sentence = rng.randrange(q.n_sentences)
            span = (int(q.sent_start[sentence]), int(q.sent_end[sentence]))
            at = rng.randint(*span)
            mark = CitationMark(start=at, end=at + rng.randint(0, 12), text="(X)",
                                style="numeric")
            cut = stage._Within([
                (a, a + rng.randint(1, 40)) for a in rng.sample(range(len(query.text)), 3)
            ])
            for source in sources:
                s = prepare(source.text, settings_)
                claim = stage._claim(q, mark, span, cut, s)
                assert claim == _reference_claim(q, mark, span, cut, s)
                found += claim is not None
    assert found >= 10, found


def _reference_anchored_numbers(p: Prepared, first: int, stop: int) -> list[tuple[str, str]]:
    forms, keys = p.tokens.forms, p.tokens.keys
    out = []
    anchor = None
    for k in range(first, stop):
        if forms[k][:1].isdigit():
            if anchor is not None:
                out.append((anchor, forms[k]))
        elif p.content[k]:
            anchor = keys[k]
    return out


def _reference_edge_numbers(
    q: Prepared, s: Prepared, passage: tuple[tuple[int, int], tuple[int, int]],
    q_span: tuple[int, int], s_span: tuple[int, int],
) -> list[str]:
    q0, q1 = q_span
    s0, s1 = s_span
    (pq0, pq1), (ps0, ps1) = passage
    regions = []
    if q0 < pq0 and s0 == ps0 and s0 > 0:
        regions.append(((q0, pq0), (stage._previous_sentence(s, s0), s0)))
    if q1 > pq1 and s1 == ps1 and s1 < len(s.tokens):
        regions.append(((pq1, q1), (s1, stage._next_sentence(s, s1))))
    changed = []
    for (a0, a1), (b0, b1) in regions:
        source_numbers = _reference_anchored_numbers(s, b0, b1)
        source_forms = {form for _, form in source_numbers}
        before = dict(source_numbers)
        for anchor, form in _reference_anchored_numbers(q, a0, a1):
            if anchor in before and before[anchor] != form and form not in source_forms:
                changed.append(f"{before[anchor]} → {form}")
    return changed


_NUMBERED = ["drought", "of", "the", "wells", "1879", "1897", "ran", "dry", "nine", "ten",
             "city", "12", "docks", ".", "In"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_NUMBERED), min_size=1, max_size=40),
       st.lists(st.sampled_from(_NUMBERED), min_size=1, max_size=40), st.data())
def test_numbers_at_the_edges_are_those_of_the_plain_search(
    query: list[str], source: list[str], data: st.DataObject
) -> None:
    settings_ = Settings()
    q, s = prepare(" ".join(query), settings_), prepare(" ".join(source), settings_)
    n_q, n_s = len(q.tokens), len(s.tokens)
    if not n_q or not n_s:
        return
    pq0 = data.draw(st.integers(0, n_q - 1))
    pq1 = data.draw(st.integers(pq0 + 1, n_q))
    # The source side of the passage is whole sentences (where the writer joined them,
    # the numbers beside it are looked at).
    k0 = data.draw(st.integers(0, s.n_sentences - 1))
    k1 = data.draw(st.integers(k0, s.n_sentences - 1))
    ps0, ps1 = int(s.sent_first[k0]), int(s.sent_stop[k1])
    if ps1 <= ps0:
        return
    q_span = stage._sentence_tokens(q, pq0, pq1)
    s_span = stage._sentence_tokens(s, ps0, ps1)
    for p, a, b in ((q, pq0, pq1), (s, ps0, ps1)):
        assert stage._anchored_numbers(p, a, b) == _reference_anchored_numbers(p, a, b)
    passage = ((pq0, pq1), (ps0, ps1))
    assert stage._edge_numbers(q, s, passage, q_span, s_span) == _reference_edge_numbers(
        q, s, passage, q_span, s_span
    )
