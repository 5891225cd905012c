"""Quotations in a query: spans set off by quote marks or as block quotations.

Real documents mix quote styles freely, so the *glyph* of a mark says little about its
role.  A mark is taken as an opener or a closer from its context (what stands before and
after it), and a pair is any opener and closer of the same *family*:

* double marks: ``" “ ” „ ‟ ″ ＂`` (so ``”text”``, ``"text”``, ``„text“`` and ``“text″``
  all pair);
* single marks: ``' ‘ ’ ‚ ‛ ′``, which double as apostrophes;
* guillemets ``« »`` in either direction (``«text»``, ``»text«``, ``« text »``);
* single guillemets ``‹ ›``.

Double marks and guillemets are paired with a stack, so pairs nest properly.  Single
marks are paired afterwards, inside the nesting the double marks set up, with the rules
for apostrophes described in :func:`find_quotations`.

A quotation never runs past the end of its paragraph (a blank line), except by the
multi-paragraph convention: every paragraph of a long quotation opens with a mark and
only the last one closes.  It is also never longer than ``max_chars`` (counted from the
latest opening mark), so one unbalanced mark cannot swallow the rest of a document.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from stemmatic.normalize import STOPWORDS
from stemmatic.types import Quotation, slot_builder

_DOUBLE = "double"
_SINGLE = "single"
_GUILLEMET = "guillemet"
_SINGLE_GUILLEMET = "single guillemet"

_FAMILY = {
    '"': _DOUBLE, "“": _DOUBLE, "”": _DOUBLE, "„": _DOUBLE, "‟": _DOUBLE, "″": _DOUBLE,
    "＂": _DOUBLE,
    "'": _SINGLE, "‘": _SINGLE, "’": _SINGLE, "‚": _SINGLE, "‛": _SINGLE, "′": _SINGLE,
    "«": _GUILLEMET, "»": _GUILLEMET,
    "‹": _SINGLE_GUILLEMET, "›": _SINGLE_GUILLEMET,
}
QUOTE_MARKS = frozenset(_FAMILY)

# Low-9 and reversed marks only ever open a quotation.
_OPEN_ONLY = frozenset("„‚‟‛")
# Primes after a digit are feet, inches, minutes or seconds (5′ 10″), not quote marks.
_PRIMES = frozenset("′″")
# Spaces French typography puts inside guillemets.
_GUILLEMET_SPACES = frozenset(" \u00a0\u202f\u2009")

# What may stand right before an opening mark, besides whitespace and other quote marks.
_OPEN_BEFORE = frozenset("([{<—–-‐‑/\\:;,=*_~|")
# What may stand right after a closing mark, besides whitespace and other quote marks.
_CLOSE_AFTER = frozenset(".,;:!?)]}>—–-‐‑/\\…*_~|[¹²³⁴⁵⁶⁷⁸⁹⁰^")

# A single mark before these words is an elision, not an opening mark: 'tis, 'em,
# 'cause, the '90s.  A following quote mark rules the elision out, so ‘round’ stays a
# quotation.
_ELISION = re.compile(
    r"(?:tis|twas|twere|twill|twould|em|cause|cos|coz|til|bout|nuff|net|ol|ole|n|s|t|"
    r"\d\d(?=s|['’]s))"
    r"(?![\w'’‘])",
    re.IGNORECASE,
)
_ELIDED_YEAR = re.compile(r"\d\d(?!\d)")
# "rock 'n' roll": both marks around the n are apostrophes.
# (The mark comes first so that the scan for it runs fast; the lookbehind then checks
# the white space before it.)
_N_ELISION = re.compile(r"['’‘](?<=\s['’‘])n['’](?=\s)", re.IGNORECASE)

# The context of a mark, read from the characters around it (white space is what
# str.isspace says it is; tests/test_query_side_speed.py holds these rules as patterns):
# * it may open after the start of the text, white space, a quote mark or one of
#   _OPEN_BEFORE, and before a character that is not white space; a guillemet also
#   before one of _GUILLEMET_SPACES and then such a character;
# * it may close (unless it opens only) after a character that is not white space nor an
#   opening bracket, and before the end, white space, a quote mark or one of
#   _CLOSE_AFTER; a guillemet also after such a character and one of _GUILLEMET_SPACES.
_MAY_OPEN_AFTER = _OPEN_BEFORE | QUOTE_MARKS
_MAY_CLOSE_BEFORE = _CLOSE_AFTER | QUOTE_MARKS
_NO_CLOSE_AFTER = frozenset("([{<")

# Words that typically follow a closing quote mark and rarely follow a possessive
# apostrophe; "the workers’ rights" is possessive, "‘the workers’ are" is a quotation.
_FOLLOWS_CLOSER = STOPWORDS | frozenset(
    """said says say asked asks replied replies wrote writes added adds noted notes
    argued argues claimed claims told tells explained explains continued continues""".split()
)
_NEXT_WORD = re.compile(r"\s+([\w]+)")

# A paragraph break: a blank line (a line of only ">" counts, inside a Markdown quote).
_PARAGRAPH_BREAK = re.compile(r"\n(?:[ \t\r\f\v>]*\n)+")
_CONTENT_START = re.compile(r"[\s>]*")
_TEXT_CHAR = re.compile(r"[^\s>]")
_BODY_END = re.compile(r"[.!?:;…\"”’)]\s*\Z")
_MD_QUOTE_RUN_LINE = re.compile(r"^[ ]{0,3}>[^\n]*", re.MULTILINE)
_LEADING_SPACE = re.compile(r"\s*")
_MD_QUOTE_PREFIX = re.compile(r"[ ]{0,3}(?:>[ \t]?)+[ \t]*")
_LIST_ITEM = re.compile(r"\s*(?:[-*+•]\s|\d{1,3}[.)]\s)")
_WORD = re.compile(r"[^\W\d_]{2,}")

# Documents whose paragraphs are single long lines (no hard wrapping) use one newline
# between paragraphs; a line this long cannot come from hard-wrapped text.
_LONG_LINE = 150
# The longest quotation that may end at a possessive-like mark ("the boss’ car").
_MAX_WEAK_SPAN = 150
# Deeper indentation than this on a single line is centring, not a block quotation.
_CENTRED = 16
_MAX_WARNINGS = 20


@dataclass(slots=True)
class _Mark:
    """A quote mark and the roles its context allows."""

    pos: int
    char: str
    family: str
    can_open: bool
    can_close: bool
    para: int
    context: int = -1  # index of the innermost double-mark pair around a single mark
    cap_from: int = 0  # where max_chars is counted from (moves on a paragraph reopen)


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into paragraphs.

    Paragraphs are separated by blank lines (a line of only ``>`` counts as blank, so a
    Markdown quotation can hold several paragraphs).  In a document that is not hard
    wrapped, where most of the text stands in lines longer than 150 characters, every
    newline ends a paragraph.

    Args:
        text: the document text.

    Returns:
        ``(start, end)`` spans of the non-blank paragraphs, in order.
    """
    newlines = _newlines(code_points(text))
    return _paragraphs(text, _unwrapped(newlines, len(text)), newlines)


def _paragraphs(text: str, unwrapped: bool, newlines: np.ndarray) -> list[tuple[int, int]]:
    """The paragraphs of ``text``, whose newlines stand at ``newlines``."""
    if unwrapped:
        # The lines, as a multi-line ``^[^\n]*`` would find them.
        ends = newlines.tolist()
        pieces = zip([0, *(newlines + 1).tolist()], [*ends, len(text)])
    else:
        starts, ends = [0], []
        for m in _PARAGRAPH_BREAK.finditer(text):
            ends.append(m.start())
            starts.append(m.end())
        ends.append(len(text))
        pieces = zip(starts, ends)
    # A lone ">" or whitespace line is not a paragraph.  (Most paragraphs begin with a
    # character of text, one that _TEXT_CHAR matches, which settles it without the
    # search; its \s is what str.isspace says.)
    return [
        (start, end)
        for start, end in pieces
        if start < end
        and (
            ((c := text[start]) != ">" and not c.isspace())
            or _TEXT_CHAR.search(text, start, end) is not None
        )
    ]


def _unwrapped(newlines: np.ndarray, length: int) -> bool:
    """Whether most of a text of ``length`` characters, whose newlines stand at
    ``newlines``, stands in lines too long for hard-wrapped text."""
    # The lines run between the newlines, and from the start and to the end of the
    # text.  (np.diff with prepend and append is slow for a short text.)
    bounds = np.empty(len(newlines) + 2, dtype=np.int64)
    bounds[0], bounds[1:-1], bounds[-1] = -1, newlines, length
    lines = bounds[1:] - bounds[:-1] - 1
    total = length - len(newlines)
    return total > 0 and 2 * int(lines[lines > _LONG_LINE].sum()) >= total


def _newlines(cp: np.ndarray) -> np.ndarray:
    """Where the newlines stand in the text of code points ``cp`` (found with numpy, as a
    list of the lines would cost more)."""
    return np.flatnonzero(cp == 10)


def find_quotations(text: str, *, max_chars: int = 3000) -> tuple[list[Quotation], list[str]]:
    """Find the quotations in ``text``.

    Rules worth knowing:

    * An opening mark stands after the start, whitespace, an opening bracket, a dash or
      another quote mark, and before a non-space; a closing mark stands after a
      non-space and before whitespace, punctuation, another quote mark or the end.
    * A single mark inside a word (don't, it's, rock'n'roll) or before a common elision
      ('tis, 'em, 'cause, the '90s, rock 'n' roll) is an apostrophe.  A trailing mark
      (workers', 6 months’ time) is only a *candidate* closer: after an s, z, x or a
      dropped g ("goin’") and before an ordinary word it is probably possessive, so a
      single-mark quotation ends at the first closer that is not like that, or else at
      the last one within 150 characters, before the next single opening mark or the
      end of the paragraph.  Stray closing single marks are apostrophes and are not
      reported, and neither is a straight ``'`` that opens nothing ('Ali, the 'net).
    * Nested quotations are all returned; the outer one contains the inner ones.
    * A paragraph indented four or more columns deeper than the document's usual
      paragraphs, or a run of Markdown ``>`` lines, is a block quotation
      (``block=True``, empty marks).  Its span runs from the first character of text
      to the last one; for a Markdown quotation of several lines it therefore contains
      the ``>`` markers of the inner lines.  Quote marks inside a block are detected
      as usual, so a block wholly in quote marks also yields an inline quotation.
    * An opening mark without a closer in its paragraph (or within ``max_chars``), and a
      double closing mark without an opener, produce a warning and no quotation.

    Args:
        text: the query text.
        max_chars: the longest quotation, counted from the latest opening mark (a
            multi-paragraph quotation counts from the mark that reopens each paragraph).

    Returns:
        The quotations sorted by start (outer before inner), and warnings.
    """
    quotations, warnings, _ = quotations_and_paragraphs(text, max_chars=max_chars)
    return quotations, warnings


def quotations_and_paragraphs(
    text: str, *, max_chars: int = 3000, cp: np.ndarray | None = None
) -> tuple[list[Quotation], list[str], list[tuple[int, int]]]:
    """:func:`find_quotations` and :func:`paragraphs` of ``text``, which share their work.

    Args:
        text: the text.
        max_chars: the longest quotation (see :func:`find_quotations`).
        cp: ``code_points(text)``, if the caller has it already.

    Returns:
        The quotations, the warnings and the paragraphs.
    """
    if cp is None:
        cp = code_points(text)
    newlines = _newlines(cp)
    unwrapped = _unwrapped(newlines, len(text))
    paras = _paragraphs(text, unwrapped, newlines)
    starts = [s for s, _ in paras]
    # (Most paragraphs begin with their text, where their content starts.)
    content = [
        s if ((c := text[s]) != ">" and not c.isspace()) else _content_start(text, s)
        for s, _ in paras
    ]
    stacked, singles = _marks(text, cp, starts)

    pairs, unbalanced = _pair_stacked(text, stacked, content, max_chars)
    _set_contexts(singles, pairs)
    pair_close = [close.pos for _, close in pairs]
    single_pairs, single_unbalanced = _pair_singles(
        text, singles, paras, content, pair_close, max_chars
    )

    quotations = []
    for opener, closer in pairs + single_pairs:
        start, end = _strip(text, opener.pos + 1, closer.pos)
        if start < end:
            quotations.append(_quotation(start, end, opener.char, closer.char))
    quotations.extend(_blocks(text, paras, unwrapped))
    quotations.sort(key=lambda q: (q.start, -q.end, q.block))
    warnings = _warnings(text, sorted(unbalanced + single_unbalanced, key=lambda m: m.pos))
    return quotations, warnings, paras


# (A long text has hundreds of quotations.)
_quotation = slot_builder(Quotation)


def _content_start(text: str, pos: int) -> int:
    m = _CONTENT_START.match(text, pos)
    return m.end() if m else pos


def _marks(
    text: str, cp: np.ndarray, para_starts: list[int]
) -> tuple[list[_Mark], list[_Mark]]:
    """The quote marks of ``text`` (of code points ``cp``) with their roles: (double and
    guillemet marks, single marks)."""
    at = _mark_positions(cp)
    apostrophes: set[int] = set()
    for m in _N_ELISION.finditer(text) if _mark_before_n(cp, at) else ():
        apostrophes.update((m.start(), m.end() - 1))
    stacked: list[_Mark] = []
    singles: list[_Mark] = []
    para = -1
    next_para = para_starts[0] if para_starts else len(text) + 1
    n_paras = len(para_starts)
    n = len(text)
    for i in at.tolist():
        ch = text[i]
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < n else ""
        can_open = (not before or before in _MAY_OPEN_AFTER or before.isspace()) and bool(
            after
            and (
                not after.isspace()
                or (ch in "«‹" and after in _GUILLEMET_SPACES and i + 2 < n
                    and not text[i + 2].isspace())
            )
        )
        can_close = (
            ch not in _OPEN_ONLY
            and (not after or after in _MAY_CLOSE_BEFORE or after.isspace())
            and bool(before)
            and (
                (not before.isspace() and before not in _NO_CLOSE_AFTER)
                or (ch in "»›" and before in _GUILLEMET_SPACES and i >= 2
                    and not text[i - 2].isspace() and text[i - 2] not in _NO_CLOSE_AFTER)
            )
        )
        if not (can_open or can_close):
            continue
        if ch in _PRIMES and i and text[i - 1].isdigit():
            continue
        family = _FAMILY[ch]
        if family == _SINGLE:
            if i in apostrophes:
                continue
            if can_close:
                can_open = False  # "—’—" and the like: only ever useful as a closer
            elif _is_elision(text, i + 1, ch):
                continue
        while i >= next_para:
            para += 1
            next_para = para_starts[para + 1] if para + 1 < n_paras else len(text) + 1
        mark = _Mark(i, ch, family, can_open, can_close, para, -1, i)
        (singles if family == _SINGLE else stacked).append(mark)
    return stacked, singles


# Which code points (of the first 65536, where all the marks are) are quote marks.
_MARK_CODES = np.zeros(0x10000, dtype=bool)
_MARK_CODES[[ord(c) for c in QUOTE_MARKS]] = True


def code_points(text: str) -> np.ndarray:
    """The code points of ``text`` as a read-only array (numpy finds characters in a
    long text much faster than Python does).

    The quotations and the citations of a text both read them: a caller looking for
    both makes them once and gives them to each.
    """
    # "surrogatepass": extracted text may hold lone surrogates.
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _mark_positions(cp: np.ndarray) -> np.ndarray:
    """Where the quote marks stand in the text of code points ``cp`` (found with numpy:
    a regular expression's scan for a set of characters is slow)."""
    at = np.flatnonzero((cp == 34) | (cp == 39) | (cp > 127))
    return at[_MARK_CODES[np.minimum(cp[at], 0xFFFF)]]


def _mark_before_n(cp: np.ndarray, marks: np.ndarray) -> bool:
    """Whether an "n" follows a single quote mark anywhere in the text of code points
    ``cp``, whose quote marks stand at ``marks``: the scan for "'n'" is slow, and the
    pair rare (str's search for two characters is slow too)."""
    marks = marks[marks < len(cp) - 1]
    single = (cp[marks] == 39) | (cp[marks] == 0x2018) | (cp[marks] == 0x2019)
    after = cp[marks[single] + 1]
    return bool(((after == 78) | (after == 110)).any())


def _is_elision(text: str, pos: int, ch: str) -> bool:
    if _ELISION.match(text, pos):
        return True
    # ’05 and '05 are elided years; a left mark ‘ before digits more likely opens
    # a quotation ("‘20 per cent’").
    return ch != "‘" and _ELIDED_YEAR.match(text, pos) is not None


def _pair_stacked(
    text: str, marks: list[_Mark], content: list[int], max_chars: int
) -> tuple[list[tuple[_Mark, _Mark]], list[_Mark]]:
    """Pair double marks and guillemets with a stack; return (pairs, unbalanced marks)."""
    pairs: list[tuple[_Mark, _Mark]] = []
    unbalanced: list[_Mark] = []
    stack = _Stack()
    para = -1
    for mark in marks:
        if mark.para != para:
            k = stack.topmost(mark.family) if _reopens(mark, para, content) else None
            if k is not None:
                # The multi-paragraph convention: this mark reopens the quotation.
                unbalanced.extend(stack.cut(k + 1))
                stack.restart(mark.pos)
                para = mark.para
                continue
            if stack.items:  # (an empty stack has nothing to cut)
                unbalanced.extend(stack.cut(stack.lo))
            para = mark.para
        if stack.lo < len(stack.items):
            unbalanced.extend(stack.expire(mark.pos - max_chars))
        if mark.can_close:
            k = stack.topmost(mark.family)
            if k is not None and (not mark.can_open or k == len(stack.items) - 1):
                if k == len(stack.items) - 1:
                    pairs.append((stack.pop(), mark))  # (most closers close the top)
                    continue
                # The opener, and above it the marks it closes over, which are unbalanced.
                opener, *above = stack.cut(k)
                unbalanced.extend(above)
                pairs.append((opener, mark))
                continue
            if not mark.can_open:
                # A stray closer right after a digit is an inch mark (a 12" ruler).
                if not (mark.pos and text[mark.pos - 1].isdigit()):
                    unbalanced.append(mark)
                continue
        stack.push(mark)
    unbalanced.extend(stack.cut(stack.lo))
    return pairs, unbalanced


class _Stack:
    """Open marks, with the topmost of each family found in constant time.

    Entries below ``lo`` have expired (they ran past ``max_chars``).  Since ``cap_from``
    never decreases up the stack, expired entries always form its bottom.
    """

    def __init__(self) -> None:
        self.items: list[_Mark] = []
        self.lo = 0
        self.by_family: dict[str, list[int]] = {}

    def push(self, mark: _Mark) -> None:
        self.by_family.setdefault(mark.family, []).append(len(self.items))
        self.items.append(mark)

    def topmost(self, family: str) -> int | None:
        found = self.by_family.get(family)
        if found and found[-1] >= self.lo:
            return found[-1]
        return None

    def pop(self) -> _Mark:
        """Remove and return the top entry (``cut`` of it alone), which has not expired."""
        mark = self.items.pop()
        self.by_family[mark.family].pop()
        self.lo = min(self.lo, len(self.items)) if self.items else 0
        return mark

    def cut(self, k: int) -> list[_Mark]:
        """Remove and return the entries from ``k`` up (those below ``lo`` are gone already)."""
        removed = self.items[max(k, self.lo) :]
        del self.items[k:]
        for positions in self.by_family.values():
            while positions and positions[-1] >= k:
                positions.pop()
        self.lo = min(self.lo, len(self.items))
        if not self.items:
            self.lo = 0
        return removed

    def expire(self, before: int) -> list[_Mark]:
        """Drop the entries whose quotation would start before ``before``."""
        start = self.lo
        while self.lo < len(self.items) and self.items[self.lo].cap_from < before:
            self.lo += 1
        return self.items[start : self.lo]

    def restart(self, pos: int) -> None:
        for mark in self.items[self.lo :]:
            mark.cap_from = pos


def _reopens(mark: _Mark, para: int, content: list[int]) -> bool:
    return mark.can_open and mark.para == para + 1 and mark.pos == content[mark.para]


def _set_contexts(singles: list[_Mark], pairs: list[tuple[_Mark, _Mark]]) -> None:
    """Give each single mark the index of the innermost double-mark pair around it."""
    if not singles:
        return
    # (Every mark stands at a position of its own, which orders the events alone.)
    events = [(o.pos, 1, k) for k, (o, _) in enumerate(pairs)] + [
        (c.pos, -1, k) for k, (_, c) in enumerate(pairs)
    ]
    events.sort(key=itemgetter(0))
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


def _pair_singles(
    text: str,
    marks: list[_Mark],
    paras: list[tuple[int, int]],
    content: list[int],
    pair_close: list[int],
    max_chars: int,
) -> tuple[list[tuple[_Mark, _Mark]], list[_Mark]]:
    """Pair single marks inside the nesting set up by the double marks."""
    pairs: list[tuple[_Mark, _Mark]] = []
    unbalanced: list[_Mark] = []
    used = [False] * len(marks)
    for k, opener in enumerate(marks):
        if used[k] or not opener.can_open:
            continue
        ctx = opener.context
        outer = pair_close[ctx] if ctx >= 0 else len(text)
        para = opener.para
        bound = min(paras[para][1], opener.pos + max_chars, outer)
        strong = weak = None
        j = k + 1
        while True:
            stopped = False
            while j < len(marks) and marks[j].pos < bound:
                mark = marks[j]
                if mark.context == ctx and not used[j]:
                    if mark.can_close:
                        if _possessive_like(text, mark.pos):
                            # A long span to a possessive-like mark is an apostrophe's
                            # doing ("the 'net ... subcultures' makeup").
                            if mark.pos - opener.pos <= _MAX_WEAK_SPAN:
                                weak = j
                        else:
                            strong = j
                            stopped = True
                            break
                    else:
                        stopped = True  # the next quotation at this level begins
                        break
                j += 1
            if stopped or weak is not None or bound != paras[para][1]:
                break
            if (
                j < len(marks)
                and marks[j].context == ctx
                and not marks[j].can_close
                and _reopens(marks[j], para, content)
            ):
                used[j] = True
                para += 1
                bound = min(paras[para][1], marks[j].pos + max_chars, outer)
                j += 1
                continue
            break
        closer = strong if strong is not None else weak
        if closer is None:
            # A lone straight ' is far more often an apostrophe ('Ali, the 'net) than a
            # quotation left open, so it is not worth a warning.
            if opener.char != "'":
                unbalanced.append(opener)
            continue
        used[k] = used[closer] = True
        pairs.append((opener, marks[closer]))
    return pairs, unbalanced


def _possessive_like(text: str, pos: int) -> bool:
    """Whether a closing single mark at ``pos`` could well be a possessive apostrophe."""
    before = text[max(0, pos - 3) : pos].casefold()
    if not (before[-1:] in ("s", "z", "x") or before.endswith("in")):
        return False
    m = _NEXT_WORD.match(text, pos + 1)
    return m is not None and m.group(1).casefold() not in _FOLLOWS_CLOSER


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _blocks(text: str, paras: list[tuple[int, int]], unwrapped: bool) -> list[Quotation]:
    """Block quotations: Markdown ``>`` runs and paragraphs indented deeper than usual."""
    blocks: list[Quotation] = []
    run: list[tuple[int, int]] = []  # (text start, text end) of each ">" line with text
    last_end = -2
    for m in _MD_QUOTE_RUN_LINE.finditer(text) if ">" in text else ():
        if m.start() != last_end + 1:
            _flush_run(text, run, blocks)
        last_end = m.end()
        body = _MD_QUOTE_PREFIX.match(text, m.start(), m.end())
        start, end = _strip(text, body.end() if body else m.start(), m.end())
        if start < end:
            run.append((start, end))
    _flush_run(text, run, blocks)

    # (Most paragraphs begin with text, which settles their indentation; see _indent.)
    indents = [
        (-1 if c == ">" else 0) if not (c := text[start]).isspace() else _indent(text, start, end)
        for start, end in paras
    ]
    if max(indents, default=-1) < 4:
        # The usual indentation is 0 or more, so no paragraph stands 4 columns deeper (most
        # texts).  (The Markdown blocks were found in order.)
        return blocks
    # The usual indentation is that of most body paragraphs; headings (short lines with
    # no closing punctuation) are left out, as they may outnumber indented paragraphs.
    # Where every line is a paragraph, an indent may just be a first-line indent, so
    # the indentation that most of the text has is the usual one.
    counts: Counter[int] = Counter()
    for (start, end), indent in zip(paras, indents):
        if indent >= 0 and (end - start > 80 or _ends_like_body(text, start, end)):
            counts[indent] += end - start if unwrapped else 1
    if not counts:
        counts.update(i for i in indents if i >= 0)
    if not counts:
        return blocks
    top = max(counts.values())
    usual = min(i for i, c in counts.items() if c == top)
    for (start, end), indent in zip(paras, indents):
        if indent < usual + 4 or _LIST_ITEM.match(text, start, end):
            continue
        if indent > usual + _CENTRED and "\n" not in text[start:end].strip():
            continue
        s, e = _strip(text, start, end)
        if _wordy(text[s:e]):
            blocks.append(Quotation(s, e, "", "", block=True))
    blocks.sort(key=lambda q: q.start)
    return blocks


def _ends_like_body(text: str, start: int, end: int) -> bool:
    """``_BODY_END.search(text, start, end)``, tried only where a match can start.

    A match is a closing mark and then white space to the end, so its mark is the last
    character that is not white space (\\s is what ``str.isspace`` says it is).
    """
    last = end
    while last > start and text[last - 1].isspace():
        last -= 1
    return last > start and _BODY_END.match(text, last - 1, end) is not None


def _flush_run(text: str, run: list[tuple[int, int]], blocks: list[Quotation]) -> None:
    if run:
        start, end = run[0][0], run[-1][1]
        if _wordy(text[start:end]):
            blocks.append(Quotation(start, end, "", "", block=True))
        run.clear()


def _wordy(words: str) -> bool:
    # Centred headings, tables and breadcrumbs ("> Home > Databases") are set off too;
    # a quotation has a few words in it.  (Three words are enough: a block may be long.)
    for found, _ in enumerate(_WORD.finditer(words), 1):
        if found == 3:
            return any(c.islower() for c in words)
    return False


def _indent(text: str, start: int, end: int) -> int:
    """The smallest indentation (tabs count 4) of the paragraph's lines; -1 for a ">" quote."""
    first = text[start]
    if not first.isspace():  # (most paragraphs; \s is what str.isspace says it is)
        return -1 if first == ">" else 0
    lead = _LEADING_SPACE.match(text, start, end)
    stop = lead.end() if lead else start
    if stop < end and text[stop] == ">":
        return -1
    if stop == start:
        return 0
    lines = [ln for ln in text[start:end].split("\n") if ln.strip()]
    if not lines:
        return 0
    return min(len(ln.expandtabs(4)) - len(ln.expandtabs(4).lstrip()) for ln in lines)


def _warnings(text: str, marks: list[_Mark]) -> list[str]:
    if not marks:
        return []
    out = []
    line, counted = 1, 0  # (the marks are in order: their lines are counted in one pass)
    for m in marks[:_MAX_WARNINGS]:
        line += text.count("\n", counted, m.pos)
        counted = m.pos
        out.append(f"unbalanced quote mark {m.char} at offset {m.pos} (line {line})")
    if len(marks) > _MAX_WARNINGS:
        out.append(f"... and {len(marks) - _MAX_WARNINGS} more unbalanced quote marks")
    return out
