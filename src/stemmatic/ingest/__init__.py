"""Ingest: files and folders in, :class:`~stemmatic.types.Document` values out.

``load`` reads one file and raises :class:`~stemmatic.errors.InputError` when it cannot;
``collect`` reads files, folders and corpus files (JSON Lines, Parquet) and lists whatever
it cannot read as :class:`~stemmatic.types.Skipped` instead of raising.  One module per
format does the reading: ``text`` (txt, md), ``html``, ``pdf``, ``docx`` and ``records``
(jsonl, parquet); ``worker`` runs the slow parsers under the time limit.

Nothing here touches the network.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from stemmatic.errors import InputError
from stemmatic.ingest import records, worker
from stemmatic.ingest.text import is_blank, load_text
from stemmatic.settings import Settings
from stemmatic.types import Document, Skipped

__all__ = ["FORMATS", "collect", "load", "load_text"]

# File extension -> format name (Document.format).
FORMATS: dict[str, str] = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
_RECORD_FORMATS = frozenset({"jsonl", "parquet"})

# Extensions a folder walk passes over without listing them as skipped: files that are
# plainly not documents (images, media, archives, compiled code, databases).
IGNORED_EXTENSIONS = frozenset(
    (
        ".png .jpg .jpeg .gif .bmp .tif .tiff .webp .svg .ico .heic .psd .eps "
        ".mp3 .wav .flac .ogg .m4a .mp4 .mov .avi .mkv .webm "
        ".zip .gz .tgz .bz2 .xz .zst .7z .rar .tar "
        ".pyc .pyo .o .a .so .dylib .dll .exe .class .jar .whl .egg "
        ".ttf .otf .woff .woff2 .db .sqlite .sqlite3 .duckdb .wal .lock .pkl .npy .npz"
    ).split()
)
_HINTS = {
    ".doc": "save it as .docx",
    ".rtf": "save it as .docx or .txt",
    ".odt": "save it as .docx",
}


def load(
    path: str | os.PathLike[str],
    settings: Settings = Settings(),  # noqa: B008 - frozen, so one shared default is safe
    *,
    doc_id: str | None = None,
) -> Document:
    """Read one file into a Document.

    Args:
        path: a .txt, .md, .html, .pdf or .docx file (see :data:`FORMATS`).
        settings: ``max_bytes`` and ``timeout`` apply.
        doc_id: the document's id; the file name by default.

    Returns:
        The document; ``text`` is what every offset refers to.

    Raises:
        InputError: the file is missing, a folder, unreadable, too large, binary, empty,
            corrupt, encrypted, an unsupported type, or a corpus file of many records.
    """
    name = os.fspath(path)
    fmt = _check_file(name)
    if fmt in _RECORD_FORMATS:
        raise InputError(
            f"is a corpus file with one document per record ({fmt}): read it with collect()",
            path=name,
        )
    data = _read(name, settings.max_bytes)
    if not data:
        raise InputError("empty file", path=name)
    found = worker.extract(fmt, data, name, settings.timeout)
    if is_blank(found.text):
        raise InputError("empty document (only white space)", path=name)
    return Document(
        id=printable(doc_id if doc_id is not None else os.path.basename(name)),
        text=found.text,
        path=printable(name),
        title=found.title,
        author=found.author,
        date=found.date,
        format=fmt,
        encoding=found.encoding,
        excluded=found.excluded,
        warnings=found.warnings,
    )


def printable(name: str) -> str:
    """A file name as text that can be written anywhere.

    A name that is not valid UTF-8 reaches Python with lone surrogates, which no UTF-8
    output (JSON, a terminal, DuckDB) accepts; its odd bytes are shown as ``\\xNN``.
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def collect(
    paths: Sequence[str | os.PathLike[str]],
    settings: Settings = Settings(),  # noqa: B008 - frozen, so one shared default is safe
    *,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Document], list[Skipped]]:
    """Read files, folders and corpus files into documents, skipping what cannot be read.

    Folders are read recursively in sorted order, leaving out hidden files and folders;
    a symbolic link to a folder is followed once (a link loop is not followed again).
    JSON Lines and Parquet files give one document per record.

    Ids: a file inside a folder argument gets its path relative to that folder
    (``sub/x.html``); a file argument gets its file name; a record its ``id`` field.
    When a file's id is taken, the folders above it are put in front until it is unique;
    a record whose id is taken is skipped.

    Args:
        paths: files and folders, in the order they are to be read.
        settings: ``max_bytes`` and ``timeout`` apply to each document.
        progress: called with 1 after each document read or skipped (fits
            ``tqdm.update`` and ``rich``'s ``advance``).

    Returns:
        ``(documents, skipped)``: the documents in reading order, and every input that
        could not be read, with the reason.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    documents: list[Document] = []
    skipped: list[Skipped] = []
    taken: set[str] = set()

    def done(item: Document | Skipped) -> None:
        if isinstance(item, Document):
            documents.append(item)
            taken.add(item.id)
        else:
            skipped.append(Skipped(printable(item.path), item.reason))
        if progress is not None:
            progress(1)

    # Plan first, read after: which files there are, which are the same file, and what
    # each is called are decided from the whole set, so neither the order of the
    # arguments nor the order of a folder's listing changes any id.
    entries: list[tuple[str, tuple[str, ...], bool]] = []
    for given in paths:
        root = os.fspath(given)
        if os.path.isdir(root):
            for entry in _walk(root):
                if isinstance(entry, Skipped):
                    done(entry)
                else:
                    entries.append((entry[0], entry[1], False))
        elif os.path.lexists(root):
            entries.append((root, (os.path.basename(root),), True))
        else:
            done(Skipped(root, "no such file or folder"))
    entries.sort(key=lambda e: (os.path.abspath(e[0]), e[1]))
    entries = _distinct_files(entries, done)
    ids = _plan_ids([(path, relative) for path, relative, _ in entries
                     if FORMATS.get(_suffix(path)) not in _RECORD_FORMATS])
    for path, relative, explicit in entries:
        for item in _read_input(path, relative, explicit, settings, taken, ids.get(path)):
            done(item)
    return documents, skipped


def _distinct_files(
    entries: list[tuple[str, tuple[str, ...], bool]],
    done: Callable[[Document | Skipped], None],
) -> list[tuple[str, tuple[str, ...], bool]]:
    """Keep one path to each file: a link, or a file inside a folder also given, is the
    same document read twice.  The first in sorted order is kept."""
    kept: list[tuple[str, tuple[str, ...], bool]] = []
    seen: dict[tuple[int, int], str] = {}
    for path, relative, explicit in entries:
        key = _inode(path)
        if key is not None and key in seen:
            done(Skipped(path, f"same file as {seen[key]}"))
            continue
        if key is not None:
            seen[key] = path
        kept.append((path, relative, explicit))
    return kept


def _plan_ids(files: list[tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    """An id for each file: its relative path, or with as many parent folders in front
    as make every one of the files sharing that relative path unique."""
    groups: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for path, relative in files:
        groups.setdefault("/".join(relative), []).append((path, relative))
    ids: dict[str, str] = {}
    for base, members in groups.items():
        if len(members) == 1:
            ids[members[0][0]] = base
            continue
        parts = {path: Path(os.path.abspath(path)).parts[1:] for path, _ in members}
        depth = len(members[0][1])
        longest = max(len(p) for p in parts.values())
        while depth <= longest:
            names = {path: "/".join(p[-depth:]) for path, p in parts.items()}
            if len(set(names.values())) == len(names):
                break
            depth += 1
        for number, (path, _) in enumerate(sorted(members), start=1):
            name = "/".join(parts[path][-depth:])
            ids[path] = name if list(names.values()).count(name) == 1 else f"{name}#{number}"
    return ids


def _read_input(
    path: str,
    relative: tuple[str, ...],
    explicit: bool,
    settings: Settings,
    taken: set[str],
    doc_id: str | None,
) -> Iterator[Document | Skipped]:
    """Read one file found by ``collect``: a document, records, or the reason it is skipped."""
    suffix = _suffix(path)
    fmt = FORMATS.get(suffix)
    if fmt is None:
        if not explicit and suffix in IGNORED_EXTENSIONS:
            return
        yield Skipped(path, _unsupported(suffix))
        return
    if fmt in _RECORD_FORMATS:
        try:
            _check_file(path)
        except InputError as exc:
            yield Skipped(path, exc.reason)
            return
        reader = records.read_jsonl if fmt == "jsonl" else records.read_parquet
        for location, found in reader(path, settings.max_bytes):
            if isinstance(found, str):
                yield Skipped(location, found)
            elif found.id in taken:
                yield Skipped(location, f"duplicate id {found.id!r}")
            else:
                yield found
        return
    doc_id = printable(doc_id or "/".join(relative))
    if doc_id in taken:
        yield Skipped(path, f"duplicate id {doc_id!r}")
        return
    try:
        yield load(path, settings, doc_id=doc_id)
    except InputError as exc:
        yield Skipped(path, exc.reason)


def _walk(root: str) -> Iterator[tuple[str, tuple[str, ...]] | Skipped]:
    """Files under ``root`` in sorted order, with their path parts relative to ``root``.

    Hidden entries are left out.  Folders are tracked by device and inode, so a link back
    up the tree (or a second link to the same folder) is not followed again.  An explicit
    stack instead of recursion keeps very deep trees from reaching the recursion limit.
    """
    visited = {_inode(root)}
    stack = [iter(_entries(root, ()))]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if isinstance(entry, Skipped):
            yield entry
            continue
        full, relative, is_dir = entry
        if not is_dir:
            yield full, relative
            continue
        inode = _inode(full)
        if inode is None or inode in visited:
            continue
        visited.add(inode)
        stack.append(iter(_entries(full, relative)))


def _entries(
    folder: str, relative: tuple[str, ...]
) -> list[tuple[str, tuple[str, ...], bool] | Skipped]:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(
                (entry for entry in listing if not entry.name.startswith(".")),
                key=lambda entry: entry.name,
            )
    except OSError as exc:
        return [Skipped(folder, f"cannot list folder: {exc.strerror or exc}")]
    result: list[tuple[str, tuple[str, ...], bool] | Skipped] = []
    for entry in entries:
        full = os.path.join(folder, entry.name)
        try:
            is_dir = entry.is_dir()  # follows a link to a folder; loops are caught by inode
        except OSError:
            is_dir = False
        result.append((full, (*relative, entry.name), is_dir))
    return result


def _inode(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _check_file(path: str) -> str:
    """The format of a file that exists and is a regular file, or InputError."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        reason = "broken symbolic link" if os.path.islink(path) else "no such file"
        raise InputError(reason, path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=path) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError("is a folder, not a file (collect() reads folders)", path=path)
    if not stat.S_ISREG(info.st_mode):
        raise InputError("not a regular file", path=path)
    suffix = _suffix(path)
    if suffix not in FORMATS:
        raise InputError(_unsupported(suffix), path=path)
    return FORMATS[suffix]


def _read(path: str, max_bytes: int) -> bytes:
    """The file's bytes, refusing a file larger than ``max_bytes`` (0: no limit)."""
    try:
        with open(path, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if max_bytes and size > max_bytes:
                raise InputError(_too_large(size, max_bytes), path=path)
            # Read at most one byte past the limit: a file still growing cannot slip past.
            data = stream.read(min(size, max_bytes) + 1) if max_bytes else stream.read()
    except PermissionError:
        raise InputError("permission denied", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=path) from None
    if max_bytes and len(data) > max_bytes:
        raise InputError(_too_large(len(data), max_bytes), path=path)
    return data


def _suffix(path: str) -> str:
    """The file's extension in lower case, as ``PurePath(path).suffix.lower()`` gives it.

    Plain string work: building a PurePath for each of 100,000 files cost a second.
    """
    name = os.path.basename(path.rstrip("/" + os.sep))
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


def _too_large(size: int, max_bytes: int) -> str:
    return f"file too large: {size} bytes, max_bytes is {max_bytes}"


def _unsupported(suffix: str) -> str:
    if not suffix:
        return "unsupported file type (no extension)"
    hint = _HINTS.get(suffix)
    return f"unsupported file type {suffix}" + (f" ({hint})" if hint else "")
