"""PDF: the text layer of every page, with words broken across lines joined again."""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import TYPE_CHECKING

from stemmatic.errors import InputError
from stemmatic.ingest.text import Extracted, is_blank

if TYPE_CHECKING:
    from pypdf import PdfReader

# A hyphen (or soft hyphen) at the end of a line, between letters.  Whether it is removed
# depends on the next letter: see _join_hyphenated.
_LINE_END_HYPHEN = re.compile(r"(?<=[^\W\d_])([-\u00ad])[ \t]*\r?\n[ \t]*(?=[^\W\d_])")


def extract(data: bytes, path: str) -> Extracted:
    """Extract the text layer and metadata of a PDF.

    Pages are joined with a blank line.  An encrypted PDF is opened with the empty password
    when it has one (many are encrypted only against editing).

    Raises:
        InputError: not a PDF, encrypted with a password, or no text layer (scanned pages).
    """
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except Exception as exc:  # pypdf raises many kinds of error on damaged files
        raise InputError(f"not a valid PDF: {_one_line(exc)}") from exc
    if encrypted:
        try:
            opened = bool(reader.decrypt(""))
        except Exception:  # noqa: BLE001 - e.g. AES without the cryptography package
            opened = False
        if not opened:
            raise InputError("encrypted PDF (it needs a password)")
    try:
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # damaged page content streams
        raise InputError(f"not a valid PDF: {_one_line(exc)}") from exc
    text = "\n\n".join(page.rstrip() for page in pages if not is_blank(page))
    if is_blank(text):
        raise InputError("no text layer (scanned or image-only PDF)")
    title, author, date = _metadata(reader)
    return Extracted(text=join_hyphenated(text), title=title, author=author, date=date)


def join_hyphenated(text: str) -> str:
    """Join words hyphenated across a line break: ``informa-\\ntion`` -> ``information``.

    Only a hyphen at a line end followed by a lowercase letter is removed, so hyphens inside a
    line (``well-known``) and before capitals or digits (``Anglo-\\nSaxon``, ``COVID-\\n19``)
    stay.  A soft hyphen at a line end is always a break and always goes.
    """

    def join(match: re.Match[str]) -> str:
        if match[1] == "\u00ad" or text[match.end()].islower():
            return ""
        return match[0]

    return _LINE_END_HYPHEN.sub(join, text)


def _metadata(reader: PdfReader) -> tuple[str | None, str | None, str | None]:
    """Title, author and creation date from the document information dictionary."""
    try:
        info = reader.metadata
        if info is None:
            return None, None, None
        title, author = _string(info.title), _string(info.author)
    except Exception:  # noqa: BLE001 - metadata is optional; damaged metadata is ignored
        return None, None, None
    try:
        created = info.creation_date
    except Exception:  # noqa: BLE001 - malformed date strings raise
        created = None
    date = created.date().isoformat() if isinstance(created, datetime) else None
    return title, author, date


def _string(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message[:200]
