"""Summaries: a run of query sentences that condenses a whole source document.

A summary reuses a source without copying any passage of it: each of its sentences
compresses one or more source sentences, taken from all over the source.  Sentence
clustering finds at best a few pieces of it, each matched to a short stretch of the
source.  Two observations find it as a whole instead:

* nearly every content word of a summary sentence occurs somewhere in the source
  (names, figures, key terms), whereas a sentence that merely shares the topic reuses
  far fewer of them;
* the source sentences that the summary sentences resemble most are spread over most
  of the source, whereas a paraphrased passage draws on one stretch of it.

A run of such sentences, much shorter than a source whose extent it spans, is reported
as a summary of the whole source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stemmatic.align.seeds import SentenceVectors
from stemmatic.align.units import Prepared

# A sentence reuses the source when this share of its content words occurs in it.
CONTAINMENT = 0.6
# Sentences with fewer content words say too little to be counted either way.
MIN_CONTENT = 3
# Fewest reusing sentences in a summary.
MIN_SENTENCES = 3
# The source is at least this many times longer than the summary: a summary condenses.
RATIO = 3.0
# The summary as a whole: the mean share of its sentences' words found in the source,
# the mean cosine of each sentence with its closest source sentence, and the cosine of
# the summary with the whole source.  Sentences on the same topic as the source reach
# the containment alone; their closest source sentences stay far below these.
MEAN_CONTAINMENT = 0.75
MEAN_BEST_COSINE = 0.3
WHOLE_COSINE = 0.25
# Fewest reusing sentences outside passages already found.
UNEXPLAINED = 2
# Share of the summary's words that the densest stretch of the source (as long as the
# summary) holds, each distinct word counted once.  A paraphrase of one passage keeps
# most of its words inside that passage; a summary's words are spread over the source.
CONCENTRATION = 0.45


@dataclass(frozen=True, slots=True)
class Summary:
    """Query sentences ``q_first..q_last`` summarize source sentences ``s_first..s_last``."""

    q_first: int
    q_last: int
    s_first: int
    s_last: int
    cosine: float


def summaries(
    q: Prepared,
    s: Prepared,
    vectors: SentenceVectors,
    q_found: np.ndarray,
    s_found: np.ndarray,
) -> list[Summary]:
    """Runs of query sentences that summarize the whole source.

    ``q_found`` and ``s_found`` mark the sentences of each side inside passages already
    found as copies or paraphrases.  A run counts as a summary only through its other
    sentences and the rest of the source: a copied or paraphrased passage among
    sentences that merely share the source's topic is not a summary.
    """
    if q.n_sentences < MIN_SENTENCES or not s.n_sentences:
        return []
    share, counted = _containment(q, s)
    reusing = counted & (share >= CONTAINMENT)
    if reusing.sum() < MIN_SENTENCES:
        return []
    s_chars = int(s.sent_end[-1] - s.sent_start[0])
    out = []
    for first, last in _runs(reusing, counted):
        members = np.flatnonzero(reusing[first : last + 1]) + first
        if len(members) < MIN_SENTENCES or share[members].mean() < MEAN_CONTAINMENT:
            continue
        if s_chars < RATIO * int(q.sent_end[last] - q.sent_start[first]):
            continue
        members = members[~q_found[members]]
        if len(members) < UNEXPLAINED:
            continue
        rest = vectors.s_tfidf[np.flatnonzero(~s_found)]
        best = (vectors.q_tfidf[members] @ rest.T).max(axis=1).toarray().ravel()
        if best.mean() < MEAN_BEST_COSINE:
            continue
        summary = np.asarray(vectors.q_tfidf[members].sum(axis=0)).ravel()
        cosine = _cosine(summary, np.asarray(rest.sum(axis=0)).ravel())
        if cosine < WHOLE_COSINE:
            continue
        out.append(Summary(first, last, 0, s.n_sentences - 1, cosine))
    return out


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / denominator if denominator else 0.0


def _concentration(q: Prepared, s: Prepared, q0: int, q1: int) -> float:
    """Largest share of the query run's shared words inside one stretch of the source
    as long as the run (each distinct word weighs 1, split over its occurrences)."""
    run = np.arange(q0, q1)
    words = np.unique(q.tokens.ids[run[q.content[q0:q1]]])
    positions = np.flatnonzero(s.content & np.isin(s.tokens.ids, words))
    if not len(positions):
        return 0.0
    _, which, counts = np.unique(
        s.tokens.ids[positions], return_inverse=True, return_counts=True
    )
    weight = np.concatenate([[0.0], np.cumsum(1.0 / counts[which])])
    stop = np.searchsorted(positions, positions + (q1 - q0), side="left")
    return float((weight[stop] - weight[: len(positions)]).max() / len(counts))


def _containment(q: Prepared, s: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Share of each query sentence's content words found anywhere in the source, and
    whether the sentence has enough content words to be counted."""
    positions = np.flatnonzero(q.content)
    found = np.isin(q.tokens.ids[positions], s.tokens.ids[s.content])
    sentence = q.tok_sent[positions]
    total = np.bincount(sentence, minlength=q.n_sentences)
    hits = np.bincount(sentence, weights=found, minlength=q.n_sentences)
    return hits / np.maximum(total, 1), total >= MIN_CONTENT


def _runs(reusing: np.ndarray, counted: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of reusing sentences; sentences too short to count do not break a
    run, nor does a single other sentence between two reusing ones."""
    runs: list[tuple[int, int]] = []
    start = last = -1
    misses = 0
    for i in range(len(reusing)):
        if reusing[i]:
            if start < 0:
                start = i
            last = i
            misses = 0
        elif counted[i] and start >= 0:
            misses += 1
            if misses > 1:
                runs.append((start, last))
                start = last = -1
                misses = 0
    if start >= 0:
        runs.append((start, last))
    return runs
