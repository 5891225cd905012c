"""Where sources are kept and searched: the IndexStore protocol and its two stores."""

from stemmatic.index.duck import FORMAT_VERSION, CompactResult, DuckIndex, compact, index_info
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
    "CompactResult",
    "DocumentInfo",
    "DuckIndex",
    "IndexStore",
    "MemoryIndex",
    "Progress",
    "compact",
    "document_fingerprints",
    "index_info",
    "query_hashes",
    "tokens_for",
]
