"""What checking quotations and citations adds to a trace.

The issue's target: the classify stage (quotations, citations, attribution, findings)
adds at most 20% to a plain trace.

* **plain**: align the query with every source, ``stemmatic.align.align`` per source;
* **full**: ``stemmatic.pipeline.trace`` with the same documents (alignment + classify);
* **classify**: ``stemmatic.classify.classify`` alone, on the passages of the plain run.

The overhead is ``full / plain - 1`` (medians).  Runs are *cold*: the per-process cache of
prepared (tokenized) texts is emptied before each run, as for a query traced once; a
*warm* figure, with every text already prepared, is reported too (there tokenizing is
free, so the share of classify is larger).

Workloads, both traced from in-memory documents so that file reading is not timed:

1. ``example``: ``examples/essay.md`` against ``examples/sources/`` (ten quotations,
   fifteen citations, a reference list);
2. ``pan``: a long query made of PAN 2013 suspicious documents with quotations (exact,
   with an ellipsis, with a changed word), cited copies, narrative citations and a
   reference list planted from PAN source documents, which get authors and years.
   Needs the PAN corpus (``--pan``, default ``../shared/data/pan13-text-alignment-train``
   beside the repository); skipped when it is missing.

Run::

    python bench/trace_overhead.py [--runs 5] [--pan PATH]

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

from stemmatic import ingest
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

    def full() -> object:
        return trace(query, sources=list(sources), settings=settings)

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
        times: dict[str, list[tuple[float, float]]] = {"plain": [], "full": [], "classify": []}
        for _ in range(runs):
            times["plain"].append(_timed(plain, cold))
            times["full"].append(_timed(full, cold))
            if cold:
                _clear_prepared()
                plain()
            times["classify"].append(_timed(classify_only, False))
        entry: dict[str, Any] = {"runs": runs}
        for clock, k in (("wall", 0), ("cpu", 1)):
            p, f, c = (statistics.median(t[k] for t in times[n]) for n in ("plain", "full", "classify"))
            entry[clock] = {
                "plain_s": round(p, 4),
                "full_s": round(f, 4),
                "classify_s": round(c, 4),
                "overhead": round(f / p - 1, 4),
                "classify_share": round(c / p, 4),
            }
        out[mode] = entry
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pan", type=Path, default=DEFAULT_PAN)
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

    header = f"{'workload':<10}{'mode':<6}{'clock':<6}{'query chars':>12}{'plain s':>9}" \
             f"{'full s':>9}{'classify s':>11}{'overhead':>10}  target ≤ {TARGET:.0%}"
    print(header)
    print("-" * len(header))
    for name, w in result["workloads"].items():
        for mode in ("cold", "warm"):
            for clock in ("cpu", "wall"):
                m = w[mode][clock]
                ok = "ok" if m["overhead"] <= TARGET else "OVER"
                print(f"{name:<10}{mode:<6}{clock:<6}{w['query_chars']:>12,}{m['plain_s']:>9.3f}"
                      f"{m['full_s']:>9.3f}{m['classify_s']:>11.3f}{m['overhead']:>10.1%}  {ok}")
    print("\ncpu = process CPU time (steadier on a shared machine); overhead = full / plain - 1")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
