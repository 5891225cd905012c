"""Reading a corpus one document at a time.

:func:`stemmatic.ingest.collect` returns every document in a list; a corpus may be larger
than memory, so this module walks the same inputs with the same rules (ids, skipped
records and their reasons, first record wins on a duplicate id) but yields each document
as soon as it is read.

Records may carry a ``series`` field (the newspaper, journal or collection a text belongs
to).  :class:`~stemmatic.types.Document` has no such field, so it is read here from the
same JSON Lines or Parquet file, one file at a time, into a small side map.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path, PurePath

from stemmatic import ingest
from stemmatic.errors import InputError
from stemmatic.settings import Settings
from stemmatic.types import Document, Skipped

# What the reader yields: a document with its series, or an input that was skipped.
Item = tuple[Document, str | None] | Skipped

# Files Spark and Hadoop write next to the parts of a Parquet dataset: not documents.
DATASET_FILES = frozenset({"_SUCCESS", "_metadata", "_common_metadata"})


def iter_documents(source: str | os.PathLike[str], settings: Settings) -> Iterator[Item]:
    """Yield the documents of a folder, a JSON Lines file or a Parquet file or dataset.

    Args:
        source: a folder (read recursively, as ``collect`` reads it: a folder of Parquet
            files is a Parquet dataset), or one corpus file.
        settings: ``max_bytes`` and ``timeout`` apply to each document.

    Yields:
        ``(document, series)`` for each document read, in reading order, and
        :class:`~stemmatic.types.Skipped` for each input or record that was not.

    Raises:
        InputError: ``source`` does not exist.
    """
    root = os.fspath(source)
    if not os.path.lexists(root):
        raise InputError("no such file or folder", path=root)
    # The steps of collect(), with its own helpers, so that ids and skip reasons are
    # exactly those of `stemmatic trace --sources`: the list of files (paths only) is
    # planned first, then the files are read and their documents yielded one by one.
    planned: list[Item] = []
    entries: list[tuple[str, tuple[str, ...], bool]] = []
    if os.path.isdir(root):
        for entry in ingest._walk(root):
            if isinstance(entry, Skipped):
                planned.append(_printable(entry))
            elif entry[1][-1] not in DATASET_FILES:
                entries.append((entry[0], entry[1], False))
    else:
        entries.append((root, (os.path.basename(root),), True))
    entries.sort(key=lambda e: (os.path.abspath(e[0]), e[1]))
    entries = ingest._distinct_files(entries, lambda item: planned.append(_printable(item)))
    ids = ingest._plan_ids(
        [(path, relative) for path, relative, _ in entries if not _is_records(path)]
    )
    yield from planned
    taken: set[str] = set()
    series = _SeriesMap()
    for path, relative, explicit in entries:
        for item in ingest._read_input(path, relative, explicit, settings, taken, ids.get(path)):
            if isinstance(item, Skipped):
                yield _printable(item)
                continue
            taken.add(item.id)
            yield item, series.get(item)


def _is_records(path: str) -> bool:
    return ingest.FORMATS.get(PurePath(path).suffix.lower()) in ("jsonl", "parquet")


def _printable(item: Document | Skipped) -> Skipped:
    assert isinstance(item, Skipped)
    return Skipped(ingest.printable(item.path), item.reason)


class _SeriesMap:
    """The ``series`` of each record of the record file being read.

    Only the current file's map is kept: records are read one file after another.
    """

    def __init__(self) -> None:
        self._path: str | None = None
        self._map: dict[str, str] = {}

    def get(self, doc: Document) -> str | None:
        if doc.format not in ("jsonl", "parquet") or doc.path is None:
            return None
        if doc.path != self._path:
            self._path = doc.path
            self._map = _read_series(doc.path, doc.format)
        return self._map.get(doc.id)


def _read_series(path: str, fmt: str) -> dict[str, str]:
    """``{id: series}`` for the records of one file that have both (first record wins)."""
    found: dict[str, str] = {}
    try:
        if fmt == "jsonl":
            with open(path, "rb") as stream:
                for raw in stream:
                    # Most lines of most corpora have no series: skip parsing them.
                    if b'"series"' not in raw:
                        continue
                    try:
                        record = json.loads(raw.decode("utf-8").lstrip("\ufeff"))
                    except (UnicodeDecodeError, json.JSONDecodeError):
                        continue
                    if isinstance(record, dict):
                        _remember(found, record.get("id"), record.get("series"))
        else:
            import pyarrow.parquet as pq

            table = pq.ParquetFile(path)
            if "series" not in table.schema_arrow.names:
                return found
            for batch in table.iter_batches(columns=["id", "series"]):
                for doc_id, value in zip(
                    batch.column("id").to_pylist(), batch.column("series").to_pylist(), strict=True
                ):
                    _remember(found, doc_id, value)
    except (OSError, ValueError):
        # The records themselves were readable (or were skipped with a reason already);
        # a series that cannot be read is only metadata.
        return found
    return found


def _remember(found: dict[str, str], doc_id: object, value: object) -> None:
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int):
        return
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return
    found.setdefault(str(doc_id), str(value))


def input_signature(source: str | os.PathLike[str]) -> dict[str, object]:
    """What identifies an input for resuming: its path, and the size and mtime of its files.

    A folder is summarised by its file count, total size and newest mtime, which changes
    when a file is added, removed or rewritten.
    """
    path = Path(source).resolve()
    if path.is_dir():
        count = size = 0
        newest = 0.0
        for folder, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if name.startswith("."):
                    continue
                try:
                    info = os.stat(os.path.join(folder, name))
                except OSError:
                    continue
                count += 1
                size += info.st_size
                newest = max(newest, info.st_mtime)
        return {"path": str(path), "files": count, "size": size, "mtime": newest}
    info = path.stat()
    return {"path": str(path), "files": 1, "size": info.st_size, "mtime": info.st_mtime}
