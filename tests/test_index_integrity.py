"""The on-disk index survives being killed, shares the file safely, and refuses old formats.

``stemmatic index add`` is killed with SIGKILL at random moments, again and again, on a
fresh index and on one a killed run left behind.  After every kill the index must open,
hold only whole documents (each with exactly the fingerprints a fresh computation gives),
hold every document the run reported as committed and nothing of a transaction that had
not committed, and answer ``trace --index`` for a passage planted from what it holds.

While ``index add`` writes, ``trace --index`` and ``index info`` run again and again in other
processes: each succeeds and sees the documents of whole committed transactions, a prefix
of the run.  A second writer waits its turn, and one told not to wait fails clearly.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import hostile
import pytest
from hostile import (
    fingerprint_summary,
    kill_add,
    prose,
    reported_ids,
    start_add,
    stored_documents,
    timed_add,
)

from stemmatic.errors import IndexStoreError
from stemmatic.index.duck import FORMAT_VERSION, DuckIndex
from stemmatic.settings import Settings

DOCS = 200
WORDS = 300
# SIGKILLs that must land before the run finishes; rounds go on until they have (a run
# finishing before its kill on a busy machine is checked all the same), up to MAX_ROUNDS.
KILLS = 22
MAX_ROUNDS = 40
# Documents per transaction in the runs that report their commits: small, so that a kill
# has many transaction boundaries to land between.
SMALL_BATCH = 10
# Seconds the writer of the concurrency test sleeps after each document it committed,
# holding the file: it then writes for about 200 * 0.04 = 8 s, in turns of HOLD_SECONDS.
READER_TEST_PAUSE = 0.04


@dataclass(frozen=True)
class Expected:
    text: str
    fingerprints: int
    hash_sum: int
    first_sum: int


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Expected]]:
    """DOCS generated text files and, per id, what a whole stored document must hold."""
    folder = tmp_path_factory.mktemp("integrity") / "docs"
    folder.mkdir()
    expected: dict[str, Expected] = {}
    for i in range(DOCS):
        text = prose(5000 + i, WORDS)
        name = f"doc-{i:04d}.txt"
        (folder / name).write_text(text, encoding="utf-8")
        expected[name] = Expected(text, *fingerprint_summary(text))
    return folder, expected


def _check_whole(
    stored: dict[str, tuple[str, int, int, int]], expected: dict[str, Expected]
) -> None:
    for doc_id, (text, count, hash_sum, first_sum) in stored.items():
        want = expected[doc_id]
        assert text == want.text, f"{doc_id}: stored text differs from the file"
        assert (count, hash_sum, first_sum) == (want.fingerprints, want.hash_sum, want.first_sum), (
            f"{doc_id}: {count} fingerprints stored, {want.fingerprints} computed"
        )


def _check_trace(run_cli, index: Path, doc_id: str, text: str, work: Path) -> None:
    """trace --index finds a passage planted from a stored document, at its offsets."""
    words = text.split()
    passage = " ".join(words[100:160])
    query = f"An essay that borrows. {passage} And then it ends in its own words.\n"
    query_file = work / "query.txt"
    query_file.write_text(query, encoding="utf-8")
    code, out, err = run_cli(
        "trace", query_file, "--index", index, "-f", "json", "--no-paraphrase", "-q"
    )
    assert code == 0, err
    data = json.loads(out)
    found = [p for p in data["passages"] if p["source_id"] == doc_id]
    assert found, f"planted passage of {doc_id} not found: {data['passages']}"
    start = query.index(passage)
    assert any(
        p["query_start"] <= start + 5 and p["query_end"] >= start + len(passage) - 5 for p in found
    ), found


def test_killed_index_add_keeps_whole_documents(
    corpus: tuple[Path, dict[str, Expected]], tmp_path: Path, run_cli
) -> None:
    """SIGKILL at random moments: the index holds exactly the committed documents, whole."""
    docs, expected = corpus
    order = sorted(expected)
    rng = random.Random(20240607)
    index = tmp_path / "corpus.duckdb"
    out = tmp_path / "out.txt"

    # One uninterrupted run sets the range of kill delays.
    span, _ = timed_add(index, docs, out, SMALL_BATCH)
    stored = stored_documents(index)
    assert stored is not None and sorted(stored) == order
    _check_whole(stored, expected)

    kills = survived = 0
    seen_counts: set[int] = set()
    round_ = -1
    while kills < KILLS and round_ < MAX_ROUNDS:
        round_ += 1
        fresh = round_ % 3 != 2  # every third run continues what a killed run left behind
        if fresh:
            for leftover in tmp_path.glob("corpus.duckdb*"):
                leftover.unlink()
        before = stored_documents(index) or {}
        batch = SMALL_BATCH if round_ % 4 else 0  # every fourth run: the plain CLI
        process = start_add(index, docs, out, batch)
        if batch and round_ % 5:
            # After a random number of committed transactions, a moment later.
            commits = rng.randrange(1, DOCS // batch) * batch
            was_killed = kill_add(process, out, after_commits=commits, delay=rng.uniform(0, 0.05))
        else:
            # At a random moment: starting, reading files, creating the index, or writing.
            delay = rng.uniform(0.05, 0.9 * span)
            was_killed = kill_add(process, out, after_commits=None, delay=delay)
            if not was_killed:  # the machine got faster: aim earlier next time
                span = delay
        kills += was_killed

        stored = stored_documents(index)
        present = sorted(stored) if stored else []
        seen_counts.add(len(present))
        if stored:
            _check_whole(stored, expected)
        # Documents are added in sorted order, a transaction at a time: what is stored is
        # what was there before plus whole transactions, never part of one.
        assert present == order[: len(present)], "stored documents are not a prefix"
        assert set(before) <= set(present), "a killed run lost documents committed earlier"
        if batch:
            reported = reported_ids(out)
            assert set(reported) <= set(present), "a document reported committed is missing"
            new = len(present) - len(before)
            # At most one transaction committed between the commit and the report of it.
            assert (
                len(present) == len(order)
                or new % batch == 0
                or len(present) - len(set(before) | set(reported)) <= batch
            ), (new, len(reported))
        # The index opens and answers a query planted from what it holds.
        if present:
            _check_trace(run_cli, index, present[-1], expected[present[-1]].text, tmp_path)
            survived += 1
        else:
            # Killed before the first commit: an empty index, or none at all (killed before
            # the schema was committed), which a reader is told plainly.
            code, _, err = run_cli("trace", docs / order[0], "--index", index, "-q")
            assert "Traceback" not in err
            if stored is None:
                assert code == 2, err
                assert "not a Stemmatic index" in err or "no index" in err, err
            else:
                assert code == 0, err

    assert kills >= KILLS, f"only {kills} of {round_ + 1} runs were killed before they finished"
    # The kills landed at different points, not all before or all after the writes.
    assert len(seen_counts) >= 5, seen_counts
    assert survived >= 8, survived

    # A final run completes the index from whatever the last kill left.
    final = start_add(index, docs, out, 0)
    assert final.wait(timeout=120) == 0, out.read_text()
    stored = stored_documents(index)
    assert stored is not None and sorted(stored) == order
    _check_whole(stored, expected)


def _planted_query(expected: dict[str, Expected], planted: list[str], folder: Path) -> Path:
    """A query borrowing 40 words from each of the ``planted`` documents, in turn."""
    parts = ["An essay that borrows from many notes."]
    for n, doc_id in enumerate(planted):
        parts.append(" ".join(expected[doc_id].text.split()[100:140]))
        parts.append(f"Between borrowings, number {n}, the essay has words of its own.")
    query = folder / "planted.txt"
    query.write_text(" ".join(parts) + "\n", encoding="utf-8")
    return query


def _start(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        hostile.command(*map(str, args)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_reader_stderr(err: str) -> None:
    """A reader says nothing, or says once that it waits for the writer."""
    assert "Traceback" not in err and "error" not in err, err
    lines = err.splitlines()
    assert len(lines) <= 1, err
    if lines:
        assert "is being written by another process; waiting up to 60 s" in lines[0], err


def test_readers_run_while_index_add_writes(corpus, tmp_path: Path) -> None:
    """`trace --index` and `index info`, again and again while `index add` writes.

    Each reader succeeds, and sees whole transactions committed before it opened the
    file: the planted documents it finds are the first ones in the order they are added.
    """
    docs, expected = corpus
    order = sorted(expected)
    planted = order[::20]  # 10 documents spread over the whole run
    query = _planted_query(expected, planted, tmp_path)
    index = tmp_path / "busy.duckdb"
    out = tmp_path / "writer.txt"
    writer = start_add(index, docs, out, SMALL_BATCH, pause=READER_TEST_PAUSE)
    try:
        deadline = time.monotonic() + 120
        while not reported_ids(out):
            assert writer.poll() is None, out.read_text()
            assert time.monotonic() < deadline, "the writer never committed"
            time.sleep(0.02)
        rounds = partial = 0
        while True:
            running = writer.poll() is None
            before = set(reported_ids(out))
            traces = [
                _start("trace", query, "--index", index, "-f", "json", "--no-paraphrase")
                for _ in range(2)
            ]
            info = _start("index", "info", index)
            seen: list[set[str]] = []
            for process in traces:
                stdout, err = process.communicate(timeout=120)
                assert process.returncode == 0, err
                _check_reader_stderr(err)
                found = {p["source_id"] for p in json.loads(stdout)["passages"]}
                assert found <= set(planted), found
                # A committed prefix: the planted documents found are the first ones.
                assert found == set(planted[: len(found)]), sorted(found)
                assert found >= before & set(planted), sorted(before & set(planted) - found)
                seen.append(found)
            stdout, err = info.communicate(timeout=120)
            assert info.returncode == 0, err
            _check_reader_stderr(err)
            count = json.loads(stdout)["documents"]
            # Whole transactions only, and at least what was reported committed.
            assert count % SMALL_BATCH == 0 or count == DOCS, count
            assert count >= len(before), (count, len(before))
            still = writer.poll() is None
            rounds += running and still
            partial += still and any(0 < len(f) < len(planted) for f in seen)
            if not still:
                break
        assert writer.wait(timeout=120) == 0, out.read_text()
    finally:
        if writer.poll() is None:
            writer.kill()
        writer.wait()
    # The readers did run while the writer was writing, and saw part of the index.
    assert rounds >= 2 and partial >= 1, (rounds, partial)
    stored = stored_documents(index)
    assert stored is not None and sorted(stored) == order
    _check_whole(stored, expected)
    assert _rows(index) == (DOCS, DOCS)


def _rows(index: Path) -> tuple[int, int]:
    """Rows of the documents table, and distinct ids among them."""
    con = duckdb.connect(str(index), read_only=True)
    try:
        row = con.execute("SELECT count(*), count(DISTINCT id) FROM documents").fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0]), int(row[1])


def test_a_second_writer_waits_its_turn(corpus, tmp_path: Path) -> None:
    """Two `index add` at once, over overlapping documents: both finish, each document is
    stored once and whole."""
    docs, expected = corpus
    part = tmp_path / "part"
    part.mkdir()
    for name in sorted(expected)[: DOCS // 2]:
        os.link(docs / name, part / name)
    index = tmp_path / "two.duckdb"
    out = tmp_path / "first.txt"
    first = start_add(index, part, out, 5, pause=0.02)
    try:
        while not reported_ids(out):
            assert first.poll() is None, out.read_text()
            time.sleep(0.02)
        second = _start("index", "add", index, docs)
        stdout, err = second.communicate(timeout=180)
        assert second.returncode == 0, err
        assert "Traceback" not in err
        for line in err.splitlines():  # if it had to wait, it said so
            assert "waiting up to 60 s" in line, err
        assert f"{DOCS} documents in the index" in stdout, stdout
        assert first.wait(timeout=120) == 0, out.read_text()
    finally:
        if first.poll() is None:
            first.kill()
        first.wait()
    assert "Traceback" not in out.read_text()
    stored = stored_documents(index)
    assert stored is not None and sorted(stored) == sorted(expected)
    _check_whole(stored, expected)
    assert _rows(index) == (DOCS, DOCS)


@pytest.fixture
def small_index(corpus, tmp_path: Path) -> Path:
    docs, _ = corpus
    index = tmp_path / "small.duckdb"
    with DuckIndex.open(index, Settings(), create=True) as store:
        from stemmatic import ingest

        store.add(ingest.collect([docs / "doc-0000.txt", docs / "doc-0001.txt"])[0])
    return index


def test_while_a_writer_holds_the_index_others_wait_or_fail_clearly(
    small_index: Path, corpus, tmp_path: Path
) -> None:
    docs, expected = corpus
    index = small_index
    query = _planted_query(expected, ["doc-0000.txt"], tmp_path)
    busy = f"index {index} is being written by another process"
    with hostile.holding(index, "write"):
        # --wait 0: a one-line error at once, for readers and writers alike.
        for args in (
            ("trace", query, "--index", index, "--wait", "0"),
            ("index", "info", index, "--wait", "0"),
            ("index", "add", index, docs / "doc-0002.txt", "--wait", "0"),
        ):
            run = hostile.run(args)
            assert run.code == 2, (args, run.stderr)
            assert run.stderr == f"stemmatic: error: {busy}; wait for it to finish\n", run.stderr
        # A short wait: tried until it runs out, then the same error.
        run = hostile.run(("trace", query, "--index", index, "--wait", "0.5"))
        assert run.code == 2 and run.seconds >= 0.5, run.stderr
        assert run.stderr.splitlines() == [
            f"stemmatic: {busy}; waiting up to 0.5 s for it to finish",
            f"stemmatic: error: {busy}; gave up after waiting 0.5 s",
        ], run.stderr
        # By default they wait, and say so once.
        waiting = [
            _start("trace", query, "--index", index, "-f", "json"),
            _start("index", "add", index, docs / "doc-0002.txt"),
        ]
        for process in waiting:
            assert process.stderr is not None
            line = hostile.read_line(process.stderr, 60)
            assert line == f"stemmatic: {busy}; waiting up to 60 s for it to finish\n", line
    # The holder is gone: both go on and finish.
    trace, add = waiting
    stdout, err = trace.communicate(timeout=120)
    assert trace.returncode == 0, err
    assert {p["source_id"] for p in json.loads(stdout)["passages"]} == {"doc-0000.txt"}
    stdout, err = add.communicate(timeout=120)
    assert add.returncode == 0 and err == "", err
    assert "1 added" in stdout and "3 documents in the index" in stdout, stdout


def test_while_a_reader_holds_the_index_a_writer_waits_or_fails_clearly(
    small_index: Path, corpus, tmp_path: Path
) -> None:
    docs, _ = corpus
    index = small_index
    busy = f"index {index} is open for reading in another process"
    with hostile.holding(index, "read"):
        # Readers share the file.
        run = hostile.run(("index", "info", index, "--wait", "0"))
        assert run.code == 0 and json.loads(run.stdout)["documents"] == 2, run.stderr
        out = tmp_path / "w.txt"
        process = start_add(index, docs / "doc-0002.txt", out, 0, options=("--wait", "0"))
        assert process.wait(timeout=60) == 2, out.read_text()
        assert out.read_text() == f"stemmatic: error: {busy}; wait for it to finish\n"
        writer = _start("index", "add", index, docs / "doc-0002.txt")
        assert writer.stderr is not None
        line = hostile.read_line(writer.stderr, 60)
        assert line == f"stemmatic: {busy}; waiting up to 60 s for it to finish\n", line
        assert writer.poll() is None
    stdout, err = writer.communicate(timeout=120)
    assert writer.returncode == 0 and err == "", err
    assert "3 documents in the index" in stdout


def _set_meta(index: Path, key: str, value: str) -> None:
    con = duckdb.connect(str(index))
    try:
        con.execute("UPDATE meta SET value = ? WHERE key = ?", [value, key])
    finally:
        con.close()


@pytest.mark.parametrize(
    ("version", "says"),
    [
        (FORMAT_VERSION - 1, ["older Stemmatic", "rebuild"]),
        (FORMAT_VERSION + 1, ["newer Stemmatic", "upgrade"]),
    ],
)
def test_other_format_version_says_what_to_do(
    version: int, says: list[str], corpus, tmp_path: Path, run_cli
) -> None:
    docs, _ = corpus
    index = tmp_path / "old.duckdb"
    code, _, err = run_cli("index", "add", index, docs / "doc-0003.txt")
    assert code == 0, err
    _set_meta(index, "format_version", str(version))
    for args in (
        ("trace", docs / "doc-0004.txt", "--index", index),
        ("index", "add", index, docs / "doc-0004.txt"),
    ):
        code, out, err = run_cli(*args)
        assert code == 2, (args, out, err)
        assert err.count("\n") == 1 and "Traceback" not in err
        for phrase in says:
            assert phrase in err, err
        assert f"format {version}" in err and f"reads format {FORMAT_VERSION}" in err
    # The file was not touched by the refused add, and `index info` still describes it.
    code, out, err = run_cli("index", "info", index)
    assert code == 0, err
    info = json.loads(out)
    assert info["format_version"] == version and info["readable"] is False


def test_index_with_other_settings_is_refused_with_the_settings(
    corpus, tmp_path: Path, run_cli
) -> None:
    docs, _ = corpus
    index = tmp_path / "ngram5.duckdb"
    assert run_cli("index", "add", index, docs / "doc-0005.txt", "--ngram", "5")[0] == 0
    code, _, err = run_cli("trace", docs / "doc-0006.txt", "--index", index)
    assert code == 2 and "Traceback" not in err
    assert "ngram=5" in err and "ngram=4" in err


def test_not_an_index_is_refused(tmp_path: Path, run_cli) -> None:
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database at all" * 100)
    query = tmp_path / "q.txt"
    query.write_text(prose(1, 50), encoding="utf-8")
    code, _, err = run_cli("trace", query, "--index", junk)
    assert code == 2 and "Traceback" not in err
    assert "not a Stemmatic index" in err
    with pytest.raises(IndexStoreError):
        DuckIndex.open(junk, Settings(), read_only=True)
    # An ordinary DuckDB database is not taken for an index either.
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    code, _, err = run_cli("trace", query, "--index", other)
    assert code == 2 and "not a Stemmatic index" in err


@pytest.fixture(scope="module")
def built_index(
    corpus: tuple[Path, dict[str, Expected]], tmp_path_factory: pytest.TempPathFactory
) -> bytes:
    """The bytes of a complete index of the corpus."""
    docs, _ = corpus
    index = tmp_path_factory.mktemp("built") / "full.duckdb"
    with DuckIndex.open(index, Settings(), create=True) as store:
        from stemmatic import ingest

        store.add(ingest.collect([docs])[0])
    return index.read_bytes()


def _trace_damaged(run_cli, docs: Path, data: bytes, folder: Path) -> tuple[int, str]:
    damaged = folder / "damaged.duckdb"
    damaged.write_bytes(data)
    code, _, err = run_cli("trace", docs / "doc-0007.txt", "--index", damaged, "-q")
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize("size", [0, 100, 4096, 200_000])
def test_index_cut_short_in_its_header_is_refused(
    size: int, built_index: bytes, corpus, tmp_path: Path, run_cli
) -> None:
    """A copy cut short (a full disk, a bad transfer) gives a clear error, not a crash."""
    code, err = _trace_damaged(run_cli, corpus[0], built_index[:size], tmp_path)
    assert code == 2, err
    assert err.count("\n") == 1 and "internal error" not in err, err
    assert "index" in err


@pytest.mark.parametrize("damage", ["cut-in-half", "garbage-block"])
def test_index_damaged_in_its_data_is_refused(
    damage: str, built_index: bytes, corpus, tmp_path: Path, run_cli
) -> None:
    middle = len(built_index) // 2
    if damage == "cut-in-half":
        code, err = _trace_damaged(run_cli, corpus[0], built_index[:middle], tmp_path)
        assert code == 2, err
        assert err.count("\n") == 1 and "internal error" not in err, err
        return
    # A trace reads the fingerprints, the ids and the candidates' rows; garbage in blocks
    # it never reads cannot be noticed.  Wherever the garbage lands, the trace either
    # fails with one clear line or succeeds, and it lands at least once where it is read.
    refused = 0
    for eighth in range(1, 8):
        at = len(built_index) * eighth // 8
        data = built_index[:at] + random.Random(1).randbytes(262144) + built_index[at + 262144 :]
        code, err = _trace_damaged(run_cli, corpus[0], data, tmp_path)
        assert code in (0, 2), err
        if code == 2:
            assert err.count("\n") == 1 and "internal error" not in err, err
            refused += 1
    assert refused >= 1
