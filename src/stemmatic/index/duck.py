"""The on-disk index: one DuckDB file holding source texts and their winnowed fingerprints.

Tables:

* ``meta(key, value)``: ``format_version`` (:data:`FORMAT_VERSION`), ``settings`` (JSON of
  :meth:`Settings.index_key`), ``window`` (:data:`~stemmatic.index.store.WINDOW`),
  ``probe`` (see below), ``created``, ``updated`` and ``stemmatic_version``.
* ``documents``: one row per source, text and metadata included, with an integer ``key``
  that the fingerprint rows refer to (a 4-byte key per fingerprint instead of the id).
  The text is stored uncompressed: DuckDB would pick ZSTD for long strings, and reading
  one row of a ZSTD segment took 50-100 ms (measured with DuckDB 2.0 on 10,000 documents
  of 5,000 words), against under 1 ms uncompressed, for about twice the disk space.
* ``fingerprints(hash, doc, first_token)``: the winnowed n-gram fingerprints of each
  source; ``first_token`` is the index of the n-gram's first token.
* ``documents.packed``: each source's tokens (:mod:`stemmatic.index.packed`), so that a
  trace aligns its candidates without tokenizing them again (about 0.9 bytes per
  character of text).

An index opens only when its format version, winnowing window and index settings are
exactly those of this Stemmatic, and when this Stemmatic tokenizes and fingerprints a probe
text (:data:`~stemmatic.index.store.PROBE_TEXT`) exactly as the one that built it did
(``meta.probe``): fingerprints computed another way would silently match nothing.

Durability.  :meth:`DuckIndex.add` writes each batch of whole documents (their rows,
their fingerprints and the ``updated`` stamp) in one transaction, so an index never holds
part of a document, even when the process is killed mid-add: DuckDB replays its
write-ahead log on the next open and drops what was not committed.

Sharing the file between processes.  DuckDB lets a database file be open either read-write
by *one* process or read-only by any number of processes, never both
(https://duckdb.org/docs/connect/concurrency).  The lock is taken when the file is opened
and held until it is closed; a conflicting open fails at once with an ``IOException``
("Could not set lock on file ...") rather than waiting (checked with DuckDB 1.1.3 and
2.0.0).  Stemmatic builds a simple turn-taking scheme on that:

* Waiting.  :meth:`DuckIndex.open` and :func:`index_info` take ``wait``: while another
  process holds the file they try again every :data:`RETRY_SECONDS` for up to that many
  seconds, telling ``on_wait`` once (the CLI prints it on stderr, and waits 60 s by
  default), and then fail with an :class:`IndexStoreError` saying who holds the file.
* A writer takes turns.  :meth:`DuckIndex.add` holds the file for about
  :data:`HOLD_SECONDS` at a time.  When it has held it that long and another batch is
  ready, it closes the file (DuckDB writes its log into the file as it closes, so the file
  alone holds every committed batch), fingerprints that batch while the file is free,
  and opens the file again no sooner than :data:`YIELD_SECONDS` after closing it, waiting
  (``wait``) if a reader got in meanwhile.  A waiting reader tries more often than that
  gap is long, so it gets in.
* A reader (``trace --index``, ``index info``) holds the file read-only until it is done;
  readers share it with each other, and a writer waits for them all to finish.
* A second writer waits like a reader; once it has the file it writes its batches in turn
  with the first one, each a whole transaction.  With ``wait=0`` it fails at once.
* Compacting.  :func:`compact` takes the file like a writer and holds it for the whole
  copy; it renames the checked copy over the path while it still holds the old file, and
  then lets go, so others wait and then open the new file.  One that opened the path just
  before the rename would get the lock on the old file once it is let go: a file no longer
  reachable by its name, into which a writer would write for nobody.  So :func:`_connect`
  notes the path's device and inode before connecting and compares them after: when they
  differ, it closes that connection and connects again, to the new file.  DuckDB names a
  file's log after the path (``path + ".wal"``), so the old file and the new one share
  that name.  The compaction checkpoints the old file before copying it and changes
  nothing in it afterwards, and a connection that changed nothing leaves the log alone
  when it closes; a connection to the old file that finds the new file's log refuses it
  ("WAL does not match database file") and leaves it alone too, and :func:`_connect`
  tries again (checked with DuckDB 2.0.0: a log that another process wrote into the new
  file meanwhile survives and is replayed into the new file).

So a reader sees the index as of the last batch committed before it opened it: whole
documents only, never a batch in progress.  A writer that cannot get the file back within
``wait`` fails with a clear error; the batches it committed stay, and running the same
``index add`` again adds only what is missing.  Within one process, DuckDB shares one
database instance per file, so opening the same file twice with different ``read_only``
values fails; close the first index before opening it the other way.

A :class:`DuckIndex` is not safe to share between threads.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

import duckdb
import numpy as np

from stemmatic.errors import IndexStoreError, SettingsError
from stemmatic.index.packed import pack, unpack
from stemmatic.index.store import (
    WINDOW,
    AddResult,
    AddStatus,
    DocumentInfo,
    Fingerprints,
    Progress,
    probe,
    query_hashes,
    rank,
    tokens_fingerprints,
    tokens_for,
    utc_now,
)
from stemmatic.normalize import Tokens
from stemmatic.settings import Settings
from stemmatic.types import Document

if TYPE_CHECKING:
    import pyarrow as pa

FORMAT_VERSION = 2

# DuckDB starts one thread per core by default; the index is one part of a pipeline that
# also tokenizes and aligns, so it is kept to two.
THREADS = 2

# A transaction holds whole documents, at most this many or this many characters of text
# (whichever comes first): large enough that commits cost little, small enough that a
# progress bar moves and a killed add loses little work.
BATCH_DOCS = 500
BATCH_CHARS = 2_000_000

# Taking turns with other processes (see the module docstring).  A writer holds the file
# for about HOLD_SECONDS, then leaves it free for at least YIELD_SECONDS; a process
# waiting for the file tries every RETRY_SECONDS (a failed try costs DuckDB about 5 ms),
# so it gets in during that gap.  The gap costs a writer little: it fingerprints the next
# batch meanwhile, and sleeps only for what is left of the gap.
HOLD_SECONDS = 2.0
YIELD_SECONDS = 0.2
RETRY_SECONDS = 0.05

# Options of every DuckDB connection to an index.
DUCKDB_CONFIG: dict[str, Any] = {"threads": THREADS}

# Options of the connections that compact an index.  Its own user agent (which only names
# the client in HTTP requests, and an index makes none) sets them apart from DUCKDB_CONFIG:
# DuckDB gives a second connection to a file open in the same process the database already
# open when their options are equal, and refuses it when they differ, so a compaction
# never shares its database with an index open in the process.  Without a memory limit
# DuckDB kept 2.3 GiB while compacting a 1.1 GB index; with 1 GB it took as long.
_COMPACT_CONFIG: dict[str, Any] = {
    **DUCKDB_CONFIG,
    "custom_user_agent": "stemmatic-compact",
    "memory_limit": "1GB",
}

# How many times one open follows the file at its path being replaced before giving up.
_REPLACED_TRIES = 20

_SCHEMA = (
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    """CREATE TABLE documents (
        id VARCHAR PRIMARY KEY,
        key INTEGER NOT NULL,
        path VARCHAR,
        title VARCHAR,
        author VARCHAR,
        date VARCHAR,
        format VARCHAR NOT NULL,
        encoding VARCHAR,
        excluded VARCHAR NOT NULL,
        warnings VARCHAR NOT NULL,
        text VARCHAR USING COMPRESSION uncompressed NOT NULL,
        length BIGINT NOT NULL,
        tokens BIGINT NOT NULL,
        packed BLOB USING COMPRESSION uncompressed NOT NULL,
        digest VARCHAR NOT NULL,
        added_at VARCHAR NOT NULL
    )""",
    """CREATE TABLE fingerprints (
        hash UBIGINT NOT NULL,
        doc INTEGER NOT NULL,
        first_token INTEGER NOT NULL
    )""",
)

_DOC_COLUMNS = (
    "id",
    "key",
    "path",
    "title",
    "author",
    "date",
    "format",
    "encoding",
    "excluded",
    "warnings",
    "text",
    "length",
    "tokens",
    "packed",
    "digest",
    "added_at",
)
_GET_COLUMNS = "id, text, path, title, author, date, format, encoding, excluded, warnings"
_INFO_COLUMNS = ("id", "path", "title", "author", "date", "format", "length", "tokens", "added_at")

# Shared fingerprints per source for the registered query hashes.  Each source counts a
# hash once, however often the hash recurs in it, so scores match MemoryIndex's.
_CANDIDATES_SQL = """
    WITH query AS MATERIALIZED (
        SELECT DISTINCT unnest(?::UBIGINT[]) AS hash
    ), hits AS (
        SELECT f.doc, count(DISTINCT f.hash) AS shared
        FROM fingerprints AS f
        JOIN query AS q ON f.hash = q.hash
        GROUP BY f.doc
    )
    SELECT d.id, h.shared
    FROM hits AS h JOIN documents AS d ON d.key = h.doc
    ORDER BY h.shared DESC, d.id
    LIMIT ?
"""

OnWait = Callable[[str], None]


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _guarded(method: _Method) -> _Method:
    """Turn a DuckDB failure while reading into a clear error.

    A file cut short or overwritten in places still opens, and fails only when the
    damaged blocks are read.
    """

    @functools.wraps(method)
    def wrapper(self: DuckIndex, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except duckdb.Error as exc:
            raise _damaged(self.path, exc) from None

    return cast(_Method, wrapper)


class DuckIndex:
    """A DuckDB-backed :class:`~stemmatic.index.store.IndexStore`.  Use :meth:`open`."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        path: Path,
        settings: Settings,
        read_only: bool,
        *,
        wait: float = 0.0,
        on_wait: OnWait | None = None,
    ) -> None:
        # None while a writer has left the file to other processes between batches.
        self._con: duckdb.DuckDBPyConnection | None = con
        self.path = path
        self.settings = settings
        self.read_only = read_only
        self.wait = wait
        self._tell = on_wait
        self._held_since = time.monotonic()
        self._released_at: float | None = None
        self._next_key: int | None = None
        self._closed = False

    @classmethod
    def open(
        cls,
        path: str | PathLike[str],
        settings: Settings,
        *,
        create: bool = False,
        read_only: bool = False,
        wait: float = 0.0,
        on_wait: OnWait | None = None,
    ) -> DuckIndex:
        """Open the index at ``path`` after checking it can serve ``settings``.

        Args:
            path: the index file.
            settings: the current settings; the index's must match their ``index_key()``.
            create: create the index when the file does not exist.
            read_only: open for searching only, sharing the file with other readers.
            wait: seconds to keep trying while another process holds the file, each time
                this index takes it: when it opens and, for a writer, when :meth:`add`
                takes the file back between batches (see the module docstring).
            on_wait: told once, with a one-line reason, when this index first waits.

        Raises:
            IndexStoreError: the file is missing, not a Stemmatic index, of another format
                version or settings, or held by another process.
        """
        if create and read_only:
            raise ValueError("an index cannot be created read-only")
        file = Path(path)
        if file.is_dir():
            raise _error(f"{file} is a directory, not an index file", file)
        exists = file.exists()
        if not exists and not create:
            raise _error(
                f"no index at {file}; create one with `stemmatic index add {file} FILES`", file
            )
        if not exists and not file.parent.is_dir():
            raise _error(f"cannot create index {file}: no directory {file.parent}", file)
        tell = _once(on_wait)
        con = _connect(file, read_only=read_only, wait=wait, on_wait=tell)
        try:
            tables = {
                row[0]
                for row in con.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_catalog = current_database() AND table_schema = 'main'"
                ).fetchall()
            }
            if "meta" not in tables:
                if tables or not create:
                    what = "an empty DuckDB database" if not tables else "a DuckDB database"
                    raise _error(f"{file} is {what}, not a Stemmatic index", file)
                _initialize(con, settings)
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            _check_meta(meta, file, settings)
        except duckdb.Error as exc:
            con.close()
            raise _damaged(file, exc) from None
        except BaseException:
            con.close()
            raise
        return cls(con, file, settings, read_only, wait=wait, on_wait=tell)

    # -- writing ---------------------------------------------------------------------

    def add(self, documents: Iterable[Document], *, progress: Progress | None = None) -> AddResult:
        """Store documents and their fingerprints, in transactions of whole documents.

        A document whose id is stored already replaces the stored one, unless its text
        and metadata are identical, in which case nothing is written.  Between batches,
        the file is left to other processes now and then (see the module docstring).

        Args:
            documents: the documents to store; an id repeated among them is stored twice,
                the later one replacing the earlier.
            progress: called for each document once its transaction has committed.

        Raises:
            IndexStoreError: the index is read-only or closed, DuckDB failed to write
                (the batch being written is rolled back; earlier batches stay), or
                another process kept the file longer than ``wait`` seconds between two
                batches (the batches committed before stay).
        """
        self._check_open()
        if self.read_only:
            raise _error(
                f"index {self.path} was opened read-only; it cannot be added to", self.path
            )
        result = AddResult()
        batch: list[Document] = []
        ids: set[str] = set()
        chars = 0
        for doc in documents:
            if batch and (doc.id in ids or len(batch) >= BATCH_DOCS or chars >= BATCH_CHARS):
                result += self._add_batch(batch, progress)
                batch, ids, chars = [], set(), 0
            batch.append(doc)
            ids.add(doc.id)
            chars += len(doc.text)
        if batch:
            result += self._add_batch(batch, progress)
        return result

    def _add_batch(self, batch: Sequence[Document], progress: Progress | None) -> AddResult:
        computed: dict[int, tuple[Fingerprints, bytes]] = {}
        if self._con is not None and time.monotonic() - self._held_since >= HOLD_SECONDS:
            self._release()
        if self._con is None:
            # The file is free for other processes meanwhile.  Fingerprints of documents
            # that turn out to be stored already are wasted: one batch per turn at most.
            computed = {i: _stored_form(doc.text, self.settings) for i, doc in enumerate(batch)}
        con = self._connection()
        stored = self._stored([doc.id for doc in batch])
        first_key = self._take_key(0)
        statuses: list[AddStatus] = []
        new_rows: list[tuple[Any, ...]] = []
        changed_rows: list[tuple[Any, ...]] = []
        drop_prints: list[int] = []
        hashes: list[np.ndarray] = []
        firsts: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        now = utc_now()
        for i, doc in enumerate(batch):
            digest = _digest(doc.text)
            fields = _metadata(doc)
            old = stored.get(doc.id)
            if old is not None and old.digest == digest and old.fields == fields:
                statuses.append(AddStatus.UNCHANGED)
                continue
            if old is None:
                key = self._take_key(1)
                statuses.append(AddStatus.ADDED)
            else:
                key = old.key
                statuses.append(AddStatus.REPLACED)
            if old is not None and old.digest == digest:
                # Only the metadata changed: the stored fingerprints and tokens still hold.
                tokens, packed = old.tokens, self._packed(doc.id)
            else:
                if old is not None:
                    drop_prints.append(key)
                prints, packed = (
                    computed[i] if i in computed else _stored_form(doc.text, self.settings)
                )
                tokens = prints.tokens
                hashes.append(prints.hashes)
                firsts.append(prints.first.astype(np.int32))
                owners.append(np.full(len(prints), key, dtype=np.int32))
            row = (doc.id, key, *fields, doc.text, len(doc.text), tokens, packed, digest, now)
            (new_rows if old is None else changed_rows).append(row)
        written = sum(len(h) for h in hashes)
        if new_rows or changed_rows:
            try:
                con.begin()
                if drop_prints:
                    con.execute(
                        "DELETE FROM fingerprints WHERE doc IN (SELECT unnest(?::INTEGER[]))",
                        [drop_prints],
                    )
                self._write_documents(_documents_table(new_rows), _documents_table(changed_rows))
                if hashes:
                    self._write_fingerprints(
                        _arrow().table(
                            {
                                "hash": np.concatenate(hashes),
                                "doc": np.concatenate(owners),
                                "first_token": np.concatenate(firsts),
                            }
                        )
                    )
                self._set_meta({"updated": now, "stemmatic_version": _stemmatic_version()})
                con.commit()
            except BaseException as exc:
                self._rollback()
                self._next_key = first_key
                if isinstance(exc, duckdb.Error):
                    raise _error(f"could not write to index {self.path}: {exc}", self.path) from exc
                raise
        if progress is not None:
            for doc, status in zip(batch, statuses, strict=True):
                progress(doc, status)
        return AddResult(
            added=statuses.count(AddStatus.ADDED),
            replaced=statuses.count(AddStatus.REPLACED),
            unchanged=statuses.count(AddStatus.UNCHANGED),
            fingerprints=written,
        )

    def _write_documents(self, new: pa.Table, changed: pa.Table) -> None:
        if changed.num_rows:
            # A stored document is updated in place, not deleted and inserted again:
            # DuckDB before 1.2 refuses to insert a primary key deleted in the same
            # transaction ("over-eager constraint checking").
            view = "_stemmatic_changed_documents"
            assignments = ", ".join(f"{c} = n.{c}" for c in _DOC_COLUMNS if c != "id")
            con = self._connection()
            con.register(view, changed)
            try:
                con.execute(
                    f"UPDATE documents SET {assignments} FROM {view} AS n WHERE documents.id = n.id"
                )
            finally:
                con.unregister(view)
        if new.num_rows:
            self._insert("documents", _DOC_COLUMNS, new)

    def _write_fingerprints(self, table: pa.Table) -> None:
        self._insert("fingerprints", ("hash", "doc", "first_token"), table)

    def _insert(self, name: str, columns: Sequence[str], table: pa.Table) -> None:
        # A registered Arrow table is scanned by DuckDB directly: one INSERT ... SELECT
        # moves a whole batch without a Python object per row.
        view = f"_stemmatic_new_{name}"
        names = ", ".join(columns)
        con = self._connection()
        con.register(view, table)
        try:
            con.execute(f"INSERT INTO {name} ({names}) SELECT {names} FROM {view}")
        finally:
            con.unregister(view)

    def _set_meta(self, values: dict[str, str]) -> None:
        con = self._connection()
        for key, value in values.items():
            con.execute("UPDATE meta SET value = ? WHERE key = ?", [value, key])

    def _rollback(self) -> None:
        if self._con is None:
            return
        try:
            self._con.rollback()
        except duckdb.Error:
            # No transaction was open (the failure came before BEGIN took effect).
            pass

    def _take_key(self, n: int) -> int:
        """Reserve ``n`` document keys and return the first (``n=0`` peeks)."""
        if self._next_key is None:
            rows = (
                self._connection()
                .execute("SELECT coalesce(max(key), 0) + 1 FROM documents")
                .fetchall()
            )
            self._next_key = int(rows[0][0]) if rows else 1
        key = self._next_key
        self._next_key += n
        return key

    def _packed(self, doc_id: str) -> bytes:
        rows = (
            self._connection()
            .execute("SELECT packed FROM documents WHERE id = ?", [doc_id])
            .fetchall()
        )
        return bytes(rows[0][0])

    def _stored(self, ids: list[str]) -> dict[str, _Stored]:
        rows = (
            self._connection()
            .execute(
                "SELECT id, key, digest, tokens, path, title, author, date, format, encoding, "
                "excluded, warnings FROM documents WHERE id IN (SELECT unnest(?::VARCHAR[]))",
                [ids],
            )
            .fetchall()
        )
        return {row[0]: _Stored(int(row[1]), row[2], int(row[3]), tuple(row[4:])) for row in rows}

    # -- reading ---------------------------------------------------------------------

    @_guarded
    def __contains__(self, doc_id: object) -> bool:
        if not isinstance(doc_id, str):
            return False
        rows = self._connection().execute("SELECT 1 FROM documents WHERE id = ?", [doc_id])
        return len(rows.fetchall()) > 0

    @_guarded
    def count(self) -> int:
        """The number of stored documents."""
        rows = self._connection().execute("SELECT count(*) FROM documents").fetchall()
        return int(rows[0][0]) if rows else 0

    def __len__(self) -> int:
        return self.count()

    @_guarded
    def documents(self) -> list[DocumentInfo]:
        """Every stored document's metadata, without its text, ordered by id."""
        rows = (
            self._connection()
            .execute(f"SELECT {', '.join(_INFO_COLUMNS)} FROM documents ORDER BY id")
            .fetchall()
        )
        return [DocumentInfo(*row) for row in rows]

    @_guarded
    def get(self, doc_id: str) -> Document:
        """The stored document, text included.

        Raises:
            KeyError: no document has this id.
        """
        rows = (
            self._connection()
            .execute(f"SELECT {_GET_COLUMNS} FROM documents WHERE id = ?", [doc_id])
            .fetchall()
        )
        # Fetch every row (there is at most one): DuckDB refuses further work on a
        # connection whose last result was not read to the end.
        if not rows:
            raise KeyError(doc_id)
        return _document(rows[0])

    @_guarded
    def load(self, doc_ids: Sequence[str]) -> list[tuple[Document, Tokens | None]]:
        """The stored documents with their stored tokens, in the order of ``doc_ids``.

        The tokens are those :func:`~stemmatic.index.store.tokens_for` gives with this
        index's settings, stored when the document was added, so a trace need not
        tokenize its candidates again.  A document whose stored tokens cannot be read
        comes with None (it is tokenized again).

        Raises:
            KeyError: a document is not stored.
        """
        rows = (
            self._connection()
            .execute(
                f"SELECT {_GET_COLUMNS}, packed FROM documents "
                "WHERE id IN (SELECT unnest(?::VARCHAR[]))",
                [list(doc_ids)],
            )
            .fetchall()
        )
        found = {row[0]: row for row in rows}
        out: list[tuple[Document, Tokens | None]] = []
        for doc_id in doc_ids:
            row = found.get(doc_id)
            if row is None:
                raise KeyError(doc_id)
            doc = _document(row)
            try:
                tokens: Tokens | None = unpack(doc.text, row[-1])
            except ValueError:
                tokens = None
            out.append((doc, tokens))
        return out

    @_guarded
    def candidates(self, query_tokens: Tokens, limit: int) -> list[tuple[str, float]]:
        """Sources sharing the most stored fingerprints with the query, best first.

        Args:
            query_tokens: the query, tokenized with this index's settings
                (:func:`~stemmatic.index.store.tokens_for`).
            limit: the most sources returned.

        Returns:
            ``(source id, score)`` pairs, ties broken by id; see
            :func:`~stemmatic.index.store.rank` for the score.
        """
        con = self._connection()
        query = query_hashes(query_tokens, self.settings)
        if not len(query) or limit <= 0:
            return []
        # A list parameter, not a registered Arrow table: registering makes DuckDB import
        # pandas, which would cost a short trace 0.3 s.
        rows = con.execute(_CANDIDATES_SQL, [query.tolist(), limit]).fetchall()
        return rank(((doc_id, int(shared)) for doc_id, shared in rows), len(query), limit)

    # -- lifetime --------------------------------------------------------------------

    def close(self) -> None:
        """Close the file, releasing its lock.  Closing twice is harmless."""
        if not self._closed:
            self._closed = True
            con, self._con = self._con, None
            if con is not None:
                con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        state = (
            ", closed" if self._closed else (", file left to others" if self._con is None else "")
        )
        return f"DuckIndex({str(self.path)!r}, {mode}{state})"

    def _check_open(self) -> None:
        if self._closed:
            raise _error(f"index {self.path} is closed", self.path)

    def _connection(self) -> duckdb.DuckDBPyConnection:
        """The open connection, taking the file back first if a writer left it."""
        self._check_open()
        if self._con is None:
            self._reopen()
        assert self._con is not None
        return self._con

    def _release(self) -> None:
        """Close the file so that other processes can open it; ``_connection`` reopens it."""
        con, self._con = self._con, None
        self._released_at = time.monotonic()
        if con is not None:
            try:
                # Closing writes DuckDB's log of the committed batches into the file.
                con.close()
            except duckdb.Error as exc:
                raise _error(f"could not write to index {self.path}: {exc}", self.path) from exc

    def _reopen(self) -> None:
        if self._released_at is not None:
            # Leave the file free for at least YIELD_SECONDS, for a waiting reader.
            time.sleep(max(0.0, YIELD_SECONDS - (time.monotonic() - self._released_at)))
        if not self.path.is_file():
            raise _error(f"index {self.path} was removed while it was open", self.path)
        con = _connect(self.path, read_only=self.read_only, wait=self.wait, on_wait=self._tell)
        try:
            # Another process may have replaced the file meanwhile.
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            _check_meta(meta, self.path, self.settings)
        except duckdb.Error as exc:
            con.close()
            raise _damaged(self.path, exc) from None
        except BaseException:
            con.close()
            raise
        self._con = con
        self._held_since = time.monotonic()
        # Another writer may have added documents meanwhile.
        self._next_key = None


@dataclass(frozen=True, slots=True)
class _Stored:
    key: int
    digest: str
    tokens: int
    fields: tuple[Any, ...]


def index_info(
    path: str | PathLike[str], *, wait: float = 0.0, on_wait: OnWait | None = None
) -> dict[str, Any]:
    """What an index file holds, readable whatever its format version or settings.

    Returns:
        ``path``, ``bytes`` (file size), ``format_version``, ``window``, ``settings`` (the
        index settings it was built with), ``created``, ``updated``,
        ``stemmatic_version``, ``tokenizer_matches`` (whether this Stemmatic fingerprints
        text as the one that built it did) and ``readable`` (whether this Stemmatic can
        search it, given the settings it was built with); and, when readable,
        ``documents``, ``characters``, ``tokens`` and ``fingerprints``.

    Args:
        path: the index file.
        wait: seconds to keep trying while a writer holds the file.
        on_wait: told once, with a one-line reason, when it starts waiting.

    Raises:
        IndexStoreError: no file, not a Stemmatic index, or held by a writer for longer
            than ``wait``.
    """
    file = Path(path)
    if not file.is_file():
        raise _error(
            f"no index at {file}; create one with `stemmatic index add {file} FILES`", file
        )
    con = _connect(file, read_only=True, wait=wait, on_wait=_once(on_wait))
    try:
        try:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        except duckdb.CatalogException:
            raise _error(f"{file} is a DuckDB database, not a Stemmatic index", file) from None
        version = _int_or_none(meta.get("format_version"))
        window = _int_or_none(meta.get("window"))
        matches = _probe_matches(meta)
        info: dict[str, Any] = {
            "path": str(file),
            "bytes": file.stat().st_size,
            "format_version": version,
            "window": window,
            "settings": _json_or_none(meta.get("settings")),
            "created": meta.get("created"),
            "updated": meta.get("updated"),
            "stemmatic_version": meta.get("stemmatic_version"),
            "tokenizer_matches": matches,
            "readable": version == FORMAT_VERSION and window == WINDOW and matches,
        }
        if info["readable"]:
            docs = con.execute(
                "SELECT count(*), coalesce(sum(length), 0), coalesce(sum(tokens), 0) FROM documents"
            ).fetchall()[0]
            prints = con.execute("SELECT count(*) FROM fingerprints").fetchall()[0]
            info.update(
                documents=int(docs[0]),
                characters=int(docs[1]),
                tokens=int(docs[2]),
                fingerprints=int(prints[0]),
            )
        return info
    finally:
        con.close()


@dataclass(frozen=True, slots=True)
class CompactResult:
    """What :func:`compact` did.

    Attributes:
        bytes_before: the index file's size before, in bytes.
        bytes_after: its size after.
        documents: the documents it holds (the same before and after).
    """

    bytes_before: int
    bytes_after: int
    documents: int


# The tables a compaction copies, in this order, with these columns.
_COPIED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("meta", ("key", "value")),
    ("documents", _DOC_COLUMNS),
    ("fingerprints", ("hash", "doc", "first_token")),
)

# The copy is written next to the index (a rename is atomic only within one file system)
# as ``.NAME.XXXXXXXX.compact-tmp``: hidden, and recognizable, so that the next compaction
# removes what a killed one left behind.
_COPY_SUFFIX = ".compact-tmp"
_COPY_TOKEN_CHARS = 8
# The name under which the copy is attached to the index's connection.
_COPY_CATALOG = "stemmatic_compacted"


def compact(
    path: str | PathLike[str], *, wait: float = 0.0, on_wait: OnWait | None = None
) -> CompactResult:
    """Rewrite an index file without its free space, giving that space back to the disk.

    DuckDB reuses the blocks that replaced documents leave free, but never shrinks its
    file: after ``stemmatic index add`` built 10,000 documents, 31% of the file was free
    blocks.  This copies the index into a new file next to it (so it needs that much free
    disk space), checks the copy, and renames it over the index.  The index is held open
    read-write from start to end, so other processes wait meanwhile (see the module
    docstring) and then find the compacted file; none sees a missing or partial index.
    When anything fails, or on ``KeyboardInterrupt``, the copy is removed and the index is
    left as it was.

    Args:
        path: the index file.  A symbolic link stays one: the file it points to is replaced.
        wait: seconds to keep trying while another process holds the file.
        on_wait: told once, with a one-line reason, when it starts waiting.

    Returns:
        The file's size before and after, and the number of documents.

    Raises:
        IndexStoreError: no file, not a Stemmatic index, one this Stemmatic cannot read
            (another format version, another tokenizer), held by another process for
            longer than ``wait`` or open in this process, known by other names too (hard
            links, which would go on naming the old file), or the copy failed (the index is
            unchanged).
    """
    file = Path(path)
    if file.is_dir():
        raise _error(f"{file} is a directory, not an index file", file)
    if not file.is_file():
        raise _error(
            f"no index at {file}; create one with `stemmatic index add {file} FILES`", file
        )
    real = Path(os.path.realpath(file))
    links = real.stat().st_nlink
    if links > 1:
        # The compacted file takes the index's name; another name for the same file
        # would go on naming the old one, and later changes would reach one name only.
        others = "another name" if links == 2 else f"{links - 1} other names"
        raise _error(
            f"index {file} has {others} (hard links); compacting would leave them at the "
            "old file. Remove the other names first, or compact a copy (cp) instead",
            file,
        )
    # Not sharing a database with an index open in this process (_COMPACT_CONFIG): closing
    # this connection would not release the lock, and that index would go on using the old
    # file after the rename.
    con = _connect(file, read_only=False, wait=wait, on_wait=_once(on_wait), config=_COMPACT_CONFIG)
    copy: Path | None = None
    try:
        try:
            # DuckDB draws a progress bar on stdout for statements longer than 2 s.
            con.execute("SET enable_progress_bar = false")
            meta, settings = _readable_meta(con, file)
            # Moves into the file what DuckDB's log holds (a killed writer may have left
            # some).  From here on this connection changes nothing in the index, so closing
            # it after the rename leaves the log at ``real.wal`` alone: by then that name
            # is the new file's log, and another process may be writing it.
            con.execute("CHECKPOINT")
            before = real.stat().st_size
            totals = _totals(con)
            _remove_stale_copies(real)
            copy = real.with_name(
                f".{real.name}.{secrets.token_hex(_COPY_TOKEN_CHARS // 2)}{_COPY_SUFFIX}"
            )
            _copy_tables(con, copy)
            _check_copy(copy, file, meta, settings, totals)
            _keep_owner_and_mode(copy, real.stat())
            _fsync(copy)
            # Atomic: a process opening the path gets the old file or the new one.  The old
            # one stays locked by this connection until it is closed below, so nobody
            # can use it meanwhile; one that opened it just before the rename finds, once
            # it has the lock, another file at the path and opens that instead (_connect).
            os.replace(copy, real)
            copy = None
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except RuntimeError as exc:
            # What DuckDB's Python client raises when Ctrl-C stops a statement.
            if str(exc) == "Query interrupted":
                raise KeyboardInterrupt from None
            raise
        except duckdb.Error as exc:
            raise _error(
                f"could not compact index {file} ({_first_line(exc)}); it is unchanged", file
            ) from None
        except OSError as exc:
            raise _error(
                f"could not compact index {file} ({exc.strerror or exc}); it is unchanged", file
            ) from None
        try:
            _fsync(real.parent)
        except OSError:
            # Not every system can sync a folder; the rename has happened either way.
            pass
        after = real.stat().st_size
    finally:
        if copy is not None:
            _discard_copy(con, copy)
        con.close()
    return CompactResult(bytes_before=before, bytes_after=after, documents=totals[0])


def _readable_meta(con: duckdb.DuckDBPyConnection, file: Path) -> tuple[dict[str, str], Settings]:
    """The index's meta and settings, after checking this Stemmatic can read the index."""
    try:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    except duckdb.CatalogException:
        raise _error(f"{file} is a DuckDB database, not a Stemmatic index", file) from None
    settings: Settings | None
    try:
        settings = Settings().replace(**json.loads(meta["settings"]))
    except (KeyError, ValueError, TypeError, SettingsError):
        settings = None
    _check_meta(meta, file, settings or Settings())
    if settings is None:
        raise _error(f"index {file} has no readable settings; rebuild it", file)
    return meta, settings


def _totals(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int, int]:
    """Row counts and order-blind checksums of every column of the two large tables."""
    docs = con.execute(
        f"SELECT count(*), coalesce(sum(hash({', '.join(_DOC_COLUMNS)})), 0) FROM documents"
    ).fetchall()[0]
    prints = con.execute(
        "SELECT count(*), coalesce(sum(hash(hash, doc, first_token)), 0) FROM fingerprints"
    ).fetchall()[0]
    return int(docs[0]), int(docs[1]), int(prints[0]), int(prints[1])


def _copy_tables(con: duckdb.DuckDBPyConnection, copy: Path) -> None:
    """Write a new index file holding the rows of the index open on ``con``.

    The tables are created with this module's schema and filled with INSERT ... SELECT,
    rather than with DuckDB's ``COPY FROM DATABASE``, so that the copy has exactly the
    schema a new index gets (primary keys, uncompressed text) whatever the DuckDB
    version: ``COPY FROM DATABASE`` left out indexes before DuckDB 1.1, and copied unique
    indexes wrongly in 1.1.3 (duckdb/duckdb#9765, #12768, #14909).
    """
    fresh = duckdb.connect(str(copy), config=_COMPACT_CONFIG)
    try:
        fresh.begin()
        _create_tables(fresh)
        fresh.commit()
    finally:
        fresh.close()
    con.execute(f"ATTACH {_sql_string(str(copy))} AS {_COPY_CATALOG}")
    try:
        # One transaction; DuckDB writes large inserts straight into the copy's blocks.
        con.begin()
        for table, columns in _COPIED:
            names = ", ".join(columns)
            con.execute(
                f"INSERT INTO {_COPY_CATALOG}.{table} ({names}) SELECT {names} FROM {table}"
            )
        con.commit()
        # Closing the copy cleanly leaves no log beside it, so the file alone is the index.
        con.execute(f"CHECKPOINT {_COPY_CATALOG}")
        con.execute(f"DETACH {_COPY_CATALOG}")
    except BaseException:
        try:
            con.rollback()
        except duckdb.Error:
            # No transaction was open.
            pass
        raise


def _check_copy(
    copy: Path,
    file: Path,
    meta: dict[str, str],
    settings: Settings,
    totals: tuple[int, int, int, int],
) -> None:
    """Refuse a copy that does not open as the same index with the same rows."""
    if _wal(copy).exists():
        raise _error(
            f"could not compact index {file}: the copy was not closed cleanly; it is unchanged",
            file,
        )
    con = duckdb.connect(str(copy), read_only=True, config=_COMPACT_CONFIG)
    try:
        copied = dict(con.execute("SELECT key, value FROM meta").fetchall())
        _check_meta(copied, file, settings)
        same = copied == meta and _totals(con) == totals
    finally:
        con.close()
    if not same:
        raise _error(
            f"could not compact index {file}: the copy differs from it; it is unchanged", file
        )


def _discard_copy(con: duckdb.DuckDBPyConnection, copy: Path) -> None:
    """Remove a copy that will not replace the index, and its log."""
    try:
        # Detached before its files are removed: DuckDB would write them again on closing.
        con.execute(f"DETACH DATABASE IF EXISTS {_COPY_CATALOG}")
    except duckdb.Error:
        # The connection is unusable; closing it closes the copy too.
        con.close()
    for leftover in (copy, _wal(copy)):
        try:
            leftover.unlink(missing_ok=True)
        except OSError:
            # Nothing more can be done; the next compaction removes it (_remove_stale_copies).
            pass


def _remove_stale_copies(real: Path) -> None:
    """Remove the copies that killed compactions of this index left behind.

    Only the process holding the index read-write compacts it, and a copy exists only
    while its compaction holds the index, so any copy found now is stale.
    """
    prefix = f".{real.name}."
    with os.scandir(real.parent) as entries:
        names = [entry.name for entry in entries]
    for name in names:
        stem = name.removesuffix(".wal")
        token = stem.removeprefix(prefix).removesuffix(_COPY_SUFFIX)
        if (
            stem == f"{prefix}{token}{_COPY_SUFFIX}"
            and len(token) == _COPY_TOKEN_CHARS
            and all(c in "0123456789abcdef" for c in token)
        ):
            try:
                (real.parent / name).unlink()
            except FileNotFoundError:
                pass


def _keep_owner_and_mode(copy: Path, original: os.stat_result) -> None:
    os.chmod(copy, stat.S_IMODE(original.st_mode))
    try:
        os.chown(copy, original.st_uid, original.st_gid)
    except (PermissionError, AttributeError):
        # Only root may give a file away; a user's own file keeps its owner anyway.
        pass


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _wal(path: Path) -> Path:
    """DuckDB's write-ahead log of the database file at ``path``."""
    return path.with_name(path.name + ".wal")


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _connect(
    file: Path,
    *,
    read_only: bool,
    wait: float,
    on_wait: OnWait | None,
    config: dict[str, Any] = DUCKDB_CONFIG,
) -> duckdb.DuckDBPyConnection:
    """Open the file with DuckDB, trying again for ``wait`` seconds while it is locked.

    The connection returned is to the file that is at ``file`` once it holds DuckDB's lock:
    a file that :func:`compact` replaced meanwhile is let go and the new one opened.
    """
    deadline = time.monotonic() + max(wait, 0.0)
    replaced = 0
    while True:
        # The path's identity before and after connecting tells whether the connection
        # is to the file now at the path.  A process may open the path just before a
        # compaction renames its copy over it, and take the lock on the old file (no
        # longer reachable by its name) once the compaction lets go of it: without this
        # check a writer would write into a file that nobody will read again.  The lock
        # is taken after the file is opened, so a connection to the old file always
        # finds the new one at the path when it checks afterwards.
        before = _identity(file)
        try:
            con = duckdb.connect(str(file), read_only=read_only, config=config)
        except duckdb.Error as exc:
            if before is not None and _identity(file) != before and replaced < _REPLACED_TRIES:
                # Replaced while opening: the failure may be the old file's, e.g. DuckDB
                # refusing the new file's log ("WAL does not match database file").
                replaced += 1
                continue
            message = str(exc)
            if "not a valid DuckDB database" in message:
                raise _error(
                    f"{file} is not a Stemmatic index (not a DuckDB database file)", file
                ) from None
            if "different configuration" in message:
                if config is _COMPACT_CONFIG:
                    raise _error(
                        f"index {file} is open in this process; close it first", file
                    ) from None
                raise _error(
                    f"index {file} is already open in this process in another mode; close it first",
                    file,
                ) from None
            if "lock" not in message.lower():
                raise _error(f"cannot open index {file}: {message}", file) from None
            holder = _lock_holder(file, read_only, message)
            if time.monotonic() >= deadline:
                if wait > 0:
                    raise _error(f"{holder}; gave up after waiting {wait:g} s", file) from None
                raise _error(f"{holder}; wait for it to finish", file) from None
            if on_wait is not None:
                on_wait(f"{holder}; waiting up to {wait:g} s for it to finish")
            time.sleep(min(RETRY_SECONDS, max(deadline - time.monotonic(), 0.0)))
            continue
        after = _identity(file)
        if before is None or after == before:
            # (No file before: DuckDB has just created it.)
            return con
        # This connection made no change, so closing it leaves the log at ``file.wal``,
        # which is the new file's, alone (checked with DuckDB 2.0.0).
        con.close()
        if after is None:
            raise _error(f"index {file} was removed while it was being opened", file)
        replaced += 1
        if replaced > _REPLACED_TRIES:
            raise _error(f"index {file} kept being replaced while it was being opened", file)


def _identity(file: Path) -> tuple[int, int] | None:
    """The device and inode of the file at ``file`` (through links), or None if none."""
    try:
        st = os.stat(file)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _lock_holder(file: Path, read_only: bool, message: str) -> str:
    # DuckDB adds "you would be able to open this database in read-only mode" when the
    # holder is itself a reader; a reader is only ever refused by a writer.
    if not read_only and "read-only mode" in message:
        return f"index {file} is open for reading in another process"
    return f"index {file} is being written by another process"


def _once(on_wait: OnWait | None) -> OnWait | None:
    """``on_wait``, passing on only the first message it is given."""
    if on_wait is None:
        return None
    told = False

    def tell(message: str) -> None:
        nonlocal told
        if not told:
            told = True
            on_wait(message)

    return tell


def _initialize(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    # Schema and meta in one transaction: a process killed while creating the index
    # leaves an empty database, which the next ``create=True`` open initializes again.
    now = utc_now()
    con.begin()
    try:
        _create_tables(con)
        con.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [
                ["format_version", str(FORMAT_VERSION)],
                ["settings", json.dumps(settings.index_key(), sort_keys=True)],
                ["window", str(WINDOW)],
                ["probe", probe(settings)],
                ["created", now],
                ["updated", now],
                ["stemmatic_version", _stemmatic_version()],
            ],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in _SCHEMA:
        con.execute(statement)


def _check_meta(meta: dict[str, str], file: Path, settings: Settings) -> None:
    version = _int_or_none(meta.get("format_version"))
    if version is None:
        raise _error(f"{file} is not a Stemmatic index (it has no format version)", file)
    if version < FORMAT_VERSION:
        raise _error(
            f"index {file} was built by an older Stemmatic (format {version}); rebuild it with "
            f"`stemmatic index add` into a new file (this Stemmatic reads format {FORMAT_VERSION})",
            file,
        )
    if version > FORMAT_VERSION:
        raise _error(
            f"index {file} was built by a newer Stemmatic (format {version}); upgrade Stemmatic "
            f"to use it (this one reads format {FORMAT_VERSION})",
            file,
        )
    window = _int_or_none(meta.get("window"))
    if window != WINDOW:
        raise _error(
            f"index {file} was built with winnowing window {window}, not {WINDOW}; rebuild it "
            "with `stemmatic index add` into a new file",
            file,
        )
    try:
        stored = json.loads(meta["settings"])
    except (KeyError, ValueError):
        raise _error(f"index {file} has no readable settings; rebuild it", file) from None
    current = settings.index_key()
    if stored != current:
        names = sorted(n for n in set(stored) | set(current) if stored.get(n) != current.get(n))
        built = ", ".join(f"{n}={stored.get(n)!r}" for n in names)
        asked = ", ".join(f"{n}={current.get(n)!r}" for n in names)
        raise _error(
            f"index {file} was built with {built} but these settings have {asked}; "
            "pass the settings it was built with, or rebuild the index with these settings",
            file,
        )
    if meta.get("probe") != probe(settings):
        raise _error(
            f"index {file} was built by a Stemmatic that tokenizes or fingerprints text "
            "differently from this one; rebuild it with `stemmatic index add` into a new file",
            file,
        )


def _probe_matches(meta: dict[str, str]) -> bool:
    """Whether this Stemmatic fingerprints text as the one that built the index did."""
    try:
        settings = Settings().replace(**json.loads(meta["settings"]))
    except (KeyError, ValueError, TypeError, SettingsError):
        return False
    return meta.get("probe") == probe(settings)


def _stored_form(text: str, settings: Settings) -> tuple[Fingerprints, bytes]:
    """A document's fingerprints and its packed tokens, from one tokenization."""
    tokens = tokens_for(text, settings)
    return tokens_fingerprints(tokens, settings), pack(tokens)


def _document(row: tuple[Any, ...]) -> Document:
    """A document from the first columns of a row selected with _GET_COLUMNS."""
    return Document(
        id=row[0],
        text=row[1],
        path=row[2],
        title=row[3],
        author=row[4],
        date=row[5],
        format=row[6],
        encoding=row[7],
        excluded=tuple((int(s), int(e)) for s, e in json.loads(row[8])),
        warnings=tuple(json.loads(row[9])),
    )


def _arrow() -> Any:
    # Imported when writing: a trace only reads, and pyarrow takes 0.1 s to import.
    import pyarrow

    return pyarrow


def _documents_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    pa = _arrow()
    columns = list(zip(*rows, strict=True)) or [() for _ in _DOC_COLUMNS]
    types = {
        "key": pa.int32(),
        "length": pa.int64(),
        "tokens": pa.int64(),
        "packed": pa.binary(),
    }
    return pa.table(
        {
            name: pa.array(values, type=types.get(name, pa.string()))
            for name, values in zip(_DOC_COLUMNS, columns, strict=True)
        }
    )


def _metadata(doc: Document) -> tuple[Any, ...]:
    """The stored metadata columns of a document, in _DOC_COLUMNS order."""
    return (
        doc.path,
        doc.title,
        doc.author,
        doc.date,
        doc.format,
        doc.encoding,
        json.dumps([list(span) for span in doc.excluded]),
        json.dumps(list(doc.warnings)),
    )


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _json_or_none(value: str | None) -> Any:
    try:
        return json.loads(value) if value is not None else None
    except ValueError:
        return None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _stemmatic_version() -> str:
    try:
        return metadata.version("stemmatic")
    except metadata.PackageNotFoundError:
        return "unknown"


def _damaged(path: Path, exc: duckdb.Error) -> IndexStoreError:
    """The error for a file that opens but fails when its blocks are read."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return _error(
        f"index {path} cannot be read, it is damaged ({reason}); rebuild it with "
        "`stemmatic index add` into a new file",
        path,
    )


def _error(message: str, path: Path) -> IndexStoreError:
    # The message names the path itself (the CLI prints it as is); the attribute keeps it
    # for callers that want it.
    error = IndexStoreError(message)
    error.path = str(path)
    return error
