"""Edges of passages placed on whole sentences: drop units that explain nothing.

A paraphrase is found as a run of similar sentences, and its ends are where the runs
of evidence stop.  Two things make those ends too generous:

* the sentence next to a reused passage usually shares its topic, so it looks similar
  to the other side, but only through words the passage itself already has;
* a sentence of extracted text often runs over line breaks without a full stop, so a
  heading, a list item or a caption joins the sentence after it.

So the edges are refined on *units*, lines or sentences within a line: a unit at an
edge stays only when some of its words occur on the other side and nowhere else on
its own side, that is when it explains something the rest of the passage does not.
Splitting every sentence at line breaks from the start would cost more than it gains
(wrapped prose breaks lines in mid-sentence, and short units make similarity noisy),
so units are considered only here, at the edges.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain, pairwise

import numpy as np

from stemmatic.align.units import Prepared

# An edge unit stays when this share of its content words occurs on the other side
# and nowhere else on its own side.
NOVELTY = 0.1


def trim_units(
    q: Prepared, q0: int, q1: int, s: Prepared, s0: int, s1: int
) -> tuple[int, int, int, int]:
    """Drop units (lines, or sentences within a line) at the edges of both sides that
    explain too little of the other side.

    A sentence next to a reused passage often shares its topic, so many of its words
    occur on the other side too, but they are words the passage itself already has.  An
    edge unit stays only when enough of its words occur on the other side and nowhere
    else on its own side: the unit must explain something the rest does not.  Each side
    is trimmed against the other in turn until neither changes.
    """
    for _ in range(4):
        nq = _trim_side(q, q0, q1, _words(s, s0, s1))
        ns = _trim_side(s, s0, s1, _words(q, *nq))
        if nq == (q0, q1) and ns == (s0, s1):
            break
        (q0, q1), (s0, s1) = nq, ns
    return q0, q1, s0, s1


def _words(prepared: Prepared, first: int, stop: int) -> set[int]:
    return set(prepared.tokens.ids[first:stop][prepared.content[first:stop]].tolist())


def _trim_side(prepared: Prepared, first: int, stop: int, other: set[int]) -> tuple[int, int]:
    units = _units(prepared, first, stop)
    if len(units) < 2:
        return first, stop
    # The content words of each unit, cut from those of the whole span at once.
    content = prepared.content[first:stop]
    kept = prepared.tokens.ids[first:stop][content].tolist()
    before = np.concatenate([[0], np.cumsum(content)])
    cuts = before[[a - first for a, _ in units] + [stop - first]].tolist()
    words = [kept[a:b] for a, b in pairwise(cuts)]
    counts = Counter(chain.from_iterable(words))
    lo, hi = 0, len(units) - 1
    while lo < hi and not _novel(words[lo], counts, other):
        counts.subtract(words[lo])
        lo += 1
    while hi > lo and not _novel(words[hi], counts, other):
        counts.subtract(words[hi])
        hi -= 1
    return units[lo][0], units[hi][1]


def _novel(unit: list[int], counts: Counter[int], other: set[int]) -> bool:
    """Whether enough words of ``unit`` occur in ``other`` and nowhere else in the span
    whose word counts (``unit`` included) are ``counts``."""
    if not unit:
        return False
    own = Counter(unit)
    novel = sum(1 for w in unit if w in other and counts[w] == own[w])
    return novel >= NOVELTY * len(unit)


def _units(prepared: Prepared, first: int, stop: int) -> list[tuple[int, int]]:
    """Token ranges of the lines of ``[first, stop)``, split further at sentence ends."""
    cut = prepared.new_line[first + 1 : stop] | (
        prepared.tok_sent[first + 1 : stop] != prepared.tok_sent[first : stop - 1]
    )
    bounds = [first, *(np.flatnonzero(cut) + first + 1).tolist(), stop]
    return list(pairwise(bounds))


def char_span(prepared: Prepared, first: int, stop: int) -> tuple[int, int]:
    """Character span of tokens ``[first, stop)`` widened to their whole lines and
    sentences: from the start of the first token's line (or sentence, whichever starts
    later) to the end of the last token's line (or sentence, whichever ends earlier),
    without surrounding white space."""
    tokens = prepared.tokens
    text = tokens.text
    start, end = int(tokens.starts[first]), int(tokens.ends[stop - 1])
    sentence_start = int(prepared.sent_start[prepared.tok_sent[first]])
    sentence_end = int(prepared.sent_end[prepared.tok_sent[stop - 1]])
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    start = max(line_start, sentence_start)
    end = min(line_end, sentence_end)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
