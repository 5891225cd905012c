"""An index held in a dict: for tests, and for ``trace --sources`` where nothing is stored.

It keeps the same winnowed fingerprints as :class:`~stemmatic.index.duck.DuckIndex` and
ranks candidates by the same rule, so both stores give the same candidates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Self

import numpy as np

from stemmatic.errors import IndexStoreError
from stemmatic.index.store import (
    AddResult,
    AddStatus,
    DocumentInfo,
    Fingerprints,
    Progress,
    document_fingerprints,
    query_hashes,
    rank,
    utc_now,
)
from stemmatic.normalize import Tokens
from stemmatic.settings import Settings
from stemmatic.types import Document


class MemoryIndex:
    """An in-memory :class:`~stemmatic.index.store.IndexStore`.

    Args:
        settings: the settings fingerprints are computed with.
        documents: documents to add at once.
    """

    def __init__(self, settings: Settings, documents: Iterable[Document] = ()) -> None:
        self.settings = settings
        self._docs: dict[str, Document] = {}
        self._prints: dict[str, Fingerprints] = {}
        self._added_at: dict[str, str] = {}
        # Postings built lazily for candidates(): every document's distinct stored hashes
        # concatenated, with the position of its document in _order.
        self._order: list[str] = []
        self._hashes: np.ndarray | None = None
        self._owners: np.ndarray | None = None
        self._closed = False
        self.add(documents)

    def add(self, documents: Iterable[Document], *, progress: Progress | None = None) -> AddResult:
        """Store documents; one with a stored id replaces it unless it is identical."""
        self._check_open()
        result = AddResult()
        for doc in documents:
            old = self._docs.get(doc.id)
            if old == doc:
                status = AddStatus.UNCHANGED
                result += AddResult(unchanged=1)
            else:
                if old is None or old.text != doc.text:
                    self._prints[doc.id] = document_fingerprints(doc.text, self.settings)
                    written = len(self._prints[doc.id])
                else:
                    written = 0
                status = AddStatus.ADDED if old is None else AddStatus.REPLACED
                result += AddResult(
                    added=int(old is None), replaced=int(old is not None), fingerprints=written
                )
                self._docs[doc.id] = doc
                self._added_at[doc.id] = utc_now()
                self._hashes = self._owners = None
            if progress is not None:
                progress(doc, status)
        return result

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def __len__(self) -> int:
        return len(self._docs)

    def count(self) -> int:
        return len(self._docs)

    def documents(self) -> list[DocumentInfo]:
        """Every stored document's metadata, ordered by id."""
        return [self._info(doc_id) for doc_id in sorted(self._docs)]

    def get(self, doc_id: str) -> Document:
        """The stored document.  Raises KeyError when it is not stored."""
        self._check_open()
        return self._docs[doc_id]

    def load(self, doc_ids: Sequence[str]) -> list[tuple[Document, Tokens | None]]:
        """The stored documents, in the order asked; no tokens are kept (None).  Raises
        KeyError when one is not stored."""
        return [(self.get(doc_id), None) for doc_id in doc_ids]

    def fingerprints(self, doc_id: str) -> Fingerprints:
        """The winnowed fingerprints stored for a document."""
        return self._prints[doc_id]

    def candidates(self, query_tokens: Tokens, limit: int) -> list[tuple[str, float]]:
        """Sources sharing the most stored fingerprints with the query, best first.

        Args:
            query_tokens: the query, tokenized with this index's settings.
            limit: the most sources returned.

        Returns:
            ``(source id, score)`` pairs; see :func:`~stemmatic.index.store.rank`.
        """
        self._check_open()
        query = query_hashes(query_tokens, self.settings)
        if not len(query) or not self._docs:
            return []
        hashes, owners = self._postings()
        hits = owners[np.isin(hashes, query, assume_unique=False)]
        shared = np.bincount(hits, minlength=len(self._order))
        found = np.flatnonzero(shared)
        return rank(((self._order[i], int(shared[i])) for i in found), len(query), limit)

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _postings(self) -> tuple[np.ndarray, np.ndarray]:
        if self._hashes is None or self._owners is None:
            self._order = sorted(self._docs)
            parts = [np.unique(self._prints[doc_id].hashes) for doc_id in self._order]
            self._hashes = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
            self._owners = np.repeat(np.arange(len(parts), dtype=np.int64), [len(p) for p in parts])
        return self._hashes, self._owners

    def _info(self, doc_id: str) -> DocumentInfo:
        doc = self._docs[doc_id]
        return DocumentInfo(
            id=doc.id,
            path=doc.path,
            title=doc.title,
            author=doc.author,
            date=doc.date,
            format=doc.format,
            length=len(doc.text),
            tokens=self._prints[doc_id].tokens,
            added_at=self._added_at[doc_id],
        )

    def _check_open(self) -> None:
        if self._closed:
            raise IndexStoreError("the index is closed")
