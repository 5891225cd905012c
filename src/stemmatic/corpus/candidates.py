"""Candidate fingerprints: the winnowed n-gram hashes that pair the documents of a corpus.

Every document of a corpus is fingerprinted, but only the documents that share text with
another are aligned, so fingerprinting is most of the work of reading a corpus.  The
aligner's tokenizer (:func:`stemmatic.normalize.tokenize`) does more than fingerprints
need: exact character spans, normalized forms and keys for every token.  Here a text is
lower-cased and split on white space, each distinct piece is normalized once per process
by the same tokenizer (in batches of new pieces), and the content-word ids of a document
are the concatenation of its pieces' ids.  No token spans white space, so the ids, and the
n-gram hashes made from them by :func:`stemmatic.fingerprint.fingerprint`, are those of
the aligner: both sides of a pair can be checked against the fingerprints that paired
them (:func:`stemmatic.corpus.work.align_shared`).  The one difference is a run of number
words across white space ("twenty five"), which the tokenizer merges into one token and
this module leaves as words.
"""

from __future__ import annotations

from itertools import chain

import numpy as np

from stemmatic.fingerprint import fingerprint
from stemmatic.index.store import WINDOW
from stemmatic.normalize import Tokens, tokenize
from stemmatic.settings import Settings

# Distinct white-space-separated pieces remembered per process and setting; beyond this
# the table starts afresh (a corpus has a few million: words with their punctuation).
MAX_PIECES = 2_000_000

# (stem, fold_spelling, fold_numbers, stopwords) -> {piece: ids of its content words}
_PIECES: dict[tuple[bool, bool, bool, bool], dict[str, tuple[int, ...]]] = {}
_EMPTY = np.empty(0, dtype=np.int64)


def candidate_fingerprints(text: str, settings: Settings) -> np.ndarray:
    """The distinct winnowed fingerprints of ``text``, sorted.

    Args:
        text: a document's text.
        settings: ``ngram``, ``stem``, ``stopwords``, ``fold_spelling`` and
            ``fold_numbers`` (as for the aligner).

    Returns:
        Unsigned 64-bit hashes: the n-grams of content words (all words when
        ``settings.stopwords``), winnowed with the index's window
        (:data:`~stemmatic.index.store.WINDOW`).
    """
    ids = content_ids(text, settings)
    if not len(ids):
        # A text made only of stop words still gets fingerprints, as in the aligner.
        ids = tokenize(
            text, stem=settings.stem, spelling=settings.fold_spelling,
            numbers=settings.fold_numbers,
        ).ids
    return np.unique(window_minima(fingerprint(_as_tokens(ids), settings.ngram).hashes, WINDOW))


def content_ids(text: str, settings: Settings) -> np.ndarray:
    """The token ids of the content words of ``text`` in order (all words with
    ``settings.stopwords``), as :func:`~stemmatic.normalize.tokenize` gives them."""
    key = (settings.stem, settings.fold_spelling, settings.fold_numbers, settings.stopwords)
    known = _PIECES.setdefault(key, {})
    # Lower-cased first: the tokenizer folds case anyway, and "The" and "the" then make
    # one piece to normalize, not two.
    pieces = text.lower().split()
    found = list(map(known.get, pieces))
    if None in found:
        if len(known) > MAX_PIECES:
            known.clear()
            found = [None] * len(pieces)
        new = list({p for p, ids in zip(pieces, found, strict=True) if ids is None})
        known.update(zip(new, _piece_ids(new, settings), strict=True))
        found = list(map(known.__getitem__, pieces))
    return np.fromiter(chain.from_iterable(found), dtype=np.uint64)  # type: ignore[arg-type]


def _piece_ids(pieces: list[str], settings: Settings) -> list[tuple[int, ...]]:
    """The content-word ids of each piece, from one call to the tokenizer.

    Pieces are joined by line breaks, which no token crosses and which stop number words
    from merging into one token across pieces.
    """
    joined = "\n".join(pieces)
    tokens = tokenize(
        joined, stem=settings.stem, spelling=settings.fold_spelling, numbers=settings.fold_numbers
    )
    starts = np.cumsum([0] + [len(p) + 1 for p in pieces[:-1]])
    owner = np.searchsorted(starts, tokens.starts, side="right") - 1
    keep = np.ones(len(tokens), dtype=bool) if settings.stopwords else ~tokens.stop
    ids = tokens.ids[keep].tolist()
    bounds = np.searchsorted(owner[keep], np.arange(len(pieces) + 1), side="left").tolist()
    return [tuple(ids[bounds[i] : bounds[i + 1]]) for i in range(len(pieces))]


def window_minima(hashes: np.ndarray, window: int) -> np.ndarray:
    """The smallest hash of every window of ``window`` consecutive hashes.

    These are the hashes :func:`~stemmatic.fingerprint.winnow` keeps; it also says where
    each one is, which a document's set of fingerprints does not need.
    """
    count = len(hashes)
    if window <= 1 or count == 0:
        return hashes
    if count <= window:
        return hashes[np.argmin(hashes)].reshape(1)
    minima = hashes[: count - window + 1].copy()
    for k in range(1, window):
        np.minimum(minima, hashes[k : k + count - window + 1], out=minima)
    return minima


def _as_tokens(ids: np.ndarray) -> Tokens:
    """``ids`` as a token sequence of content words, all that fingerprint() reads."""
    n = len(ids)
    return Tokens("", _EMPTY, _EMPTY, ("",) * n, ("",) * n, ids, np.zeros(n, dtype=bool))
