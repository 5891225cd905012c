"""Word .docx: paragraph text, then table text, read only after the zip and XML are checked.

A .docx is a zip of XML parts, so a hostile one can be a zip bomb or carry an XML entity
bomb.  Both are refused before python-docx opens the file:

* sizes come from the zip central directory, which ``zipfile`` enforces while reading (a
  member that inflates past its declared size fails its CRC check), so checking them is
  enough to bound memory;
* every XML part is streamed once through a bare expat parser whose DOCTYPE and ENTITY
  handlers refuse the file.  This is what ``defusedxml`` does (``forbid_dtd``), without
  building a tree.  It has to happen here because python-docx parses with its own lxml
  parser, which cannot be told to forbid DTDs, and Word never writes a DTD into a .docx.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from datetime import datetime
from typing import TYPE_CHECKING
from xml.parsers import expat

from stemmatic.errors import InputError
from stemmatic.ingest.text import Extracted, is_blank

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

# Refuse a .docx whose parts add up to more than this when inflated ...
MAX_UNCOMPRESSED = 200 * 1024 * 1024
# ... or that inflates more than MAX_RATIO times, once it is past RATIO_FLOOR (a small,
# very repetitive part can legitimately compress well beyond 100:1).
MAX_RATIO = 100
RATIO_FLOOR = 10 * 1024 * 1024
_CHUNK = 1 << 16


def extract(data: bytes, path: str) -> Extracted:
    """Extract the text and core properties of a Word .docx file.

    Raises:
        InputError: not a zip or not a .docx, a zip bomb, XML with a DTD, or no text.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise InputError(f"not a valid .docx: {exc}") from exc
    with archive:
        _check_sizes(archive)
        if "[Content_Types].xml" not in archive.namelist():
            raise InputError("not a valid .docx: no [Content_Types].xml (another kind of zip?)")
        _check_xml(archive)
    document = _open(data)
    text = "\n".join(_paragraphs(document))
    if is_blank(text):
        raise InputError("empty document (no text)")
    title, author, date = _core_properties(document)
    return Extracted(text=text, title=title, author=author, date=date)


def _check_sizes(archive: zipfile.ZipFile) -> None:
    members = archive.infolist()
    inflated = sum(member.file_size for member in members)
    compressed = sum(member.compress_size for member in members)
    too_big = inflated > MAX_UNCOMPRESSED
    if too_big or (inflated > RATIO_FLOOR and inflated > MAX_RATIO * max(compressed, 1)):
        raise InputError(f"refused: .docx expands to {inflated // 2**20} MB (zip bomb?)")


def _check_xml(archive: zipfile.ZipFile) -> None:
    for member in archive.infolist():
        if member.is_dir():
            continue
        try:
            with archive.open(member) as stream:
                head = stream.read(_CHUNK)
                if not _looks_like_xml(head):
                    continue  # images, fonts, embedded binaries
                parser = expat.ParserCreate()
                parser.StartDoctypeDeclHandler = _refuse_dtd
                parser.EntityDeclHandler = _refuse_dtd
                chunk = head
                while chunk:
                    parser.Parse(chunk, False)
                    chunk = stream.read(_CHUNK)
                parser.Parse(b"", True)
        except _DtdFound as exc:
            raise InputError(
                f"refused: .docx part {member.filename} declares a DTD or entities "
                "(XML entity bomb?)"
            ) from exc
        except expat.ExpatError as exc:
            raise InputError(f"not a valid .docx: bad XML in {member.filename}: {exc}") from exc
        except (
            zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, zlib.error
        ) as exc:
            raise InputError(f"not a valid .docx: {member.filename}: {exc}") from exc


def _looks_like_xml(head: bytes) -> bool:
    """Could an XML parser read this part?  Decides which parts the DTD check streams.

    NUL bytes are dropped so UTF-16 and UTF-32 XML look like ASCII; libxml2 also reads
    EBCDIC (``<?xm`` is ``4C 6F A7 94``), which expat then refuses as an unknown encoding.
    """
    start = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").replace(b"\x00", b"")
    return start.startswith(b"<") or head.startswith(b"\x4c\x6f\xa7\x94")


class _DtdFound(Exception):
    """Raised from inside expat when a part declares a DTD or an entity."""


def _refuse_dtd(*_args: object) -> None:
    raise _DtdFound


def _open(data: bytes) -> DocxDocument:
    import docx
    from docx.opc.exceptions import OpcError

    try:
        return docx.Document(io.BytesIO(data))
    except (OpcError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(f"not a valid .docx: {exc}") from exc


def _paragraphs(document: DocxDocument) -> list[str]:
    """Body paragraphs, then each table row with its cells joined by tabs."""
    lines = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            cells: list[str] = []
            seen: set[object] = set()
            for cell in row.cells:
                # A merged cell is returned once for every grid column it spans; lxml
                # elements hash by identity, so the set holds each underlying cell once.
                if cell._tc in seen:
                    continue
                seen.add(cell._tc)
                cells.append(cell.text)
            lines.append("\t".join(cells))
    return lines


def _core_properties(document: DocxDocument) -> tuple[str | None, str | None, str | None]:
    try:
        properties = document.core_properties
        title, author = properties.title, properties.author
    except Exception:  # noqa: BLE001 - metadata is optional; damaged metadata is ignored
        return None, None, None
    try:
        created = properties.created
    except Exception:  # noqa: BLE001 - a malformed date raises
        created = None
    date = created.date().isoformat() if isinstance(created, datetime) else None
    return title.strip() or None, author.strip() or None, date
