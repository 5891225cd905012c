"""Plain values passed between the stages of the pipeline.

Every span is a half-open ``(start, end)`` pair of Python string indices (code points)
into the *original* extracted text of its document, so ``text[start:end]`` is always
exactly the words that are reported.  All types are frozen, slotted dataclasses holding
tuples, so :func:`dataclasses.asdict` turns them into JSON objects or Spark rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from typing import Any, TypeVar

SCHEMA_VERSION = 1


class Kind(StrEnum):
    """How a passage of the query was taken from its source."""

    QUOTATION = "quotation"
    COPY = "copy"
    PARAPHRASE = "paraphrase"


class Fidelity(StrEnum):
    """How faithful a quotation is to the source words."""

    EXACT = "exact"
    VARIANT = "variant"
    ALTERED = "altered"


class Attribution(StrEnum):
    """Whether a citation covering the passage points at the source it came from."""

    CITED = "cited"
    UNCITED = "uncited"
    MISCITED = "miscited"


class DiffType(StrEnum):
    """The kind of a word-level difference inside an aligned passage."""

    TYPOGRAPHY = "typography"
    CASE = "case"
    SPELLING = "spelling"
    WORD = "word"
    INSERTION = "insertion"
    OMISSION = "omission"
    EDITORIAL = "editorial"


class CitationStatus(StrEnum):
    RESOLVED = "resolved"
    NOT_IN_CORPUS = "not_in_corpus"


@dataclass(frozen=True, slots=True)
class Document:
    """A document's extracted text and what is known about it.

    ``text`` is the text every offset refers to.  For a plain-text file it is the file's
    decoded content, unchanged.  ``excluded`` lists spans of ``text`` that extraction
    marked as not part of the main text (navigation, comments) so alignment skips them.
    """

    id: str
    text: str
    path: str | None = None
    title: str | None = None
    author: str | None = None
    date: str | None = None
    format: str = "txt"
    encoding: str | None = None
    excluded: tuple[tuple[int, int], ...] = ()
    warnings: tuple[str, ...] = ()

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path,
            "title": self.title,
            "author": self.author,
            "date": self.date,
            "format": self.format,
            "length": len(self.text),
        }


@dataclass(frozen=True, slots=True)
class Difference:
    """One token-level change between the query's words and the source's words.

    ``query`` is empty for an omission, ``source`` is empty for an insertion.
    """

    query: str
    source: str
    type: DiffType
    query_start: int
    query_end: int
    source_start: int
    source_end: int


@dataclass(frozen=True, slots=True)
class Passage:
    """An aligned pair of spans: words of the query that came from a source."""

    query_start: int
    query_end: int
    source_id: str
    source_start: int
    source_end: int
    kind: Kind
    score: float
    differences: tuple[Difference, ...] = ()
    fidelity: Fidelity | None = None
    attribution: Attribution | None = None
    method: str = "ngram"


@dataclass(frozen=True, slots=True)
class Citation:
    """An in-text citation, footnote marker or reference-list entry."""

    start: int
    end: int
    text: str
    source_id: str | None
    status: CitationStatus
    style: str = "parenthetical"
    method: str | None = None


@dataclass(frozen=True, slots=True)
class Quotation:
    """A span of the query set off by quote marks or as a block quotation.

    ``start``/``end`` cover the quoted words without the marks.
    """

    start: int
    end: int
    open_mark: str
    close_mark: str
    block: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """Something wrong or notable that the report tells the user."""

    type: str
    start: int
    end: int
    message: str
    source_id: str | None = None
    source_start: int | None = None
    source_end: int | None = None
    evidence: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input that could not be read, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Report:
    """Everything :func:`stemmatic.trace` found for one query."""

    query: Document
    sources: tuple[Document, ...]
    passages: tuple[Passage, ...]
    citations: tuple[Citation, ...] = ()
    quotations: tuple[Quotation, ...] = ()
    findings: tuple[Finding, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    schema_version: int = SCHEMA_VERSION


_T = TypeVar("_T")


def slot_builder(cls: type[_T]) -> Callable[..., _T]:
    """A quicker constructor for a frozen, slotted dataclass: its fields in their order
    (with their defaults), set straight into the slots.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``,
    which takes about twice as long as setting the slot, and the checks build
    differences, citation marks, quotations, passages and findings by the hundred.  The
    object built is the one ``cls(...)`` builds: equal, hashable and frozen.  The
    function is generated, as ``dataclasses`` generates ``__init__``.
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    params = []
    for f in fields(cls):  # type: ignore[arg-type]
        namespace[f"_set_{f.name}"] = getattr(cls, f.name).__set__
        if f.default is not MISSING:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{f.name} has a default factory")
        else:
            params.append(f.name)
    body = "".join(f"    _set_{name}(obj, {name})\n" for name in names)
    exec(
        f"def build({', '.join(params)}):\n    obj = _new(_cls)\n{body}    return obj\n",
        namespace,
    )
    build: Callable[..., _T] = namespace["build"]
    build.__qualname__ = build.__name__ = f"build_{cls.__name__}"
    build.__doc__ = f"``{cls.__name__}(...)``, built by setting its slots (see slot_builder)."
    return build
