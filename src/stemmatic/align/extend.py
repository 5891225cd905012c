"""From seeds to passages: cluster, validate, place boundaries, resolve overlaps."""

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


def fragments(q: np.ndarray, s: np.ndarray, q_gap: int, s_gap: int) -> list[Fragment]:
    """Clusters of sentence seeds as fragments: sentence ranges on both sides."""
    out = []
    for idx in cluster(q, s, q_gap, s_gap):
        qi, si = q[idx], s[idx]
        out.append(Fragment(int(qi.min()), int(qi.max()), int(si.min()), int(si.max()), len(idx)))
    return out


def _split(idx: np.ndarray, key: np.ndarray, gap: int) -> list[np.ndarray]:
    ordered = idx[np.argsort(key[idx], kind="stable")]
    values = key[ordered]
    cuts = np.flatnonzero(np.diff(values) > gap) + 1
    return np.split(ordered, cuts) if len(cuts) else [ordered]


def fragment_cosine(vectors: SentenceVectors, fragment: Fragment) -> float:
    """Cosine between the summed tf-idf vectors of the two sides of a fragment."""
    q = np.asarray(vectors.q_tfidf[fragment.q_first : fragment.q_last + 1].sum(axis=0)).ravel()
    s = np.asarray(vectors.s_tfidf[fragment.s_first : fragment.s_last + 1].sum(axis=0)).ravel()
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
