"""The interface the pipeline uses to reach a corpus of sources, and what its stores share.

A store holds source documents and their *winnowed* n-gram fingerprints.  Given the tokens
of a query, :meth:`IndexStore.candidates` ranks the sources sharing the most fingerprints
with it, so that only those few are aligned word by word.

Two stores implement the protocol over the same fingerprint functions defined here, so
they rank alike: :class:`~stemmatic.index.memory.MemoryIndex` (a dict, for tests and for
``trace --sources``) and :class:`~stemmatic.index.duck.DuckIndex` (DuckDB on disk).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

import numpy as np

from stemmatic.fingerprint import fingerprint, winnow
from stemmatic.normalize import Tokens, tokenize
from stemmatic.settings import Settings
from stemmatic.types import Document

# Winnowing window, in n-grams.  A source passage sharing at least WINDOW + ngram - 1
# content words with the query is guaranteed to share a stored fingerprint with it, while
# only about 2 / (WINDOW + 1) of a document's n-grams are stored.  Changing it changes what
# an index holds, so an on-disk index records it and refuses to open under another value.
WINDOW = 4


class AddStatus(StrEnum):
    """What :meth:`IndexStore.add` did with one document."""

    ADDED = "added"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


# Called once per document after it is safely stored (for DuckIndex: after the
# transaction holding it has committed), e.g. to advance a progress bar by len(doc.text).
Progress = Callable[[Document, AddStatus], None]


@dataclass(frozen=True, slots=True)
class AddResult:
    """How many documents an :meth:`IndexStore.add` call added, replaced or left alone.

    A document whose id was already stored is *unchanged* when its text and metadata are
    identical to the stored ones, and *replaced* otherwise.  ``fingerprints`` counts the
    fingerprints written.
    """

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    fingerprints: int = 0

    @property
    def total(self) -> int:
        return self.added + self.replaced + self.unchanged

    def __add__(self, other: AddResult) -> AddResult:
        return AddResult(
            self.added + other.added,
            self.replaced + other.replaced,
            self.unchanged + other.unchanged,
            self.fingerprints + other.fingerprints,
        )


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What a store knows about one source, without its text (for listings).

    ``length`` is in code points of the text, ``tokens`` in words.
    ``added_at`` is an ISO 8601 UTC timestamp.
    """

    id: str
    path: str | None
    title: str | None
    author: str | None
    date: str | None
    format: str
    length: int
    tokens: int
    added_at: str


@runtime_checkable
class IndexStore(Protocol):
    """A corpus of source documents searchable by shared n-gram fingerprints."""

    def add(self, documents: Iterable[Document], *, progress: Progress | None = None) -> AddResult:
        """Store documents with their fingerprints, replacing changed ones with the same id."""
        ...

    def __contains__(self, doc_id: object) -> bool: ...

    def documents(self) -> list[DocumentInfo]:
        """Every stored document's metadata, ordered by id."""
        ...

    def get(self, doc_id: str) -> Document:
        """The stored document, text included.  Raises KeyError when it is not stored."""
        ...

    def load(self, doc_ids: Sequence[str]) -> list[tuple[Document, Tokens | None]]:
        """The stored documents, in the order of ``doc_ids``, each with its tokens
        (:func:`tokens_for`) when the store keeps them, else None.  Raises KeyError
        when one is not stored."""
        ...

    def candidates(self, query_tokens: Tokens, limit: int) -> list[tuple[str, float]]:
        """Up to ``limit`` ``(source id, score)`` pairs sharing fingerprints, best first."""
        ...

    def count(self) -> int:
        """The number of stored documents."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def tokens_for(text: str, settings: Settings) -> Tokens:
    """Tokenize ``text`` the way an index built with ``settings`` does."""
    return tokenize(
        text, stem=settings.stem, spelling=settings.fold_spelling, numbers=settings.fold_numbers
    )


@dataclass(frozen=True, slots=True)
class Fingerprints:
    """The winnowed fingerprints a store keeps for one document.

    ``hashes[k]`` is the n-gram starting at token ``first[k]``; ``tokens`` is the
    document's token count.
    """

    hashes: np.ndarray
    first: np.ndarray
    tokens: int

    def __len__(self) -> int:
        return len(self.hashes)


def document_fingerprints(text: str, settings: Settings) -> Fingerprints:
    """The winnowed n-gram fingerprints stored for a source document."""
    return tokens_fingerprints(tokens_for(text, settings), settings)


def tokens_fingerprints(tokens: Tokens, settings: Settings) -> Fingerprints:
    """The winnowed n-gram fingerprints of a document tokenized by :func:`tokens_for`."""
    kept = winnow(fingerprint(tokens, settings.ngram, stopwords=settings.stopwords), WINDOW)
    return Fingerprints(kept.hashes, kept.first, len(tokens))


def query_hashes(query_tokens: Tokens, settings: Settings) -> np.ndarray:
    """The distinct hashes of *every* n-gram of the query, sorted.

    The query is not winnowed: it is checked against whatever each source kept, and
    every one of its n-grams may be the one a source kept.
    """
    grams = fingerprint(query_tokens, settings.ngram, stopwords=settings.stopwords)
    return np.unique(grams.hashes)


# A text touching every rule of the tokenizer (typography, case, accents, possessives,
# spelling, numbers in words and figures, fractions, ordinals, decades, stop words,
# negations, stems, apostrophes, ideographs).  An index stores a digest of its tokens and
# fingerprints and compares it on opening, so that an index built by a Stemmatic that
# tokenized or hashed differently is refused instead of silently matching nothing.
PROBE_TEXT = (
    "The Colour of the Théâtre’s “walls” — isn't it twenty-five shades? "
    "In the 1990s, one third of 1,000 organisers didn't attend the 3rd meeting; "
    "NOT ONE of them was running, nor would they run. Analysed, analysing, analyses: "
    "O'Neill's café 3.5% 1/3 o'clock! 東京の大学 naïve ﬁnance e.g. U.S.A. — seventy and two"
)


def probe(settings: Settings) -> str:
    """A digest of how ``settings`` tokenize and fingerprint :data:`PROBE_TEXT`."""
    tokens = tokens_for(PROBE_TEXT, settings)
    grams = fingerprint(tokens, settings.ngram, stopwords=settings.stopwords)
    kept = winnow(grams, WINDOW)
    digest = hashlib.blake2b(digest_size=16)
    for array in (tokens.starts, tokens.ends, tokens.ids, tokens.stop, grams.hashes, kept.first):
        digest.update(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes())
    # An index stores each document's tokens too (forms and keys included), for the
    # aligner to use instead of tokenizing the document again.
    for words in (tokens.forms, tokens.keys):
        digest.update("\x00".join(words).encode())
    return digest.hexdigest()


def rank(shared: Iterable[tuple[str, int]], total: int, limit: int) -> list[tuple[str, float]]:
    """Order ``(source id, shared fingerprints)`` pairs best first, ties by id.

    The score is the share of the query's distinct n-grams found among the source's
    stored (winnowed) fingerprints.  Because a source stores only part of its n-grams, a
    query copied whole from a source scores about ``2 / (WINDOW + 1)``, not 1: the score
    ranks sources, it is not a similarity.
    """
    if total <= 0 or limit <= 0:
        return []
    best = sorted(((doc_id, n) for doc_id, n in shared if n > 0), key=lambda p: (-p[1], p[0]))
    return [(doc_id, n / total) for doc_id, n in best[:limit]]


def utc_now() -> str:
    """The current time as an ISO 8601 UTC timestamp with seconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
