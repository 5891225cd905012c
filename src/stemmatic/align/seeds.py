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

    def background(self) -> float:
        """The similarity the two texts share anyway: the median over query sentences of
        their best cosine with a source sentence.  Texts on one topic share words in
        most sentences; reuse must stand out from that."""
        if not self.cosine.shape[0] or not self.cosine.shape[1]:
            return 0.0
        best = self.cosine.max(axis=1).toarray().ravel()
        return float(np.median(best))


def sentence_vectors(query: Prepared, source: Prepared) -> SentenceVectors:
    """Bag-of-words vectors of every sentence, weighted by inverse sentence frequency.

    The vocabulary and weights come from the sentences of both texts together, as in
    tf-isf: a word frequent in both texts says little about which sentences match.
    """
    q_rows, q_ids = _sentence_terms(query)
    s_rows, s_ids = _sentence_terms(source)
    vocab, inverse = np.unique(np.concatenate([q_ids, s_ids]), return_inverse=True)
    q_cols, s_cols = inverse[: len(q_ids)], inverse[len(q_ids) :]
    n_q, n_s, n_v = query.n_sentences, source.n_sentences, len(vocab)
    q_tf = sparse.csr_matrix((np.ones(len(q_cols)), (q_rows, q_cols)), shape=(n_q, n_v))
    s_tf = sparse.csr_matrix((np.ones(len(s_cols)), (s_rows, s_cols)), shape=(n_s, n_v))
    q_tf.sum_duplicates()
    s_tf.sum_duplicates()
    q_bin = (q_tf > 0).astype(np.float64)
    s_bin = (s_tf > 0).astype(np.float64)
    df = np.asarray(q_bin.sum(axis=0)).ravel() + np.asarray(s_bin.sum(axis=0)).ravel()
    isf = np.log((n_q + n_s) / np.maximum(df, 1.0))
    isf = np.maximum(isf, 0.05)  # a word in every sentence still counts a little
    q_tfidf = _l2(q_tf.multiply(isf).tocsr())
    s_tfidf = _l2(s_tf.multiply(isf).tocsr())
    return SentenceVectors(q_tfidf, s_tfidf, q_bin, s_bin, (q_tfidf @ s_tfidf.T).tocsr())


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


def _l2(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)
