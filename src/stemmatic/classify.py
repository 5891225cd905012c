"""What the query claims about its borrowing, checked against the sources.

Given the passages the aligner found, this stage

* checks every quotation against the sources, word by word (fidelity, differences,
  editorial marks), and cuts the aligned passages at quotation marks;
* resolves every citation to a source, by metadata or by evidence;
* decides the kind and attribution of every passage;
* turns what is wrong or notable into findings.

Everything here is a pure function of the texts and the passages.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from itertools import accumulate
from operator import itemgetter
from typing import NamedTuple, cast

import numpy as np
import regex
from rapidfuzz.distance import Indel, LCSseq, Levenshtein

from stemmatic.align.diff import (
    WordAlignment,
    align_words,
    classify_words,
    differences,
    opcode_alignment,
    prefer_matches,
)
from stemmatic.align.seeds import ranges
from stemmatic.align.units import Prepared, prepare, span_tokens, spans_tokens
from stemmatic.citations import CitationMark, find_citations, is_organization, resolve, zipf
from stemmatic.normalize import NEGATIONS, Tokens, tokenize
from stemmatic.quotes import code_points, quotations_and_paragraphs
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
    slot_builder,
)

# A quotation whose words are found at least this well in a source is a quotation of it.
QUOTE_FOUND = 0.5
# Shorter quotations (scare quotes, titles) are checked only when they match exactly.
QUOTE_MIN_WORDS = 5
# A quotation found nowhere is shown with its closest source passage only when that
# passage holds at least this share of its words, among them this many content words:
# below that, the words shared are the common ones any text of the language has ("the
# ... of a ..."), and pointing at them would send the reader to an unrelated page.
CLOSEST_MIN = 0.3
CLOSEST_CONTENT_WORDS = 2
# Besides the sources aligned around a quotation, this many of those sharing the most
# word pairs with it are searched.
QUOTE_CANDIDATES = 2
# A run of this many identical words outside quotation marks is an unquoted copy.
COPY_RUN = 8
# Words rarer than this (wordfreq's Zipf scale) shared by query and source are errors
# or coinages that betray derivation.
RARE_ZIPF = 1.0
# A word at most this frequent, whose one-letter slip gives a word this much more
# frequent, is a misspelling ("recieved" 2.75, "received" 5.16).
MISSPELLING_ZIPF = 3.2
MISSPELLING_GAP = 1.5
# A piece of a passage left over after cutting out quotations must still share this
# share of its content words with the source to stay a passage.
PIECE_CONTAINMENT = 0.5
# ...and be this long: a few words leading into a quotation often echo the source's own
# lead-in, which is no borrowing of its own.
PIECE_WORDS = 12

HARMLESS = frozenset({DiffType.TYPOGRAPHY, DiffType.CASE, DiffType.SPELLING, DiffType.EDITORIAL})
_ELLIPSIS = regex.compile(r"…|\.\s?\.\s?\.")


class FindingType:
    MISQUOTE = "misquote"
    UNQUOTED_COPY = "unquoted-copy"
    UNCITED = "uncited-passage"
    MISCITED = "miscited"
    NOT_IN_CORPUS = "citation-not-in-corpus"
    QUOTE_NOT_FOUND = "quotation-not-found"
    DRIFT = "drift"
    SHARED_ERROR = "shared-error"
    UNBALANCED_QUOTE = "unbalanced-quote"


FINDING_TYPES = (
    FindingType.MISQUOTE,
    FindingType.UNQUOTED_COPY,
    FindingType.UNCITED,
    FindingType.MISCITED,
    FindingType.NOT_IN_CORPUS,
    FindingType.QUOTE_NOT_FOUND,
    FindingType.DRIFT,
    FindingType.SHARED_ERROR,
    FindingType.UNBALANCED_QUOTE,
)


@dataclass(frozen=True, slots=True)
class Classified:
    passages: tuple[Passage, ...]
    citations: tuple[Citation, ...]
    quotations: tuple[Quotation, ...]
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...]


class _Resolved(NamedTuple):
    # (A named tuple: a trace resolves every citation, and it is made quicker than a
    # frozen dataclass.)
    mark: CitationMark
    source_id: str | None
    method: str | None


def classify(
    query: Document,
    sources: Sequence[Document],
    passages: Sequence[Passage],
    settings: Settings,
) -> Classified:
    """Check the query's quotations, citations and attribution against the sources.

    Args:
        query: the document checked.
        sources: the sources it was aligned with.
        passages: what :func:`stemmatic.align.align` found, offsets into ``query.text``;
            the differences of a passage kept whole are taken as it gave them.
        settings: the trace settings.

    Returns:
        Passages with kind, fidelity and attribution filled in (quotations become
        passages of their own), the citations and quotations found, and the findings.
    """
    text = query.text
    by_id = {s.id: s for s in sources}
    q = prepare(text, settings, query.excluded)
    side = _query_side(text, settings)
    quotations, quote_warnings = side.quotations, side.warnings
    references, in_text = side.references, side.in_text

    quoted: list[Passage] = []
    missing: list[tuple[Quotation, tuple[str, float, int, int] | None]] = []
    # Short quotations matching no source whole, with their tokens: looked for again in
    # the source a citation gives them (below).
    short: list[tuple[Quotation, int, int]] = []
    lookup = _Lookup(q, sources, settings)
    quoted_words = side.quoted_words
    spans = spans_tokens(q, [qu.start for qu in quoted_words], [qu.end for qu in quoted_words])
    lookup.count(spans)
    near_sources = _Near(passages)
    for quotation, (first, stop) in zip(quoted_words, spans):
        checked = _check_quotation(
            q, quotation, first, stop, near_sources, sources, settings, lookup
        )
        if isinstance(checked, Passage):
            quoted.append(checked)
        elif checked is not None:
            missing.append((quotation, checked[1]))
        elif stop - first >= 2 and lookup.most(first, stop) >= _short_least(stop - first):
            short.append((quotation, first, stop))

    # Words inside quotation marks and inside the reference list are not borrowed prose.
    alignments = _Alignments(q)
    cut_spans = sorted([(p.query_start, p.query_end) for p in quoted] + list(side.cut_spans))
    plain: list[Passage] = []
    cutting = _Overlaps(cut_spans)
    marks = _Within([(m.start, m.end) for m in in_text])
    for passage in passages:
        # (The spans are cut out of a passage in their order, of which only the ones
        # overlapping it matter.)
        spans = [cut_spans[k] for k in sorted(cutting(passage.query_start, passage.query_end))]
        plain.extend(_cut(q, passage, spans, by_id, settings, alignments, marks))

    resolved = _resolve_all(in_text, references, sources, [*quoted, *plain])
    claimed = _cited_claims(
        q, resolved, [*quoted, *plain], cut_spans, by_id, settings, alignments
    )
    covering = _Covering(resolved)
    cited_short = _cited_short_quotations(q, short, covering, by_id, settings, lookup)
    all_passages = [*quoted, *plain, *claimed, *cited_short]
    attributed = [_attribute(p, covering) for p in all_passages]
    attributed.sort(key=lambda p: (p.query_start, p.query_end, p.source_id, p.source_start))

    found, not_found = CitationStatus.RESOLVED, CitationStatus.NOT_IN_CORPUS
    citations = tuple([
        _citation(
            mark.start, mark.end, mark.text, source_id,
            found if source_id else not_found, mark.style, method,
        )
        for mark, source_id, method in sorted(resolved, key=lambda r: (r.mark.start, r.mark.end))
    ])
    findings = _findings(
        q, attributed, covering, missing, by_id, side.unbalanced, settings, alignments
    )
    return Classified(
        passages=tuple(attributed),
        citations=citations,
        quotations=tuple(quotations),
        findings=tuple(sorted(findings, key=lambda f: (f.start, f.end, f.type))),
        warnings=tuple(quote_warnings),
    )


def warm(query: Document, settings: Settings) -> None:
    """Do the part of :func:`classify` that needs the query alone, ahead of time.

    Finds the query's quotations, paragraphs and citation marks (compiling the citation
    patterns its text needs) and loads the word-frequency list, so that ``classify`` of
    the same text with the same settings starts from them.  A trace can run this while
    the sources are being aligned.  ``classify`` gives the same results with or without
    it; the last few queries warmed are kept.

    Args:
        query: the document that will be classified.
        settings: the trace settings.
    """
    _query_side(query.text, settings, remember=True)
    # The word frequencies (for drift and shared errors) are read from disk on first use.
    zipf("the")


@dataclass(frozen=True, slots=True)
class _QuerySide:
    """What ``classify`` finds in the query alone."""

    quotations: tuple[Quotation, ...]
    warnings: tuple[str, ...]
    references: tuple[CitationMark, ...]
    in_text: tuple[CitationMark, ...]
    # Quotations that are not a cited title ("The Tidal Ledger"), which is no quoted words.
    quoted_words: tuple[Quotation, ...]
    # The quotations with their marks, and the reference-list entries: words there are
    # not borrowed prose.
    cut_spans: tuple[tuple[int, int], ...]
    unbalanced: tuple[Finding, ...]


# Queries warmed, by (text, the settings the query side depends on); a few at most, as
# a trace warms its query just before classifying it.
_WARMED: OrderedDict[tuple[str, int, str], _QuerySide] = OrderedDict()
_WARMED_SIZE = 4
_warmed_lock = threading.Lock()


def _query_side(text: str, settings: Settings, *, remember: bool = False) -> _QuerySide:
    """The query side of ``classify``: taken from ``warm``'s cache, else computed.

    Only ``warm`` adds to the cache (``remember``), so that a query classified without
    it is worked out afresh every time, as before.
    """
    key = (text, settings.max_quote_chars, settings.citation_scope)
    with _warmed_lock:
        found = _WARMED.get(key)
        if found is not None:
            _WARMED.move_to_end(key)
            return found
    cp = code_points(text)
    quotations, warnings, paras = quotations_and_paragraphs(
        text, max_chars=settings.max_quote_chars, cp=cp
    )
    marks = find_citations(
        text, scope=settings.citation_scope, quotations=quotations, paras=paras, cp=cp
    )
    references = tuple(m for m in marks if m.style == "reference")
    inside_mark = _Within([(m.start, m.end) for m in marks])
    side = _QuerySide(
        quotations=tuple(quotations),
        warnings=tuple(warnings),
        references=references,
        in_text=tuple(m for m in marks if m.style != "reference"),
        quoted_words=tuple(qu for qu in quotations if not inside_mark(qu.start, qu.end)),
        cut_spans=tuple(
            [_with_marks(text, qu) for qu in quotations] + [(m.start, m.end) for m in references]
        ),
        unbalanced=_unbalanced(text, warnings),
    )
    if remember:
        with _warmed_lock:
            _WARMED[key] = side
            _WARMED.move_to_end(key)
            while len(_WARMED) > _WARMED_SIZE:
                _WARMED.popitem(last=False)
    return side


# ---------------------------------------------------------------------------------------
# The results, built by setting their slots (see ``slot_builder``): a trace builds a
# passage, citation or finding for every one it reports (a passage twice).


_passage = slot_builder(Passage)
_citation = slot_builder(Citation)
_finding = slot_builder(Finding)


# ---------------------------------------------------------------------------------------
# Quotations


def _check_quotation(
    q: Prepared,
    quotation: Quotation,
    first: int,
    stop: int,
    near_sources: _Near,
    sources: Sequence[Document],
    settings: Settings,
    lookup: _Lookup,
) -> Passage | tuple[None, tuple[str, float, int, int] | None] | None:
    """Match a quotation's words (query tokens ``[first, stop)``) in the sources.

    Returns the quotation as a passage when found; ``(None, closest)`` when a quotation
    long enough to matter is found nowhere; ``None`` for a short quotation (a title, a
    scare quote) that matches nothing.
    """
    words = stop - first
    if words == 0:
        return None
    # A match of fewer words than ``least`` changes nothing reported: a short quotation
    # counts only when matched whole, and a longer one matched less well is shown with
    # no closest passage, the same as one matching nothing.  A match pairs quotation
    # words with equal source words, so a source holding fewer of them cannot count
    # (most short quotations, titles and scare quotes, have no source holding them).
    least = words if words < QUOTE_MIN_WORDS else _least(CLOSEST_MIN, words)
    if lookup.most(first, stop) < least:
        return None if words < QUOTE_MIN_WORDS else (None, None)
    present = lookup.hits(first, stop, single=True)
    # The sources aligned with this stretch come first, then the others that share the
    # most word pairs with the quotation; a source sharing none cannot hold it.
    near = near_sources(quotation.start, quotation.end)
    hits = present if words < 2 else lookup.hits(first, stop, single=False)
    ordered = sorted(
        (s for s in sources if hits[s.id] or s.id in near),
        key=lambda s: (s.id not in near, -hits[s.id], s.id),
    )[: len(near) + QUOTE_CANDIDATES]
    candidates = [s for s in ordered if present[s.id] >= least]
    if not candidates:
        return None if words < QUOTE_MIN_WORDS else (None, None)
    quote = _Quote(q, first, stop, lookup)
    # A quotation standing word for word, and once, in the source its stretch was
    # aligned with is found there: no other match can do better, and none need be placed
    # or aligned.  (This is the common case; the search below would find the same, and
    # finding it directly also keeps a far-off scattered match from being preferred.)
    verbatim = quote.verbatim(candidates[0].id) if candidates[0].id in near else None
    if verbatim is not None:
        return _found_quotation(q, quotation, candidates[0], verbatim, 1.0, settings)
    if words >= QUOTE_MIN_WORDS:
        # Unless a window of some source may give a match found, or a closest passage
        # (enough words, with content words among them), nothing is found or shown,
        # whichever match is best: no window need be aligned.  (A source holding fewer
        # words than a match found needs, and fewer content words than a closest
        # passage needs, has no such window.)
        found = _least(QUOTE_FOUND, words)
        content = lookup.content_hits(first, stop)
        if not any(
            quote.search(s.id).may_count(least, found) for s in candidates
            if present[s.id] >= found or content[s.id] >= CLOSEST_CONTENT_WORDS
        ):
            return None, None
    best: tuple[float, Document, WordAlignment] | None = None
    for source in candidates:
        # A source holding no more of the quoted words than the best match has matched
        # cannot do better.
        if best is not None and present[source.id] <= best[2].equal:
            continue
        # Only a match of more words than the best so far (and of ``least``) counts.
        match = quote.search(source.id).locate(
            least if best is None else max(least, best[2].equal + 1)
        )
        if match is None:
            continue
        ratio = match.equal / words
        if best is None or ratio > best[0]:
            best = (ratio, source, match)
        if ratio == 1.0 and source.id in near:
            break
    if best is None or best[0] < QUOTE_FOUND or (words < QUOTE_MIN_WORDS and best[0] < 1.0):
        if words < QUOTE_MIN_WORDS:
            return None
        closest = None
        if (
            best is not None
            and best[0] >= CLOSEST_MIN
            and _content_matched(q, best[2]) >= CLOSEST_CONTENT_WORDS
        ):
            s = prepare(best[1].text, settings, best[1].excluded)
            s0, s1 = _source_extent(best[2])
            closest = (
                best[1].id, round(best[0], 3), int(s.tokens.starts[s0]), int(s.tokens.ends[s1 - 1])
            )
        return None, closest
    ratio, source, alignment = best
    return _found_quotation(q, quotation, source, alignment, ratio, settings)


def _found_quotation(
    q: Prepared,
    quotation: Quotation,
    source: Document,
    alignment: WordAlignment,
    ratio: float,
    settings: Settings,
) -> Passage:
    """The passage of a quotation found in a source: its words aligned as ``alignment``,
    ``ratio`` of them matched."""
    s = prepare(source.text, settings, source.excluded)
    diffs = _editorial(q.tokens.text, differences(q.tokens, s.tokens, alignment))
    s0, s1 = _source_extent(alignment)
    return _passage(
        quotation.start, quotation.end, source.id,
        int(s.tokens.starts[s0]), int(s.tokens.ends[s1 - 1]),
        Kind.QUOTATION, round(ratio, 4), diffs, _fidelity(diffs), None, "quotation",
    )


def _cited_short_quotations(
    q: Prepared,
    short: Sequence[tuple[Quotation, int, int]],
    covering: _Covering,
    by_id: dict[str, Document],
    settings: Settings,
    lookup: _Lookup,
) -> list[Passage]:
    """The short quotations (query tokens ``[first, stop)``, fewer than
    ``QUOTE_MIN_WORDS``) that their citation's source holds with a word changed, added
    or dropped.

    A short quotation is otherwise found only whole: in a sentence of one's own, a
    scare quote or a phrase in quotation marks is no quotation of anything.  A citation
    attributing it to one corpus source says it is ("rates remain “very high” [1]"), and
    that source is searched for its words with one of them changed, added or dropped,
    side by side (one word of the source between them at most, or the words an ellipsis
    leaves out), a content word among those matched.
    """
    out = []
    for quotation, first, stop in short:
        cited = {r.source_id for r in covering(quotation.start, quotation.end) if r.source_id}
        source = by_id.get(next(iter(cited))) if len(cited) == 1 else None
        if source is None:
            continue
        words = stop - first
        least = _short_least(words)
        if lookup.hits(first, stop, single=True)[source.id] < least:
            continue
        match = _Quote(q, first, stop, lookup).search_by_words(source.id).closest(least)
        if match is None or _content_matched(q, match) == 0:
            continue
        s0, s1 = _source_extent(match)
        # (An ellipsis stands for the words it leaves out, as many as they are: a
        # quotation holding one, and matched whole, may leave out more than one.)
        if s1 - s0 > words + 1 and not (
            match.equal == words and _ELLIPSIS.search(q.tokens.text, quotation.start, quotation.end)
        ):
            continue
        out.append(_found_quotation(q, quotation, source, match, match.equal / words, settings))
    return out


def _short_least(words: int) -> int:
    """The fewest words of a short cited quotation of ``words`` words matched in its
    source: all but one, and two at least."""
    return max(2, words - 1)


@lru_cache(maxsize=4096)
def _least(share: float, words: int) -> int:
    """The fewest matched words ``m`` with ``m / words >= share``, as Python computes it."""
    m = max(0, math.ceil(share * words))
    while m > 0 and (m - 1) / words >= share:
        m -= 1
    while m / words < share:
        m += 1
    return m


class _Lookup:
    """Where each word pair (or word) occurs in each source, built once per trace.

    Which sources share pairs with the quotations is counted for all quotations at once,
    by looking up each source's pairs among the quotations' (few, sorted) pairs; the
    table of where each pair occurs in a source, and the source's words coded as the
    quotations' (see ``_Coding``), which ``_Search`` needs, are made only for the sources
    searched.  A source id given twice stands for the last source with that id.
    """

    def __init__(self, q: Prepared, sources: Sequence[Document], settings: Settings) -> None:
        self.prepared = {s.id: prepare(s.text, settings, s.excluded) for s in sources}
        self._q_ids = q.tokens.ids
        self._q_content = ~q.tokens.stop
        self._ids = list(self.prepared)
        self._tables: dict[tuple[str, bool], _Table] = {}
        self._q_pairs: np.ndarray | None = None
        self._counts: dict[tuple[int, int, bool], list[int]] = {}
        self._content: dict[tuple[int, int], list[int]] = {}
        # The counts by source id, made when asked for (most spans' never are), and kept
        # as handed out: callers only read them.
        self._hits: dict[tuple[int, int, bool], dict[str, int]] = {}
        # The quoted words coded (see ``coded``), by span.
        self._coded: dict[tuple[int, int], tuple[str, _Coding]] = {}

    def hits(self, first: int, stop: int, *, single: bool) -> dict[str, int]:
        """For each source id, how many keys of query tokens ``[first, stop)`` it has.

        The keys are word pairs, or words when ``single`` (see ``_keys``); repeats count.
        """
        key = (first, stop, single)
        found = self._hits.get(key)
        if found is None:
            if key not in self._counts:
                self._count([(first, stop)], single=single)
            found = self._hits[key] = dict(zip(self._ids, self._counts[key]))
        return found

    def most(self, first: int, stop: int) -> int:
        """The most of query tokens ``[first, stop)`` that a source has (``hits`` of the
        words, the most of them)."""
        if (first, stop, True) not in self._counts:
            self._count([(first, stop)], single=True)
        return max(self._counts[first, stop, True], default=0)

    def content_hits(self, first: int, stop: int) -> dict[str, int]:
        """For each source id, how many of query tokens ``[first, stop)`` that are not
        stop words it has."""
        found = self._content.get((first, stop))
        if found is None:
            self._count([(first, stop)], single=True)
            found = self._content[first, stop]
        return dict(zip(self._ids, found))

    def count(self, spans: Sequence[tuple[int, int]]) -> None:
        """Count the hits of many token ranges at once: numpy's cost is per call."""
        spans = [(first, stop) for first, stop in spans if stop > first]
        distinct, which = self._count(spans, single=True)
        self._count([(first, stop) for first, stop in spans if stop - first >= 2], single=False)
        if len(distinct) <= _CODES:
            # (The words counted are the words coded.)
            self._code_group(spans, distinct, which)
        else:
            self._code(spans)

    def _count(
        self, spans: Sequence[tuple[int, int]], *, single: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Count the hits of the spans; returns the distinct keys of their tokens, and
        which of them each token has (``np.unique``)."""
        # (An empty range has no key: ``np.add.reduceat`` below wants one in each.)
        for first, stop in spans:
            if stop <= first:
                self._counts[first, stop, single] = [0] * len(self._ids)
                if single:
                    self._content[first, stop] = [0] * len(self._ids)
        spans = [(first, stop) for first, stop in spans if stop > first]
        firsts = np.array([first for first, _ in spans], dtype=np.int64)
        sizes = np.array([stop - first for first, stop in spans], dtype=np.int64)
        if single:
            tokens = ranges(firsts, sizes)
            q_keys = self._q_ids[tokens]
        elif len(spans) and sizes.min() >= 2:
            # The pairs of a range are a slice of the pairs of the whole query.
            sizes -= 1
            q_keys = self.query_keys(0, len(self._q_ids))[ranges(firsts, sizes)]
        else:
            pieces = [_keys(self._q_ids[first:stop], single=False) for first, stop in spans]
            q_keys = np.concatenate([np.zeros(0, dtype=np.uint64), *pieces])
            sizes = np.array([len(piece) for piece in pieces], dtype=np.int64)
        distinct, which = np.unique(q_keys, return_inverse=True)
        starts = np.cumsum(sizes) - sizes
        per_source: list[np.ndarray] = []
        content_per_source: list[np.ndarray] = []
        ids = self._ids if len(distinct) else []
        # The sources are taken a batch at a time, in batches small enough for the table
        # of which source has which key.
        batch_keys = max(1, _COUNT_BATCH // max(1, len(q_keys)))
        for lo in range(0, len(ids), batch_keys):
            batch = ids[lo : lo + batch_keys]
            # Which of the quotations' distinct keys each source has: they are looked up
            # among the source's keys sorted (a search for needles in order is quick),
            # then summed over the keys of each range (repeats counted).
            has = np.zeros((len(batch), len(distinct)), dtype=np.int64)
            for row, source_id in enumerate(batch):
                # (A source's pairs are sorted as the table of where they occur, which
                # the search for a quotation in it needs, and most sources are searched;
                # a source's single words seldom are.)
                s_keys = (
                    np.sort(self.prepared[source_id].tokens.ids) if single
                    else self.table(source_id, single=False).keys
                )
                if len(s_keys):
                    at = np.minimum(s_keys.searchsorted(distinct), len(s_keys) - 1)
                    has[row] = s_keys[at] == distinct
            hit = has[:, which]
            # (Each range's sums are those from its first key to the next range's.)
            per_source.append(np.add.reduceat(hit, starts, axis=1))
            if single:
                content_per_source.append(
                    np.add.reduceat(hit * self._q_content[tokens], starts, axis=1)
                )
        for (first, stop), counts in zip(spans, self._rows(per_source, len(spans))):
            self._counts[first, stop, single] = counts
        if single:
            for (first, stop), counts in zip(spans, self._rows(content_per_source, len(spans))):
                self._content[first, stop] = counts
        return distinct, which

    def _rows(self, per_source: list[np.ndarray], n_spans: int) -> list[list[int]]:
        """Counts by source (batches of rows) and span: a list by source for each span."""
        if not per_source:
            return [[0] * len(self._ids)] * n_spans
        return cast(list[list[int]], np.concatenate(per_source).T.tolist())

    def table(self, source_id: str, *, single: bool) -> _Table:
        """Where each key of the source occurs."""
        key = (source_id, single)
        table = self._tables.get(key)
        if table is None:
            keys = _keys(self.prepared[source_id].tokens.ids, single=single)
            order = np.argsort(keys, kind="stable")
            table = self._tables[key] = _Table(keys[order], order, order.tolist())
        return table

    def coded(self, first: int, stop: int) -> tuple[str, _Coding]:
        """Query tokens ``[first, stop)`` as code points, and the coding that gives each
        source's tokens in the same code (see ``_Coding``).

        The spans counted together (``count``) share one coding, so that each source is
        coded once for all of them; another span gets one of its own.
        """
        found = self._coded.get((first, stop))
        if found is None:
            self._code([(first, stop)])
            found = self._coded[first, stop]
        return found

    def _code(self, spans: Sequence[tuple[int, int]]) -> None:
        # Spans are coded together while their words fit in the code points.
        groups: list[list[tuple[int, int]]] = [[]]
        size = 0
        for first, stop in spans:
            if groups[-1] and size + stop - first > _CODES:
                groups.append([])
                size = 0
            groups[-1].append((first, stop))
            size += stop - first
        for group in groups:
            if not group:
                continue
            firsts = np.array([first for first, _ in group], dtype=np.int64)
            sizes = np.array([stop - first for first, stop in group], dtype=np.int64)
            distinct, which = np.unique(self._q_ids[ranges(firsts, sizes)], return_inverse=True)
            self._code_group(group, distinct, which)

    def _code_group(
        self, spans: Sequence[tuple[int, int]], distinct: np.ndarray, which: np.ndarray
    ) -> None:
        """Code spans with one coding: the distinct ids of their tokens, and which of
        them each token is."""
        coding = _Coding(distinct, self.prepared)
        text = coding.text(which + 1)
        at = 0
        for first, stop in spans:
            self._coded[first, stop] = (text[at : at + stop - first], coding)
            at += stop - first

    def query_keys(self, first: int, stop: int, *, single: bool = False) -> np.ndarray:
        """The keys of query tokens ``[first, stop)``: ``_keys`` of them, sliced from the
        keys of the whole query."""
        if single or stop - first < 2:
            return self._q_ids[first:stop]
        if self._q_pairs is None:
            self._q_pairs = _keys(self._q_ids, single=False)
        return self._q_pairs[first : stop - 1]


@dataclass(frozen=True, slots=True)
class _Table:
    """Where the keys of a source occur.

    Attributes:
        keys: the source's keys, sorted.
        positions: the position of each (in order among equal keys).
        listed: ``positions`` as a list, for the few looked up at a time.
    """

    keys: np.ndarray
    positions: np.ndarray
    listed: list[int]


def _keys(ids: np.ndarray, *, single: bool) -> np.ndarray:
    if single or len(ids) < 2:
        return ids
    # (Arithmetic on arrays wraps around silently: no ``np.errstate`` needed, which costs
    # more than the product.)
    return ids[:-1] * np.uint64(31) ^ ids[1:]


class _Quote:
    """A quotation's words (query tokens ``[first, stop)``), and its search in each
    source (see ``_Search``)."""

    def __init__(self, q: Prepared, first: int, stop: int, lookup: _Lookup) -> None:
        self.q, self.first, self.stop = q, first, stop
        self.words = stop - first
        # Its words as code points (see ``_Coding``): rapidfuzz compares strings quicker
        # than lists of large integers.
        self.text, self._coding = lookup.coded(first, stop)
        # Its keys (see ``_keys``), which anchor the windows searched.
        self.keys = lookup.query_keys(first, stop)
        self._lookup = lookup
        self._searches: dict[str, _Search] = {}
        self._content_text: str | None = None

    def content_text(self) -> str:
        """Its words that are not stop words (as ``_content_matched`` counts), coded."""
        if self._content_text is None:
            stop = self.q.tokens.stop[self.first : self.stop].tolist()
            self._content_text = "".join(
                [word for word, is_stop in zip(self.text, stop) if not is_stop]
            )
        return self._content_text

    def verbatim(self, source_id: str) -> WordAlignment | None:
        """Its words side by side in the source, where they stand so once only."""
        coded = self._coding.source(source_id)
        at = coded.find(self.text)
        if at < 0 or coded.find(self.text, at + 1) >= 0:
            return None
        return WordAlignment((("equal", self.first, self.stop, at, at + self.words),), self.words)

    def search(self, source_id: str) -> _Search:
        """The search for the quotation in a source (made once)."""
        found = self._searches.get(source_id)
        if found is None:
            single = self.words < 2
            found = self._searches[source_id] = _Search(
                self, self._lookup.prepared[source_id], self._coding.source(source_id),
                self._lookup.table(source_id, single=single), self.keys,
            )
        return found

    def search_by_words(self, source_id: str) -> _Search:
        """A search anchored on the quotation's single words, not its word pairs: a short
        quotation with a word changed may share no pair with its source."""
        return _Search(
            self, self._lookup.prepared[source_id], self._coding.source(source_id),
            self._lookup.table(source_id, single=True), self._lookup.query_keys(
                self.first, self.stop, single=True
            ),
        )


class _Search:
    """The search for one quotation in one source: the windows ``_diagonals`` places,
    each aligned only when what it could match counts.

    An alignment pairs quotation words with equal source words in order, so it matches
    at most as many words as the longest common subsequence of the quotation and the
    window; a window tightened inside it matches no more.  That bound costs little
    next to an alignment.
    """

    def __init__(
        self, quote: _Quote, s: Prepared, text: str, table: _Table, keys: np.ndarray
    ) -> None:
        self.quote, self.s = quote, s
        # The source's tokens coded as the quotation's (see ``_Coding``).
        self.text = text
        # Where each key of the source occurs, and the quotation's keys (words or word
        # pairs, see ``_keys``), which anchor the windows.
        self._table, self._keys = table, keys
        self._windows: list[tuple[int, int]] | None = None
        self._bound: int | None = None
        self._common: dict[tuple[int, int], int] = {}
        # Windows clipped at the ends of a short source are often the same for several
        # diagonals, and a tightened window often is the window itself.
        self._aligned: dict[tuple[int, int], WordAlignment] = {}

    @property
    def windows(self) -> list[tuple[int, int]]:
        """The source tokens ``(lo, hi)`` around the (up to) three diagonals most anchors
        agree on."""
        if self._windows is None:
            words, n_source = self.quote.words, len(self.s.tokens)
            diagonals = _diagonals(self._keys, self._table) if n_source else []
            margin = max(3, words // 2)
            self._windows = [
                (max(0, diagonal - margin), min(n_source, diagonal + words + margin))
                for diagonal in diagonals
            ]
        return self._windows

    def bound(self) -> int:
        """At most what any window matches: for a source not much longer than the
        quotation, the longest common subsequence of the quotation and the whole source
        (a long quotation found nowhere often shares too few words in order with a source
        to count, which this tells before its windows are placed)."""
        if self._bound is None:
            quote = self.quote
            if len(self.text) <= _WHOLE_SOURCE * quote.words:
                self._bound = LCSseq.similarity(quote.text, self.text)
            else:
                self._bound = quote.words
        return self._bound

    def common(self, lo: int, hi: int) -> int:
        """The longest common subsequence of the quotation and source tokens ``[lo, hi)``."""
        found = self._common.get((lo, hi))
        if found is None:
            found = self._common[lo, hi] = LCSseq.similarity(self.quote.text, self.text[lo:hi])
        return found

    def may_count(self, least: int, found: int) -> bool:
        """Whether a window may give a match of ``found`` words or more, or of ``least``
        words or more with ``CLOSEST_CONTENT_WORDS`` content words (a closest passage)."""
        quote = self.quote
        if self.bound() < least:
            return False
        for lo, hi in self.windows:
            common = self.common(lo, hi)
            if common >= found:
                return True
            # The content words matched are matched in order too: no more of them than
            # the longest common subsequence of the quotation's content words and the
            # window.
            if common >= least and (
                LCSseq.similarity(quote.content_text(), self.text[lo:hi]) >= CLOSEST_CONTENT_WORDS
            ):
                return True
        return False

    def locate(self, at_least: int) -> WordAlignment | None:
        """Best alignment of the quotation with a window of the source.

        The windows around the (up to) three diagonals most anchors agree on are
        aligned word by word.  A window that cannot match ``at_least`` words, or more
        than the best window so far, is left out: the result is the same whenever it
        matches ``at_least`` words or more, and otherwise matches fewer (or is None).
        """
        best: WordAlignment | None = None
        first, stop = self.quote.first, self.quote.stop
        if self.bound() < at_least:
            return None
        for lo, hi in self.windows:
            common = self.common(lo, hi)
            if common < at_least or (best is not None and common <= best.equal):
                continue
            # (The whole quotation is in the window when ``common`` is all its words,
            # most often side by side.)
            whole = common == self.quote.words
            window = self._aligned_with(lo, hi, embedded=whole)
            # Runs of two or more words place the window; a lone common word ("the") far
            # from the quoted words would stretch it.
            blocks = window.equal_blocks(2) or window.equal_blocks()
            if not blocks:
                continue
            # Tighten the source side to the matched words, keeping unmatched quotation
            # words at either end paired with their neighbours in the source.
            lead = blocks[0][0] - first
            tail = stop - blocks[-1][1]
            s0 = max(lo, blocks[0][2] - lead)
            s1 = min(hi, blocks[-1][3] + tail)
            # (The tightened window then most often holds just its words.)
            tight = _without_source_edges(self._aligned_with(s0, s1, embedded=whole))
            if best is None or tight.equal > best.equal:
                best = tight
                if best.equal == stop - first:
                    break  # every word matched: no other window can do better
        return best

    def closest(self, at_least: int) -> WordAlignment | None:
        """The window alignment matching the most words, at least ``at_least``, without
        the window's words before the first word matched or after the last.

        Unlike ``locate``, which places its windows on runs of two words or more, this
        keeps a lone word matched: a short quotation with a word changed has few runs.
        """
        best: WordAlignment | None = None
        if self.bound() < at_least:
            return None
        quote = self.quote
        for lo, hi in self.windows:
            if self.common(lo, hi) < max(at_least, best.equal + 1 if best else 0):
                continue
            # The window is tightened around the words a longest common subsequence
            # matches (an edit script over the whole window may match fewer of them),
            # keeping unmatched quotation words at either end paired with the source's.
            ops = cast(
                list[tuple[str, int, int, int, int]],
                Indel.opcodes(quote.text, self.text[lo:hi]).as_list(),
            )
            matched = [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in ops if tag == "equal"]
            (lead, _, first, _), (_, end, _, last) = matched[0], matched[-1]
            s0, s1 = max(lo, lo + first - lead), min(hi, lo + last + quote.words - end)
            tight = _without_source_edges(self._aligned_with(s0, s1, embedded=False))
            if best is None or tight.equal > best.equal:
                best = tight
        return best

    def _aligned_with(self, s0: int, s1: int, *, embedded: bool) -> WordAlignment:
        """The alignment of the quotation with source tokens ``[s0, s1)``; ``embedded``
        when they may hold all its words in order."""
        found = self._aligned.get((s0, s1))
        if found is not None:
            return found
        quote, s = self.quote, self.s
        window = self.text[s0:s1]
        if embedded:
            # When the words hold the whole quotation in order in one way only, that is
            # the one alignment of least cost (see ``_embedding``, which finds the most
            # frequent such way: the words side by side).
            found = _embedding(quote.text, quote.first, s0, window)
        if found is None:
            # ``align_words``: an edit script depends only on which words are equal,
            # which the codes keep.
            found = opcode_alignment(Levenshtein.opcodes(quote.text, window), quote.first, s0)
            if quote.words < _LONG_QUOTE:
                # Of two scripts of equal cost, the one matching more quoted words (a
                # long quotation's few ties matter less than their cost).
                found = prefer_matches(found, quote.q.tokens.ids, s.tokens.ids)
        self._aligned[s0, s1] = found
        return found


def _embedding(ids: str, first: int, s0: int, window: str) -> WordAlignment | None:
    """The alignment of quoted words ``ids`` (query tokens from ``first``) with source
    words ``window`` (tokens from ``s0``), one code point a word (see ``_Coding``), when
    the window holds them side by side, and holds all of them in order in no other way;
    else None.

    An edit script turning the quotation into the window costs at least the window's
    extra words; matching every quoted word costs just that, and any script that costs
    no more matches every word, so the scripts of least cost are exactly the ways the
    quotation occurs in the window.  When there is one, the aligner gives it: the
    quoted words matched, and the window's other words as insertions (``align_words``
    and ``prefer_matches``, which changes no script without replaced words, agree).
    """
    m = len(ids)
    try:
        k = window.index(ids[0])
    except ValueError:
        return None
    # Side by side from the first place of the first word, the quoted words are the
    # first way the window holds them; the last word occurring again after them would
    # give a second way, and nothing else can.
    if window[k : k + m] != ids or ids[-1] in window[k + m :]:
        return None
    start, done = s0 + k, s0 + k + m
    ops = [("equal", first, first + m, start, done)]
    if start > s0:
        ops.insert(0, ("insert", first, first, s0, start))
    if s0 + len(window) > done:
        ops.append(("insert", first + m, first + m, done, s0 + len(window)))
    return WordAlignment(tuple(ops), m)


def _without_source_edges(alignment: WordAlignment) -> WordAlignment:
    """The alignment without source words before the quotation's first word or after its
    last: the window was widened for words the quotation might have dropped there, and
    the words it did not take are not part of what it quotes."""
    ops = alignment.opcodes
    lo, hi = 0, len(ops)
    while lo < hi and ops[lo][0] == "insert":
        lo += 1
    while hi > lo and ops[hi - 1][0] == "insert":
        hi -= 1
    if (lo, hi) == (0, len(ops)) or lo == hi:
        return alignment
    return WordAlignment(ops[lo:hi], alignment.equal)


# From this many words on, a quotation is aligned without ``prefer_matches``.
_LONG_QUOTE = 100
# A quotation is compared with a whole source at most this many times its length.
_WHOLE_SOURCE = 8
# The most distinct words one coding has: code points less the surrogates.
_CODES = 0x10FFFF - 0x800


class _Coding:
    """Words as code points, for rapidfuzz: each distinct word of the quotations coded
    together is one code point, and a source word none of them has is code point 0.

    Only whether a quoted word equals a source word matters to a longest common
    subsequence or an edit script, so they are the same on the codes as on the words'
    ids; and rapidfuzz compares strings much quicker than lists of large integers.
    """

    def __init__(self, distinct: np.ndarray, prepared: dict[str, Prepared]) -> None:
        # The ids of the words coded, sorted: word ``_distinct[k]`` is code ``k + 1``.
        self._distinct = distinct
        self._prepared = prepared
        self._sources: dict[str, str] = {}

    def text(self, codes: np.ndarray) -> str:
        """The string of the codes (1 to the number of distinct words, or 0)."""
        codes = codes.astype(np.uint32)
        if len(self._distinct) >= 0xD7FF:
            codes += (codes >= 0xD800) * np.uint32(0x800)  # no surrogate code points
        return codes.tobytes().decode("utf-32-le")

    def source(self, source_id: str) -> str:
        """The tokens of a source coded (made once)."""
        found = self._sources.get(source_id)
        if found is None:
            ids = self._prepared[source_id].tokens.ids
            at = np.minimum(self._distinct.searchsorted(ids), len(self._distinct) - 1)
            found = self._sources[source_id] = self.text(
                np.where(self._distinct[at] == ids, at + 1, 0)
            )
        return found


class _Within:
    """Whether a span lies inside one of the given spans, found by bisection."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        self._spans = spans = sorted(spans)
        self._starts = [start for start, _ in spans]
        # The farthest end among the spans starting at or before each one.
        self._reach = list(accumulate((end for _, end in spans), max))

    def __call__(self, start: int, end: int) -> bool:
        k = bisect.bisect_right(self._starts, start)
        return k > 0 and self._reach[k - 1] >= end

    def holding(self, starts: list[int], ends: list[int]) -> list[bool]:
        """For each of the given spans, in order and not overlapping nor empty (words),
        whether it lies inside one of the spans.

        The words inside a span are those from the first starting at or after its start
        to the last ending at or before its end: each span is looked up once, rather
        than each word (a claim's sentence has many words, and few spans reach into it).
        """
        inside = [False] * len(starts)
        if not starts:
            return inside
        # (A span starting at or after the words' end holds none of them, and one ending
        # at or before their start holds none either.)
        for a, b in self._spans[: bisect.bisect_left(self._starts, ends[-1])]:
            if b > starts[0]:
                first, stop = bisect.bisect_left(starts, a), bisect.bisect_right(ends, b)
                inside[first:stop] = [True] * max(0, stop - first)
        return inside


# Sources are counted in batches holding at most this many (source, query key) pairs.
_COUNT_BATCH = 2_000_000

# Up to this many anchors are counted in Python, which is quicker than numpy for few.
_FEW_ANCHORS = 400


def _diagonals(q_keys: np.ndarray, table: _Table) -> list[int]:
    """The (up to) three diagonals that the most anchors agree on, the lowest first on a tie.

    An anchor is a key shared by the query and the source, at one of its first 50
    places in the source (a common pair, "of the", says little); its diagonal is its
    source position minus its query position.
    """
    at = table.keys.searchsorted(q_keys, side="left")
    upto = np.minimum(table.keys.searchsorted(q_keys, side="right"), at + 50)
    shared = upto - at
    # Only the query keys the source has (most keys of a long quotation it lacks).
    hit = shared.nonzero()[0]
    firsts, lasts = at[hit].tolist(), upto[hit].tolist()
    if sum(lasts) - sum(firsts) <= _FEW_ANCHORS:
        votes: dict[int, int] = {}
        listed = table.listed
        for i, a, b in zip(hit.tolist(), firsts, lasts):
            for j in listed[a:b]:
                votes[j - i] = votes.get(j - i, 0) + 1
        # By votes, then by diagonal: a stable sort keeps the order of the first.
        ranked = sorted(sorted(votes.items()), key=itemgetter(1), reverse=True)
        return [diagonal for diagonal, _ in ranked[:3]]
    q_at = np.repeat(np.arange(len(q_keys), dtype=np.int64), shared)
    diagonals = table.positions[ranges(at, shared)].astype(np.int64) - q_at
    values, counts = np.unique(diagonals, return_counts=True)
    return values[np.argsort(-counts, kind="stable")][:3].tolist()


def _content_matched(q: Prepared, alignment: WordAlignment) -> int:
    """How many query words the alignment matches that are not stop words."""
    stop = q.tokens.stop
    return sum(int((~stop[i1:i2]).sum()) for i1, i2, _, _ in alignment.equal_blocks())


def _source_extent(alignment: WordAlignment) -> tuple[int, int]:
    js = [(j1, j2) for tag, _i1, _i2, j1, j2 in alignment.opcodes if j2 > j1]
    return min(j for j, _ in js), max(j for _, j in js)


def _editorial(text: str, diffs: tuple[Difference, ...]) -> tuple[Difference, ...]:
    """Mark the changes an editor's marks account for.

    An omission where the quotation has an ellipsis, and words the quotation sets in
    [square brackets], are correct editorial practice, not misquotation.
    """
    out = []
    for d in diffs:
        editorial = False
        if d.type is DiffType.OMISSION:
            lo, hi = _gap_around(text, d.query_start)
            editorial = bool(_ELLIPSIS.search(text, lo, hi))
        elif d.type in (DiffType.WORD, DiffType.INSERTION):
            editorial = _bracketed(text, d.query_start, d.query_end)
        elif d.type in (DiffType.CASE, DiffType.SPELLING):
            editorial = "[" in d.query
        out.append(replace(d, type=DiffType.EDITORIAL) if editorial else d)
    return tuple(out)


def _gap_around(text: str, pos: int) -> tuple[int, int]:
    """The stretch of non-word characters around ``pos``."""
    lo = pos
    while lo > 0 and not text[lo - 1].isalnum():
        lo -= 1
    hi = pos
    while hi < len(text) and not text[hi].isalnum():
        hi += 1
    return lo, hi


def _bracketed(text: str, start: int, end: int) -> bool:
    opening = text.rfind("[", max(0, start - 40), start + 1)
    closing = text.find("]", end - 1 if end > start else end, end + 40)
    return (
        opening != -1 and closing != -1
        and "]" not in text[opening + 1 : start]
        and "[" not in text[end:closing]
    )


def _fidelity(diffs: tuple[Difference, ...]) -> Fidelity:
    if all(d.type is DiffType.TYPOGRAPHY for d in diffs):
        return Fidelity.EXACT
    if all(d.type in HARMLESS for d in diffs):
        return Fidelity.VARIANT
    return Fidelity.ALTERED


def _with_marks(text: str, quotation: Quotation) -> tuple[int, int]:
    start = quotation.start - len(quotation.open_mark)
    end = quotation.end + len(quotation.close_mark)
    return max(0, start), min(len(text), end)


# ---------------------------------------------------------------------------------------
# Passages outside quotation marks


def _cut(
    q: Prepared,
    passage: Passage,
    spans: Sequence[tuple[int, int]],
    by_id: dict[str, Document],
    settings: Settings,
    alignments: _Alignments,
    marks: _Within,
) -> list[Passage]:
    """The parts of an aligned passage outside the spans (quotations and the reference
    list) that overlap it; ``marks``: the in-text citations."""
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
    # (Most passages around a quotation are the quotation: nothing is left of them.)
    if source is None or not pieces:
        return []
    s = prepare(source.text, settings, source.excluded)
    s_first, s_stop = alignments.span_tokens(
        s, passage.source_id, passage.source_start, passage.source_end
    )
    out = []
    whole = pieces == [(passage.query_start, passage.query_end)]
    for x, y in pieces:
        first, stop = alignments.span_tokens(q, None, x, y)
        if not whole:
            # A piece begins where a quotation ended, often in the citation after it
            # ("” [2], and by 1950"), whose words are not the source's.
            first, stop = _without_marks(q, first, stop, marks)
        needed = settings.min_words if whole else max(settings.min_words, PIECE_WORDS)
        if stop - first < needed or s_stop <= s_first:
            continue
        s0, s1 = s_first, s_stop
        alignment = alignments.align(s, passage.source_id, first, stop, s0, s1)
        if whole:
            qs, qe = passage.query_start, passage.query_end
            ss, se = passage.source_start, passage.source_end
        else:
            if _containment(q, first, stop, s, s_first, s_stop) < PIECE_CONTAINMENT:
                continue
            blocks = alignment.equal_blocks()
            if not blocks:
                continue
            # A piece of a copy, or one holding a verbatim run itself, is placed on the
            # source words it matches, from its first run of two words or more to its
            # last (a lone common word far off would stretch it).  A paraphrase's words
            # match its source's here and there, the first and last of them often stray
            # common words ("by") far from what it rewords: it keeps the source span of
            # its passage.
            if passage.kind is Kind.COPY or _longest_run(alignment) >= COPY_RUN:
                runs = alignment.equal_blocks(2) or blocks
                s0, s1 = runs[0][2], runs[-1][3]
                alignment = alignments.align(s, passage.source_id, first, stop, s0, s1)
            qs, qe = _span(q, alignment, query_side=True)
            ss, se = _span(s, alignment, query_side=False)
        run = _longest_run(alignment)
        kind = Kind.COPY if run >= COPY_RUN else Kind.PARAPHRASE
        if whole:
            # The aligner's differences are those of this same alignment (``align``
            # aligns exactly the tokens a passage's spans hold).
            diffs = alignments.known(passage.source_id, first, stop, s0, s1, passage.differences)
        else:
            diffs = alignments.differences(s, passage.source_id, first, stop, s0, s1)
        out.append(_passage(
            qs, qe, passage.source_id, ss, se, kind, passage.score, diffs,
            passage.fidelity, passage.attribution, passage.method,
        ))
    return out


class _Alignments:
    """Word alignments of token ranges of the query and a source, the differences they
    show, and the token ranges of spans, each made once in a ``classify`` call.

    The passages outside quotation marks are aligned for their kind and differences;
    drift aligns the sentences around each of them, which often are the passage itself.
    """

    def __init__(self, q: Prepared) -> None:
        self.q = q
        self._aligned: dict[tuple[str, int, int, int, int], WordAlignment] = {}
        self._differences: dict[tuple[str, int, int, int, int], tuple[Difference, ...]] = {}
        self._ranges: dict[tuple[str | None, int, int], tuple[int, int]] = {}

    def span_tokens(self, p: Prepared, source_id: str | None, start: int, end: int
                    ) -> tuple[int, int]:
        """``span_tokens`` of a span of the query (``source_id`` None) or of a source."""
        key = (source_id, start, end)
        found = self._ranges.get(key)
        if found is None:
            found = self._ranges[key] = span_tokens(p, start, end)
        return found

    def align(self, s: Prepared, source_id: str, q0: int, q1: int, s0: int, s1: int
              ) -> WordAlignment:
        """``align_words`` of query tokens ``[q0, q1)`` and source tokens ``[s0, s1)``."""
        key = (source_id, q0, q1, s0, s1)
        found = self._aligned.get(key)
        if found is None:
            found = self._aligned[key] = align_words(self.q.tokens, q0, q1, s.tokens, s0, s1)
        return found

    def differences(self, s: Prepared, source_id: str, q0: int, q1: int, s0: int, s1: int
                    ) -> tuple[Difference, ...]:
        """``differences`` of ``align``."""
        key = (source_id, q0, q1, s0, s1)
        found = self._differences.get(key)
        if found is None:
            alignment = self.align(s, source_id, q0, q1, s0, s1)
            found = self._differences[key] = differences(self.q.tokens, s.tokens, alignment)
        return found

    def known(self, source_id: str, q0: int, q1: int, s0: int, s1: int,
              found: tuple[Difference, ...]) -> tuple[Difference, ...]:
        """Take ``found`` as ``differences`` of these ranges, worked out before (by the
        aligner, for a passage of exactly these tokens); returns it."""
        self._differences[source_id, q0, q1, s0, s1] = found
        return found

    def word_changes(self, s: Prepared, source_id: str, q0: int, q1: int, s0: int, s1: int
                     ) -> Iterator[Difference]:
        """``_word_changes`` of ``align``: the differences of types WORD, INSERTION and
        OMISSION, in their order, taken from ``differences`` when it was asked for."""
        found = self._differences.get((source_id, q0, q1, s0, s1))
        if found is None:
            return _word_changes(self.q.tokens, s.tokens, self.align(s, source_id, q0, q1, s0, s1))
        return (d for d in found if d.type in _WORD_CHANGES)


_WORD_CHANGES = frozenset({DiffType.WORD, DiffType.INSERTION, DiffType.OMISSION})


def _containment(q: Prepared, q0: int, q1: int, s: Prepared, s0: int, s1: int) -> float:
    """Share of a query piece's content words that occur in the source span."""
    q_ids = q.tokens.ids[q0:q1][q.content[q0:q1]].tolist()
    if not q_ids:
        return 0.0
    # (A set is much quicker than np.isin on a passage's few words.)
    s_ids = set(s.tokens.ids[s0:s1].tolist())
    return sum(1 for i in q_ids if i in s_ids) / len(q_ids)


def _without_marks(q: Prepared, first: int, stop: int, marks: _Within) -> tuple[int, int]:
    """Query tokens ``[first, stop)`` without those of citation marks at either end."""
    starts, ends = q.tokens.starts, q.tokens.ends
    while first < stop and marks(int(starts[first]), int(ends[first])):
        first += 1
    while stop > first and marks(int(starts[stop - 1]), int(ends[stop - 1])):
        stop -= 1
    return first, stop


def _span(p: Prepared, alignment: WordAlignment, *, query_side: bool) -> tuple[int, int]:
    if query_side:
        lo = min(i1 for _t, i1, i2, _j1, _j2 in alignment.opcodes if i2 > i1)
        hi = max(i2 for _t, i1, i2, _j1, _j2 in alignment.opcodes if i2 > i1)
    else:
        lo, hi = _source_extent(alignment)
    return int(p.tokens.starts[lo]), int(p.tokens.ends[hi - 1])


def _longest_run(alignment: WordAlignment) -> int:
    return max((i2 - i1 for i1, i2, _j1, _j2 in alignment.equal_blocks()), default=0)


class _Overlaps:
    """Which of the given spans overlap a span, found by bisection."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        order = sorted(range(len(spans)), key=lambda k: spans[k][0])
        self._order = order
        self._starts = [spans[k][0] for k in order]
        self._ends = [spans[k][1] for k in order]
        # A span overlapping ``[start, end)`` starts less than the longest length before it.
        self._longest = max((b - a for a, b in spans), default=0)

    def __call__(self, start: int, end: int) -> list[int]:
        """The indices (in no order) of the spans ``(a, b)`` with ``a < end and start < b``."""
        k = bisect.bisect_left(self._starts, end)
        lo = bisect.bisect_left(self._starts, start - self._longest, 0, k)
        ends, order = self._ends, self._order
        return [order[i] for i in range(lo, k) if start < ends[i]]


class _Near:
    """The ids of the sources of the passages that overlap a span of the query."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self._ids = [p.source_id for p in passages]
        self._overlaps = _Overlaps([(p.query_start, p.query_end) for p in passages])

    def __call__(self, start: int, end: int) -> set[str]:
        return {self._ids[k] for k in self._overlaps(start, end)}


# ---------------------------------------------------------------------------------------
# Citations and attribution


def _resolve_all(
    in_text: Sequence[CitationMark],
    references: Sequence[CitationMark],
    sources: Sequence[Document],
    passages: Sequence[Passage],
) -> list[_Resolved]:
    by_id = {s.id: s for s in sources}
    out = []
    # A work is usually cited many times, and metadata resolution reads only these fields.
    by_metadata: dict[tuple[tuple[str, ...], str | None, str | None],
                      tuple[str | None, str | None]] = {}
    near: _Near | None = None
    # (Only a source with neither author nor title can be found by evidence.)
    anonymous = any(not (s.author or s.title) for s in sources)
    for mark in [*in_text, *references]:
        work = (mark.authors, mark.year, mark.title)
        if work not in by_metadata:
            by_metadata[work] = resolve(mark, sources)
        source_id, method = by_metadata[work]
        if source_id is None and mark.style != "reference" and anonymous:
            if near is None:
                near = _Near(passages)
            source_id = _by_evidence(mark, near, by_id)
            method = "evidence" if source_id else None
        out.append(_Resolved(mark, source_id, method))
    return out


def _by_evidence(mark: CitationMark, near: _Near, by_id: dict[str, Document]) -> str | None:
    """The one source holding the cited words, when its metadata cannot be matched
    (``near``: the sources of the passages).

    Only a source that has no author and no title can be linked this way: a source whose
    metadata names someone else is a different work, and the citation is not to it.
    """
    found = near(*mark.covers)
    if len(found) != 1:
        return None
    source = by_id.get(next(iter(found)))
    if source is None or source.author or source.title:
        return None
    return source.id


# A sentence citing a source, where the aligner found nothing, is matched with the
# sentence (or two adjacent sentences) of the cited source sharing most of its content
# words: it is a passage when they share this many content words, and this share of
# the sentence's.  The writer's own citation says where to look, so a sentence too short
# or too reworded to stand out from the whole source is checked all the same: a cited
# figure changed in an answer ("1.6 million died" for "1.3 million died") is drift.
CLAIM_SHARED = 4
CLAIM_SHARE = 0.6


def _cited_claims(
    q: Prepared,
    resolved: Sequence[_Resolved],
    passages: Sequence[Passage],
    cut_spans: Sequence[tuple[int, int]],
    by_id: dict[str, Document],
    settings: Settings,
    alignments: _Alignments,
) -> list[Passage]:
    """Passages for the sentences that cite a corpus source and hold no passage yet."""
    out: list[Passage] = []
    taken = _Overlaps([(p.query_start, p.query_end) for p in passages])
    cut = _Within(list(cut_spans))
    done: set[tuple[int, int]] = set()
    cited: list[tuple[_Resolved, Document]] = []
    for r in sorted(resolved, key=lambda r: (r.mark.start, r.mark.end)):
        source = by_id.get(r.source_id) if r.source_id else None
        if source is not None and r.mark.style != "reference":
            cited.append((r, source))
    # The sentence each citation stands in (its scope may reach back further, to a
    # quotation before it, which is checked as a quotation).
    for (r, source), (start, end) in zip(cited, _sentences_of(q, [r.mark for r, _ in cited])):
        if end <= start or (start, end) in done:
            continue
        done.add((start, end))
        # (Claims lie inside their sentences, which do not overlap: only passages found
        # before can hold this one.)
        if taken(start, end):
            continue
        s = prepare(source.text, settings, source.excluded)
        found = _claim(q, r.mark, (start, end), cut, s)
        if found is None:
            continue
        q0, q1, s0, s1, share = found
        alignment = alignments.align(s, source.id, q0, q1, s0, s1)
        out.append(_passage(
            int(q.tokens.starts[q0]), int(q.tokens.ends[q1 - 1]), source.id,
            int(s.tokens.starts[s0]), int(s.tokens.ends[s1 - 1]),
            Kind.COPY if _longest_run(alignment) >= COPY_RUN else Kind.PARAPHRASE,
            round(share, 4), alignments.differences(s, source.id, q0, q1, s0, s1),
            None, None, "citation",
        ))
    return out


def _sentences_of(q: Prepared, marks: Sequence[CitationMark]) -> list[tuple[int, int]]:
    """The span of the query sentence (as the aligner splits them) that holds each
    citation: the sentence of the word before it, or of the word after it when it opens
    one; ``(0, 0)`` when neither word is in its scope.

    (Looked up for all the citations at once: numpy's cost is per call.)
    """
    n = len(q.tokens)
    if not marks or not n:
        return [(0, 0)] * len(marks)
    starts, ends = q.tokens.starts, q.tokens.ends
    before = starts.searchsorted(np.array([m.start for m in marks], dtype=np.int64)) - 1
    after = starts.searchsorted(np.array([m.end for m in marks], dtype=np.int64))
    before_ends = ends[np.maximum(before, 0)].tolist()
    after_starts = starts[np.minimum(after, n - 1)].tolist()
    words = []
    for mark, k, k_end, j, j_start in zip(
        marks, before.tolist(), before_ends, after.tolist(), after_starts
    ):
        covers = mark.covers
        if k >= 0 and k_end > covers[0]:
            words.append(k)
        elif j < n and j_start < covers[1]:
            words.append(j)
        else:
            words.append(-1)
    sentences = q.tok_sent[np.array(words, dtype=np.int64)]
    return [
        (int(a), int(b)) if k >= 0 else (0, 0)
        for k, a, b in zip(
            words, q.sent_start[sentences].tolist(), q.sent_end[sentences].tolist()
        )
    ]


def _claim(
    q: Prepared,
    mark: CitationMark,
    span: tuple[int, int],
    cut: _Within,
    s: Prepared,
) -> tuple[int, int, int, int, float] | None:
    """The query tokens of a cited span (without the citation itself and quoted words)
    and the source sentences sharing most of their content words, if they share enough:
    ``(q0, q1, s0, s1, share)`` as token ranges."""
    first, stop = span_tokens(q, *span)
    # (The sentence's tokens read as lists: indexing numpy arrays one item at a time
    # costs more than the tests.)
    starts, ends = q.tokens.starts[first:stop].tolist(), q.tokens.ends[first:stop].tolist()
    q_ids, is_content = q.tokens.ids[first:stop].tolist(), q.content[first:stop].tolist()
    kept = [
        k for k, (a, is_cut) in enumerate(zip(starts, cut.holding(starts, ends)))
        if not (mark.start <= a < mark.end) and not is_cut
    ]
    content = {q_ids[k] for k in kept if is_content[k]}
    if len(content) < CLAIM_SHARED or not s.n_sentences:
        return None
    # Which of the claim's content words each source sentence has (each counted once).
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
    # Two adjacent sentences (a claim condensing both), a word both hold counted once.
    for k in np.flatnonzero(per_sentence[:-1] + per_sentence[1:] > best).tolist():
        # (A set counts a few words quicker than ``np.unique``.)
        shared = len(set(word[(sentence == k) | (sentence == k + 1)].tolist()))
        if shared > best:
            best, s_first, s_last = shared, k, k + 1
    share = best / len(content)
    if best < CLAIM_SHARED or share < CLAIM_SHARE:
        return None
    q0, q1 = first + kept[0], first + kept[-1] + 1
    return (q0, q1, int(s.sent_first[s_first]), int(s.sent_stop[s_last]), share)


class _Covering:
    """The in-text citations whose scope overlaps a span of the query, in order."""

    def __init__(self, resolved: Sequence[_Resolved]) -> None:
        self.resolved = resolved
        self._in_text = [r for r in resolved if r.mark.style != "reference"]
        self._overlaps = _Overlaps([r.mark.covers for r in self._in_text])

    def __call__(self, start: int, end: int) -> list[_Resolved]:
        return [self._in_text[k] for k in sorted(self._overlaps(start, end))]


def _attribute(passage: Passage, covers: _Covering) -> Passage:
    covering = covers(passage.query_start, passage.query_end)
    if not covering:
        attribution = Attribution.UNCITED
    elif any(r.source_id == passage.source_id for r in covering):
        attribution = Attribution.CITED
    else:
        attribution = Attribution.MISCITED
    p = passage
    return _passage(
        p.query_start, p.query_end, p.source_id, p.source_start, p.source_end, p.kind,
        p.score, p.differences, p.fidelity, attribution, p.method,
    )


# ---------------------------------------------------------------------------------------
# Findings


def _findings(
    q: Prepared,
    passages: Sequence[Passage],
    covering: _Covering,
    missing: Sequence[tuple[Quotation, tuple[str, float, int, int] | None]],
    by_id: dict[str, Document],
    unbalanced: Sequence[Finding],
    settings: Settings,
    alignments: _Alignments,
) -> list[Finding]:
    text = q.tokens.text
    out: list[Finding] = []
    labels: dict[str, str] = {}
    for p in passages:
        label = labels.get(p.source_id)
        if label is None:
            label = labels[p.source_id] = _label(by_id.get(p.source_id), p.source_id)
        if p.kind is Kind.QUOTATION and p.fidelity is Fidelity.ALTERED:
            changes = [d for d in p.differences if d.type not in HARMLESS]
            out.append(_about(
                p, FindingType.MISQUOTE,
                f"misquotes {label}: " + "; ".join(_describe(d) for d in changes[:4]),
                (("changes", tuple(_describe(d) for d in changes)),),
            ))
        if p.kind is Kind.COPY:
            out.append(_about(
                p, FindingType.UNQUOTED_COPY,
                f"words copied from {label} without quotation marks",
                (("score", p.score),),
            ))
        if p.attribution is Attribution.UNCITED:
            out.append(
                _about(p, FindingType.UNCITED, f"{p.kind.value} of {label} with no citation")
            )
        elif p.attribution is Attribution.MISCITED:
            cited = _covering_labels(p, covering, by_id)
            out.append(_about(
                p, FindingType.MISCITED,
                f"cited to {cited}, but the words come from {label}",
                (("cited", cited),),
            ))
        source = by_id.get(p.source_id)
        if p.kind is not Kind.QUOTATION and source is not None:
            s = prepare(source.text, settings, source.excluded)
            out.extend(_drift(q, s, p, label, alignments))
        if p.kind is not Kind.QUOTATION and p.attribution is not Attribution.CITED:
            # Quoting reproduces rare words by design, and a cited passage already owns
            # its derivation; elsewhere a shared oddity is strong evidence of copying.
            out.extend(_shared_errors(text, p, by_id.get(p.source_id), label))

    reported: set[tuple[tuple[int, int], tuple[str, ...]]] = set()
    for r in covering.resolved:
        if r.source_id is not None or r.mark.style == "reference":
            continue
        key = (r.mark.covers, tuple(a.casefold() for a in r.mark.authors))
        if key in reported:
            continue
        reported.add(key)
        out.append(_finding(
            FindingType.NOT_IN_CORPUS, r.mark.start, r.mark.end,
            f"{_mark_label(r.mark)} is cited, but no source in the corpus matches it",
            None, None, None, (("citation", r.mark.text),),
        ))

    for quotation, closest in missing:
        if _cites_missing_work(quotation, covering):
            # The quoted work is not in the corpus: that is the finding, already made.
            continue
        if closest is None:
            out.append(_finding(
                FindingType.QUOTE_NOT_FOUND, quotation.start, quotation.end,
                "quotation found in no source", None, None, None, (),
            ))
        else:
            sid, similarity, ss, se = closest
            message = (
                f"quotation found in no source; closest is {_label(by_id.get(sid), sid)} "
                f"({similarity:.0%} of its words)"
            )
            out.append(_finding(
                FindingType.QUOTE_NOT_FOUND, quotation.start, quotation.end, message,
                sid, ss, se, (("closest_source", sid), ("similarity", similarity)),
            ))

    out.extend(unbalanced)
    return out


def _unbalanced(text: str, quote_warnings: Sequence[str]) -> tuple[Finding, ...]:
    """The findings of the quote marks left open or closed (from their warnings)."""
    out = []
    for warning in quote_warnings:
        at = _OFFSET.search(warning)
        if at:
            pos = int(at.group(1))
            out.append(Finding(FindingType.UNBALANCED_QUOTE, pos, min(pos + 1, len(text)), warning))
    return tuple(out)


_OFFSET = regex.compile(r"offset (\d+)")


def _cites_missing_work(quotation: Quotation, covers: _Covering) -> bool:
    covering = covers(quotation.start, quotation.end)
    return bool(covering) and all(r.source_id is None for r in covering)


def _about(
    p: Passage, kind: str, message: str, evidence: tuple[tuple[str, object], ...] = ()
) -> Finding:
    """A finding on a passage, pointing at both of its spans."""
    return _finding(
        kind, p.query_start, p.query_end, message, p.source_id, p.source_start, p.source_end,
        evidence,
    )


def _describe(d: Difference) -> str:
    if d.type is DiffType.OMISSION:
        return f"“{d.source}” dropped"
    if d.type is DiffType.INSERTION:
        return f"“{d.query}” added"
    return f"“{d.query}” for “{d.source}”"


def _label(doc: Document | None, fallback: str) -> str:
    if doc is None:
        return fallback
    year = _YEAR.search(doc.date or "")
    if doc.author:
        surname = _surname(doc.author)
        return f"{surname} {year.group(0)}" if year else surname
    return doc.title or doc.id


_PARTICLES = frozenset("van von der den de del della di da du dos das la le ten ter".split())
_YEAR = regex.compile(r"\d{4}")
_AUTHORS_SPLIT = regex.compile(r"\s+(?:and|&)\s+|;")


def _surname(author: str) -> str:
    """The first author's surname: "Smith, Jane" and "Maarten de Vries" give Smith, de Vries.

    An organization is named in full: "World Health Organization", not "Organization".
    """
    first = _AUTHORS_SPLIT.split(author)[0].strip()
    if "," in first:
        return first.split(",")[0].strip()
    words = first.split()
    if not words:
        return author
    if is_organization(words):
        return first.rstrip(".")
    at = len(words) - 1
    while at > 0 and words[at - 1].casefold() in _PARTICLES:
        at -= 1
    return " ".join(words[at:])


def _mark_label(mark: CitationMark) -> str:
    if mark.authors:
        who = " and ".join(mark.authors)
    else:
        who = f"“{mark.title}”" if mark.title else mark.text
    return f"{who} {mark.year}" if mark.year else who


def _covering_labels(p: Passage, covering: _Covering, by_id: dict[str, Document]) -> str:
    labels = []
    for r in covering(p.query_start, p.query_end):
        if r.source_id is not None:
            label = _label(by_id.get(r.source_id), r.source_id)
        else:
            label = f"{_mark_label(r.mark)} (not in the corpus)"
        if label not in labels:
            labels.append(label)
    return ", ".join(labels) or "another work"


_NUMBER = regex.compile(r"\d")
_CAPITAL = regex.compile(r"^\p{Lu}")


def _drift(
    q: Prepared, s: Prepared, p: Passage, label: str, alignments: _Alignments
) -> list[Finding]:
    """Numbers, names or negation that differ between a passage and its source.

    The comparison runs over the whole sentences around the passage on both sides: a
    copy's boundaries stop at the first and last identical words, so a changed figure at
    its edge ("In 1912, some 24,000 dock workers...") would otherwise fall outside it.
    """
    text = q.tokens.text
    q_passage = alignments.span_tokens(q, None, p.query_start, p.query_end)
    s_passage = alignments.span_tokens(s, p.source_id, p.source_start, p.source_end)
    q0, q1 = _sentence_tokens(q, *q_passage)
    s0, s1 = _sentence_tokens(s, *s_passage)
    if q1 <= q0 or s1 <= s0:
        return []
    # A negation added on one side may reword one made by a prefix or by "without" on
    # the other ("not refilled" for "unfilled", "no record" for "without records").
    # (Looked at only for a negation that differs, which is rare.)
    sides = (q, q0, q1), (s, s0, s1)
    found: dict[bool, bool] = {}

    def affixed(side: bool) -> bool:
        """``_affixed`` of one side (asked once per side at most)."""
        if side not in found:
            found[side] = _affixed(*sides[side])
        return found[side]

    changed: list[str] = []
    for d in alignments.word_changes(s, p.source_id, q0, q1, s0, s1):
        # Only a change of a few words is a change of fact.  (``word_changes`` gives
        # words changed, added or dropped only.)
        if not _small(d):
            continue
        if (
            d.type is DiffType.WORD
            and _has_number(d.query)
            and _has_number(d.source)
            and not _same_quantity(d.query, d.source)
        ):
            before, after = _unit(text, s.tokens.text, d)
            changed.append(f"{before}{d.source}{after} → {before}{d.query}{after}")
        elif d.type is DiffType.WORD and _is_name(text, d) and _CAPITAL.match(d.source):
            changed.append(f"{d.source} → {d.query}")
        elif _negation(d.query) != _negation(d.source) and not affixed(
            _negation(d.query) > _negation(d.source)
        ):
            changed.append(
                f"negation “{d.query or d.source}” {'added' if _negation(d.query) else 'dropped'}"
            )
    changed.extend(_edge_numbers(q, s, (q_passage, s_passage), (q0, q1), (s0, s1)))
    if not changed:
        return []
    return [_about(
        p, FindingType.DRIFT,
        f"differs from {label} in facts: " + "; ".join(changed[:4]),
        (("changes", tuple(changed)),),
    )]


def _unit(query: str, source: str, d: Difference) -> tuple[str, str]:
    """The unit both sides give a changed number, before it and after it ("$", "%",
    " million"), so that drift says "1.3 million → 1.6 million" rather than "1.3 → 1.6"."""
    before = query[d.query_start - 1 : d.query_start] if d.query_start else ""
    if before not in _UNIT_SIGNS or source[d.source_start - 1 : d.source_start] != before:
        before = ""
    q_after = _UNIT_AFTER.match(query, d.query_end)
    s_after = _UNIT_AFTER.match(source, d.source_end)
    after = ""
    if q_after and s_after:
        unit = q_after.group(1) or q_after.group(2)
        if unit.casefold() == (s_after.group(1) or s_after.group(2)).casefold():
            after = unit if unit == "%" else f" {unit}"
    return before, after


_UNIT_SIGNS = frozenset("$£€¥")
# A percent sign, or a word of scale or a common unit after one space.
_UNIT_AFTER = regex.compile(
    r"(%)|[ \u00a0]((?i:hundred|thousand|million|billion|trillion|percent|per cent|"
    r"km|kilomet(?:re|er)s|miles|met(?:re|er)s|kg|kilograms|tonnes|tons|pounds|dollars|"
    r"euros|degrees)(?![\p{L}\p{N}]))"
)


def _word_changes(
    query: Tokens, source: Tokens, alignment: WordAlignment
) -> Iterator[Difference]:
    """The differences of an alignment that may be words changed, added or dropped.

    They come in the order ``differences`` gives them, which also reports differences
    of typography, case and spelling between matched words and between the marks after
    them; drift has no use for those, and they make most of the cost on whole sentences.
    """
    qt, st = query.text, source.text
    # ``differences`` reports one difference for each opcode that is not "equal".
    unequal = iter(differences(query, source, WordAlignment(
        tuple(op for op in alignment.opcodes if op[0] != "equal"), 0
    )))
    for tag, i1, i2, j1, j2 in alignment.opcodes:
        if tag != "equal":
            yield next(unequal)
            continue
        q_starts, q_ends = query.starts[i1:i2].tolist(), query.ends[i1:i2].tolist()
        s_starts, s_ends = source.starts[j1:j2].tolist(), source.ends[j1:j2].tolist()
        q_words = [qt[a:b] for a, b in zip(q_starts, q_ends)]
        s_words = [st[a:b] for a, b in zip(s_starts, s_ends)]
        if q_words == s_words:
            continue  # (most runs: comparing the lists at once is quicker)
        for k, (qw, sw) in enumerate(zip(q_words, s_words)):
            if qw != sw and classify_words(qw, sw) is DiffType.WORD:
                yield Difference(
                    qw, sw, DiffType.WORD, q_starts[k], q_ends[k], s_starts[k], s_ends[k]
                )


def _sentence_tokens(p: Prepared, first: int, stop: int) -> tuple[int, int]:
    """The tokens of the sentences around tokens ``[first, stop)``, at most DRIFT_CONTEXT
    words either side of them (a text with no sentence ends would otherwise be one
    sentence)."""
    if stop <= first:
        return first, stop
    return (
        max(int(p.sent_first[p.tok_sent[first]]), first - DRIFT_CONTEXT),
        min(int(p.sent_stop[p.tok_sent[stop - 1]]), stop + DRIFT_CONTEXT),
    )


DRIFT_CONTEXT = 60


def _edge_numbers(
    q: Prepared,
    s: Prepared,
    passage: tuple[tuple[int, int], tuple[int, int]],
    q_span: tuple[int, int],
    s_span: tuple[int, int],
) -> list[str]:
    """Numbers changed next to a passage where the writer joined the source's sentences.

    "In the drought of 1897, when wells ran dry" for "The drought of 1879 tested the
    system. Wells ran dry": the passage starts at "wells", where the source's sentence
    starts too, so the changed year lies in the source's previous sentence, which the
    query's sentence holds.  A number there counts as changed when the content word
    before it is the same on both sides ("drought of 1897", "drought of 1879") and the
    query's number does not occur on the source's side.

    Args:
        q, s: the query and the source.
        passage: the passage's tokens ``[first, stop)`` in the query and in the source.
        q_span, s_span: the tokens of the sentences around it on each side.
    """
    q0, q1 = q_span
    s0, s1 = s_span
    (pq0, pq1), (ps0, ps1) = passage
    regions = []
    if q0 < pq0 and s0 == ps0 and s0 > 0:
        regions.append(((q0, pq0), (_previous_sentence(s, s0), s0)))
    if q1 > pq1 and s1 == ps1 and s1 < len(s.tokens):
        regions.append(((pq1, q1), (s1, _next_sentence(s, s1))))
    changed = []
    for (a0, a1), (b0, b1) in regions:
        source_numbers = _anchored_numbers(s, b0, b1)
        if not source_numbers:
            continue  # (most sentences have none: no number of the query's can differ)
        source_forms = {form for _, form in source_numbers}
        before = dict(source_numbers)
        for anchor, form in _anchored_numbers(q, a0, a1):
            if anchor in before and before[anchor] != form and form not in source_forms:
                changed.append(f"{before[anchor]} → {form}")
    return changed


def _anchored_numbers(p: Prepared, first: int, stop: int) -> list[tuple[str, str]]:
    """``(key of the content word before it, form)`` of each number in tokens
    ``[first, stop)`` that has a content word before it there."""
    forms, keys = p.tokens.forms, p.tokens.keys
    # (Most sentences have no number, which a look at their forms alone tells.)
    if not any(form[:1].isdigit() for form in forms[first:stop]):
        return []
    out = []
    anchor = None
    # (Which tokens are content words, read as a list: indexing the array one item at a
    # time costs more than the loop.)
    for k, is_content in zip(range(first, stop), p.content[first:stop].tolist()):
        if forms[k][:1].isdigit():
            if anchor is not None:
                out.append((anchor, forms[k]))
        elif is_content:
            anchor = keys[k]
    return out


def _previous_sentence(p: Prepared, first: int) -> int:
    """The first token of the sentence before the one starting at token ``first``
    (``first`` itself when there is none), at most DRIFT_CONTEXT words back."""
    if first <= 0:
        return first
    return max(int(p.sent_first[p.tok_sent[first - 1]]), first - DRIFT_CONTEXT)


def _next_sentence(p: Prepared, stop: int) -> int:
    """The token after the sentence following the one that ends before token ``stop``."""
    if stop >= len(p.tokens):
        return stop
    return min(int(p.sent_stop[p.tok_sent[stop]]), stop + DRIFT_CONTEXT)


# Units of time as multiples of a year, by normalized form.
_YEARS_PER = {
    "year": 1, "years": 1, "decade": 10, "decades": 10, "century": 100, "centuries": 100,
    "millennium": 1000, "millennia": 1000, "millenniums": 1000,
}


@lru_cache(maxsize=4096)
def _same_quantity(query: str, source: str) -> bool:
    """Whether two wordings give the same span of time ("six centuries", "six hundred
    years"): a number and a unit of time on both sides, equal once in years."""
    return (q := _years(query)) is not None and q == _years(source)


def _years(words: str) -> float | None:
    forms = [f for f in tokenize(words, stem=False).forms if f not in ("of", "a", "an")]
    if len(forms) != 2 or forms[1] not in _YEARS_PER:
        return None
    try:
        value = float(Fraction(forms[0])) if "/" in forms[0] else float(forms[0])
    except (ValueError, ZeroDivisionError):
        return None
    return value * _YEARS_PER[forms[1]]


@lru_cache(maxsize=4096)
def _has_number(words: str) -> bool:
    """Figures, or numbers written as words ("three quarters" is 3/4)."""
    if _NUMBER.search(words):
        return True
    return any(form[:1].isdigit() for form in tokenize(words).forms)


def _small(d: Difference) -> bool:
    return len(d.query.split()) <= 3 and len(d.source.split()) <= 3


def _is_name(text: str, d: Difference) -> bool:
    if not _CAPITAL.match(d.query):
        return False
    before = text[max(0, d.query_start - 3) : d.query_start].strip()
    return not (before == "" or before[-1:] in ".!?\"“”")


@lru_cache(maxsize=4096)
def _negation(words: str) -> int:
    return sum(1 for w in _WORD_OR_ELISION.findall(words.casefold())
               if w in NEGATIONS or w.endswith("n't") or w.endswith("n’t"))


_WORD_OR_ELISION = regex.compile(r"\p{L}+(?:['’]\p{L}+)?")
_LETTERS = regex.compile(r"\p{L}+")


def _affixed(p: Prepared, first: int, stop: int) -> bool:
    """Whether tokens ``[first, stop)`` negate by "without" or by a prefix ("unfilled":
    "un" before a common word of five letters or more)."""
    words = p.tokens.text[int(p.tokens.starts[first]) : int(p.tokens.ends[stop - 1])]
    return any(
        w == "without"
        or (w.startswith("un") and len(w) >= 7 and zipf(w[2:]) >= 3)
        for w in _LETTERS.findall(words.casefold())
    )


# Whole words in lower case: capitalized words are names, which are rare but not errors.
_LOWER_WORD = regex.compile(r"(?<![\p{L}\p{N}'’-])\p{Ll}+(?![\p{L}\p{N}])")
# The same on ASCII text, where the lower-case letters are a-z, the letters a-zA-Z and
# the figures 0-9 (and ’ is none of its characters): the standard library's engine
# scans it in less than half the time.
_ASCII_LOWER_WORD = re.compile(r"(?<![A-Za-z0-9'-])[a-z]+(?![A-Za-z0-9])")


def _lower_words(text: str, start: int, end: int) -> list[str]:
    """``_LOWER_WORD.findall(text, start, end)``: quicker where the characters it reads
    (those of the span, and the one before it, which the look-behind sees) are ASCII."""
    if text[max(0, start - 1) : end].isascii():
        return _ASCII_LOWER_WORD.findall(text, start, end)
    return cast(list[str], _LOWER_WORD.findall(text, start, end))


@lru_cache(maxsize=50_000)
def _oddity(word: str) -> str | None:
    """Why a lower-case word is evidence of derivation, or None if it is ordinary.

    Either it is missing from the word-frequency list (a coinage, a rare misspelling),
    or it is a common misspelling: swapping two neighbouring letters or doubling or
    undoubling one gives a much more frequent word ("recieved", "occured").
    """
    if len(word) < 4 or not word.isalpha():
        return None
    frequency = zipf(word)
    if frequency < RARE_ZIPF:
        return "a word not in the English word-frequency list"
    if frequency > MISSPELLING_ZIPF:
        return None
    best, best_frequency = None, frequency + MISSPELLING_GAP
    for candidate in _neighbours(word):
        f = zipf(candidate)
        if f >= best_frequency:
            best, best_frequency = candidate, f
    return f"a misspelling of “{best}”" if best else None


def _neighbours(word: str) -> set[str]:
    out = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
    out |= {word[:i] + word[i + 1 :] for i in range(1, len(word)) if word[i] == word[i - 1]}
    out |= {word[: i + 1] + word[i] + word[i + 1 :] for i in range(len(word))}
    out.discard(word)
    return out


def _shared_errors(
    text: str, p: Passage, source: Document | None, label: str
) -> list[Finding]:
    """Rare lower-case words (misspellings, coinages) the passage shares with its source."""
    if source is None:
        return []
    # The source side is looked at only for the query's odd words (most passages have
    # none), and each distinct word once: prose repeats its words.
    odd = {w for w in set(_lower_words(text, p.query_start, p.query_end)) if _oddity(w)}
    if not odd:
        return []
    s_words = set(_lower_words(source.text, p.source_start, p.source_end))
    shared = sorted(odd & s_words)
    out = []
    for word in shared:
        found = regex.search(
            rf"(?<![\p{{L}}]){word}(?![\p{{L}}])", text, pos=p.query_start, endpos=p.query_end
        )
        at = found.start() if found else p.query_start
        out.append(replace(
            _about(p, FindingType.SHARED_ERROR,
                   f"“{word}”, {_oddity(word)}, also appears in {label}", (("word", word),)),
            start=at, end=at + len(word),
        ))
    return out
