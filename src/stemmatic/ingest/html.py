"""HTML: the main text of a page, without navigation, boilerplate or reader comments.

trafilatura does the extraction.  It gets the decoded HTML as a string and never a URL,
so nothing is fetched.  When it finds no main text, the visible text of the whole page is
used instead, with a warning.
"""

from __future__ import annotations

import codecs
import re

from stemmatic.errors import InputError
from stemmatic.ingest.text import Extracted, load_text

# Elements whose content is never visible text.
_INVISIBLE = frozenset({"script", "style", "noscript", "template", "head", "svg", "math"})
# Elements that start a new line in the plain-text fallback.
_BLOCKS = frozenset(
    (
        "address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 "
        "h3 h4 h5 h6 header hr li main nav ol p pre section table td th tr ul"
    ).split()
)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.-]+)""")


def extract(data: bytes, path: str) -> Extracted:
    """Extract the main text and metadata of an HTML page.

    Raises:
        InputError: the file is binary, the page cannot be parsed, or it has no text.
    """
    html, encoding, warnings = _decode(data, path)
    too_deep = _too_deep(html)
    text, title, author, date = _main_text(html)
    if not text.strip():
        text, title = _visible_text(html)
        if not text.strip():
            if too_deep:
                raise InputError(
                    f"HTML nested more than {_MAX_DEPTH} elements deep; the parser cannot "
                    "read text that deep"
                )
            raise InputError("no text in HTML page")
        warnings.append("no main text found: using all visible text of the page")
    if too_deep:
        warnings.append(
            f"part of the page is nested more than {_MAX_DEPTH} elements deep and was not read"
        )
    return Extracted(
        text=text,
        title=title,
        author=author,
        date=date,
        encoding=encoding,
        warnings=tuple(warnings),
    )


def _decode(data: bytes, path: str) -> tuple[str, str, list[str]]:
    """Decode like a browser: BOM, then UTF-8, then the page's declared charset, then cp1252."""
    declared = None
    if not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            declared = _declared_charset(data[:4096])
    if declared is None or b"\x00" in data:
        return load_text(data, path)
    return data.decode(declared, errors="replace"), declared, []


def _declared_charset(head: bytes) -> str | None:
    match = _CHARSET.search(head) or _XML_ENCODING.search(head)
    if match is None:
        return None
    try:
        name = codecs.lookup(match[1].decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    # A page that claims UTF-8 or UTF-16 but is not valid UTF-8 falls through to load_text.
    return None if name.startswith(("utf-8", "utf-16", "utf-32")) else name


# libxml2 stops building the tree at this depth, whatever its options.
_MAX_DEPTH = 2048


def _too_deep(html: str) -> bool:
    """Whether libxml2 gives up on part of the page for its nesting depth.

    It drops what lies deeper without raising, so its error log is the only sign.  Only
    a page with more tags than the limit can reach it, so most pages skip the extra parse.
    """
    if html.count("<") <= _MAX_DEPTH:
        return False
    import lxml.etree

    parser = lxml.etree.HTMLParser(huge_tree=True, recover=True)
    try:
        lxml.etree.fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    except (lxml.etree.LxmlError, ValueError):
        return False
    return any("depth" in entry.message.casefold() for entry in parser.error_log)


def _main_text(html: str) -> tuple[str, str | None, str | None, str | None]:
    try:
        import trafilatura
    except ImportError as exc:
        # trafilatura imports lxml.html.clean, which lxml 6 moved to lxml_html_clean.
        raise InputError(f"cannot read HTML: trafilatura does not import ({exc})") from exc

    try:
        result = trafilatura.bare_extraction(
            html,
            url=None,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            with_metadata=True,
            deduplicate=False,
        )
    except Exception:  # noqa: BLE001
        # trafilatura failing on odd markup (RecursionError on deep nesting included) is not
        # the file's fault: the non-recursive plain-text fallback still gets the page's words.
        return "", None, None, None
    if result is None or isinstance(result, dict):
        return "", None, None, None
    return (
        result.text or "",
        _clean(result.title),
        _clean(result.author),
        _clean(result.date),
    )


def _visible_text(html: str) -> tuple[str, str | None]:
    """All visible text of the page, one block element to a line.

    Walks the tree with ``iterwalk`` rather than recursion, so deep nesting cannot blow the
    stack; ``huge_tree`` lifts libxml2's depth limit that would silently drop deep text.
    """
    import lxml.etree
    import lxml.html

    parser = lxml.html.HTMLParser(huge_tree=True, remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except ValueError:
        # Unicode strings with an XML encoding declaration are refused; bytes are not.
        root = lxml.html.document_fromstring(html.encode("utf-8"), parser=parser)
    except lxml.etree.LxmlError as exc:
        raise InputError(f"could not parse HTML: {exc}") from exc
    title_el = root.find(".//title")
    title = _clean(title_el.text_content()) if title_el is not None else None
    body = root.find("body")
    if body is None:
        return "", title
    parts: list[str] = []
    hidden = 0
    for event, element in lxml.etree.iterwalk(body, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _INVISIBLE:
                hidden += 1
            elif not hidden:
                if tag in _BLOCKS:
                    parts.append("\n")
                parts.append(element.text or "")
        else:
            if tag in _INVISIBLE:
                hidden -= 1
            if not hidden:
                if tag in _BLOCKS:
                    parts.append("\n")
                if element is not body:
                    parts.append(element.tail or "")
    lines = (" ".join(line.split()) for line in "".join(parts).splitlines())
    return "\n".join(line for line in lines if line), title


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None
