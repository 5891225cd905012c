"""trace(): one query against a corpus, composed from the stages.

Reading files is the ingest stage's job and searching an on-disk index the index
stage's; this module only wires the stages together and assembles the report.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from itertools import repeat

from stemmatic import ingest
from stemmatic.align import Prepared, align, prepare
from stemmatic.align.units import is_prepared, remember
from stemmatic.classify import classify, warm
from stemmatic.errors import InputError, SettingsError
from stemmatic.index.store import IndexStore
from stemmatic.settings import Settings
from stemmatic.types import Document, Passage, Report, Skipped

PathLike = str | os.PathLike[str]
# Called after each source is aligned with (sources done, sources in all).
Progress = Callable[[int, int], None]


def trace(
    query: Document | PathLike,
    *,
    sources: Iterable[Document | PathLike] | None = None,
    index: IndexStore | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    workers: int | None = 1,
) -> Report:
    """Find every passage of ``query`` that came from a source, and check it.

    Args:
        query: the document to check, or the path of a file to read.
        sources: source documents, or paths of files and folders (read recursively).
        index: an open corpus index (see :class:`stemmatic.index.DuckIndex`); the sources
            sharing the most fingerprints with the query are aligned.
        settings: matching settings.
        progress: called after each source is aligned.
        workers: processes aligning sources in parallel (1: in this process; None: one
            per CPU core when there are enough sources to repay starting them).  The
            report is the same whatever the number.

    Returns:
        The report: passages with exact offsets into ``query.text`` and each source's
        text, the sources searched, and the inputs that were skipped.

    Raises:
        InputError: the query cannot be read.
        SettingsError: neither ``sources`` nor ``index`` is given.
    """
    settings = settings or Settings()
    if sources is None and index is None:
        raise SettingsError("give sources to compare with, or an index")
    query_doc = query if isinstance(query, Document) else ingest.load(query, settings)
    if not query_doc.text.strip():
        raise InputError("the document is empty", path=query_doc.path)

    candidates: list[Document] = []
    skipped: list[Skipped] = []
    warnings: list[str] = list(query_doc.warnings)
    if sources is not None:
        docs, bad = _gather(sources, settings)
        candidates.extend(docs)
        skipped.extend(bad)
    if index is not None:
        # The query's tokens as the aligner prepares them (and caches them for it): the
        # same tokenization as the index's (``tokens_for``), done once.
        tokens = prepare(query_doc.text, settings, query_doc.excluded).tokens
        ranked = [source_id for source_id, _ in index.candidates(tokens, settings.candidates)]
        for doc, stored in index.load(ranked):
            if stored is not None:
                # The index keeps each source's tokens: they are not computed again.
                prepare(doc.text, settings, doc.excluded, stored)
            candidates.append(doc)

    candidates, dropped = _distinct(query_doc, candidates)
    warnings.extend(dropped)
    if workers is None:
        workers = _auto_workers(candidates)
    if workers < 1:
        raise SettingsError(f"workers must be at least 1, not {workers}")
    passages: list[Passage] = []
    for done, found in enumerate(_align_all(query_doc, candidates, settings, workers), start=1):
        passages.extend(found)
        if progress is not None:
            progress(done, len(candidates))

    passages.sort(key=lambda p: (p.query_start, p.query_end, p.source_id, p.source_start))
    checked = classify(query_doc, candidates, passages, settings)
    return Report(
        query=query_doc,
        sources=tuple(sorted(candidates, key=lambda d: d.id)),
        passages=checked.passages,
        citations=checked.citations,
        quotations=checked.quotations,
        findings=checked.findings,
        skipped=tuple(sorted(skipped, key=lambda s: s.path)),
        settings=settings.to_dict(),
        warnings=tuple(warnings) + checked.warnings,
    )


def _align_all(
    query: Document, sources: Sequence[Document], settings: Settings, workers: int
) -> Iterator[list[Passage]]:
    """Align the query with each source, in order, in this process or in a pool."""
    if workers == 1 or len(sources) < 2:
        for source in sources:
            yield align(query, source, settings)
        return
    # Prepared before the pool starts, the query is inherited by forked workers instead
    # of being tokenized again in each of them.
    prepare(query.text, settings, query.excluded)
    # Sources prepared here already (from an index's stored tokens) are inherited too;
    # the others are prepared by the workers and sent back, since the checks of
    # quotations and citations read the sources' tokens again.
    send_back = [not is_prepared(s.text, settings, s.excluded) for s in sources]
    with ProcessPoolExecutor(max_workers=min(workers, len(sources)), mp_context=_context()) as pool:
        chunks = max(1, len(sources) // (4 * workers))
        results = pool.map(
            _align_one, repeat(query), sources, repeat(settings), send_back, chunksize=chunks
        )
        # While the workers align, this process checks what the query alone says
        # (quotations, citations) and does the checks' one-time setup.
        warm(query, settings)
        for source, (found, prepared) in zip(sources, results):
            if prepared is not None:
                remember(source.text, settings, source.excluded, prepared)
            yield found


# Below this much source text, or with sources this short on average, starting worker
# processes and sending the prepared sources back costs more than it saves.
AUTO_WORKERS_MIN_CHARS = 300_000
AUTO_WORKERS_MIN_MEAN_CHARS = 2_000
AUTO_WORKERS_MAX = 8


def _auto_workers(sources: Sequence[Document]) -> int:
    chars = sum(len(s.text) for s in sources)
    if (
        len(sources) < 2
        or chars < AUTO_WORKERS_MIN_CHARS
        or chars < AUTO_WORKERS_MIN_MEAN_CHARS * len(sources)
    ):
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, AUTO_WORKERS_MAX, len(sources)))


def _align_one(
    query: Document, source: Document, settings: Settings, send_back: bool
) -> tuple[list[Passage], Prepared | None]:
    found = align(query, source, settings)
    return found, prepare(source.text, settings, source.excluded) if send_back else None


def _context() -> multiprocessing.context.BaseContext:
    # Forking starts a worker in milliseconds, with the modules already imported; a
    # fresh interpreter would spend most of a short trace importing them again.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def _gather(
    sources: Iterable[Document | PathLike], settings: Settings
) -> tuple[list[Document], list[Skipped]]:
    documents: list[Document] = []
    paths: list[PathLike] = []
    for item in sources:
        if isinstance(item, Document):
            documents.append(item)
        else:
            paths.append(item)
    skipped: list[Skipped] = []
    if paths:
        read, skipped = ingest.collect(paths, settings)
        documents.extend(read)
    return documents, skipped


def _distinct(query: Document, sources: Sequence[Document]) -> tuple[list[Document], list[str]]:
    """Drop the query itself and repeated ids from the sources.

    A folder of sources often holds the document being checked; comparing it with
    itself would report the whole text as copied.  The same file read twice gives the
    same text, so comparing texts finds it (and a copy of it under another name) without
    resolving every source's path.
    """
    out: list[Document] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for doc in sources:
        if doc.text == query.text:
            warnings.append(f"source {doc.id} is the query itself; it was not compared")
            continue
        if doc.id in seen:
            doc = replace(doc, id=_unused(doc.id, seen))
        seen.add(doc.id)
        out.append(doc)
    return out, warnings


def _unused(doc_id: str, seen: set[str]) -> str:
    n = 2
    while f"{doc_id}#{n}" in seen:
        n += 1
    return f"{doc_id}#{n}"
