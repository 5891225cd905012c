"""Close paraphrases: one or two sentences rewritten closely, word by word.

A writer who rewords a single sentence of a source keeps its content words in their
order and swaps the rest for synonyms.  The tf-isf evidence of
:mod:`~stemmatic.align.paraphrases` misses such a sentence in a short text: with a
handful of sentences on each side, every shared word is frequent among them, so the
words the two sentences share weigh least in their cosine, and a lone sentence also
needs more evidence there than a run of them.

Here a sentence pair is judged on the words the two sentences share (stems and
spellings folded), counting only *specific* words: words found in at most a few
sentences of each text.  A topic's own terms, or the items of a list that both texts
repeat, link every sentence with every other and prove nothing.  A pair is *close* when
its sentences share several specific words, which make up a fair share of the shorter
sentence and of the pair, come in the same order on both sides (a clause moved to the
front aside), and each sentence is the other's most similar one.  The thresholds were
set where sentence pairs outside any reuse, in the topically related documents of the
PAN 2013 training corpus, almost never reach them.

A pair that shares fewer words is *near*.  It is taken only linked to another near or
close pair: the next query sentence with the next source sentence, or one sentence
split in two or two merged into one.  Consecutive sentences rewritten from consecutive
ones are rarely chance, even when each pair alone would be.

Only sentences of up to :data:`MAX_WORDS` words are compared: longer ones are run-on
text (tables, lists, extraction without full stops) that shares words with anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from stemmatic.align.candidate import Candidate
from stemmatic.align.diff import align_words
from stemmatic.align.edges import char_span
from stemmatic.align.extend import Fragment, fragment_cosine, token_range
from stemmatic.align.seeds import SentenceVectors
from stemmatic.align.units import Prepared
from stemmatic.settings import Settings
from stemmatic.types import Kind

# A close pair: at least CLOSE_SHARED specific words in common, a Dice overlap of the
# two sentences' word sets of CLOSE_DICE, and COVER of the shorter sentence's words.
CLOSE_SHARED = 6
CLOSE_DICE = 0.35
# A near pair: NEAR_SHARED specific words in common and COVER of the shorter
# sentence's words.  It is taken only linked to another near or close pair.
NEAR_SHARED = 4
COVER = 0.3
# Share of the shared words that must come in the same order on both sides, once the
# query sentence's clauses may be swapped (see `_in_order`).
ORDER = 0.75
# Longer sentences are run-on text (tables, lists, extraction without full stops): any
# of them shares words with some sentence of the source.
MAX_WORDS = 60
# Specific words: found in at most this many sentences of each text.
SPECIFIC = 3


def find_close(
    q: Prepared, s: Prepared, vectors: SentenceVectors, settings: Settings
) -> list[Candidate]:
    """Close paraphrases of source sentences in the query, placed on whole sentences."""
    pairs = _pairs(q, s, vectors)
    out = []
    for run in _runs(pairs, q.sent_par):
        i0, i1 = min(i for i, _ in run), max(i for i, _ in run)
        j0, j1 = min(j for _, j in run), max(j for _, j in run)
        q0, q1 = token_range(q, i0, i1)
        s0, s1 = token_range(s, j0, j1)
        if q1 - q0 < settings.min_words:
            continue
        fragment = Fragment(i0, i1, j0, j1, len(run))
        out.append(Candidate(
            char_span(q, q0, q1), char_span(s, s0, s1), Kind.PARAPHRASE,
            fragment_cosine(vectors, fragment), q1 - q0,
            align_words(q.tokens, q0, q1, s.tokens, s0, s1), "close", fragment,
        ))
    return out


@dataclass(frozen=True, slots=True)
class _Terms:
    """The content words of a text's sentences, as indices into a shared vocabulary.

    Attributes:
        sequence: the words in text order; sentence ``k``'s run from ``bounds[k]`` to
            ``bounds[k + 1]``.
        rows, cols: the distinct (sentence, word) pairs.
        sizes: distinct words of each sentence.
        df: the number of sentences holding each word of the vocabulary.
    """

    sequence: np.ndarray
    bounds: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    sizes: np.ndarray
    df: np.ndarray

    def words(self, sentence: int) -> np.ndarray:
        return self.sequence[self.bounds[sentence] : self.bounds[sentence + 1]]

    def matrix(self, keep: np.ndarray) -> sparse.csr_matrix:
        """Sentence-by-word incidence (1 where the sentence holds the word), for the
        words marked in ``keep`` only."""
        mask = keep[self.cols]
        return sparse.csr_matrix(
            (np.ones(int(mask.sum())), (self.rows[mask], self.cols[mask])),
            shape=(len(self.sizes), len(keep)),
        )


def _terms(p: Prepared, words: np.ndarray, size: int) -> _Terms:
    """``words`` holds the vocabulary index of each of ``p``'s content tokens."""
    sentence = p.tok_sent[np.flatnonzero(p.content)]
    bounds = np.searchsorted(sentence, np.arange(p.n_sentences + 1))
    cells = np.unique(sentence.astype(np.int64) * size + words)
    rows, cols = cells // size, cells % size
    return _Terms(
        words, bounds, rows, cols,
        np.bincount(rows, minlength=p.n_sentences), np.bincount(cols, minlength=size),
    )


def _pairs(q: Prepared, s: Prepared, vectors: SentenceVectors) -> dict[tuple[int, int], bool]:
    """Near and close sentence pairs: ``{(query sentence, source sentence): close}``."""
    q_ids = q.tokens.ids[q.content]
    s_ids = s.tokens.ids[s.content]
    vocabulary, index = np.unique(np.concatenate([q_ids, s_ids]), return_inverse=True)
    size = max(len(vocabulary), 1)
    qt = _terms(q, index[: len(q_ids)], size)
    st = _terms(s, index[len(q_ids) :], size)
    # Only specific words count as shared: a word found all over both texts (the
    # topic's own terms, the items of a list both repeat) links every sentence with
    # every other.
    q_df, s_df = qt.df, st.df
    specific = (q_df >= 1) & (q_df <= SPECIFIC) & (s_df >= 1) & (s_df <= SPECIFIC)
    if not specific.any():
        return {}
    shared = (qt.matrix(specific) @ st.matrix(specific).T).tocoo()
    keep = shared.data >= NEAR_SHARED
    rows, cols, counts = shared.row[keep], shared.col[keep], shared.data[keep]
    q_sizes, s_sizes = qt.sizes[rows], st.sizes[cols]
    dice = 2 * counts / np.maximum(q_sizes + s_sizes, 1)
    cover = counts / np.maximum(np.minimum(q_sizes, s_sizes), 1)
    near = (
        (cover >= COVER)
        & (q.sent_stop[rows] - q.sent_first[rows] <= MAX_WORDS)
        & (s.sent_stop[cols] - s.sent_first[cols] <= MAX_WORDS)
    )
    close = (counts >= CLOSE_SHARED) & (dice >= CLOSE_DICE)
    q_best, s_best = _best(vectors)
    out: dict[tuple[int, int], bool] = {}
    for k in np.flatnonzero(near):
        i, j = int(rows[k]), int(cols[k])
        a, b = qt.words(i), st.words(j)
        if not _in_order(a[specific[a]].tolist(), b[specific[b]].tolist(), ORDER * counts[k]):
            continue
        out[(i, j)] = bool(close[k] and q_best[i] == j and s_best[j] == i)
    return out


def _best(vectors: SentenceVectors) -> tuple[np.ndarray, np.ndarray]:
    """Each query sentence's most similar source sentence, and the other way round."""
    if vectors.dense is not None:
        return vectors.dense.argmax(axis=1), vectors.dense.argmax(axis=0)
    return (
        np.asarray(vectors.cosine.argmax(axis=1)).ravel(),
        np.asarray(vectors.cosine.argmax(axis=0)).ravel(),
    )


def _in_order(a: list[int], b: list[int], needed: float) -> bool:
    """Whether at least ``needed`` of the words two sentences (``a`` and ``b``) share
    come in the same order: their longest common subsequence, ``a`` being read from any
    point and wrapped round (a writer often puts a sentence's second clause first)."""
    shared = set(a) & set(b)
    a = [w for w in a if w in shared]
    b = [w for w in b if w in shared]
    return any(_lcs(a[k:] + a[:k], b) >= needed for k in range(len(a)))


def _lcs(a: list[int], b: list[int]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for k, y in enumerate(b):
            current.append(previous[k] + 1 if x == y else max(previous[k + 1], current[k]))
        previous = current
    return previous[-1]


def _runs(
    pairs: dict[tuple[int, int], bool], paragraph: np.ndarray
) -> list[list[tuple[int, int]]]:
    """Groups of pairs linked by steps to the next query sentence, the next source
    sentence or both (a sentence may be split or two merged in rewriting), inside one
    query paragraph, that hold a close pair or two pairs at least."""
    group = {pair: k for k, pair in enumerate(sorted(pairs))}
    members = {k: [pair] for pair, k in group.items()}
    for pair in sorted(pairs):
        i, j = pair
        for other in ((i - 1, j - 1), (i - 1, j), (i, j - 1)):
            if other not in group or paragraph[other[0]] != paragraph[i]:
                continue
            a, b = group[other], group[pair]
            if a != b:
                # Merge the smaller group into the larger.
                if len(members[a]) < len(members[b]):
                    a, b = b, a
                for member in members.pop(b):
                    group[member] = a
                    members[a].append(member)
    return [
        sorted(run) for run in members.values() if len(run) > 1 or pairs[run[0]]
    ]
