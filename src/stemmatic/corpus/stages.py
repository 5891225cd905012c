"""Resuming a corpus run: what each stage depends on, and which stages are complete.

Both engines keep their stages as files under the work folder, one folder per stage
(:data:`STAGES`).  A stage is complete when its folder holds :data:`MARKER`, written last,
with the parameters the stage was made with and its counts.  A later run with the same
parameters reuses it; a stage made with other parameters is made again, and so is every
stage after it.
"""

from __future__ import annotations

import json
import os
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from stemmatic.corpus.read import input_signature
from stemmatic.corpus.work import ALIGNED_SCHEMA, FORMAT, MIN_SHARED
from stemmatic.settings import Settings
from stemmatic.types import Skipped

MARKER = "_SUCCESS.json"
STAGES = ("documents", "fingerprints", "pairs", "aligned")
# The skipped inputs, one JSON object a line, in the documents stage's folder.
SKIPPED = "_skipped.jsonl"


def parameters(
    source: str | os.PathLike[str], settings: Settings, max_df: int
) -> dict[str, dict[str, Any]]:
    """The parameters each stage depends on; each includes those of the stages before it."""
    try:
        version = metadata.version("stemmatic")
    except metadata.PackageNotFoundError:
        version = "unknown"
    documents = {
        "input": input_signature(source),
        "max_bytes": settings.max_bytes,
        "timeout": settings.timeout,
        "stemmatic": version,
    }
    fingerprints = {**documents, "index": settings.index_key(), "format": FORMAT}
    pairs = {**fingerprints, "max_df": max_df, "min_shared": MIN_SHARED}
    aligned = {**pairs, "settings": settings.to_dict()}
    return {
        "documents": documents,
        "fingerprints": fingerprints,
        "pairs": pairs,
        "aligned": aligned,
    }


class Stages:
    """The stages of one run under ``work``: which to reuse, and marking them complete."""

    def __init__(self, work: Path, params: dict[str, dict[str, Any]]) -> None:
        self.work = work
        self.params = params
        self.resumed: list[str] = []

    def reuse(self, stage: str) -> dict[str, Any] | None:
        """The counts of a complete stage to reuse, or None: the stage must be made.

        Once one stage is made again, every stage after it is too.
        """
        if len(self.resumed) < STAGES.index(stage):
            return None
        counts = done(self.work / stage, self.params[stage])
        if counts is not None:
            self.resumed.append(stage)
        return counts

    def reuse_together(self, *stages: str) -> list[dict[str, Any]] | None:
        """:meth:`reuse` for stages made in one pass: all of them, or none."""
        if len(self.resumed) < STAGES.index(stages[0]):
            return None
        found = [done(self.work / stage, self.params[stage]) for stage in stages]
        if any(counts is None for counts in found):
            return None
        self.resumed.extend(stages)
        return [counts for counts in found if counts is not None]

    def fresh(self, stage: str) -> Path:
        """The stage's folder, emptied, to make the stage again."""
        folder = self.work / stage
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        return folder

    def mark(self, stage: str, counts: dict[str, Any]) -> None:
        """Mark a stage complete: call it after every file of the stage is written."""
        mark(self.work / stage, self.params[stage], counts)


def done(folder: Path, params: dict[str, Any]) -> dict[str, Any] | None:
    """The counts recorded by a complete stage made with ``params``, else None."""
    marker = folder / MARKER
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or recorded.get("params") != jsonable(params):
        return None
    counts = recorded.get("counts")
    return counts if isinstance(counts, dict) else None


def mark(folder: Path, params: dict[str, Any], counts: dict[str, Any]) -> None:
    """Write ``folder``'s marker (atomically: a stage is complete or not)."""
    tmp = folder / (MARKER + ".tmp")
    tmp.write_text(json.dumps({"params": params, "counts": counts}, indent=1), encoding="utf-8")
    os.replace(tmp, folder / MARKER)


def jsonable(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(value))


def skipped_line(item: Skipped) -> str:
    """One line of :data:`SKIPPED`."""
    return json.dumps({"path": item.path, "reason": item.reason}, ensure_ascii=False) + "\n"


def read_skipped(path: Path) -> tuple[Skipped, ...]:
    """The skipped inputs :func:`skipped_line` wrote to ``path``."""
    found = []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            record = json.loads(line)
            found.append(Skipped(record["path"], record["reason"]))
    return tuple(found)


def read_aligned(folder: Path) -> pa.Table:
    """The aligned pairs in the Parquet files of ``folder``, in the output stage's schema.

    Files whose names start with ``_`` or ``.`` (markers, files being written) are not
    read.
    """
    files = sorted(p for p in folder.glob("*.parquet") if not p.name.startswith(("_", ".")))
    tables = [pq.read_table(p) for p in files]
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return ALIGNED_SCHEMA.empty_table()
    # Spark names list items "element" and may mark columns nullable differently.
    return pa.concat_tables([t.select(ALIGNED_SCHEMA.names).cast(ALIGNED_SCHEMA) for t in tables])
