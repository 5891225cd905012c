"""Seeds: small pieces of evidence that two places of two texts share words.

Three kinds of seed are found:

* word n-grams shared exactly (after normalization), which find copies and near-copies;
* sentence pairs whose tf-idf cosine and word-set Dice overlap pass thresholds, which find
  paraphrases (Sanchez-Perez, Sidorov and Gelbukh, PAN 2014);
* condensations: a sentence against a run of two or three adjacent sentences of the
  other text, which it merges (or which expand it) sharing words with each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from stemmatic.align.units import Prepared
from stemmatic.fingerprint import fingerprint

if TYPE_CHECKING:
    from scipy import sparse

# An n-gram that occurs more often than this in one source is boilerplate there.
MAX_REPEATS = 20
# The sentence cosines are kept as a dense matrix up to this many cells (8 bytes each),
# since the later stages read many small blocks of it, which sparse matrices make slow.
DENSE_CELLS = 4_000_000
# The dense matrix is summed product by product (a few dozen bytes each) up to this
# many products; beyond, scipy's sparse product sums it in less memory.
DENSE_PRODUCTS = 1_000_000


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
    # The distinct source hashes, where each one's run starts in sorted order, and its
    # length: one search per query n-gram then finds both ends of its run.
    starts_run = np.ones(len(sorted_hashes), dtype=bool)
    starts_run[1:] = sorted_hashes[1:] != sorted_hashes[:-1]
    run_start = np.flatnonzero(starts_run)
    run_length = np.diff(np.append(run_start, len(sorted_hashes)))
    distinct = sorted_hashes[run_start]
    k = np.minimum(np.searchsorted(distinct, q.hashes), len(distinct) - 1)
    found = distinct[k] == q.hashes
    left = run_start[k]
    counts = np.where(found, run_length[k], 0)
    hit = (counts > 0) & (counts <= MAX_REPEATS)
    if not hit.any():
        return TokenMatches(empty, empty, empty, empty)
    q_index = np.repeat(np.flatnonzero(hit), counts[hit])
    # Positions left[i] .. left[i] + counts[i] - 1 for every hit, flattened.
    starts = np.repeat(left[hit], counts[hit])
    offsets = np.arange(len(q_index)) - np.repeat(np.cumsum(counts[hit]) - counts[hit], counts[hit])
    s_index = order[starts + offsets]
    keep = query.content[q.first[q_index]] & source.content[s.first[s_index]]
    q_index, s_index = q_index[keep], s_index[keep]
    return TokenMatches(q.first[q_index], q.last[q_index], s.first[s_index], s.last[s_index])


@dataclass(frozen=True, slots=True)
class Rows:
    """Sparse rows in compressed form: row ``k`` holds the values
    ``data[indptr[k]:indptr[k + 1]]`` in the columns ``indices[...]`` (increasing).

    Plain arrays rather than a scipy matrix: the aligner reads many small pieces of a
    few small matrices per pair of texts, and each scipy call costs more in checks than
    the arithmetic itself.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_cols: int

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def sizes(self) -> np.ndarray:
        """Number of stored values in each row."""
        return np.diff(self.indptr)

    def entry_rows(self) -> np.ndarray:
        """The row of each stored value, in storage order."""
        return np.repeat(np.arange(self.n_rows), self.sizes())

    def column_sizes(self) -> np.ndarray:
        """Number of stored values in each column."""
        return np.bincount(self.indices, minlength=self.n_cols)

    def total(self, first: int, stop: int) -> np.ndarray:
        """Column sums of rows ``[first, stop)``, as a dense vector."""
        a, b = self.indptr[first], self.indptr[stop]
        # bincount adds the values in storage order (row by row), as a sparse
        # product with a vector of ones does, so the sums are the same to the last bit.
        return np.bincount(self.indices[a:b], weights=self.data[a:b], minlength=self.n_cols)

    def total_of(self, rows: np.ndarray) -> np.ndarray:
        """Column sums of the rows ``rows`` (added in that order), as a dense vector."""
        entries = ranges(self.indptr[rows], self.indptr[rows + 1] - self.indptr[rows])
        return np.bincount(
            self.indices[entries], weights=self.data[entries], minlength=self.n_cols
        )


@dataclass(frozen=True, slots=True)
class SentenceVectors:
    """tf-idf rows (L2-normalized) of the query's and source's sentences, and the cosine of
    every query sentence with every source sentence.

    Attributes:
        q_tfidf, s_tfidf: the tf-idf rows.
        q_counts, s_counts: how often each sentence holds each word (the same columns).
        q_terms, s_terms: the column (word) of each content token, in text order.
        q_bounds, s_bounds: the content tokens of sentence ``k`` are
            ``q_terms[q_bounds[k] : q_bounds[k + 1]]`` (and likewise for the source).
        dense: the cosines as a dense matrix, when it is small enough
            (:data:`DENSE_CELLS`).
        cosine: otherwise the cosines as a scipy sparse matrix.
    """

    q_tfidf: Rows
    s_tfidf: Rows
    q_counts: Rows
    s_counts: Rows
    q_terms: np.ndarray
    s_terms: np.ndarray
    q_bounds: np.ndarray
    s_bounds: np.ndarray
    dense: np.ndarray | None
    cosine: sparse.csr_matrix | None

    @property
    def shape(self) -> tuple[int, int]:
        """Query sentences by source sentences."""
        return self.q_tfidf.n_rows, self.s_tfidf.n_rows

    def best(self) -> np.ndarray:
        """Each query sentence's highest cosine with a source sentence."""
        if self.dense is not None:
            return self.dense.max(axis=1) if self.dense.shape[1] else np.zeros(len(self.dense))
        assert self.cosine is not None
        return self.cosine.max(axis=1).toarray().ravel()

    def best_match(self) -> tuple[np.ndarray, np.ndarray]:
        """Each query sentence's most similar source sentence, and the other way round."""
        if self.dense is not None:
            return self.dense.argmax(axis=1), self.dense.argmax(axis=0)
        assert self.cosine is not None
        return (
            np.asarray(self.cosine.argmax(axis=1)).ravel(),
            np.asarray(self.cosine.argmax(axis=0)).ravel(),
        )

    def block(self, q0: int, q1: int, s0: int, s1: int) -> np.ndarray:
        """Cosines of query sentences ``[q0, q1)`` with source sentences ``[s0, s1)``."""
        if self.dense is not None:
            return self.dense[q0:q1, s0:s1]
        assert self.cosine is not None
        return self.cosine[q0:q1, s0:s1].toarray()

    def contained(self, q0: int, q1: int, s0: int, s1: int) -> np.ndarray:
        """For each content token of query sentences ``[q0, q1)``, whether its word
        occurs in source sentences ``[s0, s1)``."""
        present = np.zeros(self.q_tfidf.n_cols, dtype=bool)
        present[self.s_terms[self.s_bounds[s0] : self.s_bounds[s1]]] = True
        return present[self.q_terms[self.q_bounds[q0] : self.q_bounds[q1]]]

    def closest(self, q_rows: np.ndarray, s_rows: np.ndarray) -> np.ndarray:
        """Each of the query sentences ``q_rows``'s highest cosine with one of the source
        sentences ``s_rows`` (both non-empty)."""
        if self.dense is not None:
            return self.dense[np.ix_(q_rows, s_rows)].max(axis=1)
        assert self.cosine is not None
        # Cosines are never negative, so the highest over the wanted columns is the
        # highest stored value among them, or 0.  Masking the stored values of the few
        # rows avoids slicing thousands of columns out of a sparse matrix, which copies
        # and sorts them (150 MB for a source of 100,000 sentences).
        rows = self.cosine[q_rows]
        wanted = np.zeros(rows.shape[1], dtype=bool)
        wanted[s_rows] = True
        values = np.where(wanted[rows.indices], rows.data, 0.0)
        out = np.zeros(len(q_rows))
        filled = np.flatnonzero(np.diff(rows.indptr))
        if len(filled):
            out[filled] = np.maximum.reduceat(values, rows.indptr[filled])
        return np.maximum(out, 0.0)


def sentence_vectors(query: Prepared, source: Prepared) -> SentenceVectors:
    """Bag-of-words vectors of every sentence, weighted by inverse sentence frequency.

    The vocabulary and weights come from the sentences of both texts together, as in
    tf-isf: a word frequent in both texts says little about which sentences match.
    """
    q_rows, q_ids = _sentence_terms(query)
    s_rows, s_ids = _sentence_terms(source)
    vocab, inverse = np.unique(np.concatenate([q_ids, s_ids]), return_inverse=True)
    n_q, n_s, n_v = query.n_sentences, source.n_sentences, len(vocab)
    q_terms, s_terms = inverse[: len(q_ids)], inverse[len(q_ids) :]
    q_tf = _term_counts(q_rows, q_terms, n_q, n_v)
    s_tf = _term_counts(s_rows, s_terms, n_s, n_v)
    q_df, s_df = q_tf.column_sizes(), s_tf.column_sizes()
    df = q_df + s_df
    isf = np.log((n_q + n_s) / np.maximum(df, 1.0))
    isf = np.maximum(isf, 0.05)  # a word in every sentence still counts a little
    q_tfidf = _weighted(q_tf, isf)
    s_tfidf = _weighted(s_tf, isf)
    if n_q * n_s > DENSE_CELLS:
        dense, cosine = None, _sparse_cosine(q_tfidf, s_tfidf)
    elif int(q_df @ s_df) > DENSE_PRODUCTS:
        dense, cosine = _sparse_cosine(q_tfidf, s_tfidf).toarray(), None
    else:
        dense, cosine = _dense_cosine(q_tfidf, s_tfidf), None
    # Content tokens come in text order, so each sentence's are one run of them.
    q_bounds = np.searchsorted(q_rows, np.arange(n_q + 1))
    s_bounds = np.searchsorted(s_rows, np.arange(n_s + 1))
    return SentenceVectors(
        q_tfidf, s_tfidf, q_tf, s_tf, q_terms, s_terms, q_bounds, s_bounds, dense, cosine
    )


def _term_counts(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> Rows:
    """Sentence-by-term counts (columns sorted in each row, no duplicates)."""
    keys, counts = np.unique(rows.astype(np.int64) * n_cols + cols, return_counts=True)
    row_of = keys // max(n_cols, 1)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=n_rows))])
    return Rows(indptr, keys % max(n_cols, 1), counts.astype(np.float64), n_cols)


def _weighted(tf: Rows, isf: np.ndarray) -> Rows:
    """tf-isf rows, each scaled to unit length."""
    data = tf.data * isf[tf.indices]
    rows = tf.entry_rows()
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=tf.n_rows))
    norms[norms == 0] = 1.0
    return Rows(tf.indptr, tf.indices, data / norms[rows], tf.n_cols)


def _dense_cosine(q: Rows, s: Rows) -> np.ndarray:
    """``q @ s.T`` as a dense matrix, summed exactly as scipy's sparse product sums it.

    Each cell adds the products of its two rows' shared columns in increasing column
    order, starting from zero, so the cosines are the same to the last bit whichever way
    they are computed (the order of additions decides the rounding, and the rounding can
    decide ties later on).
    """
    n_q, n_s = q.n_rows, s.n_rows
    q_entry, s_entry = column_pairs(q.indices, s.indices, q.n_cols)
    q_row = q.entry_rows()[q_entry]
    s_row = s.entry_rows()[s_entry]
    out = np.zeros(n_q * n_s)
    # The pairs come column by column, and unbuffered additions (add.at) are made in
    # order, so every cell adds its products in increasing column order.
    np.add.at(out, q_row * n_s + s_row, q.data[q_entry] * s.data[s_entry])
    return out.reshape(n_q, n_s)


def _sparse_cosine(q: Rows, s: Rows) -> sparse.csr_matrix:
    """``q @ s.T`` as a scipy sparse matrix, for texts too long for a dense one."""
    # Imported here: only very long texts need it, and it takes a while to import.
    from scipy import sparse

    a = sparse.csr_matrix((q.data, q.indices, q.indptr), shape=(q.n_rows, q.n_cols))
    b = sparse.csr_matrix((s.data, s.indices, s.indptr), shape=(s.n_rows, s.n_cols))
    return (a @ b.T).tocsr()


def column_pairs(
    a_cols: np.ndarray, b_cols: np.ndarray, n_cols: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of an entry of ``a`` and an entry of ``b`` in the same column.

    Args:
        a_cols, b_cols: the column of each entry of two sparse matrices, in storage
            order.
        n_cols: the number of columns.

    Returns:
        Entry indices into ``a_cols`` and ``b_cols``, ordered by column, then by ``a``'s
        entry, then by ``b``'s.
    """
    a_order = _stable_order(a_cols, n_cols)
    b_order = _stable_order(b_cols, n_cols)
    b_count = np.bincount(b_cols, minlength=n_cols)
    b_begin = np.cumsum(b_count) - b_count
    cols = a_cols[a_order]
    reps = b_count[cols]
    a_entry = np.repeat(a_order, reps)
    b_entry = b_order[ranges(b_begin[cols], reps)]
    return a_entry, b_entry


def _stable_order(values: np.ndarray, bound: int) -> np.ndarray:
    """``np.argsort(values, kind="stable")`` for integers in ``[0, bound)``."""
    if bound <= 1 << 16:
        # numpy sorts 16-bit integers stably by radix sort, many times faster than it
        # merge-sorts 64-bit ones; a stable order is the same whatever the type.
        values = values.astype(np.uint16)
    return np.argsort(values, kind="stable")


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The integers ``starts[k], ..., starts[k] + counts[k] - 1`` for every ``k``, one run
    after another."""
    before = np.cumsum(counts) - counts
    return np.repeat(starts - before, counts) + np.arange(int(counts.sum()))


def sentence_seeds(
    vectors: SentenceVectors, cosine: float, dice: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sentence pairs ``(qi, sj)`` whose cosine and Dice both pass, with their cosine."""
    if vectors.dense is not None:
        # Cosines of zero never pass: the threshold is positive.
        rows, cols = np.nonzero(vectors.dense > cosine)
        values = vectors.dense[rows, cols]
    else:
        assert vectors.cosine is not None
        cos = vectors.cosine.tocoo()
        passing = cos.data > cosine
        rows, cols, values = cos.row[passing], cos.col[passing], cos.data[passing]
    if not len(rows):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    q_sizes = vectors.q_counts.sizes().astype(np.float64)
    s_sizes = vectors.s_counts.sizes().astype(np.float64)
    shared = _shared_words(vectors.q_counts, vectors.s_counts, rows, cols)
    dice_values = 2 * shared / np.maximum(q_sizes[rows] + s_sizes[cols], 1)
    ok = dice_values > dice
    return rows[ok].astype(np.int64), cols[ok].astype(np.int64), values[ok]


@dataclass(frozen=True, slots=True)
class Condensation:
    """One sentence rewritten from a run of adjacent sentences of the other text.

    Attributes:
        sentence: the single sentence.
        first, last: the run of sentences (inclusive) on the other side.
        in_query: True when the single sentence is the query's (it condenses source
            sentences), False when it is the source's (query sentences expand it).
        shared: specific words the sentence shares with the run.
        dice: Dice overlap of the sentence's content words with the run's.
    """

    sentence: int
    first: int
    last: int
    in_query: bool
    shared: int
    dice: float


def condensation_seeds(
    query: Prepared,
    source: Prepared,
    vectors: SentenceVectors,
    *,
    runs: tuple[int, ...],
    shared: int,
    dice: float,
    own: int,
    specific: int,
    longest: int,
) -> list[Condensation]:
    """Sentences that merge a run of adjacent sentences of the other text, both ways.

    A writer who condenses two or three sentences into one takes words from each, so the
    sentence is only moderately similar to any one of them, and no sentence pair is a
    seed; against the run as a whole it is as close as a sentence rewritten on its own.
    Words are counted as in :mod:`~stemmatic.align.close`: only *specific* words count
    as shared (found in at most ``specific`` sentences of each text), since a topic's own
    terms link every sentence with every other.

    Args:
        runs: the run lengths to try (2 and 3, say).
        shared: the fewest specific words the sentence shares with the whole run.
        dice: the lowest Dice overlap of the sentence's content words with the run's.
        own: the fewest specific words the sentence shares with each sentence of the
            run and with no other sentence of it: every sentence of the run must add
            something, or the run is one sentence pair and a neighbour.
        specific: a word found in more sentences of either text is not specific.
        longest: sentences of more tokens are run-on text (tables, lists, extraction
            without full stops), left out.

    Returns:
        For each sentence, its best run (highest Dice, then shortest), if one passes.
        Runs lie within one paragraph.
    """
    qc, sc = vectors.q_counts, vectors.s_counts
    q_df, s_df = qc.column_sizes(), sc.column_sizes()
    is_specific = (q_df >= 1) & (q_df <= specific) & (s_df >= 1) & (s_df <= specific)
    if not is_specific.any():
        return []
    # Every sentence pair sharing a specific word, once per word: a specific word lies in
    # a few sentences of each side, so they are few.  Each sentence of a run must share
    # at least `own` of them with the single sentence.
    q_keep = np.flatnonzero(is_specific[qc.indices])
    s_keep = np.flatnonzero(is_specific[sc.indices])
    q_entry, s_entry = column_pairs(qc.indices[q_keep], sc.indices[s_keep], qc.n_cols)
    n_s = max(sc.n_rows, 1)
    cells, counts = np.unique(
        qc.entry_rows()[q_keep][q_entry] * n_s + sc.entry_rows()[s_keep][s_entry],
        return_counts=True,
    )
    linked = cells[counts >= own]
    q_rows, s_rows = linked // n_s, linked % n_s
    short_q = (query.sent_stop - query.sent_first) <= longest
    short_s = (source.sent_stop - source.sent_first) <= longest
    keep = short_q[q_rows] & short_s[s_rows]
    q_rows, s_rows = q_rows[keep], s_rows[keep]
    if not len(q_rows):
        return []
    test = _RunTest(shared, dice, own, is_specific)
    return [
        *_condensations(q_rows, s_rows, qc, sc, source.sent_par, runs, test, in_query=True),
        *_condensations(s_rows, q_rows, sc, qc, query.sent_par, runs, test, in_query=False),
    ]


@dataclass(frozen=True, slots=True)
class _RunTest:
    """What a sentence and a run must pass (see :func:`condensation_seeds`)."""

    shared: int
    dice: float
    own: int
    specific: np.ndarray


def _condensations(
    rows: np.ndarray,
    cols: np.ndarray,
    one: Rows,
    other: Rows,
    paragraph: np.ndarray,
    runs: tuple[int, ...],
    test: _RunTest,
    *,
    in_query: bool,
) -> list[Condensation]:
    """:func:`condensation_seeds` one way: sentences of ``one`` against runs of
    ``other``, given the linked pairs ``(rows[k], cols[k])`` and the paragraph of every
    sentence of ``other``."""
    n_cols = other.n_rows
    key = rows * n_cols + cols
    order = np.argsort(key)
    rows, cols, key = rows[order], cols[order], key[order]
    best: dict[int, Condensation] = {}
    for length in runs:
        # Runs starting at (row, col) whose every sentence is linked to the row and lies
        # in the paragraph of the first.
        ok = cols + length <= n_cols
        for step in range(1, length):
            at = np.minimum(np.searchsorted(key, key + step), len(key) - 1)
            ok &= key[at] == key + step
            ok &= paragraph[np.minimum(cols + step, n_cols - 1)] == paragraph[cols]
        for row, col in zip(rows[ok].tolist(), cols[ok].tolist(), strict=True):
            passed = _run_passes(one, other, row, range(col, col + length), test)
            if passed is None:
                continue
            shared, dice = passed
            # Lengths come shortest first: a longer run must do better to replace it.
            if row not in best or dice > best[row].dice:
                best[row] = Condensation(row, col, col + length - 1, in_query, shared, dice)
    return [best[row] for row in sorted(best)]


def _run_passes(
    one: Rows, other: Rows, row: int, run: range, test: _RunTest
) -> tuple[int, float] | None:
    """The specific words sentence ``row`` of ``one`` shares with the sentences ``run`` of
    ``other``, and the Dice overlap of their words, if they pass ``test``."""
    sentence = set(one.indices[one.indptr[row] : one.indptr[row + 1]].tolist())
    members = [set(other.indices[other.indptr[k] : other.indptr[k + 1]].tolist()) for k in run]
    union = set().union(*members)
    common = sentence & union
    specific = {w for w in common if test.specific[w]}
    dice = 2 * len(common) / max(len(sentence) + len(union), 1)
    if len(specific) < test.shared or dice < test.dice:
        return None
    for k, member in enumerate(members):
        rest = set().union(*(m for j, m in enumerate(members) if j != k))
        if len((member - rest) & specific) < test.own:
            return None
    return len(specific), dice


def _shared_words(q: Rows, s: Rows, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """How many columns (words) query row ``rows[k]`` and source row ``cols[k]`` share,
    for every ``k``."""
    q_lengths = q.indptr[rows + 1] - q.indptr[rows]
    s_lengths = s.indptr[cols + 1] - s.indptr[cols]
    pair = np.arange(len(rows))
    # Each pair's words as keys (pair, word); a row holds each word once, so a key found
    # on both sides is one shared word.
    q_keys = np.repeat(pair, q_lengths) * q.n_cols + q.indices[
        ranges(q.indptr[rows], q_lengths)
    ]
    s_keys = np.repeat(pair, s_lengths) * s.n_cols + s.indices[
        ranges(s.indptr[cols], s_lengths)
    ]
    common = np.intersect1d(q_keys, s_keys, assume_unique=True)
    return np.bincount(common // max(q.n_cols, 1), minlength=len(rows)).astype(np.float64)


def _sentence_terms(prepared: Prepared) -> tuple[np.ndarray, np.ndarray]:
    positions = np.flatnonzero(prepared.content)
    return prepared.tok_sent[positions], prepared.tokens.ids[positions]
