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

import numpy as np

from stemmatic.align.candidate import Candidate
from stemmatic.align.diff import align_words
from stemmatic.align.edges import char_span
from stemmatic.align.extend import Fragment, fragment_cosine, token_range
from stemmatic.align.seeds import SentenceVectors, column_pairs
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


def _pairs(q: Prepared, s: Prepared, vectors: SentenceVectors) -> dict[tuple[int, int], bool]:
    """Near and close sentence pairs: ``{(query sentence, source sentence): close}``."""
    qc, sc = vectors.q_counts, vectors.s_counts
    # Only specific words count as shared: a word found all over both texts (the
    # topic's own terms, the items of a list both repeat) links every sentence with
    # every other.
    q_df, s_df = qc.column_sizes(), sc.column_sizes()
    specific = (q_df >= 1) & (q_df <= SPECIFIC) & (s_df >= 1) & (s_df <= SPECIFIC)
    if not specific.any():
        return {}
    # Every (query sentence, source sentence) pair sharing a specific word, once per
    # word: a specific word lies in a few sentences of each side, so they are few.
    q_keep = np.flatnonzero(specific[qc.indices])
    s_keep = np.flatnonzero(specific[sc.indices])
    q_entry, s_entry = column_pairs(qc.indices[q_keep], sc.indices[s_keep], qc.n_cols)
    q_row = qc.entry_rows()[q_keep][q_entry]
    s_row = sc.entry_rows()[s_keep][s_entry]
    n_s = max(sc.n_rows, 1)
    cells, shared = np.unique(q_row * n_s + s_row, return_counts=True)
    keep = shared >= NEAR_SHARED
    rows, cols = cells[keep] // n_s, cells[keep] % n_s
    counts = shared[keep].astype(np.float64)
    q_sizes, s_sizes = qc.sizes()[rows], sc.sizes()[cols]
    dice = 2 * counts / np.maximum(q_sizes + s_sizes, 1)
    cover = counts / np.maximum(np.minimum(q_sizes, s_sizes), 1)
    near = (
        (cover >= COVER)
        & (q.sent_stop[rows] - q.sent_first[rows] <= MAX_WORDS)
        & (s.sent_stop[cols] - s.sent_first[cols] <= MAX_WORDS)
    )
    if not near.any():
        return {}
    close = (counts >= CLOSE_SHARED) & (dice >= CLOSE_DICE)
    q_best, s_best = vectors.best_match()
    q_bounds, s_bounds = vectors.q_bounds, vectors.s_bounds
    out: dict[tuple[int, int], bool] = {}
    for k in np.flatnonzero(near):
        i, j = int(rows[k]), int(cols[k])
        a = vectors.q_terms[q_bounds[i] : q_bounds[i + 1]]
        b = vectors.s_terms[s_bounds[j] : s_bounds[j + 1]]
        if not _in_order(a[specific[a]].tolist(), b[specific[b]].tolist(), ORDER * counts[k]):
            continue
        out[(i, j)] = bool(close[k] and q_best[i] == j and s_best[j] == i)
    return out


def _in_order(a: list[int], b: list[int], needed: float) -> bool:
    """Whether at least ``needed`` of the words two sentences (``a`` and ``b``) share
    come in the same order: their longest common subsequence, ``a`` being read from any
    point and wrapped round (a writer often puts a sentence's second clause first)."""
    shared = set(a) & set(b)
    a = [w for w in a if w in shared]
    b = [w for w in b if w in shared]
    if min(len(a), len(b)) < needed:
        return False  # no common subsequence is longer than either side
    return any(_lcs(a[k:] + a[:k], b) >= needed for k in range(len(a)))


def _lcs(a: list[int], b: list[int]) -> int:
    """Length of the longest common subsequence of ``a`` and ``b``.

    Bit-parallel (Hyyrö, 2004): bit ``j`` of ``row`` stands for ``b[j]``, and each word
    of ``a`` updates the whole row of the dynamic programme in a few integer operations.
    """
    matches: dict[int, int] = {}
    for j, y in enumerate(b):
        matches[y] = matches.get(y, 0) | (1 << j)
    full = (1 << len(b)) - 1
    row = full
    for x in a:
        u = row & matches.get(x, 0)
        row = ((row + u) | (row - u)) & full
    # The zero bits count the words of b matched in order.
    return len(b) - row.bit_count()


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
