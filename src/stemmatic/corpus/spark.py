"""The Spark engine: the same work as the local engine, spread over a Spark cluster.

This is the only module that imports PySpark, and only when the engine is asked for, so
the base install stays light (``pip install 'stemmatic[spark]'`` adds it).

Stages, each written as Parquet under the work folder and marked complete with a
``_SUCCESS.json`` file holding the parameters it was made with, so that a run that was
interrupted resumes from the last complete stage (a stage made with other parameters is
made again, and so is every stage after it):

1. ``documents``: the driver reads the input as ``stemmatic.ingest`` reads it (same ids,
   same skipped records) and writes the documents, numbered, to Parquet;
2. ``fingerprints``: ``mapInArrow`` runs :func:`~stemmatic.corpus.work.fingerprint_batch`
   over the documents;
3. ``pairs``: Spark SQL runs :data:`~stemmatic.corpus.work.PAIRS_SQL`, the query DuckDB
   runs in the local engine: a hash join of the fingerprints table with itself;
4. ``aligned``: each pair is joined with its two documents, pairs are partitioned by
   their first document, and ``mapInArrow`` runs :func:`~stemmatic.corpus.work.align_batch`.

The driver then reads the aligned pairs back and writes the outputs as the local engine
does.  Run from ``spark-submit`` (see ``docs/corpus.md``) the engine uses the session
``spark-submit`` configured; otherwise it starts a small local one (:data:`LOCAL_CONF`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from stemmatic.corpus.read import iter_documents
from stemmatic.corpus.stages import (
    SKIPPED,
    Stages,
    parameters,
    read_aligned,
    read_skipped,
    skipped_line,
)
from stemmatic.corpus.work import (
    ALIGN_INPUT_SQL,
    ALIGNED_SCHEMA,
    DOCUMENT_SCHEMA,
    FINGERPRINT_SCHEMA,
    EngineRun,
    align_batches,
    document_row,
    documents_batch,
    dropped_sql,
    fingerprint_batches,
    pairs_sql,
)
from stemmatic.errors import SettingsError
from stemmatic.settings import Settings
from stemmatic.types import Skipped

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Progress = Callable[[str, int, int], None]

# A session started here (not by spark-submit) is sized for a small machine: two cores,
# a 2 GiB driver, few shuffle partitions, no web UI.
LOCAL_CONF = {
    "spark.master": "local[2]",
    "spark.driver.memory": "2g",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",
    # Python workers run the interpreter the driver runs, with stemmatic importable.
    "spark.pyspark.python": sys.executable,
    "spark.pyspark.driver.python": sys.executable,
}
# Rows per Arrow batch handed to mapInArrow: a batch of documents or of pairs with both
# texts must fit comfortably in a Python worker.
ARROW_BATCH_ROWS = 256
# Documents per Parquet file of the documents stage, and per row group.
FILE_DOCS = 20_000
ROW_GROUP_DOCS = 1_000
# Candidate pairs per alignment partition (at least the session's default parallelism).
PAIRS_PER_PARTITION = 2_000


def run(
    source: str | os.PathLike[str],
    work: Path,
    settings: Settings,
    *,
    max_df: int,
    progress: Progress | None = None,
) -> EngineRun:
    """Find and align the candidate pairs of a corpus with Spark.

    Args:
        source: the input folder or corpus file.
        work: the folder for the stages' Parquet files; complete stages found there
            with the same parameters are reused.
        settings: fingerprint and alignment settings.
        max_df: fingerprints found in more documents than this are dropped.
        progress: called as ``progress(stage, done, total)``.

    Returns:
        Counts and the aligned pairs.

    Raises:
        SettingsError: PySpark or Java is missing.
    """
    require()
    report = progress or (lambda stage, done, total: None)
    work.mkdir(parents=True, exist_ok=True)
    stages = Stages(work, parameters(source, settings, max_df))
    reuse = stages.reuse

    counts = reuse("documents")
    if counts is None:
        counts = _documents_stage(source, stages.fresh("documents"), settings, report)
        stages.mark("documents", counts)
    else:
        report("read", counts["documents"], counts["documents"])
    skipped = read_skipped(work / "documents" / SKIPPED)

    spark, owned = session()
    try:
        _configure(spark)
        documents = spark.read.parquet(str(work / "documents"))
        documents.createOrReplaceTempView("documents")

        stage = work / "fingerprints"
        if reuse("fingerprints") is None:
            report("fingerprints", 0, 1)
            schema = _ddl(FINGERPRINT_SCHEMA)
            fingerprints = documents.select("key", "text").mapInArrow(
                _fingerprints(settings), schema
            )
            fingerprints.write.mode("overwrite").parquet(str(stage))
            stages.mark("fingerprints", {})
            report("fingerprints", 1, 1)
        spark.read.parquet(str(stage)).createOrReplaceTempView("fingerprints")

        stage = work / "pairs"
        pair_counts = reuse("pairs")
        if pair_counts is None:
            report("pairs", 0, 1)
            spark.sql(pairs_sql(max_df)).write.mode("overwrite").parquet(str(stage))
            dropped = int(spark.sql(dropped_sql(max_df)).collect()[0][0])
            candidates = spark.read.parquet(str(stage)).count()
            pair_counts = {"candidate_pairs": int(candidates), "dropped_fingerprints": dropped}
            stages.mark("pairs", pair_counts)
            report("pairs", 1, 1)
        spark.read.parquet(str(stage)).createOrReplaceTempView("pairs")
        candidates = pair_counts["candidate_pairs"]

        stage = work / "aligned"
        if reuse("aligned") is None:
            report("align", 0, candidates)
            partitions = max(
                spark.sparkContext.defaultParallelism, -(-candidates // PAIRS_PER_PARTITION)
            )
            # Pairs of one document go to one partition, next to each other, so a
            # worker prepares that document once (align's cache) for all its pairs.
            joined = (
                spark.sql(ALIGN_INPUT_SQL)
                .repartition(partitions, "a_key")
                .sortWithinPartitions("a_key", "b_key")
            )
            aligned = joined.mapInArrow(_aligner(settings), _ddl(ALIGNED_SCHEMA))
            aligned.write.mode("overwrite").parquet(str(stage))
            stages.mark("aligned", {})
            report("align", candidates, candidates)
    finally:
        if owned:
            spark.stop()

    return EngineRun(
        documents=counts["documents"],
        skipped=skipped,
        candidate_pairs=candidates,
        dropped_fingerprints=pair_counts["dropped_fingerprints"],
        aligned=read_aligned(work / "aligned"),
        resumed=tuple(stages.resumed),
    )


def require() -> None:
    """Raise SettingsError unless PySpark and Java are installed."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SettingsError(
            "the Spark engine needs PySpark: pip install 'stemmatic[spark]'"
        ) from None
    java_home = os.environ.get("JAVA_HOME")
    java = shutil.which("java") or (
        os.path.join(java_home, "bin", "java") if java_home else None
    )
    if not java or not os.path.exists(java):
        raise SettingsError(
            "the Spark engine needs Java 17 or later (java was not found on PATH or in "
            "JAVA_HOME)"
        )


def session() -> tuple[SparkSession, bool]:
    """The Spark session to use, and whether it was started here (and must be stopped).

    Under ``spark-submit``, or when a session is already active, that one is used as it
    was configured.  Otherwise a local session is started with :data:`LOCAL_CONF`.
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    builder = SparkSession.builder.appName("stemmatic corpus")
    if "PYSPARK_GATEWAY_PORT" in os.environ:  # launched by spark-submit: keep its conf
        return builder.getOrCreate(), True
    for key, value in LOCAL_CONF.items():
        builder = builder.config(key, value)
    return builder.getOrCreate(), True


def _configure(spark: SparkSession) -> None:
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(ARROW_BATCH_ROWS))


# What mapInArrow runs: batches in, batches out.
BatchFunction = Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]


def _fingerprints(settings: Settings) -> BatchFunction:
    def apply(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return fingerprint_batches(batches, settings)

    return apply


def _aligner(settings: Settings) -> BatchFunction:
    def apply(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return align_batches(batches, settings)

    return apply


# --- stages ------------------------------------------------------------------------------


def _documents_stage(
    source: str | os.PathLike[str], folder: Path, settings: Settings, report: Progress
) -> dict[str, Any]:
    """Read the input on the driver and write numbered documents to Parquet files."""
    key = 0
    rows: list[dict[str, Any]] = []
    writer: pq.ParquetWriter | None = None
    file_number = 0
    with open(folder / SKIPPED, "w", encoding="utf-8") as skipped:
        for item in iter_documents(source, settings):
            if isinstance(item, Skipped):
                skipped.write(skipped_line(item))
                continue
            doc, series = item
            rows.append(document_row(key, doc, series))
            key += 1
            if len(rows) >= ROW_GROUP_DOCS:
                writer = _write_rows(writer, folder, file_number, rows)
                rows = []
                if key % FILE_DOCS == 0:
                    writer.close()
                    writer = None
                    file_number += 1
                report("read", key, 0)
        if rows or writer is None:
            writer = _write_rows(writer, folder, file_number, rows)
        writer.close()
    report("read", key, key)
    return {"documents": key}


def _write_rows(
    writer: pq.ParquetWriter | None, folder: Path, number: int, rows: list[dict[str, Any]]
) -> pq.ParquetWriter:
    if writer is None:
        writer = pq.ParquetWriter(folder / f"part-{number:05d}.parquet", DOCUMENT_SCHEMA)
    writer.write_batch(documents_batch(rows))
    return writer


def _ddl(schema: pa.Schema) -> str:
    """A Spark DDL schema string for an Arrow schema of the types used here."""
    return ", ".join(f"`{f.name}` {_ddl_type(f.type)}" for f in schema)


def _ddl_type(kind: pa.DataType) -> str:
    if pa.types.is_int32(kind):
        return "int"
    if pa.types.is_int64(kind):
        return "bigint"
    if pa.types.is_float64(kind):
        return "double"
    if pa.types.is_string(kind):
        return "string"
    if pa.types.is_list(kind):
        return f"array<{_ddl_type(kind.value_type)}>"
    if pa.types.is_struct(kind):
        inner = ", ".join(f"`{f.name}`: {_ddl_type(f.type)}" for f in kind)
        return f"struct<{inner}>"
    raise TypeError(f"no Spark type for {kind}")


# --- spark-submit ------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``spark-submit .../stemmatic/corpus/spark.py INPUT OUTPUT``."""
    from stemmatic.corpus import run_corpus

    parser = argparse.ArgumentParser(description="stemmatic corpus on Spark")
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--max-df", type=int, default=100)
    parser.add_argument("--min-words", type=int, default=None)
    parser.add_argument("--jsonl", action="store_true")
    parser.add_argument("--keep-work", action="store_true")
    args = parser.parse_args(argv)
    result = run_corpus(
        args.input,
        args.output,
        engine="spark",
        min_words=args.min_words,
        max_df=args.max_df,
        jsonl=args.jsonl,
        keep_work=args.keep_work,
    )
    print(json.dumps(result.to_dict(), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
