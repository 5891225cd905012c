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
    gain = (similarity - threshold).tolist()
    n_rows, n_cols = similarity.shape
    # Scores of the previous row and of the current one, each with the cell where its
    # path started.
    above = [0.0] * n_cols
    above_start: list[tuple[int, int]] = [(0, 0)] * n_cols
    best = 0.0
    best_start = best_end = (0, 0)
    for i in range(n_rows):
        row = gain[i]
        here = [0.0] * n_cols
        here_start: list[tuple[int, int]] = [(0, 0)] * n_cols
        for j in range(n_cols):
            value, start = 0.0, (i, j)
            if above[j] > value:
                value, start = above[j], above_start[j]
            if j:
                if here[j - 1] > value:
                    value, start = here[j - 1], here_start[j - 1]
                if above[j - 1] > value:
                    value, start = above[j - 1], above_start[j - 1]
            value += row[j]
            if value > 0.0:
                here[j] = value
                here_start[j] = start
                if value > best:
                    best, best_start, best_end = value, start, (i, j)
        above, above_start = here, here_start
    if best <= 0.0:
        return None
    return Path(best_start[0], best_end[0], best_start[1], best_end[1], best)


@dataclass(frozen=True, slots=True)
class Block:
    """Rows ``q_first..q_last`` against columns ``s_first..s_last`` (inclusive)."""

    q_first: int
    q_last: int
    s_first: int
    s_last: int
    score: float


def best_block(
    similarity: np.ndarray, threshold: float, start: tuple[int, int, int, int]
) -> Block | None:
    """Grow or shrink a block of ``similarity`` from ``start`` while its score rises.

    The score of a block is, over its rows and its columns, the similarity of each with
    its best partner inside the block, minus ``threshold``: every sentence of the block
    must be matched on the other side, in any order (a rewritten passage may reorder
    its sentences), and one sentence may match several.

    Args:
        similarity: a dense matrix, query sentences by source sentences.
        threshold: the similarity a sentence needs to add to a block rather than cost it.
        start: the first block, as (first row, last row, first column, last column).

    Returns:
        The block reached when no move of one edge by one or two sentences raises the
        score, or None when its score is not positive.
    """
    n_rows, n_cols = similarity.shape

    def score(a: int, b: int, c: int, d: int) -> float:
        block = similarity[a : b + 1, c : d + 1]
        return float((block.max(axis=1) - threshold).sum() + (block.max(axis=0) - threshold).sum())

    a, b, c, d = start
    current = score(a, b, c, d)
    while True:
        best_move, best_score = None, current
        for move in _moves(a, b, c, d, n_rows, n_cols):
            value = score(*move)
            if value > best_score + 1e-12:
                best_move, best_score = move, value
        if best_move is None:
            break
        (a, b, c, d), current = best_move, best_score
    if current <= 0.0:
        return None
    return Block(a, b, c, d, current)


def _moves(
    a: int, b: int, c: int, d: int, n_rows: int, n_cols: int
) -> list[tuple[int, int, int, int]]:
    out = []
    for step in (1, 2):
        for move in (
            (a - step, b, c, d), (a + step, b, c, d), (a, b - step, c, d), (a, b + step, c, d),
            (a, b, c - step, d), (a, b, c + step, d), (a, b, c, d - step), (a, b, c, d + step),
        ):
            na, nb, nc, nd = move
            if 0 <= na <= nb < n_rows and 0 <= nc <= nd < n_cols:
                out.append(move)
    return out
