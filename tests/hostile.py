"""Generators of hostile inputs, and a runner that watches the CLI on them.

Imported by the reliability tests (``tests/test_hostile.py`` and friends) and by
``bench/reliability.py``.  Nothing here is committed as a binary: every input is written
on demand, deterministically, into a folder the caller owns.

Each :class:`Hostile` case writes one input and says how Stemmatic must end on it:

* ``refused``: as the query, a one-line error and exit status 2; inside a corpus, an
  entry in the report's ``skipped`` list whose reason contains :attr:`Hostile.reason`;
* ``read``: the input is a document after all (damaged encodings, odd scripts, odd file
  names); it is traced like any other and a passage planted in it is found.

:func:`run` starts the real ``stemmatic`` entry point in a subprocess with a deadline and
reports its exit status, output, wall time and peak resident memory (from ``wait4``, so
the extraction worker it started and reaped counts too).
"""

from __future__ import annotations

import functools
import io
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# ----------------------------------------------------------------------------- texts

_ONSETS = ("b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "br", "st", "tr")
_NUCLEI = ("a", "e", "i", "o", "u", "ai", "ea", "ou")
_CODAS = ("", "n", "r", "s", "t", "nd", "rk", "ll")


def _made_up(rng: random.Random) -> str:
    return "".join(
        rng.choice(_ONSETS) + rng.choice(_NUCLEI) + rng.choice(_CODAS)
        for _ in range(rng.randint(2, 3))
    )


# Made-up but pronounceable words: no real word, so no stop word and no spelling variant,
# and a passage planted from one generated document can only match that document.  A
# fixed vocabulary, like a real language's, keeps the stemmer's cache warm.
def _vocabulary(size: int) -> tuple[str, ...]:
    rng = random.Random(0)
    found: dict[str, None] = {}
    while len(found) < size:
        found[_made_up(rng)] = None
    return tuple(found)


VOCABULARY = _vocabulary(3000)


def words(seed: int, count: int) -> list[str]:
    """``count`` words drawn from :data:`VOCABULARY`; the same seed gives the same words."""
    return random.Random(seed).choices(VOCABULARY, k=count)


def prose(seed: int, count: int = 200) -> str:
    """A text of ``count`` made-up words in sentences of 12 words, one paragraph."""
    ws = words(seed, count)
    sentences = [" ".join(ws[i : i + 12]) for i in range(0, len(ws), 12)]
    return " ".join(s[0].upper() + s[1:] + "." for s in sentences) + "\n"


# A passage in each script the tokenizer must handle.  Each is long enough (in tokens) to
# pass the default min_words of 8 and the n-gram seeding.
SCRIPTS: dict[str, str] = {
    "cyrillic": (
        "Старый мельник каждое утро поднимался до рассвета, чтобы проверить жернова, "
        "смазать колёса и посмотреть, не поднялась ли вода в запруде после ночного дождя."
    ),
    "arabic": (
        "كان الطحان العجوز يستيقظ كل صباح قبل الفجر ليتفقد حجارة الطاحونة ويزيت العجلات "
        "وينظر إن كان الماء قد ارتفع في السد بعد مطر الليل الطويل."
    ),
    "cjk": (
        "年老的磨坊主每天清晨在黎明之前起床检查磨石给轮子上油并且查看夜雨之后水坝里的水是否已经上涨"
    ),
    "japanese": (
        "年老いた粉屋は毎朝夜明け前に起きて石臼を調べ車輪に油をさし夜の雨のあとで堰の水が上がったかどうかを見に行った"
    ),
    # Decomposed accents (NFD): every accented letter is a base letter and a combining mark.
    "combining": (
        "Le vieux meunier se levait chaque matin avant l'aube pour vérifier les meules, "
        "graisser les roues et voir si l'eau était montée dans le barrage après la pluie "
        "de la nuit, comme son père l'avait fait à l'époque où le moulin tournait."
    ),
    "emoji": (
        "The old miller 👴 rose every morning 🌅 before dawn to check the millstones ⚙️, "
        "grease the wheels 🛞 and see whether the water 💧 had risen behind the weir "
        "after the night's rain 🌧️ had fallen on the valley 🏞️."
    ),
}


def script_text(name: str) -> str:
    """The sample passage of a script, normalized as a copy-paste would keep it."""
    import unicodedata

    text = SCRIPTS[name]
    return unicodedata.normalize("NFD", text) if name == "combining" else text


# ----------------------------------------------------------------------------- PDF


def _pdf(
    page_content: bytes, resources: bytes, extra: Sequence[bytes] = (), page_extra: bytes = b""
) -> bytes:
    """A one-page PDF with a correct cross-reference table.

    Objects: 1 catalog, 2 pages, 3 page, 4 content stream, 5 Helvetica, then ``extra``
    numbered from 6.
    """
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources " + resources + page_extra + b" >>",
        b"<< /Length %d >>\nstream\n" % len(page_content) + page_content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *extra,
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def pdf_with_text(text: str, link: str = "") -> bytes:
    """A PDF whose text layer holds ``text`` (ASCII), a line of about 80 characters each.

    With ``link``, the page also carries a link annotation and a remote go-to action to
    that URL (which a reader must never fetch).
    """
    lines: list[str] = []
    line = ""
    for word in text.split():
        if len(line) + len(word) + 1 > 80:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    ops = [b"BT", b"/F1 11 Tf", b"14 TL", b"50 750 Td"]
    for item in lines:
        escaped = item.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(b"(" + escaped.encode("latin-1", "replace") + b") Tj T*")
    ops.append(b"ET")
    if not link:
        return _pdf(b"\n".join(ops), b"<< /Font << /F1 5 0 R >> >>")
    url = link.encode()
    annotation = (
        b"<< /Type /Annot /Subtype /Link /Rect [50 700 300 720] /A << /S /URI /URI ("
        + url
        + b") >> >>"
    )
    remote = b"<< /S /GoToR /F << /FS /URL /F (" + url + b"/remote.pdf) >> /D [0 /Fit] >>"
    return _pdf(
        b"\n".join(ops),
        b"<< /Font << /F1 5 0 R >> >>",
        [annotation, remote],
        b" /Annots [6 0 R] /AA << /O 7 0 R >>",
    )


def pdf_image_only() -> bytes:
    """A scanned-looking PDF: one page showing an 8x8 grey image and no text at all."""
    pixels = bytes(range(0, 256, 4))
    image = (
        b"<< /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream"
    )
    content = b"q 400 0 0 400 100 200 cm /Im1 Do Q"
    return _pdf(content, b"<< /XObject << /Im1 6 0 R >> >>", [image])


def pdf_encrypted(text: str) -> bytes:
    """A PDF that needs the password ``secret`` to be opened."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_with_text(text))))
    # RC4 needs no optional crypto package, so the file can be written anywhere.
    writer.encrypt(user_password="secret", owner_password="owner-secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_malformed() -> bytes:
    """A file that starts like a PDF and then is garbage: no objects, no xref, no trailer."""
    rng = random.Random(11)
    return b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R" + rng.randbytes(4000)


def pdf_truncated(text: str) -> bytes:
    """A real text PDF cut off in the middle of its content stream."""
    data = pdf_with_text(text)
    return data[: len(data) // 2]


def pdf_xref_loop() -> bytes:
    """A PDF whose /Prev chain of cross-reference sections points back to itself."""
    data = pdf_with_text(prose(5, 40))
    xref = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    return data.replace(b"/Root 1 0 R >>", b"/Root 1 0 R /Prev %d >>" % xref)


# ----------------------------------------------------------------------------- DOCX

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
_W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _document_xml(
    text: str, doctype: bytes = b"", body_entity: bytes = b"", link: bool = False
) -> bytes:
    paragraphs = b"".join(
        b"<w:p><w:r><w:t>"
        + para.replace("&", "&amp;").replace("<", "&lt;").encode()
        + b"</w:t></w:r></w:p>"
        for para in text.split("\n")
        if para
    )
    if body_entity:
        paragraphs += b"<w:p><w:r><w:t>" + body_entity + b"</w:t></w:r></w:p>"
    namespaces = _W
    if link:
        namespaces += (
            b' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
        )
        paragraphs += (
            b'<w:p><w:hyperlink r:id="rIdLink"><w:r><w:t>the link</w:t></w:r></w:hyperlink></w:p>'
        )
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        + doctype
        + b"<w:document "
        + namespaces
        + b"><w:body>"
        + paragraphs
        + b"</w:body></w:document>"
    )


def docx_bytes(document_xml: bytes, extra: Sequence[tuple[str, bytes]] = ()) -> bytes:
    """A minimal .docx (zip) holding ``document_xml`` as word/document.xml."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/document.xml", document_xml)
        for name, data in extra:
            archive.writestr(name, data)
    return out.getvalue()


def docx_with_text(text: str, link: str = "") -> bytes:
    """A valid .docx whose paragraphs are the lines of ``text``.

    With ``link``, it also holds a hyperlink and an external image relationship to that URL.
    """
    if not link:
        return docx_bytes(_document_xml(text))
    target = link.replace("&", "&amp;").replace('"', "&quot;").encode()
    rels = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rIdLink" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/hyperlink" Target="' + target + b'" TargetMode="External"/>'
        b'<Relationship Id="rIdImage" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/image" Target="' + target + b'/image.png" TargetMode="External"/>'
        b"</Relationships>"
    )
    return docx_bytes(_document_xml(text, link=True), [("word/_rels/document.xml.rels", rels)])


def docx_billion_laughs() -> bytes:
    """word/document.xml declaring the classic exponential entity (10^9 "lol"s)."""
    entities = b'<!ENTITY lol "lol">'
    for level in range(1, 10):
        ref = b"&lol%d;" % (level - 1) if level > 1 else b"&lol;"
        entities += b'<!ENTITY lol%d "%s">' % (level, ref * 10)
    doctype = b"<!DOCTYPE lolz [" + entities + b"]>\n"
    return docx_bytes(_document_xml(prose(21, 30), doctype, b"&lol9;"))


def docx_external_entity(target: str = "file:///etc/passwd") -> bytes:
    """word/document.xml with an external entity (XXE) pointing at ``target``."""
    doctype = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "' + target.encode() + b'">]>\n'
    return docx_bytes(_document_xml(prose(22, 30), doctype, b"&xxe;"))


def _deflated_zeros(size: int) -> tuple[bytes, int]:
    """Raw deflate data inflating to ``size`` zero bytes, and their CRC-32."""
    chunk = bytes(1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts: list[bytes] = []
    crc = 0
    left = size
    while left:
        piece = chunk[: min(left, len(chunk))]
        parts.append(packer.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    parts.append(packer.flush())
    return b"".join(parts), crc


def _zip_stored_raw(members: Sequence[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip from already deflated members ``(name, raw, crc, declared size, method)``.

    Written by hand so that a member's declared uncompressed size can lie.
    """
    out = io.BytesIO()
    central = io.BytesIO()
    for name, raw, crc, declared, method in members:
        offset = out.tell()
        encoded = name.encode()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(raw),
                declared,
                len(encoded),
                0,
            )
        )
        out.write(encoded)
        out.write(raw)
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(raw),
                declared,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
        )
        central.write(encoded)
    start = out.tell()
    directory = central.getvalue()
    out.write(directory)
    out.write(
        struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), start, 0
        )
    )
    return out.getvalue()


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


@functools.cache
def docx_zip_bomb(inflated: int = 320 << 20) -> bytes:
    """A .docx whose media part inflates to ``inflated`` bytes (320 MiB) from about 300 KB.

    Past every limit Stemmatic sets (200 MB in all, 100:1) and large enough to hurt if
    inflated in memory; larger bombs take longer to generate and test nothing more.
    """
    raw, crc = _deflated_zeros(inflated)
    document = _document_xml(prose(23, 40))
    small = [
        (name, _deflate(data), zlib.crc32(data), len(data), 8)
        for name, data in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _RELS),
            ("word/document.xml", document),
        )
    ]
    return _zip_stored_raw([*small, ("word/media/image1.png", raw, crc, inflated, 8)])


@functools.cache
def docx_lying_bomb(inflated: int = 256 << 20) -> bytes:
    """A zip bomb that lies: word/document.xml declares 2 KB but inflates to 256 MiB."""
    raw, crc = _deflated_zeros(inflated)
    small = [
        (name, _deflate(data), zlib.crc32(data), len(data), 8)
        for name, data in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _RELS))
    ]
    return _zip_stored_raw([*small, ("word/document.xml", raw, crc, 2048, 8)])


def docx_corrupt() -> bytes:
    """A real .docx with bytes in its middle overwritten: the zip no longer holds together."""
    data = bytearray(docx_with_text(prose(24, 200)))
    rng = random.Random(24)
    for i in range(len(data) // 3, 2 * len(data) // 3):
        data[i] = rng.randrange(256)
    return bytes(data)


def docx_not_a_zip() -> bytes:
    """Text pretending to be a .docx."""
    return b"This is not a Word document, only text with a .docx name.\n" * 20


# ----------------------------------------------------------------------------- HTML


def html_deep(depth: int = 100_000, text: str = "") -> bytes:
    """``depth`` nested <div>s with a paragraph of text at the bottom."""
    body = text or prose(31, 60)
    return (
        b"<html><head><title>Deep</title></head><body>"
        + b"<div>" * depth
        + b"<p>"
        + body.encode()
        + b"</p>"
        + b"</div>" * depth
        + b"</body></html>"
    )


def html_with_remote_references(text: str, base: str) -> bytes:
    """A page whose text is ``text`` and that points at ``base`` (a URL) in every way a
    browser would fetch: stylesheet, script, image, iframe, object, prefetch, CSS import,
    meta refresh, srcset, a base element and a background image.
    """
    return f"""<!DOCTYPE html>
<html><head>
<base href="{base}/base/">
<title>Remote references</title>
<meta http-equiv="refresh" content="0; url={base}/refresh">
<link rel="stylesheet" href="{base}/style.css">
<link rel="prefetch" href="{base}/prefetch">
<link rel="preload" href="{base}/font.woff2" as="font">
<style>@import url("{base}/import.css"); body {{ background: url({base}/bg.png); }}</style>
<script src="{base}/script.js"></script>
</head><body>
<article>
<h1>Remote references</h1>
<img src="{base}/image.png" srcset="{base}/image-2x.png 2x" alt="an image">
<iframe src="{base}/frame.html"></iframe>
<object data="{base}/object.swf"></object>
<embed src="{base}/embed.swf">
<video src="{base}/video.mp4" poster="{base}/poster.jpg"></video>
<p>{text}</p>
<p><a href="{base}/link">a link</a></p>
</article>
</body></html>
""".encode()


# ----------------------------------------------------------------------------- cases

Maker = Callable[[Path], Path]


@dataclass(frozen=True)
class Hostile:
    """One hostile input.

    Attributes:
        name: short name, used as the test id.
        make: writes the input into a folder and returns its path.
        outcome: ``"refused"`` (error as query, skipped in a corpus) or ``"read"``.
        reason: for ``refused``, a lowercase piece of the one-line reason.
        planted: for ``read``, a passage of the input that a query copying it must find.
    """

    name: str
    make: Maker
    outcome: str
    reason: str = ""
    planted: str = ""


def _writer(filename: str | bytes, data: Callable[[], bytes]) -> Maker:
    def make(folder: Path) -> Path:
        if isinstance(filename, bytes):
            raw = os.path.join(os.fsencode(folder), filename)
            with open(raw, "wb") as stream:
                stream.write(data())
            return Path(os.fsdecode(raw))
        path = folder / filename
        path.write_bytes(data())
        return path

    return make


def _random_bytes(seed: int, size: int, *, nul: bool) -> bytes:
    data = random.Random(seed).randbytes(size)
    return data if nul else data.replace(b"\x00", b"\x01")


def _damaged_utf8(text: str) -> bytes:
    """UTF-8 with an invalid byte standing between words after every 12th word."""
    pieces = text.split(" ")
    out = []
    for i, piece in enumerate(pieces):
        out.append(piece.encode("utf-8"))
        if i % 12 == 11:
            out.append(b"\xff")
    return b" ".join(out)


def _accented_prose() -> str:
    return "Café naïve déjà vu. " + prose(41, 120)


def _symlink_loop(folder: Path) -> Path:
    """``loop-a.txt`` -> ``loop-b.txt`` -> ``loop-a.txt``, and a folder link back up."""
    a, b = folder / "loop-a.txt", folder / "loop-b.txt"
    os.symlink("loop-b.txt", a)
    os.symlink("loop-a.txt", b)
    # Folder links back to the folder and to its parent: a walk must not go round forever.
    (folder / "sub").mkdir()
    os.symlink("..", folder / "sub" / "up")
    os.symlink(".", folder / "again")
    return a


def _fifo(folder: Path) -> Path:
    """A named pipe called fifo.txt: opening it for reading would block forever."""
    path = folder / "fifo.txt"
    os.mkfifo(path)
    return path


def _endless(folder: Path) -> Path:
    """endless.txt, a link to /dev/zero: a file that never ends."""
    path = folder / "endless.txt"
    os.symlink("/dev/zero", path)
    return path


def _broken_link(folder: Path) -> Path:
    path = folder / "dangling.txt"
    os.symlink("does-not-exist.txt", path)
    return path


def _script_file(name: str, seed: int) -> bytes:
    return (script_text(name) + "\n" + prose(seed, 40)).encode()


def _text(seed: int) -> Callable[[], bytes]:
    return lambda: prose(seed, 150).encode()


# The hostile cases, in the order the bench reports them.  ``planted`` passages are the
# whole text (read cases): a query made of a sentence of it must find it.
CASES: tuple[Hostile, ...] = (
    Hostile(
        "binary-with-nul",
        _writer("binary.txt", lambda: _random_bytes(1, 65536, nul=True)),
        "refused",
        "binary file",
    ),
    Hostile(
        "binary-no-nul",
        _writer("noise.md", lambda: _random_bytes(2, 65536, nul=False)),
        "refused",
        "binary file",
    ),
    Hostile(
        "binary-as-html",
        _writer("noise.html", lambda: _random_bytes(3, 65536, nul=True)),
        "refused",
        "binary file",
    ),
    Hostile(
        "invalid-utf8",
        _writer("damaged.txt", lambda: _damaged_utf8(_accented_prose())),
        "read",
        planted=prose(41, 120),
    ),
    Hostile(
        "latin1",
        _writer("latin1.txt", lambda: _accented_prose().encode("latin-1")),
        "read",
        planted=prose(41, 120),
    ),
    Hostile(
        "utf16le-no-bom",
        _writer("utf16le.txt", lambda: prose(42, 120).encode("utf-16-le")),
        "read",
        planted=prose(42, 120),
    ),
    Hostile(
        "utf16be-no-bom",
        _writer("utf16be.txt", lambda: prose(43, 120).encode("utf-16-be")),
        "read",
        planted=prose(43, 120),
    ),
    Hostile("empty", _writer("empty.txt", lambda: b""), "refused", "empty file"),
    Hostile(
        "whitespace-only",
        _writer("blank.md", lambda: b" \n\t\r\n   \xe3\x80\x80\n\xef\xbb\xbf \xe2\x80\x8b\n"),
        "refused",
        "empty document",
    ),
    # Past libxml2's 2,048 levels: the text cannot be reached, and the refusal must say why.
    Hostile("deep-html", _writer("deep.html", lambda: html_deep(100_000)), "refused", "nested"),
    Hostile(
        "html-no-text",
        _writer("notext.html", lambda: b"<html><body>" + b"<div></div>" * 1000 + b"</body></html>"),
        "refused",
        "no text",
    ),
    Hostile("pdf-malformed", _writer("malformed.pdf", pdf_malformed), "refused", "not a valid pdf"),
    Hostile(
        "pdf-truncated",
        _writer("truncated.pdf", lambda: pdf_truncated(prose(51, 300))),
        "refused",
        "pdf",
    ),
    Hostile("pdf-xref-loop", _writer("xrefloop.pdf", pdf_xref_loop), "read", planted=prose(5, 40)),
    Hostile(
        "pdf-encrypted",
        _writer("encrypted.pdf", lambda: pdf_encrypted(prose(52, 100))),
        "refused",
        "encrypted pdf",
    ),
    Hostile("pdf-image-only", _writer("scan.pdf", pdf_image_only), "refused", "no text layer"),
    # "not a valid .docx: ..." or "could not parse .docx: ..." (a zlib error), both clear.
    Hostile("docx-corrupt", _writer("corrupt.docx", docx_corrupt), "refused", ".docx: "),
    Hostile("docx-not-a-zip", _writer("text.docx", docx_not_a_zip), "refused", "not a valid .docx"),
    Hostile("docx-zip-bomb", _writer("bomb.docx", docx_zip_bomb), "refused", "zip bomb"),
    Hostile(
        "docx-lying-bomb", _writer("liar.docx", docx_lying_bomb), "refused", "not a valid .docx"
    ),
    Hostile(
        "docx-billion-laughs", _writer("laughs.docx", docx_billion_laughs), "refused", "entities"
    ),
    Hostile(
        "docx-external-entity", _writer("xxe.docx", docx_external_entity), "refused", "entities"
    ),
    Hostile("symlink-loop", _symlink_loop, "refused", "symbolic links"),
    Hostile("broken-link", _broken_link, "refused", "broken symbolic link"),
    Hostile("fifo", _fifo, "refused", "not a regular file"),
    Hostile("endless-dev-zero", _endless, "refused", "not a regular file"),
    Hostile(
        "unsupported-type",
        _writer("old.doc", lambda: b"\xd0\xcf\x11\xe0" + bytes(600)),
        "refused",
        "unsupported file type .doc",
    ),
    Hostile(
        "non-utf8-name", _writer(b"caf\xe9-\xff.txt", _text(61)), "read", planted=prose(61, 150)
    ),
    *(
        Hostile(
            f"script-{name}",
            _writer(f"{name}.txt", functools.partial(_script_file, name, 70 + i)),
            "read",
            planted=script_text(name),
        )
        for i, name in enumerate(SCRIPTS)
    ),
)
CASES_BY_NAME = {case.name: case for case in CASES}


def write_huge_line(path: Path, size: int = 50 * 10**6, seed: int = 90) -> str:
    """Write a ``size``-byte text file with no newline at all; return a passage of it.

    Words come from a vocabulary of 5,000 made-up words, so the text is varied like a real
    one (a single repeated word would be an easy case for a matcher).
    """
    rng = random.Random(seed)
    written = 0
    passage = ""
    with open(path, "wb") as stream:
        while written < size:
            # Fresh words all along: a repeated block would plant the passage many times.
            block = (" ".join(rng.choices(VOCABULARY, k=100_000)) + " ").encode()
            if not passage and written > size // 3:
                passage = " ".join(block.decode().split()[1000:1040])
            piece = block[: size - written]
            stream.write(piece)
            written += len(piece)
    return passage


def write_many_files(folder: Path, count: int = 100_000) -> None:
    """``count`` tiny text files in one folder, ``note-000000.txt`` on, fast (``os.write``).

    Each holds a sentence of 14 words of its own (:func:`note_text`), so one can be found.
    """
    folder.mkdir(parents=True, exist_ok=True)
    base = os.fsencode(folder)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    for i in range(count):
        fd = os.open(os.path.join(base, b"note-%06d.txt" % i), flags, 0o644)
        try:
            os.write(fd, note_text(i).encode())
        finally:
            os.close(fd)


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary folder, on tmpfs (/dev/shm) when there is one, removed afterwards.

    Removing 100,000 files from a disk mounted with ``discard`` takes minutes (each unlink
    waits for the device); from tmpfs it takes a second.  Pytest's ``tmp_path`` is kept
    and removed by a later session, which would then pay that cost.
    """
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def note_text(i: int) -> str:
    """The text of ``note-{i:06d}.txt`` written by :func:`write_many_files`."""
    return f"Note {i}: " + " ".join(words(1_000_000 + i, 14)) + ".\n"


def jsonl_with_hostile_ids(path: Path) -> list[str]:
    """A JSON Lines corpus whose ids look like paths out of any output folder."""
    import json

    ids = [
        "../../etc/passwd",
        "/abs/x",
        "a/../../b",
        "..",
        "~/.bashrc",
        "C:\\Windows\\win.ini",
        "x\x00y",
        "<script>alert(1)</script>",
    ]
    with open(path, "w", encoding="utf-8") as stream:
        stream.writelines(
            json.dumps({"id": doc_id, "text": prose(100 + i, 80)}) + "\n"
            for i, doc_id in enumerate(ids)
        )
    return ids


# ----------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Run:
    """What one CLI subprocess did."""

    args: tuple[str, ...]
    code: int  # exit status; -N when killed by signal N; 124 when it ran past its deadline
    stdout: str  # decoded as UTF-8, bad bytes replaced
    stderr: str
    raw_stdout: bytes
    seconds: float
    peak_rss_mb: float  # the largest resident set of the process or a child it reaped
    timed_out: bool

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr + self.stdout

    @property
    def crashed(self) -> bool:
        """A traceback, a signal, or an exit status other than 0 (done) and 2 (bad input)."""
        return self.traceback or self.timed_out or self.code not in (0, 2)


Arg = str | bytes | os.PathLike[str]


def command(*args: Arg) -> list[str | bytes]:
    """The argv running the installed ``stemmatic`` entry point with this Python."""
    return [
        sys.executable,
        "-c",
        "from stemmatic.cli import main; main()",
        *(os.fspath(arg) for arg in args),
    ]


def run(
    args: Sequence[Arg],
    *,
    timeout: float = 60.0,
    cwd: str | os.PathLike[str] | None = None,
    prefix: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Run:
    """Run ``stemmatic ARGS`` in a subprocess with a deadline, measuring its peak memory.

    Args:
        args: the CLI arguments (bytes are passed as they are, for non-UTF-8 names).
        timeout: seconds before the process group is killed (``code`` 124).
        cwd: working directory.
        prefix: put in front of the Python command (e.g. ``setpriv ...``).
        env: extra environment variables.

    Returns:
        The run; ``peak_rss_mb`` comes from ``wait4`` and covers the worker processes the
        CLI started and reaped.
    """
    argv = [*prefix, *command(*args)]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **(env or {})}
    environment.pop("STEMMATIC_DEBUG", None)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=environment,
            start_new_session=True,
        )
        deadline = started + timeout
        timed_out = False
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                timed_out = True
                os.killpg(process.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        process.returncode = os.waitstatus_to_exitcode(status)  # keeps Popen from waiting
        seconds = time.monotonic() - started
        try:  # whatever the CLI left running in its group (it should be nothing)
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out.seek(0)
        err.seek(0)
        raw = out.read()
        code = 124 if timed_out else process.returncode
        return Run(
            args=tuple(os.fsdecode(a) for a in args),
            code=code,
            stdout=raw.decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            raw_stdout=raw,
            seconds=seconds,
            peak_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
            timed_out=timed_out,
        )


def drop_file_access() -> list[str]:
    """A command prefix under which root obeys file permissions, or [] when not needed.

    Root reads a ``chmod 000`` file through CAP_DAC_OVERRIDE; removing that capability
    (and CAP_DAC_READ_SEARCH) from the bounding set makes the child process an ordinary
    reader of the file's mode bits while it keeps root's uid, so it can still import
    Python from root's home.
    """
    if os.geteuid() != 0:
        return []
    import shutil

    tool = shutil.which("setpriv")
    if tool is None:
        raise FileNotFoundError("setpriv is needed to drop root's file access")
    return [tool, "--bounding-set=-dac_override,-dac_read_search"]


# ----------------------------------------------------------------------------- index add

# Runs the real CLI entry point.  With a batch size other than 0 it also makes transactions
# that small and prints "committed<TAB>id" for each document from the progress callback,
# which DuckIndex.add calls only once the transaction holding the document has committed.
# STEMMATIC_TEST_PAUSE slows the writer down after each commit (to test concurrent access).
ADD_DRIVER = """
import os, sys, time
import stemmatic.index.duck as duck
batch = int(sys.argv.pop(1))
pause = float(os.environ.get("STEMMATIC_TEST_PAUSE", "0"))
if batch:
    duck.BATCH_DOCS = batch
    original = duck.DuckIndex.add
    def add(self, documents, *, progress=None):
        def committed(doc, status):
            sys.stdout.write("committed\\t" + doc.id + "\\n")
            sys.stdout.flush()
            if pause:
                time.sleep(pause)
            if progress is not None:
                progress(doc, status)
        return original(self, documents, progress=committed)
    duck.DuckIndex.add = add
from stemmatic.cli import main
main()
"""


def start_add(
    index: Path,
    docs: Path,
    out: Path,
    batch: int,
    pause: float = 0.0,
    options: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """Start ``stemmatic index add INDEX DOCS [OPTIONS]`` through :data:`ADD_DRIVER`.

    Its standard output and error go to ``out``.
    """
    env = {**os.environ, "STEMMATIC_TEST_PAUSE": str(pause)}
    argv = [sys.executable, "-c", ADD_DRIVER, str(batch), "index", "add", str(index), str(docs)]
    with open(out, "wb") as stream:
        return subprocess.Popen([*argv, *options], stdout=stream, stderr=subprocess.STDOUT, env=env)


_HOLDER = """
import sys
from stemmatic.index import DuckIndex
from stemmatic.settings import Settings
index = DuckIndex.open(sys.argv[1], Settings(), read_only=sys.argv[2] == "read", wait=60)
index.count()
print("holding", flush=True)
sys.stdin.read()
index.close()
"""


@contextmanager
def holding(index: Path, mode: str) -> Iterator[subprocess.Popen[str]]:
    """A process holding ``index`` open (``read`` or ``write``) until the block ends."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(index), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = read_line(child.stdout, 60)
        assert line == "holding\n", line
        yield child
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def read_line(stream: IO[str], timeout: float) -> str:
    """The next line of a pipe, or "" when none comes within ``timeout`` seconds."""
    import select

    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else ""


def timed_add(index: Path, docs: Path, out: Path, batch: int) -> tuple[float, float]:
    """Run a whole ``index add``; return its duration and when its first commit was reported.

    Kill delays are drawn from these, so that most kills land while transactions commit
    rather than while Python starts.
    """
    started = time.monotonic()
    process = start_add(index, docs, out, batch)
    first = 0.0
    while process.poll() is None:
        if not first and reported_ids(out):
            first = time.monotonic() - started
        time.sleep(0.01)
    if process.returncode != 0:
        raise RuntimeError(f"index add failed: {out.read_text(errors='replace')}")
    span = time.monotonic() - started
    return span, first or span


def kill_add(
    process: subprocess.Popen[bytes], out: Path, *, after_commits: int | None, delay: float
) -> bool:
    """SIGKILL a running ``index add``; return whether the kill came before it finished.

    With ``after_commits``, wait until that many documents were reported committed (or the
    process ended), then ``delay`` seconds; without, just ``delay`` seconds.  Waiting for
    reports, not for a time measured earlier, keeps the kills inside the writes however
    busy the machine is.
    """
    if after_commits is not None:
        while process.poll() is None and len(reported_ids(out)) < after_commits:
            time.sleep(0.005)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return process.returncode == -signal.SIGKILL


def reported_ids(out: Path) -> list[str]:
    """Ids the killed run printed as committed (a line cut short by the kill is ignored)."""
    text = out.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")[:-1]  # the last piece has no newline yet: possibly cut
    return [line.split("\t", 1)[1] for line in lines if line.startswith("committed\t")]


def stored_documents(index: Path) -> dict[str, tuple[str, int, int, int]] | None:
    """Per stored id: text, fingerprint count and sums, read with plain SQL.

    None when the kill came before the index's schema was committed (no file, or an empty
    DuckDB database).  Also checks that no fingerprint belongs to a document not stored.
    """
    import duckdb

    if not index.exists():
        return None
    con = duckdb.connect(str(index), read_only=True)
    try:
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
        if not tables:
            return None
        assert tables >= {"meta", "documents", "fingerprints"}, tables
        orphans = con.execute(
            "SELECT count(*) FROM fingerprints WHERE doc NOT IN (SELECT key FROM documents)"
        ).fetchone()
        assert orphans == (0,), f"{orphans[0] if orphans else '?'} fingerprints of no document"
        keys = con.execute("SELECT count(*), count(DISTINCT key) FROM documents").fetchone()
        assert keys is not None and keys[0] == keys[1], "two documents share a key"
        rows = con.execute(
            """SELECT d.id, d.text, count(f.hash), coalesce(sum(f.hash::HUGEINT), 0),
                      coalesce(sum(f.first_token), 0)
               FROM documents AS d LEFT JOIN fingerprints AS f ON f.doc = d.key
               GROUP BY d.id, d.text"""
        ).fetchall()
    finally:
        con.close()
    return {row[0]: (row[1], int(row[2]), int(row[3]), int(row[4])) for row in rows}


def fingerprint_summary(text: str) -> tuple[int, int, int]:
    """What a whole stored document must hold: fingerprint count, sum of hashes, sum of
    first-token positions (as :func:`stored_documents` reads them back)."""
    from stemmatic.index.store import document_fingerprints
    from stemmatic.settings import Settings

    prints = document_fingerprints(text, Settings())
    return len(prints), sum(int(h) for h in prints.hashes), sum(int(f) for f in prints.first)
