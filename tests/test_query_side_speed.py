"""The shortcuts that make the query side of classify (quotations and citations) cheaper
give the same results as the plain code they replace.

Each replaced function is held to its plain form, kept here as a reference, on random
texts made of pieces that exercise it (names, verbs, years, quote marks, headings...).
"""

from __future__ import annotations

import bisect
import dataclasses
import re

import numpy as np
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from stemmatic import citations, quotes
from stemmatic.citations import find_citations
from stemmatic.quotes import find_quotations, quotations_and_paragraphs

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


def _marks_scanned(
    text: str, para_starts: list[int]
) -> tuple[list[quotes._Mark], list[quotes._Mark]]:
    """The plain form of quotes._marks: the context patterns scan the whole text."""
    openers = {m.start() for m in quotes._OPENER.finditer(text)}
    if "«" in text or "‹" in text:
        openers.update(m.start() for m in quotes._GUILLEMET_OPENER.finditer(text))
    closers = {m.start() for m in quotes._CLOSER.finditer(text)}
    if "»" in text or "›" in text:
        closers.update(m.end() - 1 for m in quotes._GUILLEMET_CLOSER.finditer(text))
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


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_marks_tried_at_the_quote_marks_are_the_scanned_ones(text: str) -> None:
    paras = quotes.paragraphs(text)
    starts = [s for s, _ in paras]
    assert quotes._marks(text, starts) == _marks_scanned(text, starts)


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.sampled_from([10, 40, 3000]))
def test_pairing_with_one_cut_is_pairing_with_two(text: str, max_chars: int) -> None:
    paras = quotes.paragraphs(text)
    content = [quotes._content_start(text, s) for s, _ in paras]
    fast = quotes._pair_stacked(text, quotes._marks(text, [s for s, _ in paras])[0], content,
                                max_chars)
    plain = _pair_stacked_plain(text, quotes._marks(text, [s for s, _ in paras])[0], content,
                                max_chars)
    assert fast == plain


@settings(max_examples=300, deadline=None)
@given(_TEXTS | st.text(alphabet=" \t\n>ax", max_size=30))
def test_paragraphs_from_the_lines_are_the_scanned_ones(text: str) -> None:
    assert quotes.paragraphs(text) == _paragraphs_scanned(text)
    assert quotations_and_paragraphs(text)[2] == _paragraphs_scanned(text)
    for start, end in _paragraphs_scanned(text):
        assert quotes._indent(text, start, end) == _indent_plain(text, start, end)


def test_long_lines_make_every_line_a_paragraph() -> None:
    text = ("x" * 200 + "\n") * 3 + "  > \n" + "short\n"
    assert quotes.paragraphs(text) == _paragraphs_scanned(text)
    assert len(quotes.paragraphs(text)) == 4


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="'‘’nN a\"", max_size=12))
def test_a_mark_before_n_is_found_among_the_marks(text: str) -> None:
    cp = quotes._code_points(text)
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
    w = word.group(1) if word else None
    return bool(w) and (len(w) == 1 or w.casefold() in citations._ABBREVIATIONS)


@settings(max_examples=300, deadline=None)
@given(_TEXTS | st.text(alphabet="ab.é!? \nX[1]”", max_size=30))
def test_sentence_ends_tried_at_their_marks_are_the_scanned_ones(text: str) -> None:
    stops = citations._stops(citations._code_points(text))
    for start, end in [*citations.paragraphs(text), (0, len(text))]:
        assert citations._sentence_ends(text, start, end, stops) == [
            m.span() for m in citations._SENTENCE_END.finditer(text, start, end)
        ]
    paras = citations.paragraphs(text)
    assert citations._sentences(text, paras, stops) == citations._sentences(text, paras)
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
