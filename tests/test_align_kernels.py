"""The aligner's inner loops against plain reference versions of the same algorithms."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from stemmatic.align.close import _lcs
from stemmatic.align.path import Path, best_path


def _reference_lcs(a: list[int], b: list[int]) -> int:
    """The textbook dynamic programme."""
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.integers(0, 6), max_size=40),
    st.lists(st.integers(0, 6), max_size=70),
)
def test_lcs_matches_the_dynamic_programme(a: list[int], b: list[int]) -> None:
    assert _lcs(a, b) == _reference_lcs(a, b)
    assert _lcs(b, a) == _reference_lcs(a, b)


def _reference_best_path(similarity: np.ndarray, threshold: float) -> Path | None:
    """Smith-Waterman over ``similarity - threshold`` as first written (ties included)."""
    gain = (similarity - threshold).tolist()
    n_rows, n_cols = similarity.shape
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


# Few distinct values, so that ties between moves are common.
_MATRICES = arrays(
    np.float64,
    st.tuples(st.integers(1, 9), st.integers(1, 9)),
    elements=st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.5, 0.55, 0.8, 1.0]),
)


@settings(max_examples=400, deadline=None)
@given(_MATRICES, st.sampled_from([0.2, 0.3, 0.5]))
def test_best_path_matches_the_reference(similarity: np.ndarray, threshold: float) -> None:
    assert best_path(similarity, threshold) == _reference_best_path(similarity, threshold)


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 30)),
           elements=st.sampled_from([0.0, 0.0, 0.0, 0.1, 0.25, 0.5, 1.0])),
    st.data(),
)
def test_closest_on_sparse_cosines_matches_slicing(cosines: np.ndarray, data: st.DataObject) -> None:
    from scipy import sparse

    from stemmatic.align.seeds import SentenceVectors

    n_q, n_s = cosines.shape
    q_rows = np.array(data.draw(st.lists(st.integers(0, n_q - 1), min_size=1, max_size=8)))
    s_rows = np.array(sorted(data.draw(
        st.sets(st.integers(0, n_s - 1), min_size=1, max_size=n_s)
    )))
    matrix = sparse.csr_matrix(cosines)
    vectors = SentenceVectors.__new__(SentenceVectors)
    object.__setattr__(vectors, "dense", None)
    object.__setattr__(vectors, "cosine", matrix)
    expected = matrix[q_rows][:, s_rows].max(axis=1).toarray().ravel()
    assert np.array_equal(vectors.closest(q_rows, s_rows), expected)
