"""A candidate passage: what each stage of the aligner proposes before overlaps are resolved."""

from __future__ import annotations

from dataclasses import dataclass

from stemmatic.align.diff import WordAlignment
from stemmatic.align.extend import Fragment
from stemmatic.types import Kind


@dataclass(frozen=True, slots=True)
class Candidate:
    """A proposed passage.

    Attributes:
        q_span, s_span: character spans in the query and the source.
        kind: copy or paraphrase.
        score: the passage's similarity, in [0, 1].
        words: tokens of the query side (with ``score``, the weight of the candidate
            when candidates overlap).
        alignment: the word alignment of the two sides, for the differences.
        method: how it was found: ``ngram`` (shared n-grams), ``sentence`` (similar
            sentences), ``close`` (a close paraphrase of one or two sentences),
            ``condensed`` (one sentence condensing a few adjacent ones, or two expanding
            one), ``merged`` (pieces of a stretch of the source) or ``summary``.
        fragment: the sentence ranges of a paraphrase.
    """

    q_span: tuple[int, int]
    s_span: tuple[int, int]
    kind: Kind
    score: float
    words: int
    alignment: WordAlignment
    method: str
    fragment: Fragment | None = None


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Number of characters two half-open spans share."""
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))
