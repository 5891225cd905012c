"""The command line, driven as a user drives it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from stemmatic.cli import cli
from stemmatic.report import validate


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


def test_every_command_has_help_with_an_example_or_description(run_cli) -> None:
    for path, command in _commands(cli):
        assert command.help and len(command.help) > 40, path
        code, out, _ = run_cli(*path, "--help")
        assert code == 0
        assert "Usage: stemmatic" in out
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, (path, param.name)


def test_trace_examples_as_json(run_cli, examples: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "report.json"
    code, _out, err = run_cli(
        "trace", examples / "essay.md", "--sources", examples / "sources",
        "--format", "json", "--output", out_file,
    )
    assert code == 0, err
    data = json.loads(out_file.read_text(encoding="utf-8"))
    validate(data)
    essay = (examples / "essay.md").read_text(encoding="utf-8")
    assert data["query"]["length"] == len(essay)
    assert len(data["passages"]) >= 8
    texts = {s["id"]: s for s in data["sources"]}
    assert "unrelated-notes.txt" in texts
    for p in data["passages"]:
        assert p["query_text"] == essay[p["query_start"] : p["query_end"]]
        assert p["source_id"] != "unrelated-notes.txt"


def test_sources_may_follow_one_flag(run_cli, examples: Path) -> None:
    src = examples / "sources"
    code, out, _ = run_cli(
        "trace", examples / "essay.md", "--sources",
        src / "whitfield-2004.txt", src / "okafor-2011.md", "--format", "json",
    )
    assert code == 0
    ids = {s["id"] for s in json.loads(out)["sources"]}
    assert ids == {"whitfield-2004.txt", "okafor-2011.md"}


def test_quiet_prints_one_line(run_cli, examples: Path) -> None:
    code, out, _ = run_cli("trace", examples / "essay.md", "-s", examples / "sources", "--quiet")
    assert code == 0
    assert len(out.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p / "missing.txt", "missing.txt"),
        (lambda p: _write(p / "blob.txt", b"\x00\x01\x02binary\x00" * 50), "binary"),
        (lambda p: _write(p / "empty.txt", b"   \n\t  "), "empty"),
        (lambda p: _write(p / "a.xyz", b"hello"), "a.xyz"),
    ],
)
def test_bad_query_gives_one_clear_line(run_cli, examples: Path, tmp_path: Path, make, expected) -> None:
    path = make(tmp_path)
    code, _out, err = run_cli("trace", path, "--sources", examples / "sources")
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert expected in lines[0]


def test_usage_errors(run_cli, examples: Path) -> None:
    code, _, err = run_cli("trace", examples / "essay.md")
    assert code == 2 and "--sources" in err
    code, _, err = run_cli("trace", examples / "essay.md", "-s", examples / "sources", "--min-words", "0")
    assert code == 2 and "min_words" in err and "Traceback" not in err
    code, _, err = run_cli("trace", examples / "essay.md", "-s", examples / "sources", "--format", "pdf")
    assert code == 2 and "pdf" in err


def test_bad_file_in_corpus_is_skipped_and_listed(run_cli, examples: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(
        (examples / "sources" / "whitfield-2004.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    _write(corpus / "broken.pdf", b"%PDF-1.4 this is not really a pdf")
    code, out, err = run_cli("trace", examples / "essay.md", "-s", corpus, "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert [s["path"].endswith("broken.pdf") for s in data["skipped"]] == [True]
    assert data["skipped"][0]["reason"]
    assert any(p["source_id"] == "good.txt" for p in data["passages"])


def test_index_add_then_trace_matches_trace_with_sources(run_cli, examples: Path, tmp_path: Path) -> None:
    index = tmp_path / "corpus.duckdb"
    code, out, err = run_cli("index", "add", index, examples / "sources")
    assert code == 0, err
    assert "4 added" in out
    code, out, _ = run_cli("index", "add", index, examples / "sources")
    assert "0 added" in out and "4 unchanged" in out

    code, by_index, err = run_cli("trace", examples / "essay.md", "--index", index, "-f", "json")
    assert code == 0, err
    code, by_sources, _ = run_cli("trace", examples / "essay.md", "-s", examples / "sources", "-f", "json")

    def spans(text: str) -> list[tuple]:
        return sorted(
            (p["query_start"], p["query_end"], p["source_id"], p["source_start"], p["source_end"])
            for p in json.loads(text)["passages"]
        )

    assert spans(by_index) == spans(by_sources)


def test_index_built_with_other_settings_is_refused(run_cli, examples: Path, tmp_path: Path) -> None:
    index = tmp_path / "corpus.duckdb"
    assert run_cli("index", "add", index, examples / "sources")[0] == 0
    code, _, err = run_cli("trace", examples / "essay.md", "--index", index, "--ngram", "5")
    assert code == 2
    assert "ngram" in err and "Traceback" not in err


def test_missing_index_is_a_clear_error(run_cli, examples: Path, tmp_path: Path) -> None:
    code, _, err = run_cli("trace", examples / "essay.md", "--index", tmp_path / "nope.duckdb")
    assert code == 2
    assert "nope.duckdb" in err and "Traceback" not in err


def test_console_script_runs_as_a_module(examples: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stemmatic", "trace", str(examples / "essay.md"),
         "--sources", str(examples / "sources"), "--quiet"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "sources" in result.stdout or "%" in result.stdout


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("error", ["runtime", "duckdb"])
def test_ctrl_c_inside_duckdb_is_an_interrupt_not_an_internal_error(
    run_cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, error: str
) -> None:
    # DuckDB's Python client turns Ctrl-C during a statement into an exception of its own.
    import duckdb

    from stemmatic.index import duck

    def stopped(*args: object, **kwargs: object) -> None:
        if error == "runtime":
            raise RuntimeError("Query interrupted")
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")

    monkeypatch.setattr(duck, "index_info", stopped)
    code, _, err = run_cli("index", "info", tmp_path / "x.duckdb")
    assert code == 130
    assert err.strip() == "stemmatic: interrupted"
