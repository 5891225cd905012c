"""Summaries: a run of query sentences that condenses a whole source document.

A summary reuses a source without copying any passage of it: each of its sentences
compresses one or more source sentences, taken from all over the source.  Sentence
clustering finds at best a few pieces of it, each matched to a short stretch of the
source.  Two observations find it as a whole instead:

* nearly every content word of a summary sentence occurs somewhere in the source
  (names, figures, key terms), whereas a sentence that merely shares the topic reuses
  far fewer of them;
* the source sentences that the summary sentences resemble most lie in several
  regions spread over most of the source, whereas a paraphrased passage draws on one
  stretch of it.

A run of such sentences, much shorter than a source whose extent it spans, is reported
as a summary of the whole source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stemmatic.align.candidate import Candidate, overlap
from stemmatic.align.diff import align_words
from stemmatic.align.extend import Fragment, fragment_cosine, token_range
from stemmatic.align.seeds import SentenceVectors
from stemmatic.align.units import Prepared
from stemmatic.settings import Settings
from stemmatic.types import Kind

# A sentence reuses the source when this share of its content words occurs in it.
CONTAINMENT = 0.6
# Sentences with fewer content words say too little to be counted either way.
MIN_CONTENT = 3
# Fewest reusing sentences in a summary.
MIN_SENTENCES = 3
# The source is at least this many times longer than the summary: a summary condenses.
RATIO = 3.0
# On average the reusing sentences hold this share of words found in the source, and
# reach this cosine with their closest source sentence.  Sentences that only share the
# source's topic reach the containment alone, far from these.
MEAN_CONTAINMENT = 0.75
MEAN_BEST_COSINE = 0.3
# A sentence points at its closest source sentence when their cosine reaches this;
# points more than REGION_GAP sentences apart lie in different regions of the source.
POINT_COSINE = 0.2
REGION_GAP = 2
# A summary points at this many regions, ranging over this share of the source's
# sentences: it draws on the whole source, not on one passage of it.
MIN_REGIONS = 3
SPREAD = 0.4
# The reusing sentences together are this close to the whole source.
WHOLE_COSINE = 0.25
# Sentences inside passages already found as copies or paraphrases prove nothing more;
# the others must still be this close to sentences of the rest of the source.
UNEXPLAINED_COSINE = 0.25
# A summary mostly made of one copied passage is that copy.
COPIED = 0.5


@dataclass(frozen=True, slots=True)
class Evidence:
    """What speaks for query sentences ``first..last`` being a summary of the source.

    Attributes:
        first, last: the run of query sentences.
        members: how many of them reuse the source's words.
        ratio: source length over run length.
        containment: mean share of the members' content words found in the source.
        mean_best: mean cosine of the members with their closest source sentences.
        regions: regions of the source the members point at.
        spread: share of the source's sentences from the first point to the last.
        unexplained: members outside passages already found.
        unexplained_best: their mean cosine with their closest sentences of the rest
            of the source (outside passages already found).
        cosine: cosine of the members with the whole source.
        copied: members inside verbatim copies already found.  A copied sentence
            condenses nothing: a paragraph that copies two sentences of a source and
            paraphrases a third is three borrowings, each with its own place in the
            source, not a summary of the whole source.  So the members outside copies
            must be enough for a summary on their own.  (PAN 2013's extractive
            "summaries", three copied sentences in a row, are annotated as summaries of
            the whole source; reporting them as three copies costs 0.014 of PAN's
            summary plagdet, and tells the reader where each sentence came from.)
    """

    first: int
    last: int
    members: int
    ratio: float
    containment: float
    mean_best: float
    regions: int
    spread: float
    unexplained: int
    unexplained_best: float
    cosine: float
    copied: int

    def is_summary(self) -> bool:
        return (
            self.members >= MIN_SENTENCES
            and self.ratio >= RATIO
            and self.containment >= MEAN_CONTAINMENT
            and self.mean_best >= MEAN_BEST_COSINE
            and self.regions >= MIN_REGIONS
            and self.spread >= SPREAD
            and self.cosine >= WHOLE_COSINE
            and (self.unexplained == 0 or self.unexplained_best >= UNEXPLAINED_COSINE)
            and self.members - self.copied >= MIN_SENTENCES
        )


def find_summaries(
    q: Prepared,
    s: Prepared,
    vectors: SentenceVectors,
    found: list[Candidate],
    settings: Settings,
) -> list[Candidate]:
    """Runs of query sentences that summarize the whole source, as candidates.

    Args:
        found: the copies and paraphrases already found.  A run counts as a summary only
            through its other sentences and the rest of the source: a passage among
            sentences that merely share the source's topic is not a summary.
    """
    # Condensations (a sentence merging a few adjacent ones) are what a summary is made
    # of: they explain nothing away, or the summary would have to be proved without
    # its clearest sentences.
    found = [c for c in found if c.method != "condensed"]
    q_found = _inside(q, [c.q_span for c in found])
    s_found = _inside(s, [c.s_span for c in found])
    copies = [c.q_span for c in found if c.kind is Kind.COPY]
    out = []
    for e in evidence(q, s, vectors, q_found, s_found, _inside(q, copies)):
        if not e.is_summary():
            continue
        q0, q1 = token_range(q, e.first, e.last)
        if q1 - q0 < settings.min_words:
            continue
        q_span = (int(q.sent_start[e.first]), int(q.sent_end[e.last]))
        if max((overlap(c, q_span) for c in copies), default=0) >= COPIED * (
            q_span[1] - q_span[0]
        ):
            continue
        whole = Fragment(e.first, e.last, 0, s.n_sentences - 1, e.members)
        s0, s1 = token_range(s, 0, s.n_sentences - 1)
        s_span = (int(s.sent_start[0]), int(s.sent_end[-1]))
        alignment = align_words(q.tokens, q0, q1, s.tokens, s0, s1)
        out.append(Candidate(
            q_span, s_span, Kind.PARAPHRASE, fragment_cosine(vectors, whole), q1 - q0,
            alignment, "summary", whole,
        ))
    return out


def evidence(
    q: Prepared,
    s: Prepared,
    vectors: SentenceVectors,
    q_found: np.ndarray,
    s_found: np.ndarray,
    q_copied: np.ndarray,
) -> list[Evidence]:
    """The evidence for every run of query sentences that reuse the source's words and
    could be a summary (long enough, short enough for the source, reusing enough).

    ``q_found`` and ``s_found`` mark the sentences of each side inside passages already
    found, and ``q_copied`` the query sentences inside verbatim copies.
    """
    if q.n_sentences < MIN_SENTENCES or not s.n_sentences:
        return []
    share, counted = _containment(q, vectors)
    reusing = counted & (share >= CONTAINMENT)
    if reusing.sum() < MIN_SENTENCES:
        return []
    s_chars = int(s.sent_end[-1] - s.sent_start[0])
    runs = []
    for first, last in _runs(reusing, counted, q.sent_par):
        q_chars = max(1, int(q.sent_end[last] - q.sent_start[first]))
        # Runs too short, too long for the source or reusing too little can never be
        # summaries: the costlier evidence is not gathered for them.
        if last - first + 1 < MIN_SENTENCES or s_chars < RATIO * q_chars:
            continue
        members = np.flatnonzero(reusing[first : last + 1]) + first
        if len(members) >= MIN_SENTENCES and share[members].mean() >= MEAN_CONTAINMENT:
            runs.append((first, last, members, q_chars))
    if not runs:
        return []
    rest = np.flatnonzero(~s_found)
    whole = vectors.s_tfidf.total(0, s.n_sentences)
    out = []
    for first, last, members, q_chars in runs:
        cos = vectors.block(first, last + 1, 0, s.n_sentences)[members - first]
        best = cos.max(axis=1)
        points = np.unique(cos.argmax(axis=1)[best >= POINT_COSINE])
        regions = 1 + int((np.diff(points) > REGION_GAP).sum()) if len(points) else 0
        spread = (points[-1] - points[0] + 1) / s.n_sentences if len(points) else 0.0
        unexplained = members[~q_found[members]]
        unexplained_best = 0.0
        if len(unexplained) and len(rest):
            unexplained_best = float(vectors.closest(unexplained, rest).mean())
        summary = vectors.q_tfidf.total_of(members)
        out.append(Evidence(
            first, last, len(members), s_chars / q_chars, float(share[members].mean()),
            float(best.mean()), regions, float(spread), len(unexplained), unexplained_best,
            _cosine(summary, whole),
            int(q_copied[members].sum()),
        ))
    return out


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / denominator if denominator else 0.0


def _inside(prepared: Prepared, spans: list[tuple[int, int]]) -> np.ndarray:
    """Mask of the sentences whose middle lies inside one of ``spans``."""
    inside = np.zeros(prepared.n_sentences, dtype=bool)
    middle = (prepared.sent_start + prepared.sent_end) // 2
    for start, end in spans:
        inside |= (middle >= start) & (middle < end)
    return inside


def _containment(q: Prepared, vectors: SentenceVectors) -> tuple[np.ndarray, np.ndarray]:
    """Share of each query sentence's content words found anywhere in the source, and
    whether the sentence has enough content words to be counted."""
    found = vectors.contained(0, q.n_sentences, 0, vectors.shape[1])
    sentence = q.tok_sent[q.content]
    total = np.bincount(sentence, minlength=q.n_sentences)
    hits = np.bincount(sentence, weights=found, minlength=q.n_sentences)
    return hits / np.maximum(total, 1), total >= MIN_CONTENT


def _runs(
    reusing: np.ndarray, counted: np.ndarray, paragraph: np.ndarray
) -> list[tuple[int, int]]:
    """Maximal runs of reusing sentences inside one paragraph.  Sentences too short to
    count do not break a run, nor does a single other sentence between two reusing
    ones."""
    runs: list[tuple[int, int]] = []
    start = last = -1
    misses = 0
    for i in range(len(reusing)):
        if start >= 0 and paragraph[i] != paragraph[start]:
            runs.append((start, last))
            start = last = -1
            misses = 0
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
