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
6. A sentence that condenses a run of two or three adjacent sentences of the other text,
   or that two adjacent query sentences expand
   (:func:`~stemmatic.align.seeds.condensation_seeds`), is found where no fragment holds
   it: it is only moderately similar to each sentence it merges, so it is seldom a
   seed, and a single sentence never has the evidence of a run.  Next to a passage it
   joins it; elsewhere it is a passage of its own (method ``condensed``).
"""

from __future__ import annotations

import numpy as np

from stemmatic.align import summary
from stemmatic.align.candidate import Candidate, overlap
from stemmatic.align.close import MAX_WORDS, NEAR_SHARED, SPECIFIC
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
from stemmatic.align.seeds import (
    Condensation,
    SentenceVectors,
    TokenMatches,
    condensation_seeds,
    sentence_seeds,
)
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
# A piece with this share of its source words matched word for word is a copy.
COPIED_SHARE = 0.8
# Condensations: one sentence against runs of this many adjacent sentences.  It shares
# as many specific words with the run as two linked near pairs of the close stage, its
# content words overlap the run's with this Dice, and each sentence of the run adds
# this many specific words the others lack.  In the PAN 2013 training corpus, of the
# runs that pass the last test while no sentence pair of theirs is a seed, 16 inside a
# plagiarism case and none outside any pass these limits; sharing 6 words (a close
# pair's) instead of 8 lets 3 outside through for 33 inside, and a Dice of 0.35
# instead of 0.4 lets 7 through for 24.
CONDENSED_RUNS = (2, 3)
CONDENSED_SHARED = 2 * NEAR_SHARED
CONDENSED_DICE = 0.4
CONDENSED_OWN = 2


def find_paraphrases(
    q: Prepared,
    s: Prepared,
    matches: TokenMatches,
    vectors: SentenceVectors,
    settings: Settings,
) -> list[Candidate]:
    """Paraphrased passages of the source in the query, placed on whole sentences."""
    gap = max(1, round(settings.max_gap / WORDS_PER_SENTENCE))
    seeded = _seeded(q, s, matches, vectors, settings, gap)
    condensed = _condensed(q, s, vectors, seeded, settings)
    return _join_condensed(q, s, _merge_summaries(q, s, vectors, seeded, gap), condensed)


def _seeded(
    q: Prepared,
    s: Prepared,
    matches: TokenMatches,
    vectors: SentenceVectors,
    settings: Settings,
    gap: int,
) -> list[Candidate]:
    """Fragments of seeds, grown, validated and placed on whole sentences."""
    rows, cols, _ = sentence_seeds(vectors, settings.sentence_cosine, settings.sentence_dice)
    seed_q = np.concatenate([q.tok_sent[matches.q_first], rows])
    seed_s = np.concatenate([s.tok_sent[matches.s_first], cols])
    if not len(seed_q):
        return []
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
    return out


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


def _condensed(
    q: Prepared,
    s: Prepared,
    vectors: SentenceVectors,
    placed: list[Candidate],
    settings: Settings,
) -> list[Candidate]:
    """Sentences condensing runs of adjacent sentences (or expanded into them), placed
    on whole sentences, where no candidate of ``placed`` holds their query side."""
    found = condensation_seeds(
        q, s, vectors, runs=CONDENSED_RUNS, shared=CONDENSED_SHARED, dice=CONDENSED_DICE,
        own=CONDENSED_OWN, specific=SPECIFIC, longest=MAX_WORDS,
    )
    out: list[Candidate] = []
    # The closest condensation of a sentence first, where two claim it.
    for c in sorted(found, key=lambda c: -c.dice):
        fragment = _fragment(c)
        q_span = (int(q.sent_start[fragment.q_first]), int(q.sent_end[fragment.q_last]))
        if any(overlap(q_span, p.q_span) for p in placed + out):
            continue
        q0, q1 = token_range(q, fragment.q_first, fragment.q_last)
        s0, s1 = token_range(s, fragment.s_first, fragment.s_last)
        if q1 - q0 < settings.min_words or ELABORATION * (s1 - s0) < q1 - q0:
            continue
        q0, q1, s0, s1 = trim_units(q, q0, q1, s, s0, s1)
        if q1 - q0 < settings.min_words:
            continue
        out.append(Candidate(
            char_span(q, q0, q1), char_span(s, s0, s1), Kind.PARAPHRASE,
            fragment_cosine(vectors, fragment), q1 - q0,
            align_words(q.tokens, q0, q1, s.tokens, s0, s1), "condensed", fragment,
        ))
    return out


def _fragment(c: Condensation) -> Fragment:
    if c.in_query:
        return Fragment(c.sentence, c.sentence, c.first, c.last, 1)
    return Fragment(c.first, c.last, c.sentence, c.sentence, 1)


def _join_condensed(
    q: Prepared, s: Prepared, placed: list[Candidate], condensed: list[Candidate]
) -> list[Candidate]:
    """Join each condensation to a passage of ``placed`` that it continues.

    A condensation next to a passage (the next or previous query sentence, in one
    paragraph, and at most a sentence apart on the source side) is the edge of that
    passage, reworked more than its middle: one passage, not two.
    """
    out = list(placed)
    for c in condensed:
        assert c.fragment is not None
        k = next(
            (
                k for k, o in enumerate(out)
                if o.fragment is not None and _continues(q, o.fragment, c.fragment)
            ),
            None,
        )
        if k is None:
            out.append(c)
            continue
        o = out[k]
        assert o.fragment is not None
        q_span = (min(o.q_span[0], c.q_span[0]), max(o.q_span[1], c.q_span[1]))
        s_span = (min(o.s_span[0], c.s_span[0]), max(o.s_span[1], c.s_span[1]))
        q0, q1 = np.searchsorted(q.tokens.starts, q_span)
        s0, s1 = np.searchsorted(s.tokens.starts, s_span)
        out[k] = Candidate(
            q_span, s_span, o.kind, o.score, int(q1 - q0),
            align_words(q.tokens, int(q0), int(q1), s.tokens, int(s0), int(s1)), o.method,
            union(o.fragment, c.fragment),
        )
    return out


def _continues(q: Prepared, a: Fragment, b: Fragment) -> bool:
    """Whether fragment ``b`` continues ``a``: the next or previous query sentences in one
    paragraph, and at most one sentence between them on the source side."""
    # Fragments never run over a blank line of the query, so their first sentences
    # tell their paragraphs.
    next_to = b.q_first == a.q_last + 1 or a.q_first == b.q_last + 1
    return (
        next_to
        and q.sent_par[a.q_first] == q.sent_par[b.q_first]
        and b.s_first - a.s_last <= 2
        and a.s_first - b.s_last <= 2
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


def _copied(c: Candidate) -> bool:
    """Whether nearly all of a candidate's source words are matched word for word: the
    source sentence was copied whole (perhaps inside words of the writer's own, "As
    the chronicle puts it, ...")."""
    ops = c.alignment.opcodes
    source_words = (ops[-1][4] - ops[0][3]) if ops else 0
    return source_words > 0 and c.alignment.equal >= COPIED_SHARE * source_words


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
        # Pieces copied word for word condense nothing: a paragraph that copies two
        # sentences from far apart and rewords one is three borrowings, each with its
        # own place in the source (as in ``summary.Evidence.copied``).
        if sum(not _copied(c) for c in group) < 2:
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
