"""The local engine: DuckDB and a pool of worker processes.

A corpus larger than memory streams through it, in the stages of
:mod:`stemmatic.corpus.stages`, each kept as Parquet files under the work folder:

1. ``documents`` and ``fingerprints``: documents are read one at a time
   (:mod:`stemmatic.corpus.read`) and handed in batches to worker processes, each of which
   writes its batch of documents and their fingerprints as two Parquet files
   (:func:`store_batch`);
2. ``pairs``: DuckDB finds the candidate pairs with one self-join of the fingerprints
   (:data:`~stemmatic.corpus.work.PAIRS_SQL`), spilling to the work folder when the join
   does not fit in :data:`MEMORY_LIMIT`;
3. ``aligned``: DuckDB streams each pair with both its documents
   (:data:`~stemmatic.corpus.work.ALIGN_INPUT_SQL`), sorted by the first document, in
   tasks of a few hundred pairs to the workers, which align them; each task's aligned
   pairs are written to a Parquet file of their own as they come back.

At most a few batches are in flight at a time, so memory stays bounded whatever the
size of the corpus.  Small corpora are done in this process: starting worker processes
takes longer than the work (see :data:`POOL_MIN_CHARS`, :data:`POOL_MIN_PAIRS`).

A run that stops (killed, or an error) leaves its work folder; the next run with the same
input and settings reuses the complete stages and the finished tasks of the alignment.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from stemmatic.corpus.read import iter_documents
from stemmatic.corpus.stages import (
    SKIPPED,
    STAGES,
    Stages,
    jsonable,
    parameters,
    read_aligned,
    read_skipped,
    skipped_line,
)
from stemmatic.corpus.work import (
    ALIGN_INPUT_SQL,
    ALIGNED_SCHEMA,
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
# Candidate pairs sent to a worker at a time: about ALIGN_TASKS tasks (16 a worker on
# two cores), between ALIGN_BATCH_MIN and ALIGN_BATCH_MAX pairs each.  Pairs come sorted
# by their first document, and a worker prepares each document once (align caches
# prepared texts): the larger a task, the fewer documents two workers both prepare.  The
# size depends on the number of pairs only, so that a resumed run has the same tasks.
ALIGN_BATCH_MIN = 16
ALIGN_BATCH_MAX = 512
ALIGN_TASKS = 32
# Work kept in flight per worker: enough to keep every worker busy, few enough to bound
# the memory the batches take.
IN_FLIGHT_PER_WORKER = 3
# A pool is started only for a corpus of at least this many characters, or for the
# alignment of at least this many pairs: below that, one process finishes first.
POOL_MIN_CHARS = 4_000_000
POOL_MIN_PAIRS = 200
# The stages' folders of Parquet files under the work folder, and the names DuckDB knows
# them by.
DOCUMENTS, FINGERPRINTS, PAIRS, ALIGNED = STAGES
# In the aligned stage's folder: what its tasks are (see _align).
TASKS = "_TASKS.json"
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
        work: the folder for the stages' files; complete stages found there with the
            same parameters are reused, and so are the finished tasks of an interrupted
            alignment (see :mod:`stemmatic.corpus.stages`).
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
    stages = Stages(work, parameters(source, settings, max_df))
    pool = _Pool(workers)
    try:
        found = stages.reuse_together(DOCUMENTS, FINGERPRINTS)
        if found is None:
            folders = (stages.fresh(DOCUMENTS), stages.fresh(FINGERPRINTS))
            documents, skipped = _load(work, source, settings, pool, report)
            with open(folders[0] / SKIPPED, "w", encoding="utf-8") as stream:
                stream.writelines(skipped_line(item) for item in skipped)
            stages.mark(DOCUMENTS, {"documents": documents})
            stages.mark(FINGERPRINTS, {})
        else:
            documents = int(found[0]["documents"])
            skipped = list(read_skipped(work / DOCUMENTS / SKIPPED))
            report("read", documents, documents)
        con = _connect(work)
        try:
            counts = stages.reuse(PAIRS)
            if counts is None:
                report("pairs", 0, 1)
                counts = _pairs(con, stages.fresh(PAIRS), max_df)
                stages.mark(PAIRS, counts)
                report("pairs", 1, 1)
            _view(con, PAIRS, work)
            candidates = int(counts["candidate_pairs"])
            if stages.reuse(ALIGNED) is None:
                _align(con, stages, settings, pool, candidates, report)
                stages.mark(ALIGNED, {})
        finally:
            con.close()
    finally:
        pool.shutdown()
    return EngineRun(
        documents=documents,
        skipped=tuple(skipped),
        candidate_pairs=candidates,
        dropped_fingerprints=int(counts["dropped_fingerprints"]),
        aligned=read_aligned(work / ALIGNED),
        resumed=tuple(stages.resumed),
    )


def _connect(work: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory database that spills to the work folder, with the documents and
    fingerprints as views of the Parquet files :func:`store_batch` wrote."""
    con = duckdb.connect()
    spill = work / "spill"
    spill.mkdir(exist_ok=True)
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET threads = {DUCKDB_THREADS}")
    con.execute("SET temp_directory = ?", [str(spill)])
    # Row order is never relied on, and keeping it would stop DuckDB from streaming.
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    for table in (DOCUMENTS, FINGERPRINTS):
        _view(con, table, work)
    return con


def _view(con: duckdb.DuckDBPyConnection, table: str, work: Path) -> None:
    files = str(work / table / "*.parquet").replace("'", "''")
    con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{files}')")


def _pairs(con: duckdb.DuckDBPyConnection, folder: Path, max_df: int) -> dict[str, int]:
    """Write the candidate pairs to ``folder``; returns the stage's counts."""
    path = str(folder / "part-000000.parquet").replace("'", "''")
    con.execute(f"COPY ({pairs_sql(max_df)}) TO '{path}' (FORMAT parquet)")
    candidates = con.sql(f"SELECT COUNT(*) FROM read_parquet('{path}')").fetchall()[0][0]
    dropped = con.sql(dropped_sql(max_df)).fetchall()[0][0]
    return {"candidate_pairs": int(candidates), "dropped_fingerprints": int(dropped)}


def _load(
    work: Path,
    source: str | os.PathLike[str],
    settings: Settings,
    pool: _Pool,
    report: Progress,
) -> tuple[int, list[Skipped]]:
    """Read every document and store the documents and their fingerprints in batches
    (in the folders ``work/documents`` and ``work/fingerprints``, which exist).

    Returns:
        ``(documents, skipped)``.
    """
    skipped: list[Skipped] = []
    rows: list[dict[str, Any]] = []
    pending: set[Future[None]] = set()
    key = batch_chars = total_chars = number = 0

    def drain(limit: int) -> None:
        # Whichever batches finish first: waiting for the oldest would leave a worker
        # idle behind a slow batch.
        while len(pending) > limit:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                pending.discard(future)
                future.result()  # a worker's error is raised here

    def flush() -> None:
        nonlocal batch_chars, number
        batch = documents_batch(rows)
        rows.clear()
        batch_chars = 0
        if pool.ready(total_chars >= POOL_MIN_CHARS):
            pending.add(pool.submit(store_batch, batch, work, number, settings))
            drain(pool.in_flight)
        else:
            store_batch(batch, work, number, settings)
        number += 1
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
    if rows or number == 0:  # an empty corpus still has (empty) tables
        flush()
    drain(0)
    report("read", key, key)
    return key, skipped


def store_batch(batch: pa.RecordBatch, work: Path, number: int, settings: Settings) -> None:
    """Write a batch of documents, and their fingerprints, as the Parquet files
    ``documents/part-NNNNNN.parquet`` and ``fingerprints/part-NNNNNN.parquet``.

    Run by the workers, so that fingerprinting and writing both happen beside the
    reading.  The files are not compressed: they live only as long as the run, and
    DuckDB reads them back faster so.
    """
    name = f"part-{number:06d}.parquet"
    fingerprints = fingerprint_batch(batch.select(["key", "text"]), settings)
    for folder, rows in ((DOCUMENTS, batch), (FINGERPRINTS, fingerprints)):
        table = pa.Table.from_batches([rows])
        pq.write_table(table, work / folder / name, compression="none", use_dictionary=False)


def _align(
    con: duckdb.DuckDBPyConnection,
    stages: Stages,
    settings: Settings,
    pool: _Pool,
    candidates: int,
    report: Progress,
) -> None:
    """Align every candidate pair into the ``aligned`` stage's folder, one Parquet file per
    task, keeping the files of an interrupted run's finished tasks."""
    size = align_batch_size(candidates)
    folder = stages.work / ALIGNED
    # The tasks are the same on a later run only with the same pairs, settings and size.
    tasks = {"params": jsonable(stages.params[ALIGNED]), "pairs_per_task": size}
    try:
        kept = json.loads((folder / TASKS).read_text(encoding="utf-8")) == tasks
    except (OSError, ValueError):
        kept = False
    if not kept or PAIRS not in stages.resumed:
        stages.fresh(ALIGNED)
        (folder / TASKS).write_text(json.dumps(tasks), encoding="utf-8")
    reused = False
    done = 0
    # Each task in flight: its number and how many pairs it holds.
    pending: dict[Future[pa.RecordBatch], tuple[int, int]] = {}
    report("align", 0, candidates)

    def collect(batch: pa.RecordBatch, number: int, pairs: int) -> None:
        nonlocal done
        # Written under a hidden name, then renamed: a task's file is whole or absent.
        path = folder / _task_file(number)
        tmp = folder / f".{path.name}.tmp"
        pq.write_table(pa.Table.from_batches([batch], schema=ALIGNED_SCHEMA), tmp)
        os.replace(tmp, path)
        done += pairs
        report("align", done, candidates)

    def drain(limit: int) -> None:
        # Whichever tasks finish first (the output is sorted at the end anyway).
        while len(pending) > limit:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                collect(future.result(), *pending.pop(future))

    use_pool = pool.ready(candidates >= POOL_MIN_PAIRS)
    # Sorted by the first document, so a worker gets a document's pairs together and
    # prepares it once (align caches prepared texts); DuckDB spills the sort if needed.
    ordered = f"{ALIGN_INPUT_SQL} ORDER BY a_key, b_key"
    reader = con.sql(ordered).to_arrow_reader(size)
    for number, batch in enumerate(_exact_batches(reader, size)):
        if (folder / _task_file(number)).exists():
            reused = True
            done += batch.num_rows
            continue
        if not use_pool:
            collect(align_batch(batch, settings), number, batch.num_rows)
            continue
        pending[pool.submit(align_batch, batch, settings)] = (number, batch.num_rows)
        drain(pool.in_flight)
    drain(0)
    if reused:
        stages.resumed.append(ALIGNED)
    report("align", candidates, candidates)


def _task_file(number: int) -> str:
    return f"part-{number:06d}.parquet"


def _exact_batches(reader: pa.RecordBatchReader, size: int) -> Iterator[pa.RecordBatch]:
    """The rows of ``reader`` in batches of exactly ``size`` rows (the last one fewer).

    Task boundaries must not depend on how DuckDB happens to chunk its output, or a
    resumed run would not find the tasks it finished before.
    """
    held: list[pa.RecordBatch] = []
    rows = 0
    for batch in reader:
        held.append(batch)
        rows += batch.num_rows
        while rows >= size:
            table = pa.Table.from_batches(held, schema=reader.schema).combine_chunks()
            yield table.slice(0, size).to_batches()[0]
            rest = table.slice(size)
            held = rest.to_batches()
            rows = rest.num_rows
    if rows:
        table = pa.Table.from_batches(held, schema=reader.schema).combine_chunks()
        yield table.to_batches()[0]


def align_batch_size(candidates: int) -> int:
    """Pairs per alignment task: about :data:`ALIGN_TASKS` tasks, between
    :data:`ALIGN_BATCH_MIN` and :data:`ALIGN_BATCH_MAX` pairs each."""
    return max(ALIGN_BATCH_MIN, min(ALIGN_BATCH_MAX, candidates // ALIGN_TASKS))


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

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        assert self._executor is not None
        return self._executor.submit(fn, *args)

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
