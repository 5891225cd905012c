"""trace(): the stages composed, through the library API."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemmatic import pipeline
from stemmatic.errors import InputError, SettingsError
from stemmatic.index.duck import DuckIndex
from stemmatic.pipeline import trace
from stemmatic.settings import Settings
from stemmatic.types import Document

SOURCE_TEXT = (
    "The harbour board met every Tuesday in the old customs house. Its members argued about "
    "dredging, about the price of coal and about the men who slept on the quay. In 1923 the "
    "board voted to build a second graving dock, a decision that shaped the river for fifty years."
)


def _query(extra: str = "") -> Document:
    return Document(
        id="q",
        text=(
            "Histories of the port rarely mention the board. Its members argued about dredging, "
            "about the price of coal and about the men who slept on the quay. " + extra
        ),
    )


def test_passages_slice_both_texts_exactly() -> None:
    source = Document(id="s", text=SOURCE_TEXT)
    report = trace(_query(), sources=[source])
    assert report.passages
    for p in report.passages:
        q_words = report.query.text[p.query_start : p.query_end]
        s_words = SOURCE_TEXT[p.source_start : p.source_end]
        assert q_words.casefold().split()[:3] == s_words.casefold().split()[:3]


def test_the_query_itself_is_not_a_source(tmp_path: Path) -> None:
    query = tmp_path / "essay.txt"
    query.write_text(_query().text, encoding="utf-8")
    (tmp_path / "board.txt").write_text(SOURCE_TEXT, encoding="utf-8")
    report = trace(query, sources=[tmp_path])
    assert [s.id for s in report.sources] == ["board.txt"]
    assert any("query itself" in w for w in report.warnings)


def test_same_report_with_workers(tmp_path: Path) -> None:
    sources = [Document(id=f"s{i}", text=SOURCE_TEXT + f" Copy number {i}.") for i in range(4)]
    one = trace(_query(), sources=sources, workers=1)
    two = trace(_query(), sources=sources, workers=2)
    assert one.passages == two.passages
    assert len({p.source_id for p in one.passages}) == 4


def test_automatic_workers_start_a_pool_only_for_enough_long_sources(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3}, raising=False)
    long_sources = [Document(id=f"s{i}", text="word " * 40_000) for i in range(8)]
    tiny_sources = [Document(id=f"t{i}", text="word " * 100) for i in range(2_000)]
    assert pipeline._auto_workers(long_sources[:1]) == 1  # one source: nothing to share
    assert pipeline._auto_workers(long_sources[:2]) == 2  # no more workers than sources
    assert pipeline._auto_workers(long_sources) == 4  # one per core
    assert pipeline._auto_workers(tiny_sources) == 1  # 1 MB in all, but 500 characters each
    short = [Document(id=f"u{i}", text="word " * 1_000) for i in range(40)]
    assert pipeline._auto_workers(short) == 1  # 200,000 characters in all: not worth a pool


def test_automatic_workers_give_the_same_report_as_one() -> None:
    # Long enough for the automatic choice to start a pool on a machine with 2 cores.
    filler = " ".join(f"Filler sentence {i} about tides and ledgers." for i in range(1_000))
    sources = [
        Document(id=f"s{i}", text=f"{filler} {SOURCE_TEXT} Copy number {i}.") for i in range(8)
    ]
    automatic = trace(_query(), sources=sources, workers=None)
    one = trace(_query(), sources=sources, workers=1)
    assert automatic.passages == one.passages
    assert automatic.findings == one.findings
    assert len({p.source_id for p in one.passages}) == 8


def test_an_open_index_serves_several_traces(tmp_path: Path) -> None:
    settings = Settings()
    path = tmp_path / "corpus.duckdb"
    with DuckIndex.open(path, settings, create=True) as index:
        index.add([Document(id="board", text=SOURCE_TEXT), Document(id="other", text="Bees make honey.")])
    with DuckIndex.open(path, settings, read_only=True) as index:
        first = trace(_query(), index=index, settings=settings)
        second = trace(_query("In 1923 the board voted to build a second graving dock."),
                       index=index, settings=settings)
    assert first.passages and second.passages
    assert {p.source_id for p in second.passages} == {"board"}


def test_needs_sources_or_an_index() -> None:
    with pytest.raises(SettingsError):
        trace(_query())


def test_empty_query_is_refused() -> None:
    with pytest.raises(InputError):
        trace(Document(id="q", text="  \n "), sources=[Document(id="s", text=SOURCE_TEXT)])
