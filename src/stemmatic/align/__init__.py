"""Align a query with one source: every reused passage, with exact offsets on both sides.

The stages are plain functions on plain values, so the same code runs in a single
process, in worker processes and inside Spark tasks:

1. :func:`~stemmatic.align.units.prepare` tokenizes and segments both texts (cached);
2. :mod:`~stemmatic.align.seeds` finds shared word n-grams and similar sentence pairs;
3. :mod:`~stemmatic.align.copies` places clusters of shared n-grams on exact words;
4. :mod:`~stemmatic.align.paraphrases` grows, validates and places runs of similar
   sentences on whole sentences, in any order;
5. :mod:`~stemmatic.align.summary` recognizes a query region that summarizes the whole
   source;
6. copies and paraphrases are combined, overlaps on the query side are resolved, and
   :func:`~stemmatic.align.diff.differences` names every word-level change.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stemmatic.align.candidate import Candidate, overlap
from stemmatic.align.close import CLOSE_SHARED, find_close
from stemmatic.align.copies import find_copies
from stemmatic.align.diff import WordAlignment, align_words, differences
from stemmatic.align.paraphrases import find_paraphrases
from stemmatic.align.seeds import ngram_matches, sentence_vectors
from stemmatic.align.summary import find_summaries
from stemmatic.align.units import Prepared, prepare, spans_tokens
from stemmatic.settings import Settings
from stemmatic.types import Document, Kind, Passage

__all__ = ["Prepared", "align", "prepare"]

# A paraphrase with copies inside stands for them only when at least this many of its
# content words lie outside the copies, and at least this share of those is reused.
REST_WORDS = 4
REST_REUSED = 0.5


def align(query: Document, source: Document, settings: Settings | None = None) -> list[Passage]:
    """Find every passage of ``query`` that was taken from ``source``.

    Args:
        query: the document being checked.
        source: one corpus document.
        settings: matching settings; the defaults suit prose in English.

    Returns:
        Passages sorted by query position.  Spans are offsets into ``query.text`` and
        ``source.text``.  Passages never overlap on the query side.
    """
    settings = settings or Settings()
    q = prepare(query.text, settings, query.excluded)
    s = prepare(source.text, settings, source.excluded)
    if not len(q.tokens) or not len(s.tokens):
        return []

    matches = ngram_matches(q, s, settings.ngram, stopwords=settings.stopwords)
    found = find_copies(q, s, matches, settings)
    summaries: list[Candidate] = []
    if settings.paraphrase and q.n_sentences and s.n_sentences:
        vectors = sentence_vectors(q, s)
        paraphrases = find_paraphrases(q, s, matches, vectors, settings)
        paraphrases += find_close(q, s, vectors, settings)
        found = _combine(q, s, found, paraphrases)
        summaries = find_summaries(q, s, vectors, found, settings)
    chosen = _join_close(q, s, _resolve_overlaps(found, summaries))
    passages = [
        Passage(
            query_start=c.q_span[0],
            query_end=c.q_span[1],
            source_id=source.id,
            source_start=c.s_span[0],
            source_end=c.s_span[1],
            kind=c.kind,
            score=round(c.score, 4),
            differences=differences(q.tokens, s.tokens, alignment),
            method=c.method,
        )
        for c, alignment in zip(chosen, _spanned(q, s, chosen))
    ]
    passages.sort(key=lambda p: (p.query_start, p.source_start))
    return passages


def _spanned(q: Prepared, s: Prepared, chosen: Sequence[Candidate]) -> list[WordAlignment]:
    """The alignment of each candidate's tokens: exactly those its two spans hold.

    A passage's differences are those of this alignment, and ``classify`` relies on it
    (it keeps them for a passage it does not cut).  The finders align exactly those
    tokens already; a candidate whose alignment covers others is aligned again.
    """
    q_ranges = spans_tokens(q, [c.q_span[0] for c in chosen], [c.q_span[1] for c in chosen])
    s_ranges = spans_tokens(s, [c.s_span[0] for c in chosen], [c.s_span[1] for c in chosen])
    out = []
    for c, (q0, q1), (s0, s1) in zip(chosen, q_ranges, s_ranges):
        ops = c.alignment.opcodes
        # (An empty alignment covers the empty ranges only.)
        covered = (ops[0][1], ops[-1][2], ops[0][3], ops[-1][4]) if ops else (q0, q0, s0, s0)
        if covered == (q0, q1, s0, s1):
            out.append(c.alignment)
        else:
            out.append(align_words(q.tokens, q0, q1, s.tokens, s0, s1))
    return out


def _combine(
    q: Prepared, s: Prepared, copies: list[Candidate], paraphrases: list[Candidate]
) -> list[Candidate]:
    """Choose between a paraphrase and the copies found inside it.

    The paraphrase stands for the whole passage, the copies inside it included, when
    its words outside the copies are reused too (a rewritten passage with some
    sentences left as they were).  Otherwise the copies are kept, with their word-exact
    boundaries: a quotation inside a sentence of one's own makes that sentence look
    similar to the source, but only the quoted words were taken; and a verbatim passage
    found as whole sentences adds only the unrelated words that share its first and
    last sentence.
    """
    kept_copies = list(copies)
    out = []
    for p in paraphrases:
        inside = [c for c in copies if overlap(c.q_span, p.q_span)]
        if inside:
            words, reused = _rest_reused(q, s, p, inside)
            # A close paraphrase stands when its words outside the copies alone share
            # enough with its source to make it close: the copies are not what makes
            # the sentence similar.
            enough = reused >= REST_REUSED or (
                p.method == "close" and reused * words >= CLOSE_SHARED
            )
            if words < REST_WORDS or not enough:
                continue
        out.append(p)
        kept_copies = [
            c for c in kept_copies
            if not (p.q_span[0] <= c.q_span[0] and c.q_span[1] <= p.q_span[1])
        ]
    return kept_copies + out


def _rest_reused(
    q: Prepared, s: Prepared, p: Candidate, inside: list[Candidate]
) -> tuple[int, float]:
    """How many content words of ``p``'s query side lie outside the copies ``inside``,
    and which share of them occurs on ``p``'s source side."""
    q0, q1 = np.searchsorted(q.tokens.starts, p.q_span)
    s0, s1 = np.searchsorted(s.tokens.starts, p.s_span)
    rest = q.content[q0:q1].copy()
    for c in inside:
        c0, c1 = np.searchsorted(q.tokens.starts, c.q_span)
        rest[max(c0 - q0, 0) : max(c1 - q0, 0)] = False
    words = q.tokens.ids[q0:q1][rest]
    if not len(words):
        return 0, 0.0
    return len(words), float(np.isin(words, s.tokens.ids[s0:s1][s.content[s0:s1]]).mean())


def _join_close(q: Prepared, s: Prepared, chosen: list[Candidate]) -> list[Candidate]:
    """Join each close paraphrase to a passage that continues it on both sides.

    A close paraphrase next to a passage found otherwise (the next or previous query
    sentence, and within a sentence on the source side) is the edge of that passage,
    reworded more than its middle: one passage, not two.
    """
    close = [c for c in chosen if c.method == "close"]
    out = [c for c in chosen if c.method != "close"]
    for c in close:
        k = next((k for k, o in enumerate(out) if _continues(q, s, o, c)), None)
        if k is None:
            out.append(c)
            continue
        o = out[k]
        q_span = (min(o.q_span[0], c.q_span[0]), max(o.q_span[1], c.q_span[1]))
        s_span = (min(o.s_span[0], c.s_span[0]), max(o.s_span[1], c.s_span[1]))
        if any(overlap(q_span, x.q_span) for x in out + close if x is not o and x is not c):
            # The sentence between them belongs to another passage.
            out.append(c)
            continue
        q0, q1 = np.searchsorted(q.tokens.starts, q_span)
        s0, s1 = np.searchsorted(s.tokens.starts, s_span)
        out[k] = Candidate(
            q_span, s_span, Kind.PARAPHRASE, o.score, int(q1 - q0),
            align_words(q.tokens, int(q0), int(q1), s.tokens, int(s0), int(s1)), o.method,
            o.fragment,
        )
    return out


def _continues(q: Prepared, s: Prepared, a: Candidate, b: Candidate) -> bool:
    """Whether the close paraphrase ``b`` continues the passage ``a``: at most one
    sentence apart on both sides, in one paragraph of the query (a writer reworks a
    source paragraph by paragraph, and cites each paragraph on its own)."""
    return (
        _paragraph(q, a.q_span) == _paragraph(q, b.q_span)
        and _near(q, a.q_span, b.q_span)
        and _near(s, a.s_span, b.s_span)
    )


def _paragraph(p: Prepared, span: tuple[int, int]) -> tuple[int, int]:
    first = max(int(np.searchsorted(p.sent_start, span[0], side="right")) - 1, 0)
    last = max(int(np.searchsorted(p.sent_start, span[1] - 1, side="right")) - 1, 0)
    return int(p.sent_par[first]), int(p.sent_par[last])


def _near(p: Prepared, a: tuple[int, int], b: tuple[int, int]) -> bool:
    first, last = sorted((a, b))
    if last[0] < first[1]:
        return True
    gap = np.searchsorted(p.sent_start, last[0], side="right") - np.searchsorted(
        p.sent_start, first[1] - 1, side="right"
    )
    return int(gap) <= 2


def _resolve_overlaps(
    candidates: list[Candidate], first: Sequence[Candidate] = ()
) -> list[Candidate]:
    """Keep the strongest of the candidates that claim the same query words.

    Candidates in ``first`` are kept before any other: a summary of the whole source
    stands for the pieces of it that were found as paraphrases.
    """
    ranked = list(first) + sorted(
        candidates, key=lambda c: (-c.score * c.words, c.q_span, c.s_span)
    )
    chosen: list[Candidate] = []
    for c in ranked:
        if all(overlap(c.q_span, o.q_span) == 0 for o in chosen):
            chosen.append(c)
    return chosen
