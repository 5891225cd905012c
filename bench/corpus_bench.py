"""Benchmark of ``stemmatic corpus``: time, memory, and recall of planted reuse.

Builds corpora of about 10 MB, 100 MB and (with ``--sizes 10,100,1000``) 1 GB of text from
the PAN 2013 text-alignment training texts, plants reused passages at known offsets, runs
each engine on them and measures:

* wall time, CPU time of the whole process tree, and peak memory: the largest resident set of the whole process tree
  (the run, its worker processes, Spark's JVM and Python workers), sampled from /proc
  every 0.2 s, and ``getrusage(RUSAGE_CHILDREN).ru_maxrss``, the largest single process;
* recall of the planted passages: a planted passage is found when a reported passage
  between the right two documents overlaps it by at least 50% on both sides;
* precision: the share of reported passages that overlap a planted one by at least 50%
  of their own length on both sides.  The PAN texts are web pages, some of which share
  text themselves; passages of that natural reuse count against precision here.

The corpora:

* base texts: every PAN source document and the suspicious documents that contain no
  plagiarism (the others are made from source documents, which would add reuse that
  is not planted), in a seeded order;
* beyond the first ~15 MB, *generations* of the same texts: each document's paragraphs
  shuffled, every word that is not a stop word replaced through a seeded permutation of
  the vocabulary among words of similar frequency, and every digit through a seeded
  permutation of the digits, so that generations read like English statistically but
  share no phrases (numbers included: left as they were, the timetables and dates of
  one text would pair its copies in every generation with each other, a reuse nobody
  planted that grows with the square of the corpus size);
* planting, within chunks of documents: a passage of 50–200 words starting at a
  paragraph of one document is copied between two paragraphs of one, two or three other
  documents; 40% of copies are lightly edited (about 4% of words replaced, 1% dropped).
  Two documents holding copies of the same passage share it too, and that is counted.

Run::

    python bench/corpus_bench.py                         # 10 MB and 100 MB, both engines
    python bench/corpus_bench.py --sizes 10 --engines local
    python bench/corpus_bench.py --sizes 1000 --engines local
    python bench/corpus_bench.py --sizes 100 --no-paraphrase  # copies only: runs "…/copies"

Results are printed with the platform and date and written to
``bench/results/corpus.json`` (a run adds to the results of earlier runs by size and
engine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DATA = Path("/work/shared/data/pan13-text-alignment-train")
RESULTS = Path(__file__).parent / "results" / "corpus.json"
WORK = Path(__file__).parent / "out" / "corpus"
SEED = 2013
CHUNK_DOCS = 500
PLANTS_PER_CHUNK = 120
MIN_WORDS, MAX_WORDS = 50, 200
EDITED_SHARE = 0.4
BLOCK = 50  # words of similar frequency permuted together

_WORD = re.compile(r"[A-Za-z]+")
Truth = tuple[str, int, int, str, int, int, int, bool]  # a, span, b, span, words, edited


# --- corpus ------------------------------------------------------------------------------


def base_texts(data: Path) -> list[tuple[str, list[str]]]:
    """The PAN texts free of planted reuse, as ``(name, paragraphs)``, in a seeded order."""
    plagiarised = set()
    for folder in ("02-no-obfuscation", "03-random-obfuscation",
                   "04-translation-obfuscation", "05-summary-obfuscation"):
        for name in os.listdir(data / folder):
            if name.endswith(".xml"):
                plagiarised.add(name.split("-source")[0] + ".txt")
    files = sorted((data / "src").glob("*.txt"))
    files += sorted(p for p in (data / "susp").glob("*.txt") if p.name not in plagiarised)
    seen: set[str] = set()
    texts = []
    for path in files:
        paragraphs = []
        for line in path.read_text(encoding="utf-8", errors="replace").split("\n"):
            key = " ".join(line.lower().split())
            # Identical paragraphs (site boilerplate) would be reuse nobody planted.
            if not key or (len(key) > 40 and key in seen):
                continue
            seen.add(key)
            paragraphs.append(line.strip())
        if sum(len(p) for p in paragraphs) > 500:
            texts.append((path.stem, paragraphs))
    random.Random(SEED).shuffle(texts)
    return texts


class Remapper:
    """A seeded permutation of the vocabulary for each generation (0 is the identity)."""

    def __init__(self, texts: list[tuple[str, list[str]]]) -> None:
        from stemmatic.normalize import STOPWORDS

        counts: dict[str, int] = defaultdict(int)
        for _, paragraphs in texts:
            for p in paragraphs:
                for w in _WORD.findall(p):
                    counts[w.lower()] += 1
        self.stop = STOPWORDS
        ranked = sorted((w for w in counts if w not in STOPWORDS), key=lambda w: (-counts[w], w))
        self.ranked = ranked
        self._maps: dict[int, dict[str, str]] = {}
        self._digits: dict[int, dict[int, str]] = {}

    def mapping(self, generation: int) -> dict[str, str]:
        if generation not in self._maps:
            rng = random.Random(f"{SEED}-{generation}")
            mapping: dict[str, str] = {}
            for i in range(0, len(self.ranked), BLOCK):
                block = self.ranked[i : i + BLOCK]
                shuffled = block[:]
                rng.shuffle(shuffled)
                mapping.update(zip(block, shuffled, strict=True))
            self._maps[generation] = mapping
            digits = list("0123456789")
            rng.shuffle(digits)
            self._digits[generation] = str.maketrans("0123456789", "".join(digits))
        return self._maps[generation]

    def apply(self, text: str, generation: int) -> str:
        if generation == 0:
            return text
        mapping = self.mapping(generation)

        def swap(match: re.Match[str]) -> str:
            word = match.group(0)
            lower = word.lower()
            new = mapping.get(lower, lower)
            if word.isupper() and len(word) > 1:
                return new.upper()
            if word[0].isupper():
                return new.capitalize()
            return new

        return _WORD.sub(swap, text).translate(self._digits[generation])


def documents(texts: list[tuple[str, list[str]]], remap: Remapper, chars: int
              ) -> Iterator[list[str]]:
    """Paragraph lists of the base texts, then of later generations, until ``chars``."""
    total = 0
    generation = 0
    while True:
        rng = random.Random(f"{SEED}-order-{generation}")
        for _, paragraphs in texts:
            if generation:
                paragraphs = paragraphs[:]
                rng.shuffle(paragraphs)
                paragraphs = [remap.apply(p, generation) for p in paragraphs]
            yield paragraphs
            total += sum(len(p) + 1 for p in paragraphs)
            if total >= chars:
                return
        generation += 1


def edit(text: str, rng: random.Random, vocabulary: list[str]) -> str:
    """Light edits: about 4% of words replaced, 1% dropped."""
    words = text.split(" ")
    out = []
    for w in words:
        roll = rng.random()
        if roll < 0.01 and len(words) > 20:
            continue
        if roll < 0.05 and w.isalpha():
            out.append(rng.choice(vocabulary))
        else:
            out.append(w)
    return " ".join(out)


def plant_chunk(
    chunk: list[list[str]], first_id: int, rng: random.Random, vocabulary: list[str]
) -> tuple[list[tuple[str, str]], list[Truth]]:
    """Plant passages among one chunk of documents; returns documents and truth."""
    n = len(chunk)
    locked: list[set[int]] = [set() for _ in range(n)]  # gaps inside a copied span
    inserts: list[dict[int, list[tuple[int, str]]]] = [defaultdict(list) for _ in range(n)]
    # plant id -> (source doc, first paragraph, last paragraph, end offset in it, words)
    sources: dict[int, tuple[int, int, int, int, int]] = {}
    targets: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    used: list[set[int]] = [set() for _ in range(n)]
    for plant in range(PLANTS_PER_CHUNK):
        s = rng.randrange(n)
        paragraphs = chunk[s]
        words = rng.randint(MIN_WORDS, MAX_WORDS)
        starts = [i for i in range(len(paragraphs)) if i not in used[s]]
        if not starts:
            continue
        first = rng.choice(starts)
        count, last, end = 0, first, 0
        for j in range(first, len(paragraphs)):
            # A span never runs over a paragraph used already or a copy inserted before.
            if j in used[s] or (j > first and inserts[s].get(j)):
                break
            tokens = list(re.finditer(r"\S+", paragraphs[j]))
            if count + len(tokens) >= words:
                last, end = j, tokens[words - count - 1].end()
                count = words
                break
            count += len(tokens)
            last, end = j, len(paragraphs[j])
        if count < MIN_WORDS:
            continue
        used[s].update(range(first, last + 1))
        locked[s].update(range(first + 1, last + 1))
        sources[plant] = (s, first, last, end, count)
        for _ in range(rng.choice([1, 1, 1, 1, 2, 2, 3])):
            t = rng.randrange(n)
            gaps = [g for g in range(len(chunk[t]) + 1) if g not in locked[t]]
            if t == s or not gaps:
                continue
            edited = rng.random() < EDITED_SHARE
            targets[plant].append((t, edited))
            inserts[t][rng.choice(gaps)].append((plant, "edited" if edited else "exact"))

    # Assemble: texts, and where each copied span and each inserted copy ended up.
    docs: list[tuple[str, str]] = []
    para_start: list[list[int]] = []
    placed: dict[tuple[int, int], tuple[int, int]] = {}  # (plant, target) -> span
    texts: list[str] = []
    copies: dict[int, str] = {}
    for plant, (s, first, last, end, _) in sources.items():
        joined = "\n".join(chunk[s][first:last]) + ("\n" if last > first else "")
        copies[plant] = joined + chunk[s][last][:end]
    for d in range(n):
        pieces: list[str] = []
        starts: list[int] = []
        pos = 0
        for g in range(len(chunk[d]) + 1):
            for plant, how in inserts[d].get(g, []):
                text = copies[plant] if how == "exact" else edit(copies[plant], rng, vocabulary)
                placed[(plant, d)] = (pos, pos + len(text))
                pieces.append(text)
                pos += len(text) + 1
            if g < len(chunk[d]):
                starts.append(pos)
                pieces.append(chunk[d][g])
                pos += len(chunk[d][g]) + 1
        para_start.append(starts)
        texts.append("\n".join(pieces))
        docs.append((f"d{first_id + d:07d}", texts[-1]))

    truth: list[Truth] = []
    for plant, (s, first, last, end, words) in sources.items():
        start = para_start[s][first]
        spots = [(s, (start, para_start[s][last] + end), False)]
        spots += [(t, placed[(plant, t)], edited) for t, edited in targets[plant]]
        for i in range(len(spots)):
            for j in range(i + 1, len(spots)):
                (a, sa, ea_), (b, sb, eb_) = spots[i], spots[j]
                if a == b:
                    continue
                ida, idb = docs[a][0], docs[b][0]
                if idb < ida:
                    ida, idb, sa, sb = idb, ida, sb, sa
                truth.append((ida, sa[0], sa[1], idb, sb[0], sb[1], words, ea_ or eb_))
    return docs, truth


def build_corpus(size_mb: int, folder: Path) -> dict[str, Any]:
    """Write ``corpus.jsonl`` and ``truth.json`` into ``folder`` (kept between runs)."""
    done = folder / "truth.json"
    if done.exists():
        return json.loads((folder / "meta.json").read_text())
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    texts = base_texts(DATA)
    remap = Remapper(texts)
    vocabulary = remap.ranked[:20000]
    rng = random.Random(f"{SEED}-plant-{size_mb}")
    truth: list[Truth] = []
    count = chars = 0
    chunk: list[list[str]] = []
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as stream:

        def flush() -> None:
            nonlocal count, chars
            docs, found = plant_chunk(chunk, count, rng, vocabulary)
            for doc_id, text in docs:
                stream.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
                chars += len(text)
            truth.extend(found)
            count += len(docs)
            chunk.clear()

        for paragraphs in documents(texts, remap, size_mb * 1_000_000):
            chunk.append(paragraphs)
            if len(chunk) == CHUNK_DOCS:
                flush()
        if chunk:
            flush()
    meta = {
        "size_mb": size_mb,
        "documents": count,
        "chars": chars,
        "bytes": (folder / "corpus.jsonl").stat().st_size,
        "planted_pairs": len(truth),
        "edited": sum(1 for t in truth if t[7]),
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=1))
    done.write_text(json.dumps(truth))
    return meta


# --- measuring ---------------------------------------------------------------------------


def tree_usage(root: int) -> tuple[int, dict[int, float]]:
    """Resident bytes of ``root`` and all its descendants, and each one's CPU seconds."""
    children: dict[int, list[int]] = defaultdict(list)
    rss: dict[int, int] = {}
    cpu: dict[int, float] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stream:
                fields = stream.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as stream:
                rss[int(entry)] = int(stream.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        children[int(fields[1])].append(int(entry))
        # utime and stime: fields 14 and 15 of stat, 12 and 13 after the command name.
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    total, stack, used = 0, [root], {}
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        used[pid] = cpu.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    return total, used


def run_engine(
    engine: str, corpus: Path, out: Path, timeout: float, paraphrase: bool = True
) -> dict[str, Any]:
    """Run one engine in a child process, sampling the memory of its process tree."""
    if out.exists():
        shutil.rmtree(out)
    code = (
        "import json, sys, time\n"
        "from stemmatic.corpus import run_corpus\n"
        "from stemmatic.settings import Settings\n"
        "t0 = time.perf_counter()\n"
        "stages = {}\n"
        "def progress(stage, done, total):\n"
        "    stages.setdefault(stage, round(time.perf_counter() - t0, 1))\n"
        f"r = run_corpus({str(corpus)!r}, {str(out)!r}, engine={engine!r}, "
        f"settings=Settings(paraphrase={paraphrase!r}), progress=progress)\n"
        "print('RESULT ' + json.dumps({**r.to_dict(), 'stage_starts': stages}))\n"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = [0]
    cpu: dict[int, float] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss, used = tree_usage(proc.pid)
            peak[0] = max(peak[0], rss)
            cpu.update(used)  # the last value seen of each process, alive or gone since
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    stop.set()
    sampler.join()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = None
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
    if result is None:
        tail = "\n".join(stderr.splitlines()[-15:])
        raise RuntimeError(f"{engine} failed (exit {proc.returncode}):\n{tail}")
    return {
        "seconds": round(seconds, 1),
        # CPU seconds of the whole process tree: on a shared machine, a fairer measure
        # of the work than wall time (up to 0.2 s per process may be missed).
        "cpu_seconds": round(sum(cpu.values()), 1),
        "peak_tree_rss_mib": round(peak[0] / 2**20),
        # ru_maxrss is in KiB on Linux; it only grows, so an earlier larger child hides it.
        "max_child_rss_mib": round(max(after, before) / 1024),
        "result": result,
    }


def evaluate(out: Path, truth: list[Truth]) -> dict[str, Any]:
    """Recall and precision of the reported passages against the planted ones."""
    import pyarrow.parquet as pq

    table = pq.read_table(
        out / "passages",
        columns=["query_id", "query_start", "query_end", "source_id", "source_start", "source_end"],
    )
    reported: dict[tuple[str, str], list[tuple[int, int, int, int]]] = defaultdict(list)
    for row in table.to_pylist():
        reported[(row["query_id"], row["source_id"])].append(
            (row["query_start"], row["query_end"], row["source_start"], row["source_end"])
        )
    planted: dict[tuple[str, str], list[tuple[int, int, int, int]]] = defaultdict(list)
    for a, sa, ea, b, sb, eb, _, _ in truth:
        planted[(a, b)].append((sa, ea, sb, eb))

    def overlap(x0: int, x1: int, y0: int, y1: int) -> int:
        return max(0, min(x1, y1) - max(x0, y0))

    found = {"all": [0, 0], "exact": [0, 0], "edited": [0, 0], "50-100 words": [0, 0],
             "101-200 words": [0, 0]}
    for a, sa, ea, b, sb, eb, words, edited in truth:
        hit = any(
            overlap(qs, qe, sa, ea) >= 0.5 * (ea - sa) and overlap(ss, se, sb, eb) >= 0.5 * (eb - sb)
            for qs, qe, ss, se in reported.get((a, b), ())
        )
        for key in ("all", "edited" if edited else "exact",
                    "50-100 words" if words <= 100 else "101-200 words"):
            found[key][0] += hit
            found[key][1] += 1
    correct = total = 0
    for pair, passages in reported.items():
        spans = planted.get(pair, [])
        for qs, qe, ss, se in passages:
            total += 1
            correct += any(
                overlap(qs, qe, sa, ea) >= 0.5 * (qe - qs) and overlap(ss, se, sb, eb) >= 0.5 * (se - ss)
                for sa, ea, sb, eb in spans
            )
    return {
        "recall": {k: round(v[0] / v[1], 4) if v[1] else None for k, v in found.items()},
        "planted": found["all"][1],
        "reported": total,
        "precision": round(correct / total, 4) if total else None,
        "unplanted_reported": total - correct,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100", help="corpus sizes in MB, comma-separated")
    parser.add_argument("--engines", default="local,spark")
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--timeout", type=float, default=3 * 3600)
    parser.add_argument("--keep", action="store_true", help="keep the outputs of each run")
    parser.add_argument("--no-paraphrase", action="store_true",
                        help="align copies only (Settings(paraphrase=False))")
    args = parser.parse_args(argv)

    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_at_start": os.getloadavg(),
    }
    print(json.dumps(info))
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": {}}
    results.update(info)
    for size in (int(s) for s in args.sizes.split(",")):
        folder = args.work / f"{size}MB"
        meta = build_corpus(size, folder)
        print(json.dumps({"corpus": meta}))
        truth = [tuple(t) for t in json.loads((folder / "truth.json").read_text())]
        for engine in args.engines.split(","):
            out = folder / f"out-{engine}"
            measured = run_engine(
                engine, folder / "corpus.jsonl", out, args.timeout, not args.no_paraphrase
            )
            measured["paraphrase"] = not args.no_paraphrase
            measured.update(evaluate(out, truth))  # type: ignore[arg-type]
            measured["corpus"] = meta
            measured["load_average_after"] = os.getloadavg()
            name = f"{size}MB/{engine}" + ("/copies" if args.no_paraphrase else "")
            results["runs"][name] = measured
            print(json.dumps({name: measured}))
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(results, indent=1))
    _print_table(results)
    return 0


def _print_table(results: dict[str, Any]) -> None:
    print(f"\n{results['platform']}, {results['cpus']} cpus, {results['date']}")
    print(f"{'run':<22}{'docs':>7}{'seconds':>9}{'cpu s':>8}{'MB/min':>8}{'tree MiB':>10}"
          f"{'child MiB':>10}{'pairs':>8}{'recall':>8}{'prec.':>7}")
    for name, run in sorted(results["runs"].items(), key=lambda kv: (int(kv[0].split("MB")[0]), kv[0])):
        mb = run["corpus"]["chars"] / 1e6
        print(f"{name:<22}{run['corpus']['documents']:>7}{run['seconds']:>9}"
              f"{run.get('cpu_seconds', '-'):>8}"
              f"{mb / run['seconds'] * 60:>8.1f}{run['peak_tree_rss_mib']:>10}"
              f"{run['max_child_rss_mib']:>10}{run['result']['candidate_pairs']:>8}"
              f"{run['recall']['all']:>8}{run['precision']:>7}")


if __name__ == "__main__":
    sys.exit(main())
