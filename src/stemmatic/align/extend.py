"""From seeds to fragments: cluster seeds, then grow and trim the clusters' extents."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stemmatic.align.seeds import SentenceVectors
from stemmatic.align.units import Prepared


@dataclass(frozen=True, slots=True)
class Fragment:
    """A cluster of seeds: a run of query sentences matched to a run of source sentences."""

    q_first: int
    q_last: int
    s_first: int
    s_last: int
    seeds: int


def cluster(q: np.ndarray, s: np.ndarray, q_gap: int, s_gap: int) -> list[np.ndarray]:
    """Group seeds ``(q[k], s[k])`` into clusters, returned as arrays of seed indices.

    Seeds are sorted by query sentence and cut wherever more than ``q_gap`` sentences
    separate two neighbours; each group is then sorted by source sentence and cut at gaps
    over ``s_gap``; and so on until no group splits.  Because each group is sorted on its
    own, a query that uses two source passages in the opposite order gets two fragments:
    reordering is no obstacle, unlike aligners that only accept increasing matches.
    """
    groups: list[np.ndarray] = []
    stack = [np.arange(len(q))] if len(q) else []
    while stack:
        idx = stack.pop()
        parts = _split(idx, q, q_gap)
        if len(parts) == 1:
            parts = _split(idx, s, s_gap)
            if len(parts) == 1:
                groups.append(idx)
                continue
        stack.extend(parts)
    groups.sort(key=lambda g: (int(q[g].min()), int(s[g].min())))
    return groups


def fragments(
    q: np.ndarray, s: np.ndarray, q_gap: int, s_gap: int, q_group: np.ndarray | None = None
) -> list[Fragment]:
    """Clusters of sentence seeds as fragments: sentence ranges on both sides.

    Seeds whose query sentences lie in different ``q_group`` (paragraphs, say) never
    share a fragment.
    """
    # A change of group counts as a gap wider than any bridged, so clustering splits there.
    key = q if q_group is None else q + q_group[q] * (q_gap + 1)
    out = []
    for idx in cluster(key, s, q_gap, s_gap):
        qi, si = q[idx], s[idx]
        out.append(Fragment(int(qi.min()), int(qi.max()), int(si.min()), int(si.max()), len(idx)))
    return out


def _split(idx: np.ndarray, key: np.ndarray, gap: int) -> list[np.ndarray]:
    ordered = idx[np.argsort(key[idx], kind="stable")]
    values = key[ordered]
    cuts = np.flatnonzero(np.diff(values) > gap) + 1
    return np.split(ordered, cuts) if len(cuts) else [ordered]


def extend(
    vectors: SentenceVectors, fragment: Fragment, threshold: float, q_limits: tuple[int, int]
) -> Fragment:
    """Grow a fragment over neighbouring sentences that are still similar to the other side.

    Seeds need a fairly high similarity; a heavily reworded sentence at the edge of a
    passage often falls short of it while still clearly belonging to the passage.  A
    neighbour joins when its cosine with a sentence of the other side's run (or the one
    just beyond it) reaches ``threshold``.  The query side stays within query sentences
    ``q_limits`` (first and last, inclusive).
    """
    qa, qb, sa, sb = fragment.q_first, fragment.q_last, fragment.s_first, fragment.s_last
    n_q, n_s = vectors.shape
    changed = True
    while changed:
        changed = False
        lo, hi = max(sa - 1, 0), min(sb + 2, n_s)
        if qa > q_limits[0] and vectors.block(qa - 1, qa, lo, hi).max() >= threshold:
            qa -= 1
            changed = True
        if qb < q_limits[1] and vectors.block(qb + 1, qb + 2, lo, hi).max() >= threshold:
            qb += 1
            changed = True
        lo, hi = max(qa - 1, 0), min(qb + 2, n_q)
        if sa > 0 and vectors.block(lo, hi, sa - 1, sa).max() >= threshold:
            sa -= 1
            changed = True
        if sb + 1 < n_s and vectors.block(lo, hi, sb + 1, sb + 2).max() >= threshold:
            sb += 1
            changed = True
    return Fragment(qa, qb, sa, sb, fragment.seeds)


def trim(
    vectors: SentenceVectors,
    fragment: Fragment,
    q_cover: np.ndarray,
    s_cover: np.ndarray,
    share: float,
    floor: float,
) -> Fragment | None:
    """Drop weakly matched sentences from the ends of a fragment.

    Clustering bridges small gaps, so a passage can pull in its neighbours when they
    share a few topical words with the source.  A sentence at either end stays only if
    its best evidence (cosine with a sentence of the other side, or share of its words
    inside shared n-grams, from ``q_cover``/``s_cover``) reaches ``share`` of the
    fragment's median evidence, and at least ``floor``.
    """
    qa, qb, sa, sb = fragment.q_first, fragment.q_last, fragment.s_first, fragment.s_last
    block = vectors.block(qa, qb + 1, sa, sb + 1)
    q_evidence = np.maximum(block.max(axis=1), q_cover[qa : qb + 1])
    keep = np.flatnonzero(q_evidence >= max(floor, share * float(np.median(q_evidence))))
    if not len(keep):
        return None
    qa, qb = qa + int(keep[0]), qa + int(keep[-1])
    block = block[keep[0] : keep[-1] + 1]
    s_evidence = np.maximum(block.max(axis=0), s_cover[sa : sb + 1])
    keep = np.flatnonzero(s_evidence >= max(floor, share * float(np.median(s_evidence))))
    if not len(keep):
        return None
    return Fragment(qa, qb, sa + int(keep[0]), sa + int(keep[-1]), fragment.seeds)


def union(a: Fragment, b: Fragment) -> Fragment:
    """The smallest fragment holding both."""
    return Fragment(
        min(a.q_first, b.q_first), max(a.q_last, b.q_last),
        min(a.s_first, b.s_first), max(a.s_last, b.s_last), max(a.seeds, b.seeds),
    )


def coverage(prepared: Prepared, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Share of each sentence's content words that lie inside a shared n-gram."""
    covered = np.zeros(len(prepared.tokens) + 1, dtype=np.int64)
    np.add.at(covered, first, 1)
    np.add.at(covered, last + 1, -1)
    inside = (np.cumsum(covered)[:-1] > 0) & prepared.content
    per_sentence = np.bincount(
        prepared.tok_sent[inside], minlength=prepared.n_sentences
    ).astype(np.float64)
    content = np.bincount(
        prepared.tok_sent[prepared.content], minlength=prepared.n_sentences
    ).astype(np.float64)
    return per_sentence / np.maximum(content, 1.0)


def fragment_cosine(vectors: SentenceVectors, fragment: Fragment) -> float:
    """Cosine between the summed tf-idf vectors of the two sides of a fragment."""
    q = vectors.q_tfidf.total(fragment.q_first, fragment.q_last + 1)
    s = vectors.s_tfidf.total(fragment.s_first, fragment.s_last + 1)
    denominator = float(np.linalg.norm(q) * np.linalg.norm(s))
    return float(q @ s) / denominator if denominator else 0.0


def token_range(prepared: Prepared, first_sentence: int, last_sentence: int) -> tuple[int, int]:
    """Token range ``[first, stop)`` of a run of sentences."""
    return int(prepared.sent_first[first_sentence]), int(prepared.sent_stop[last_sentence])


def extend_punctuation(
    q_text: str, s_text: str, q_span: tuple[int, int], s_span: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Grow both spans over punctuation the two texts share at their edges.

    Tokens hold only words, so a copied sentence would otherwise lose its final period
    or its opening bracket.
    """
    qs, qe = q_span
    ss, se = s_span
    while (
        qe < len(q_text) and se < len(s_text)
        and _same_mark(q_text[qe], s_text[se])
    ):
        qe += 1
        se += 1
    while qs > 0 and ss > 0 and _same_mark(q_text[qs - 1], s_text[ss - 1]):
        qs -= 1
        ss -= 1
    return (qs, qe), (ss, se)


_MARKS = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-"})


def _same_mark(a: str, b: str) -> bool:
    if a.isspace() or a.isalnum() or b.isspace() or b.isalnum():
        return False
    return a.translate(_MARKS) == b.translate(_MARKS)
