"""The Spark engine gives the local engine's answer, and resumes from complete stages.

Skipped when PySpark or Java is not installed (``pip install 'stemmatic[spark]'`` and a
Java 17 runtime).  One local Spark session (``local[2]``) is shared by the tests.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

pytest.importorskip("pyspark", reason="the Spark engine needs PySpark (stemmatic[spark])")
if shutil.which("java") is None:
    pytest.skip("the Spark engine needs Java 17 or later on PATH", allow_module_level=True)

from test_corpus import Builder, Corpus

from stemmatic.corpus import run_corpus, spark
from stemmatic.corpus.stages import MARKER, STAGES


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    active, owned = spark.session()
    yield active
    if owned:
        active.stop()


def parity_corpus() -> Corpus:
    b = Builder(seed=41)
    p1, p2, p3, boiler = b.passage(60), b.passage(50), b.passage(90), b.passage(30)
    b.doc("a", 150, p1, 100, boiler, date="1820")
    b.doc("b", 60, p1, 80, boiler, date="1830")
    b.doc("c", 200, p1, p2, 40, boiler)
    b.doc("d", 40, p2, 10, boiler)
    b.doc("e", p3, boiler)
    b.doc("f", p3, boiler, series="Gazette")
    b.doc("g", 300, boiler)
    b.doc("h/../x", 100, p3[: len(p3) // 2], 100, boiler)
    return b.build()


def rows(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


def test_spark_and_local_engines_agree(tmp_path: Path, session: Any) -> None:
    corpus = parity_corpus()
    source = corpus.write_jsonl(tmp_path / "in.jsonl", extra=[b'{"id": "x"}'])
    here = run_corpus(source, tmp_path / "local", engine="local", max_df=6)
    there = run_corpus(source, tmp_path / "spark", engine="spark", max_df=6)

    def key(row: dict[str, Any]) -> str:
        return json.dumps(row, sort_keys=True)

    local_passages = sorted(rows(here.outputs["passages"]), key=key)
    assert local_passages == sorted(rows(there.outputs["passages"]), key=key)
    assert sorted(rows(here.outputs["clusters"]), key=key) == sorted(
        rows(there.outputs["clusters"]), key=key
    )
    assert json.loads(here.outputs["graph_json"].read_text()) == json.loads(
        there.outputs["graph_json"].read_text()
    )
    for name in ("documents", "candidate_pairs", "aligned_pairs", "passages", "clusters",
                 "dropped_fingerprints", "edges", "groups", "skipped"):
        assert getattr(here, name) == getattr(there, name), name
    # The corpus has reuse, boilerplate above max_df and a bad record.
    assert here.passages >= 5
    assert here.dropped_fingerprints > 0
    assert [s.reason for s in there.skipped] == ["record has no text"]
    assert not (tmp_path / "spark" / "_work").exists()


def test_spark_resumes_from_complete_stages(tmp_path: Path, session: Any) -> None:
    corpus = parity_corpus()
    source = corpus.write_jsonl(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    first = run_corpus(source, out, engine="spark", keep_work=True)
    assert first.resumed == ()
    assert (out / "_work" / "spark" / "pairs" / MARKER).exists()

    again = run_corpus(source, out, engine="spark", keep_work=True)
    assert again.resumed == STAGES
    assert rows(again.outputs["passages"]) == rows(first.outputs["passages"])

    # An interrupted alignment (no marker) is done again; so is everything after a
    # stage whose parameters changed.
    (out / "_work" / "spark" / "aligned" / MARKER).unlink()
    redone = run_corpus(source, out, engine="spark", keep_work=True)
    assert redone.resumed == ("documents", "fingerprints", "pairs")
    assert rows(redone.outputs["passages"]) == rows(first.outputs["passages"])

    changed = run_corpus(source, out, engine="spark", max_df=3)
    assert changed.resumed == ("documents", "fingerprints")
    assert changed.dropped_fingerprints > first.dropped_fingerprints
    assert not (out / "_work").exists()
