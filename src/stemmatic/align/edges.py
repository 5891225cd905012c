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

import numpy as np

from stemmatic.align.units import Prepared

# An edge unit stays when this share of its content words occurs on the other side
# and nowhere else on its own side.
NOVELTY = 0.1


def trim_units(
    q: Prepared, q0: int, q1: int, s: Prepared, s0: int, s1: int
) -> tuple[int, int, int, int]:
    """Drop units (lines, or sentences within a line) at the edges of both sides that
    explain none of the other side's words.

    A sentence next to a reused passage often shares its topic, so many of its words
    occur on the other side too, but they are words the passage itself already has.  An
    edge unit stays only when enough of its words occur on the other side and nowhere
    else on its own side: the unit must explain something the rest does not.
    """
    for _ in range(4):
        nq = _trim_side(q, q0, q1, s.tokens.ids[s0:s1][s.content[s0:s1]])
        ns = _trim_side(s, s0, s1, q.tokens.ids[nq[0]:nq[1]][q.content[nq[0]:nq[1]]])
        if nq == (q0, q1) and ns == (s0, s1):
            break
        (q0, q1), (s0, s1) = nq, ns
    return q0, q1, s0, s1


def _trim_side(prepared: Prepared, first: int, stop: int, other: np.ndarray) -> tuple[int, int]:
    units = _units(prepared, first, stop)
    if len(units) < 2:
        return first, stop
    lo, hi = 0, len(units) - 1
    while lo < hi and not _novel(prepared, units, lo, lo + 1, hi + 1, other):
        lo += 1
    while hi > lo and not _novel(prepared, units, hi, lo, hi, other):
        hi -= 1
    return units[lo][0], units[hi][1]


def _novel(
    prepared: Prepared, units: list[tuple[int, int]], k: int, rest_lo: int, rest_hi: int,
    other: np.ndarray,
) -> bool:
    """Whether unit ``k`` explains enough of ``other`` that units ``rest_lo..rest_hi-1``
    (the rest of the span) do not."""
    a, b = units[k]
    ids = prepared.tokens.ids[a:b][prepared.content[a:b]]
    if not len(ids):
        return False
    r0, r1 = units[rest_lo][0], units[rest_hi - 1][1]
    if k < rest_lo:
        rest = prepared.tokens.ids[r0:r1][prepared.content[r0:r1]]
    else:
        rest = prepared.tokens.ids[r0:a][prepared.content[r0:a]]
    novel = np.isin(ids, other) & ~np.isin(ids, rest)
    return float(novel.mean()) >= NOVELTY


def _units(prepared: Prepared, first: int, stop: int) -> list[tuple[int, int]]:
    """Token ranges of the lines of ``[first, stop)``, split further at sentence ends."""
    out = []
    for a, b in _lines(prepared, first, stop):
        sent = prepared.tok_sent[a:b]
        cuts = np.flatnonzero(np.diff(sent)) + 1
        bounds = [0, *cuts.tolist(), b - a]
        out.extend((a + x, a + y) for x, y in zip(bounds, bounds[1:]))
    return out


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


def _lines(prepared: Prepared, first: int, stop: int) -> list[tuple[int, int]]:
    """Token ranges of the lines of tokens ``[first, stop)``."""
    tokens = prepared.tokens
    text = tokens.text
    starts = tokens.starts[first:stop]
    ends = tokens.ends[first:stop]
    # A line break lies between token k-1 and token k when the gap between them holds one.
    breaks = [
        k for k in range(1, len(starts))
        if "\n" in text[int(ends[k - 1]) : int(starts[k])]
    ]
    bounds = [0, *breaks, len(starts)]
    return [(first + a, first + b) for a, b in zip(bounds, bounds[1:])]
