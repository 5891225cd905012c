"""The ``stemmatic`` command: a thin shell over the library.

Exit status: 0 when the run completed (and no finding named by ``--fail-on`` was
found), 1 when ``--fail-on`` findings were found, 2 for bad input or options, 3 for an
internal error.  Errors are one line on stderr, never a traceback (set
``STEMMATIC_DEBUG=1`` to see one).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from stemmatic import __version__, ingest
from stemmatic.errors import StemmaticError
from stemmatic.settings import Settings
from stemmatic.types import Report

EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

FORMATS = ("text", "json", "html")

_SETTINGS_OPTIONS = [
    click.option("--min-words", type=int, default=None,
                 help="Shortest passage reported, in words.  [default: 8]"),
    click.option("--ngram", type=int, default=None,
                 help="Length of the word n-grams that seed copies.  [default: 4]"),
    click.option("--no-stem", is_flag=True,
                 help="Match words exactly instead of by their stems."),
    click.option("--no-spelling", is_flag=True,
                 help="Do not treat British and American spellings as the same word."),
    click.option("--no-paraphrase", is_flag=True,
                 help="Look for copies only, not for paraphrases."),
    click.option("--candidates", type=int, default=None,
                 help="With --index: how many best-matching sources to align.  [default: 50]"),
    click.option("--timeout", type=float, default=None,
                 help="Seconds allowed to extract one document; 0 for no limit.  [default: 120]"),
    click.option("--max-bytes", type=int, default=None,
                 help="Larger files are refused; 0 for no limit.  [default: 200000000]"),
]


def _settings_options(func: Any) -> Any:
    for option in reversed(_SETTINGS_OPTIONS):
        func = option(func)
    return func


def _settings(
    min_words: int | None,
    ngram: int | None,
    no_stem: bool,
    no_spelling: bool,
    no_paraphrase: bool,
    candidates: int | None,
    timeout: float | None,
    max_bytes: int | None,
) -> Settings:
    changes: dict[str, Any] = {}
    if timeout is not None:
        changes["timeout"] = timeout
    if max_bytes is not None:
        changes["max_bytes"] = max_bytes
    if min_words is not None:
        changes["min_words"] = min_words
    if ngram is not None:
        changes["ngram"] = ngram
    if no_stem:
        changes["stem"] = False
    if no_spelling:
        changes["fold_spelling"] = False
    if no_paraphrase:
        changes["paraphrase"] = False
    if candidates is not None:
        changes["candidates"] = candidates
    return Settings(**changes)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="stemmatic")
def cli() -> None:
    """Trace how a text uses other texts.

    Stemmatic finds every passage of a document that came from a set of sources:
    copied word for word, lightly altered or paraphrased.  Every span it reports is a
    pair of character offsets into the document's extracted text.

    \b
    Check an essay against a folder of sources:
      stemmatic trace essay.md --sources sources/
    Machine-readable output, for scripts and CI:
      stemmatic trace essay.md --sources sources/ --format json --output report.json
    Build an index of a large corpus once, then trace against it:
      stemmatic index add corpus.duckdb archive/
      stemmatic trace essay.md --index corpus.duckdb
    """


@cli.command()
@click.argument("query", type=click.Path(path_type=Path))
@click.argument("more_sources", nargs=-1, type=click.Path(path_type=Path), metavar="")
@click.option("--sources", "-s", "sources", multiple=True, type=click.Path(path_type=Path),
              help="Source files or folders (read recursively).  Several may follow one "
                   "--sources.")
@click.option("--index", "-i", "index_path", type=click.Path(path_type=Path),
              help="An index built with `stemmatic index add`.")
@click.option("--wait", "wait", type=click.FloatRange(min=0), default=60, show_default=True,
              metavar="SECONDS",
              help="With --index: how long to wait while another process writes the index.")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="text",
              show_default=True, help="Report format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file instead of standard output.")
@click.option("--include-texts", is_flag=True,
              help="JSON: also embed the full extracted texts, so `stemmatic render` can "
                   "draw the report later without the original files.")
@click.option("--fail-on", "fail_on", default="", metavar="TYPES",
              help="Exit with status 1 when findings of these types exist: a comma-separated "
                   "list (misquote,uncited-passage,...) or 'any'.")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
              help="Processes aligning sources in parallel (default: one per CPU core, up "
                   "to 8, when the sources hold 300,000 characters or more and are not tiny).  "
                   "The report does not depend on it.")
@click.option("--quiet", "-q", is_flag=True, help="Print one line; rely on the exit status.")
@click.option("--verbose", "-v", is_flag=True, help="Also show every passage.")
@_settings_options
def trace(
    query: Path,
    more_sources: tuple[Path, ...],
    sources: tuple[Path, ...],
    index_path: Path | None,
    wait: float,
    fmt: str,
    output: Path | None,
    include_texts: bool,
    fail_on: str,
    workers: int | None,
    quiet: bool,
    verbose: bool,
    **options: Any,
) -> None:
    """Find the passages of QUERY that came from the sources.

    QUERY is a .txt, .md, .html, .pdf or .docx file.  Sources may be files of those
    formats, folders of them, or .jsonl/.parquet corpora with one document per record.

    \b
    Examples:
      stemmatic trace essay.md --sources examples/sources/
      stemmatic trace answer.txt --sources a.pdf b.html notes/ --format json
      stemmatic trace article.html --index corpus.duckdb --min-words 12
      stemmatic trace answer.md -s cited/ --fail-on misquote,uncited-passage -q

    \b
    Finding types (for --fail-on):
      misquote, unquoted-copy, uncited-passage, miscited, citation-not-in-corpus,
      quotation-not-found, drift, shared-error, unbalanced-quote
    """
    from stemmatic.pipeline import trace as run_trace

    if more_sources and not sources:
        raise click.UsageError(
            f"unexpected argument {str(more_sources[0])!r}: put source paths after --sources"
        )
    if not sources and index_path is None:
        raise click.UsageError("give --sources PATH... or --index INDEX to compare QUERY with")
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose cannot be used together")
    gate = _fail_on(fail_on)
    settings = _settings(**options)
    all_sources = [*sources, *more_sources]
    store = None
    if index_path is not None:
        from stemmatic.index.duck import DuckIndex

        store = DuckIndex.open(index_path, settings, read_only=True, wait=wait, on_wait=_tell)
    try:
        with _progress(quiet, "Aligning") as advance:
            report = run_trace(
                query,
                sources=all_sources or None,
                index=store,
                settings=settings,
                progress=advance,
                workers=workers,
            )
    finally:
        if store is not None:
            store.close()
    _emit(report, fmt, output, quiet=quiet, verbose=verbose, include_texts=include_texts)
    failing = [f for f in report.findings if f.type in gate]
    if failing:
        click.echo(
            f"stemmatic: {len(failing)} finding(s) of type "
            f"{', '.join(sorted({f.type for f in failing}))}",
            err=True,
        )
        sys.exit(EXIT_FINDINGS)


def _fail_on(value: str) -> frozenset[str]:
    from stemmatic.classify import FINDING_TYPES

    names = {v.strip() for v in value.split(",") if v.strip()}
    if "any" in names:
        return frozenset(FINDING_TYPES)
    unknown = sorted(names - set(FINDING_TYPES))
    if unknown:
        raise click.BadParameter(
            f"unknown finding type(s) {', '.join(unknown)}; choose from {', '.join(FINDING_TYPES)}",
            param_hint="--fail-on",
        )
    return frozenset(names)


@cli.command()
@click.argument("report_path", metavar="REPORT", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "-f", "fmt", type=click.Choice(["html", "json"]), default="html",
              show_default=True, help="Format to render.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
def render(report_path: Path, fmt: str, output: Path | None) -> None:
    """Render a saved JSON report (from `trace --format json`) again, e.g. as HTML.

    The HTML report needs the documents' texts.  They are taken from the JSON when it
    was written with --include-texts, and otherwise read again from the paths the report
    names; a file that changed since (its SHA-256 differs) is refused.

    \b
    Example:
      stemmatic trace essay.md -s sources/ -f json -o report.json
      stemmatic render report.json --format html --output report.html
    """
    import json as jsonlib

    from stemmatic.report import load_json

    try:
        raw = report_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StemmaticError(
            f"cannot read the report: {exc.strerror}", path=str(report_path)
        ) from None
    except UnicodeDecodeError:
        raise StemmaticError("not a JSON report (not UTF-8 text)", path=str(report_path)) from None
    try:
        data = load_json(raw)
    except StemmaticError as exc:
        raise StemmaticError(exc.reason, path=str(report_path)) from None
    if fmt == "json":
        text = jsonlib.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        from stemmatic.report.html import render_html

        _fill_texts(data)
        text = render_html(data)
    if output is not None:
        _write(output, text)
    else:
        click.echo(text, nl=False)


def _fill_texts(data: dict[str, Any]) -> None:
    """Put each document's text into a loaded report, reading it again if needed."""
    from stemmatic.report import text_sha256

    for doc in [data["query"], *data.get("sources", [])]:
        if isinstance(doc.get("text"), str):
            continue
        path = doc.get("path")
        if not path or path.startswith("<"):
            raise StemmaticError(
                f"the report holds no text for {doc.get('id')!r} and names no file to read; "
                "write it with `trace --format json --include-texts`"
            )
        text = ingest.load(path, doc_id=doc.get("id")).text
        if doc.get("text_sha256") and text_sha256(text) != doc["text_sha256"]:
            raise StemmaticError(
                "the file changed since the report was made (its SHA-256 differs); run "
                "`stemmatic trace` again",
                path=path,
            )
        doc["text"] = text


@cli.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write passages/, clusters/, graph.json, graph.graphml and "
                   "stemma.html into.")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local",
              show_default=True,
              help="local: DuckDB and worker processes; spark: PySpark "
                   "(pip install 'stemmatic[spark]').")
@click.option("--max-df", type=click.IntRange(min=2), default=100, show_default=True,
              help="Fingerprints shared by more documents than this are dropped as boilerplate.")
@click.option("--jsonl", is_flag=True, help="Also write every table as JSON Lines.")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
              help="Worker processes of the local engine.  [default: one per core]")
@_settings_options
def corpus(
    input_path: Path,
    output: Path,
    engine: str,
    max_df: int,
    jsonl: bool,
    workers: int | None,
    **options: Any,
) -> None:
    """Find all reuse among the documents of a corpus and infer who copied whom.

    INPUT is a folder of documents, a JSON Lines file or a Parquet dataset; records have
    `id` and `text`, and optionally `title`, `author`, `date` and `series`.  Every pair of
    documents sharing fingerprints is aligned with the same functions `trace` uses.

    \b
    Examples:
      stemmatic corpus archive/ --output reuse/
      stemmatic corpus papers.jsonl --output reuse/ --min-words 20 --max-df 50 --jsonl
      stemmatic corpus dataset.parquet --output reuse/ --engine spark
    """
    from stemmatic.corpus import run_corpus

    settings = _settings(**options)
    console = Console(stderr=True)
    with _stage_progress(console) as progress:
        result = run_corpus(
            input_path,
            output,
            engine=engine,
            settings=settings,
            max_df=max_df,
            jsonl=jsonl,
            progress=progress,
            workers=workers,
        )
    for item in result.skipped:
        console.print(f"[yellow]skipped[/] {item.path}: {item.reason}", highlight=False)
    click.echo(
        f"{output}: {result.documents} documents, {len(result.skipped)} skipped, "
        f"{result.candidate_pairs} candidate pairs, {result.passages} passages in "
        f"{result.aligned_pairs} pairs, {result.clusters} clusters, {result.edges} stemma edges; "
        f"{result.dropped_fingerprints} boilerplate fingerprints dropped "
        f"({result.seconds:.1f} s, {result.engine} engine)"
    )


@contextmanager
def _stage_progress(console: Console) -> Iterator[Any]:
    """Progress bars for a multi-stage run, one per stage, on a terminal only."""
    if not console.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total or None)
            bar.update(tasks[stage], completed=done, total=total or None)

        yield progress


@cli.group()
def index() -> None:
    """Build and inspect on-disk corpus indexes (DuckDB files)."""


_WAIT_OPTION = click.option(
    "--wait", type=click.FloatRange(min=0), default=60, show_default=True, metavar="SECONDS",
    help="How long to wait while another process uses the index.",
)


def _tell(message: str) -> None:
    """Say on stderr that the command waits for another process (the index's on_wait)."""
    click.echo(f"stemmatic: {message}", err=True)


@index.command("add")
@click.argument("index_path", metavar="INDEX", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_WAIT_OPTION
@_settings_options
def index_add(index_path: Path, paths: tuple[Path, ...], wait: float, **options: Any) -> None:
    """Add the documents under PATHS to INDEX, creating it if needed.

    Adding is incremental: documents already in the index are skipped when unchanged
    and replaced when their text changed.  Each document is committed whole, so an
    interrupted run leaves every document either fully indexed or absent.

    While it writes, `trace --index` and `index info` can still read INDEX: every two
    seconds or so it leaves the file to them for a moment, and then waits until they are
    done.  They see the documents committed so far.

    \b
    Example:
      stemmatic index add corpus.duckdb archive/ extra.jsonl
    """
    from stemmatic.index.duck import DuckIndex

    settings = _settings(**options)
    err = Console(stderr=True)
    documents, skipped = ingest.collect(list(paths), settings)
    for item in skipped:
        err.print(f"[yellow]skipped[/] {item.path}: {item.reason}", highlight=False)
    total = sum(len(d.text) for d in documents)
    with DuckIndex.open(index_path, settings, create=True, wait=wait, on_wait=_tell) as store:
        with _progress(False, "Indexing", total=total) as advance:
            done = [0]

            def step(doc: Any, _status: Any) -> None:
                done[0] += len(doc.text)
                advance(done[0], total)

            result = store.add(documents, progress=step)
        count = store.count()
    click.echo(
        f"{index_path}: {result.added} added, {result.replaced} replaced, "
        f"{result.unchanged} unchanged, {len(skipped)} skipped; {count} documents in the index"
    )


@index.command("info")
@click.argument("index_path", metavar="INDEX", type=click.Path(dir_okay=False, path_type=Path))
@_WAIT_OPTION
def index_info(index_path: Path, wait: float) -> None:
    """Show an index's format version, settings and size, as JSON."""
    import json

    from stemmatic.index.duck import index_info as info

    click.echo(json.dumps(info(index_path, wait=wait, on_wait=_tell), indent=2, default=str))


@index.command("compact")
@click.argument("index_path", metavar="INDEX", type=click.Path(dir_okay=False, path_type=Path))
@_WAIT_OPTION
def index_compact(index_path: Path, wait: float) -> None:
    """Give the free space inside INDEX back to the disk.

    DuckDB reuses the space that replaced documents leave free, but never shrinks the
    file.  This writes a compact copy of INDEX next to it (it needs that much free disk
    space), checks it, and puts it in the place of INDEX in one step.  Meanwhile other
    commands wait for INDEX; they find it whole before and after.  If anything fails,
    INDEX is left as it was.  An INDEX with hard links (other names for the same file)
    is refused, since they would go on naming the old file; a symbolic link is followed.

    \b
    Example:
      stemmatic index compact corpus.duckdb
    """
    from stemmatic.index.duck import compact

    result = compact(index_path, wait=wait, on_wait=_tell)
    click.echo(
        f"{index_path}: {_megabytes(result.bytes_before)} -> {_megabytes(result.bytes_after)} "
        f"({result.documents:,} documents)"
    )


def _megabytes(size: int) -> str:
    megabytes = size / 1e6
    return f"{megabytes:,.0f} MB" if megabytes >= 10 else f"{megabytes:.1f} MB"


def _emit(
    report: Report,
    fmt: str,
    output: Path | None,
    *,
    quiet: bool,
    verbose: bool,
    include_texts: bool = False,
) -> None:
    from stemmatic.report import render_json, render_terminal, to_dict

    if fmt in ("json", "html"):
        if fmt == "json":
            text = render_json(report, include_texts=include_texts)
        else:
            from stemmatic.report.html import render_html

            text = render_html(to_dict(report, include_texts=True))
        if output is not None:
            _write(output, text)
            if fmt == "html" and not quiet:
                click.echo(f"wrote {output}", err=True)
        else:
            click.echo(text, nl=False)
        return
    if output is not None:
        with open(output, "w", encoding="utf-8") as handle:
            console = Console(file=handle, no_color=True, width=100)
            render_terminal(report, console, verbose=verbose, quiet=quiet)
        return
    render_terminal(report, Console(), verbose=verbose, quiet=quiet)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StemmaticError(f"cannot write the report: {exc.strerror}", path=str(path)) from exc


@contextmanager
def _progress(quiet: bool, label: str, total: int | None = None) -> Iterator[Any]:
    """A progress bar on stderr when it is a terminal; a no-op callback otherwise."""
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield lambda done, total: None
        return
    columns = [
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the CLI and turn errors into one line and an exit status."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="stemmatic",
                 standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("stemmatic: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if exc.exit_code == 2 else exc.exit_code)
    except StemmaticError as exc:
        click.echo(f"stemmatic: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("stemmatic: interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        if _interrupted(exc):
            click.echo("stemmatic: interrupted", err=True)
            sys.exit(130)
        if os.environ.get("STEMMATIC_DEBUG"):
            raise
        click.echo(
            f"stemmatic: internal error: {type(exc).__name__}: {exc} "
            "(set STEMMATIC_DEBUG=1 to see the traceback, and please report it)",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)


def _interrupted(exc: Exception) -> bool:
    """Whether ``exc`` is Ctrl-C as DuckDB reports it when it stops a statement (its
    Python client raises an error instead of KeyboardInterrupt)."""
    if str(exc) == "Query interrupted" and isinstance(exc, RuntimeError):
        return True
    duckdb = sys.modules.get("duckdb")
    return duckdb is not None and isinstance(exc, duckdb.InterruptException)


if __name__ == "__main__":
    main()
