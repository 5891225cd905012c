"""What checking quotations and citations adds to a trace.

The issue's target: the classify stage (quotations, citations, attribution, findings)
adds at most 20% to a plain trace.

The headline figure is measured inside each traced run: ``stemmatic.pipeline.trace`` is
run with its call to ``classify`` timed, and the overhead of that run is the time of
``classify`` over the time of the rest of the trace (reading nothing, aligning every
source, assembling the report).  Both parts share the run, so a busy machine or a faster
aligner moves them alike; the figure is the median over the runs.

Two figures from separate runs are reported beside it:

* **plain**: align the query with every source, ``stemmatic.align.align`` per source,
  and **full**: ``trace`` with the same documents; ``full / plain - 1``;
* **classify**: ``stemmatic.classify.classify`` alone, on the passages of the plain run.

Runs are *cold*: the per-process cache of prepared (tokenized) texts and the cache of
the query's sections are emptied before each run, as for a query traced once; a *warm*
figure, with every text already prepared, is reported too (there tokenizing is free, so
the share of classify is larger).

Workloads, both traced from in-memory documents so that file reading is not timed:

1. ``example``: ``examples/essay.md`` against ``examples/sources/`` (ten quotations,
   fifteen citations, a reference list);
2. ``pan``: a long query made of PAN 2013 suspicious documents with quotations (exact,
   with an ellipsis, with a changed word), cited copies, narrative citations and a
   reference list planted from PAN source documents, which get authors and years.
   Needs the PAN corpus (``--pan``, default ``../shared/data/pan13-text-alignment-train``
   beside the repository); skipped when it is missing.

Run::

    python bench/trace_overhead.py [--runs 7] [--pan PATH]

It prints the platform and the figures and writes ``bench/results/trace_overhead.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from stemmatic import citations, ingest, pipeline
from stemmatic import classify as classify_module
from stemmatic.align import align, units
from stemmatic.classify import classify
from stemmatic.pipeline import trace
from stemmatic.settings import Settings
from stemmatic.types import Document, Passage

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "trace_overhead.json"
DEFAULT_PAN = ROOT.parent / "shared" / "data" / "pan13-text-alignment-train"
TARGET = 0.20

SURNAMES = ["Abbott", "Brandt", "Castillo", "Dunmore", "Eriksen", "Fairley", "Gallo", "Hartwell",
            "Ivanova", "Jarvis", "Kowalski", "Lindgren"]


def _clear_prepared() -> None:
    """Forget every prepared text, so the next run tokenizes from scratch."""
    with units._lock:
        units._cache.clear()
        units._cached_chars[0] = 0
    # The sections of a text (notes, references) are cached by text too, and so is what
    # ``classify.warm`` found in a query.
    citations._all_sections.cache_clear()
    classify_module._WARMED.clear()


class _TimedClassify:
    """``classify`` as the pipeline calls it, timed: (wall, CPU) seconds of each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, float]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return classify(*args, **kwargs)
        finally:
            self.calls.append((time.perf_counter() - wall, time.process_time() - cpu))


# ---------------------------------------------------------------------------------------
# Workloads


def example_workload(settings: Settings) -> tuple[Document, list[Document]]:
    query = ingest.load(ROOT / "examples" / "essay.md", settings)
    sources, _ = ingest.collect([ROOT / "examples" / "sources"], settings)
    return query, sources


_SENTENCE = re.compile(r"[A-Z][^.!?\n\"“”']{60,240}[.!?](?=\s)")


def pan_workload(pan: Path, seed: int = 13, n_susp: int = 24, n_src: int = 8
                 ) -> tuple[Document, list[Document], dict[str, int]]:
    """A long query of PAN suspicious texts with planted quotations and citations."""
    rng = random.Random(seed)

    def read(path: Path) -> str:
        return path.read_text(encoding="utf-8", errors="replace")

    pairs = (pan / "01-no-plagiarism" / "pairs").read_text().split("\n")
    susp_names = sorted({p.split()[0] for p in pairs if p.strip()})
    src_names = sorted({p.split()[1] for p in pairs if p.strip()})
    susp = [read(pan / "susp" / n) for n in rng.sample(susp_names, n_susp)]
    sources: list[Document] = []
    for k, name in enumerate(rng.sample(src_names, n_src * 3)):
        text = read(pan / "src" / name)
        if len(_SENTENCE.findall(text)) >= 6:
            sources.append(Document(
                id=name, text=text, author=f"{rng.choice('ACDEJMPRST')}. {SURNAMES[len(sources)]}",
                date=str(1990 + k), title=f"Report {k}",
            ))
        if len(sources) == n_src:
            break

    paragraphs = [p for text in susp for p in re.split(r"\n\s*\n|\n", text) if len(p.split()) > 20]
    planted: dict[str, int] = {"exact": 0, "ellipsis": 0, "altered": 0, "copy": 0}
    for doc in sources:
        surname, year = doc.author.split()[-1], doc.date  # type: ignore[union-attr]
        found = _SENTENCE.findall(doc.text)
        chosen = rng.sample(found, 4)
        words = chosen[1].rstrip(".!?").split()
        cut = len(words) // 2
        inserts = [
            f"As {surname} ({year}) writes, “{chosen[0].rstrip('.!?')}”.",
            (f"One passage is often cited: “{' '.join(words[:cut])} … {' '.join(words[cut + 2:])}” "
             f"({surname} {year}, p. {rng.randint(2, 300)})."),
            f"“{_alter(chosen[2].rstrip('.!?'), rng)}” ({surname} {year}).",
            f"{chosen[3].rstrip('.!?')} ({surname} {year}, p. {rng.randint(2, 300)}).",
        ]
        planted["exact"] += 1
        planted["ellipsis"] += 1
        planted["altered"] += 1
        planted["copy"] += 1
        for sentence in inserts:
            at = rng.randrange(len(paragraphs))
            paragraphs[at] = paragraphs[at] + " " + sentence
    references = [
        f"{d.author.split()[-1]}, {d.author.split()[0]} ({d.date}). *{d.title}*."  # type: ignore[union-attr]
        for d in sorted(sources, key=lambda d: d.author.split()[-1])  # type: ignore[union-attr]
    ]
    text = "\n\n".join(paragraphs) + "\n\n## References\n\n" + "\n\n".join(references) + "\n"
    return Document(id="pan-query.md", text=text, format="md"), sources, planted


def _alter(sentence: str, rng: random.Random) -> str:
    words = sentence.split()
    k = rng.randrange(1, len(words) - 1)
    words[k] = "never" if words[k] != "never" else "always"
    return " ".join(words)


# ---------------------------------------------------------------------------------------
# Timing


def _timed(run: Callable[[], object], cold: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run."""
    if cold:
        _clear_prepared()
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(query: Document, sources: Sequence[Document], settings: Settings, runs: int
            ) -> dict[str, Any]:
    def plain() -> list[Passage]:
        out: list[Passage] = []
        for source in sources:
            out.extend(align(query, source, settings))
        return out

    timed = _TimedClassify()

    def full() -> object:
        pipeline.classify = timed
        try:
            return trace(query, sources=list(sources), settings=settings)
        finally:
            pipeline.classify = classify

    passages = sorted(plain(), key=lambda p: (p.query_start, p.query_end, p.source_id))
    full()  # warm imports, wordfreq and regex caches

    out: dict[str, Any] = {
        "query_chars": len(query.text),
        "sources": len(sources),
        "source_chars": sum(len(s.text) for s in sources),
        "passages": len(passages),
    }

    def classify_only() -> object:
        # Inside a trace, classify finds every text already prepared by the aligner.
        return classify(query, sources, passages, settings)

    for mode, cold in (("cold", True), ("warm", False)):
        # Interleave the runs so that changes in machine load hit all of them alike.
        times: dict[str, list[tuple[float, float]]] = {
            "plain": [], "full": [], "classify": [], "traced": []
        }
        for _ in range(runs):
            times["plain"].append(_timed(plain, cold))
            timed.calls.clear()
            times["full"].append(_timed(full, cold))
            (traced,) = timed.calls
            times["traced"].append(traced)
            if cold:
                _clear_prepared()
                plain()
            times["classify"].append(_timed(classify_only, False))
        entry: dict[str, Any] = {"runs": runs}
        for clock, k in (("wall", 0), ("cpu", 1)):
            p, f, c, t = (
                statistics.median(x[k] for x in times[n])
                for n in ("plain", "full", "classify", "traced")
            )
            same_run = statistics.median(
                tr[k] / (fu[k] - tr[k]) for tr, fu in zip(times["traced"], times["full"])
            )
            entry[clock] = {
                "traced_classify_s": round(t, 4),
                "traced_rest_s": round(f - t, 4),
                "overhead": round(same_run, 4),
                "plain_s": round(p, 4),
                "full_s": round(f, 4),
                "full_over_plain": round(f / p - 1, 4),
                "classify_s": round(c, 4),
                "classify_share": round(c / p, 4),
            }
        out[mode] = entry
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pan", type=Path, default=DEFAULT_PAN)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    settings = Settings()

    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "target_overhead": TARGET,
        "workloads": {},
    }
    print(f"trace overhead of classify — {result['date']}")
    print(f"{result['platform']}, Python {result['python']}, {result['cpus']} CPUs\n")

    query, sources = example_workload(settings)
    result["workloads"]["example"] = measure(query, sources, settings, args.runs)
    if args.pan.exists():
        query, sources, planted = pan_workload(args.pan)
        result["workloads"]["pan"] = {"planted": planted,
                                      **measure(query, sources, settings, max(3, args.runs // 2))}
    else:
        print(f"(PAN corpus not found at {args.pan}: the pan workload is skipped)\n")

    header = (
        f"{'workload':<10}{'mode':<6}{'clock':<6}{'query chars':>12}{'classify s':>11}"
        f"{'rest s':>9}{'overhead':>10}  {'plain s':>8}{'full s':>8}{'full/plain':>11}"
        f"  target ≤ {TARGET:.0%}"
    )
    print(header)
    print("-" * len(header))
    for name, w in result["workloads"].items():
        for mode in ("cold", "warm"):
            for clock in ("cpu", "wall"):
                m = w[mode][clock]
                ok = "ok" if m["overhead"] <= TARGET else "OVER"
                print(f"{name:<10}{mode:<6}{clock:<6}{w['query_chars']:>12,}"
                      f"{m['traced_classify_s']:>11.3f}{m['traced_rest_s']:>9.3f}"
                      f"{m['overhead']:>10.1%}  {m['plain_s']:>8.3f}{m['full_s']:>8.3f}"
                      f"{m['full_over_plain']:>+11.1%}  {ok}")
    print("\ncpu = process CPU time (steadier on a shared machine); medians over the runs")
    print("overhead = classify / rest of the same traced run; full/plain = separate runs")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
