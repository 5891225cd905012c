"""The quality gate: the annotated corpus in eval/ scores at or above its pinned floors."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "eval"


def _load_gate() -> ModuleType:
    # eval/ is not a package (it is not installed with stemmatic), so load it by path.
    spec = importlib.util.spec_from_file_location("stemmatic_eval_gate", EVAL / "gate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


gate = _load_gate()


@pytest.fixture(scope="module")
def corpus() -> list:
    return gate.load_corpus()


def test_corpus_covers_every_class(corpus: list) -> None:
    assert len(corpus) >= 60
    fidelities = {s.label for c in corpus for s in c.fidelities}
    kinds = {s.label.split("|")[0] for c in corpus for s in c.passages}
    attributions = {s.label.split("|")[1] for c in corpus for s in c.passages}
    findings = {s.label for c in corpus for s in c.findings}
    citations = {s.label for c in corpus for s in c.citations}
    assert fidelities == set(gate.FIDELITIES)
    assert kinds == set(gate.KINDS)
    assert attributions == set(gate.ATTRIBUTIONS)
    assert findings == set(gate.FINDING_TYPES)
    assert citations == {"resolved", "not_in_corpus"}
    assert all(1 <= len(c.sources) <= 3 for c in corpus)


def test_excerpts_slice_their_query(corpus: list) -> None:
    for case in corpus:
        text = case.query.text
        for span in (*case.quotations, *case.passages, *case.citations, *case.findings):
            assert text[span.start : span.end] == span.excerpt, case.id


def test_gate_passes() -> None:
    result = gate.evaluate()
    assert result.passed, "quality gate failed:\n" + "\n".join(result.failures)
    # Every class the baseline pins is measured on this corpus.
    pinned = gate.read_baseline()["floors"]
    assert set(pinned) <= set(result.metrics)


def test_locate_refuses_missing_and_ambiguous_excerpts() -> None:
    text = "See [1] and [1] again."
    assert gate.locate(text, "[1]", within="and [1]") == (12, 15)
    with pytest.raises(gate.CorpusError, match="more than once"):
        gate.locate(text, "[1]")
    with pytest.raises(gate.CorpusError, match="not found"):
        gate.locate(text, "[2]")


def test_matching_needs_half_of_the_expected_span() -> None:
    Span, Counts = gate.Span, gate.Counts
    expected = [Span(0, 100, "copy", "a")]
    counts = Counts()
    # Two pieces cover 60 of 100 characters together: found, and both pieces are correct.
    gate.score_class(counts, "c", expected, [Span(0, 30, "copy", "a"), Span(50, 80, "copy", "a")],
                     "copy", with_source=True)
    assert (counts.found, counts.expected, counts.correct, counts.reported) == (1, 1, 2, 2)

    counts = Counts()
    # A wrong source is a miss and a false alarm; so is too small an overlap.
    gate.score_class(counts, "c", expected, [Span(0, 100, "copy", "b"), Span(90, 300, "copy", "a")],
                     "copy", with_source=True)
    assert (counts.found, counts.correct, counts.reported) == (0, 0, 2)
    assert counts.precision == 0.0 and counts.recall == 0.0


def test_optional_items_are_neither_missed_nor_counted() -> None:
    Span, Counts = gate.Span, gate.Counts
    counts = Counts()
    gate.score_class(counts, "c", [Span(0, 10, "drift", optional=True)], [Span(0, 10, "drift")],
                     "drift", with_source=False)
    assert (counts.expected, counts.reported) == (0, 0)
    assert counts.precision is None and counts.recall is None


def _result(precision_hits: int) -> object:
    counts = gate.Counts(expected=10, found=10, reported=10, correct=precision_hits)
    metrics = {name: gate.Counts() for name in gate.metric_names()}
    metrics["finding/drift"] = counts
    return gate.GateResult(metrics, [], 0.0, 1)


def test_update_raises_floors_and_refuses_to_lower_them() -> None:
    baseline = {"margin": 0.02, "floors": {"finding/drift": {"precision": 0.8, "recall": 1.0}}}
    raised, refusals = gate.updated_floors(_result(9), baseline, allow_lower=False)
    assert refusals == []
    assert raised["floors"]["finding/drift"] == {"precision": 0.9, "recall": 1.0}

    lowered, refusals = gate.updated_floors(_result(5), baseline, allow_lower=False)
    assert refusals and "finding/drift precision" in refusals[0]
    assert lowered["floors"]["finding/drift"]["precision"] == 0.8  # untouched

    forced, refusals = gate.updated_floors(_result(5), baseline, allow_lower=True)
    assert refusals == [] and forced["floors"]["finding/drift"]["precision"] == 0.5

    # A value inside the noise margin neither lowers the floor nor is refused.
    kept, refusals = gate.updated_floors(_result(8), {**baseline, "margin": 0.05}, allow_lower=False)
    assert refusals == [] and kept["floors"]["finding/drift"]["precision"] == 0.8


def _tiny_corpus(folder: Path) -> Path:
    cases = folder / "cases"
    cases.mkdir()
    case = {
        "id": "tiny",
        "sources": [{"id": "src", "title": "Salt", "author": "Ada Brine", "date": "2001",
                     "text": "The merchants kept the accounts, but they rarely saw the fish at all."}],
        "query": "As we read, “The merchants kept the accounts, but they rarely saw the fish” (Brine 2001).",
        "quotations": [{"excerpt": "The merchants kept the accounts, but they rarely saw the fish",
                        "source": "src", "fidelity": "exact", "attribution": "cited"}],
        "citations": [{"excerpt": "(Brine 2001)", "source": "src"}],
    }
    (cases / "tiny.json").write_text(json.dumps({"cases": [case]}), encoding="utf-8")
    return cases


def test_cli_update_writes_floors_and_fails_below_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = _tiny_corpus(tmp_path)
    baseline = tmp_path / "baseline.json"
    assert gate.main(["--cases", str(cases), "--baseline", str(baseline), "--update"]) == 0
    floors = json.loads(baseline.read_text())["floors"]
    assert floors["fidelity/exact"] == {"precision": 1.0, "recall": 1.0}
    assert gate.main(["--cases", str(cases), "--baseline", str(baseline)]) == 0

    # A floor the tool cannot reach fails the gate, and --update will not lower it.
    floors["finding/misquote"] = {"recall": 1.0}
    floors["citation/not_in_corpus"] = {"precision": 1.0}
    data = json.loads(baseline.read_text())
    data["floors"] = floors
    baseline.write_text(json.dumps(data))
    assert gate.main(["--cases", str(cases), "--baseline", str(baseline)]) == 1
    out = capsys.readouterr().out
    assert "no longer measurable" in out
    # --update keeps floors it cannot measure rather than dropping them.
    assert gate.main(["--cases", str(cases), "--baseline", str(baseline), "--update"]) == 0
    kept = json.loads(baseline.read_text())["floors"]
    assert kept["finding/misquote"] == {"recall": 1.0}
    assert kept["fidelity/exact"] == {"precision": 1.0, "recall": 1.0}


def test_cli_reports_a_broken_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = _tiny_corpus(tmp_path)
    raw = json.loads((cases / "tiny.json").read_text())
    raw["cases"][0]["citations"][0]["excerpt"] = "(Brine 2002)"
    (cases / "tiny.json").write_text(json.dumps(raw))
    assert gate.main(["--cases", str(cases), "--baseline", str(tmp_path / "b.json")]) == 2
    assert "(Brine 2002)" in capsys.readouterr().err
