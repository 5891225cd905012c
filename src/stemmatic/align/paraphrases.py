"""Paraphrases: runs of similar sentences, validated and placed on whole sentences.

1. Seeds are sentence pairs with tf-isf cosine and Dice over thresholds (Sanchez-Perez,
   Sidorov and Gelbukh, PAN 2014), plus the sentences of shared word n-grams.
2. Seeds are clustered in sentence space, each axis on its own, so reordered passages
   give separate fragments (:func:`~stemmatic.align.extend.cluster`); a fragment never
   runs over a blank line of the query.
3. A fragment's extent is the union of two estimates: its seeds grown over similar
   neighbours and trimmed at weak ends, and the best local alignment of the sentences
   around it (:func:`~stemmatic.align.path.path_extent`).  The first copes with
   sentences shuffled inside the passage, the second with long runs of moderately
   similar sentences, as machine translation leaves them.
4. A fragment is reported when its evidence stands out from the similarity the two
   texts share anyway (:func:`evidence`), and its edges are trimmed of units that
   explain nothing on the other side (:func:`~stemmatic.align.edges.trim_units`).
5. Paraphrases of one query region drawn from a long stretch of the source are merged
   into one passage: a summary of that stretch.
"""

from __future__ import annotations

import numpy as np

from stemmatic.align import summary
from stemmatic.align.candidate import Candidate
from stemmatic.align.diff import align_words
from stemmatic.align.edges import char_span, trim_units
from stemmatic.align.extend import (
    Fragment,
    coverage,
    extend,
    fragment_cosine,
    fragments,
    token_range,
    trim,
    union,
)
from stemmatic.align.path import path_extent
from stemmatic.align.seeds import SentenceVectors, TokenMatches, sentence_seeds
from stemmatic.align.units import Prepared
from stemmatic.settings import Settings
from stemmatic.types import Kind

# About this many words make a sentence of prose: turns max_gap (words) into sentences.
WORDS_PER_SENTENCE = 20
# A sentence next to a fragment joins it at this cosine with the other side.
EXTEND_COSINE = 0.25
# Trimming: a sentence at the end of a fragment needs this share of the fragment's
# median evidence, and at least the floor.
TRIM_SHARE = 0.5
TRIM_FLOOR = 0.1
# A sentence pair adds to a local alignment above this cosine and costs below it.
PATH_COSINE = 0.25
# A fragment is reported when its evidence (see `evidence`) reaches this; a single
# query sentence needs more, since topically close texts share many single sentences.
EVIDENCE = 0.35
SINGLE_EXTRA = 0.1
# Evidence grows with the log of the query side's content words around this many:
# long runs of similar sentences are less likely by chance.
EVIDENCE_LENGTH = 0.04
TYPICAL_WORDS = 30
# The background needs this many query sentences outside any seed to be estimated.
BACKGROUND_SENTENCES = 5
# A passage more than this many times longer than its source is elaboration, not reuse.
ELABORATION = 3
# Paraphrases of one query region spread over a source this many times longer are a
# summary of that stretch of the source, reported as one passage.
SUMMARY_RATIO = 3.0


def find_paraphrases(
    q: Prepared,
    s: Prepared,
    matches: TokenMatches,
    vectors: SentenceVectors,
    settings: Settings,
) -> list[Candidate]:
    """Paraphrased passages of the source in the query, placed on whole sentences."""
    rows, cols, _ = sentence_seeds(vectors, settings.sentence_cosine, settings.sentence_dice)
    seed_q = np.concatenate([q.tok_sent[matches.q_first], rows])
    seed_s = np.concatenate([s.tok_sent[matches.s_first], cols])
    if not len(seed_q):
        return []
    gap = max(1, round(settings.max_gap / WORDS_PER_SENTENCE))
    q_cover = coverage(q, matches.q_first, matches.q_last)
    s_cover = coverage(s, matches.s_first, matches.s_last)
    # A paraphrase stays inside one paragraph of the query: writers rework a source
    # paragraph by paragraph, and a passage running over a blank line is two passages.
    par_first = np.searchsorted(q.sent_par, q.sent_par, side="left")
    par_last = np.searchsorted(q.sent_par, q.sent_par, side="right") - 1
    background = _background(vectors, seed_q)
    out = []
    for fragment in fragments(seed_q, seed_s, gap, gap, q.sent_par):
        limits = (int(par_first[fragment.q_first]), int(par_last[fragment.q_first]))
        extent = _extent(vectors, fragment, q_cover, s_cover, limits)
        if extent is None:
            continue
        candidate = _place(q, s, vectors, extent, background, settings)
        if candidate is not None:
            out.append(candidate)
    return _merge_summaries(q, s, vectors, out, gap)


def _extent(
    vectors: SentenceVectors,
    fragment: Fragment,
    q_cover: np.ndarray,
    s_cover: np.ndarray,
    q_limits: tuple[int, int],
) -> Fragment | None:
    grown = trim(
        vectors, extend(vectors, fragment, EXTEND_COSINE, q_limits), q_cover, s_cover,
        TRIM_SHARE, TRIM_FLOOR,
    )
    aligned = path_extent(vectors, fragment, PATH_COSINE, q_limits)
    if grown is None or aligned is None:
        return grown or aligned
    return union(grown, aligned)


def _background(vectors: SentenceVectors, seeded: np.ndarray) -> float:
    """The similarity the two texts share anyway, apart from any reuse: the median, over
    the query sentences without a seed, of their best cosine with a source sentence.

    Texts on one topic share words in most sentences; reuse must stand out from that.
    When too few sentences are left to judge, none is assumed.
    """
    best = vectors.best()
    rest = np.ones(len(best), dtype=bool)
    rest[seeded] = False
    if rest.sum() < BACKGROUND_SENTENCES:
        return 0.0
    return float(np.median(best[rest]))


def _place(
    q: Prepared,
    s: Prepared,
    vectors: SentenceVectors,
    fragment: Fragment,
    background: float,
    settings: Settings,
) -> Candidate | None:
    """Validate a fragment of similar sentences and place it on whole sentences."""
    q0, q1 = token_range(q, fragment.q_first, fragment.q_last)
    s0, s1 = token_range(s, fragment.s_first, fragment.s_last)
    if q1 - q0 < settings.min_words or ELABORATION * (s1 - s0) < q1 - q0:
        return None
    cosine = fragment_cosine(vectors, fragment)
    needed = EVIDENCE + (SINGLE_EXTRA if fragment.q_first == fragment.q_last else 0.0)
    if evidence(vectors, fragment, cosine) - background < needed:
        return None
    q0, q1, s0, s1 = trim_units(q, q0, q1, s, s0, s1)
    if q1 - q0 < settings.min_words:
        return None
    alignment = align_words(q.tokens, q0, q1, s.tokens, s0, s1)
    return Candidate(
        char_span(q, q0, q1), char_span(s, s0, s1), Kind.PARAPHRASE, cosine, q1 - q0,
        alignment, "sentence", fragment,
    )


def evidence(vectors: SentenceVectors, fragment: Fragment, cosine: float) -> float:
    """How clearly a fragment is reuse, before the background is taken off.

    Three views of similarity are averaged: ``cosine``, of the two sides as wholes; the
    share of the query side's content words found on the source side; and how well each
    source sentence is matched by some query sentence of the fragment.  A little is
    added or taken for passages longer or shorter than usual.  The caller subtracts the
    background similarity of the two texts, so texts on one topic need more evidence
    than unrelated ones.
    """
    found = vectors.contained(
        fragment.q_first, fragment.q_last + 1, fragment.s_first, fragment.s_last + 1
    )
    contained = float(found.mean()) if len(found) else 0.0
    block = vectors.block(
        fragment.q_first, fragment.q_last + 1, fragment.s_first, fragment.s_last + 1
    )
    matched = float(block.max(axis=0).mean())
    length = EVIDENCE_LENGTH * np.log2(max(len(found), 1) / TYPICAL_WORDS)
    return (cosine + contained + matched) / 3 + float(length)


def _merge_summaries(
    q: Prepared,
    s: Prepared,
    vectors: SentenceVectors,
    candidates: list[Candidate],
    gap: int,
) -> list[Candidate]:
    """Join paraphrases of one query region that draw on a long stretch of the source.

    A summary condenses a long source passage: its sentences match source sentences
    far apart from each other, so clustering cuts it into pieces.  Pieces that are close
    in the query and whose source extent is much longer than their query extent are
    merged back into one passage; when that extent ranges over most of the source, the
    passage is a summary of the whole source.
    """
    pieces = sorted((c for c in candidates if c.fragment is not None), key=lambda c: c.q_span)
    if len(pieces) < 2:
        return candidates
    groups: list[list[Candidate]] = [[pieces[0]]]
    for c in pieces[1:]:
        last = groups[-1][-1]
        assert last.fragment is not None and c.fragment is not None
        same_paragraph = q.sent_par[c.fragment.q_first] == q.sent_par[last.fragment.q_last]
        if same_paragraph and c.fragment.q_first - last.fragment.q_last <= gap:
            groups[-1].append(c)
        else:
            groups.append([c])
    merged: list[Candidate] = []
    absorbed: set[int] = set()
    for group in groups:
        if len(group) < 2:
            continue
        whole = group[0].fragment
        assert whole is not None
        for c in group[1:]:
            assert c.fragment is not None
            whole = union(whole, c.fragment)
        q_span = (int(q.sent_start[whole.q_first]), int(q.sent_end[whole.q_last]))
        s_span = (int(s.sent_start[whole.s_first]), int(s.sent_end[whole.s_last]))
        if (s_span[1] - s_span[0]) < SUMMARY_RATIO * (q_span[1] - q_span[0]):
            continue
        if whole.s_last - whole.s_first + 1 >= summary.SPREAD * s.n_sentences:
            whole = Fragment(whole.q_first, whole.q_last, 0, s.n_sentences - 1, whole.seeds)
            s_span = (int(s.sent_start[0]), int(s.sent_end[-1]))
        q0, q1 = token_range(q, whole.q_first, whole.q_last)
        s0, s1 = token_range(s, whole.s_first, whole.s_last)
        alignment = align_words(q.tokens, q0, q1, s.tokens, s0, s1)
        merged.append(Candidate(
            q_span, s_span, Kind.PARAPHRASE, fragment_cosine(vectors, whole), q1 - q0,
            alignment, "merged", whole,
        ))
        absorbed.update(id(c) for c in group)
    return [c for c in candidates if id(c) not in absorbed] + merged
