"""Word n-gram fingerprints: pure functions on token arrays.

An n-gram is hashed from the stable 64-bit ids of its words (see
:func:`stemmatic.normalize.tokenize`), so the same words give the same fingerprint in any
process, on any machine, and inside an on-disk index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stemmatic.normalize import Tokens

# Odd 64-bit multipliers, one per position in the n-gram (arithmetic wraps modulo 2**64).
_MULTIPLIERS = np.array(
    [
        0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9,
        0x27D4EB2F165667C5, 0x85EBCA77C2B2AE63, 0x2545F4914F6CDD1D, 0x9FB21C651E98DF25,
    ],
    dtype=np.uint64,
)


@dataclass(frozen=True, slots=True)
class Ngrams:
    """Fingerprints of a text's word n-grams.

    ``hashes[k]`` covers tokens ``first[k]`` to ``last[k]`` inclusive (indices into the
    :class:`~stemmatic.normalize.Tokens`; stop words in between are skipped, not hashed).
    """

    hashes: np.ndarray
    first: np.ndarray
    last: np.ndarray

    def __len__(self) -> int:
        return len(self.hashes)


def content_positions(tokens: Tokens, *, stopwords: bool) -> np.ndarray:
    """Indices of the tokens that take part in fingerprints."""
    if stopwords:
        return np.arange(len(tokens), dtype=np.int64)
    keep = np.flatnonzero(~tokens.stop)
    # A text made only of stop words still gets fingerprints.
    return keep if len(keep) else np.arange(len(tokens), dtype=np.int64)


def fingerprint(tokens: Tokens, n: int, *, stopwords: bool = False) -> Ngrams:
    """Hash every run of ``n`` consecutive content words of ``tokens``."""
    positions = content_positions(tokens, stopwords=stopwords)
    ids = tokens.ids[positions]
    count = len(ids) - n + 1
    if count <= 0:
        empty = np.empty(0, dtype=np.int64)
        return Ngrams(np.empty(0, dtype=np.uint64), empty, empty)
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            hashes += ids[k : k + count] * _MULTIPLIERS[k]
        hashes ^= hashes >> np.uint64(29)
    return Ngrams(hashes, positions[:count], positions[n - 1 : n - 1 + count])


def winnow(ngrams: Ngrams, window: int) -> Ngrams:
    """Keep the smallest hash of every window of ``window`` consecutive n-grams.

    Two texts sharing a run of ``window + n - 1`` content words are guaranteed to share
    at least one kept fingerprint (Schleimer, Wilkerson and Aiken 2003).
    """
    count = len(ngrams)
    if window <= 1 or count <= window:
        if count == 0 or window <= 1:
            return ngrams
        keep = np.array([int(np.argmin(ngrams.hashes))])
    else:
        view = np.lib.stride_tricks.sliding_window_view(ngrams.hashes, window)
        # The rightmost minimum of each window, as the original algorithm picks it.
        rightmost = window - 1 - np.argmin(view[:, ::-1], axis=1)
        keep = np.unique(np.arange(len(view)) + rightmost)
    return Ngrams(ngrams.hashes[keep], ngrams.first[keep], ngrams.last[keep])
