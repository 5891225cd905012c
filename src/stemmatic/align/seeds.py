"""Seeds: small pieces of evidence that two places of two texts share words.

Two kinds of seed are found, both as pairs ``(query sentence, source sentence)``:

* word n-grams shared exactly (after normalization), which find copies and near-copies;
* sentence pairs whose tf-idf cosine and word-set Dice overlap pass thresholds, which find
  paraphrases (Sanchez-Perez, Sidorov and Gelbukh, PAN 2014).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from stemmatic.align.units import Prepared
from stemmatic.fingerprint import fingerprint

# An n-gram that occurs more often than this in one source is boilerplate there.
MAX_REPEATS = 20
# The sentence cosines are kept as a dense matrix up to this many cells (8 bytes each),
# since the later stages read many small blocks of it, which sparse matrices make slow.
DENSE_CELLS = 4_000_000


@dataclass(frozen=True, slots=True)
class TokenMatches:
    """Shared n-grams: query n-gram ``k`` starts at token ``q_first[k]`` and ends at
    ``q_last[k]``; the same words in the source run from ``s_first[k]`` to ``s_last[k]``."""

    q_first: np.ndarray
    q_last: np.ndarray
    s_first: np.ndarray
    s_last: np.ndarray

    def __len__(self) -> int:
        return len(self.q_first)


def ngram_matches(query: Prepared, source: Prepared, n: int, *, stopwords: bool) -> TokenMatches:
    """Every pair of positions where the query and the source share a word n-gram."""
    q = fingerprint(query.tokens, n, stopwords=stopwords)
    s = fingerprint(source.tokens, n, stopwords=stopwords)
    empty = np.empty(0, dtype=np.int64)
    if not len(q) or not len(s):
        return TokenMatches(empty, empty, empty, empty)
    order = np.argsort(s.hashes, kind="stable")
    sorted_hashes = s.hashes[order]
    left = np.searchsorted(sorted_hashes, q.hashes, side="left")
    right = np.searchsorted(sorted_hashes, q.hashes, side="right")
    counts = right - left
    hit = (counts > 0) & (counts <= MAX_REPEATS)
    if not hit.any():
        return TokenMatches(empty, empty, empty, empty)
    q_index = np.repeat(np.flatnonzero(hit), counts[hit])
    # Positions left[i] .. right[i]-1 for every hit, flattened.
    starts = np.repeat(left[hit], counts[hit])
    offsets = np.arange(len(q_index)) - np.repeat(np.cumsum(counts[hit]) - counts[hit], counts[hit])
    s_index = order[starts + offsets]
    keep = query.content[q.first[q_index]] & source.content[s.first[s_index]]
    q_index, s_index = q_index[keep], s_index[keep]
    return TokenMatches(q.first[q_index], q.last[q_index], s.first[s_index], s.last[s_index])


@dataclass(frozen=True, slots=True)
class SentenceVectors:
    """tf-idf rows (L2-normalized) and binary rows of the query's and source's sentences,
    and the cosine of every query sentence with every source sentence."""

    q_tfidf: sparse.csr_matrix
    s_tfidf: sparse.csr_matrix
    q_binary: sparse.csr_matrix
    s_binary: sparse.csr_matrix
    cosine: sparse.csr_matrix
    dense: np.ndarray | None

    def best(self) -> np.ndarray:
        """Each query sentence's highest cosine with a source sentence."""
        if self.dense is not None:
            return self.dense.max(axis=1) if self.dense.shape[1] else np.zeros(len(self.dense))
        return self.cosine.max(axis=1).toarray().ravel()

    def block(self, q0: int, q1: int, s0: int, s1: int) -> np.ndarray:
        """Cosines of query sentences ``[q0, q1)`` with source sentences ``[s0, s1)``."""
        if self.dense is not None:
            return self.dense[q0:q1, s0:s1]
        return self.cosine[q0:q1, s0:s1].toarray()


def sentence_vectors(query: Prepared, source: Prepared) -> SentenceVectors:
    """Bag-of-words vectors of every sentence, weighted by inverse sentence frequency.

    The vocabulary and weights come from the sentences of both texts together, as in
    tf-isf: a word frequent in both texts says little about which sentences match.
    """
    q_rows, q_ids = _sentence_terms(query)
    s_rows, s_ids = _sentence_terms(source)
    vocab, inverse = np.unique(np.concatenate([q_ids, s_ids]), return_inverse=True)
    n_q, n_s, n_v = query.n_sentences, source.n_sentences, len(vocab)
    q_tf = _term_counts(q_rows, inverse[: len(q_ids)], n_q, n_v)
    s_tf = _term_counts(s_rows, inverse[len(q_ids) :], n_s, n_v)
    df = np.bincount(q_tf.indices, minlength=n_v) + np.bincount(s_tf.indices, minlength=n_v)
    isf = np.log((n_q + n_s) / np.maximum(df, 1.0))
    isf = np.maximum(isf, 0.05)  # a word in every sentence still counts a little
    q_tfidf = _weighted(q_tf, isf)
    s_tfidf = _weighted(s_tf, isf)
    cosine = (q_tfidf @ s_tfidf.T).tocsr()
    dense = cosine.toarray() if n_q * n_s <= DENSE_CELLS else None
    return SentenceVectors(q_tfidf, s_tfidf, _binary(q_tf), _binary(s_tf), cosine, dense)


def _term_counts(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sparse.csr_matrix:
    """Sentence-by-term counts as a canonical CSR matrix (sorted, no duplicates)."""
    keys, counts = np.unique(rows.astype(np.int64) * n_cols + cols, return_counts=True)
    row_of = keys // max(n_cols, 1)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=n_rows))])
    return sparse.csr_matrix(
        (counts.astype(np.float64), keys % max(n_cols, 1), indptr), shape=(n_rows, n_cols)
    )


def _weighted(tf: sparse.csr_matrix, isf: np.ndarray) -> sparse.csr_matrix:
    """tf-isf rows, each scaled to unit length."""
    data = tf.data * isf[tf.indices]
    rows = np.repeat(np.arange(tf.shape[0]), np.diff(tf.indptr))
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=tf.shape[0]))
    norms[norms == 0] = 1.0
    return sparse.csr_matrix((data / norms[rows], tf.indices, tf.indptr), shape=tf.shape)


def _binary(tf: sparse.csr_matrix) -> sparse.csr_matrix:
    return sparse.csr_matrix((np.ones(len(tf.data)), tf.indices, tf.indptr), shape=tf.shape)


def sentence_seeds(
    vectors: SentenceVectors, cosine: float, dice: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sentence pairs ``(qi, sj)`` whose cosine and Dice both pass, with their cosine."""
    cos = vectors.cosine.tocoo()
    if cos.nnz == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    passing = cos.data > cosine
    rows, cols, values = cos.row[passing], cos.col[passing], cos.data[passing]
    q_sizes = np.asarray(vectors.q_binary.sum(axis=1)).ravel()
    s_sizes = np.asarray(vectors.s_binary.sum(axis=1)).ravel()
    shared = np.asarray(
        vectors.q_binary[rows].multiply(vectors.s_binary[cols]).sum(axis=1)
    ).ravel()
    dice_values = 2 * shared / np.maximum(q_sizes[rows] + s_sizes[cols], 1)
    ok = dice_values > dice
    return rows[ok].astype(np.int64), cols[ok].astype(np.int64), values[ok]


def _sentence_terms(prepared: Prepared) -> tuple[np.ndarray, np.ndarray]:
    positions = np.flatnonzero(prepared.content)
    return prepared.tok_sent[positions], prepared.tokens.ids[positions]
