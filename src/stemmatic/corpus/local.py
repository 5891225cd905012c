"""The local engine: DuckDB on disk and a pool of worker processes.

A corpus larger than memory streams through it:

1. documents are read one at a time (:mod:`stemmatic.corpus.read`) and written in
   batches to a DuckDB database in the work folder; each batch is fingerprinted by a
   worker process and its fingerprints are written to the same database;
2. DuckDB finds the candidate pairs with one self-join of the fingerprints table
   (:data:`~stemmatic.corpus.work.PAIRS_SQL`), spilling to the work folder when the join
   does not fit in :data:`MEMORY_LIMIT`;
3. DuckDB streams each pair with both its documents
   (:data:`~stemmatic.corpus.work.ALIGN_INPUT_SQL`), sorted by the first document, in
   small batches to the workers, which align them; the aligned pairs are written to a
   Parquet file as they come back.

At most a few batches are in flight at a time, so memory stays bounded whatever the
size of the corpus.  Small corpora are done in this process: starting worker processes
takes longer than the work (see :data:`POOL_MIN_CHARS`, :data:`POOL_MIN_PAIRS`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from stemmatic.corpus.read import iter_documents
from stemmatic.corpus.work import (
    ALIGN_INPUT_SQL,
    ALIGNED_SCHEMA,
    DOCUMENT_SCHEMA,
    FINGERPRINT_SCHEMA,
    EngineRun,
    align_batch,
    document_row,
    documents_batch,
    dropped_sql,
    fingerprint_batch,
    pairs_sql,
)
from stemmatic.settings import Settings
from stemmatic.types import Skipped

Progress = Callable[[str, int, int], None]

# Documents are written and fingerprinted in batches of about this many characters.
BATCH_CHARS = 2_000_000
BATCH_DOCS = 2_000
# Candidate pairs sent to a worker at a time.
ALIGN_BATCH = 64
# Work kept in flight per worker: enough to keep every worker busy, few enough to bound
# the memory the batches take.
IN_FLIGHT_PER_WORKER = 3
# A pool is started only for a corpus of at least this many characters, or for the
# alignment of at least this many pairs: below that, one process finishes first.
POOL_MIN_CHARS = 4_000_000
POOL_MIN_PAIRS = 200
# DuckDB's memory: the self-join spills to the work folder beyond this.
MEMORY_LIMIT = "2GB"
DUCKDB_THREADS = 2


def run(
    source: str | os.PathLike[str],
    work: Path,
    settings: Settings,
    *,
    max_df: int,
    workers: int | None = None,
    progress: Progress | None = None,
) -> EngineRun:
    """Find and align the candidate pairs of a corpus.

    Args:
        source: the input folder or corpus file.
        work: an empty folder for the database and the intermediate files.
        settings: fingerprint and alignment settings.
        max_df: fingerprints found in more documents than this are dropped.
        workers: worker processes (default: one per core).
        progress: called as ``progress(stage, done, total)``; ``total`` is 0 when it is
            not known yet.

    Returns:
        Counts and the aligned pairs.
    """
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    report = progress or (lambda stage, done, total: None)
    work.mkdir(parents=True, exist_ok=True)
    database = work / "corpus.duckdb"
    pool = _Pool(workers)
    try:
        con = _connect(database, work)
        try:
            documents, skipped = _load(con, source, settings, pool, report)
            report("pairs", 0, 1)
            con.execute(f"CREATE TABLE pairs AS {pairs_sql(max_df)}")
            candidates = con.sql("SELECT COUNT(*) FROM pairs").fetchall()[0][0]
            dropped = con.sql(dropped_sql(max_df)).fetchall()[0][0]
            report("pairs", 1, 1)
            aligned_path = work / "aligned.parquet"
            _align(con, aligned_path, settings, pool, candidates, report)
        finally:
            con.close()
    finally:
        pool.shutdown()
    return EngineRun(
        documents=documents,
        skipped=tuple(skipped),
        candidate_pairs=int(candidates),
        dropped_fingerprints=int(dropped),
        aligned=pq.read_table(aligned_path, schema=ALIGNED_SCHEMA),
    )


def _connect(database: Path, work: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(database))
    spill = work / "spill"
    spill.mkdir(exist_ok=True)
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET threads = {DUCKDB_THREADS}")
    con.execute("SET temp_directory = ?", [str(spill)])
    # Row order is never relied on, and keeping it would stop DuckDB from streaming.
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    con.execute(
        "CREATE TABLE documents (key INTEGER, id VARCHAR, text VARCHAR, title VARCHAR, "
        "author VARCHAR, date VARCHAR, series VARCHAR, excluded VARCHAR, length BIGINT)"
    )
    con.execute("CREATE TABLE fingerprints (hash BIGINT, doc INTEGER)")
    return con


def _load(
    con: duckdb.DuckDBPyConnection,
    source: str | os.PathLike[str],
    settings: Settings,
    pool: _Pool,
    report: Progress,
) -> tuple[int, list[Skipped]]:
    """Read, store and fingerprint every document; returns (documents, skipped)."""
    skipped: list[Skipped] = []
    rows: list[dict[str, Any]] = []
    pending: set[Future[pa.RecordBatch]] = set()
    key = batch_chars = total_chars = 0

    def store_fingerprints(batch: pa.RecordBatch) -> None:
        _insert(con, "fingerprints", batch, FINGERPRINT_SCHEMA)

    def drain(limit: int) -> None:
        # Whichever batches finish first: waiting for the oldest would leave a worker
        # idle behind a slow batch.
        while len(pending) > limit:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                pending.discard(future)
                store_fingerprints(future.result())

    def flush() -> None:
        nonlocal batch_chars
        if not rows:
            return
        batch = documents_batch(rows)
        rows.clear()
        batch_chars = 0
        _insert(con, "documents", batch, DOCUMENT_SCHEMA)
        texts = batch.select(["key", "text"])
        if pool.ready(total_chars >= POOL_MIN_CHARS):
            pending.add(pool.submit(fingerprint_batch, texts, settings))
            drain(pool.in_flight)
        else:
            store_fingerprints(fingerprint_batch(texts, settings))
        report("read", key, 0)

    for item in iter_documents(source, settings):
        if isinstance(item, Skipped):
            skipped.append(item)
            continue
        doc, series = item
        rows.append(document_row(key, doc, series))
        key += 1
        batch_chars += len(doc.text)
        total_chars += len(doc.text)
        if batch_chars >= BATCH_CHARS or len(rows) >= BATCH_DOCS:
            flush()
    flush()
    drain(0)
    report("read", key, key)
    return key, skipped


def _align(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    settings: Settings,
    pool: _Pool,
    candidates: int,
    report: Progress,
) -> None:
    """Align every candidate pair, writing the aligned pairs to ``path``."""
    done = 0
    # Each batch in flight, with the number of pairs it holds.
    pending: dict[Future[pa.RecordBatch], int] = {}
    report("align", 0, candidates)
    with pq.ParquetWriter(path, ALIGNED_SCHEMA) as writer:

        def collect(batch: pa.RecordBatch, pairs: int) -> None:
            nonlocal done
            if batch.num_rows:
                writer.write_batch(batch)
            done += pairs
            report("align", done, candidates)

        def drain(limit: int) -> None:
            # Whichever batches finish first (the output is sorted at the end anyway).
            while len(pending) > limit:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    collect(future.result(), pending.pop(future))

        use_pool = pool.ready(candidates >= POOL_MIN_PAIRS)
        # Sorted by the first document, so a worker gets a document's pairs together and
        # prepares it once (align caches prepared texts); DuckDB spills the sort if needed.
        ordered = f"{ALIGN_INPUT_SQL} ORDER BY a_key, b_key"
        for batch in con.sql(ordered).to_arrow_reader(ALIGN_BATCH):
            if not batch.num_rows:
                continue
            if not use_pool:
                collect(align_batch(batch, settings), batch.num_rows)
                continue
            pending[pool.submit(align_batch, batch, settings)] = batch.num_rows
            drain(pool.in_flight)
        drain(0)


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, batch: pa.RecordBatch, schema: pa.Schema
) -> None:
    if not batch.num_rows:
        return
    rows = pa.Table.from_batches([batch], schema=schema)
    con.register("incoming", rows)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM incoming")
    finally:
        con.unregister("incoming")


class _Pool:
    """Worker processes, started only once the work is large enough to need them.

    Workers are started with ``spawn``: the parent holds an open DuckDB database and
    its threads, which a forked child must not inherit.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.in_flight = IN_FLIGHT_PER_WORKER * workers
        self._executor: ProcessPoolExecutor | None = None

    def ready(self, large: bool) -> bool:
        """Whether to use the pool; starts it when the work is ``large``."""
        if self._executor is None and large and self.workers > 1:
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        return self._executor is not None

    def submit(self, fn: Callable[..., pa.RecordBatch], *args: Any) -> Future[pa.RecordBatch]:
        assert self._executor is not None
        return self._executor.submit(fn, *args)

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
