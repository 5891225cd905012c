"""Where sources are kept and searched: the IndexStore protocol and its two stores."""

from stemmatic.index.duck import FORMAT_VERSION, DuckIndex, index_info
from stemmatic.index.memory import MemoryIndex
from stemmatic.index.store import (
    WINDOW,
    AddResult,
    AddStatus,
    DocumentInfo,
    IndexStore,
    Progress,
    document_fingerprints,
    query_hashes,
    tokens_for,
)

__all__ = [
    "FORMAT_VERSION",
    "WINDOW",
    "AddResult",
    "AddStatus",
    "DocumentInfo",
    "DuckIndex",
    "IndexStore",
    "MemoryIndex",
    "Progress",
    "document_fingerprints",
    "index_info",
    "query_hashes",
    "tokens_for",
]
