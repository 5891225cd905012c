"""Tests of the corpus index: the DuckDB store on disk and the in-memory store."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest

from stemmatic import fingerprint as fingerprint_module
from stemmatic.errors import IndexStoreError
from stemmatic.index import (
    FORMAT_VERSION,
    WINDOW,
    AddResult,
    AddStatus,
    DuckIndex,
    IndexStore,
    MemoryIndex,
    document_fingerprints,
    duck,
    index_info,
    tokens_for,
)
from stemmatic.settings import Settings
from stemmatic.types import Document

SETTINGS = Settings()

# Pseudo-words from syllables: none is a stop word, and random 4-grams of them never
# collide by chance, so every shared fingerprint in these tests was put there on purpose.
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vi", "zo", "pe", "gu", "bra", "tel"]
VOCABULARY = sorted(
    {"".join(random.Random(i).choices(_SYLLABLES, k=3 + i % 2)) for i in range(3000)}
)


def words(rng: random.Random, n: int) -> list[str]:
    return rng.choices(VOCABULARY, k=n)


def source(doc_id: str, rng: random.Random, n: int = 300, **meta: str) -> Document:
    return Document(id=doc_id, text=" ".join(words(rng, n)), **meta)  # type: ignore[arg-type]


def sources(count: int, seed: int = 0, n: int = 300) -> list[Document]:
    rng = random.Random(seed)
    return [source(f"s{i:02d}", rng, n) for i in range(count)]


def stored_fingerprints(path: Path) -> dict[str, list[tuple[int, int]]]:
    """Each stored document's (hash, first_token) pairs, read straight from the file."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out: dict[str, list[tuple[int, int]]] = {
            doc_id: [] for (doc_id,) in con.execute("SELECT id FROM documents").fetchall()
        }
        rows = con.execute(
            "SELECT d.id, f.hash, f.first_token FROM fingerprints f "
            "LEFT JOIN documents d ON d.key = f.doc ORDER BY 1, 3, 2"
        ).fetchall()
    finally:
        con.close()
    for doc_id, hash_, first in rows:
        # A fingerprint row whose document is gone would show up under None.
        out.setdefault(doc_id, []).append((int(hash_), int(first)))
    return out


def expected_fingerprints(text: str) -> list[tuple[int, int]]:
    prints = document_fingerprints(text, SETTINGS)
    return sorted(
        zip(prints.hashes.tolist(), prints.first.tolist(), strict=True), key=lambda p: (p[1], p[0])
    )


def set_meta(path: Path, key: str, value: str) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("UPDATE meta SET value = ? WHERE key = ?", [value, key])
    finally:
        con.close()


def build(path: Path, docs: list[Document], settings: Settings = SETTINGS) -> None:
    with DuckIndex.open(path, settings, create=True) as index:
        index.add(docs)


# -- creating, adding, reopening ------------------------------------------------------


def test_create_add_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "corpus.duckdb"
    rng = random.Random(1)
    docs = [
        source("b", rng, path="/corpus/b.txt", title="Bee", author="Ann", date="1901"),
        Document(
            id="a",
            text="Café “quoted” — text.\n" + " ".join(words(rng, 50)),
            format="html",
            encoding="utf-8",
            excluded=((0, 5), (10, 12)),
            warnings=("odd markup",),
        ),
    ]
    with DuckIndex.open(path, SETTINGS, create=True) as index:
        assert isinstance(index, IndexStore)
        result = index.add(docs)
        assert result == AddResult(
            added=2,
            fingerprints=sum(len(document_fingerprints(d.text, SETTINGS)) for d in docs),
        )
    assert path.is_file()

    with DuckIndex.open(path, SETTINGS, read_only=True) as index:
        assert index.count() == 2
        assert "a" in index and "b" in index and "c" not in index and 3 not in index
        assert index.get("a") == docs[1]
        assert index.get("b") == docs[0]
        listing = index.documents()
        assert [info.id for info in listing] == ["a", "b"]
        assert listing[1].title == "Bee" and listing[1].path == "/corpus/b.txt"
        assert listing[0].length == len(docs[1].text)
        assert listing[0].tokens == len(tokens_for(docs[1].text, SETTINGS))
        assert listing[0].added_at.endswith("Z")
        with pytest.raises(KeyError):
            index.get("c")
        with pytest.raises(IndexStoreError, match="read-only"):
            index.add([source("c", rng)])
    assert stored_fingerprints(path) == {d.id: expected_fingerprints(d.text) for d in docs}


def test_add_is_incremental(tmp_path: Path) -> None:
    path = tmp_path / "corpus.duckdb"
    first, second = sources(3, seed=1), sources(6, seed=2)[3:]
    with DuckIndex.open(path, SETTINGS, create=True) as index:
        assert index.add(first).added == 3
    with DuckIndex.open(path, SETTINGS, create=True) as index:
        assert index.add(second) == AddResult(
            added=3, fingerprints=sum(len(document_fingerprints(d.text, SETTINGS)) for d in second)
        )
        assert [info.id for info in index.documents()] == ["s00", "s01", "s02", "s03", "s04", "s05"]
        before = index.documents()

        seen: list[tuple[str, AddStatus]] = []
        again = index.add(first + second, progress=lambda d, s: seen.append((d.id, s)))
        assert again == AddResult(unchanged=6)
        assert seen == [(d.id, AddStatus.UNCHANGED) for d in first + second]
        assert index.documents() == before  # not even the timestamps were rewritten

        changed = Document(id="s01", text=" ".join(words(random.Random(9), 200)))
        retitled = Document(id="s02", text=first[2].text, title="New title")
        result = index.add([changed, retitled])
        assert (result.added, result.replaced, result.unchanged) == (0, 2, 0)
        assert result.fingerprints == len(document_fingerprints(changed.text, SETTINGS))
        assert index.get("s01") == changed
        assert index.get("s02") == retitled
        assert index.count() == 6
    current = {d.id: d for d in first + second} | {"s01": changed, "s02": retitled}
    assert stored_fingerprints(path) == {
        doc_id: expected_fingerprints(doc.text) for doc_id, doc in current.items()
    }


def test_repeated_id_in_one_add_keeps_the_last(tmp_path: Path) -> None:
    rng = random.Random(3)
    one, two = source("x", rng), source("x", rng)
    with DuckIndex.open(tmp_path / "i.duckdb", SETTINGS, create=True) as index:
        result = index.add([one, two])
        assert (result.added, result.replaced) == (1, 1)
        assert index.get("x") == two
    assert stored_fingerprints(tmp_path / "i.duckdb") == {"x": expected_fingerprints(two.text)}


def test_batches_hold_whole_documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(duck, "BATCH_DOCS", 2)
    docs = sources(7, seed=4)
    seen: list[str] = []
    with DuckIndex.open(tmp_path / "i.duckdb", SETTINGS, create=True) as index:
        assert index.add(docs, progress=lambda d, s: seen.append(d.id)).added == 7
    assert seen == [d.id for d in docs]
    assert stored_fingerprints(tmp_path / "i.duckdb") == {
        d.id: expected_fingerprints(d.text) for d in docs
    }


def test_failure_mid_document_rolls_back_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "i.duckdb"
    kept = sources(2, seed=5)
    build(path, kept)
    doomed = source("doomed", random.Random(6))
    inserted: list[bool] = []

    def fail(self: DuckIndex, table: object) -> None:
        # The document's row is written, inside the transaction, when this is reached.
        inserted.append("doomed" in self)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(DuckIndex, "_write_fingerprints", fail)
    with DuckIndex.open(path, SETTINGS) as index:
        with pytest.raises(RuntimeError, match="disk on fire"):
            index.add([doomed])
        assert inserted == [True]
        assert "doomed" not in index
        monkeypatch.undo()
        # The index is still usable, and the key given to the failed document is reused.
        assert index.add([doomed]).added == 1
    assert stored_fingerprints(path) == {
        d.id: expected_fingerprints(d.text) for d in [*kept, doomed]
    }


def test_closed_index_refuses_work(tmp_path: Path) -> None:
    index = DuckIndex.open(tmp_path / "i.duckdb", SETTINGS, create=True)
    index.close()
    index.close()
    with pytest.raises(IndexStoreError, match="closed"):
        index.count()
    memory = MemoryIndex(SETTINGS)
    memory.close()
    with pytest.raises(IndexStoreError, match="closed"):
        memory.add(sources(1))


# -- candidates ------------------------------------------------------------------------


def planted_query(docs: list[Document], target: int, seed: int) -> str:
    rng = random.Random(1000 + seed)  # not a seed any source was drawn with
    passage = docs[target].text.split()[100:160]
    return " ".join(words(rng, 200) + passage + words(rng, 200))


@pytest.mark.parametrize("store", ["duck", "memory"])
def test_candidates_rank_the_planted_source_first(tmp_path: Path, store: str) -> None:
    docs = sources(30, seed=7)
    index: IndexStore
    if store == "duck":
        build(tmp_path / "i.duckdb", docs)
        index = DuckIndex.open(tmp_path / "i.duckdb", SETTINGS, read_only=True)
    else:
        index = MemoryIndex(SETTINGS, docs)
    with index:
        for target in (7, 21):
            query = tokens_for(planted_query(docs, target, seed=target), SETTINGS)
            found = index.candidates(query, 5)
            assert found[0][0] == docs[target].id
            assert found[0][1] > 0.02
            # Nothing else shares a run of words with the query.
            assert len(found) == 1
        assert index.candidates(tokens_for("too short", SETTINGS), 5) == []
        assert index.candidates(tokens_for(docs[3].text, SETTINGS), 0) == []


def test_candidate_score_of_a_whole_copy_and_ties(tmp_path: Path) -> None:
    rng = random.Random(8)
    text = " ".join(words(rng, 400))
    docs = [Document(id="b", text=text), Document(id="a", text=text), source("c", rng)]
    build(tmp_path / "i.duckdb", docs)
    with DuckIndex.open(tmp_path / "i.duckdb", SETTINGS, read_only=True) as index:
        found = index.candidates(tokens_for(text, SETTINGS), 10)
    # Identical sources tie and are ordered by id; a copy scores about 2 / (WINDOW + 1).
    assert [doc_id for doc_id, _ in found] == ["a", "b"]
    assert found[0][1] == found[1][1]
    assert 1.5 / (WINDOW + 1) < found[0][1] < 2.5 / (WINDOW + 1)


def mixed_corpus(seed: int) -> tuple[list[Document], list[str]]:
    """Sources that share passages with each other, and queries drawn from several."""
    rng = random.Random(seed)
    pool = [" ".join(words(rng, 40)) for _ in range(25)]
    docs = [
        Document(id=f"d{i:02d}", text=" ".join(rng.sample(pool, rng.randint(2, 8))))
        for i in range(20)
    ]
    queries = [" ".join(rng.sample(pool, rng.randint(1, 10))) for _ in range(8)]
    return docs, queries


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_memory_and_duck_give_the_same_candidates(tmp_path: Path, seed: int) -> None:
    docs, queries = mixed_corpus(seed)
    build(tmp_path / "i.duckdb", docs)
    with (
        DuckIndex.open(tmp_path / "i.duckdb", SETTINGS, read_only=True) as on_disk,
        MemoryIndex(SETTINGS, docs) as in_memory,
    ):
        assert on_disk.documents() != [] and len(on_disk.documents()) == len(in_memory.documents())
        for text in queries:
            query = tokens_for(text, SETTINGS)
            for limit in (3, 50):
                expected = in_memory.candidates(query, limit)
                assert len(expected) > 0
                assert on_disk.candidates(query, limit) == expected


def test_memory_index_add_statuses() -> None:
    docs = sources(3, seed=10)
    index = MemoryIndex(SETTINGS)
    assert index.add(docs).added == 3
    assert index.add(docs) == AddResult(unchanged=3)
    changed = Document(id="s00", text=docs[1].text)
    result = index.add([changed])
    assert (result.replaced, result.fingerprints) == (
        1,
        len(document_fingerprints(changed.text, SETTINGS)),
    )
    assert index.get("s00") == changed
    assert [info.id for info in index.documents()] == ["s00", "s01", "s02"]
    with pytest.raises(KeyError):
        index.get("nope")


# -- opening checks --------------------------------------------------------------------


def test_missing_index(tmp_path: Path) -> None:
    path = tmp_path / "none.duckdb"
    with pytest.raises(IndexStoreError) as info:
        DuckIndex.open(path, SETTINGS)
    assert str(info.value) == (
        f"no index at {path}; create one with `stemmatic index add {path} FILES`"
    )
    assert info.value.path == str(path)
    assert not path.exists()
    with pytest.raises(IndexStoreError, match="no directory"):
        DuckIndex.open(tmp_path / "sub" / "i.duckdb", SETTINGS, create=True)
    with pytest.raises(IndexStoreError, match="is a directory"):
        DuckIndex.open(tmp_path, SETTINGS)
    with pytest.raises(IndexStoreError, match="no index at"):
        index_info(path)


def test_not_a_duckdb_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("These are my notes, not a database.\n" * 200)
    for kwargs in ({}, {"read_only": True}, {"create": True}):
        with pytest.raises(IndexStoreError, match="not a Stemmatic index \\(not a DuckDB"):
            DuckIndex.open(path, SETTINGS, **kwargs)  # type: ignore[arg-type]
    assert path.read_text().startswith("These are my notes")


def test_a_duckdb_file_of_something_else(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales (amount INTEGER)")
    con.close()
    for create in (False, True):
        with pytest.raises(IndexStoreError, match="is a DuckDB database, not a Stemmatic index"):
            DuckIndex.open(path, SETTINGS, create=create)
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(IndexStoreError, match="an empty DuckDB database"):
        DuckIndex.open(empty, SETTINGS)
    # An empty database (say, from a create that was killed) can be made an index.
    with DuckIndex.open(empty, SETTINGS, create=True) as index:
        assert index.count() == 0


def test_settings_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "i.duckdb"
    build(path, sources(2))
    other = SETTINGS.replace(ngram=5, stem=False, min_words=3)
    for kwargs in ({}, {"read_only": True}, {"create": True}):
        with pytest.raises(IndexStoreError) as info:
            DuckIndex.open(path, other, **kwargs)  # type: ignore[arg-type]
        message = str(info.value)
        assert f"index {path} was built with ngram=4, stem=True" in message
        assert "these settings have ngram=5, stem=False" in message
        assert "min_words" not in message  # not an index setting
        assert "rebuild the index" in message
    # Settings that do not touch fingerprints open it fine.
    with DuckIndex.open(path, SETTINGS.replace(min_words=3, candidates=5), read_only=True) as index:
        assert index.count() == 2


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (FORMAT_VERSION - 1, f"built by an older Stemmatic (format {FORMAT_VERSION - 1}); rebuild"),
        (FORMAT_VERSION + 1, f"built by a newer Stemmatic (format {FORMAT_VERSION + 1}); upgrade"),
    ],
)
def test_format_version_mismatch(tmp_path: Path, version: int, expected: str) -> None:
    path = tmp_path / "i.duckdb"
    build(path, sources(2))
    set_meta(path, "format_version", str(version))
    for kwargs in ({}, {"read_only": True}, {"create": True}):
        with pytest.raises(IndexStoreError, match=re.escape(expected)):
            DuckIndex.open(path, SETTINGS, **kwargs)  # type: ignore[arg-type]
    info = index_info(path)
    assert info["format_version"] == version
    assert info["readable"] is False
    assert "documents" not in info


def test_window_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "i.duckdb"
    build(path, sources(1))
    set_meta(path, "window", str(WINDOW + 1))
    with pytest.raises(IndexStoreError, match=f"winnowing window {WINDOW + 1}, not {WINDOW}"):
        DuckIndex.open(path, SETTINGS)


def test_an_index_fingerprinted_another_way_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "i.duckdb"
    build(path, sources(2))
    # As if a later Stemmatic hashed n-grams differently, with the same settings.
    monkeypatch.setattr(fingerprint_module, "_MULTIPLIERS", fingerprint_module._MULTIPLIERS + 2)
    with pytest.raises(IndexStoreError, match="tokenizes or fingerprints text differently"):
        DuckIndex.open(path, SETTINGS, read_only=True)
    info = index_info(path)
    assert info["tokenizer_matches"] is False and info["readable"] is False
    monkeypatch.undo()
    assert index_info(path)["tokenizer_matches"] is True
    set_meta(path, "probe", "0" * 32)
    with pytest.raises(IndexStoreError, match="tokenizes or fingerprints text differently"):
        DuckIndex.open(path, SETTINGS)


def test_index_info(tmp_path: Path) -> None:
    path = tmp_path / "i.duckdb"
    docs = sources(4)
    build(path, docs)
    info = index_info(path)
    assert info["format_version"] == FORMAT_VERSION and info["readable"] is True
    assert info["tokenizer_matches"] is True
    assert info["settings"] == SETTINGS.index_key()
    assert info["window"] == WINDOW
    assert info["documents"] == 4
    assert info["characters"] == sum(len(d.text) for d in docs)
    assert info["fingerprints"] == sum(len(document_fingerprints(d.text, SETTINGS)) for d in docs)
    assert info["created"] <= info["updated"]
    assert info["bytes"] == path.stat().st_size
    json.dumps(info)


# -- other processes -------------------------------------------------------------------

_HOLDER = textwrap.dedent(
    """
    import sys
    from stemmatic.index import DuckIndex
    from stemmatic.settings import Settings
    index = DuckIndex.open(sys.argv[1], Settings(), read_only=sys.argv[2] == "read", wait=30)
    print("ready", index.count(), flush=True)
    sys.stdin.read()
    index.close()
    """
)


def hold(path: Path, mode: str) -> subprocess.Popen[str]:
    """A process holding the index open (``write`` or ``read``) until its stdin closes."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().startswith("ready")
    return child


def release(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None
    child.stdin.close()
    assert child.wait(timeout=30) == 0


def test_a_second_writer_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "i.duckdb"
    build(path, sources(2))
    writer = hold(path, "write")
    try:
        busy = f"index {path} is being written by another process; wait for it to finish"
        with pytest.raises(IndexStoreError) as info:
            DuckIndex.open(path, SETTINGS)
        assert str(info.value) == busy
        with pytest.raises(IndexStoreError) as info:
            DuckIndex.open(path, SETTINGS, read_only=True)
        assert str(info.value) == busy
        told: list[str] = []
        start = time.monotonic()
        with pytest.raises(IndexStoreError) as info:
            DuckIndex.open(path, SETTINGS, wait=0.6, on_wait=told.append)
        assert time.monotonic() - start >= 0.6
        holder = f"index {path} is being written by another process"
        assert str(info.value) == holder + "; gave up after waiting 0.6 s"
        # Told once, however many times it tried.
        assert told == [holder + "; waiting up to 0.6 s for it to finish"]
    finally:
        release(writer)
    # Once the writer is gone the index opens, and it waits no longer than needed.
    with DuckIndex.open(path, SETTINGS, wait=5) as index:
        assert index.count() == 2


def test_readers_share_and_block_writers(tmp_path: Path) -> None:
    path = tmp_path / "i.duckdb"
    build(path, sources(2))
    reader = hold(path, "read")
    try:
        with DuckIndex.open(path, SETTINGS, read_only=True) as index:
            assert index.count() == 2
        with pytest.raises(IndexStoreError) as info:
            DuckIndex.open(path, SETTINGS)
        assert str(info.value) == (
            f"index {path} is open for reading in another process; wait for it to finish"
        )
    finally:
        release(reader)


def test_a_writer_takes_turns_with_a_reader(tmp_path: Path, monkeypatch) -> None:
    """add() leaves the file between batches; a reader waiting for it gets in and sees
    whole batches; the writer waits for the reader, says so once, and goes on."""
    from stemmatic.index import duck

    path = tmp_path / "i.duckdb"
    build(path, sources(1))
    monkeypatch.setattr(duck, "BATCH_DOCS", 2)
    monkeypatch.setattr(duck, "HOLD_SECONDS", 0.0)  # leave the file before every batch
    monkeypatch.setattr(duck, "YIELD_SECONDS", 3.0)  # ample time for the reader to get in
    docs = [source(f"t{i}", random.Random(100 + i)) for i in range(6)]
    reader: list[subprocess.Popen[str]] = []
    seen: list[str] = []
    told: list[str] = []

    def documents():
        for i, doc in enumerate(docs):
            if i == 3:
                # The first batch (t0, t1) is committed and the writer holds the file: a
                # reader starts, waiting for it.
                reader.append(
                    subprocess.Popen(
                        [sys.executable, "-c", _HOLDER, str(path), "read"],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                )
            yield doc

    def on_wait(message: str) -> None:
        # The reader got in while the writer had left the file: it holds it now.
        told.append(message)
        child = reader[0]
        assert child.stdout is not None
        seen.append(child.stdout.readline().strip())
        duck.YIELD_SECONDS = 0.0
        release(child)

    with DuckIndex.open(path, SETTINGS, wait=30, on_wait=on_wait) as index:
        result = index.add(documents())
        assert (result.added, index.count()) == (6, 7)
    # The reader got in before the second batch: it saw the first one, whole.
    assert seen == ["ready 3"], seen
    assert told == [
        f"index {path} is open for reading in another process; waiting up to 30 s for it to finish"
    ]


def test_index_info_waits_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "i.duckdb"
    build(path, sources(2))
    writer = hold(path, "write")
    try:
        with pytest.raises(IndexStoreError, match="being written by another process"):
            index_info(path)
        told: list[str] = []
        # Released while index_info waits.
        threading.Timer(0.5, lambda: release(writer)).start()
        info = index_info(path, wait=30, on_wait=told.append)
    finally:
        if writer.poll() is None:
            release(writer)
    assert info["documents"] == 2
    assert told == [
        f"index {path} is being written by another process; waiting up to 30 s for it to finish"
    ]


_ADDER = textwrap.dedent(
    """
    import random, sys
    import stemmatic.index.duck as duck
    from stemmatic.index import DuckIndex
    from stemmatic.settings import Settings
    from stemmatic.types import Document

    duck.BATCH_DOCS = 3
    path, round_ = sys.argv[1], int(sys.argv[2])
    vocabulary = sys.argv[3].split()
    rng = random.Random(round_)
    # Checkpoint often, and close the file after every batch (which checkpoints too), so
    # that kills also land inside checkpoints and between a close and the next open.
    duck.DUCKDB_CONFIG = {**duck.DUCKDB_CONFIG, "checkpoint_threshold": "64KB"}
    duck.HOLD_SECONDS = 0
    duck.YIELD_SECONDS = 0
    with DuckIndex.open(path, Settings(), create=True) as index:
        print("ready", flush=True)
        i = 0
        while True:
            docs = [
                Document(f"r{round_}-{i}-{k}", " ".join(rng.choices(vocabulary, k=rng.randint(50, 3000))))
                for k in range(4)
            ]
            # Replace documents of earlier rounds too, so kills also hit replacements.
            docs.append(Document(f"shared-{i % 5}", " ".join(rng.choices(vocabulary, k=800))))
            index.add(docs)
            i += 1
    """
)


def test_killed_adds_leave_only_whole_documents(tmp_path: Path) -> None:
    path = tmp_path / "i.duckdb"
    rng = random.Random(11)
    for round_ in range(5):
        child = subprocess.Popen(
            [sys.executable, "-c", _ADDER, str(path), str(round_), " ".join(VOCABULARY[:500])],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.2, 1.0))
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL

    with DuckIndex.open(path, SETTINGS) as index:
        docs = {info.id: index.get(info.id) for info in index.documents()}
    assert len(docs) >= 5  # the adds did get somewhere before each kill
    stored = stored_fingerprints(path)
    assert set(stored) == set(docs)  # no fingerprints of a vanished document
    for doc_id, doc in docs.items():
        assert stored[doc_id] == expected_fingerprints(doc.text), doc_id


def test_fingerprints_are_stored_as_computed(tmp_path: Path) -> None:
    # The stored hashes are the unsigned 64-bit values, top bit included.
    docs = sources(5, seed=12)
    build(tmp_path / "i.duckdb", docs)
    stored = stored_fingerprints(tmp_path / "i.duckdb")
    hashes = np.array([h for pairs in stored.values() for h, _ in pairs], dtype=np.uint64)
    assert (hashes >= np.uint64(2**63)).any()
    assert stored == {d.id: expected_fingerprints(d.text) for d in docs}
