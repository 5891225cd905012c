"""Copies: clusters of shared word n-grams, placed on exact words."""

from __future__ import annotations

import re

import numpy as np

from stemmatic.align.candidate import Candidate
from stemmatic.align.diff import align_words, same_marks
from stemmatic.align.extend import cluster, extend_punctuation
from stemmatic.align.seeds import TokenMatches
from stemmatic.align.units import Prepared
from stemmatic.normalize import fold_typography
from stemmatic.settings import Settings
from stemmatic.types import Kind

# A cluster whose words match the source at least this well is a copy; below it the
# words were rewritten and the paraphrase stage decides.
COPY_RATIO = 0.7
# Shortest run of equal words that may place a copy's boundary (shorter runs are often
# chance matches of common words near the real copy).
BOUNDARY_RUN = 2
# Beyond a cluster's ends, one run of equal words at most MAX_SKIP words away, looked
# for within BRIDGE_WINDOW words, continues the copy (a misquoted or dropped word).  More
# than one such step lets a copy creep into the rewritten text around it.
MAX_SKIP = 2
BRIDGE_WINDOW = 8
# In a cluster that is no copy as a whole, consecutive shared n-grams whose offsets
# between the texts differ by more than this many words belong to different copies
# (see `_diagonals`).
DIAGONAL_JUMP = 10


def find_copies(
    q: Prepared, s: Prepared, matches: TokenMatches, settings: Settings
) -> list[Candidate]:
    """Copies and near-copies of source words in the query, on exact word boundaries."""
    out = []
    for idx in cluster(matches.q_first, matches.s_first, settings.max_gap, settings.max_gap):
        candidate = _place_cluster(q, s, matches, idx, settings)
        if candidate is not None:
            out.append(candidate)
            continue
        # Two passages copied in swapped order make one cluster that is no copy as a
        # whole (its words are out of order); each diagonal of it may be.
        parts = _diagonals(matches, idx)
        if len(parts) > 1:
            placed = (_place_cluster(q, s, matches, part, settings) for part in parts)
            out.extend(c for c in placed if c is not None)
    return out


def _place_cluster(
    q: Prepared, s: Prepared, matches: TokenMatches, idx: np.ndarray, settings: Settings
) -> Candidate | None:
    q0, q1 = int(matches.q_first[idx].min()), int(matches.q_last[idx].max()) + 1
    s0, s1 = int(matches.s_first[idx].min()), int(matches.s_last[idx].max()) + 1
    return _place(q, s, q0, q1, s0, s1, settings)


def _diagonals(matches: TokenMatches, idx: np.ndarray) -> list[np.ndarray]:
    """Split a cluster of shared n-grams where the offset between the two texts jumps.

    A copy keeps the words of its source in order, so its n-grams lie on one diagonal
    (source position minus query position), shifted a little by each word added or
    dropped.  Two passages copied in swapped order lie on two diagonals, close enough to
    be one cluster; cut apart, each is a copy of its own.
    """
    ordered = idx[np.argsort(matches.q_first[idx], kind="stable")]
    diagonal = matches.s_first[ordered] - matches.q_first[ordered]
    cuts = np.flatnonzero(np.abs(np.diff(diagonal)) > DIAGONAL_JUMP) + 1
    return np.split(ordered, cuts) if len(cuts) else [ordered]


def _place(
    q: Prepared, s: Prepared, q0: int, q1: int, s0: int, s1: int, settings: Settings
) -> Candidate | None:
    """Place a copy on the first and last runs of shared words, or reject the cluster."""
    alignment = align_words(q.tokens, q0, q1, s.tokens, s0, s1)
    blocks = alignment.equal_blocks(BOUNDARY_RUN)
    if not blocks:
        return None
    first_q, first_s = blocks[0][0], blocks[0][2]
    last_q, last_s = blocks[-1][1] - 1, blocks[-1][3] - 1
    # The n-grams need four content words in a row, so the matched words can go on past
    # the cluster's ends: stop words ("The" before a copied sentence, "that had" after a
    # quotation), or a short run beyond one changed word (a misquotation).
    first_q, first_s, last_q, last_s = _grow(q, s, first_q, first_s, last_q, last_s)
    if (first_q, first_s, last_q, last_s) != (q0, s0, q1 - 1, s1 - 1):
        alignment = align_words(q.tokens, first_q, last_q + 1, s.tokens, first_s, last_s + 1)
    words = last_q - first_q + 1
    if alignment.equal < settings.min_words or alignment.equal < COPY_RATIO * words:
        return None
    q_span, s_span = extend_punctuation(
        q.tokens.text, s.tokens.text, q.tokens.span(first_q, last_q), s.tokens.span(first_s, last_s)
    )
    score = min(1.0, 2 * alignment.equal / (words + last_s - first_s + 1))
    return Candidate(q_span, s_span, Kind.COPY, score, words, alignment, "ngram")


def _grow(
    q: Prepared, s: Prepared, first_q: int, first_s: int, last_q: int, last_s: int
) -> tuple[int, int, int, int]:
    """Extend a copy's boundaries, within the sentences they lie in, over a run of equal
    words at most MAX_SKIP differing words away, then over single equal words whose
    marks agree."""
    bridged = _bridge_left(q, s, first_q, first_s)
    if bridged is not None:
        first_q, first_s = bridged
    bridged = _bridge_right(q, s, last_q, last_s)
    if bridged is not None:
        last_q, last_s = bridged
    while (
        _same_sentence(q, first_q - 1, first_q) and _same_sentence(s, first_s - 1, first_s)
        and q.tokens.ids[first_q - 1] == s.tokens.ids[first_s - 1]
        and _marks_agree(q, s, first_q - 1, first_s - 1)
    ):
        first_q -= 1
        first_s -= 1
    while (
        _same_sentence(q, last_q, last_q + 1) and _same_sentence(s, last_s, last_s + 1)
        and q.tokens.ids[last_q + 1] == s.tokens.ids[last_s + 1]
        and _marks_agree(q, s, last_q, last_s)
    ):
        last_q += 1
        last_s += 1
    return first_q, first_s, last_q, last_s


def _bridge_left(q: Prepared, s: Prepared, first_q: int, first_s: int) -> tuple[int, int] | None:
    q0 = max(first_q - BRIDGE_WINDOW, int(q.sent_first[q.tok_sent[first_q]]))
    s0 = max(first_s - BRIDGE_WINDOW, int(s.sent_first[s.tok_sent[first_s]]))
    if q0 >= first_q or s0 >= first_s:
        return None
    blocks = align_words(q.tokens, q0, first_q, s.tokens, s0, first_s).equal_blocks(BOUNDARY_RUN)
    if not blocks:
        return None
    i1, i2, j1, j2 = blocks[-1]
    if first_q - i2 > MAX_SKIP or first_s - j2 > MAX_SKIP:
        return None
    if not _quotes_agree(q, s, i2 - 1, first_q, j2 - 1, first_s):
        return None
    return i1, j1


def _bridge_right(q: Prepared, s: Prepared, last_q: int, last_s: int) -> tuple[int, int] | None:
    q1 = min(last_q + 1 + BRIDGE_WINDOW, int(q.sent_stop[q.tok_sent[last_q]]))
    s1 = min(last_s + 1 + BRIDGE_WINDOW, int(s.sent_stop[s.tok_sent[last_s]]))
    if q1 <= last_q + 1 or s1 <= last_s + 1:
        return None
    blocks = align_words(q.tokens, last_q + 1, q1, s.tokens, last_s + 1, s1).equal_blocks(
        BOUNDARY_RUN
    )
    if not blocks:
        return None
    i1, i2, j1, j2 = blocks[0]
    if i1 - (last_q + 1) > MAX_SKIP or j1 - (last_s + 1) > MAX_SKIP:
        return None
    if not _quotes_agree(q, s, last_q, i1, last_s, j1):
        return None
    return i2 - 1, j2 - 1


def _quotes_agree(q: Prepared, s: Prepared, qa: int, qb: int, sa: int, sb: int) -> bool:
    """Whether the text between tokens ``qa`` and ``qb`` of the query holds the same
    quotation marks as the text between tokens ``sa`` and ``sb`` of the source."""
    qt, st = q.tokens, s.tokens
    return _QUOTES.findall(fold_typography(qt.text[int(qt.ends[qa]) : int(qt.starts[qb])])) == (
        _QUOTES.findall(fold_typography(st.text[int(st.ends[sa]) : int(st.starts[sb])]))
    )


_QUOTES = re.compile("[\"']")


def _same_sentence(prepared: Prepared, a: int, b: int) -> bool:
    """Whether tokens ``a`` and ``b`` both exist and lie in one sentence."""
    n = len(prepared.tokens)
    return 0 <= a < n and 0 <= b < n and prepared.tok_sent[a] == prepared.tok_sent[b]


def _marks_agree(q: Prepared, s: Prepared, i: int, j: int) -> bool:
    """Whether the marks between tokens ``i`` and ``i + 1`` of the query agree with those
    between tokens ``j`` and ``j + 1`` of the source (an opening quote mark on one side
    only ends a copy: the writer quoted from there)."""
    qt, st = q.tokens, s.tokens
    return same_marks(
        qt.text[int(qt.ends[i]) : int(qt.starts[i + 1])],
        st.text[int(st.ends[j]) : int(st.starts[j + 1])],
    )
