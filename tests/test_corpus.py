"""Tests of whole-corpus reuse detection (local engine) and of the stemma."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pyarrow.parquet as pq
import pytest

from stemmatic.align import align
from stemmatic.corpus import CorpusResult, local, run_corpus, work
from stemmatic.corpus.candidates import candidate_fingerprints, window_minima
from stemmatic.corpus.cluster import cluster_passages
from stemmatic.corpus.stages import MARKER, STAGES
from stemmatic.corpus.stemma import PairEvidence, compare_dates, direct, parse_date
from stemmatic.corpus.work import align_shared, covered, snippet, split_copy, unexplained
from stemmatic.errors import InputError, SettingsError
from stemmatic.fingerprint import Ngrams, winnow
from stemmatic.index.store import document_fingerprints
from stemmatic.settings import Settings
from stemmatic.types import Document, Kind, Passage

# --- a generated corpus ------------------------------------------------------------------

_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def vocabulary(seed: int = 7, size: int = 3000) -> list[str]:
    """Made-up words: no stop words, no chance phrases shared by two texts."""
    rng = random.Random(seed)
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


@dataclass
class Corpus:
    """Documents as ``{id: text}``, metadata, and the passages planted in them."""

    texts: dict[str, str]
    meta: dict[str, dict[str, Any]]
    # (doc a, start, end, doc b, start, end): the same text at both places.
    planted: list[tuple[str, int, int, str, int, int]]

    def records(self) -> list[dict[str, Any]]:
        return [{"id": d, "text": t, **self.meta.get(d, {})} for d, t in self.texts.items()]

    def write_jsonl(self, path: Path, extra: list[bytes] = ()) -> Path:  # type: ignore[assignment]
        with open(path, "wb") as stream:
            stream.writelines(json.dumps(record).encode() + b"\n" for record in self.records())
            stream.writelines(line + b"\n" for line in extra)
        return path


class Builder:
    """Builds documents from paragraphs, some of them shared between documents."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.words = vocabulary()
        self.parts: dict[str, list[str | tuple[str, str]]] = {}
        self.meta: dict[str, dict[str, Any]] = {}

    def prose(self, words: int) -> str:
        out: list[str] = []
        while len(out) < words:
            n = min(self.rng.randint(8, 16), words - len(out))
            sentence = [self.rng.choice(self.words) for _ in range(n)]
            sentence[0] = sentence[0].capitalize()
            out.extend(sentence[:-1])
            out.append(sentence[-1] + ".")
        return " ".join(out)

    def passage(self, words: int) -> str:
        """A shared passage: ends without a full stop, so its span is exactly its words."""
        return self.prose(words).rstrip(".")

    def doc(self, doc_id: str, *parts: str | int, **meta: Any) -> None:
        """A document of paragraphs: an int is that many words of fresh prose."""
        self.parts[doc_id] = [self.prose(p) if isinstance(p, int) else ("P", p) for p in parts]
        if meta:
            self.meta[doc_id] = meta

    def build(self) -> Corpus:
        texts: dict[str, str] = {}
        places: dict[str, list[tuple[str, int, int]]] = {}
        for doc_id, parts in self.parts.items():
            pieces: list[str] = []
            pos = 0
            for part in parts:
                if pieces:
                    pieces.append("\n\n")
                    pos += 2
                text = part[1] if isinstance(part, tuple) else part
                if isinstance(part, tuple):
                    places.setdefault(text, []).append((doc_id, pos, pos + len(text)))
                pieces.append(text)
                pos += len(text)
            texts[doc_id] = "".join(pieces)
        planted = []
        for spots in places.values():
            for i in range(len(spots)):
                for j in range(i + 1, len(spots)):
                    a, b = sorted([spots[i], spots[j]])
                    planted.append((*a, *b))
        return Corpus(texts, self.meta, sorted(planted))


def passages_of(result: CorpusResult) -> list[dict[str, Any]]:
    return pq.read_table(result.outputs["passages"]).to_pylist()


def clusters_of(result: CorpusResult) -> list[dict[str, Any]]:
    return pq.read_table(result.outputs["clusters"]).to_pylist()


def graph_of(result: CorpusResult) -> dict[str, Any]:
    return json.loads(result.outputs["graph_json"].read_text(encoding="utf-8"))


def standard_corpus() -> Corpus:
    """Six documents, four planted passages (one in three documents), one unrelated text."""
    b = Builder(seed=3)
    p1, p2, p3 = b.passage(60), b.passage(45), b.passage(80)
    b.doc("alpha", 200, p1, 150, p2, 100)
    b.doc("beta", 120, p1, 300)
    b.doc("gamma", 90, p2, 60)
    b.doc("delta", 250, p3, 40)
    b.doc("epsilon", 30, p3, 220)
    b.doc("zeta", 180, 180)
    return b.build()


# --- planted passages --------------------------------------------------------------------


def test_planted_passages_found_with_offsets_on_both_sides(tmp_path: Path) -> None:
    corpus = standard_corpus()
    result = run_corpus(corpus.write_jsonl(tmp_path / "in.jsonl"), tmp_path / "out")
    assert result.documents == 6
    assert result.skipped == ()
    found = {
        (p["query_id"], p["query_start"], p["query_end"],
         p["source_id"], p["source_start"], p["source_end"])
        for p in passages_of(result)
    }
    assert found == set(corpus.planted)
    for p in passages_of(result):
        # The query is the document with the smaller id; both spans hold the same words.
        assert p["query_id"] < p["source_id"]
        q = corpus.texts[p["query_id"]][p["query_start"] : p["query_end"]]
        s = corpus.texts[p["source_id"]][p["source_start"] : p["source_end"]]
        assert q == s
        assert p["kind"] == "copy"
        assert 0 < p["score"] <= 1
        assert p["query_snippet"] == snippet(q)
    assert result.passages == len(corpus.planted)
    assert result.aligned_pairs == len(corpus.planted)
    assert result.candidate_pairs >= result.aligned_pairs


def test_folder_input_gives_the_same_passages(tmp_path: Path) -> None:
    corpus = standard_corpus()
    folder = tmp_path / "docs"
    folder.mkdir()
    for doc_id, text in corpus.texts.items():
        (folder / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    result = run_corpus(folder, tmp_path / "out")
    found = {
        (p["query_id"].removesuffix(".txt"), p["query_start"], p["query_end"],
         p["source_id"].removesuffix(".txt"), p["source_start"], p["source_end"])
        for p in passages_of(result)
    }
    assert found == set(corpus.planted)
    assert result.documents == len(corpus.texts)


def test_worker_pool_gives_the_same_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = standard_corpus()
    source = corpus.write_jsonl(tmp_path / "in.jsonl")
    inline = run_corpus(source, tmp_path / "inline", workers=1)
    monkeypatch.setattr(local, "POOL_MIN_CHARS", 0)
    monkeypatch.setattr(local, "POOL_MIN_PAIRS", 0)
    monkeypatch.setattr(local, "BATCH_DOCS", 2)
    pooled = run_corpus(source, tmp_path / "pooled", workers=2)
    assert passages_of(pooled) == passages_of(inline)
    assert clusters_of(pooled) == clusters_of(inline)
    assert pooled.candidate_pairs == inline.candidate_pairs


class Interrupted(Exception):
    """Stands for a run killed in the middle."""


def test_local_engine_resumes_an_interrupted_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = standard_corpus()
    source = corpus.write_jsonl(tmp_path / "in.jsonl", extra=[b'{"id": "x"}'])
    clean = run_corpus(source, tmp_path / "clean")
    # One pair a task, so that the alignment can stop half way.
    monkeypatch.setattr(local, "ALIGN_BATCH_MIN", 1)
    monkeypatch.setattr(local, "ALIGN_TASKS", 10_000)
    aligned: list[int] = []

    def counting(batch: Any, settings: Settings) -> Any:
        aligned.append(batch.num_rows)
        return work.align_batch(batch, settings)

    monkeypatch.setattr(local, "align_batch", counting)

    def stop(stage: str, done: int, total: int) -> None:
        if stage == "align" and done == 2:
            raise Interrupted

    out = tmp_path / "out"
    with pytest.raises(Interrupted):
        run_corpus(source, out, progress=stop)
    assert len(aligned) == 2
    assert (out / "_work" / "local" / "pairs" / MARKER).exists()
    assert not (out / "_work" / "local" / "aligned" / MARKER).exists()

    aligned.clear()
    again = run_corpus(source, out, keep_work=True)
    assert again.resumed == STAGES
    assert len(aligned) == clean.candidate_pairs - 2  # the two finished tasks are kept
    assert passages_of(again) == passages_of(clean)
    assert clusters_of(again) == clusters_of(clean)
    assert [s.reason for s in again.skipped] == ["record has no text"]

    # A complete run is reused whole; other parameters make the later stages again.
    aligned.clear()
    assert run_corpus(source, out, keep_work=True).resumed == STAGES
    assert aligned == []
    changed = run_corpus(source, out, max_df=3)
    assert changed.resumed == ("documents", "fingerprints")
    assert passages_of(changed) == passages_of(clean)
    assert not (out / "_work").exists()


def test_alignment_tasks_do_not_depend_on_how_rows_arrive() -> None:
    import pyarrow as pa

    schema = pa.schema([("n", pa.int64())])
    chunks = [[0, 1, 2, 3, 4, 5, 6], [7], [], [8, 9, 10, 11, 12, 13, 14, 15, 16], [17, 18]]
    reader = pa.RecordBatchReader.from_batches(
        schema, [pa.record_batch([pa.array(c, pa.int64())], schema=schema) for c in chunks]
    )
    tasks = [batch.column(0).to_pylist() for batch in local._exact_batches(reader, 4)]
    assert tasks == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15], [16, 17, 18]]
    assert local.align_batch_size(0) == local.ALIGN_BATCH_MIN
    assert local.align_batch_size(10**9) == local.ALIGN_BATCH_MAX


def test_min_words_drops_short_passages(tmp_path: Path) -> None:
    b = Builder(seed=5)
    short, long = b.passage(20), b.passage(70)
    b.doc("a", 100, short, 100, long, 50)
    b.doc("b", 80, short, 90, long, 40)
    corpus = b.build()
    source = corpus.write_jsonl(tmp_path / "in.jsonl")

    def lengths(result: CorpusResult) -> list[int]:
        text = corpus.texts["a"]
        return sorted(len(text[p["query_start"] : p["query_end"]].split()) for p in passages_of(result))

    assert lengths(run_corpus(source, tmp_path / "all")) == [20, 70]
    assert lengths(run_corpus(source, tmp_path / "long", min_words=40)) == [70]


# --- boilerplate -------------------------------------------------------------------------


def test_max_df_drops_boilerplate_and_counts_it(tmp_path: Path) -> None:
    b = Builder(seed=11)
    boilerplate = b.passage(40)
    for i in range(8):
        b.doc(f"doc{i}", 120, boilerplate, 120)
    corpus = b.build()
    source = corpus.write_jsonl(tmp_path / "in.jsonl")

    kept = run_corpus(source, tmp_path / "kept", max_df=100)
    assert kept.dropped_fingerprints == 0
    assert kept.candidate_pairs == 28  # every pair of the eight documents
    assert kept.passages == 28

    dropped = run_corpus(source, tmp_path / "dropped", max_df=5)
    assert dropped.dropped_fingerprints > 0
    assert dropped.candidate_pairs == 0
    assert dropped.passages == 0
    summary = json.loads(dropped.outputs["summary"].read_text(encoding="utf-8"))
    assert summary["dropped_fingerprints"] == dropped.dropped_fingerprints


def test_bad_options_are_refused(tmp_path: Path) -> None:
    source = standard_corpus().write_jsonl(tmp_path / "in.jsonl")
    with pytest.raises(SettingsError, match="engine"):
        run_corpus(source, tmp_path / "out", engine="hadoop")
    with pytest.raises(SettingsError, match="max_df"):
        run_corpus(source, tmp_path / "out", max_df=1)
    with pytest.raises(InputError, match="no such file"):
        run_corpus(tmp_path / "missing.jsonl", tmp_path / "out")


# --- clusters ----------------------------------------------------------------------------


def test_a_passage_reused_in_three_documents_is_one_cluster(tmp_path: Path) -> None:
    corpus = standard_corpus()
    result = run_corpus(corpus.write_jsonl(tmp_path / "in.jsonl"), tmp_path / "out")
    passages = passages_of(result)
    clusters = clusters_of(result)
    # Each planted passage of the standard corpus is in two documents: three clusters.
    by_cluster: dict[int, set[str]] = {}
    for row in clusters:
        by_cluster.setdefault(row["cluster"], set()).add(row["doc_id"])
    assert result.clusters == len(by_cluster) == 3
    assert sorted(map(sorted, by_cluster.values())) == [
        ["alpha", "beta"], ["alpha", "gamma"], ["delta", "epsilon"]
    ]

    b = Builder(seed=9)
    shared = b.passage(60)
    b.doc("x", 100, shared, 100)
    b.doc("y", 50, shared, 150)
    b.doc("z", 200, shared)
    b.doc("w", 200, b.passage(30), 100)
    three = run_corpus(b.build().write_jsonl(tmp_path / "three.jsonl"), tmp_path / "out3")
    assert three.passages == 3
    assert three.clusters == 1
    rows = clusters_of(three)
    assert sorted(r["doc_id"] for r in rows) == ["x", "y", "z"]
    assert all(r["documents"] == 3 and r["passages"] == 2 for r in rows)
    assert {p["cluster"] for p in passages_of(three)} == {0}
    assert passages  # the first corpus had passages too


def test_cluster_passages_joins_overlapping_spans_only() -> None:
    found = cluster_passages(
        [
            ("a", 0, 100, "b", 0, 100),
            ("a", 10, 100, "c", 500, 590),  # overlaps the first on a: same text
            ("a", 95, 300, "d", 0, 205),  # touches it by 5 characters: another text
        ]
    )
    assert found.of_passage == (0, 0, 1)
    assert found.documents == (3, 2)
    regions = [(r.cluster, r.doc_id, r.start, r.end, r.passages) for r in found.regions]
    assert (0, "a", 0, 100, 2) in regions
    assert (1, "a", 95, 300, 1) in regions


# --- direction and stemma ----------------------------------------------------------------


def test_direction_from_dates_overrides_containment(tmp_path: Path) -> None:
    b = Builder(seed=21)
    shared = b.passage(80)
    # "short" is mostly the shared passage, so containment would call it the copy;
    # its date says it came first.
    b.doc("short", 20, shared, date="1850-04-02")
    b.doc("long", 300, shared, 300, date="1851")
    result = run_corpus(b.build().write_jsonl(tmp_path / "in.jsonl"), tmp_path / "out")
    graph = graph_of(result)
    [edge] = graph["edges"]
    assert (edge["earlier"], edge["later"], edge["basis"]) == ("short", "long", "date")
    [pair] = graph["pairs"]
    assert pair["direction"] == 0.95
    assert 0 < pair["confidence"] <= pair["direction"]
    assert pair["evidence"]["dates"] == {"short": "1850-04-02", "long": "1851"}


def test_direction_from_containment_without_dates(tmp_path: Path) -> None:
    b = Builder(seed=22)
    first, second = b.passage(70), b.passage(60)
    b.doc("original", 300, first, 200, second, 300)
    b.doc("excerpt", 15, first, second, 15)
    result = run_corpus(b.build().write_jsonl(tmp_path / "in.jsonl"), tmp_path / "out")
    [edge] = graph_of(result)["edges"]
    assert (edge["earlier"], edge["later"]) == ("original", "excerpt")
    assert edge["basis"] in ("containment", "superset")
    [pair] = graph_of(result)["pairs"]
    assert 0.5 < pair["direction"] <= 1
    assert pair["evidence"]["coverage"]["excerpt"] > pair["evidence"]["coverage"]["original"]
    # Made-up words are rare in English: shared "errors" raise the derivation.
    assert pair["evidence"]["rare_words"] > 0
    assert pair["derivation"] > 0.99


def test_near_identical_copies_collapse_into_one_node(tmp_path: Path) -> None:
    b = Builder(seed=23)
    whole, part = b.passage(150), b.passage(50)
    b.doc("copy1", whole, date="1700")
    b.doc("copy2", whole, date="1690")
    b.doc("later", 200, whole[:400], 100, part, date="1800")
    b.doc("other", part, 10)
    result = run_corpus(b.build().write_jsonl(tmp_path / "in.jsonl"), tmp_path / "out")
    graph = graph_of(result)
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes["copy2"]["members"] == ["copy1", "copy2"]  # the earliest represents them
    assert "copy1" not in nodes
    assert result.groups == 1
    edges = {(e["earlier"], e["later"]) for e in graph["edges"]}
    assert ("copy2", "later") in edges
    inside = [p for p in graph["pairs"] if p["group"]]
    assert [(p["earlier"], p["later"]) for p in inside] == [("copy2", "copy1")]


def test_direct_without_evidence_is_a_coin_toss() -> None:
    edge = direct(PairEvidence("a", "b", 1000, 1000, 500, 500, passages=1))
    assert (edge.earlier, edge.later, edge.basis, edge.direction) == ("a", "b", "none", 0.5)
    assert 0 <= edge.confidence <= 0.5
    sure = direct(PairEvidence("a", "b", 1000, 100, 90, 95, passages=1, rare_count=3))
    assert (sure.earlier, sure.later, sure.basis) == ("a", "b", "superset")
    assert sure.confidence > 0.8


def test_large_stemmas_are_drawn_in_part(monkeypatch: pytest.MonkeyPatch) -> None:
    from stemmatic.corpus import html
    from stemmatic.corpus.stemma import build_stemma

    pairs = [
        PairEvidence(f"d{i}", f"d{i + 1}", 1000, 1000, 100 + i, 500 + i, passages=1)
        for i in range(6)
    ]
    stemma = build_stemma(pairs, {})
    assert stemma.graph.number_of_nodes() == 7
    assert all(stemma.graph.has_edge(f"d{i}", f"d{i + 1}") for i in range(6))
    monkeypatch.setattr(html, "MAX_NODES", 4)
    page = html.render(stemma, {})
    assert "Showing 4 of 7 nodes" in page
    assert page.count('class="node"') == 4
    # The heaviest edges are kept: those of d4 -> d5 and d5 -> d6.
    assert ">d6<" in page and ">d0<" not in page


def test_parse_and_compare_dates() -> None:
    assert parse_date("1851") == (1851,)
    assert parse_date("1851-03-07T10:00:00Z") == (1851, 3, 7)
    assert parse_date("c. 1851") == (1851,)
    assert parse_date("1851-13-40") == (1851,)
    assert parse_date("undated") is None
    assert compare_dates("1850", "1851-01-01") == -1
    assert compare_dates("1851-02", "1851-01-30") == 1
    assert compare_dates("1851", "1851-06-01") is None
    assert compare_dates(None, "1851") is None


def test_covered_counts_the_union_of_spans() -> None:
    assert covered([(0, 10), (5, 20), (30, 40)]) == 30
    assert covered([]) == 0


# --- candidate fingerprints and the copies shortcut --------------------------------------

ODD_TEXT = (
    "Don't [T]he café's costs—3.14 dollars; U.S. officials’ 1,000 «quoted» words, "
    "naïve CAPITALS and Colour.\n\nThe   the of and. Ünïcödé\u00a0spaces\tand ʼquotesʼ "
    "well-known e-mail (parenthesised) remarks! Another sentence here, with 42 items. "
    "İSTANBUL Straße STRASSE ΣΊΣΥΦΟΣ Ⅻ ½ x²."
)


@pytest.mark.parametrize(
    "settings",
    [Settings(), Settings(stopwords=True), Settings(stem=False, ngram=3),
     Settings(fold_spelling=False, fold_numbers=False, ngram=2)],
)
def test_candidate_fingerprints_are_the_index_fingerprints(settings: Settings) -> None:
    texts = [*standard_corpus().texts.values(), ODD_TEXT, "the of and to", "", "word"]
    for text in texts:
        expected = np.unique(document_fingerprints(text, settings).hashes)
        assert np.array_equal(candidate_fingerprints(text, settings), expected), text[:40]


def test_candidate_fingerprints_survive_a_full_table_of_pieces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stemmatic.corpus import candidates

    monkeypatch.setattr(candidates, "MAX_PIECES", 5)
    settings = Settings()
    texts = list(standard_corpus().texts.values())
    for text in texts + texts:  # the table fills, is emptied, and fills again
        expected = np.unique(document_fingerprints(text, settings).hashes)
        assert np.array_equal(candidate_fingerprints(text, settings), expected)


def test_candidate_fingerprints_differ_only_on_runs_of_number_words() -> None:
    # The tokenizer merges "twenty five" into one token; pieces between white space
    # are normalized one by one, so here the two fingerprints differ (documented).
    text = "alpha beta gamma twenty five delta epsilon zeta eta theta"
    settings = Settings()
    expected = np.unique(document_fingerprints(text, settings).hashes)
    assert not np.array_equal(candidate_fingerprints(text, settings), expected)


def test_window_minima_keeps_what_winnow_keeps() -> None:
    rng = np.random.default_rng(5)
    for length in [*range(12), 50, 300]:
        for window in (1, 2, 4, 7):
            # Few distinct values, so that windows have ties.
            hashes = rng.integers(0, 20, size=length).astype(np.uint64)
            positions = np.arange(length)
            kept = winnow(Ngrams(hashes, positions, positions), window).hashes
            assert set(window_minima(hashes, window).tolist()) == set(kept.tolist())


def _shared(a: str, b: str, settings: Settings) -> np.ndarray:
    return np.intersect1d(candidate_fingerprints(a, settings), candidate_fingerprints(b, settings))


def _recording_align(
    monkeypatch: pytest.MonkeyPatch,
) -> list[bool]:
    """Record the ``paraphrase`` setting of each call work.py makes to align()."""
    calls: list[bool] = []

    def recorded(query: Document, source: Document, settings: Settings) -> list[Passage]:
        calls.append(settings.paraphrase)
        return align(query, source, settings)

    monkeypatch.setattr(work, "align", recorded)
    return calls


def _spans(passages: list[Passage]) -> list[tuple[int, int, int, int]]:
    return [(p.query_start, p.query_end, p.source_start, p.source_end) for p in passages]


def test_copies_that_explain_the_shared_fingerprints_skip_the_paraphrase_stages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    corpus = standard_corpus()
    query = Document(id="alpha", text=corpus.texts["alpha"])
    source = Document(id="beta", text=corpus.texts["beta"])
    settings = Settings()
    hashes = _shared(query.text, source.text, settings)
    assert len(hashes) >= 2
    calls = _recording_align(monkeypatch)
    found = align_shared(query, source, settings, hashes)
    assert calls == [False]  # copies only
    assert _spans(found) == _spans(align(query, source, settings))
    assert unexplained(query, source, found, hashes, settings) == 0
    # Signed hashes, as the tables hold them, are the same evidence.
    assert unexplained(query, source, found, hashes.view(np.int64).tolist(), settings) == 0


def test_shared_fingerprints_outside_the_copies_align_in_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    b = Builder(seed=17)
    passage = b.passage(60)
    # The source holds the passage twice, the query once: the copy found covers one of
    # the source's two places, and the fingerprints of the other lie outside it.
    b.doc("q", 80, passage, 40)
    b.doc("s", 90, passage, 70, passage, 30)
    corpus = b.build()
    query = Document(id="q", text=corpus.texts["q"])
    source = Document(id="s", text=corpus.texts["s"])
    settings = Settings()
    hashes = _shared(query.text, source.text, settings)
    copies = align(query, source, settings.replace(paraphrase=False))
    assert unexplained(query, source, copies, hashes, settings) >= work.MIN_SHARED
    calls = _recording_align(monkeypatch)
    found = align_shared(query, source, settings, hashes)
    assert calls == [False, True]
    assert _spans(found) == _spans(align(query, source, settings))
    # Without evidence, or with paraphrases off, the aligner runs once as asked.
    calls.clear()
    align_shared(query, source, settings, None)
    align_shared(query, source, settings.replace(paraphrase=False), hashes)
    assert calls == [True, False]


def test_copies_close_together_on_both_sides_may_be_one_edited_passage() -> None:
    words = [f"w{i}" for i in range(400)]
    text = " ".join(words)
    query = Document(id="q", text=text)
    source = Document(id="s", text=text)
    settings = Settings(max_gap=10)

    def at(first: int, last: int) -> tuple[int, int]:
        """The span of words first..last-1 of ``text``."""
        start = sum(len(w) + 1 for w in words[:first])
        return start, start + len(" ".join(words[first:last]))

    def passage(q: tuple[int, int], s: tuple[int, int]) -> Passage:
        return Passage(q[0], q[1], "s", s[0], s[1], Kind.COPY, 1.0)

    near = [passage(at(0, 50), at(100, 150)), passage(at(58, 90), at(160, 200))]
    assert split_copy(query, source, near, settings)
    far = [passage(at(0, 50), at(100, 150)), passage(at(70, 90), at(160, 200))]
    assert not split_copy(query, source, far, settings)
    swapped = [passage(at(0, 50), at(160, 200)), passage(at(55, 90), at(100, 150))]
    assert not split_copy(query, source, swapped, settings)
    assert not split_copy(query, source, near[:1], settings)


def test_fingerprints_missing_from_a_side_are_unexplained() -> None:
    corpus = standard_corpus()
    query = Document(id="alpha", text=corpus.texts["alpha"])
    source = Document(id="beta", text=corpus.texts["beta"])
    settings = Settings()
    copies = align(query, source, settings)
    hashes = _shared(query.text, source.text, settings)
    only_query = np.setdiff1d(candidate_fingerprints(query.text, settings), hashes)[:3]
    assert unexplained(query, source, copies, np.concatenate([hashes, only_query]),
                       settings) == 3
    assert unexplained(query, source, [], hashes, settings) == len(hashes)


# --- outputs -----------------------------------------------------------------------------


def test_outputs_are_readable_and_the_page_is_self_contained(tmp_path: Path) -> None:
    corpus = standard_corpus()
    corpus.meta["alpha"] = {"title": "<script>alert(1)</script>", "series": "Gazette"}
    result = run_corpus(corpus.write_jsonl(tmp_path / "in.jsonl"), tmp_path / "out", jsonl=True)
    out = tmp_path / "out"
    assert pq.read_table(out / "passages").num_rows == result.passages
    assert pq.read_table(out / "clusters").num_rows == len(clusters_of(result))
    assert set(pq.read_table(out / "passages").schema.names) >= {
        "query_id", "query_start", "query_end", "source_id", "source_start", "source_end",
        "kind", "score", "cluster",
    }
    graph = graph_of(result)
    assert len(graph["edges"]) == result.edges == 3
    gml = nx.read_graphml(out / "graph.graphml")
    assert gml.is_directed()
    assert gml.number_of_edges() == result.edges
    assert gml.nodes["alpha"]["series"] == "Gazette"
    assert json.loads(gml.nodes["alpha"]["members"]) == ["alpha"]

    page = (out / "stemma.html").read_text(encoding="utf-8")
    assert "<svg" in page and "data-edge" in page and "data-node" in page
    assert "http://" not in page and "https://" not in page
    assert "<script src" not in page and "<link" not in page
    assert "<script>alert(1)" not in page  # corpus text is escaped
    assert page.count("<script") == 2
    # Clicking an edge shows its passages: their snippets are in the page's data.
    assert all(p["query_snippet"][:60] in page for p in passages_of(result))

    lines = (out / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == passages_of(result)
    assert len((out / "clusters.jsonl").read_text().splitlines()) == len(clusters_of(result))
    assert len((out / "edges.jsonl").read_text().splitlines()) == len(graph["pairs"])
    assert not (out / "_work").exists()


def test_ids_with_path_separators_stay_data(tmp_path: Path) -> None:
    b = Builder(seed=31)
    shared = b.passage(50)
    b.doc("../escape", 100, shared, 50)
    b.doc("sub/dir/doc", 80, shared, 60)
    b.doc("/absolute", 90, shared)
    corpus = b.build()
    inside = tmp_path / "inside"
    inside.mkdir()
    source = corpus.write_jsonl(inside / "in.jsonl")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = run_corpus(source, inside / "out", jsonl=True)
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    new = [p for p in after if p not in before]
    assert new and all(p.parts[:2] == ("inside", "out") for p in new)
    assert not any(".." in p.parts or "escape" in str(p) or "absolute" in str(p) for p in new)
    ids = {p["query_id"] for p in passages_of(result)} | {p["source_id"] for p in passages_of(result)}
    assert ids == {"../escape", "sub/dir/doc", "/absolute"}


def test_skipped_records_are_counted_with_their_reason(tmp_path: Path) -> None:
    corpus = standard_corpus()
    source = corpus.write_jsonl(
        tmp_path / "in.jsonl",
        extra=[
            json.dumps({"id": "notext", "title": "x"}).encode(),
            json.dumps({"id": "alpha", "text": "a second alpha"}).encode(),
            b'{"id": "latin1", "text": "caf\xe9"}',
            b"{not json",
        ],
    )
    result = run_corpus(source, tmp_path / "out")
    reasons = sorted(s.reason for s in result.skipped)
    assert len(reasons) == 4
    assert "record has no text" in reasons
    assert "duplicate id 'alpha'" in reasons
    assert "not valid UTF-8" in reasons
    assert any(r.startswith("bad JSON") for r in reasons)
    assert result.documents == 6
    lines = (tmp_path / "out" / "skipped.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["reason"] for line in lines) == reasons
    # The first "alpha" was kept, not the duplicate.
    assert any(p["query_id"] == "alpha" for p in passages_of(result))


def test_series_is_read_from_records(tmp_path: Path) -> None:
    corpus = standard_corpus()
    corpus.meta["beta"] = {"series": "The Weekly", "date": "1860"}
    result = run_corpus(corpus.write_jsonl(tmp_path / "in.jsonl"), tmp_path / "out")
    nodes = {n["id"]: n for n in graph_of(result)["nodes"]}
    assert nodes["beta"]["series"] == "The Weekly"
    assert "series" not in nodes["alpha"]


def test_parquet_dataset_input(tmp_path: Path) -> None:
    import pyarrow as pa

    corpus = standard_corpus()
    records = corpus.records()
    for record in records:
        record.setdefault("series", "Courier" if record["id"] < "d" else None)
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    half = len(records) // 2
    for number, part in enumerate([records[:half], records[half:]]):
        table = pa.Table.from_pylist(
            [{k: r.get(k) for k in ("id", "text", "series")} for r in part]
        )
        pq.write_table(table, dataset / f"part-{number}.parquet")
    (dataset / "_SUCCESS").write_text("")
    result = run_corpus(dataset, tmp_path / "out")
    assert result.skipped == ()
    assert result.documents == len(records)
    assert result.passages == len(corpus.planted)
    nodes = {n["id"]: n for n in graph_of(result)["nodes"]}
    assert nodes["alpha"]["series"] == "Courier"
    assert "series" not in nodes["epsilon"]


def test_output_folder_is_checked(tmp_path: Path) -> None:
    corpus = standard_corpus()
    folder = tmp_path / "docs"
    folder.mkdir()
    for doc_id, text in corpus.texts.items():
        (folder / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match="inside the input folder"):
        run_corpus(folder, folder / "out")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SettingsError, match="not corpus results"):
        run_corpus(folder, busy)
    assert (busy / "notes.txt").read_text(encoding="utf-8") == "mine"
    # An earlier run's output is replaced.
    first = run_corpus(folder, tmp_path / "again")
    second = run_corpus(folder, tmp_path / "again")
    assert passages_of(first) == passages_of(second)


def test_a_corpus_without_documents_gives_empty_outputs(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"id": "a"}\n{"id": "b", "text": "   "}\n')
    result = run_corpus(source, tmp_path / "out", jsonl=True)
    assert (result.documents, result.passages, result.clusters, result.edges) == (0, 0, 0, 0)
    assert len(result.skipped) == 2
    assert pq.read_table(result.outputs["passages"]).num_rows == 0
    assert graph_of(result)["nodes"] == []
    assert "<svg" in result.outputs["html"].read_text(encoding="utf-8")


def test_spark_engine_without_pyspark_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # makes "import pyspark" fail
    source = standard_corpus().write_jsonl(tmp_path / "in.jsonl")
    with pytest.raises(SettingsError, match=r"stemmatic\[spark\]"):
        run_corpus(source, tmp_path / "out", engine="spark")
    assert not (tmp_path / "out").exists()


def test_importing_the_package_does_not_import_spark() -> None:
    code = "import sys, stemmatic.corpus; sys.exit(1 if 'pyspark' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
