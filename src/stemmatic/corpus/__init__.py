"""Reuse across a whole corpus: every passage two documents share, and who copied whom.

:func:`run_corpus` reads a corpus (a folder, a JSON Lines file or a Parquet dataset),
finds candidate pairs of documents through shared fingerprints, aligns each pair once
with the same :func:`~stemmatic.align.align` that ``stemmatic trace`` uses, groups the
passages into clusters of one text reused in several documents, and builds the stemma:
a directed graph of which document copied which.

Two engines give the same answer: ``local`` (DuckDB and a process pool, for one machine,
streaming a corpus larger than memory) and ``spark`` (PySpark, for a cluster; an
optional extra, imported only when asked for).  Both run the functions of
:mod:`stemmatic.corpus.work`; only the plumbing differs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stemmatic.corpus.output import OUTPUT_NAMES, write_outputs
from stemmatic.corpus.work import EngineRun
from stemmatic.errors import InputError, SettingsError
from stemmatic.settings import Settings
from stemmatic.types import SCHEMA_VERSION, Skipped

__all__ = ["ENGINES", "CorpusResult", "run_corpus"]

ENGINES = ("local", "spark")

# Called as progress(stage, done, total); stages are "read", "pairs", "align" and
# "write" (the Spark engine reports "fingerprints" too); total is 0 when not yet known.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class CorpusResult:
    """What a corpus run found and wrote.

    Attributes:
        engine: "local" or "spark".
        documents: documents read.
        skipped: inputs and records that were not read, each with its reason.
        candidate_pairs: pairs of documents sharing enough fingerprints to be aligned.
        aligned_pairs: pairs that share at least one passage.
        passages: passages found (each pair aligned once).
        clusters: groups of passages that are one text reused in several documents.
        dropped_fingerprints: fingerprints found in more than ``max_df`` documents,
            dropped as boilerplate.
        edges: edges of the stemma (between nodes, after collapsing near-identical copies).
        groups: stemma nodes that are groups of near-identical copies.
        outputs: the files and folders written, by name ("passages", "clusters",
            "graph_json", "graphml", "html", "summary", "skipped", and with ``jsonl``
            "passages_jsonl", "clusters_jsonl", "edges_jsonl").
        seconds: wall time of the run.
        resumed: stages whose output from an earlier, interrupted run was reused (with
            the local engine, "aligned" is listed when some of its tasks were).
    """

    engine: str
    documents: int
    skipped: tuple[Skipped, ...]
    candidate_pairs: int
    aligned_pairs: int
    passages: int
    clusters: int
    dropped_fingerprints: int
    edges: int
    groups: int
    outputs: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    resumed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready values (what ``summary.json`` holds)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "engine": self.engine,
            "documents": self.documents,
            "skipped": len(self.skipped),
            "candidate_pairs": self.candidate_pairs,
            "aligned_pairs": self.aligned_pairs,
            "passages": self.passages,
            "clusters": self.clusters,
            "dropped_fingerprints": self.dropped_fingerprints,
            "edges": self.edges,
            "groups": self.groups,
            "seconds": round(self.seconds, 3),
            "resumed": list(self.resumed),
            "outputs": {name: str(path) for name, path in self.outputs.items()},
        }


def run_corpus(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    engine: str = "local",
    settings: Settings | None = None,
    min_words: int | None = None,
    max_df: int = 100,
    jsonl: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
    keep_work: bool = False,
) -> CorpusResult:
    """Find all reuse in a corpus and build its stemma.

    Args:
        input: a folder of documents (read recursively; a folder of Parquet files is a
            Parquet dataset), a JSON Lines file or a Parquet file.  Records have ``id``
            and ``text``, and optionally ``title``, ``author``, ``date`` and ``series``.
        output: the folder to write into.  It is created; if it exists it must be empty
            or hold the output of an earlier corpus run, whose files are replaced.
        engine: "local" (DuckDB and worker processes) or "spark" (needs
            ``stemmatic[spark]``).
        settings: fingerprint and alignment settings (as ``stemmatic trace`` uses them).
        min_words: shortest passage reported, in words (overrides ``settings``).
        max_df: fingerprints found in more documents than this are dropped as
            boilerplate (passim's maxDF).
        jsonl: write every table as JSON Lines too.
        progress: called as ``progress(stage, done, total)``.
        workers: worker processes of the local engine (default: one per core).
        keep_work: keep the work folder ``_work`` after the run, so that a later run with
            the same input and settings reuses its stages; by default the folder is
            deleted, since it holds a copy of the corpus.  (A run that fails or is
            interrupted leaves it: run the same command again to resume.)

    Returns:
        Counts, the skipped inputs and the paths written.

    Raises:
        InputError: ``input`` does not exist.
        SettingsError: an unknown engine, ``max_df`` below 2, an output folder that
            holds other files or lies inside the input folder, or the Spark engine
            without PySpark or Java.
    """
    started = time.perf_counter()
    if engine not in ENGINES:
        raise SettingsError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if max_df < 2:
        raise SettingsError(f"max_df must be at least 2 (a fingerprint in one document "
                            f"pairs nothing), not {max_df}")
    settings = settings or Settings()
    if min_words is not None:
        settings = settings.replace(min_words=min_words)
    if engine == "spark":
        from stemmatic.corpus import spark

        spark.require()  # before anything is written
    source = Path(input)
    if not os.path.lexists(source):
        raise InputError("no such file or folder", path=os.fspath(source))
    out = _prepare_output(source, Path(output))
    work = out / "_work" / engine
    report = progress or (lambda stage, done, total: None)

    if engine == "local":
        from stemmatic.corpus import local

        run: EngineRun = local.run(
            source, work, settings, max_df=max_df, workers=workers, progress=report
        )
    else:
        run = spark.run(source, work, settings, max_df=max_df, progress=report)

    report("write", 0, 1)
    written = write_outputs(run.aligned, out, jsonl=jsonl)
    outputs = dict(written.outputs)
    outputs["skipped"] = _write_skipped(out / "skipped.jsonl", run.skipped)
    outputs["summary"] = out / "summary.json"
    result = CorpusResult(
        engine=engine,
        documents=run.documents,
        skipped=run.skipped,
        candidate_pairs=run.candidate_pairs,
        aligned_pairs=written.aligned_pairs,
        passages=written.passages,
        clusters=written.clusters,
        dropped_fingerprints=run.dropped_fingerprints,
        edges=written.edges,
        groups=written.groups,
        outputs=outputs,
        seconds=time.perf_counter() - started,
        resumed=run.resumed,
    )
    summary = result.to_dict()
    summary["settings"] = settings.to_dict()
    summary["max_df"] = max_df
    (out / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    if not keep_work:
        # The work folder holds a copy of the corpus; nothing reads it after a finished run.
        shutil.rmtree(work, ignore_errors=True)
        with contextlib.suppress(OSError):
            work.parent.rmdir()  # only if no other engine's work is left there
    report("write", 1, 1)
    return result


def _prepare_output(source: Path, out: Path) -> Path:
    """Create ``out``, refusing a folder that holds anything but an earlier run's output."""
    out_abs = out.resolve()
    src_abs = source.resolve()
    if source.is_dir() and (out_abs == src_abs or src_abs in out_abs.parents):
        raise SettingsError(
            f"the output folder {out} is inside the input folder {source}: "
            "its files would be read as documents on the next run; choose another folder"
        )
    if out.exists() and not out.is_dir():
        raise SettingsError(f"the output {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    foreign = sorted(
        entry.name
        for entry in out.iterdir()
        if entry.name not in OUTPUT_NAMES and not entry.name.endswith(".tmp")
    )
    if foreign:
        shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        raise SettingsError(
            f"the output folder {out} holds files that are not corpus results ({shown}); "
            "choose an empty or new folder"
        )
    return out


def _write_skipped(path: Path, skipped: tuple[Skipped, ...]) -> Path:
    with open(path, "w", encoding="utf-8") as stream:
        for item in skipped:
            stream.write(json.dumps({"path": item.path, "reason": item.reason}, ensure_ascii=False))
            stream.write("\n")
    return path
