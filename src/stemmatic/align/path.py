"""Local alignment of sentences: the extent of a reused passage as a best-scoring path.

Seeds mark a few sentence pairs that are clearly similar; the sentences around them
decide where the passage starts and ends.  Judging each neighbour on its own (is it
similar enough?) either stops short at a heavily reworded sentence or runs on through
sentences that merely share the topic.  A local alignment (Smith and Waterman, 1981)
over the sentence similarity matrix judges them together: every sentence pair on the
path adds its similarity minus a threshold, so a weak pair between two strong ones is
kept, while a run of weak pairs at an edge costs more than it brings and is cut.
Moves go down, right or diagonally, so one sentence may be matched with several on
the other side (sentences split or merged in rewriting).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stemmatic.align.extend import Fragment
from stemmatic.align.seeds import SentenceVectors

# Sentences on each side of a fragment that the alignment may reach; when the best path
# reaches the edge of this window, the window grows.
MARGIN = 5
GROWTH = 4


@dataclass(frozen=True, slots=True)
class Path:
    """The best path: rows ``q_first..q_last`` against columns ``s_first..s_last``."""

    q_first: int
    q_last: int
    s_first: int
    s_last: int
    score: float


def best_path(similarity: np.ndarray, threshold: float) -> Path | None:
    """The highest-scoring monotone path through ``similarity - threshold``.

    Args:
        similarity: a dense matrix, query sentences by source sentences.
        threshold: the similarity a pair needs to add to a path rather than cost it.

    Returns:
        The path's first and last row and column (inclusive) and its score, or None
        when no pair reaches the threshold.
    """
    n_rows, n_cols = similarity.shape
    # Scores of the previous row and of the current one, each with the cell where its
    # path started (as ``row * n_cols + column``; cells without a path keep a score of
    # zero, which no move takes).
    above = [0.0] * n_cols
    above_start = [0] * n_cols
    best = 0.0
    best_start = best_end = 0
    for i in range(n_rows):
        # One row at a time as Python floats (quicker to index than numpy's): the whole
        # matrix as a list would take 30 bytes a cell, over a gigabyte for a query
        # against a source of 100,000 sentences.
        row = (similarity[i] - threshold).tolist()
        here = [0.0] * n_cols
        here_start = [0] * n_cols
        left = diagonal = 0.0  # here[j - 1] and above[j - 1]
        left_start = diagonal_start = 0
        for j in range(n_cols):
            value = above[j]
            if value > 0.0:
                start = above_start[j]
            else:
                value, start = 0.0, i * n_cols + j
            if left > value:
                value, start = left, left_start
            if diagonal > value:
                value, start = diagonal, diagonal_start
            diagonal, diagonal_start = above[j], above_start[j]
            value += row[j]
            if value > 0.0:
                here[j] = left = value
                here_start[j] = left_start = start
                if value > best:
                    best, best_start, best_end = value, start, i * n_cols + j
            else:
                left = 0.0
        above, above_start = here, here_start
    if best <= 0.0:
        return None
    return Path(
        best_start // n_cols, best_end // n_cols, best_start % n_cols, best_end % n_cols, best
    )


def path_extent(
    vectors: SentenceVectors, fragment: Fragment, threshold: float, q_limits: tuple[int, int]
) -> Fragment | None:
    """The extent of a fragment as the best local alignment of the sentences around it.

    The query side stays within query sentences ``q_limits`` (first and last,
    inclusive).  Returns None when no sentence pair near the fragment reaches
    ``threshold``.
    """
    n_s = vectors.shape[1]
    q_lo, q_hi = q_limits
    qa, qb, sa, sb = fragment.q_first, fragment.q_last, fragment.s_first, fragment.s_last
    for _ in range(GROWTH):
        q0, q1 = max(qa - MARGIN, q_lo), min(qb + MARGIN + 1, q_hi + 1)
        s0, s1 = max(sa - MARGIN, 0), min(sb + MARGIN + 1, n_s)
        path = best_path(vectors.block(q0, q1, s0, s1), threshold)
        if path is None:
            return None
        qa, qb = q0 + path.q_first, q0 + path.q_last
        sa, sb = s0 + path.s_first, s0 + path.s_last
        at_edge = (
            (qa == q0 > q_lo) or (qb == q1 - 1 < q_hi)
            or (sa == s0 > 0) or (sb == s1 - 1 < n_s - 1)
        )
        if not at_edge:
            break
    return Fragment(qa, qb, sa, sb, fragment.seeds)
