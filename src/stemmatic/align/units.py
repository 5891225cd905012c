"""A document prepared for alignment: tokens, sentences and the maps between them."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from threading import Lock

import numpy as np

from stemmatic.fingerprint import content_positions
from stemmatic.normalize import Tokens, tokenize
from stemmatic.segment import paragraphs, sentences
from stemmatic.settings import Settings


@dataclass(frozen=True, slots=True)
class Prepared:
    """Tokens of a text grouped into sentences.

    Attributes:
        tokens: all tokens of the text.
        content: mask of the tokens that count as evidence (not stop words, not inside
            spans the extractor excluded).
        sent_start, sent_end: character span of each sentence.
        sent_first, sent_stop: token range ``[first, stop)`` of each sentence.
        sent_par: paragraph index of every sentence (paragraphs are separated by blank
            lines).
        tok_sent: sentence index of every token.
        new_line: True for the tokens that start a line (a line break lies between the
            token and the one before it).
    """

    tokens: Tokens
    content: np.ndarray
    sent_start: np.ndarray
    sent_end: np.ndarray
    sent_first: np.ndarray
    sent_stop: np.ndarray
    sent_par: np.ndarray
    tok_sent: np.ndarray
    new_line: np.ndarray

    @property
    def n_sentences(self) -> int:
        return len(self.sent_start)


def prepare(
    text: str,
    settings: Settings,
    excluded: tuple[tuple[int, int], ...] = (),
    tokens: Tokens | None = None,
) -> Prepared:
    """Tokenize and segment ``text`` (cached: a source is prepared once per process).

    Args:
        text: the text.
        settings: the settings that decide its tokens.
        excluded: spans whose tokens are not evidence (boilerplate the extractor found).
        tokens: the tokens of ``text`` with these settings, computed before (an index
            stores them); used instead of tokenizing ``text`` again.
    """
    key = _key(text, settings, excluded)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    prepared = _prepare(text, settings, excluded, tokens)
    remember(text, settings, excluded, prepared)
    return prepared


def is_prepared(text: str, settings: Settings, excluded: tuple[tuple[int, int], ...]) -> bool:
    """Whether ``text`` is in this process's cache of prepared texts."""
    with _lock:
        return _key(text, settings, excluded) in _cache


def span_tokens(p: Prepared, start: int, end: int) -> tuple[int, int]:
    """The tokens ``[first, stop)`` that lie inside characters ``[start, end)`` of ``p``."""
    first = int(p.tokens.starts.searchsorted(start, side="left"))
    stop = int(p.tokens.ends.searchsorted(end, side="right"))
    return first, max(first, stop)


def spans_tokens(
    p: Prepared, starts: Sequence[int], ends: Sequence[int]
) -> list[tuple[int, int]]:
    """``span_tokens`` of many spans at once (numpy's cost is per call)."""
    firsts = np.searchsorted(p.tokens.starts, np.asarray(starts, dtype=np.int64), side="left")
    stops = np.searchsorted(p.tokens.ends, np.asarray(ends, dtype=np.int64), side="right")
    return [(first, max(first, stop)) for first, stop in zip(firsts.tolist(), stops.tolist())]


def remember(
    text: str, settings: Settings, excluded: tuple[tuple[int, int], ...], prepared: Prepared
) -> None:
    """Put a text prepared elsewhere (in a worker process) in this process's cache."""
    key = _key(text, settings, excluded)
    with _lock:
        if key in _cache:
            return
        _cache[key] = prepared
        _cached_chars[0] += len(text)
        while len(_cache) > 1 and _cached_chars[0] > _CACHE_CHARS:
            old, _ = _cache.popitem(last=False)
            _cached_chars[0] -= len(old[0])


def _key(text: str, settings: Settings, excluded: tuple[tuple[int, int], ...]) -> _Key:
    return (text, settings.stem, settings.fold_spelling, settings.fold_numbers,
            settings.stopwords, excluded)


_CACHE_CHARS = 64_000_000
# Keyed by the text, then the settings that change tokens, then the excluded spans.
_Key = tuple[str, bool, bool, bool, bool, tuple[tuple[int, int], ...]]
_cache: OrderedDict[_Key, Prepared] = OrderedDict()
_cached_chars = [0]
_lock = Lock()


def _prepare(
    text: str,
    settings: Settings,
    excluded: tuple[tuple[int, int], ...],
    tokens: Tokens | None = None,
) -> Prepared:
    if tokens is None:
        tokens = tokenize(
            text, stem=settings.stem, spelling=settings.fold_spelling, numbers=settings.fold_numbers
        )
    n = len(tokens)
    content = np.zeros(n, dtype=bool)
    content[content_positions(tokens, stopwords=settings.stopwords)] = True
    for start, end in excluded:
        content[(tokens.starts >= start) & (tokens.ends <= end)] = False

    spans = _split_at_notes(text, sentences(text))
    sent_start = np.array([s for s, _ in spans], dtype=np.int64)
    sent_end = np.array([e for _, e in spans], dtype=np.int64)
    # Token i belongs to the last sentence starting at or before it.
    tok_sent = np.searchsorted(sent_start, tokens.starts, side="right") - 1
    tok_sent = np.clip(tok_sent, 0, max(len(spans) - 1, 0))
    first = np.searchsorted(tok_sent, np.arange(len(spans)), side="left")
    stop = np.searchsorted(tok_sent, np.arange(len(spans)), side="right")
    breaks = np.array([m.start() for m in _NEWLINE.finditer(text)], dtype=np.int64)
    # A line starts at a token when more line breaks precede it than precede the end of
    # the token before it.
    before = np.searchsorted(breaks, tokens.starts)
    new_line = np.zeros(n, dtype=bool)
    if n > 1:
        new_line[1:] = before[1:] > np.searchsorted(breaks, tokens.ends[:-1])
    par_start = np.array([a for a, _ in paragraphs(text)], dtype=np.int64)
    sent_par = np.maximum(np.searchsorted(par_start, sent_start, side="right") - 1, 0)
    return Prepared(
        tokens, content, sent_start, sent_end, first, stop, sent_par, tok_sent, new_line
    )


_NEWLINE = re.compile("\n")
# A sentence end followed by a superscript note marker ("listeners.¹ In England"): the
# marker closes the sentence, as a closing quote mark would.
_NOTE_END = re.compile(r"[.!?…][\u00b9\u00b2\u00b3\u2070-\u2079]+\s+(?=\w)")
_NOTE_MARK = re.compile(r"[.!?…][\u00b9\u00b2\u00b3\u2070-\u2079]")


def _split_at_notes(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Split sentence spans where a sentence end carries a superscript note marker.

    Sentences are only the units similarity is measured on here, so a missed boundary
    costs a short paraphrase its evidence: the rewritten sentence is diluted by the one
    after it.
    """
    if _NOTE_MARK.search(text) is None:
        return spans
    out: list[tuple[int, int]] = []
    for start, end in spans:
        for match in _NOTE_END.finditer(text, start, end):
            out.append((start, match.start() + len(match.group().rstrip())))
            start = match.end()
        out.append((start, end))
    return out
