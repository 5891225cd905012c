"""Tests of the ingest stage: every fixture is written into tmp_path by the test itself."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import time
import zipfile
from pathlib import Path

import pytest

from stemmatic.errors import InputError
from stemmatic.ingest import collect, load, load_text, records, worker
from stemmatic.ingest import docx as docx_format
from stemmatic.ingest.pdf import join_hyphenated
from stemmatic.ingest.text import guess_title
from stemmatic.settings import Settings
from stemmatic.types import Document, Skipped

IN_PROCESS = Settings(timeout=0)


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


# --- plain text ---------------------------------------------------------------------------


def test_utf8_text_is_kept_exactly(tmp_path: Path) -> None:
    content = "A Title\r\n\r\nFirst line\u00a0with no-break space.  \r\nLast line\tends\n\n"
    doc = load(write(tmp_path / "a.txt", content))
    assert doc.text == content
    assert doc.encoding == "utf-8"
    assert doc.warnings == ()
    assert (doc.id, doc.path, doc.format) == ("a.txt", str(tmp_path / "a.txt"), "txt")


def test_utf8_byte_order_mark_is_kept(tmp_path: Path) -> None:
    doc = load(write(tmp_path / "bom.txt", b"\xef\xbb\xbfHello world\n"))
    assert doc.text == "\ufeffHello world\n"
    assert doc.title == "Hello world"


def test_cp1252_fallback_warns(tmp_path: Path) -> None:
    content = "Caf\u00e9 cr\u00e8me \u201cquoted\u201d \u2014 na\u00efve.\n"
    doc = load(write(tmp_path / "legacy.txt", content.encode("cp1252")))
    assert doc.text == content
    assert doc.encoding == "cp1252"
    assert any("cp1252" in warning for warning in doc.warnings)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(tmp_path: Path, codec: str) -> None:
    content = "\ufeffZw\u00f6lf Boxk\u00e4mpfer jagen Viktor.\r\nSecond line.\n"
    doc = load(write(tmp_path / "wide.txt", content.encode(codec)))
    assert doc.text == content
    assert doc.encoding == codec


def test_utf16_without_bom_is_recognised() -> None:
    text, encoding, warnings = load_text("Plain words, no mark.\n".encode("utf-16-le"), "w.txt")
    assert (text, encoding) == ("Plain words, no mark.\n", "utf-16-le")
    assert warnings == ["no byte-order mark: decoded as UTF-16-LE"]


def test_invalid_bytes_in_utf8_do_not_crash(tmp_path: Path) -> None:
    data = (
        "na\u00efve caf\u00e9 r\u00e9sum\u00e9 ".encode()
        + b"\xff\xfe broken "
        + "d\u00e9j\u00e0".encode()
    )
    doc = load(write(tmp_path / "damaged.txt", data))
    assert doc.text.startswith("na\u00efve caf\u00e9 r\u00e9sum\u00e9 ")
    assert doc.text.endswith("d\u00e9j\u00e0")
    assert "\ufffd" in doc.text
    assert any("U+FFFD" in warning for warning in doc.warnings)


def test_load_text_returns_text_encoding_and_warnings() -> None:
    assert load_text(b"plain\r\n", "x.txt") == ("plain\r\n", "utf-8", [])


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20,
        bytes(range(1, 9)) * 200,  # control characters but no NUL byte
    ],
)
def test_binary_file_is_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(InputError, match="binary file"):
        load(write(tmp_path / "image.txt", data))


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n  ", b"\xef\xbb\xbf\n"])
def test_empty_and_blank_documents_are_refused(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(InputError, match="empty"):
        load(write(tmp_path / "empty.txt", content))


def test_missing_path_folder_and_unsupported_type(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file") as missing:
        load(tmp_path / "nope.txt")
    assert missing.value.path == str(tmp_path / "nope.txt")
    with pytest.raises(InputError, match="is a folder"):
        load(tmp_path)
    with pytest.raises(InputError, match=r"unsupported file type \.xyz"):
        load(write(tmp_path / "data.xyz", "some text"))


def test_max_bytes_refuses_large_file(tmp_path: Path) -> None:
    path = write(tmp_path / "big.txt", "word " * 100)
    with pytest.raises(InputError, match="too large"):
        load(path, Settings(max_bytes=100))
    assert load(path, Settings(max_bytes=0)).text == "word " * 100


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root, who reads any file, so the refusal is simulated.
    path = write(tmp_path / "secret.txt", "hidden words")
    real_open = open

    def deny(file: object, *args: object, **kwargs: object) -> object:
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(InputError, match="permission denied"):
        load(path)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("\n\n  The Salt Roads of Europe  \nBody text.", "The Salt Roads of Europe"),
        ("Chapter 1: Beginnings\nBody", "Chapter 1: Beginnings"),
        ("This first line is a sentence.\nMore.", None),
        ("Dear reader,\nHello", None),
        ("all lowercase words here\nBody", None),
        ("A line that goes on and on with far too many words to be the title of anything\n", None),
        ("----------\nBody", None),
        ("", None),
    ],
)
def test_title_heuristic(text: str, title: str | None) -> None:
    assert guess_title(text) == title


def test_markdown_heading_and_front_matter(tmp_path: Path) -> None:
    doc = load(write(tmp_path / "post.md", "# The *Real* Title\n\nbody text here\n"))
    assert doc.title == "The *Real* Title"
    assert doc.text == "# The *Real* Title\n\nbody text here\n"
    assert doc.format == "md"
    content = (
        '---\ntitle: "Front Title"\nauthor: Ann Author\ndate: 2020-05-01\n---\n# Other\n\nbody\n'
    )
    doc = load(write(tmp_path / "front.md", content))
    assert (doc.title, doc.author, doc.date) == ("Front Title", "Ann Author", "2020-05-01")
    assert doc.text == content
    start, end = doc.excluded[0]
    assert start == 0 and doc.text[end:].startswith("# Other")


# --- HTML -----------------------------------------------------------------------------------

ARTICLE = [
    (
        "Salt was among the most valuable commodities of the medieval economy, and the routes along "
        "which it travelled shaped the growth of towns across central Europe for centuries."
    ),
    (
        "The old salt road from L\u00fcneburg to L\u00fcbeck carried thousands of tonnes every year, "
        "and the wealth it generated paid for churches, harbours and defensive walls."
    ),
    (
        "Historians have argued that control of these routes explains the rise of the Hanseatic "
        "League more convincingly than any single political alliance or military victory."
    ),
    (
        "Merchants who moved salt inland paid tolls at every bridge and ford, which is why so many "
        "river crossings became market towns with their own charters and courts."
    ),
]
PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>The Salt Roads of Medieval Europe | History Weekly</title>
<meta name="author" content="Jane Smith">
<meta property="article:published_time" content="2021-03-14">
</head><body>
<header><nav class="menu"><ul>
<li><a href="/">Home</a></li><li><a href="/politics">Politics Section</a></li>
<li><a href="/subscribe">Subscribe now for full access</a></li></ul></nav></header>
<main><article><h1>The Salt Roads of Medieval Europe</h1>
{"".join(f"<p>{paragraph}</p>" for paragraph in ARTICLE)}
</article>
<section class="comments" id="comments"><h2>Comments</h2>
<div class="comment"><p class="comment-author">trollface99</p>
<p>Zebra marmalade is the real reason the league collapsed, wake up people.</p></div>
<div class="comment"><p class="comment-author">reader42</p>
<p>Fascinating quibbling about toll bridges and xylophone orchestras in Bremen.</p></div>
</section></main>
<footer><p>Copyright 2021 History Weekly. All rights reserved.</p>
<nav><a href="/terms">Terms of service</a></nav></footer>
</body></html>"""


def test_html_main_text_without_navigation_footer_or_comments(tmp_path: Path) -> None:
    doc = load(write(tmp_path / "page.html", PAGE))
    for paragraph in ARTICLE:
        assert paragraph in doc.text
    for boilerplate in (
        "Subscribe now",
        "Politics Section",
        "Zebra marmalade",
        "xylophone",
        "trollface99",
        "All rights reserved",
        "Terms of service",
    ):
        assert boilerplate not in doc.text
    assert doc.title == "The Salt Roads of Medieval Europe"
    assert (doc.author, doc.date, doc.format) == ("Jane Smith", "2021-03-14", "html")


def test_html_declared_legacy_charset(tmp_path: Path) -> None:
    page = PAGE.replace('<meta charset="utf-8">', '<meta charset="windows-1252">')
    page = page.replace("L\u00fcbeck", "L\u00fcbeck \u201cthe queen\u201d")
    doc = load(write(tmp_path / "legacy.html", page.encode("cp1252")), IN_PROCESS)
    assert "L\u00fcbeck \u201cthe queen\u201d" in doc.text
    assert doc.encoding == "cp1252"


def test_deeply_nested_html_does_not_crash(tmp_path: Path) -> None:
    depth = 100_000
    page = f"<html><body>{'<div>' * depth}<p>Deep words.</p>{'</div>' * depth}</body></html>"
    path = write(tmp_path / "deep.html", page)
    try:
        doc = load(path)
    except InputError as exc:
        assert exc.path == str(path)
    else:
        assert "Deep words." in doc.text


def test_html_fallback_to_visible_text(tmp_path: Path) -> None:
    page = "<html><body>" + "<div>" * 400 + "<p>Words at depth.</p>" + "</div>" * 400
    doc = load(write(tmp_path / "nested.html", page + "</body></html>"))
    assert "Words at depth." in doc.text
    assert any("all visible text" in warning for warning in doc.warnings)


def test_html_without_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no text"):
        load(
            write(tmp_path / "blank.html", "<html><body><script>var x = 1;</script></body></html>")
        )


# --- PDF ------------------------------------------------------------------------------------


def make_pdf(pages: list[list[str]], info: dict[str, str] | None = None) -> bytes:
    """A minimal valid PDF: Helvetica text drawn line by line with ``Tj``."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        (
            "<< /Type /Pages /Kids ["
            + " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
            + f"] /Count {len(pages)} >>"
        ).encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("cp1252") if lines else b""
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    if info:
        objects.append(("<< " + " ".join(f"/{k} ({v})" for k, v in info.items()) + " >>").encode())
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R"
    if info:
        trailer += f" /Info {len(objects)} 0 R"
    out += (trailer + " >>\n").encode() + b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


PDF_PAGES = [
    [
        "The transmission of informa-",
        "tion along well-known trade routes was slow.",
        "Anglo-",
        "Saxon charters survive in copies.",
    ],
    ["A second page of text."],
]


def test_pdf_text_hyphenation_and_metadata(tmp_path: Path) -> None:
    info = {"Title": "Salt Roads", "Author": "Ann Author", "CreationDate": "D:20200102030405Z"}
    doc = load(write(tmp_path / "paper.pdf", make_pdf(PDF_PAGES, info)))
    assert "transmission of information along well-known trade routes" in doc.text
    assert "informa-" not in doc.text
    assert "Anglo-\nSaxon" in doc.text
    assert doc.text.endswith("copies.\n\nA second page of text.")
    assert (doc.title, doc.author, doc.date, doc.format) == (
        "Salt Roads",
        "Ann Author",
        "2020-01-02",
        "pdf",
    )


def test_join_hyphenated() -> None:
    assert join_hyphenated("infor-\nmation and self-\n  evident") == "information and selfevident"
    assert join_hyphenated("well-known x-\nRay COVID-\n19") == "well-known x-\nRay COVID-\n19"
    assert join_hyphenated("soft\u00ad\nHyphen") == "softHyphen"


def test_corrupt_pdf(tmp_path: Path) -> None:
    data = make_pdf(PDF_PAGES)
    with pytest.raises(InputError, match="not a valid PDF"):
        load(write(tmp_path / "cut.pdf", data[: len(data) // 3]))
    with pytest.raises(InputError, match="not a valid PDF"):
        load(write(tmp_path / "junk.pdf", b"%PDF-1.4\nthis is not a pdf at all\n"))


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no text layer"):
        load(write(tmp_path / "scan.pdf", make_pdf([[]])))


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    def encrypted(user_password: str) -> bytes:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(PDF_PAGES))))
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    with pytest.raises(InputError, match="encrypted PDF"):
        load(write(tmp_path / "locked.pdf", encrypted("secret")))
    # Encrypted only against editing: the empty password opens it.
    assert "second page" in load(write(tmp_path / "open.pdf", encrypted(""))).text


# --- DOCX -----------------------------------------------------------------------------------


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("The Salt Roads")
    document.add_paragraph("Salt was among the most valuable commodities.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Town"
    table.cell(0, 1).text = "Tolls"
    table.cell(1, 0).merge(table.cell(1, 1)).text = "merged cell"
    document.core_properties.title = "Salt Roads"
    document.core_properties.author = "Ann Author"
    document.core_properties.created = dt.datetime(2019, 5, 6, 7, 8, 9)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The same zip with some members replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            if item.filename not in replace:
                target.writestr(item, source.read(item))
        for name, content in replace.items():
            target.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def test_docx_paragraphs_tables_and_properties(tmp_path: Path) -> None:
    doc = load(write(tmp_path / "essay.docx", make_docx()))
    assert doc.text == (
        "The Salt Roads\nSalt was among the most valuable commodities.\nTown\tTolls\nmerged cell"
    )
    assert (doc.title, doc.author, doc.date, doc.format) == (
        "Salt Roads",
        "Ann Author",
        "2019-05-06",
        "docx",
    )


def test_corrupt_docx(tmp_path: Path) -> None:
    data = make_docx()
    with pytest.raises(InputError, match=r"not a valid \.docx"):
        load(write(tmp_path / "cut.docx", data[: len(data) // 2]))
    with pytest.raises(InputError, match=r"not a valid \.docx"):
        load(write(tmp_path / "text.docx", b"just some text, not a zip"))


def test_docx_zip_bomb_by_ratio(tmp_path: Path) -> None:
    # 20 MB of zeros deflate to about 20 kB: far beyond any real document's ratio.
    bomb = rezip(make_docx(), {"word/media/padding.bin": bytes(20 * 2**20)})
    assert len(bomb) < 200_000
    with pytest.raises(InputError, match=r"refused: \.docx expands to 20 MB \(zip bomb\?\)"):
        load(write(tmp_path / "bomb.docx", bomb))


def test_docx_zip_bomb_by_total_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The limit is a module constant; it is lowered here and read in this process.
    monkeypatch.setattr(docx_format, "MAX_UNCOMPRESSED", 2**20)
    big = rezip(make_docx(), {"word/media/big.bin": os.urandom(2 * 2**20)})
    with pytest.raises(InputError, match="zip bomb"):
        load(write(tmp_path / "big.docx", big), IN_PROCESS)


def test_docx_with_entity_declarations_is_refused(tmp_path: Path) -> None:
    data = make_docx()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        body = archive.read("word/document.xml").decode("utf-8")
    laughs = (
        '<!DOCTYPE w:document [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    declaration_end = body.index("?>") + 2
    hostile = body[:declaration_end] + laughs + body[declaration_end:]
    hostile = hostile.replace("Salt was among", "&lol2; Salt was among")
    path = write(tmp_path / "laughs.docx", rezip(data, {"word/document.xml": hostile.encode()}))
    with pytest.raises(InputError, match="DTD"):
        load(path)
    # The same check in UTF-16, where a byte search for "<!DOCTYPE" would find nothing.
    assert "encoding='UTF-8'" in hostile
    wide = hostile.replace("encoding='UTF-8'", "encoding='UTF-16'").encode("utf-16")
    path = write(tmp_path / "wide.docx", rezip(data, {"word/document.xml": wide}))
    with pytest.raises(InputError, match="DTD"):
        load(path)


# --- JSONL and Parquet ----------------------------------------------------------------------


def test_jsonl_records(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": "First text.", "title": "A", "author": "X", "year": 1}),
        "",
        "{not json",
        json.dumps({"id": "b", "title": "no text here"}),
        json.dumps({"id": "a", "text": "Duplicate id."}),
        json.dumps({"id": 7, "text": "Numeric id.", "date": "2001-02-03"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"text": "No id."}),
    ]
    data = "\n".join(lines).encode() + b'\n{"id": "c", "text": "caf\xe9"}\n'
    path = write(tmp_path / "corpus.jsonl", data)
    docs, skipped = collect([path])
    assert [(d.id, d.text, d.format) for d in docs] == [
        ("a", "First text.", "jsonl"),
        ("7", "Numeric id.", "jsonl"),
    ]
    assert (docs[0].title, docs[0].author, docs[1].date) == ("A", "X", "2001-02-03")
    reasons = {s.path.rsplit("#", 1)[1]: s.reason for s in skipped}
    assert reasons.keys() == {"line 3", "line 4", "line 5", "line 7", "line 8", "line 9"}
    assert reasons["line 3"].startswith("bad JSON")
    assert reasons["line 4"] == "record has no text"
    assert reasons["line 5"] == "duplicate id 'a'"
    assert reasons["line 7"] == "not a JSON object"
    assert reasons["line 8"].startswith("record has no id")
    assert reasons["line 9"] == "not valid UTF-8"
    assert all(s.path.startswith(f"{path}#line ") for s in skipped)


def test_load_refuses_corpus_files(tmp_path: Path) -> None:
    path = write(tmp_path / "corpus.jsonl", json.dumps({"id": "a", "text": "t"}))
    with pytest.raises(InputError, match="collect"):
        load(path)


def test_parquet_records_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    monkeypatch.setattr(records, "_BATCH_ROWS", 2)
    table = pa.table(
        {
            "id": ["p1", "p2", "p3", "p1", "p5"],
            "text": ["one", "two", None, "dup", "five"],
            "title": ["T1", None, None, None, "T5"],
            "extra": [1, 2, 3, 4, 5],
        }
    )
    path = tmp_path / "corpus.parquet"
    pq.write_table(table, path)
    docs, skipped = collect([path])
    assert [(d.id, d.text, d.title, d.format) for d in docs] == [
        ("p1", "one", "T1", "parquet"),
        ("p2", "two", None, "parquet"),
        ("p5", "five", "T5", "parquet"),
    ]
    assert skipped == [
        Skipped(f"{path}#id=p3", "record has no text"),
        Skipped(f"{path}#id=p1", "duplicate id 'p1'"),
    ]


def test_parquet_without_text_column_and_corrupt(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "wrong.parquet"
    pq.write_table(pa.table({"id": ["x"], "body": ["words"]}), path)
    bad = write(tmp_path / "bad.parquet", b"PAR1 this is not parquet PAR1")
    docs, skipped = collect([path, bad])
    assert docs == []
    reasons = {item.path: item.reason for item in skipped}
    assert reasons[str(path)] == "Parquet file has no 'text' column"
    assert "not a valid Parquet file" in reasons[str(bad)]


# --- collect --------------------------------------------------------------------------------


def make_corpus(root: Path) -> Path:
    write(root / "smith-2004.txt", "Smith on Salt\n\nSalt moved along rivers.\n")
    write(root / "b" / "notes.md", "# Notes\n\nToll bridges everywhere.\n")
    write(root / "b" / "page.html", PAGE)
    write(root / "b" / "c" / "deep.txt", "Deep in the tree.\n")
    write(root / "broken.pdf", b"%PDF-1.4 nonsense")
    write(root / "picture.png", b"\x89PNG\r\n\x1a\n\x00")
    write(root / "table.xyz", "what is this")
    write(root / ".hidden.txt", "hidden words")
    write(root / ".git" / "notes.txt", "git internals")
    write(root / "corpus.jsonl", json.dumps({"id": "rec-1", "text": "A record."}) + "\n")
    return root


def test_collect_folder_with_mixed_files(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    calls: list[int] = []
    docs, skipped = collect([root], progress=calls.append)
    assert [d.id for d in docs] == [
        "b/c/deep.txt",
        "b/notes.md",
        "b/page.html",
        "rec-1",
        "smith-2004.txt",
    ]
    assert [d.format for d in docs] == ["txt", "md", "html", "jsonl", "txt"]
    assert docs[0].path == os.path.join(root, "b", "c", "deep.txt")
    assert docs[1].title == "Notes"
    assert [(Path(s.path).name, s.reason.split(":")[0]) for s in skipped] == [
        ("broken.pdf", "not a valid PDF"),
        ("table.xyz", "unsupported file type .xyz"),
    ]
    assert sum(calls) == len(docs) + len(skipped)


def test_collect_is_deterministic(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    first = collect([root], IN_PROCESS)
    second = collect([root], IN_PROCESS)
    assert first == second


def test_collect_missing_path_and_single_string(tmp_path: Path) -> None:
    path = write(tmp_path / "one.txt", "One Document\n\nbody")
    docs, skipped = collect([tmp_path / "missing", path])
    assert skipped == [Skipped(str(tmp_path / "missing"), "no such file or folder")]
    assert [d.id for d in docs] == ["one.txt"]
    docs, _ = collect(str(path))  # a lone path, not a sequence of one-letter paths
    assert [d.id for d in docs] == ["one.txt"]


def test_collect_symlink_loop_terminates(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write(root / "a.txt", "Alpha text\n")
    write(root / "sub" / "b.txt", "Beta text\n")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    (root / "sub" / "self").symlink_to(root / "sub", target_is_directory=True)
    (root / "dangling.txt").symlink_to(root / "nowhere.txt")
    started = time.monotonic()
    docs, skipped = collect([root])
    assert time.monotonic() - started < 10
    assert [d.id for d in docs] == ["a.txt", "sub/b.txt"]
    assert skipped == [Skipped(str(root / "dangling.txt"), "broken symbolic link")]


def test_collect_makes_ids_unique(tmp_path: Path) -> None:
    write(tmp_path / "one" / "x.txt", "First x\n")
    write(tmp_path / "two" / "x.txt", "Second x\n")
    write(tmp_path / "three" / "deep" / "x.txt", "Third x\n")
    docs, skipped = collect(
        [tmp_path / "one", tmp_path / "two", tmp_path / "three" / "deep" / "x.txt"]
    )
    assert skipped == []
    # Every file sharing a name gets its folder in front, whatever the argument order.
    assert sorted(d.id for d in docs) == ["deep/x.txt", "one/x.txt", "two/x.txt"]
    again, _ = collect(
        [tmp_path / "three" / "deep" / "x.txt", tmp_path / "two", tmp_path / "one"]
    )
    assert sorted((d.id, d.text) for d in again) == sorted((d.id, d.text) for d in docs)
    # The same file reached twice is read once.
    docs, skipped = collect([tmp_path / "one", tmp_path / "one" / "x.txt"])
    assert [d.id for d in docs] == ["x.txt"]
    assert skipped[0].reason.startswith("same file as")


def test_records_and_files_share_the_id_space(tmp_path: Path) -> None:
    write(tmp_path / "corpus" / "a.txt", "A file\n")
    write(tmp_path / "extra.jsonl", json.dumps({"id": "a.txt", "text": "A record."}))
    docs, skipped = collect([tmp_path / "corpus", tmp_path / "extra.jsonl"])
    assert [d.id for d in docs] == ["a.txt"]
    assert skipped == [Skipped(f"{tmp_path / 'extra.jsonl'}#line 1", "duplicate id 'a.txt'")]


# --- time limit -----------------------------------------------------------------------------


def test_timeout_stops_a_slow_extraction(tmp_path: Path) -> None:
    paragraphs = "".join(
        f"<p>Paragraph {i} about salt roads, tolls and merchants on the rivers.</p>"
        for i in range(12000)
    )
    slow = write(
        tmp_path / "slow.html", f"<html><body><article>{paragraphs}</article></body></html>"
    )
    fast = write(tmp_path / "fast.html", PAGE)
    load(fast)  # the worker is started outside the measured call
    started = time.monotonic()
    with pytest.raises(InputError, match=r"extraction took longer than 0\.02 s"):
        load(slow, Settings(timeout=0.02))
    assert time.monotonic() - started < 5
    # The killed worker is replaced: the next document reads normally.
    assert ARTICLE[0] in load(fast).text
    # A limit a small page meets even on a busy machine, which the large page cannot.
    docs, skipped = collect([slow, fast], Settings(timeout=1.0))
    assert [d.id for d in docs] == ["fast.html"]
    assert skipped == [Skipped(str(slow), "extraction took longer than 1 s")]


def test_worker_killed_between_documents_is_restarted(tmp_path: Path) -> None:
    path = write(tmp_path / "page.html", PAGE)
    load(path)
    running = worker._pool.worker
    assert running is not None
    running.process.kill()
    running.process.wait()
    doc = load(path)
    assert ARTICLE[0] in doc.text
    assert worker._pool.worker is not running


def test_in_process_and_worker_agree(tmp_path: Path) -> None:
    path = write(tmp_path / "page.html", PAGE)
    assert load(path) == load(path, IN_PROCESS)
    assert isinstance(load(path), Document)


def test_without_a_worker_extraction_runs_here_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "page.html", PAGE)
    worker._pool.close()
    monkeypatch.setattr(worker.sys, "executable", str(tmp_path / "no-python"))
    doc = load(path)
    assert ARTICLE[0] in doc.text
    assert any("time limit not applied" in warning for warning in doc.warnings)
    assert worker._pool.worker is None
