"""The shortcuts that make the query side of classify (quotations and citations) cheaper
give the same results as the plain code they replace.

Each replaced function is held to its plain form, kept here as a reference, on random
texts made of pieces that exercise it (names, verbs, years, quote marks, headings...).
"""

from __future__ import annotations

import bisect
import dataclasses
import random
import re
from collections import Counter

import numpy as np
import pytest
import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from stemmatic import citations, quotes
from stemmatic.citations import find_citations
from stemmatic.quotes import find_quotations, quotations_and_paragraphs
from stemmatic.types import Document, Quotation

_PIECES = [
    "Smith", "van Gogh", "de Beauvoir", "van der Rohe", "della Robbia", "Lévi-Strauss",
    "O'Brien", "McDonald", "Émile", "Ölund", "WHO", "It", "The", "Jones and Lee",
    "Smith, Lee", "Smith,van Berg", "Smith Jones", "Gödel", "et al.", "et al.'s", "'s", "the",
    "river", "and", "also", "del", "dell", "has", "had", "have", "not", "notes", "noted",
    "argues", "argued", "arguesthat", "writes", "wrote", "said", "says", "points out",
    "puts it", "states", "found", "finds", "has argued", "has been", "as", "As", "AS", "aſ",
    "that", "by", "noted by", "according to", "In", "in", "(2004)", "(2004, p. 12)",
    "(n.d.)", "(in press)", "(Smith 2004)", "(Smith 12)", "(ibid.)", "(see Lee 1999; Brown)",
    "(“Title” 3)", "(Housing, 2002)", "(1999)", "(", ")", "[1]", "[2, 4-6]", "¹", "^3",
    "*Title*", "“", "”", "‘", "’", "'", '"', "«", "»", " « ", " » ", "‹", "›", "-", "_", "2",
    "é", "\u00a0", " ", " ", " ", "  ", "\n", "\n\n", "\t", ", ", ". ", ".", "...", "! ",
    "? ", ": ", "; ", "e.g. ", "Dr. ", "J. ", "p. ", "x" * 40, "\nReferences\n",
    "\nNotes\n", "\n## Bibliography\n", "\n# Heading\n", "\nAppendix A\n",
    "\nAbout the\nauthors\n", "\n  Index \n", "\n1. ", "\n[^1]: ", "[^2]", "\n> ", "    ",
    "'n'", " 'tis ", "5′ 10″",
    # Whole citations, so that the patterns match often.
    "Smith et al. (2004)", " Lee et al (1999) ", "Brown et al.'s (2010)", " Smith's (2004) ",
    "Smith et al. argue that", " Jones has argued that", "Lee and Kim had shown: ",
    "Smith (2004, p. 3) writes “", " de Vries wrote, ", "Ölund (2001) notes that",
    "“Quoted words,” Smith writes.", " As Smith (1999) notes, ", "as argued by Lee",
    "(Abbott 2004)", "(A. Lee)", "Abbott",
]
_TEXTS = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


def _context(text: str) -> citations._Context:
    quotations, _, paras = quotations_and_paragraphs(text)
    return citations._Context(text, "sentence", quotations, paras)


# ---------------------------------------------------------------------------------------
# Quotations


# The context of a quote mark as patterns (quotes._marks reads the characters around it).
_MARKS = re.escape("".join(quotes._FAMILY))
_NOT_OPEN_BEFORE = "[^" + re.escape("".join(quotes._OPEN_BEFORE)) + _MARKS + r"\s]"
_NOT_CLOSE_AFTER = "[^" + re.escape("".join(quotes._CLOSE_AFTER)) + _MARKS + r"\s]"
_CLOSING = "[" + re.escape("".join(sorted(quotes.QUOTE_MARKS - quotes._OPEN_ONLY))) + "]"
_OPENER = re.compile(f"[{_MARKS}](?<!{_NOT_OPEN_BEFORE}.)(?=\\S)", re.DOTALL)
_CLOSER = re.compile(f"{_CLOSING}(?<=[^\\s(\\[{{<].)(?!{_NOT_CLOSE_AFTER})", re.DOTALL)
_GSPACE = "[" + "".join(quotes._GUILLEMET_SPACES) + "]"
_GUILLEMET_OPENER = re.compile(f"[«‹](?<!{_NOT_OPEN_BEFORE}.)(?={_GSPACE}\\S)", re.DOTALL)
_GUILLEMET_CLOSER = re.compile(
    f"{_GSPACE}[»›](?<=[^\\s(\\[{{<]..)(?!{_NOT_CLOSE_AFTER})", re.DOTALL
)


def _marks_scanned(
    text: str, para_starts: list[int]
) -> tuple[list[quotes._Mark], list[quotes._Mark]]:
    """The plain form of quotes._marks: the context patterns scan the whole text."""
    openers = {m.start() for m in _OPENER.finditer(text)}
    if "«" in text or "‹" in text:
        openers.update(m.start() for m in _GUILLEMET_OPENER.finditer(text))
    closers = {m.start() for m in _CLOSER.finditer(text)}
    if "»" in text or "›" in text:
        closers.update(m.end() - 1 for m in _GUILLEMET_CLOSER.finditer(text))
    apostrophes: set[int] = set()
    for m in quotes._N_ELISION.finditer(text):
        apostrophes.update((m.start(), m.end() - 1))
    stacked: list[quotes._Mark] = []
    singles: list[quotes._Mark] = []
    para = -1
    next_para = para_starts[0] if para_starts else len(text) + 1
    for i in sorted(openers | closers):
        ch = text[i]
        if ch in quotes._PRIMES and i and text[i - 1].isdigit():
            continue
        can_open = i in openers
        can_close = i in closers
        family = quotes._FAMILY[ch]
        if family == quotes._SINGLE:
            if i in apostrophes:
                continue
            if can_close:
                can_open = False
            elif quotes._is_elision(text, i + 1, ch):
                continue
        while i >= next_para:
            para += 1
            next_para = para_starts[para + 1] if para + 1 < len(para_starts) else len(text) + 1
        mark = quotes._Mark(i, ch, family, can_open, can_close, para, cap_from=i)
        (singles if family == quotes._SINGLE else stacked).append(mark)
    return stacked, singles


def _paragraphs_scanned(text: str) -> list[tuple[int, int]]:
    """The plain form of quotes.paragraphs."""
    lengths = [len(line) for line in text.split("\n")]
    total = sum(lengths)
    if total > 0 and 2 * sum(n for n in lengths if n > quotes._LONG_LINE) >= total:
        pieces = [m.span() for m in re.finditer(r"^[^\n]*", text, re.MULTILINE)]
    else:
        pieces = []
        pos = 0
        for m in quotes._PARAGRAPH_BREAK.finditer(text):
            pieces.append((pos, m.start()))
            pos = m.end()
        pieces.append((pos, len(text)))
    return [(s, e) for s, e in pieces if quotes._TEXT_CHAR.search(text, s, e)]


def _indent_plain(text: str, start: int, end: int) -> int:
    lead = quotes._LEADING_SPACE.match(text, start, end)
    stop = lead.end() if lead else start
    if stop < end and text[stop] == ">":
        return -1
    if stop == start:
        return 0
    lines = [ln for ln in text[start:end].split("\n") if ln.strip()]
    if not lines:
        return 0
    return min(len(ln.expandtabs(4)) - len(ln.expandtabs(4).lstrip()) for ln in lines)


def _pair_stacked_plain(
    text: str, marks: list[quotes._Mark], content: list[int], max_chars: int
) -> tuple[list[tuple[quotes._Mark, quotes._Mark]], list[quotes._Mark]]:
    """quotes._pair_stacked as it was, cutting the stack twice on a pair."""
    pairs = []
    unbalanced: list[quotes._Mark] = []
    stack = quotes._Stack()
    para = -1
    for mark in marks:
        if mark.para != para:
            k = stack.topmost(mark.family) if quotes._reopens(mark, para, content) else None
            if k is not None:
                unbalanced.extend(stack.cut(k + 1))
                stack.restart(mark.pos)
                para = mark.para
                continue
            unbalanced.extend(stack.cut(stack.lo))
            para = mark.para
        unbalanced.extend(stack.expire(mark.pos - max_chars))
        if mark.can_close:
            k = stack.topmost(mark.family)
            if k is not None and (not mark.can_open or k == len(stack.items) - 1):
                opener = stack.items[k]
                unbalanced.extend(stack.cut(k + 1))
                stack.cut(k)
                pairs.append((opener, mark))
                continue
            if not mark.can_open:
                if not (mark.pos and text[mark.pos - 1].isdigit()):
                    unbalanced.append(mark)
                continue
        stack.push(mark)
    unbalanced.extend(stack.cut(stack.lo))
    return pairs, unbalanced


@settings(max_examples=600, deadline=None)
@given(_TEXTS | st.text(alphabet="\"'“”„‟‘’‚′″«»‹› \u00a0\u202f\u2009\t\n([<)a5.—", max_size=12))
def test_marks_tried_at_the_quote_marks_are_the_scanned_ones(text: str) -> None:
    paras = quotes.paragraphs(text)
    starts = [s for s, _ in paras]
    assert quotes._marks(text, quotes.code_points(text), starts) == _marks_scanned(text, starts)


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.sampled_from([10, 40, 3000]))
def test_pairing_with_one_cut_is_pairing_with_two(text: str, max_chars: int) -> None:
    paras = quotes.paragraphs(text)
    content = [quotes._content_start(text, s) for s, _ in paras]
    cp = quotes.code_points(text)
    fast = quotes._pair_stacked(text, quotes._marks(text, cp, [s for s, _ in paras])[0], content,
                                max_chars)
    plain = _pair_stacked_plain(text, quotes._marks(text, cp, [s for s, _ in paras])[0], content,
                                max_chars)
    assert fast == plain


@settings(max_examples=300, deadline=None)
@given(_TEXTS | st.text(alphabet=" \t\n>ax", max_size=30))
def test_paragraphs_from_the_lines_are_the_scanned_ones(text: str) -> None:
    lengths = [len(line) for line in text.split("\n")]
    unwrapped = sum(lengths) > 0 and 2 * sum(n for n in lengths if n > 150) >= sum(lengths)
    newlines = quotes._newlines(quotes.code_points(text))
    assert quotes._unwrapped(newlines, len(text)) == unwrapped
    assert quotes.paragraphs(text) == _paragraphs_scanned(text)
    assert quotations_and_paragraphs(text)[2] == _paragraphs_scanned(text)
    for start, end in _paragraphs_scanned(text):
        assert quotes._indent(text, start, end) == _indent_plain(text, start, end)


def _blocks_plain(text: str, paras: list[tuple[int, int]], unwrapped: bool) -> list[Quotation]:
    """quotes._blocks as it was: the usual indentation worked out for every text, and
    every word of a block candidate found."""

    def wordy(words: str) -> bool:
        return len(quotes._WORD.findall(words)) >= 3 and any(c.islower() for c in words)

    blocks: list[Quotation] = []
    run: list[tuple[int, int]] = []
    last_end = -2
    for m in quotes._MD_QUOTE_RUN_LINE.finditer(text) if ">" in text else ():
        if m.start() != last_end + 1:
            if run and wordy(text[run[0][0] : run[-1][1]]):
                blocks.append(Quotation(run[0][0], run[-1][1], "", "", block=True))
            run.clear()
        last_end = m.end()
        body = quotes._MD_QUOTE_PREFIX.match(text, m.start(), m.end())
        start, end = quotes._strip(text, body.end() if body else m.start(), m.end())
        if start < end:
            run.append((start, end))
    if run and wordy(text[run[0][0] : run[-1][1]]):
        blocks.append(Quotation(run[0][0], run[-1][1], "", "", block=True))
    indents = [quotes._indent(text, start, end) for start, end in paras]
    counts: Counter[int] = Counter()
    for (start, end), indent in zip(paras, indents):
        if indent >= 0 and (end - start > 80 or quotes._ends_like_body(text, start, end)):
            counts[indent] += end - start if unwrapped else 1
    if not counts:
        counts.update(i for i in indents if i >= 0)
    if not counts:
        return blocks
    top = max(counts.values())
    usual = min(i for i, c in counts.items() if c == top)
    for (start, end), indent in zip(paras, indents):
        if indent < usual + 4 or quotes._LIST_ITEM.match(text, start, end):
            continue
        if indent > usual + quotes._CENTRED and "\n" not in text[start:end].strip():
            continue
        s, e = quotes._strip(text, start, end)
        if wordy(text[s:e]):
            blocks.append(Quotation(s, e, "", "", block=True))
    blocks.sort(key=lambda q: q.start)
    return blocks


def _set_contexts_plain(
    singles: list[quotes._Mark], pairs: list[tuple[quotes._Mark, quotes._Mark]]
) -> None:
    """quotes._set_contexts as it was: the events sorted whole, for any marks."""
    events = sorted(
        [(o.pos, 1, k) for k, (o, _) in enumerate(pairs)]
        + [(c.pos, -1, k) for k, (_, c) in enumerate(pairs)]
    )
    stack: list[int] = []
    e = 0
    for mark in singles:
        while e < len(events) and events[e][0] < mark.pos:
            _, kind, k = events[e]
            if kind == 1:
                stack.append(k)
            elif stack:
                stack.pop()
            e += 1
        mark.context = stack[-1] if stack else -1


def _quotations_and_paragraphs_plain(
    text: str, max_chars: int
) -> tuple[list[Quotation], list[str], list[tuple[int, int]]]:
    """quotes.quotations_and_paragraphs made of the plain forms of its steps."""
    paras = _paragraphs_scanned(text)
    content = [quotes._content_start(text, s) for s, _ in paras]
    stacked, singles = _marks_scanned(text, [s for s, _ in paras])
    pairs, unbalanced = _pair_stacked_plain(text, stacked, content, max_chars)
    _set_contexts_plain(singles, pairs)
    single_pairs, single_unbalanced = quotes._pair_singles(
        text, singles, paras, content, [close.pos for _, close in pairs], max_chars
    )
    quotations = []
    for opener, closer in pairs + single_pairs:
        start, end = quotes._strip(text, opener.pos + 1, closer.pos)
        if start < end:
            quotations.append(Quotation(start, end, opener.char, closer.char))
    lengths = [len(line) for line in text.split("\n")]
    unwrapped = sum(lengths) > 0 and 2 * sum(n for n in lengths if n > 150) >= sum(lengths)
    quotations.extend(_blocks_plain(text, paras, unwrapped))
    quotations.sort(key=lambda q: (q.start, -q.end, q.block))
    warnings = quotes._warnings(text, sorted(unbalanced + single_unbalanced, key=lambda m: m.pos))
    return quotations, warnings, paras


@settings(max_examples=400, deadline=None)
@given(_TEXTS | st.text(alphabet="\"'“”‘’«» \n>ax.", max_size=20),
       st.sampled_from([10, 40, 3000]))
def test_quotations_found_with_shortcuts_are_the_plain_ones(text: str, max_chars: int) -> None:
    # (Quotations built from their slots equal the dataclass's own field for field.)
    assert quotations_and_paragraphs(text, max_chars=max_chars) == (
        _quotations_and_paragraphs_plain(text, max_chars)
    )


_BLOCK_TEXTS = st.lists(st.sampled_from([
    "Body text of a paragraph, words and more words.", "    Indented words here now.",
    "        Deeper indented words here.", "\tTabbed words in it.", "  - a list item here",
    "    1. numbered item words", "> Quoted words in a block", "> > nested words here",
    ">", "SHORT HEADING", "Heading", "", "\n", " " * 20 + "Centred words here", "x" * 90,
    "    X Y Z", "    a b", "    ab cd", "> ab cd", "    ab cd ef", "é mots ici",
]), max_size=10).map("\n".join)


@settings(max_examples=400, deadline=None)
@given(_BLOCK_TEXTS)
def test_blocks_found_with_shortcuts_are_the_plain_ones(text: str) -> None:
    newlines = quotes._newlines(quotes.code_points(text))
    unwrapped = quotes._unwrapped(newlines, len(text))
    paras = quotes._paragraphs(text, unwrapped, newlines)
    assert quotes._blocks(text, paras, unwrapped) == _blocks_plain(text, paras, unwrapped)


@pytest.mark.parametrize("text", [
    "A “quoted” word (Smith 2004).",
    "As Marsh (1997) argues, “the bell rang”.[1]\n\n## Notes\n\n1. Marsh, D. 1997.\n",
    "",
])
def test_code_points_given_change_nothing(text: str) -> None:
    # ``classify`` reads the code points once and gives them to both searches.
    cp = quotes.code_points(text)
    assert cp.tolist() == [ord(c) for c in text]
    found = quotations_and_paragraphs(text, cp=cp)
    assert found == quotations_and_paragraphs(text)
    quotations, _, paras = found
    assert find_citations(text, quotations=quotations, paras=paras, cp=cp) == find_citations(
        text, quotations=quotations, paras=paras
    )


def test_lines_longer_than_the_limit_count_as_unwrapped() -> None:
    for text, unwrapped in (("x" * 150 + "\n" + "y" * 149, False),
                            ("x" * 151 + "\n" + "y" * 151, True),
                            ("x" * 151 + "\n" + "y" * 150, True), ("", False), ("\n\n", False)):
        assert quotes._unwrapped(quotes._newlines(quotes.code_points(text)), len(text)) == (
            unwrapped
        )


def test_long_lines_make_every_line_a_paragraph() -> None:
    text = ("x" * 200 + "\n") * 3 + "  > \n" + "short\n"
    assert quotes.paragraphs(text) == _paragraphs_scanned(text)
    assert len(quotes.paragraphs(text)) == 4


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="'‘’nN a\"", max_size=12))
def test_a_mark_before_n_is_found_among_the_marks(text: str) -> None:
    cp = quotes.code_points(text)
    expected = re.search("['‘’][nN]", text) is not None
    assert quotes._mark_before_n(cp, quotes._mark_positions(cp)) == expected
    assert quotes._mark_positions(cp).tolist() == [
        k for k, c in enumerate(text) if c in quotes.QUOTE_MARKS
    ]


# ---------------------------------------------------------------------------------------
# Sections, notes and reference lists


def _all_sections_scanned(text: str) -> tuple[tuple[str, int, int], ...]:
    """The plain form of citations._all_sections: every line tried with every pattern."""
    headings = []
    for m in citations._line_matches(citations._HEADING, text):
        kind = "notes" if citations._NOTE_HEADING.fullmatch(m.group("name")) else "references"
        headings.append((m.start(), m.end(), kind))
    if not headings:
        return ()
    others = [m.start() for m in citations._line_matches(citations._OTHER_HEADING, text)]
    bounds = sorted({s for s, _, _ in headings} | set(others))
    out = []
    for start, end, kind in headings:
        k = bisect.bisect_right(bounds, start)
        out.append((kind, end, bounds[k] if k < len(bounds) else len(text)))
    return tuple(out)


_LINES = st.lists(
    st.sampled_from([
        "References", "  references:", "## Works Cited", "**Notes**", "Notes", "Foot notes",
        "Select Bibliography", "# Heading", "#NoSpace", "Appendix B: tables", "appendix",
        "About the", "authors", "Index", "Glossary:", "Further reading", "Tables", "Figures",
        "Smith, J. (2004). *Title*.", "1. A note.", "[2] Another.", "[^3]: Defined.",
        "  [^4]:", "¹ Superscript note.", "^5 Caret note.", "Body text here.", "", "  ",
        "\u00a0References", "Réferences", "\tNotes\t", "İndex",
    ]),
    max_size=14,
).map("\n".join)


@settings(max_examples=400, deadline=None)
@given(_LINES)
def test_lines_skipped_by_their_first_character_hold_no_match(text: str) -> None:
    for pattern, first in (
        (citations._HEADING, citations._HEADING_FIRST),
        (citations._OTHER_HEADING, citations._OTHER_HEADING_FIRST),
        (citations._MD_DEFINITION, ("[",)),
    ):
        assert [m.span() for m in citations._line_matches(pattern, text, first)] == [
            m.span() for m in citations._line_matches(pattern, text)
        ]
    assert [m.span() for m in citations._line_matches(citations._MD_DEFINITION, text, ("[",))] == [
        m.span() for m in citations._MD_DEFINITION.finditer(text)
    ]


@settings(max_examples=400, deadline=None)
@given(_LINES)
def test_sections_end_where_the_scan_ends_them(text: str) -> None:
    citations._all_sections.cache_clear()
    assert citations._all_sections(text) == _all_sections_scanned(text)


def _first_break_plain(s: str) -> int:
    """citations._first_break as it was: the word before each stop found by a regex."""
    vancouver = citations._VANCOUVER.match(s) is not None
    for m in citations._ENTRY_STOP.finditer(s):
        word = regex.search(r"(\S+)$", s[: m.start()])
        token = (word.group(1) if word else "").rstrip(".")
        if citations._INITIAL.match(token) and not (vancouver and "." not in token):
            continue
        if token.casefold().strip(",(") in citations._ABBREVIATED_IN_ENTRIES:
            continue
        return m.start()
    return len(s)


_ENTRY_TEXTS = st.lists(st.sampled_from([
    "Smith", "J.", "J.K.", "JA", "Lee K.", " ", "  ", "\t", "\n", "\x1c", "\u00a0", "ed.",
    "eds.", "(ed.)", "Vol.", "p.", "?", "!", ". ", "“Title”", '"T"', "‘T’", "*T*", "_T_",
    "(2004)", "2004", "n.d.", "é", ",", "Smith JA, Lee K. ", "Title. ", "x_y",
]), max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(_ENTRY_TEXTS)
def test_entry_breaks_read_from_the_spaces_are_the_regex_ones(raw: str) -> None:
    entry = " ".join(raw.split())  # as _parse_entry reads an entry
    assert citations._first_break(entry) == _first_break_plain(entry)
    for m in citations._ENTRY_STOP.finditer(entry):
        after = entry[m.end():].lstrip(" .,:;)")
        assert citations._first_break(after) == _first_break_plain(after)
    found = citations._title_in(raw)
    plain = citations._QUOTED_TITLE.search(raw) or citations._ITALIC_TITLE.search(raw)
    assert (found and (found.span(), found.groupdict())) == (plain and (plain.span(),
                                                                          plain.groupdict()))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([
    "Smith", "J.", " ", ", ", "(ed.)", "(Eds)", "(TRANS.)", "(comp)", "et al.", "et  al",
    "Etal", "; ", "&", " and ", "band", " with ", "withal", "van", "Jr.", "\u00a0", "é",
]), max_size=10).map("".join))
def test_author_segments_skip_only_the_patterns_that_cannot_match(segment: str) -> None:
    # _surnames tries _RX10 only where "(" or "et" stands, and _RX11 only where ";",
    # "&", "and" or "with" does.
    if not ("(" in segment or "et" in segment):
        assert citations._RX10.sub(" ", segment) == segment
    if not (";" in segment or "&" in segment or "and" in segment or "with" in segment):
        assert citations._RX11.split(segment) == [segment]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["J", "K", "É", "ǅ", ".", "-", "a", "z", "\n", "A", "1", " "]),
                max_size=12).map("".join))
def test_initials_told_without_the_pattern_are_its_matches(token: str) -> None:
    assert citations._initials(token) == (citations._INITIAL.match(token) is not None)
    # The longest matches.
    for longest in ("J.-K.-L.-", "J.-K.-L.-\n", "J.-K.-L.-M", "J.-K.-L.-\n\n"):
        assert citations._initials(longest) == (citations._INITIAL.match(longest) is not None)


def _entries_sliced(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """citations._entries as it was, scanning a copy of the text cut at ``end``."""
    if citations._NOTE_START.search(text, start, end):
        return [(s, e) for _, s, e in citations._numbered_entries(text, start, end)]
    spans: list[tuple[int, int]] = []
    if citations._RX8.search(text[start:end].strip()):
        pos = start
        for m in regex.finditer(r"\n(?:[ \t]*\n)+", text[:end], pos=start):
            spans.append((pos, m.start()))
            pos = m.end()
        spans.append((pos, end))
    else:
        for m in regex.finditer(r"^[^\n]*", text[:end], pos=start, flags=regex.MULTILINE):
            s, e = m.span()
            if not text[s:e].strip():
                continue
            if spans and text[s : s + 1] in (" ", "\t"):
                spans[-1] = (spans[-1][0], e)
            else:
                spans.append((s, e))
    out = []
    for s, e in spans:
        bullet = citations._BULLET.match(text, s, e)
        s2, e2 = citations._strip(text, bullet.end() if bullet else s, e)
        if s2 < e2:
            out.append((s2, e2))
    return out


@settings(max_examples=300, deadline=None)
@given(_LINES, st.data())
def test_entries_read_in_place_are_the_ones_read_in_a_copy(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert citations._entries(text, start, end) == _entries_sliced(text, start, end)


# ---------------------------------------------------------------------------------------
# Sentences


def _abbreviated_plain(text: str, lo: int, end: int) -> bool:
    word = citations._WORD_BEFORE.search(text, lo, end)
    w: str | None = word.group(1) if word else None
    return w is not None and (len(w) == 1 or w.casefold() in citations._ABBREVIATIONS)


def _sentences_plain(text: str, paras: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """citations._sentences as it was: every sentence stripped at both ends."""
    out: list[tuple[int, int]] = []
    for ps, pe in paras:
        pos = ps
        for m in citations._SENTENCE_END.finditer(text, ps, pe):
            at, stop = m.span()
            if text[at] == "." and text[at + 1 : at + 2] not in ".!?…" and _abbreviated_plain(
                text, max(ps, at - 20), at
            ):
                continue
            s, e = citations._strip(text, pos, stop)
            if s < e:
                out.append((s, e))
            pos = stop
        s, e = citations._strip(text, pos, pe)
        if s < e:
            out.append((s, e))
    return out


@settings(max_examples=300, deadline=None)
@given(_TEXTS | st.text(alphabet="ab.é!? \nX[1]”\u2003", max_size=30))
def test_sentence_ends_tried_at_their_marks_are_the_scanned_ones(text: str) -> None:
    stops = citations._stops(citations.code_points(text))
    for start, end in [*citations.paragraphs(text), (0, len(text))]:
        assert citations._sentence_ends(text, start, end, stops) == [
            m.span() for m in citations._SENTENCE_END.finditer(text, start, end)
        ]
    paras = citations.paragraphs(text)
    assert citations._sentences(text, paras, stops) == _sentences_plain(text, paras)
    assert citations._sentences(text, paras) == _sentences_plain(text, paras)
    for end in range(len(text) + 1):
        for lo in (0, max(0, end - 20), max(0, end - 8), max(0, end - 7)):
            assert citations._abbreviated(text, lo, end) == _abbreviated_plain(text, lo, end)


# ---------------------------------------------------------------------------------------
# Narrative citations


def _scan_anchored(
    pattern: regex.Pattern[str], anchors: list[tuple[int, int]], text: str
) -> list[regex.Match[str]]:
    """The plain form of citations._anchored: search every position of each window."""
    out: list[regex.Match[str]] = []
    done = 0
    for start, end in anchors:
        if start < done:
            continue
        lo = max(done, start - citations._WINDOW)
        for m in pattern.finditer(text, lo, min(len(text), end + citations._WINDOW)):
            if m.start() <= start < m.end():
                out.append(m)
                done = m.end()
                break
    return out


def _spans(matches: list[regex.Match[str]]) -> list[tuple[tuple[int, int], dict[str, object]]]:
    return [(m.span(), m.groupdict()) for m in matches]


_VERB_WORD = re.compile(
    r"\b(?:" + "|".join(sorted(citations._VERB_WORDS, key=len, reverse=True)) + r")\b"
)


@settings(max_examples=500, deadline=None)
@given(_TEXTS)
def test_verbs_after_names_find_the_matches_every_verb_word_finds(text: str) -> None:
    doc = _context(text)
    every = [m.span() for m in _VERB_WORD.finditer(text)]
    kept = citations._verbs_after_names(doc)
    assert set(kept) <= set(every)
    assert _spans(
        citations._anchored(citations._NAME_VERB, kept, text,
                            citations._StartsBefore(text, verb=True))
    ) == _spans(_scan_anchored(citations._NAME_VERB, every, text))


@settings(max_examples=500, deadline=None)
@given(_TEXTS)
def test_years_after_names_find_the_matches_every_year_finds(text: str) -> None:
    every = [m.span() for m in citations._YEAR_ANCHOR.finditer(text)]
    kept = [span for span in every if citations._after_name(text, span[0])]
    assert _spans(
        citations._anchored(citations._NARRATIVE_YEAR, kept, text,
                            citations._StartsBefore(text, verb=False))
    ) == _spans(_scan_anchored(citations._NARRATIVE_YEAR, every, text))


def test_names_in_a_row_need_a_comma_or_and() -> None:
    text = ("The United States Army (2004) found that Smith,van Berg and Lee (1999, p. 2) "
            "have argued that, as Gödel Escher (2001) noted, Smith et al.'s (2003) view holds.")
    every = [m.span() for m in citations._YEAR_ANCHOR.finditer(text)]
    found = citations._anchored(citations._NARRATIVE_YEAR, every, text,
                                citations._StartsBefore(text, verb=False))
    assert [m.group("authors") for m in found] == [
        "Army", "Smith,van Berg and Lee", "Escher", "Smith et al."
    ]
    assert _spans(found) == _spans(_scan_anchored(citations._NARRATIVE_YEAR, every, text))


@given(st.sampled_from(["has argued", "had shown", "have noted"]),
       st.sampled_from(["", " (2004)", " (2004, p. 5)"]), st.integers(80, 110))
def test_the_second_word_of_a_verb_finds_a_match_the_first_cannot(
    verb: str, year: str, gap: int
) -> None:
    # Near the window's end the match is found from its second word only.
    text = f"Then Smith and Lee{year} {verb}" + " " * gap + "that it works."
    every = [m.span() for m in _VERB_WORD.finditer(text)]
    kept = citations._verbs_after_names(_context(text))
    found = citations._anchored(citations._NAME_VERB, kept, text,
                                citations._StartsBefore(text, verb=True))
    assert _spans(found) == _spans(_scan_anchored(citations._NAME_VERB, every, text))


# citations._NAME_VERB as it was: its verbs as lists of alternatives sorted by length.
_NAME_VERB_LISTED = regex.compile(
    rf"(?P<authors>{citations._AUTH_SURNAME})(?:{citations._YEAR_PAREN})?\s+"
    rf"(?:(?P<verb>{citations._VERBS_SINGULAR})|(?P<plural>{citations._VERBS_PLURAL}))"
    r"(?=(?:\s+\p{Ll}+ly)?\s*(?:that\b|:|[\"“‘«]))"
    "|"
    rf"(?P<authors>{citations._AUTH_SURNAME})(?:{citations._YEAR_PAREN})?\s+"
    rf"(?:(?!(?:{citations._NOUN_LIKE_VERBS})\b)(?P<verb>{citations._VERBS_SINGULAR})"
    rf"|(?!(?:{citations._NOUN_LIKE_PLURAL})\b)(?P<plural>{citations._VERBS_PLURAL}))"
    r"(?=\s*,)"
)
_VERB_TEXTS = st.lists(
    st.sampled_from(
        [*_PIECES, *citations._REPORTING_SINGULAR, *citations._REPORTING_PLURAL, "puts",
         "pointed", "has", "have", " that ", ", ", ": ", " “", " ", "\n", "ly "]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(_VERB_TEXTS)
def test_names_before_verbs_matched_with_tries_are_the_listed_matches(text: str) -> None:
    for at in range(len(text)):
        assert _spans(
            [m] if (m := citations._NAME_VERB.match(text, at)) else []
        ) == _spans([m] if (m := _NAME_VERB_LISTED.match(text, at)) else [])


def _verb_word_end_plain(text: str, at: int) -> int:
    """citations._verb_word_end as it was: the run of lower-case letters looked up."""
    letters = re.compile("[a-z]*").match(text, at + 3)
    end = letters.end() if letters else at + 3
    if text[at:end] in citations._VERB_WORDS and (
        end == len(text) or not citations._is_word_char(text[end])
    ):
        return end
    return 0


def _verbs_after_names_plain(doc: citations._Context) -> list[tuple[int, int]]:
    """citations._verbs_after_names as it was: every space's run and every capital of
    the text found, and each verb word read as its run of letters."""
    text = doc.text
    cp = doc.code_points()
    spaces = doc.spaces()
    after_space = np.flatnonzero(spaces <= len(cp) - 4)
    beyond = doc.beyond_ascii()
    beyond = beyond[beyond <= len(cp) - 4] + 1
    verb_like = citations._VERB_HEADS[
        citations._heads3(cp, np.concatenate((spaces[after_space] + 1, beyond)))
    ]
    beyond = beyond[verb_like[len(after_space) :]]
    after_space = after_space[verb_like[: len(after_space)]]
    run_first = np.flatnonzero(np.diff(spaces, prepend=-2) != 1)
    first = run_first[np.searchsorted(run_first, after_space, "right") - 1]
    token_end = spaces[first]
    token_start = np.where(first > 0, spaces[np.maximum(first - 1, 0)] + 1, 0)
    capitals = np.append(-1, np.flatnonzero(((cp >= 65) & (cp <= 90)) | (cp > 127)))
    named = capitals[np.searchsorted(capitals, token_end) - 1] >= token_start
    named |= cp[np.maximum(token_end - 1, 0)] == 41
    length = token_end - token_start
    initial = cp[np.minimum(token_start, len(cp) - 1)]
    short = (length >= 2) & (length <= 4) & ((initial == 97) | (initial == 104))
    chosen = (token_end > 0) & (named | short)
    out = []
    for b in beyond.tolist():
        e = _verb_word_end_plain(text, b)
        if e and not citations._is_word_char(text[b - 1]):
            out.append((b, e))
    for b, t_start, t_end, name_before in zip(
        (spaces[after_space[chosen]] + 1).tolist(),
        token_start[chosen].tolist(),
        token_end[chosen].tolist(),
        named[chosen].tolist(),
    ):
        token = text[t_start:t_end]
        if name_before or token in ("al", "al."):
            verb_at = b
        elif token in ("has", "had", "have"):
            verb_at = t_start
        else:
            continue
        e = _verb_word_end_plain(text, b)
        if e and citations._VERB_PHRASE.match(text, verb_at) is not None:
            out.append((b, e))
    out.sort()
    return out


_VERB_TEXTS = st.lists(st.sampled_from([
    *_PIECES, "writes", "writesX", "wrote2", "wrotež", "wrote_", "shown", "showné", "shows",
    "showing", "acknowledged", "acknowledgedly", "Ž", "\u2003", "  ", "\n\n", " \t ", "A", "(x)",
]), max_size=30).map("".join)


@settings(max_examples=500, deadline=None)
@given(_VERB_TEXTS)
def test_verbs_after_names_are_the_plain_ones(text: str) -> None:
    doc = _context(text)
    assert citations._verbs_after_names(doc) == _verbs_after_names_plain(doc)


@settings(max_examples=500, deadline=None)
@given(_VERB_TEXTS)
def test_verb_words_read_whole_are_the_runs_of_letters(text: str) -> None:
    for at in range(len(text) - 2):
        if re.match("[a-z]{3}", text[at : at + 3]):
            assert citations._verb_word_end(text, at) == _verb_word_end_plain(text, at)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=6))
def test_alnum_pattern_is_what_str_isalnum_says(text: str) -> None:
    assert (citations._ALNUM.search(text) is not None) == any(c.isalnum() for c in text)


def _heads3_plain(cp: np.ndarray, at: np.ndarray) -> np.ndarray:
    """citations._heads3 as it was: 0 where the three letters are not lower-case ASCII."""
    letters = [cp[at + k] - np.uint32(97) for k in range(3)]
    lower = (letters[0] < 26) & (letters[1] < 26) & (letters[2] < 26)
    head = (letters[0] + 1) | ((letters[1] + 1) << 5) | ((letters[2] + 1) << 10)
    return np.where(lower, head, 0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0, 32, 65, 90, 95, 96, 97, 98, 110, 115, 119, 122, 123, 126,
                                 127, 128, 255, 0x2026, 0x10FFFF]), min_size=3, max_size=20))
def test_heads_are_packed_as_they_were(codes: list[int]) -> None:
    cp = np.array(codes, dtype=np.uint32)
    at = np.arange(len(codes) - 2)
    plain = _heads3_plain(cp, at)
    fast = citations._heads3(cp, at)
    assert (fast < 1 << 15).all()
    assert (fast[plain > 0] == plain[plain > 0]).all()
    assert (citations._VERB_HEADS[fast] == citations._VERB_HEADS[plain]).all()
    # Elsewhere a letter's five bits hold no letter (1 to 26), so it packs no three letters.
    other = fast[plain == 0]
    no_letter = np.zeros(len(other), dtype=bool)
    for shift in (0, 5, 10):
        bits = (other >> shift) & 31
        no_letter |= (bits == 0) | (bits > 26)
    assert no_letter.all()


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_name_starts_are_where_the_name_patterns_may_begin(text: str) -> None:
    starts = {m.start() for m in citations._NAME_START.finditer(text)}
    for pattern in (citations._NAME_VERB, citations._NARRATIVE_YEAR):
        for k in range(len(text)):
            if k not in starts:
                assert pattern.match(text, k) is None, k


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_as_words_near_spaces_hold_every_match(text: str) -> None:
    at = citations._as_words(_context(text))
    for pattern in (citations._AS_VERB, citations._AS_BY):
        assert _spans(citations._matches_at(pattern, text, at)) == _spans(
            list(pattern.finditer(text))
        )


def _as_words_plain(doc: citations._Context) -> list[int]:
    """citations._as_words as it was: the places two characters back tried first."""
    cp = doc.code_points()
    after = np.concatenate((doc.spaces(), doc.beyond_ascii()))
    at = after[after >= 2] - 2
    at = at[citations._AS_SECOND[np.minimum(cp[at + 1], 128)]]
    at = at[citations._AS_FIRST[np.minimum(cp[at], 128)]]
    in_word = citations._WORD_ASCII[np.minimum(cp[at - 1], 128)] & (at > 0)
    return sorted(at[~in_word].tolist())


@settings(max_examples=300, deadline=None)
@given(_TEXTS | st.text(alphabet="asAS ſ\té_1", max_size=8))
def test_as_words_read_from_the_s_are_the_plain_ones(text: str) -> None:
    doc = _context(text)
    assert citations._as_words(doc) == _as_words_plain(doc)


def _after_as_plain(text: str, starts: list[int]) -> tuple[list[int], list[int]]:
    """citations._after_as as it was: the white space and the word read a character at a
    time."""
    verb: list[int] = []
    by: list[int] = []
    n = len(text)
    for at in starts:
        j = at + 2
        while j < n and text[j] in " \t\n\r\f\v":
            j += 1
        if j >= n:
            continue
        c = text[j]
        if c not in "abcdefghijklmnopqrstuvwxyz":
            verb.append(at)
            if not c.isascii() or c < "!":
                by.append(at)
            continue
        k = j + 1
        while k < n and text[k] in "abcdefghijklmnopqrstuvwxyz":
            k += 1
        word = text[j:k]
        if word in citations._PARTICLES:
            verb.append(at)
        if word in citations._AS_BY_WORDS:
            by.append(at)
    return verb, by


@settings(max_examples=500, deadline=None)
@given(_TEXTS | st.text(alphabet="as A\t\n\x0bé\x01vdnotedby\u00a0\u2003\x1c(1Ø", max_size=16)
       | st.lists(st.sampled_from([
           "as", "As", " ", "\u00a0", "\n", "noted", "shown", "put", "by", "Smith", "Lee", "van",
           "Gogh", "Émile", "the", "(1999)", "argues", "said", "says", ",", "1", "\x1c",
       ]), max_size=12).map("".join))
@example("As noted by Smith, it was. as shown by Lee (1999)")
@example("as van Gogh says, and as\u00a0Émile said")
def test_words_after_as_find_the_matches_they_found(text: str) -> None:
    # The starts kept are fewer than they were, and the patterns find the same there.
    starts = list(range(len(text)))
    verb, by = citations._after_as(text, starts)
    verb_plain, by_plain = _after_as_plain(text, starts)
    assert set(verb) <= set(verb_plain) and set(by) <= set(by_plain)
    for pattern, kept, plain in ((citations._AS_VERB, verb, verb_plain),
                                 (citations._AS_BY, by, by_plain)):
        assert _spans(citations._matches_at(pattern, text, kept)) == _spans(
            citations._matches_at(pattern, text, plain)
        )


def test_white_space_skipped_after_as_is_that_of_the_regex_module() -> None:
    every = "".join(map(chr, range(0x110000)))
    spaces = re.compile(f"[{citations._REGEX_SPACE}]")
    assert [m.start() for m in spaces.finditer(every)] == [
        m.start() for m in regex.finditer(r"\s", every)
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab A.'’-\t\n é,ǅ", max_size=14), st.data())
def test_word_back_is_the_regex_search(text: str, data: st.DataObject) -> None:
    end = data.draw(st.integers(0, len(text)))
    lo = data.draw(st.integers(0, end))
    m = citations._WORD_BACK.search(text, lo, end)
    assert citations._word_back(text, lo, end) == ((m.start(), m.group(1)) if m else None)


# ---------------------------------------------------------------------------------------
# Parenthetical and numeric citations, and the marks' last touches


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([
    "Smith", "smith", "2004", "p. 12", "12", " ", ", ", "; ", "the", "van", "der", "ibid.",
    "Ibid", "id.", "see ", "e.g. ", "“Title”", "'t'", "*T*", "_T_", "\u00a0", "é", "n.d.",
    "in press", "et al.", "and", "&", "WHO", "ft", "mm", "Abbott", "Ødegaard",
]), min_size=1, max_size=8).map("".join))
def test_contents_without_a_capital_or_title_mark_cite_no_work(inner: str) -> None:
    text = f"A claim ({inner})."
    doc = _context(text)
    m = citations._PAREN.search(text)
    if m is None or citations._CITES_SOMETHING.search(text, *m.span(1)) is not None:
        return
    works = citations._split_works(text, *m.span(1))
    assert all(
        citations._parse_work(doc, text, s, e, m.start(), m.end(), len(works)) is None
        for s, e in works
    )


def _parse_work_plain(
    doc: citations._Context, text: str, s: int, e: int, paren_start: int, paren_end: int,
    n_works: int,
) -> tuple[citations.CitationMark, bool] | None:
    """citations._parse_work as it was: every pattern tried, the prefix and suffix
    looked for in every work."""
    ms, me = (paren_start, paren_end) if n_works == 1 else (s, e)
    prefix = citations._PREFIX.match(text, s, e)
    body_start = prefix.end() if prefix else s
    suffix = (
        citations._SUFFIX.search(text, body_start, e)
        if text.find(",", body_start, e) >= 0 else None
    )
    body_end = suffix.start() if suffix else e
    if body_start >= body_end:
        return None
    first = text[body_start]
    for kind, pattern in citations._WORKS:
        if first.isascii() and first not in citations._WORK_FIRST[kind]:
            continue
        m = pattern.fullmatch(text, body_start, body_end)
        if m is None:
            continue
        groups = m.groupdict()
        authors = citations._split_names(groups.get("authors"))
        if groups.get("authors") is not None and not authors:
            return None
        title = citations._clean_title(groups.get("title"))
        year = citations._norm_space(groups.get("year"))
        pages = citations._norm_space(groups.get("pages"))
        if kind == "ibid":
            return citations.CitationMark(ms, me, text[ms:me], "parenthetical",
                                          pages=pages), False
        if title is not None and not title[:1].isupper() and not title[:1].isdigit():
            return None
        after_quote = doc.follows_quote(paren_start)
        at_end = doc.ends_sentence(paren_end)
        if (
            kind == "page"
            and not citations._PAGE_PREFIX_RE.match(pages or "")
            and not (after_quote or citations._is_known(doc, authors)
                     or (at_end and citations._rare(doc, authors)))
        ):
            return None
        if kind == "title" and year is None and pages is None and not (
            citations._title_case(title or "")
            and (after_quote or (at_end and len((title or "").split()) > 1))
        ):
            return None
        tentative = False
        if kind == "year" and doc.weigh_doubts:
            early = year is not None and year[:1].isdigit() and int(year[:4]) < 1800
            tentative = early or any(doc.lower_word(a.split()[-1].casefold()) for a in authors)
        if kind == "name":
            verdict = citations._lone_name(doc, authors, after_quote, at_end, paren_start)
            if n_works > 1 or verdict is None:
                return None
            tentative = verdict == "tentative"
        mark = citations.CitationMark(ms, me, text[ms:me], "parenthetical", authors, year,
                                      title, pages)
        return mark, tentative
    return None


# A cited work: a prefix, names, a separator, a year, locator or title, and a suffix,
# each perhaps missing or odd.
_WORK = st.tuples(
    st.sampled_from(["", "see ", "ſee ", "See also ", "cf. ", "e.g., ", "quoted in ",
                     "as cited in ", "also ", "seen "]),
    st.sampled_from(["", "Smith", "Lee", "van Berg", "WHO", "Ødegaard", "Smith and Lee",
                     "Smith et al.", "the", "Brown, Lee & Kim", "ibid.", "Id."]),
    st.sampled_from(["", " ", ", ", ": ", "\n"]),
    st.sampled_from(["", "2004", "1999a", "n.d.", "n. d.", "in press", "forthcoming", "1750",
                     "p. 12", "pp. 3-5", "ch. iv", "p.iv", "§ 2", "§iv", "12", "٣", "“Title”",
                     "\"Title\"", "'T'", "‘T’", "«T»", "*Title*", "_T_", "2004, p. 3",
                     "2004: 5", "“Title,” 4", "é"]),
    st.sampled_from(["", ", emphasis added", ", trans. mine", ", my emphasis",
                     ", Emphasis Added", ", ADAPTED", ", translation.", ",\u00a0modified",
                     ", 12", ", X", " "]),
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_WORK, min_size=1, max_size=3).map("; ".join),
       st.sampled_from(["", "“A quoted line,” ", "A plain claim "]),
       st.sampled_from([".", " and more.", ""]))
def test_works_parsed_with_shortcuts_are_the_plain_ones(
    inner: str, before: str, after: str
) -> None:
    text = f"{before}({inner}){after}"
    _assert_works_parse_as_plain(text)


@settings(max_examples=1500, deadline=None)
@given(
    st.sampled_from(["(", "; ", "see ", "\n", "x", "-", "'", "é"]),
    st.sampled_from(["Smith", "Abbott", "See", "The", "De", "Ab", "McDonald", "SMITH", "Smith-Lee",
                     "Émile", "A", "smith", "Ødegaard", "Bennett", "Rand", "Also", "May"]),
    st.sampled_from([" ", "\n", "\t", "  ", ",", ", ", "", "\u00a0", ": "]),
    st.sampled_from(["2004", "1499", "1500", "1999", "2099", "2100", "19999", "2004a", "204",
                     "١٩٩٩"]),
    st.sampled_from(["", ", p. 12", ", pp. 3-5", ",p.12", ", p.  7–9", ", p. 12a", ", pp. 1999-2000",
                     ", p. 3, 5", ": 12", ", p.\n4", ", 12", ", p. 4-", ", P. 4", ", ch. 2",
                     ", p. 5 ff.", ", 2005", ", p. 3—4", " "]),
)
def test_plain_years_are_matched_as_the_year_pattern_matches_them(
    before: str, name: str, gap: str, year: str, page: str
) -> None:
    work = f"{name}{gap}{year}{page}"
    text = f"{before}{work})"
    start, end = len(before), len(before) + len(work)
    plain = citations._plain_year(text, start, end)
    if plain is not None:
        pattern = dict(citations._WORKS)["year"]
        m = pattern.fullmatch(text, start, end)
        assert m is not None and (m["authors"], m["year"], m["pages"]) == plain
    # And the whole work, parsed with the shortcut, is parsed as it was.
    _assert_works_parse_as_plain(f"A claim ({work}).")
    if before == "(" and gap == " " and name in ("Smith", "Abbott") and year == "2004":
        assert (plain is not None) == (page in ("", ", p. 12", ", pp. 3-5", ",p.12", ", p.  7–9"))


def _assert_works_parse_as_plain(text: str) -> None:
    """Every work of every parenthesis of ``text`` parses as ``_parse_work_plain`` does."""
    doc = _context(text)
    for m in citations._PAREN.finditer(text):
        works = citations._split_works(text, *m.span(1))
        for s, e in works:
            assert citations._parse_work(doc, text, s, e, m.start(), m.end(), len(works)) == (
                _parse_work_plain(doc, text, s, e, m.start(), m.end(), len(works))
            )


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(
    st.lists(_WORK, min_size=1, max_size=2).map("; ".join),
    st.sampled_from(["", "“A quoted line,” ", "A plain claim ", "\n\n", "x", "é"]),
    st.sampled_from([". ", " and more. ", "", "\n\n"]),
), min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_works_cited_again_are_parsed_as_the_first_time(
    cited: list[tuple[str, str, str]], rng: random.Random
) -> None:
    # The same works again, elsewhere: their forms are kept from their first parsing.
    cited = cited + [rng.choice(cited) for _ in cited]
    text = "".join(f"{before}({inner}){after}" for inner, before, after in cited)
    _assert_works_parse_as_plain(text)


def _expand_numbers_plain(spec: str) -> tuple[int, ...]:
    numbers: list[int] = []
    for part in citations._RX5.split(spec.strip()):
        bounds = citations._RX6.split(part)
        if len(bounds) == 2:
            lo, hi = int(bounds[0]), int(bounds[1])
            if lo > hi or hi - lo > 50:
                return ()
            numbers.extend(range(lo, hi + 1))
        else:
            numbers.append(int(bounds[0]))
    return tuple(numbers)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["1", "12", "7", "100", "-", "–", " - ", ",", ", ", ";", "; "]),
                min_size=1, max_size=6).map("".join))
def test_one_number_is_read_as_the_list_would_be(inner: str) -> None:
    for m in citations._NUMERIC.finditer(f"See [{inner}]."):
        spec = m.group("nums")
        assert citations._expand_numbers(spec) == _expand_numbers_plain(spec)


def _split_names_plain(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    raw = citations._RX12.sub("", raw.strip())
    names = []
    for part in citations._RX13.split(raw):
        words = part.split()
        while words and words[0].casefold() in citations._NOT_NAMES:
            words = words[1:]
        if not words:
            continue
        if any(w.casefold() in citations._NOT_NAMES for w in words):
            return ()
        names.append(" ".join(words))
    return tuple(names)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["Smith", "Lee", "The", " ", ",", "&", "and", "et", "al",
                                 "al.", "band", "\n", "et al.", "Ett"]), max_size=8).map("".join))
def test_one_name_is_split_as_a_group_would_be(raw: str) -> None:
    assert citations._split_names(raw) == _split_names_plain(raw)


@settings(max_examples=200, deadline=None)
@given(_TEXTS)
def test_superscripts_are_seen_among_the_characters_beyond_ascii(text: str) -> None:
    doc = _context(text)
    cp = doc.code_points()
    expected = bool(((cp == 0xB2) | (cp == 0xB3) | (cp == 0xB9)
                     | ((cp >= 0x2070) & (cp <= 0x2079))).any())
    beyond = cp[doc.beyond_ascii()]
    assert bool(np.isin(beyond, [0xB2, 0xB3, 0xB9, *range(0x2070, 0x207A)]).any()) == expected
    assert doc.spaces().tolist() == [k for k, c in enumerate(text) if ord(c) <= 32]
    assert doc.brackets == [k for k, c in enumerate(text) if c == "["]
    assert doc.md_footnotes == ("[^" in text)


@settings(max_examples=300, deadline=None)
@given(_TEXTS | st.text(alphabet="[]12,;-– !a(:^", max_size=20))
def test_numeric_markers_tried_at_their_brackets_are_the_scanned_ones(text: str) -> None:
    doc = _context(text)
    assert _spans(citations._matches_at(citations._NUMERIC, text, doc.brackets)) == _spans(
        list(citations._NUMERIC.finditer(text))
    )


@settings(max_examples=300, deadline=None)
@given(_TEXTS | st.text(alphabet="a. \t\n>", max_size=20))
def test_paragraph_ends_found_by_position_are_the_set_of_them(text: str) -> None:
    doc = _context(text)
    ends = {citations._strip(text, s, e)[1] if text[e - 1].isspace() else e
            for s, e in doc.paras}
    for end in range(len(text) + 1):
        assert doc._ends_paragraph(end) == (end in ends)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 99), st.integers(0, 99), st.text(max_size=5),
    st.sampled_from(["parenthetical", "narrative", "numeric"]),
    st.lists(st.sampled_from(["Smith", "Lee"]), max_size=2).map(tuple),
    st.sampled_from([None, "2004"]), st.sampled_from([None, "T"]), st.sampled_from([None, "12"]),
    st.lists(st.integers(1, 9), max_size=2).map(tuple),
    st.tuples(st.integers(0, 99), st.integers(0, 99)),
)
def test_marks_built_from_their_slots_are_the_dataclass_ones(
    start: int, end: int, text: str, style: str, authors: tuple[str, ...], year: str | None,
    title: str | None, pages: str | None, numbers: tuple[int, ...], covers: tuple[int, int],
) -> None:
    values = (start, end, text, style, authors, year, title, pages, numbers, covers)
    built = citations._mark(*values)
    plain = citations.CitationMark(*values)
    assert built == plain and hash(built) == hash(plain) and repr(built) == repr(plain)
    assert citations._mark(start, end, text, style) == citations.CitationMark(
        start, end, text, style
    )
    assert dataclasses.astuple(built) == values


def _brackets_plain(text: str) -> tuple[list[int], bool]:
    """citations._Context's brackets and md_footnotes as they were: found with numpy."""
    cp = citations.code_points(text)
    brackets = np.flatnonzero(cp == 91)
    inside = brackets[brackets < len(cp) - 1]
    return brackets.tolist(), bool((cp[inside + 1] == 94).any())


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_brackets_found_with_str_find_are_the_numpy_ones(text: str) -> None:
    for probe in (text, text + "[", text + "[^"):  # (a "[" at the end is followed by nothing)
        doc = _context(probe)
        assert (doc.brackets, doc.md_footnotes) == _brackets_plain(probe)


def _follows_quote_plain(doc: citations._Context, pos: int) -> bool:
    """citations._Context.follows_quote as it was: the whole gap read first."""
    k = bisect.bisect_right(doc.quote_ends, pos) - 1
    if k < 0:
        return False
    gap = doc.text[doc.quote_ends[k] : pos]
    if not all(c.isspace() or c in quotes.QUOTE_MARKS or c in ".,;:!?…" for c in gap):
        return False
    return len(gap) <= citations._QUOTE_GAP or doc.quotations[k].block


@settings(max_examples=300, deadline=None)
@given(_TEXTS | _BLOCK_TEXTS)
def test_quotes_followed_are_the_ones_the_whole_gap_shows(text: str) -> None:
    doc = _context(text)
    for pos in range(len(text) + 1):
        assert doc.follows_quote(pos) == _follows_quote_plain(doc, pos)


def test_a_gap_of_the_longest_length_still_follows_a_quote() -> None:
    # The gap holds the closing mark too.
    for gap in (" ", ", ", " " * 6, " " * 7, " " * 8, " . . . ."):
        text = f"She wrote “the words of it”{gap}(Smith 2004)."
        doc = _context(text)
        pos = text.index("(")
        assert doc.follows_quote(pos) == _follows_quote_plain(doc, pos)
        assert doc.follows_quote(pos) == (1 + len(gap) <= citations._QUOTE_GAP)


class _UnitsPlain:
    """citations._Units as it was: each paragraph split whole, by ``_sentences``, on first
    use; a unit named ``(paragraph, index in the paragraph)``."""

    def __init__(self, text: str, paras: list[tuple[int, int]], scope: str) -> None:
        self.text = text
        self.paras = paras
        self.scope = scope
        self.para_starts = [start for start, _ in paras]
        self._split: dict[int, tuple[list[tuple[int, int]], list[int]]] = {}

    def _of(self, k: int) -> tuple[list[tuple[int, int]], list[int]]:
        found = self._split.get(k)
        if found is None:
            if self.scope == "sentence":
                spans = _sentences_plain(self.text, [self.paras[k]])
            else:
                spans = [citations._strip(self.text, *self.paras[k])]
            found = self._split[k] = (spans, [start for start, _ in spans])
        return found

    def span(self, unit: tuple[int, int]) -> tuple[int, int]:
        return self._of(unit[0])[0][unit[1]]

    def last_starting_at(self, pos: int) -> tuple[int, int] | None:
        k = bisect.bisect_right(self.para_starts, pos) - 1
        if k < 0:
            return None
        j = bisect.bisect_right(self._of(k)[1], pos) - 1
        if j >= 0:
            return k, j
        return (k - 1, len(self._of(k - 1)[0]) - 1) if k > 0 else None

    def previous(self, unit: tuple[int, int]) -> tuple[int, int] | None:
        k, j = unit
        if j > 0:
            return k, j - 1
        return (k - 1, len(self._of(k - 1)[0]) - 1) if k > 0 else None


def _unit_at_plain(units: _UnitsPlain, pos: int) -> tuple[int, int]:
    u = units.last_starting_at(pos)
    if u is not None:
        span = units.span(u)
        if pos < span[1]:
            return span
    return pos, pos + 1


_UNIT_TEXTS = _TEXTS | st.lists(st.sampled_from([
    "Ab", "cd", " ", "  ", "\n", "\n\n", ".", "..", "!", "?", "…", "?!", ". ", ".\n", "p.",
    "Dr.", "e.g.", "”", ")", "[1]", "^2", "²", "\u2003", "X", "1", "é", "\t",
]), max_size=30).map("".join)


@settings(max_examples=500, deadline=None)
@given(_UNIT_TEXTS, st.sampled_from(["sentence", "paragraph"]))
def test_units_found_around_a_position_are_those_of_the_split_paragraphs(
    text: str, scope: str
) -> None:
    paras = citations.paragraphs(text)
    # Each position asked in a fresh object, and all of them in one (as they accumulate).
    shared = citations._Units(text, paras, scope)
    plain = _UnitsPlain(text, paras, scope)
    for pos in range(-1, len(text) + 2):
        for units in (citations._Units(text, paras, scope), shared):
            u, old = units.last_starting_at(pos), plain.last_starting_at(pos)
            assert (u is None) == (old is None)
            while u is not None and old is not None:
                assert (u[0], units.span(u)) == (old[0], plain.span(old))
                u, old = units.previous(u), plain.previous(old)
                assert (u is None) == (old is None)
    if paras:
        assert shared.span(citations._Units(text, paras, scope).first()) == plain.span((0, 0))


def _covers_plain(doc: citations._Context, mark: citations.CitationMark) -> tuple[int, int]:
    """citations._Context.covers as it was: the unit before the citation's always read,
    and each paragraph split whole (``_UnitsPlain``)."""
    units = _UnitsPlain(doc.text, doc.paras, doc.scope)

    def unit_at(pos: int) -> tuple[int, int]:
        return _unit_at_plain(units, pos)

    if not doc.paras:
        return mark.start, mark.end
    u = units.last_starting_at(mark.start) or (0, 0)
    lead = doc.text[units.span(u)[0] : mark.start]
    before = units.previous(u)
    if mark.style != "narrative" and before is not None and not any(c.isalnum() for c in lead):
        u, before = before, units.previous(before)
    start, end = units.span(u)
    earliest = units.span(before)[0] if before is not None else start
    if mark.style != "narrative":
        k = bisect.bisect_right(doc.quote_ends, mark.start) - 1
        if k >= 0 and doc.quote_ends[k] >= earliest:
            start = min(start, unit_at(doc.quotations[k].start)[0])
    for quote in doc._quotes_from(start, end):
        end = max(end, unit_at(quote.end - 1)[1])
    if doc.text[start:end].rstrip().endswith(":"):
        nxt = bisect.bisect_left(doc.quote_starts, end)
        if nxt < len(doc.quote_starts) and not doc.text[end : doc.quote_starts[nxt]].strip(
            " \t\n\r>\"'“‘«"
        ):
            for quote in doc._quotes_from(doc.quote_starts[nxt], doc.quote_starts[nxt] + 1):
                end = max(end, unit_at(quote.end - 1)[1])
    return start, max(end, mark.end)


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.sampled_from(["sentence", "paragraph"]))
def test_what_a_citation_covers_is_what_it_covered(text: str, scope: str) -> None:
    quotations, _, paras = quotations_and_paragraphs(text)
    doc = citations._Context(text, scope, quotations, paras)
    marks = find_citations(text, scope=scope, quotations=quotations, paras=paras)
    # And citations right after each quotation, and at the start of each paragraph.
    spans = [(m.start, m.end) for m in marks] + [
        (at, min(at + 2, len(text)))
        for at in [q.end + 1 for q in quotations] + [s for s, _ in paras]
        if at < len(text)
    ]
    for start, end in spans:
        for style in ("parenthetical", "narrative"):
            probe = citations.CitationMark(start, end, text[start:end], style)
            assert doc.covers(probe) == _covers_plain(doc, probe)


def _fill_titles_plain(
    marks: list[citations.CitationMark], references: list[citations.CitationMark]
) -> list[citations.CitationMark]:
    """citations._fill_titles as it was, before the marks were given what they cover."""
    by_name: dict[str, list[citations.CitationMark]] = {}
    for ref in references:
        if ref.authors and ref.title:
            name = citations._fold(ref.authors[0])
            for key in {name, name.split()[-1]} if name else ():
                by_name.setdefault(key, []).append(ref)
    if not by_name:
        return marks
    out = []
    for mark in marks:
        if mark.title is None and mark.authors and mark.style in ("parenthetical", "narrative"):
            found = by_name.get(citations._fold(mark.authors[0]), [])
            if mark.year:
                year = mark.year.casefold()
                exact = [r for r in found if r.year and r.year.casefold() == year]
                loose = [r for r in found if r.year and r.year[:4] == year[:4]]
                found = exact or ([] if year[-1:].isalpha() else loose)
            if len(found) == 1:
                mark = dataclasses.replace(
                    mark, year=mark.year or found[0].year, title=found[0].title
                )
        out.append(mark)
    return out


_CITED_NAMES = st.sampled_from(
    [(), ("Smith",), ("Lee",), ("Jane Smith",), ("Smith", "Lee"), ("É",)]
)
_CITED_YEARS = st.sampled_from([None, "2004", "2004a", "2004b", "1999", "n.d."])
_CITED_MARKS = st.lists(st.builds(
    lambda style, authors, year, title, k: citations.CitationMark(
        k, k + 5, "x" * 5, style, authors, year, title
    ),
    st.sampled_from(["parenthetical", "narrative", "numeric"]), _CITED_NAMES, _CITED_YEARS,
    st.sampled_from([None, "A Title"]), st.integers(0, 50),
), max_size=6)


@settings(max_examples=300, deadline=None)
@given(_CITED_MARKS, _CITED_MARKS, st.data())
def test_titles_filled_with_covers_are_the_plain_ones(
    marks: list[citations.CitationMark],
    references: list[citations.CitationMark],
    data: st.DataObject,
) -> None:
    references = [dataclasses.replace(r, style="reference") for r in references]
    covers = [data.draw(st.tuples(st.integers(0, 9), st.integers(10, 99))) for _ in marks]
    assert citations._fill_titles(marks, references, covers) == [
        dataclasses.replace(m, covers=span)
        for m, span in zip(_fill_titles_plain(marks, references), covers)
    ]


def test_marks_remade_are_replaced_marks() -> None:
    mark = citations.CitationMark(3, 9, "(Smith)", "parenthetical", ("Smith",), "2004",
                                  None, "12", (), (0, 20))
    assert citations._remade(mark, ("Lee",), None, "T", (1, 2)) == dataclasses.replace(
        mark, authors=("Lee",), year=None, title="T", covers=(1, 2)
    )


@settings(max_examples=200, deadline=None)
@given(_TEXTS, _TEXTS)
def test_doubtful_marks_are_weighed_only_where_they_can_be_dropped(
    body: str, entries: str
) -> None:
    # With a reference list or notes every doubtful mark counts, so not telling them
    # apart there changes nothing.
    text = body + "\n\nReferences\n\nSmith, J. (2004). *A Title*.\n" + entries
    quotations, _ = find_quotations(text)
    found = find_citations(text, quotations=quotations)
    original = citations._Context.__init__

    def weighing(self: citations._Context, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        self.weigh_doubts = True

    citations._Context.__init__ = weighing  # type: ignore[method-assign]
    try:
        weighed = find_citations(text, quotations=quotations)
    finally:
        citations._Context.__init__ = original  # type: ignore[method-assign]
    assert found == weighed


# ---------------------------------------------------------------------------------------
# Resolving by metadata


def _title_similarity_plain(a: str, b: str) -> float:
    """citations._title_similarity as it was: the words of each form counted each time."""

    def keys(title: str) -> list[str]:
        out: list[str] = []
        for variant in (title, citations._SUBTITLE.split(title)[0]):
            key = citations._ARTICLE.sub("", citations._fold(variant))
            if key and key not in out:
                out.append(key)
        return out

    best = 0.0
    for x in keys(a):
        for y in keys(b):
            if x == y:
                return 100.0
            shorter = min(len(x.split()), len(y.split()))
            score = fuzz.token_set_ratio(x, y) if shorter >= 2 else fuzz.ratio(x, y)
            best = max(best, score)
    return best


def _score_plain(mark: citations.CitationMark, doc: Document) -> float:
    """citations._score as it was: everything read from the mark for every source."""
    stem_tokens = citations._stem_tokens(doc)
    score = 0.0
    if mark.authors:
        wanted = [citations._fold(a).split()[-1] for a in mark.authors if citations._fold(a)]
        wanted_full = {citations._fold(a) for a in mark.authors}
        if doc.author:
            have = citations._doc_surnames(doc.author)
            have_full = citations._fold(doc.author)
            if wanted and (wanted[0] in have or wanted_full & {have_full}):
                score += 40
            elif any(w in have for w in wanted):
                score += 25
            else:
                score -= 25
        elif wanted and wanted[0] in stem_tokens:
            score += 30
    year = citations._RX14.match(mark.year or "")
    if year:
        doc_year = citations._RX15.search(doc.date or "")
        if doc_year:
            score += 20 if doc_year.group() == year.group() else -20
        elif year.group() in stem_tokens:
            score += 15
    if mark.title:
        points = 0.0
        if doc.title:
            similarity = _title_similarity_plain(mark.title, doc.title)
            points = 50 if similarity >= 90 else 30 if similarity >= 80 else (
                -10 if similarity < 50 else 0)
        stem = " ".join(t for t in stem_tokens if not t.isdigit())
        if stem and _title_similarity_plain(mark.title, stem) >= 90:
            points = max(points, 40)
        score += points
    return score


_TITLES = st.sampled_from([
    None, "", "Report 9", "The Report", "report 9", "Markets and Their Failures",
    "Markets: A History", "markets", "Les Misérables", "A Tale - Of Two", "Smith 2004",
    "the origin of species", "Origin", "2004",
])
_NAMES = st.sampled_from(["Smith", "Jane Smith", "Smith, Jane", "J. Smith and K. Lee", "Lee",
                          "van Berg", "Ødegaard", "", "World Health Organization"])
_SOURCES = st.lists(
    st.builds(
        Document,
        id=st.sampled_from(["a", "smith-2004", "report_9", "lee 1999 markets", "the-origin"]),
        text=st.just(""),
        title=_TITLES,
        author=st.one_of(st.none(), _NAMES),
        date=st.sampled_from([None, "", "2004", "March 1999", "2004-05-01", "n.d."]),
        path=st.sampled_from([None, "smith_2004.txt", "docs/markets.pdf", "2004.txt"]),
    ),
    max_size=5,
)


@settings(max_examples=600, deadline=None)
@given(
    st.lists(_NAMES, max_size=3).map(tuple),
    st.sampled_from([None, "2004", "2004a", "1999", "n.d.", "in press"]),
    _TITLES,
    _SOURCES,
)
def test_scores_read_once_per_citation_are_the_plain_ones(
    authors: tuple[str, ...], year: str | None, title: str | None, sources: list[Document]
) -> None:
    mark = citations.CitationMark(0, 1, "x", "parenthetical", authors, year, title)
    cited = citations._Cited(mark)
    for doc in sources:
        assert citations._score(cited, doc) == _score_plain(mark, doc)
        if title and doc.title:
            assert citations._title_similarity(title, doc.title) == _title_similarity_plain(
                title, doc.title
            )
