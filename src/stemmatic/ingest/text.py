"""Plain text and Markdown: decoding bytes without changing a character, and guessing a title.

For these formats ``Document.text`` is the file's decoded content, unchanged: no newline
translation, no stripping, a leading byte-order mark kept as U+FEFF.  Every offset the
pipeline reports is therefore an index into exactly what the user's file says.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

import charset_normalizer

from stemmatic.errors import InputError


@dataclass(frozen=True, slots=True)
class Extracted:
    """What a format extractor found in one file; ``load`` adds the id and path."""

    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    encoding: str | None = None
    excluded: tuple[tuple[int, int], ...] = ()
    warnings: tuple[str, ...] = ()


# Longest BOM first: the UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Control characters that do not occur in text.  Tab, newlines, form feed and ESC (ANSI
# colours in logs) are allowed; everything else in C0, DEL and C1 counts against the file.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
_MAX_CONTROL_SHARE = 0.10
_SAMPLE_CHARS = 1 << 20
_SAMPLE_BYTES = 1 << 16


def load_text(data: bytes, path: str) -> tuple[str, str, list[str]]:
    """Decode the bytes of a text file without changing any character.

    The order of guesses: a byte-order mark (UTF-8, UTF-16, UTF-32; the mark is kept as
    U+FEFF so offsets stay true to the file), BOM-less UTF-16, strict UTF-8, UTF-8 with a few
    damaged bytes replaced by U+FFFD, and finally Windows-1252, which always decodes.
    Anything but a clean decode adds a warning.

    Args:
        data: the file's bytes.
        path: the file's path, for error messages.

    Returns:
        ``(text, encoding, warnings)``.

    Raises:
        InputError: the bytes are binary (NUL bytes, many control characters), not text.
    """
    warnings: list[str] = []
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _decode_noting_damage(data, encoding, warnings)
            _check_not_binary(text, path)
            return text, encoding, warnings
    if b"\x00" in data:
        encoding_16 = _bomless_utf16(data)
        if encoding_16 is None:
            raise InputError("binary file, not text", path=path)
        text = _decode_noting_damage(data, encoding_16, warnings)
        warnings.append(f"no byte-order mark: decoded as {encoding_16.upper()}")
        _check_not_binary(text, path)
        return text, encoding_16, warnings
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        _check_not_binary(text, path)
        return text, "utf-8", warnings
    # Not UTF-8.  charset-normalizer serves only as the binary guard: it finds no encoding at
    # all for compressed or random data that happens to have no NUL byte.
    if charset_normalizer.from_bytes(data[:_SAMPLE_BYTES]).best() is None:
        raise InputError("binary file, not text", path=path)
    damaged, bad = _mostly_utf8(data)
    if damaged is not None:
        warnings.append(f"{bad} invalid UTF-8 byte sequence(s) replaced with U+FFFD")
        text, encoding = damaged, "utf-8"
    else:
        # One character per byte, so nothing is lost; the five bytes cp1252 leaves undefined
        # become U+FFFD.
        text = data.decode("cp1252", errors="replace")
        encoding = "cp1252"
        warnings.append("not valid UTF-8: decoded as Windows-1252 (cp1252)")
    _check_not_binary(text, path)
    return text, encoding, warnings


def extract_txt(data: bytes, path: str) -> Extracted:
    """Read a plain-text file: the decoded content unchanged, a title when one stands out."""
    text, encoding, warnings = load_text(data, path)
    return Extracted(
        text=text, title=guess_title(text), encoding=encoding, warnings=tuple(warnings)
    )


def extract_md(data: bytes, path: str) -> Extracted:
    """Read a Markdown file.

    The text stays the raw file (markup included) so offsets point into what the author
    wrote.  YAML front matter is listed in ``excluded`` and gives title, author and date; a
    leading ``# Heading`` gives the title otherwise.
    """
    text, encoding, warnings = load_text(data, path)
    meta, body_start = _front_matter(text)
    excluded = ((0, body_start),) if body_start else ()
    title = meta.get("title") or _markdown_title(text[body_start:])
    return Extracted(
        text=text,
        title=title,
        author=meta.get("author"),
        date=meta.get("date"),
        encoding=encoding,
        excluded=excluded,
        warnings=tuple(warnings),
    )


def guess_title(text: str) -> str | None:
    """The first non-empty line, when it looks like a title.

    A title is short (at most 120 characters and 15 words), has letters, does not end
    like a sentence or a clause (``. , ; :``) and is not all lowercase.
    """
    line = _first_line(text)
    if line is None or len(line) > 120 or len(line.split()) > 15:
        return None
    if line[-1] in ".,;:" or line.islower() or not any(c.isalpha() for c in line):
        return None
    return line


def _first_line(text: str) -> str | None:
    for line in text.splitlines():
        stripped = line.replace("\ufeff", "").strip()
        if stripped:
            return stripped
    return None


_ATX_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")


def _markdown_title(text: str) -> str | None:
    line = _first_line(text)
    if line is None:
        return None
    heading = _ATX_HEADING.match(line)
    if heading is None:
        return guess_title(line)
    if len(heading[1]) == 1:
        return heading[2].strip() or None
    # A level-2+ heading first: it may still read as a title.
    return guess_title(heading[2])


_FRONT_MATTER_FIELD = re.compile(r"^(title|author|date)[ \t]*:[ \t]*(.*?)[ \t]*$", re.IGNORECASE)


def _front_matter(text: str) -> tuple[dict[str, str], int]:
    """Title/author/date from a leading ``---`` YAML block, and the offset where it ends.

    Only flat ``key: value`` lines are read; a full YAML parser is not worth a dependency for
    three fields.
    """
    start = 1 if text.startswith("\ufeff") else 0
    lines = text[start:].splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != "---":
        return {}, 0
    meta: dict[str, str] = {}
    offset = start + len(lines[0])
    for line in lines[1:]:
        offset += len(line)
        content = line.rstrip("\r\n")
        if content in ("---", "..."):
            return meta, offset
        match = _FRONT_MATTER_FIELD.match(content)
        if match and match[2]:
            meta.setdefault(match[1].lower(), match[2].strip("'\""))
    return {}, 0  # never closed: not front matter


def _decode_noting_damage(data: bytes, encoding: str, warnings: list[str]) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        warnings.append(f"invalid {encoding.upper()} bytes replaced with U+FFFD")
        return data.decode(encoding, errors="replace")


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a byte-order mark: mostly-ASCII text has NUL in every other byte."""
    sample = data[:_SAMPLE_BYTES]
    if len(sample) < 4 or len(data) % 2:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _mostly_utf8(data: bytes) -> tuple[str | None, int]:
    """UTF-8 with a few damaged bytes, told apart from a legacy 8-bit encoding.

    A UTF-8 file with one corrupt byte decoded as cp1252 would turn every accented letter
    into mojibake, so it is decoded as UTF-8 when its valid multi-byte sequences outnumber
    the invalid ones.
    """
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd")
    bad = replaced - data.count("\ufffd".encode())
    valid = len(text) - len(text.encode("ascii", errors="ignore")) - replaced
    return (text, bad) if valid > bad else (None, bad)


def _check_not_binary(text: str, path: str) -> None:
    sample = text[:_SAMPLE_CHARS]
    if "\x00" in sample:
        raise InputError("binary file, not text", path=path)
    controls = len(_CONTROL.findall(sample))
    if sample and controls > _MAX_CONTROL_SHARE * len(sample):
        raise InputError("binary file, not text", path=path)


def is_blank(text: str) -> bool:
    """True when the text has nothing but white space, byte-order marks and format chars."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)
