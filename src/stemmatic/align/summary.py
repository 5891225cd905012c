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
# The source sentences the summary's sentences resemble most range over this share of
# the source: the summary covers the whole document, not one passage of it.
SPREAD = 0.5
# A summary sentence's best match in the source must reach this cosine to count as
# pointing at a place of the source.
POINT_COSINE = 0.1


@dataclass(frozen=True, slots=True)
class Summary:
    """Query sentences ``q_first..q_last`` summarize source sentences ``s_first..s_last``."""

    q_first: int
    q_last: int
    s_first: int
    s_last: int
    containment: float


def summaries(q: Prepared, s: Prepared, vectors: SentenceVectors) -> list[Summary]:
    """Runs of query sentences that summarize the whole source."""
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
        if len(members) < MIN_SENTENCES:
            continue
        q_chars = int(q.sent_end[last] - q.sent_start[first])
        if s_chars < RATIO * q_chars:
            continue
        cos = (vectors.q_tfidf[members] @ vectors.s_tfidf.T).toarray()
        best = cos.max(axis=1)
        points = cos.argmax(axis=1)[best >= POINT_COSINE]
        if len(points) < MIN_SENTENCES:
            continue
        if (points.max() - points.min() + 1) < SPREAD * s.n_sentences:
            continue
        out.append(Summary(first, last, 0, s.n_sentences - 1, float(share[members].mean())))
    return out


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
