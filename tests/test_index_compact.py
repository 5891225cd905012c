"""`stemmatic index compact`: the index rewritten without its free space, safely.

The index is built from made-up words, then every document is replaced once, which
leaves free blocks in the DuckDB file.  Compacting must keep every row, give the free
blocks back, refuse bad input with one line, leave the index untouched when anything
fails, and never let another process use a file that is no longer at the index's path.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from stemmatic.errors import IndexStoreError
from stemmatic.index import CompactResult, DuckIndex, compact, duck, index_info, tokens_for
from stemmatic.settings import Settings
from stemmatic.types import Document

SETTINGS = Settings()

# Pseudo-words: no stop words, and random 4-grams of them never collide by chance.
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vi", "zo", "pe", "gu", "bra", "tel"]
VOCABULARY = sorted(
    {"".join(random.Random(i).choices(_SYLLABLES, k=3 + i % 2)) for i in range(3000)}
)


def _documents(seed: int, count: int = 20, words: int = 1000, prefix: str = "d") -> list[Document]:
    rng = random.Random(seed)
    return [
        Document(id=f"{prefix}{i:02d}", text=" ".join(rng.choices(VOCABULARY, k=words)), title=f"T{seed}")
        for i in range(count)
    ]


def _build(path: Path, rounds: int = 2, prefix: str = "d") -> list[Document]:
    """An index whose documents were each replaced ``rounds - 1`` times; the last ones."""
    docs: list[Document] = []
    for seed in range(rounds):
        docs = _documents(seed, prefix=prefix)
        with DuckIndex.open(path, SETTINGS, create=True) as store:
            store.add(docs)
    return docs


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[Document]]:
    """The bytes of an index with free blocks in it, and the documents it holds."""
    path = tmp_path_factory.mktemp("built") / "corpus.duckdb"
    docs = _build(path)
    return path.read_bytes(), docs


@pytest.fixture
def index(built: tuple[bytes, list[Document]], tmp_path: Path) -> Path:
    path = tmp_path / "corpus.duckdb"
    path.write_bytes(built[0])
    return path


def _blocks(path: Path) -> tuple[int, int]:
    """(total, free) blocks of a DuckDB file."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute("PRAGMA database_size").fetchall()[0]
    finally:
        con.close()
    return int(row[3]), int(row[5])


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the index's tables, in a fixed order."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in ("meta", "documents", "fingerprints")
        }
    finally:
        con.close()


def _query(docs: list[Document]) -> str:
    """A query quoting three of the documents at length, among unrelated words."""
    rng = random.Random(99)
    parts = [" ".join(rng.choices(VOCABULARY, k=50))]
    for doc in (docs[3], docs[11], docs[17]):
        words = doc.text.split()
        parts += [" ".join(words[100:160]), " ".join(rng.choices(VOCABULARY, k=50))]
    return " ".join(parts)


def _reads(path: Path, docs: list[Document]) -> tuple[Any, ...]:
    """What a trace gets from the index: metadata, documents with tokens, candidates."""
    with DuckIndex.open(path, SETTINGS, read_only=True) as store:
        infos = store.documents()
        loaded = store.load([d.id for d in docs])
        candidates = store.candidates(tokens_for(_query(docs), SETTINGS), 10)
    tokens = []
    for doc, toks in loaded:
        assert toks is not None, doc.id  # the stored tokens were read, not recomputed
        tokens.append(
            (toks.text, toks.starts.tolist(), toks.ends.tolist(), toks.forms, toks.keys,
             toks.ids.tolist(), np.asarray(toks.stop).tolist())
        )
    return infos, [doc for doc, _ in loaded], tokens, candidates


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_compact_keeps_every_row_and_gives_back_the_free_blocks(
    index: Path, built: tuple[bytes, list[Document]]
) -> None:
    docs = built[1]
    blocks, free = _blocks(index)
    assert free > 0, "the fixture should leave free blocks, or this test proves nothing"
    tables, reads = _tables(index), _reads(index, docs)
    infos, loaded, _, candidates = reads
    assert [i.id for i in infos] == [d.id for d in docs] and loaded == docs
    assert {c[0] for c in candidates[:3]} == {"d03", "d11", "d17"}
    size = index.stat().st_size

    result = compact(index)

    assert result == CompactResult(bytes_before=size, bytes_after=index.stat().st_size, documents=20)
    assert result.bytes_after < result.bytes_before
    # No free block left, and no more blocks than the index used (a fresh copy may pack
    # its rows into fewer).
    after_blocks, after_free = _blocks(index)
    assert after_free == 0 and after_blocks <= blocks - free
    assert _tables(index) == tables
    assert _reads(index, docs) == reads
    info = index_info(index)
    assert info["readable"] and info["documents"] == 20 and info["bytes"] == result.bytes_after
    # Nothing left beside it: no copy, no log.
    assert _listing(index.parent) == ["corpus.duckdb"]
    # The copy has the index's own schema: uncompressed text, the primary keys.
    con = duckdb.connect(str(index), read_only=True)
    try:
        kinds = con.execute(
            "SELECT DISTINCT compression FROM pragma_storage_info('documents') "
            "WHERE column_name IN ('text', 'packed') AND segment_type <> 'VALIDITY'"
        ).fetchall()
        keys = con.execute(
            "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
            "WHERE constraint_type = 'PRIMARY KEY' ORDER BY table_name"
        ).fetchall()
    finally:
        con.close()
    assert kinds == [("Uncompressed",)]
    assert keys == [("documents", ["id"]), ("meta", ["key"])]


def test_the_compacted_index_takes_more_documents(index: Path) -> None:
    compact(index)
    extra = _documents(7, count=3, prefix="x")
    with DuckIndex.open(index, SETTINGS) as store:
        result = store.add(extra)
        assert result.added == 3
        assert store.count() == 23
    con = duckdb.connect(str(index), read_only=True)
    try:
        keys = con.execute("SELECT key FROM documents").fetchall()
    finally:
        con.close()
    assert len({k for (k,) in keys}) == 23


def test_cli_prints_one_line(index: Path, run_cli) -> None:
    before = index.stat().st_size
    code, out, err = run_cli("index", "compact", index)
    assert code == 0, err
    after = index.stat().st_size
    assert after < before
    # Files under 10 MB get one decimal.
    assert out == f"{index}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB (20 documents)\n"
    assert err == ""


def _older_format(path: Path) -> None:
    _build(path, rounds=1)
    con = duckdb.connect(str(path))
    try:
        con.execute("UPDATE meta SET value = '1' WHERE key = 'format_version'")
    finally:
        con.close()


def _plain_duckdb(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE t AS SELECT 42 AS x")
    finally:
        con.close()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (None, "no index at {path}; create one with `stemmatic index add"),
        (lambda p: p.write_bytes(b"not a database at all" * 100),
         "{path} is not a Stemmatic index (not a DuckDB database file)"),
        (lambda p: p.write_bytes(b""), "{path} is not a Stemmatic index (not a DuckDB database file)"),
        (_plain_duckdb, "{path} is a DuckDB database, not a Stemmatic index"),
        (_older_format, "index {path} was built by an older Stemmatic (format 1); rebuild it"),
    ],
    ids=["missing", "not-duckdb", "empty", "plain-duckdb", "older-format"],
)
def test_bad_input_is_one_line_and_leaves_the_file_alone(
    make: Callable[[Path], object] | None, says: str, tmp_path: Path, run_cli
) -> None:
    path = tmp_path / "corpus.duckdb"
    if make is not None:
        make(path)
    data = path.read_bytes() if path.exists() else None
    listing = _listing(tmp_path)
    code, out, err = run_cli("index", "compact", path)
    assert code == 2 and out == ""
    assert err.startswith(f"stemmatic: error: {says.format(path=path)}"), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert (path.read_bytes() if path.exists() else None) == data
    assert _listing(tmp_path) == listing


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IndexStoreError, match="is a directory, not an index file"):
        compact(tmp_path)


def _break_insert(monkeypatch: pytest.MonkeyPatch) -> None:
    # The last table does not exist: DuckDB fails after copying the others.
    monkeypatch.setattr(duck, "_COPIED", (*duck._COPIED, ("no_such_table", ("x",))))


def _break_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # The copy's checksums come out different from the index's.
    real = duck._totals
    calls = []

    def totals(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int, int]:
        calls.append(1)
        found = real(con)
        return found if len(calls) == 1 else (found[0], found[1] + 1, *found[2:])

    monkeypatch.setattr(duck, "_totals", totals)


def _fail_fsync(
    error: type[BaseException], *args: object
) -> Callable[[pytest.MonkeyPatch], None]:
    def patch(monkeypatch: pytest.MonkeyPatch) -> None:
        def fsync(path: Path) -> None:
            # A new exception each time: one made once, with the parameters, would keep
            # its traceback, and with it compact's frame and DuckDB connection, alive
            # until the interpreter exits (where DuckDB's binding reports them leaked).
            raise error(*args)

        monkeypatch.setattr(duck, "_fsync", fsync)

    return patch


@pytest.mark.parametrize(
    ("breaks", "raises", "says"),
    [
        (_break_insert, IndexStoreError, "no_such_table"),
        (_break_check, IndexStoreError, "the copy differs from it; it is unchanged"),
        (_fail_fsync(OSError, 28, "No space left on device"), IndexStoreError,
         "(No space left on device); it is unchanged"),
        (_fail_fsync(KeyboardInterrupt), KeyboardInterrupt, ""),
    ],
    ids=["insert", "check", "disk-full", "interrupt"],
)
def test_a_failure_leaves_the_index_as_it_was(
    breaks: Callable[[pytest.MonkeyPatch], None],
    raises: type[BaseException],
    says: str,
    index: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = index.read_bytes()
    breaks(monkeypatch)
    with pytest.raises(raises) as caught:
        compact(index)
    assert says in str(caught.value)
    if raises is IndexStoreError:
        assert f"could not compact index {index}" in str(caught.value)
    assert index.read_bytes() == data
    assert _listing(index.parent) == ["corpus.duckdb"]
    monkeypatch.undo()
    with DuckIndex.open(index, SETTINGS) as store:  # neither locked nor damaged
        assert store.count() == 20


def test_copies_left_by_killed_compactions_are_removed(index: Path) -> None:
    folder = index.parent
    stale = [".corpus.duckdb.0123abcd.compact-tmp", ".corpus.duckdb.0123abcd.compact-tmp.wal"]
    kept = [".corpus.duckdb.notacopy", ".other.duckdb.0123abcd.compact-tmp", ".corpus.duckdb.0123abcdef.compact-tmp"]
    for name in stale + kept:
        (folder / name).write_bytes(b"x")
    compact(index)
    assert _listing(folder) == sorted(["corpus.duckdb", *kept])


def test_a_link_stays_a_link(index: Path) -> None:
    link = index.parent / "link.duckdb"
    link.symlink_to(index.name)
    before = index.stat().st_size
    result = compact(link)
    assert link.is_symlink() and os.readlink(link) == index.name
    assert result.bytes_after == index.stat().st_size < before
    assert _listing(index.parent) == ["corpus.duckdb", "link.duckdb"]


def test_an_index_with_hard_links_is_refused(index: Path, run_cli) -> None:
    # Renaming the compacted file over the index would leave the other name at the old
    # file, and the two names would drift apart.
    other = index.parent / "other.duckdb"
    os.link(index, other)
    data = index.read_bytes()
    with pytest.raises(IndexStoreError, match="has another name") as caught:
        compact(index)
    assert "compact a copy" in str(caught.value)
    code, out, err = run_cli("index", "compact", other)
    assert code == 2 and out == ""
    assert err.startswith(f"stemmatic: error: index {other} has another name (hard links)")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert index.read_bytes() == data and os.path.samefile(index, other)
    other.unlink()
    assert compact(index).bytes_after < len(data)


def test_an_index_open_in_this_process_is_refused(index: Path) -> None:
    data = index.read_bytes()
    for read_only in (False, True):
        with (
            DuckIndex.open(index, SETTINGS, read_only=read_only),
            pytest.raises(IndexStoreError, match="is open in this process; close it first"),
        ):
            compact(index)
    assert index.read_bytes() == data
    assert compact(index).documents == 20


_HOLD = textwrap.dedent(
    """
    import sys, time
    from stemmatic.index import DuckIndex
    from stemmatic.settings import Settings
    store = DuckIndex.open(sys.argv[1], Settings(), read_only=True)
    print("holding", flush=True)
    sys.stdin.readline()
    time.sleep(0.5)
    store.close()
    """
)


def test_waits_for_a_reader_in_another_process(index: Path, run_cli) -> None:
    data = index.read_bytes()
    reader = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(index)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline() == "holding\n"
        code, out, err = run_cli("index", "compact", index, "--wait", "0")
        assert code == 2 and out == ""
        assert err == (
            f"stemmatic: error: index {index} is open for reading in another process; "
            "wait for it to finish\n"
        )
        assert index.read_bytes() == data
        reader.stdin.write("go\n")  # the reader lets go half a second from now
        reader.stdin.flush()
        told: list[str] = []
        result = compact(index, wait=30, on_wait=told.append)
    finally:
        reader.stdin.close()  # type: ignore[union-attr]
        reader.wait(timeout=30)
    assert told == [f"index {index} is open for reading in another process; waiting up to 30 s for it to finish"]
    assert result.documents == 20 and result.bytes_after < len(data)


def test_a_writer_between_turns_goes_on_in_the_compacted_file(index: Path) -> None:
    extra = _documents(5, count=4, prefix="x")
    with DuckIndex.open(index, SETTINGS) as store:
        store._release()  # as `index add` does between batches, leaving the file to others
        compact(index)
        compacted = os.stat(index).st_ino
        assert store.add(extra).added == 4  # takes the file back: the new one
    assert os.stat(index).st_ino == compacted
    with DuckIndex.open(index, SETTINGS, read_only=True) as store:
        ids = [d.id for d in store.documents()]
    assert ids == [f"d{i:02d}" for i in range(20)] + [f"x{i:02d}" for i in range(4)]


_WRITE_AND_DIE = textwrap.dedent(
    """
    import os, sys, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("SET wal_autocheckpoint = '1GB'")
    con.execute("INSERT INTO meta VALUES ('written-after-the-rename', 'yes')")
    os._exit(0)  # killed: the change is only in the log
    """
)


def test_closing_the_old_file_leaves_the_new_files_log_alone(
    index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Right after the rename, while the compaction still holds the old file, another
    # process opens the new file at the path and commits a change that stays in its log,
    # which bears the same name as the old file's would (path + ".wal").
    wal = index.with_name(index.name + ".wal")
    replace = os.replace

    def replace_then_write(src: Any, dst: Any) -> None:
        replace(src, dst)
        subprocess.run([sys.executable, "-c", _WRITE_AND_DIE, str(dst)], check=True, timeout=60)
        assert wal.stat().st_size > 0

    monkeypatch.setattr(duck.os, "replace", replace_then_write)
    compact(index)
    monkeypatch.undo()
    assert wal.stat().st_size > 0  # closing the old file neither removed nor replayed it
    assert _tables(index)["meta"][-1] == ("written-after-the-rename", "yes")
    with DuckIndex.open(index, SETTINGS) as store:
        assert store.count() == 20


def _racing_connect(
    monkeypatch: pytest.MonkeyPatch, index: Path, other: Path, *, fail: bool = False
) -> list[str]:
    """Make the first DuckDB connect race with a compaction renaming ``other`` over ``index``.

    ``fail=False``: the connect opens the file at the path, which is then replaced before
    it is checked.  ``fail=True``: the path is replaced while connecting, and DuckDB fails
    as it does when the old file meets the new file's log.
    """
    connect = duckdb.connect
    calls: list[str] = []

    def racing(database: str, *args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        calls.append(database)
        if len(calls) > 1:
            return connect(database, *args, **kwargs)
        if fail:
            os.replace(other, index)
            raise duckdb.IOException(
                f'IO Error: Failure while replaying WAL file "{index}.wal": '
                "WAL does not match database file."
            )
        con = connect(database, *args, **kwargs)
        os.replace(other, index)
        return con

    monkeypatch.setattr(duck.duckdb, "connect", racing)
    return calls


@pytest.mark.parametrize("fail", [False, True], ids=["opened-old-file", "old-file-refused"])
@pytest.mark.parametrize("read_only", [True, False], ids=["reader", "writer"])
def test_a_file_replaced_while_opening_is_let_go_for_the_new_one(
    read_only: bool, fail: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, other = tmp_path / "corpus.duckdb", tmp_path / "new.duckdb"
    _build(index, rounds=1, prefix="old")
    _build(other, rounds=1, prefix="new")
    calls = _racing_connect(monkeypatch, index, other, fail=fail)
    with DuckIndex.open(index, SETTINGS, read_only=read_only) as store:
        if not read_only:
            store.add(_documents(3, count=1, prefix="added"))
        ids = [d.id for d in store.documents()]
    assert len(calls) == 2
    monkeypatch.undo()
    expected = [f"new{i:02d}" for i in range(20)]
    assert ids == ([] if read_only else ["added00"]) + expected
    # What the writer added is in the file at the path.
    assert [row[0] for row in _tables(index)["documents"]] == ids


def test_a_writer_taking_the_file_back_follows_a_replacement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, other = tmp_path / "corpus.duckdb", tmp_path / "new.duckdb"
    _build(index, rounds=1, prefix="old")
    _build(other, rounds=1, prefix="new")
    with DuckIndex.open(index, SETTINGS) as store:
        store._release()
        calls = _racing_connect(monkeypatch, index, other)
        store.add(_documents(3, count=1, prefix="added"))
    assert len(calls) == 2
    monkeypatch.undo()
    ids = [row[0] for row in _tables(index)["documents"]]
    assert ids == ["added00"] + [f"new{i:02d}" for i in range(20)]
