"""Corpus files of one document per record: JSON Lines and Parquet.

Records are streamed, one line or one batch of rows at a time, so a corpus file larger
than memory can be read.  A bad record is reported with its location and skipped; it
never stops the rest of the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from stemmatic.ingest.text import is_blank
from stemmatic.types import Document

# A record is either read as a Document or skipped with a reason; its location names it
# in Skipped entries (``corpus.jsonl#line 7``, ``corpus.parquet#id=x``).
Record = tuple[str, Document | str]

_BATCH_ROWS = 1024
_OPTIONAL = ("title", "author", "date")


def read_jsonl(path: str, max_bytes: int = 0) -> Iterator[Record]:
    """Read a JSON Lines file: one object per line with ``id``, ``text`` and optional
    ``title``, ``author``, ``date``.  Blank lines are ignored; other fields too.

    Args:
        path: the file.
        max_bytes: longest accepted line in bytes (0: no limit).

    Yields:
        ``(location, Document)`` or ``(location, reason)`` for a record that is skipped.
        A file that cannot be opened yields one ``(path, reason)``.
    """
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        yield path, f"cannot read file: {exc.strerror or exc}"
        return
    with stream:
        for number, raw in enumerate(stream, start=1):
            location = f"{path}#line {number}"
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            if max_bytes and len(raw) > max_bytes:
                yield location, f"record larger than max_bytes ({len(raw)} > {max_bytes} bytes)"
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield location, "not valid UTF-8"
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield location, f"bad JSON: {exc.msg} at column {exc.colno}"
                continue
            if not isinstance(record, dict):
                yield location, "not a JSON object"
                continue
            yield location, _document(record, path, "jsonl")


def read_parquet(path: str, max_bytes: int = 0) -> Iterator[Record]:
    """Read a Parquet file with columns ``id``, ``text`` and optional ``title``, ``author``,
    ``date``, in batches of rows.

    Args:
        path: the file.
        max_bytes: longest accepted text in UTF-8 bytes (0: no limit).

    Yields:
        ``(location, Document)`` or ``(location, reason)``, as :func:`read_jsonl`.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path)
        names = set(table.schema_arrow.names)
    except (pa.ArrowException, OSError, ValueError) as exc:
        yield path, f"not a valid Parquet file: {_one_line(exc)}"
        return
    missing = [name for name in ("id", "text") if name not in names]
    if missing:
        yield path, f"Parquet file has no {' or '.join(repr(n) for n in missing)} column"
        return
    columns = ["id", "text", *(name for name in _OPTIONAL if name in names)]
    row = 0
    try:
        for batch in table.iter_batches(batch_size=_BATCH_ROWS, columns=columns):
            values = {name: batch.column(name).to_pylist() for name in columns}
            for i in range(batch.num_rows):
                row += 1
                record = {name: values[name][i] for name in columns}
                found = _document(record, path, "parquet", max_bytes)
                key = _text_field(record["id"])
                location = f"{path}#id={key}" if key else f"{path}#row {row}"
                yield location, found
    except (pa.ArrowException, OSError, ValueError) as exc:
        yield f"{path}#row {row + 1}", f"cannot read rows from here on: {_one_line(exc)}"


def _document(record: dict[str, Any], path: str, format: str, max_bytes: int = 0) -> Document | str:
    """A Document from one record, or the reason it is skipped."""
    raw_id, raw_text = record.get("id"), record.get("text")
    if _is_undecodable(raw_id) or _is_undecodable(raw_text):
        return "not valid UTF-8"
    doc_id = _text_field(raw_id) if isinstance(raw_id, str | int | bytes) else None
    if isinstance(raw_id, bool) or doc_id is None or not doc_id.strip():
        return "record has no id (a string or integer 'id' field)"
    text = _text_field(raw_text, numbers=False)
    if text is None or is_blank(text):
        return "record has no text"
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        # JSON can spell lone surrogates (\ud800); such text breaks every later encode.
        return "text is not valid Unicode (lone surrogate)"
    if max_bytes and size > max_bytes:
        return f"record larger than max_bytes ({size} > {max_bytes} bytes)"
    optional = {name: _text_field(record.get(name)) for name in _OPTIONAL}
    return Document(
        id=doc_id,
        text=text,
        path=path,
        title=optional["title"],
        author=optional["author"],
        date=optional["date"],
        format=format,
        encoding="utf-8",
    )


def _text_field(value: object, *, numbers: bool = True) -> str | None:
    """A string field; binary columns are decoded, numbers and dates spelled out."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if numbers and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if numbers and isinstance(value, datetime | date):
        return value.isoformat()
    return None


def _is_undecodable(value: object) -> bool:
    if not isinstance(value, bytes):
        return False
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _one_line(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:200]
