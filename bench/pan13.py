"""Benchmark an aligner on a PAN text-alignment corpus and score it with the PAN measures.

Usage::

    python bench/pan13.py CORPUS OUT [--workers N] [--subcorpus NAME ...] [--limit N]
                          [--aligner stemmatic|gold|none] [--set KEY=VALUE ...]

CORPUS is laid out like the PAN 2013 training corpus: ``susp/``, ``src/`` and sub-corpora
``NN-name/``, each with a ``pairs`` file ("suspicious-documentNNNNN.txt
source-documentNNNNN.txt" per line) and one gold XML per pair,
``<susp-stem>-<src-stem>.xml``.  For every selected pair the aligner runs on the two
texts; its passages are written to ``OUT/<susp-stem>-<src-stem>.xml`` in the PAN detection
format, read back, and scored against the gold cases (see ``pan13_measures``) per
sub-corpus and overall.  The platform, timings, peak memory and scores are printed and
written to ``OUT/scores.json``.

``--aligner gold`` emits the gold cases as detections: it must score 1.0 everywhere and
checks the runner, the XML round trip and the scorer.  ``--aligner none`` emits nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import resource
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

# Run as a script, this file's folder is on sys.path, so the scorer imports as a module.
from pan13_measures import Case, read_cases, score
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from stemmatic.errors import SettingsError
from stemmatic.settings import Settings
from stemmatic.types import Document, Kind, Passage

Aligner = Callable[[Document, Document, Settings], list[Passage]]

CASE_FEATURE = "plagiarism"
DETECTION_FEATURE = "detected-plagiarism"
OVERALL = "overall"
OVERALL_NOTE = (
    "overall: computed over the union of all cases and detections of the evaluated "
    "pairs, not an average of the sub-corpus scores"
)


def _is_unannotated_when_empty(subcorpus: str) -> bool:
    # In the summary sub-corpus only 238 of 1,185 pairs carry their case; the others'
    # annotation is missing, not negative, so a pair without a case there is left out.
    return subcorpus.endswith("summary-obfuscation")


@dataclass(frozen=True, slots=True)
class Pair:
    """One suspicious/source document pair of a sub-corpus."""

    subcorpus: str
    susp: str
    src: str

    @property
    def name(self) -> str:
        """``<susp-stem>-<src-stem>``: the name of the pair's gold and detection XML."""
        return f"{Path(self.susp).stem}-{Path(self.src).stem}"


class CorpusError(Exception):
    """The corpus folder is not laid out as expected."""


# --- corpus ---------------------------------------------------------------------------


def find_subcorpora(corpus: Path) -> list[str]:
    """The sub-corpus folders (``NN-name`` with a ``pairs`` file), sorted."""
    found = sorted(
        d.name
        for d in corpus.iterdir()
        if d.is_dir() and d.name[:2].isdigit() and d.name[2:3] == "-" and (d / "pairs").is_file()
    )
    if not found:
        raise CorpusError(f"{corpus}: no sub-corpus folder 'NN-name/' with a 'pairs' file")
    return found


def select_subcorpora(available: Sequence[str], wanted: Sequence[str] | None) -> list[str]:
    """Resolve names given on the command line: a full name, its ``NN`` number, or its
    name without the number (``02``, ``no-obfuscation``, ``02-no-obfuscation``)."""
    if not wanted:
        return list(available)
    chosen: list[str] = []
    for name in wanted:
        matches = [a for a in available if name in (a, a[:2], a[3:])]
        if len(matches) != 1:
            raise CorpusError(
                f"unknown sub-corpus {name!r}; choose from: {', '.join(available)}"
            )
        if matches[0] not in chosen:
            chosen.append(matches[0])
    return [a for a in available if a in chosen]


def read_pairs(corpus: Path, subcorpus: str) -> list[Pair]:
    """The pairs of a sub-corpus, in the order of its ``pairs`` file."""
    pairs = []
    path = corpus / subcorpus / "pairs"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise CorpusError(f"{path}:{number}: expected two file names, got {line!r}")
        pairs.append(Pair(subcorpus, parts[0], parts[1]))
    return pairs


def read_text(path: Path) -> str:
    """A corpus text exactly as the PAN offsets count it: UTF-8, newlines untranslated."""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


# --- aligners -------------------------------------------------------------------------


class GoldAligner:
    """A stand-in aligner that returns the gold cases of the pair as passages."""

    def __init__(self, corpus: Path) -> None:
        self.corpus = corpus
        self.gold = {
            (pair.susp, pair.src): corpus / sub / f"{pair.name}.xml"
            for sub in find_subcorpora(corpus)
            for pair in read_pairs(corpus, sub)
        }

    def __call__(self, query: Document, source: Document, settings: Settings) -> list[Passage]:
        path = self.gold.get((query.id, source.id))
        if path is None:
            return []
        return [
            Passage(
                query_start=case.this_offset,
                query_end=case.this_end,
                source_id=source.id,
                source_start=case.source_offset,
                source_end=case.source_end,
                kind=Kind.COPY,
                score=1.0,
                method="gold",
            )
            for case in read_cases(path, CASE_FEATURE)
        ]


def no_aligner(query: Document, source: Document, settings: Settings) -> list[Passage]:
    """A stand-in aligner that finds nothing (the floor of every measure)."""
    return []


def load_aligner(name: str, corpus: Path) -> Aligner:
    """The aligner named on the command line."""
    if name == "gold":
        return GoldAligner(corpus)
    if name == "none":
        return no_aligner
    try:
        from stemmatic.align import align
    except ImportError as error:
        raise CorpusError(
            f"stemmatic.align.align cannot be imported ({error}); try --aligner gold"
        ) from error
    return align


# --- workers --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    corpus: Path
    aligner: Aligner
    settings: Settings


_JOB: _Job | None = None


def _init_worker(corpus: Path, aligner: Aligner, settings: Settings) -> None:
    global _JOB
    _JOB = _Job(corpus, aligner, settings)
    _document.cache_clear()


# Each text appears in many pairs, and the pairs file is sorted by suspicious document,
# so consecutive pairs (which a worker receives in one chunk) share their query.
@lru_cache(maxsize=512)
def _document(folder: str, name: str) -> Document:
    assert _JOB is not None
    path = _JOB.corpus / folder / name
    return Document(id=name, text=read_text(path), path=str(path))


@dataclass(frozen=True, slots=True)
class _Result:
    index: int
    spans: tuple[tuple[int, int, int, int], ...]
    seconds: float
    invalid: int = 0
    error: str | None = None


def _align_pair(task: tuple[int, str, str]) -> _Result:
    index, susp, src = task
    assert _JOB is not None
    try:
        query, source = _document("susp", susp), _document("src", src)
        start = time.perf_counter()
        passages = _JOB.aligner(query, source, _JOB.settings)
        seconds = time.perf_counter() - start
    except Exception as error:  # noqa: BLE001 - one failing pair must not end the run
        return _Result(index, (), 0.0, error=f"{type(error).__name__}: {error}")
    spans = []
    invalid = 0
    for p in passages:
        if 0 <= p.query_start <= p.query_end <= len(query.text) and (
            0 <= p.source_start <= p.source_end <= len(source.text)
        ):
            spans.append((p.query_start, p.query_end, p.source_start, p.source_end))
        else:
            invalid += 1
    return _Result(index, tuple(spans), seconds, invalid)


# --- output ---------------------------------------------------------------------------


def write_detections(path: Path, pair: Pair, spans: Sequence[tuple[int, int, int, int]]) -> None:
    """Write the passages of a pair as ``detected-plagiarism`` features (PAN format)."""
    root = ET.Element("document", reference=pair.susp)
    for query_start, query_end, source_start, source_end in spans:
        ET.SubElement(
            root,
            "feature",
            {
                "name": DETECTION_FEATURE,
                "this_offset": str(query_start),
                "this_length": str(query_end - query_start),
                "source_reference": pair.src,
                "source_offset": str(source_start),
                "source_length": str(source_end - source_start),
            },
        )
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _maxrss_mib(who: int) -> float:
    # ru_maxrss is in KiB on Linux and in bytes on macOS.  For RUSAGE_CHILDREN it is the
    # peak of the largest terminated child, not a sum.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(who).ru_maxrss / scale


def _processor() -> str:
    name = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return name or "unknown"


def platform_info() -> dict[str, Any]:
    """What the benchmark ran on."""
    return {
        "platform": platform.platform(),
        "processor": _processor(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


# --- the run --------------------------------------------------------------------------


def run(
    corpus: str | Path,
    out: str | Path,
    aligner: Aligner,
    *,
    settings: Settings | None = None,
    workers: int | None = None,
    subcorpora: Sequence[str] | None = None,
    limit: int | None = None,
    aligner_name: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Align every selected pair, write the detections, score them, write scores.json.

    Args:
        corpus: the corpus folder.
        out: the folder for the detection XMLs and ``scores.json`` (created).
        aligner: ``align(query, source, settings) -> list[Passage]``.  With several
            workers it must survive being sent to a worker process (a module-level
            function or a picklable object where processes are spawned).
        settings: passed to the aligner (default ``Settings()``).
        workers: processes aligning pairs (default ``os.cpu_count()``; 1 runs in-process).
        subcorpora: sub-corpus names to run (default all).
        limit: take only the first ``limit`` pairs of each sub-corpus, counted after the
            pairs without annotation are left out.
        aligner_name: the name recorded in the results.
        progress: show a progress bar on stderr.

    Returns:
        The results, as written to ``OUT/scores.json``.

    Raises:
        CorpusError: the corpus is not laid out as expected.
        ValueError: a gold XML is malformed.
    """
    corpus, out = Path(corpus), Path(out)
    settings = settings or Settings()
    workers = workers or os.cpu_count() or 1
    if limit is not None and limit < 1:
        raise CorpusError(f"--limit must be at least 1, not {limit}")
    for folder in ("susp", "src"):
        if not (corpus / folder).is_dir():
            raise CorpusError(f"{corpus}: no '{folder}/' folder")
    started = time.perf_counter()
    date = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")

    pairs: list[Pair] = []
    gold: dict[Pair, list[Case]] = {}
    left_out: dict[str, int] = {}
    for sub in select_subcorpora(find_subcorpora(corpus), subcorpora):
        kept = []
        for pair in read_pairs(corpus, sub):
            path = corpus / sub / f"{pair.name}.xml"
            if not path.is_file():
                raise CorpusError(f"{path}: the gold XML of pair {pair.susp} {pair.src} is missing")
            cases = read_cases(path, CASE_FEATURE)
            if not cases and _is_unannotated_when_empty(sub):
                left_out[sub] = left_out.get(sub, 0) + 1
                continue
            gold[pair] = cases
            kept.append(pair)
        pairs.extend(kept[:limit])
    for pair in pairs:
        for folder, name in (("susp", pair.susp), ("src", pair.src)):
            if not (corpus / folder / name).is_file():
                raise CorpusError(
                    f"{corpus / folder / name}: missing (named in {pair.subcorpus}/pairs)"
                )

    out.mkdir(parents=True, exist_ok=True)
    tasks = [(i, pair.susp, pair.src) for i, pair in enumerate(pairs)]
    results: list[_Result | None] = [None] * len(pairs)
    workers = max(1, min(workers, len(tasks)))
    align_started = time.perf_counter()
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not progress,
    ) as bar:
        task_id = bar.add_task("aligning pairs", total=len(tasks))
        if workers == 1:
            _init_worker(corpus, aligner, settings)
            for task in tasks:
                result = _align_pair(task)
                results[result.index] = result
                bar.advance(task_id)
        else:
            # Small chunks balance the load; consecutive pairs share their query text.
            chunksize = max(1, min(8, len(tasks) // (workers * 8)))
            pool = multiprocessing.Pool(
                workers, initializer=_init_worker, initargs=(corpus, aligner, settings)
            )
            try:
                for result in pool.imap_unordered(_align_pair, tasks, chunksize=chunksize):
                    results[result.index] = result
                    bar.advance(task_id)
                pool.close()
            finally:
                pool.terminate()
                # Joined children report their peak memory to RUSAGE_CHILDREN.
                pool.join()
    wall = time.perf_counter() - align_started

    cases_by_sub: dict[str, list[Case]] = {}
    detections_by_sub: dict[str, list[Case]] = {}
    failed: list[dict[str, str]] = []
    invalid = 0
    timings: list[tuple[float, Pair]] = []
    for pair, maybe in zip(pairs, results, strict=True):
        assert maybe is not None
        result = maybe
        path = out / f"{pair.name}.xml"
        write_detections(path, pair, result.spans)
        cases_by_sub.setdefault(pair.subcorpus, []).extend(gold[pair])
        # Score what was written, as the official evaluator would read it.
        detections_by_sub.setdefault(pair.subcorpus, []).extend(
            read_cases(path, DETECTION_FEATURE)
        )
        invalid += result.invalid
        if result.error is not None:
            failed.append({"pair": pair.name, "subcorpus": pair.subcorpus, "error": result.error})
        timings.append((result.seconds, pair))

    scores: dict[str, dict[str, Any]] = {}
    for sub, sub_cases in cases_by_sub.items():
        scores[sub] = {"pairs": sum(1 for p in pairs if p.subcorpus == sub)}
        scores[sub] |= score(sub_cases, detections_by_sub[sub])
    scores[OVERALL] = {"pairs": len(pairs)} | score(
        [c for cs in cases_by_sub.values() for c in cs],
        [d for ds in detections_by_sub.values() for d in ds],
    )

    parent_mib = _maxrss_mib(resource.RUSAGE_SELF)
    child_mib = _maxrss_mib(resource.RUSAGE_CHILDREN)
    timings.sort(key=lambda t: t[0], reverse=True)
    results_doc: dict[str, Any] = {
        "benchmark": "pan-text-alignment",
        "corpus": str(corpus),
        "out": str(out),
        "aligner": aligner_name or getattr(aligner, "__qualname__", type(aligner).__name__),
        "settings": settings.to_dict(),
        "platform": platform_info(),
        "date": date,
        "workers": workers,
        "limit": limit,
        "pairs": len(pairs),
        "left_out": left_out,
        "wall_s": round(wall, 3),
        "pairs_per_s": round(len(pairs) / wall, 2) if wall > 0 else None,
        "align_s": round(sum(t for t, _ in timings), 3),
        "total_s": round(time.perf_counter() - started, 3),
        "peak_rss_mib": {
            "parent": round(parent_mib, 1),
            "largest_child": round(child_mib, 1),
            "max": round(max(parent_mib, child_mib), 1),
        },
        "slowest": [{"pair": p.name, "seconds": round(t, 3)} for t, p in timings[:5]],
        "failed": failed,
        "invalid_passages": invalid,
        "scores": scores,
        "overall_note": OVERALL_NOTE,
    }
    (out / "scores.json").write_text(json.dumps(results_doc, indent=2) + "\n", encoding="utf-8")
    return results_doc


# --- the report -----------------------------------------------------------------------


def render(results: dict[str, Any], console: Console) -> None:
    """Print the platform, timings and the score table."""
    info = results["platform"]
    console.print(f"platform:  {info['platform']}")
    console.print(f"processor: {info['processor']} ({info['cpu_count']} CPUs)")
    console.print(f"python:    {info['python']}")
    console.print(f"date:      {results['date']}")
    console.print(f"aligner:   {results['aligner']}   workers: {results['workers']}"
                  + (f"   limit: {results['limit']} per sub-corpus" if results["limit"] else ""))
    for sub, count in results["left_out"].items():
        console.print(f"left out:  {count} pairs of {sub} whose gold XML holds no case "
                      "(annotation missing, not negative)")
    console.print(f"pairs:     {results['pairs']}")
    console.print(f"wall time: {results['wall_s']:.1f} s   ({results['pairs_per_s']} pairs/s; "
                  f"{results['align_s']:.1f} s inside the aligner; {results['total_s']:.1f} s in all)")
    memory = results["peak_rss_mib"]
    if results["workers"] > 1:
        console.print(f"peak RSS:  {memory['max']:.0f} MiB (parent {memory['parent']:.0f} MiB, "
                      f"largest worker {memory['largest_child']:.0f} MiB)")
    else:
        console.print(f"peak RSS:  {memory['parent']:.0f} MiB (aligned in-process)")
    if results["invalid_passages"]:
        console.print(f"[yellow]{results['invalid_passages']} passages outside their texts "
                      "were dropped[/]")
    if results["failed"]:
        console.print(f"[red]{len(results['failed'])} pairs failed (scored as no detection); "
                      f"first: {results['failed'][0]['pair']}: {results['failed'][0]['error']}[/]")

    table = Table(title="PAN text alignment: macro character measures")
    for column in ("sub-corpus", "pairs", "cases", "detections", "false det.",
                   "precision", "recall", "granularity", "plagdet"):
        table.add_column(column, justify="left" if column == "sub-corpus" else "right")
    for sub, s in results["scores"].items():
        if sub == OVERALL:
            table.add_section()
        table.add_row(
            sub, str(s["pairs"]), str(s["cases"]), str(s["detections"]),
            str(s["false_detections"]), f"{s['precision']:.4f}", f"{s['recall']:.4f}",
            f"{s['granularity']:.4f}", f"{s['plagdet']:.4f}",
            style="bold" if sub == OVERALL else None,
        )
    console.print(table)
    console.print(results["overall_note"])


# --- command line ---------------------------------------------------------------------


def parse_setting(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` of ``--set``, with VALUE converted to the type of the default."""
    key, sep, raw = text.partition("=")
    defaults = {f.name: f.default for f in fields(Settings)}
    if not sep or key not in defaults:
        raise SettingsError(f"--set takes KEY=VALUE with KEY one of: {', '.join(defaults)}")
    default = defaults[key]
    try:
        if isinstance(default, bool):
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(raw)
            return key, raw.lower() in ("true", "1", "yes")
        if isinstance(default, int):
            return key, int(raw)
        if isinstance(default, float):
            return key, float(raw)
    except ValueError:
        raise SettingsError(
            f"--set {key}: {raw!r} is not of type {type(default).__name__}"
        ) from None
    return key, raw


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="Run an aligner on a PAN text-alignment corpus and score it "
        "(macro precision/recall, granularity, plagdet)."
    )
    parser.add_argument("corpus", type=Path, help="corpus folder (susp/, src/, NN-name/)")
    parser.add_argument("out", type=Path, help="folder for detection XMLs and scores.json")
    parser.add_argument("--workers", type=int, default=os.cpu_count(),
                        help="processes (default: CPU count; 1 runs in-process)")
    parser.add_argument("--subcorpus", nargs="+", action="extend", metavar="NAME",
                        help="sub-corpora to run: 02, no-obfuscation or 02-no-obfuscation "
                        "(default: all)")
    parser.add_argument("--limit", type=int, help="first N pairs of each sub-corpus")
    parser.add_argument("--aligner", choices=("stemmatic", "gold", "none"), default="stemmatic",
                        help="stemmatic.align.align (default); gold: emit the gold cases "
                        "(must score 1.0); none: emit nothing")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        dest="settings", help="override a Settings field, e.g. --set ngram=5")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    # Piped to a file, rich would wrap the table at 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=120)
    try:
        if args.workers is not None and args.workers < 1:
            raise CorpusError(f"--workers must be at least 1, not {args.workers}")
        if not args.corpus.is_dir():
            raise CorpusError(f"{args.corpus}: not a folder")
        settings = Settings().replace(**dict(parse_setting(s) for s in args.settings))
        aligner = load_aligner(args.aligner, args.corpus)
        results = run(
            args.corpus, args.out, aligner, settings=settings, workers=args.workers,
            subcorpora=args.subcorpus, limit=args.limit, aligner_name=args.aligner,
            progress=not args.no_progress,
        )
    except (CorpusError, SettingsError, ValueError) as error:
        print(f"pan13: error: {error}", file=sys.stderr)
        return 2
    render(results, console)
    console.print(f"detections and scores.json written to {args.out}")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
