"""The same inputs and settings give byte-identical JSON, whatever the order and the workers.

Sources are passed in shuffled orders, folders are written file by file in different
orders, corpus records are shuffled, and alignment runs in one process or in two; the
report must not change by a single byte.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import hostile
import pytest
from hostile import prose

ORDERS = 5


def _files() -> dict[str, bytes]:
    """Sources in every format, in sub-folders, keyed by relative path."""
    texts = {i: prose(7000 + i, 160) for i in range(10)}
    return {
        "a/one.txt": texts[0].encode(),
        "a/two.md": ("# Two\n\n" + texts[1]).encode(),
        "b/three.html": f"<html><head><title>Three</title></head><body><article><p>{texts[2]}</p>"
        f"</article></body></html>".encode(),
        "b/four.pdf": hostile.pdf_with_text(texts[3]),
        "b/deep/five.docx": hostile.docx_with_text(texts[4]),
        "c/six.txt": texts[5].encode("utf-16-le"),
        "c/seven.txt": texts[6].encode(),
        "c/eight.txt": texts[7].encode(),
        "records.jsonl": "".join(
            json.dumps({"id": f"record-{n}", "text": texts[8 + n]}) + "\n" for n in range(2)
        ).encode(),
        "bad/empty.txt": b"",
        "bad/binary.txt": bytes(range(256)) * 8,
    }


def _query() -> str:
    """Borrows from most sources: copies, a lightly changed copy, a quotation, a citation."""
    texts = {i: prose(7000 + i, 160).split() for i in range(10)}
    parts = [
        "My essay begins in my own words.",
        " ".join(texts[0][10:50]),
        f'As the author wrote, "{" ".join(texts[2][20:45])}" (Three).',
        " ".join(texts[3][30:70]),
        " ".join(w.upper() if i % 9 == 0 else w for i, w in enumerate(texts[4][5:55])),
        " ".join(texts[5][40:80]),
        " ".join(texts[8][0:35]),
        " ".join(texts[9][60:100]),
        "And it ends in my own words too.",
    ]
    return "\n\n".join(parts) + "\n"


def _write(root: Path, files: dict[str, bytes], order: list[str]) -> None:
    """Write ``files`` under ``root`` one by one in ``order`` (a fresh folder each time)."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir()
    for name in order:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding query.txt; paths are passed relative to it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "query.txt").write_text(_query(), encoding="utf-8")
    return tmp_path


def _trace(run_cli: Callable, *args: str | Path) -> str:
    code, out, err = run_cli("trace", "query.txt", *args, "-f", "json")
    assert code == 0, err
    return out


def _check_report(out: str) -> None:
    """The report is worth comparing: it found the planted passages and the bad files."""
    data = json.loads(out)
    found = {p["source_id"] for p in data["passages"]}
    assert len(found) >= 6, found
    assert len(data["skipped"]) == 2, data["skipped"]
    assert data["findings"], "no findings to compare"


def test_shuffled_source_arguments_give_identical_json(workdir: Path, run_cli) -> None:
    files = _files()
    _write(workdir / "src", files, sorted(files))
    paths = [f"src/{name}" for name in sorted(files)]
    reference = _trace(run_cli, "--sources", *paths)
    _check_report(reference)
    rng = random.Random(1)
    for _ in range(ORDERS):
        order = paths[:]
        rng.shuffle(order)
        assert _trace(run_cli, "--sources", *order) == reference, order


def test_folders_written_in_different_orders_give_identical_json(workdir: Path, run_cli) -> None:
    files = _files()
    names = sorted(files)
    _write(workdir / "src", files, names)
    reference = _trace(run_cli, "--sources", "src")
    _check_report(reference)
    rng = random.Random(2)
    orders = [names[::-1]] + [rng.sample(names, len(names)) for _ in range(ORDERS - 1)]
    for order in orders:
        _write(workdir / "src", files, order)
        assert _trace(run_cli, "--sources", "src") == reference, order
    # Folders given in another order, and a folder's sub-folders given one by one.
    assert _trace(
        run_cli, "--sources", "src/c", "src/b", "src/a", "src/bad", "src/records.jsonl"
    ) == _trace(run_cli, "--sources", "src/records.jsonl", "src/a", "src/bad", "src/b", "src/c")


def test_shuffled_corpus_records_give_identical_json(workdir: Path, run_cli) -> None:
    texts = [prose(7100 + i, 120) for i in range(30)]
    lines = [json.dumps({"id": f"r{i:02d}", "text": t}) + "\n" for i, t in enumerate(texts)]
    (workdir / "query.txt").write_text(
        "\n\n".join(" ".join(t.split()[20:60]) for t in texts[::3]) + "\n", encoding="utf-8"
    )
    rng = random.Random(3)
    reports = []
    for round_ in range(ORDERS):
        order = lines if round_ == 0 else rng.sample(lines, len(lines))
        (workdir / "corpus.jsonl").write_text("".join(order), encoding="utf-8")
        reports.append(_trace(run_cli, "--sources", "corpus.jsonl"))
    assert len({p["source_id"] for p in json.loads(reports[0])["passages"]}) == 10
    assert all(report == reports[0] for report in reports)


def test_workers_do_not_change_the_report(workdir: Path, run_cli) -> None:
    files = _files()
    _write(workdir / "src", files, sorted(files))
    one = _trace(run_cli, "--sources", "src", "--workers", "1")
    _check_report(one)
    assert _trace(run_cli, "--sources", "src", "--workers", "2") == one
    assert _trace(run_cli, "--sources", "src", "--workers", "3") == one


def test_workers_in_a_subprocess_give_identical_bytes(workdir: Path) -> None:
    """The real command, each in a fresh process: what a CI job diffing reports sees."""
    files = _files()
    _write(workdir / "src", files, sorted(files))
    runs = [
        hostile.run(
            ["trace", "query.txt", "--sources", "src", "-f", "json", "--workers", w], cwd=workdir
        )
        for w in ("1", "2")
    ]
    for run in runs:
        assert run.code == 0 and not run.traceback, run.stderr
    assert runs[0].raw_stdout == runs[1].raw_stdout
    _check_report(runs[0].stdout)


def test_index_built_in_different_orders_gives_identical_reports(workdir: Path, run_cli) -> None:
    files = _files()
    _write(workdir / "src", files, sorted(files))
    names = [f"src/{n}" for n in sorted(files) if not n.startswith("bad/")]
    rng = random.Random(4)
    reports = []
    for round_ in range(3):
        order = names if round_ == 0 else rng.sample(names, len(names))
        index = workdir / f"index-{round_}.duckdb"
        # One file per call: the insertion order (and so the internal keys) differ.
        for name in order:
            code, _, err = run_cli("index", "add", index, name)
            assert code == 0, err
        # The same index file name each time, so that nothing but the order differs.
        shutil.copy(index, workdir / "index.duckdb")
        reports.append(_trace(run_cli, "--index", "index.duckdb"))
        os.remove(workdir / "index.duckdb")
    assert len({p["source_id"] for p in json.loads(reports[0])["passages"]}) >= 6
    assert reports[1] == reports[0] and reports[2] == reports[0]


def test_repeated_runs_give_identical_json(workdir: Path, run_cli) -> None:
    files = _files()
    _write(workdir / "src", files, sorted(files))
    first = _trace(run_cli, "--sources", "src")
    assert _trace(run_cli, "--sources", "src") == first


def test_same_file_names_in_two_folders_in_either_order(workdir: Path, run_cli) -> None:
    (workdir / "a").mkdir()
    (workdir / "b").mkdir()
    (workdir / "a" / "x.txt").write_text(prose(7200, 120), encoding="utf-8")
    (workdir / "b" / "x.txt").write_text(prose(7201, 120), encoding="utf-8")
    (workdir / "query.txt").write_text(
        " ".join(prose(7200, 120).split()[:40]) + "\n\n" + " ".join(prose(7201, 120).split()[:40]),
        encoding="utf-8",
    )
    forward = _trace(run_cli, "--sources", "a/x.txt", "b/x.txt")
    assert len(json.loads(forward)["passages"]) == 2
    assert _trace(run_cli, "--sources", "b/x.txt", "a/x.txt") == forward
    assert _trace(run_cli, "--sources", "a", "b") == _trace(run_cli, "--sources", "b", "a")


def test_same_file_given_twice_counts_once(workdir: Path, run_cli) -> None:
    """A file reached through a link and directly is one source, whichever comes first."""
    (workdir / "src").mkdir()
    (workdir / "src" / "real.txt").write_text(prose(7300, 120), encoding="utf-8")
    os.symlink("real.txt", workdir / "src" / "alias.txt")
    (workdir / "query.txt").write_text(" ".join(prose(7300, 120).split()[:50]), encoding="utf-8")
    for order in (("src/real.txt", "src/alias.txt"), ("src/alias.txt", "src/real.txt"), ("src",)):
        data = json.loads(_trace(run_cli, "--sources", *order))
        assert len(data["sources"]) == 1 and len(data["passages"]) == 1, order
        assert len(data["skipped"]) == 1 and "same file as" in data["skipped"][0]["reason"]


def test_same_file_given_twice_in_either_order(workdir: Path, run_cli) -> None:
    (workdir / "src").mkdir()
    (workdir / "src" / "real.txt").write_text(prose(7300, 120), encoding="utf-8")
    os.symlink("real.txt", workdir / "src" / "alias.txt")
    (workdir / "query.txt").write_text(" ".join(prose(7300, 120).split()[:50]), encoding="utf-8")
    assert _trace(run_cli, "--sources", "src/real.txt", "src/alias.txt") == _trace(
        run_cli, "--sources", "src/alias.txt", "src/real.txt"
    )
