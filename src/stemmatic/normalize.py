"""Tokens on a normalized copy of a text, each carrying its span in the original.

Two views are offered:

* :func:`tokenize` splits the *original* text into words and gives each word a normalized
  ``form`` (NFKC, typography, case, British/American spelling, numbers) and a matching
  ``key`` (the form, stemmed when the settings ask for it).  Because every token keeps
  the ``start``/``end`` of the original word, the offset map is exact by construction.
* :func:`fold` gives a character-level normalized copy of a text together with the index
  of the original character each folded character came from.

Normalization never touches the original string.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from operator import attrgetter

import numpy as np
import regex
import Stemmer
import xxhash
from breame.data.spelling_constants import BRITISH_ENGLISH_SPELLINGS

# A token is a run of letters, digits and combining marks, with apostrophes allowed
# between letters (don't, o'clock) and separators allowed inside numbers (3.5, 1,000, 1/3).
# Ideographic and kana characters are one token each, since those scripts use no spaces.
_TOKEN = regex.compile(
    # An editor's bracketed letters at the start of a word ("[s]trike", "[T]he") belong to
    # the word, so the quoted word still matches the source's.
    r"\[\p{L}{1,3}\]\p{L}[\p{L}\p{N}\p{M}]*"
    r"|[\p{Han}\p{Hiragana}\p{Katakana}]"
    r"|\p{N}+(?:[.,/:]\p{N}+)*\p{L}*"
    r"|[\p{L}\p{N}][\p{L}\p{N}\p{M}]*(?:['’ʼ][\p{L}][\p{L}\p{N}\p{M}]*)*"
)

# The same pattern for text without marks, ideographs or non-decimal numerals, in the
# standard library's engine: [^\W_] is a letter or digit, [^\W\d_] a letter.
_FAST_TOKEN = re.compile(
    r"\[[^\W\d_]{1,3}\][^\W\d_][^\W_]*"
    r"|\d+(?:[.,/:]\d+)*[^\W\d_]*"
    r"|[^\W_]+(?:['’ʼ][^\W\d_][^\W_]*)*"
)
_SPECIAL = regex.compile(r"[\p{M}\p{Han}\p{Hiragana}\p{Katakana}\p{No}\p{Nl}]")

# Typographic variants folded before comparison.  NFKC handles ligatures, full-width
# forms and most spaces; these are the marks it leaves alone.
TYPOGRAPHY = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "ʼ": "'", "`": "'", "´": "'",
        "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
        "‹": "'", "›": "'",
        "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
        "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200a": " ",
        "\u200b": "", "\u00ad": "", "\ufeff": "",
    }
)

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves also may might must shall upon""".split()
)

# Words that carry meaning in a comparison even though most stop lists drop them.
NEGATIONS = frozenset({"no", "not", "nor", "never", "none", "nothing", "nobody", "neither"})

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_FRACTIONS = {
    "half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4,
    "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "seventh": 7, "sevenths": 7,
    "eighth": 8, "eighths": 8, "ninth": 9, "ninths": 9, "tenth": 10, "tenths": 10,
}
_NUMBER_WORDS = frozenset(_UNITS) | frozenset(_SCALES)

# The Snowball English stemmer, in C (PyStemmer): the pure-Python port gives the same stems
# (checked over the 89,000 words of the PAN 2013 texts) about twenty times slower, and a
# fresh process tracing against an index stems tens of thousands of new words.
_stemmer = Stemmer.Stemmer("english")


@dataclass(frozen=True, slots=True)
class Folded:
    """A character-level normalized copy of ``original``.

    ``offsets[i]`` is the index in ``original`` of the character that produced
    ``text[i]``; ``offsets[len(text)]`` is ``len(original)``.  So a span ``(a, b)`` of the
    folded text maps back to ``(offsets[a], offsets[b])`` — see :meth:`to_original`.
    """

    original: str
    text: str
    offsets: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        if start >= end:
            pos = self.offsets[start]
            return pos, pos
        # The end maps to just past the original character that produced text[end - 1].
        return self.offsets[start], self.offsets[end - 1] + 1


def fold(text: str, *, case: bool = True) -> Folded:
    """Fold typography, compatibility forms, whitespace runs and (optionally) case.

    Each original character is normalized on its own, so the offset map is exact.
    Runs of whitespace become one space.
    """
    out: list[str] = []
    offsets: list[int] = []
    prev_space = False
    for i, ch in enumerate(text):
        piece = _fold_char(ch, case)
        if not piece:
            continue
        if piece.isspace():
            if prev_space:
                continue
            piece = " "
            prev_space = True
        else:
            prev_space = False
        out.append(piece)
        offsets.extend([i] * len(piece))
    offsets.append(len(text))
    return Folded(text, "".join(out), tuple(offsets))


@lru_cache(maxsize=4096)
def _fold_char(ch: str, case: bool) -> str:
    folded = unicodedata.normalize("NFKC", ch.translate(TYPOGRAPHY)).translate(TYPOGRAPHY)
    if case:
        folded = folded.casefold()
    return folded


def fold_typography(word: str) -> str:
    """NFKC and typographic marks only: what differs after this is more than typography."""
    if word.isascii():  # NFKC leaves ASCII alone; only the backtick is folded
        return word.translate(TYPOGRAPHY)
    return unicodedata.normalize("NFKC", word.translate(TYPOGRAPHY)).translate(TYPOGRAPHY)


def strip_accents(word: str) -> str:
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def american(word: str) -> str:
    """The American spelling of a lower-case British word, or the word itself."""
    return BRITISH_ENGLISH_SPELLINGS.get(word, word)


@dataclass(frozen=True, slots=True)
class Tokens:
    """The words of a text with their normalized forms.

    Attributes:
        text: the original text; ``text[starts[i]:ends[i]]`` is token ``i``.
        starts, ends: spans of the tokens in ``text``.
        forms: normalized forms (typography, case, spelling and numbers folded).
        keys: matching keys: the forms, stemmed if the settings ask for it.
        ids: a stable 64-bit hash of each key (stable across processes and machines).
        stop: True for stop words.
    """

    text: str
    starts: np.ndarray
    ends: np.ndarray
    forms: tuple[str, ...]
    keys: tuple[str, ...]
    ids: np.ndarray
    stop: np.ndarray

    def __len__(self) -> int:
        return len(self.forms)

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Character span of tokens ``first`` to ``last`` inclusive."""
        return int(self.starts[first]), int(self.ends[last])


@dataclass(frozen=True, slots=True)
class _Word:
    form: str
    key: str
    id: int
    stop: bool
    number: bool = False


def normal_form(word: str, *, spelling: bool = True, numbers: bool = True) -> str:
    """The normalized form of one word, as :func:`tokenize` computes it."""
    form = strip_accents(fold_typography(word).casefold())
    if form.startswith("["):
        form = form.replace("[", "").replace("]", "")
    if form.endswith("'s"):
        form = form[:-2]
    if spelling:
        form = american(form)
    if numbers:
        if form in _UNITS:
            form = str(_UNITS[form])
        elif "," in form and form.replace(",", "").isdigit():
            form = form.replace(",", "")
    return form


def _word(raw: str, stem: bool, spelling: bool, numbers: bool) -> _Word:
    cache = _WORDS.setdefault((stem, spelling, numbers), {})
    word = cache.get(raw)
    if word is None:
        if len(cache) > _WORD_CACHE:
            cache.clear()
        word = cache[raw] = _new_word(raw, stem, spelling, numbers)
    return word


def _new_word(raw: str, stem: bool, spelling: bool, numbers: bool) -> _Word:
    return _new_words([raw], stem, spelling, numbers)[0]


def _new_words(raws: list[str], stem: bool, spelling: bool, numbers: bool) -> list[_Word]:
    """Normalize words never seen before, stemming them in one call to the stemmer."""
    forms = [normal_form(raw, spelling=spelling, numbers=numbers) for raw in raws]
    keys = list(forms)
    if stem:
        alpha = [i for i, form in enumerate(forms) if form.isalpha()]
        for i, key in zip(alpha, _stemmer.stemWords([forms[i] for i in alpha])):
            keys[i] = key
    hash_ = xxhash.xxh64_intdigest
    return [
        _Word(form, key, hash_(key.encode()), form in STOPWORDS, raw.casefold() in _NUMBER_WORDS)
        for raw, form, key in zip(raws, forms, keys)
    ]


# Normalized words by surface form, one table per combination of settings.  A plain dict
# lookup per token is what makes tokenizing fast: the vocabulary of a corpus is small.
_WORDS: dict[tuple[bool, bool, bool], dict[str, _Word]] = {}
_WORD_CACHE = 500_000


def token_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the tokens of ``text``.

    Most text has no combining marks, ideographs or non-decimal numerals; for it the
    standard library's faster ``re`` engine finds exactly the spans that the full pattern
    would (a property test checks the two agree).
    """
    if text.isascii() or not any(map(_special, set(text))):
        return [m.span() for m in _FAST_TOKEN.finditer(text)]
    return [m.span() for m in _TOKEN.finditer(text)]


@lru_cache(maxsize=65536)
def _special(ch: str) -> bool:
    return _SPECIAL.match(ch) is not None


def tokenize(
    text: str,
    *,
    stem: bool = True,
    spelling: bool = True,
    numbers: bool = True,
) -> Tokens:
    """Split ``text`` into tokens with normalized forms and exact original spans."""
    if len(text) <= PIECE_CHARS:
        return _tokenize(text, 0, len(text), stem, spelling, numbers)
    # A long text is tokenized a piece at a time: the per-word lists the tokenizer builds
    # cost far more memory than the tokens they become (gigabytes for a 50 MB text).
    parts = [
        _tokenize(text, a, b, stem, spelling, numbers) for a, b in _pieces(text, PIECE_CHARS)
    ]
    return Tokens(
        text,
        np.concatenate([t.starts for t in parts]),
        np.concatenate([t.ends for t in parts]),
        tuple(chain.from_iterable(t.forms for t in parts)),
        tuple(chain.from_iterable(t.keys for t in parts)),
        np.concatenate([t.ids for t in parts]),
        np.concatenate([t.stop for t in parts]),
    )


PIECE_CHARS = 1_000_000


def _pieces(text: str, size: int) -> Iterator[tuple[int, int]]:
    """Spans of about ``size`` characters covering ``text``, cut where no token and no
    run of number words ("twenty five") can straddle the cut."""
    start, n = 0, len(text)
    while n - start > size:
        cut = _cut_after(text, start + size)
        if cut is None:
            break
        yield start, cut
        start = cut
    yield start, n


def _cut_after(text: str, position: int) -> int | None:
    """The start of the first word after ``position`` that follows whitespace and cannot
    continue a number run; None when there is none."""
    for space in _SPACE.finditer(text, position):
        token = _FAST_TOKEN.search(text, space.end(), space.end() + 40)
        head = token.group().casefold() if token else ""
        if head and head not in _NUMBER_WORDS and head not in _FRACTIONS and head != "and":
            return space.end()
    return None


_SPACE = re.compile(r"\s+")


def _tokenize(
    text: str, first: int, stop: int, stem: bool, spelling: bool, numbers: bool
) -> Tokens:
    """The tokens of ``text[first:stop]``, with spans into ``text``."""
    piece = text if (first, stop) == (0, len(text)) else text[first:stop]
    spans = token_spans(piece)
    cache = _WORDS.setdefault((stem, spelling, numbers), {})
    if len(cache) > _WORD_CACHE:
        cache.clear()
    raws = [piece[s:e] for s, e in spans]
    new = list(set(raws).difference(cache))
    cache.update(zip(new, _new_words(new, stem, spelling, numbers)))
    words = list(map(cache.__getitem__, raws))
    if numbers:
        spans, words = _merge_numbers(piece, spans, words)
    n = len(words)
    # fromiter over flat iterables: several times faster than np.array on lists of tuples.
    bounds = np.fromiter(chain.from_iterable(spans), dtype=np.int64, count=2 * n).reshape(n, 2)
    if first:
        bounds += first
    return Tokens(
        text,
        bounds[:, 0].copy(),
        bounds[:, 1].copy(),
        tuple(w.form for w in words),
        tuple(w.key for w in words),
        np.fromiter(map(_ID, words), dtype=np.uint64, count=n),
        np.fromiter(map(_STOP, words), dtype=bool, count=n),
    )


_ID = attrgetter("id")
_STOP = attrgetter("stop")


def _merge_numbers(
    text: str, spans: list[tuple[int, int]], words: list[_Word]
) -> tuple[list[tuple[int, int]], list[_Word]]:
    """Merge runs of number words ("twenty-five", "one third") into one token.

    A run is merged only when it is more than one word, so single number words keep
    their one-to-one token; its form becomes the figure ("25", "1/3").
    """
    starts_at = [i for i, w in enumerate(words) if w.number]
    if not starts_at:
        return spans, words
    out_spans: list[tuple[int, int]] = []
    out_words: list[_Word] = []
    done = 0  # tokens before this index are already in the output
    for i in starts_at:
        if i < done:
            continue
        out_spans.extend(spans[done:i])
        out_words.extend(words[done:i])
        span, word, used = _number_run(text, spans, words, i)
        out_spans.append(span)
        out_words.append(word)
        done = i + used
    out_spans.extend(spans[done:])
    out_words.extend(words[done:])
    return out_spans, out_words


def _number_run(
    text: str, spans: list[tuple[int, int]], words: list[_Word], i: int
) -> tuple[tuple[int, int], _Word, int]:
    """The token(s) starting at number word ``i``: a merged run, or the word itself."""
    n = len(words)
    j = i
    raw_words: list[str] = []
    while j < n:
        raw = text[spans[j][0] : spans[j][1]].casefold()
        if raw in _NUMBER_WORDS or (raw == "and" and raw_words and j + 1 < n):
            if j > i and text[spans[j - 1][1] : spans[j][0]].strip(" -\u2010\u2011") != "":
                break
            raw_words.append(raw)
            j += 1
            continue
        break
    while raw_words and raw_words[-1] == "and":
        raw_words.pop()
        j -= 1
    value = _number_value(raw_words) if raw_words else None
    if value is not None and j < n:
        frac = text[spans[j][0] : spans[j][1]].casefold()
        gap = text[spans[j - 1][1] : spans[j][0]]
        if frac in _FRACTIONS and gap.strip(" -\u2010\u2011") == "" and value < 20:
            form = f"{value}/{_FRACTIONS[frac]}"
            merged = _Word(form, form, xxhash.xxh64_intdigest(form.encode()), False)
            return (spans[i][0], spans[j][1]), merged, j - i + 1
    if value is not None and j - i > 1:
        form = str(value)
        merged = _Word(form, form, xxhash.xxh64_intdigest(form.encode()), False)
        return (spans[i][0], spans[j - 1][1]), merged, j - i
    return spans[i], words[i], 1


def _number_value(words: list[str]) -> int | None:
    total = current = 0
    seen = False
    for w in words:
        if w == "and":
            continue
        if w in _UNITS:
            current += _UNITS[w]
            seen = True
        elif w == "hundred":
            current = max(current, 1) * 100
            seen = True
        elif w in _SCALES:
            total += max(current, 1) * _SCALES[w]
            current = 0
            seen = True
        else:
            return None
    return total + current if seen else None
