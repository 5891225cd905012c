"""Misquote detection: Stemmatic against the ``quotecheck`` package, on the eval corpus.

``quotecheck`` (PyPI, Apache-2.0, bench-only: ``pip install quotecheck``) answers "is this
quotation really in the source?".  ``quotecheck.check(phrase, text)`` folds case,
whitespace, accents, dashes, quote marks, ligatures and hyphens on both sides and returns
a ``Match`` whose ``status`` is ``found`` (the folded phrase occurs), ``interleaved``
(it occurs in two halves with a little page furniture between), ``drift`` (a window of
the source is at least 80% similar by ``difflib`` ratio: "a real sentence relayed subtly
reworded") or ``absent``.  It knows nothing of editorial marks (ellipses, brackets) or
spelling variants, and it checks one phrase against one text: it does not find the
quotations of a document (its ``--batch`` mode takes double-quoted runs of six words or
more and Markdown ``>`` lines) nor resolve citations.

The items are the quotations of ``eval/cases/*.json`` that have a source and a fidelity.
The truth is *misquote* for ``altered`` and *faithful* for ``exact`` and ``variant``.

* quotecheck gets every quotation's excerpt (block markers ``>`` removed, as its batch
  mode does) and the text of the source it comes from, the most favourable setting: it
  is given the right source and a perfectly extracted quotation.  A quotation it does not
  report as ``found`` or ``interleaved`` is flagged as a misquote.
* Stemmatic gets the case as a user would run it, ``trace(query, sources=...)`` with all
  of the case's sources, and must find the quotation and its source itself.  A quotation
  is flagged when its passage has fidelity ``altered``, or when no quotation passage from
  the right source covers it (the quotation could not be verified).

Precision and recall are for the misquote class; the false-alarm rate is reported for
exact and variant quotations separately.  Run::

    python bench/quotecheck_compare.py

It prints the platform and a table and writes ``bench/results/quotecheck.json``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import platform
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from stemmatic.pipeline import trace

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "quotecheck.json"
FAITHFUL = ("exact", "variant")
_BLOCK_MARKER = re.compile(r"\n[ \t]*>[ \t]?")


def _load_gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stemmatic_eval_gate", ROOT / "eval" / "gate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True, slots=True)
class Item:
    case: str
    quote: str
    fidelity: str
    quotecheck_status: str
    quotecheck_flag: bool
    stemmatic_fidelity: str | None
    stemmatic_flag: bool

    @property
    def truth(self) -> bool:
        return self.fidelity == "altered"


def _stemmatic_verdict(report: Any, span: Any) -> str | None:
    """The fidelity Stemmatic gives the quotation at ``span``, or None if it has none."""
    best, best_overlap = None, 0
    for p in report.passages:
        if p.kind.value != "quotation" or p.source_id != span.source:
            continue
        overlap = min(p.query_end, span.end) - max(p.query_start, span.start)
        if overlap >= 0.5 * (span.end - span.start) and overlap > best_overlap:
            best, best_overlap = p.fidelity.value if p.fidelity else None, overlap
    return best


def collect(gate: ModuleType, check: Any) -> tuple[list[Item], float, float]:
    items: list[Item] = []
    qc_seconds = st_seconds = 0.0
    for case in gate.load_corpus():
        if not case.fidelities:
            continue
        began = time.perf_counter()
        report = trace(case.query, sources=list(case.sources))
        st_seconds += time.perf_counter() - began
        by_id = {s.id: s for s in case.sources}
        for span in case.fidelities:
            if span.optional:
                continue
            quote = _BLOCK_MARKER.sub("\n", span.excerpt)
            began = time.perf_counter()
            match = check(quote, by_id[span.source].text)
            qc_seconds += time.perf_counter() - began
            verdict = _stemmatic_verdict(report, span)
            items.append(Item(
                case=case.id,
                quote=quote,
                fidelity=span.label,
                quotecheck_status=match.status,
                quotecheck_flag=not match.ok,
                stemmatic_fidelity=verdict,
                stemmatic_flag=verdict is None or verdict == "altered",
            ))
    return items, qc_seconds, st_seconds


def scores(items: list[Item], flag: str) -> dict[str, Any]:
    flagged = [i for i in items if getattr(i, flag)]
    tp = sum(1 for i in flagged if i.truth)
    positives = sum(1 for i in items if i.truth)
    out: dict[str, Any] = {
        "misquotes": positives,
        "flagged": len(flagged),
        "true_positives": tp,
        "precision": round(tp / len(flagged), 4) if flagged else None,
        "recall": round(tp / positives, 4) if positives else None,
        "accuracy": round(sum(1 for i in items if getattr(i, flag) == i.truth) / len(items), 4),
    }
    for fidelity in FAITHFUL:
        group = [i for i in items if i.fidelity == fidelity]
        wrong = sum(1 for i in group if getattr(i, flag))
        out[f"false_alarms_{fidelity}"] = f"{wrong}/{len(group)}"
    return out


def _fmt(value: Any) -> str:
    return "—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def main() -> int:
    try:
        from quotecheck import __version__ as qc_version
        from quotecheck import check
    except ImportError:
        print("quotecheck is not installed: pip install quotecheck (a bench-only dependency)",
              file=sys.stderr)
        return 2
    gate = _load_gate()
    items, qc_seconds, st_seconds = collect(gate, check)
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "quotecheck_version": qc_version,
        "items": len(items),
        "by_fidelity": {f: sum(1 for i in items if i.fidelity == f)
                        for f in ("exact", "variant", "altered")},
        "setting": {
            "quotecheck": "check(excerpt, text of the right source); flagged unless found/interleaved",
            "stemmatic": "trace(case query, sources=case sources); flagged if altered or unverified",
        },
        "seconds": {"quotecheck": round(qc_seconds, 3), "stemmatic_trace": round(st_seconds, 3)},
        "stemmatic": scores(items, "stemmatic_flag"),
        "quotecheck": scores(items, "quotecheck_flag"),
        "quotecheck_status_by_fidelity": {
            f: {s: sum(1 for i in items if i.fidelity == f and i.quotecheck_status == s)
                for s in ("found", "interleaved", "drift", "absent")}
            for f in ("exact", "variant", "altered")
        },
        "disagreements": [
            {"case": i.case, "fidelity": i.fidelity, "quotecheck": i.quotecheck_status,
             "stemmatic": i.stemmatic_fidelity, "quote": i.quote[:80]}
            for i in items if i.quotecheck_flag != i.truth or i.stemmatic_flag != i.truth
        ],
    }
    print(f"misquote detection on the eval corpus — {result['date']}")
    print(f"{result['platform']}, Python {result['python']}, quotecheck {qc_version}")
    print(f"{len(items)} quotations: {result['by_fidelity']}\n")
    rows = ["precision", "recall", "accuracy", "flagged", "false_alarms_exact",
            "false_alarms_variant"]
    print(f"{'measure':<22}{'stemmatic':>12}{'quotecheck':>12}")
    for row in rows:
        print(f"{row:<22}{_fmt(result['stemmatic'][row]):>12}{_fmt(result['quotecheck'][row]):>12}")
    print("\nquotecheck status by true fidelity:")
    for fidelity, counts in result["quotecheck_status_by_fidelity"].items():
        print(f"  {fidelity:<8} {counts}")
    if result["disagreements"]:
        print("\nwrong verdicts (either tool):")
        for d in result["disagreements"]:
            print(f"  {d['case']:<38} truth={d['fidelity']:<8} quotecheck={d['quotecheck']:<12}"
                  f" stemmatic={d['stemmatic']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
