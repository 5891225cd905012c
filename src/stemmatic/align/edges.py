"""Edges of passages placed on whole sentences: drop lines the other side does not support.

A sentence of extracted text often runs over line breaks that carry no full stop: a
heading, a list item or a caption joins the sentence after it.  A paraphrase placed
on whole sentences then starts with a heading that was never reused.  Splitting every
sentence at line breaks would cost more than it gains (wrapped prose breaks lines in
the middle of sentences, and shorter units make sentence similarity noisy), so lines
are considered only at the two edges of a passage: a line there stays when enough of
its content words occur on the other side of the passage.
"""

from __future__ import annotations

import numpy as np
import regex

from stemmatic.align.units import Prepared

# A line at the edge of a passage stays when this share of its content words occurs
# on the other side.
LINE_SUPPORT = 0.3
# A line of at most this many words that does not end a sentence is a heading, a
# label or a list item: structure around a passage rather than part of it.
HEADING_WORDS = 8


def trim_lines(
    prepared: Prepared, first: int, stop: int, other: np.ndarray
) -> tuple[int, int]:
    """Token range ``[first, stop)`` without the unsupported lines at its edges.

    Args:
        prepared: the text the range belongs to.
        first, stop: a token range placed on whole sentences.
        other: ids of the content words of the other side of the passage.

    Returns:
        The narrowed token range; never empty when the input is not.
    """
    if stop - first < 2:
        return first, stop
    lines = _lines(prepared, first, stop)
    if len(lines) < 2:
        return first, stop
    supported = [
        _supported(prepared, a, b, other) and not _heading(prepared, a, b) for a, b in lines
    ]
    if not any(supported):
        return first, stop
    keep = [i for i, ok in enumerate(supported) if ok]
    return lines[keep[0]][0], lines[keep[-1]][1]


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


_SENTENCE_END = regex.compile(r"""[.!?…]["'”’»)\]]*\s*$""")


def _heading(prepared: Prepared, a: int, b: int) -> bool:
    """Whether tokens ``[a, b)`` form a short line standing on its own: it does not end a
    sentence, the text before it does (or it opens the text), and the next line starts
    with a capital letter."""
    if b - a > HEADING_WORDS:
        return False
    tokens = prepared.tokens
    text = tokens.text
    line_start = text.rfind("\n", 0, int(tokens.starts[a])) + 1
    line_end = text.find("\n", int(tokens.ends[b - 1]))
    if line_end < 0:
        return False
    if _SENTENCE_END.match(text, int(tokens.ends[b - 1]), line_end):
        return False
    before = text[:line_start].rstrip()
    if before and not _SENTENCE_END.search(before[-3:] + " "):
        return False
    after = text[line_end : line_end + 40].lstrip()
    return bool(after) and after[0].isupper()


def _supported(prepared: Prepared, a: int, b: int, other: np.ndarray) -> bool:
    ids = prepared.tokens.ids[a:b][prepared.content[a:b]]
    if not len(ids):
        return False
    return float(np.isin(ids, other).mean()) >= LINE_SUPPORT
