"""Sentence and paragraph spans of a text, as half-open offsets into the original."""

from __future__ import annotations

import re

import regex

# A sentence ends at . ! ? or … (possibly repeated), followed by closing quotes or
# brackets, then whitespace (group 1).  A blank line always ends a sentence (headings,
# list items).  The standard library's engine finds these about twice as fast as a
# lookbehind in ``regex`` would.
_BOUNDARY = re.compile(r"""[.!?…]["'”’»)\]]*(\s+)|\n[ \t]*\n\s*""")
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")

# Abbreviations after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st vs etc e.g i.e cf al no vol pp p ed eds fig ch sec
    jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp gen col lt mt ft""".split()
)
_LAST_WORD = regex.compile(r"(?<![\p{L}'’])([\p{L}.]+)\.$")


def sentences(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentence spans, without surrounding whitespace.

    Abbreviations ("Dr.", "e.g.", "p.") and single initials ("J. Smith") do not end a
    sentence.  Every non-space character of ``text`` belongs to exactly one span.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end, stop = match.span(1) if match.start(1) >= 0 else match.span()
        if text[end - 1] == "." and not _PARAGRAPH.fullmatch(text, end, stop):
            # A period after an abbreviation or an initial is not a boundary.
            word = _LAST_WORD.search(text, max(start, end - 12), end)
            if word is not None:
                w = word.group(1).casefold()
                if w in _ABBREVIATIONS or (len(w) == 1 and w.isalpha()):
                    continue
        _append(text, spans, start, end)
        start = stop
    _append(text, spans, start, len(text))
    return spans


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Split ``text`` at blank lines into paragraph spans, without surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _PARAGRAPH.finditer(text):
        _append(text, spans, start, match.start())
        start = match.end()
    _append(text, spans, start, len(text))
    return spans


def _append(text: str, spans: list[tuple[int, int]], start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
