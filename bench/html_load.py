"""Benchmark of the HTML report: how fast a large report opens in a browser.

Builds a synthetic report (seeded): a query of about ``--chars`` characters (1 MB by
default) holding ``--passages`` passages (2,000) taken from ``--sources`` sources, each
passage with word-level differences (changed words, spelling variants, dropped and added
words), and findings of several types.  It renders the report with
:func:`stemmatic.report.html.render_html_report`, opens the file in headless Chromium
through Playwright and measures the load time: navigation start to the
``stemmatic-ready`` mark the page's script sets once it has built the page and laid it
out.  It also times clicking a passage and pressing ``n`` (next finding), since a page
can open fast and still answer slowly.

It prints the platform and the figures and writes them to ``bench/results/html_load.json``.

Run::

    python bench/html_load.py                      # 1 MB, 2,000 passages
    python bench/html_load.py --chars 200000 --passages 400 --runs 3
    python bench/html_load.py --chromium /usr/bin/chromium --keep /tmp/big.html

Needs Playwright (``pip install playwright``) and a Chromium (Debian: ``apt-get install
chromium``); Playwright's own browser download is not required.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from stemmatic.report import to_dict
from stemmatic.report.html import render_html
from stemmatic.types import (
    Attribution,
    Difference,
    DiffType,
    Document,
    Fidelity,
    Finding,
    Kind,
    Passage,
    Report,
)

RESULTS = Path(__file__).parent / "results" / "html_load.json"
SEED = 4
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FINDING_TYPES = (
    "misquote",
    "unquoted-copy",
    "uncited-passage",
    "miscited",
    "citation-not-in-corpus",
    "quotation-not-found",
    "drift",
    "shared-error",
)


def _vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    consonants, vowels = "bcdfghklmnprstvwz", "aeiou"
    words: set[str] = set()
    while len(words) < size:
        length = rng.randint(1, 4)
        words.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(length)))
    return sorted(words)


def _sentence_words(rng: random.Random, vocabulary: list[str], count: int) -> list[str]:
    words = [rng.choice(vocabulary) for _ in range(count)]
    words[0] = words[0].capitalize()
    words[-1] += "."
    return words


def _wrap(text: list[str], start: int, width: int = 78) -> None:
    """Hard-wrap ``text[start:]`` (a list of characters) in place: spaces become newlines.

    One character for one, so every offset stays valid.
    """
    column = 0
    last_space = -1
    for i in range(start, len(text)):
        if text[i] == "\n":
            column, last_space = 0, -1
            continue
        if text[i] == " ":
            last_space = i
        column += 1
        if column > width and last_space != -1:
            text[last_space] = "\n"
            column = i - last_space
            last_space = -1


def synthetic_report(
    chars: int = 1_000_000, passages: int = 2000, sources: int = 40, seed: int = SEED
) -> Report:
    """A report with a long query and many passages, findings and differences.

    Args:
        chars: about how long the query is.
        passages: how many passages the query holds.
        sources: how many sources they come from.
        seed: the random seed.

    Returns:
        A report whose spans are all consistent with its texts.
    """
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng)
    # Sources: long texts of random sentences, with the offset of every word.
    source_texts: list[str] = []
    source_words: list[list[tuple[int, int]]] = []
    source_chars = max(20_000, chars // sources)
    for _ in range(sources):
        text: list[str] = []  # characters
        spans: list[tuple[int, int]] = []
        length = 0
        while length < source_chars:
            for word in _sentence_words(rng, vocabulary, rng.randint(8, 24)):
                if text:
                    text.append(" ")
                    length += 1
                spans.append((length, length + len(word)))
                text.append(word)
                length += len(word)
            if rng.random() < 0.15:
                text.append("\n")
                length += 1
        joined = "".join(text)
        source_texts.append(joined)
        source_words.append(spans)

    query: list[str] = []  # characters, so wrapping can edit in place
    raw: list[tuple[int, int, int, int, int, list[tuple[DiffType, int, int, int, int]]]] = []
    filler_per_passage = max(0, chars // passages - 330)

    def emit(piece: str) -> int:
        start = len(query)
        query.extend(piece)
        return start

    for _ in range(passages):
        paragraph_start = len(query)
        filler: list[str] = []
        while sum(len(w) + 1 for w in filler) < filler_per_passage:
            filler.extend(_sentence_words(rng, vocabulary, rng.randint(8, 20)))
        emit(" ".join(filler) + " ")
        source = rng.randrange(sources)
        words = source_words[source]
        count = rng.randint(25, 60)
        first = rng.randrange(0, len(words) - count)
        source_text = source_texts[source]
        differences: list[tuple[DiffType, int, int, int, int]] = []
        q_start = len(query)
        for position in range(first, first + count):
            s_start, s_end = words[position]
            word = source_text[s_start:s_end]
            roll = rng.random()
            if position > first:
                emit(" ")
            if roll < 0.03 and position not in (first, first + count - 1):
                # Dropped from the source: nothing in the query; undo the space.
                query.pop()
                differences.append((DiffType.OMISSION, len(query), len(query), s_start, s_end))
                continue
            if roll < 0.06:
                at = emit(rng.choice(vocabulary))
                differences.append((DiffType.WORD, at, len(query), s_start, s_end))
            elif roll < 0.09:
                at = emit(word + "e")
                differences.append((DiffType.SPELLING, at, len(query), s_start, s_end))
            else:
                emit(word)
            if roll > 0.985 and position < first + count - 1:
                at = emit(" " + rng.choice(vocabulary)) + 1
                differences.append((DiffType.INSERTION, at, len(query), s_end, s_end))
        q_end = len(query)
        s_begin, s_finish = words[first][0], words[first + count - 1][1]
        raw.append((q_start, q_end, source, s_begin, s_finish, differences))
        emit("\n\n")
        _wrap(query, paragraph_start)
    query_text = "".join(query)

    kinds = (Kind.QUOTATION, Kind.COPY, Kind.PARAPHRASE)
    attributions = (Attribution.CITED, Attribution.UNCITED, Attribution.MISCITED, None)
    documents = [
        Document(
            id=f"source-{i:03d}", text=t, path=f"corpus/source-{i:03d}.txt", title=f"Source {i}"
        )
        for i, t in enumerate(source_texts)
    ]
    passage_objects = []
    findings = []
    for number, (q_start, q_end, source, s_start, s_end, diffs) in enumerate(raw):
        kind = kinds[number % 3]
        source_text = source_texts[source]
        passage_objects.append(
            Passage(
                query_start=q_start,
                query_end=q_end,
                source_id=documents[source].id,
                source_start=s_start,
                source_end=s_end,
                kind=kind,
                score=round(rng.uniform(0.5, 1.0), 3),
                differences=tuple(
                    Difference(
                        query=query_text[a:b],
                        source=source_text[c:d],
                        type=dtype,
                        query_start=a,
                        query_end=b,
                        source_start=c,
                        source_end=d,
                    )
                    for dtype, a, b, c, d in diffs
                ),
                fidelity=Fidelity.VARIANT if kind == Kind.QUOTATION else None,
                attribution=attributions[number % 4],
            )
        )
        if number % 7 == 0:
            findings.append(
                Finding(
                    type=FINDING_TYPES[number % len(FINDING_TYPES)],
                    start=q_start,
                    end=min(q_end, q_start + 40),
                    message=f"synthetic finding {number} about passage {number}",
                    source_id=documents[source].id,
                    source_start=s_start,
                    source_end=min(s_end, s_start + 40),
                )
            )
    return Report(
        query=Document(
            id="query", text=query_text, path="synthetic/query.txt", title="Synthetic query"
        ),
        sources=tuple(documents),
        passages=tuple(passage_objects),
        findings=tuple(findings),
    )


def _browser_figures(
    path: Path, chromium: str, runs: int, width: int, height: int
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    loads: list[float] = []
    clicks: list[float] = []
    nexts: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        errors: list[str] = []
        try:
            for _ in range(runs):
                page = browser.new_page(viewport={"width": width, "height": height})
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.goto(path.as_uri(), wait_until="load", timeout=60_000)
                page.wait_for_selector("html[data-ready]", state="attached", timeout=60_000)
                if errors:
                    raise RuntimeError(f"the page failed: {errors[0]}")
                loads.append(
                    page.evaluate("performance.getEntriesByName('stemmatic-ready')[0].startTime")
                )
                # Interaction: select a passage deep in the text, then the next finding.
                clicks.append(
                    page.evaluate(
                        """() => {
                          const marks = document.querySelectorAll('button.pm');
                          const t0 = performance.now();
                          marks[Math.floor(marks.length * 0.7)].click();
                          document.body.getBoundingClientRect();  // force layout
                          return performance.now() - t0;
                        }"""
                    )
                )
                nexts.append(
                    page.evaluate(
                        """() => {
                          const t0 = performance.now();
                          document.dispatchEvent(new KeyboardEvent('keydown', {key: 'n', bubbles: true}));
                          document.body.getBoundingClientRect();
                          return performance.now() - t0;
                        }"""
                    )
                )
                page.close()
            version = browser.version
        finally:
            browser.close()
    return {
        "browser": f"Chromium {version} (headless)",
        "viewport": f"{width}x{height}",
        "runs": runs,
        "load_ms": [round(x, 1) for x in loads],
        "load_ms_median": round(statistics.median(loads), 1),
        "click_passage_ms_median": round(statistics.median(clicks), 1),
        "next_finding_ms_median": round(statistics.median(nexts), 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=1_000_000, help="query length (characters)")
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--sources", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5, help="page loads to time")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--keep", type=Path, help="also keep the HTML file here")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    print(f"platform: {platform.platform()} · Python {platform.python_version()}", flush=True)
    print(f"date: {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}")
    started = time.perf_counter()
    report = synthetic_report(args.chars, args.passages, args.sources)
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    data = to_dict(report, include_texts=True)
    html = render_html(data)
    render_seconds = time.perf_counter() - started
    differences = sum(len(p.differences) for p in report.passages)
    print(
        f"report: query {len(report.query.text):,} characters, {len(report.passages):,} passages, "
        f"{differences:,} differences, {len(report.findings):,} findings, "
        f"{len(report.sources)} sources (built in {build_seconds:.1f} s)"
    )
    size = len(html.encode("utf-8"))
    print(f"rendered: {size / 1e6:.2f} MB of HTML in {render_seconds:.2f} s", flush=True)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.html"
        path.write_text(html, encoding="utf-8")
        if args.keep:
            args.keep.write_text(html, encoding="utf-8")
        figures = _browser_figures(path, args.chromium, args.runs, 1280, 800)
    print(
        f"{figures['browser']}, viewport {figures['viewport']}: "
        f"load {figures['load_ms_median']:.0f} ms "
        f"median of {args.runs} (all: {', '.join(f'{x:.0f}' for x in figures['load_ms'])}); "
        f"click a passage {figures['click_passage_ms_median']:.0f} ms; "
        f"next finding {figures['next_finding_ms_median']:.0f} ms; target < 2000 ms"
    )
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "report": {
            "query_characters": len(report.query.text),
            "passages": len(report.passages),
            "differences": differences,
            "findings": len(report.findings),
            "sources": len(report.sources),
        },
        "html_bytes": size,
        "render_seconds": round(render_seconds, 2),
        **figures,
        "target_ms": 2000,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
