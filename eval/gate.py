"""Quality gate: score quotations, citations and findings on the annotated corpus.

Usage::

    python eval/gate.py                  # score, print the table, fail below a floor
    python eval/gate.py --verbose        # also list every miss and false alarm by case
    python eval/gate.py --update         # raise the floors in eval/baseline.json
    python eval/gate.py --update --allow-lower   # also lower floors (say why in the commit)
    python eval/gate.py --json OUT.json  # write the scores and the misses

Every case in ``eval/cases/*.json`` is a small query traced with
:func:`stemmatic.pipeline.trace` against one to three sources (named from
``eval/sources.json`` or written inline).  Its annotations give *excerpts* of the query,
not offsets; an excerpt is found in the query (inside ``within`` when the same words occur
twice) and becomes a span.  See ``eval/README.md`` for the annotation conventions.

Matching.  A reported item and an expected one match when they have the same label (and,
where the class has one, the same source) and their spans overlap by at least half of the
expected excerpt.  So that a passage reported in two pieces is not a miss and two false
alarms, an expected item counts as found when the reported items of its label and source
*together* cover half of it, and a reported item counts as correct when it overlaps an
expected one by half of either.  An expected item marked ``optional`` is never a miss; a
reported item that matches only optional ones is left out of the precision count.

Classes, each with a precision and a recall, summed over the corpus (micro average):

* ``quotation/detected``: the spans set off by quote marks or as blocks
  (``Report.quotations``); a reported quotation covering half of a ``not_quoted`` excerpt
  never matches;
* ``fidelity/<exact|variant|altered>``: quotation passages, with the source they quote;
* ``kind/<quotation|copy|paraphrase>`` and ``attribution/<cited|uncited|miscited>``: all
  passages (a quotation annotated with a source is also a passage of kind quotation);
* ``citation/resolved`` (to the right source) and ``citation/not_in_corpus``;
* ``finding/<type>``: one class per finding type.

The floors live in ``eval/baseline.json``; a value below ``floor - margin`` fails the
gate.  ``--update`` raises floors to the current values and refuses to lower any floor
(exit status 1, nothing written) unless ``--allow-lower`` is given.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stemmatic.pipeline import trace
from stemmatic.types import Document, Report

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "cases"
SOURCES_FILE = HERE / "sources.json"
BASELINE_FILE = HERE / "baseline.json"

DEFAULT_MARGIN = 0.02
# A reported item matches an expected one when it covers this share of the expected span.
OVERLAP = 0.5
MEASURES = ("precision", "recall")

FIDELITIES = ("exact", "variant", "altered")
KINDS = ("quotation", "copy", "paraphrase")
ATTRIBUTIONS = ("cited", "uncited", "miscited")
FINDING_TYPES = (
    "misquote",
    "unquoted-copy",
    "uncited-passage",
    "miscited",
    "citation-not-in-corpus",
    "quotation-not-found",
    "drift",
    "shared-error",
    "unbalanced-quote",
)
# The targets: these families must reach 0.95 precision and recall.
TARGETS = {"fidelity": 0.95, "attribution": 0.95, "citation": 0.95}


class CorpusError(Exception):
    """The annotated corpus is malformed: an excerpt is missing, ambiguous or mistyped."""


# ---------------------------------------------------------------------------------------
# The corpus


@dataclass(frozen=True, slots=True)
class Span:
    """An expected or reported item: a span of the query with a label.

    ``source`` is compared only in classes that have one (passages, citations).
    ``excerpt`` is the query text of the span, kept for the listing of misses.
    """

    start: int
    end: int
    label: str
    source: str | None = None
    optional: bool = False
    excerpt: str = ""


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    about: str
    query: Document
    sources: tuple[Document, ...]
    quotations: tuple[Span, ...]
    fidelities: tuple[Span, ...]
    passages: tuple[Span, ...]
    citations: tuple[Span, ...]
    findings: tuple[Span, ...]
    not_quoted: tuple[tuple[int, int], ...]


def _text(value: str | list[str]) -> str:
    """Texts are written as a string or as a list of lines (joined with newlines)."""
    return "\n".join(value) if isinstance(value, list) else value


def locate(text: str, excerpt: str, within: str | None = None) -> tuple[int, int]:
    """The span of ``excerpt`` in ``text``; it must occur once (once inside ``within``).

    Raises:
        CorpusError: the excerpt (or ``within``) is missing or occurs more than once.
    """
    lo, hi = 0, len(text)
    if within is not None:
        lo, hi = locate(text, within)
    first = text.find(excerpt, lo, hi)
    if not excerpt or first < 0:
        where = f" inside {within!r}" if within else ""
        raise CorpusError(f"excerpt {excerpt!r} not found{where}")
    if text.find(excerpt, first + 1, hi) >= 0:
        raise CorpusError(f"excerpt {excerpt!r} occurs more than once; add 'within'")
    return first, first + len(excerpt)


def _span(text: str, item: dict[str, Any], label: str, source: str | None) -> Span:
    start, end = locate(text, item["excerpt"], item.get("within"))
    return Span(start, end, label, source, bool(item.get("optional", False)), text[start:end])


def _check(value: Any, allowed: Iterable[str | None], what: str) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise CorpusError(f"{what} must be one of {allowed}, not {value!r}")


def _document(raw: dict[str, Any]) -> Document:
    return Document(
        id=raw["id"],
        text=_text(raw["text"]),
        title=raw.get("title"),
        author=raw.get("author"),
        date=raw.get("date"),
        format=raw.get("format", "txt"),
    )


def _case(raw: dict[str, Any], library: dict[str, Document]) -> Case:
    case_id = raw["id"]
    sources: list[Document] = []
    for entry in raw["sources"]:
        if isinstance(entry, str):
            if entry not in library:
                raise CorpusError(f"unknown source {entry!r}")
            sources.append(library[entry])
        else:
            sources.append(_document(entry))
    if not 1 <= len(sources) <= 3:
        raise CorpusError("a case has one to three sources")
    ids = {s.id for s in sources}
    text = _text(raw["query"])
    query = Document(id=f"{case_id}.query", text=text, format=raw.get("format", "txt"))

    def source_of(item: dict[str, Any]) -> str | None:
        source = item.get("source")
        if source is not None and source not in ids:
            raise CorpusError(f"{item['excerpt']!r} names source {source!r}, not in the case")
        return source

    quotations, fidelities, passages = [], [], []
    for item in raw.get("quotations", []):
        source = source_of(item)
        quotations.append(_span(text, {**item, "optional": False}, "quotation", None))
        if source is None:
            if item.get("fidelity") or item.get("attribution"):
                raise CorpusError(f"quotation {item['excerpt']!r} has no source but a fidelity")
            continue
        _check(item.get("fidelity"), FIDELITIES, "fidelity")
        _check(item.get("attribution"), ATTRIBUTIONS, "attribution")
        fidelities.append(_span(text, item, item["fidelity"], source))
        # Passages carry "kind|attribution"; each half is scored as its own family.
        passages.append(_span(text, item, f"quotation|{item['attribution']}", source))
    for item in raw.get("passages", []):
        source = source_of(item)
        if source is None:
            raise CorpusError(f"passage {item['excerpt']!r} needs a source")
        _check(item.get("kind"), ("copy", "paraphrase"), "passage kind")
        _check(item.get("attribution"), ATTRIBUTIONS, "attribution")
        passages.append(_span(text, item, f"{item['kind']}|{item['attribution']}", source))
    citations = [
        _span(text, item, "resolved" if source_of(item) else "not_in_corpus", item.get("source"))
        for item in raw.get("citations", [])
    ]
    findings = []
    for item in raw.get("findings", []):
        _check(item.get("type"), FINDING_TYPES, "finding type")
        findings.append(_span(text, item, item["type"], None))
    not_quoted = tuple(locate(text, e) for e in raw.get("not_quoted", []))
    return Case(
        id=case_id,
        about=raw.get("about", ""),
        query=query,
        sources=tuple(sources),
        quotations=tuple(quotations),
        fidelities=tuple(fidelities),
        passages=tuple(passages),
        citations=tuple(citations),
        findings=tuple(findings),
        not_quoted=not_quoted,
    )


def load_corpus(cases_dir: Path = CASES_DIR, sources_file: Path = SOURCES_FILE) -> list[Case]:
    """Read and check every case.

    Raises:
        CorpusError: a case is malformed; the message names the file and the case.
    """
    library: dict[str, Document] = {}
    if sources_file.exists():
        for raw in json.loads(sources_file.read_text(encoding="utf-8"))["sources"]:
            library[raw["id"]] = _document(raw)
    cases: list[Case] = []
    seen: set[str] = set()
    for path in sorted(cases_dir.glob("*.json")):
        for raw in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            try:
                case = _case(raw, library)
            except (CorpusError, KeyError) as exc:
                raise CorpusError(f"{path.name}: case {raw.get('id')!r}: {exc}") from exc
            if case.id in seen:
                raise CorpusError(f"{path.name}: case id {case.id!r} is used twice")
            seen.add(case.id)
            cases.append(case)
    if not cases:
        raise CorpusError(f"no cases in {cases_dir}")
    return cases


# ---------------------------------------------------------------------------------------
# Scoring


@dataclass(slots=True)
class Counts:
    """Counts for one class; ``misses`` and ``false_alarms`` name the items for review."""

    expected: int = 0
    found: int = 0
    reported: int = 0
    correct: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.correct / self.reported if self.reported else None

    @property
    def recall(self) -> float | None:
        return self.found / self.expected if self.expected else None

    def value(self, measure: str) -> float | None:
        return self.precision if measure == "precision" else self.recall


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def _covered(target: Span, spans: Sequence[Span]) -> int:
    """Characters of ``target`` covered by the union of ``spans``."""
    pieces = sorted((max(s.start, target.start), min(s.end, target.end)) for s in spans)
    total, reach = 0, target.start
    for a, b in pieces:
        a = max(a, reach)
        if b > a:
            total += b - a
            reach = b
    return total


def score_class(
    counts: Counts,
    case_id: str,
    expected: Sequence[Span],
    reported: Sequence[Span],
    label: str,
    *,
    with_source: bool,
) -> None:
    """Add one case's matches for ``label`` to ``counts`` (see the module docstring)."""

    def same(a: Span, b: Span) -> bool:
        return a.label == b.label and (not with_source or a.source == b.source)

    gold = [e for e in expected if e.label == label]
    pred = [r for r in reported if r.label == label]
    for e in gold:
        if e.optional:
            continue
        counts.expected += 1
        mine = [r for r in pred if same(r, e) and _overlap(r, e)]
        if _covered(e, mine) >= OVERLAP * (e.end - e.start):
            counts.found += 1
        else:
            counts.misses.append(f"{case_id}: {_show(e)}")
    for r in pred:
        hits = [
            e for e in gold
            if same(r, e) and (
                _overlap(r, e) >= OVERLAP * (e.end - e.start)
                or _overlap(r, e) >= OVERLAP * (r.end - r.start)
            )
        ]
        if hits and all(e.optional for e in hits):
            continue
        counts.reported += 1
        if hits:
            counts.correct += 1
        else:
            counts.false_alarms.append(f"{case_id}: {_show(r)}")


def _show(s: Span) -> str:
    words = " ".join(s.excerpt.split())
    if len(words) > 70:
        words = words[:67] + "..."
    source = f" <- {s.source}" if s.source else ""
    return f"[{s.label}{source}] {words!r}"


def reported_spans(report: Report, case: Case) -> dict[str, list[Span]]:
    """The report's items as labelled spans, one list per kind of annotation."""
    text = report.query.text

    def span(start: int, end: int, label: str, source: str | None) -> Span:
        return Span(start, end, label, source, False, text[start:end])

    quotations = []
    for q in report.quotations:
        s = span(q.start, q.end, "quotation", None)
        # A quotation over words that are not quoted (one that swallowed the text after
        # an unbalanced mark) never matches.
        if any(_overlap(s, Span(a, b, "")) >= OVERLAP * (b - a) for a, b in case.not_quoted):
            s = span(q.start, q.end, "quotation!", None)
        quotations.append(s)
    passages = report.passages
    return {
        "quotations": quotations,
        "fidelities": [
            span(p.query_start, p.query_end, str(p.fidelity), p.source_id)
            for p in passages if p.kind.value == "quotation" and p.fidelity is not None
        ],
        "passages": [
            span(p.query_start, p.query_end, f"{p.kind.value}|{p.attribution}", p.source_id)
            for p in passages
        ],
        "citations": [
            span(c.start, c.end, c.status.value,
                 c.source_id if c.status.value == "resolved" else None)
            for c in report.citations
        ],
        "findings": [span(f.start, f.end, f.type, None) for f in report.findings],
    }


def _relabel(spans: Sequence[Span], part: int) -> list[Span]:
    """Keep one half of a "kind|attribution" label."""
    return [
        Span(s.start, s.end, s.label.split("|")[part], s.source, s.optional, s.excerpt)
        for s in spans
    ]


def metric_names() -> list[str]:
    return (
        ["quotation/detected"]
        + [f"fidelity/{v}" for v in FIDELITIES]
        + [f"kind/{v}" for v in KINDS]
        + [f"attribution/{v}" for v in ATTRIBUTIONS]
        + ["citation/resolved", "citation/not_in_corpus"]
        + [f"finding/{t}" for t in FINDING_TYPES]
    )


def score_case(case: Case, report: Report, totals: dict[str, Counts]) -> None:
    got = reported_spans(report, case)
    plan: list[tuple[str, Sequence[Span], Sequence[Span], str, bool]] = [
        ("quotation/detected", case.quotations, got["quotations"], "quotation", False)
    ]
    plan += [(f"fidelity/{v}", case.fidelities, got["fidelities"], v, True) for v in FIDELITIES]
    kinds_e, kinds_r = _relabel(case.passages, 0), _relabel(got["passages"], 0)
    plan += [(f"kind/{v}", kinds_e, kinds_r, v, True) for v in KINDS]
    attr_e, attr_r = _relabel(case.passages, 1), _relabel(got["passages"], 1)
    plan += [(f"attribution/{v}", attr_e, attr_r, v, True) for v in ATTRIBUTIONS]
    plan += [
        (f"citation/{v}", case.citations, got["citations"], v, True)
        for v in ("resolved", "not_in_corpus")
    ]
    plan += [(f"finding/{t}", case.findings, got["findings"], t, False) for t in FINDING_TYPES]
    for name, expected, reported, label, with_source in plan:
        score_class(totals[name], case.id, expected, reported, label, with_source=with_source)


# ---------------------------------------------------------------------------------------
# The gate


@dataclass(slots=True)
class GateResult:
    metrics: dict[str, Counts]
    failures: list[str]
    seconds: float
    cases: int

    @property
    def passed(self) -> bool:
        return not self.failures

    def values(self) -> dict[str, dict[str, float | None]]:
        return {
            name: {m: _round(c.value(m)) for m in MEASURES} for name, c in self.metrics.items()
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def read_baseline(path: Path = BASELINE_FILE) -> dict[str, Any]:
    if not path.exists():
        return {"margin": DEFAULT_MARGIN, "floors": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def evaluate(
    cases: Sequence[Case] | None = None, baseline: dict[str, Any] | None = None
) -> GateResult:
    """Trace every case, score it, and compare the scores with the floors.

    Args:
        cases: the corpus (default: :func:`load_corpus`).
        baseline: floors and margin (default: ``eval/baseline.json``).

    Returns:
        The counts per class and the list of floors that were not met.
    """
    cases = load_corpus() if cases is None else cases
    baseline = read_baseline() if baseline is None else baseline
    totals = {name: Counts() for name in metric_names()}
    began = time.perf_counter()
    for case in cases:
        report = trace(case.query, sources=list(case.sources))
        score_case(case, report, totals)
    seconds = time.perf_counter() - began
    margin = float(baseline.get("margin", DEFAULT_MARGIN))
    failures = []
    for name, floors in sorted(baseline.get("floors", {}).items()):
        counts = totals.get(name)
        if counts is None:
            failures.append(f"{name}: pinned in the baseline but no longer measured")
            continue
        for measure, floor in floors.items():
            value = counts.value(measure)
            if value is None:
                failures.append(f"{name} {measure}: no longer measurable (floor {floor:.3f})")
            elif value < floor - margin:
                failures.append(f"{name} {measure}: {value:.3f} is below its floor {floor:.3f}")
    return GateResult(totals, failures, seconds, len(cases))


def updated_floors(
    result: GateResult, baseline: dict[str, Any], *, allow_lower: bool
) -> tuple[dict[str, Any], list[str]]:
    """The baseline with floors raised to the current scores.

    Returns:
        ``(new baseline, refusals)``: a refusal names a floor that would have to be
        lowered; with ``allow_lower`` such a floor is lowered instead and nothing is refused.
    """
    margin = float(baseline.get("margin", DEFAULT_MARGIN))
    floors: dict[str, dict[str, float]] = {
        k: dict(v) for k, v in baseline.get("floors", {}).items()
    }
    refusals = []
    for name, counts in result.metrics.items():
        for measure in MEASURES:
            value = _round(counts.value(measure))
            if value is None:
                continue
            old = floors.get(name, {}).get(measure)
            if old is None or value > old:
                floors.setdefault(name, {})[measure] = value
            elif value < old - margin:
                if allow_lower:
                    floors[name][measure] = value
                else:
                    refusals.append(f"{name} {measure}: {value:.3f} < floor {old:.3f}")
    new = dict(baseline)
    new["margin"] = margin
    new["floors"] = {k: floors[k] for k in sorted(floors, key=metric_names().index)
                     if k in metric_names()}
    return new, refusals


# ---------------------------------------------------------------------------------------
# Output


def _fmt(value: float | None) -> str:
    return "  —  " if value is None else f"{value:.3f}"


def table(result: GateResult, baseline: dict[str, Any]) -> str:
    floors = baseline.get("floors", {})
    margin = float(baseline.get("margin", DEFAULT_MARGIN))
    targets = baseline.get("targets", TARGETS)
    header = (
        f"{'class':<32}{'expected':>9}{'reported':>9}{'precision':>11}{'recall':>8}"
        f"{'floor P':>9}{'floor R':>9}{'target':>8}  status"
    )
    lines = [header, "-" * len(header)]
    for name in metric_names():
        c = result.metrics[name]
        floor = floors.get(name, {})
        target = targets.get(name.split("/")[0])
        status = []
        for measure in MEASURES:
            value, pinned = c.value(measure), floor.get(measure)
            if value is not None and pinned is not None and value < pinned - margin:
                status.append(f"{measure} BELOW FLOOR")
        if not status and target is not None and any(
            (c.value(m) or 0.0) < target for m in MEASURES if c.value(m) is not None
        ):
            status.append("below target")
        lines.append(
            f"{name:<32}{c.expected:>9}{c.reported:>9}{_fmt(c.precision):>11}"
            f"{_fmt(c.recall):>8}{_fmt(floor.get('precision')):>9}{_fmt(floor.get('recall')):>9}"
            f"{'' if target is None else f'{target:.2f}':>8}  {', '.join(status) or 'ok'}"
        )
    return "\n".join(lines)


def details(result: GateResult) -> str:
    out = []
    for name, c in result.metrics.items():
        if c.misses or c.false_alarms:
            out.append(f"\n{name}")
            out.extend(f"  missed       {m}" for m in c.misses)
            out.extend(f"  false alarm  {f}" for f in c.false_alarms)
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="raise the floors to the current scores")
    parser.add_argument("--allow-lower", action="store_true", help="with --update, lower floors too")
    parser.add_argument("--verbose", "-v", action="store_true", help="list misses and false alarms")
    parser.add_argument("--json", type=Path, help="write scores and misses to this file")
    parser.add_argument("--baseline", type=Path, default=BASELINE_FILE)
    parser.add_argument("--cases", type=Path, default=CASES_DIR)
    args = parser.parse_args(argv)
    if args.allow_lower and not args.update:
        parser.error("--allow-lower only makes sense with --update")

    try:
        cases = load_corpus(args.cases)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    baseline = read_baseline(args.baseline)
    result = evaluate(cases, baseline)
    print(f"stemmatic quality gate: {result.cases} cases in {result.seconds:.1f} s "
          f"(Python {platform.python_version()}, {platform.platform()})")
    print(table(result, baseline))
    if args.verbose:
        print(details(result))
    if args.json:
        payload = {
            "cases": result.cases,
            "seconds": round(result.seconds, 2),
            "scores": result.values(),
            "misses": {k: c.misses for k, c in result.metrics.items() if c.misses},
            "false_alarms": {k: c.false_alarms for k, c in result.metrics.items() if c.false_alarms},
        }
        args.json.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
    if args.update:
        new, refusals = updated_floors(result, baseline, allow_lower=args.allow_lower)
        if refusals:
            print("\nrefusing to lower floors (rerun with --allow-lower and say why):")
            print("\n".join(f"  {r}" for r in refusals))
            return 1
        args.baseline.write_text(json.dumps(new, indent=1, ensure_ascii=False) + "\n")
        print(f"\nfloors written to {args.baseline}")
        return 0
    if result.failures:
        print("\nFAILED:\n" + "\n".join(f"  {f}" for f in result.failures))
        return 1
    print("\npassed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
