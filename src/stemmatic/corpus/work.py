"""The work both engines do, as pure functions on Arrow record batches.

Each stage of a corpus run is one function here, and both engines call the same ones:
the local engine inside a process pool, the Spark engine inside ``mapInArrow``.  So the two
engines can only differ in how they move rows around, never in what they compute.

Stages and their rows:

1. documents (:data:`DOCUMENT_SCHEMA`): one row per document, with an integer ``key``;
2. fingerprints (:data:`FINGERPRINT_SCHEMA`): the distinct winnowed n-gram hashes of each
   document (:func:`fingerprint_batch`);
3. candidate pairs (:data:`PAIRS_SQL`, the same SQL in DuckDB and Spark SQL): pairs of
   documents sharing at least :data:`MIN_SHARED` fingerprints that are each found in at
   most ``max_df`` documents, with the fingerprints they share;
4. aligned pairs (:data:`ALIGNED_SCHEMA`): each candidate pair aligned once with
   :func:`stemmatic.align.align` (:func:`align_batch`, :func:`align_shared`), one row per
   pair that shares passages, the passages nested in it.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import pyarrow as pa
from wordfreq import zipf_frequency

from stemmatic.align import align, prepare
from stemmatic.corpus.candidates import candidate_fingerprints
from stemmatic.fingerprint import fingerprint
from stemmatic.settings import Settings
from stemmatic.types import Document, Passage, Skipped

# The version of the stage tables below: a stage kept from a run with another version
# is not reused (2: fingerprints from corpus.candidates, pairs with their shared hashes).
FORMAT = 2

# Pairs sharing fewer distinct fingerprints are not aligned.  Winnowing keeps about
# 2 / (WINDOW + 1) of a text's n-grams, so a copied passage of 50 words (about 25 content
# words) shares about 9 of them; one shared fingerprint alone is mostly a common phrase.
MIN_SHARED = 2

# A word this rare in English (wordfreq's Zipf scale: 1.5 is about once in 30 million
# words) found on both sides of a passage is a "shared error": a misspelling, an unusual
# name or coinage that two independent writers seldom produce alike.
RARE_ZIPF = 1.5
# Rare words kept per pair as examples (all of them are counted).
RARE_EXAMPLES = 20
# Passage snippets stored with each passage: enough to recognise it, not the whole text.
SNIPPET_HEAD = 200
SNIPPET_TAIL = 80

DOCUMENT_SCHEMA = pa.schema(
    [
        ("key", pa.int32()),
        ("id", pa.string()),
        ("text", pa.string()),
        ("title", pa.string()),
        ("author", pa.string()),
        ("date", pa.string()),
        ("series", pa.string()),
        # JSON list of [start, end] spans extraction excluded (navigation, comments), or null.
        ("excluded", pa.string()),
        ("length", pa.int64()),
    ]
)

FINGERPRINT_SCHEMA = pa.schema([("hash", pa.int64()), ("doc", pa.int32())])

# The columns of one side of a pair handed to align_batch: a_key, a_id, a_text, ...
SIDE_COLUMNS = ("key", "id", "text", "title", "author", "date", "series", "excluded")

PASSAGE_TYPE = pa.struct(
    [
        ("query_start", pa.int64()),
        ("query_end", pa.int64()),
        ("source_start", pa.int64()),
        ("source_end", pa.int64()),
        ("kind", pa.string()),
        ("score", pa.float64()),
        ("method", pa.string()),
        ("query_snippet", pa.string()),
        ("source_snippet", pa.string()),
    ]
)

_SIDE_FIELDS = [
    ("id", pa.string()),
    ("title", pa.string()),
    ("author", pa.string()),
    ("date", pa.string()),
    ("series", pa.string()),
    ("length", pa.int64()),
    ("covered", pa.int64()),
]

ALIGNED_SCHEMA = pa.schema(
    [(f"query_{name}", kind) for name, kind in _SIDE_FIELDS]
    + [(f"source_{name}", kind) for name, kind in _SIDE_FIELDS]
    + [
        ("shared", pa.int32()),
        ("rare_count", pa.int32()),
        ("rare", pa.list_(pa.string())),
        ("passages", pa.list_(PASSAGE_TYPE)),
    ]
)

# Candidate pairs from the fingerprints table (one row per distinct hash and document).
# Written once in the SQL dialect DuckDB and Spark SQL share, so both engines pick exactly
# the same pairs.  ``first`` < ``second`` are document keys; ``hashes`` are the
# fingerprints the two share (in no particular order), the evidence align_shared checks.
PAIRS_SQL = """
WITH df AS (
    SELECT hash, COUNT(*) AS n FROM fingerprints GROUP BY hash
),
kept AS (
    SELECT f.hash, f.doc FROM fingerprints f JOIN df ON f.hash = df.hash
    WHERE df.n BETWEEN 2 AND {max_df}
)
SELECT a.doc AS first, b.doc AS second, CAST(COUNT(*) AS INT) AS shared,
    array_agg(a.hash) AS hashes
FROM kept a JOIN kept b ON a.hash = b.hash AND a.doc < b.doc
GROUP BY a.doc, b.doc
HAVING COUNT(*) >= {min_shared}
"""

# The fingerprints found in more than max_df documents: dropped as boilerplate.
DROPPED_SQL = """
SELECT COUNT(*) AS dropped FROM (
    SELECT hash FROM fingerprints GROUP BY hash HAVING COUNT(*) > {max_df}
) t
"""


# Each candidate pair with both its documents, as align_batch reads it.  The texts are
# joined to the pairs (a hash join on the small pairs table) instead of being looked up
# one by one, so each engine streams the documents once per side.
ALIGN_INPUT_SQL = (
    "SELECT p.shared, p.hashes, "
    + ", ".join(f"a.{c} AS a_{c}" for c in SIDE_COLUMNS)
    + ", "
    + ", ".join(f"b.{c} AS b_{c}" for c in SIDE_COLUMNS)
    + " FROM pairs p JOIN documents a ON a.key = p.first JOIN documents b ON b.key = p.second"
)


@dataclass(frozen=True, slots=True)
class EngineRun:
    """What an engine hands over to the output stage.

    Attributes:
        documents: documents read.
        skipped: inputs and records not read, with the reason.
        candidate_pairs: pairs that shared enough fingerprints to be aligned.
        dropped_fingerprints: fingerprints found in more than ``max_df`` documents.
        aligned: one row per pair sharing passages (:data:`ALIGNED_SCHEMA`).
        resumed: stages whose earlier output was reused (Spark engine).
    """

    documents: int
    skipped: tuple[Skipped, ...]
    candidate_pairs: int
    dropped_fingerprints: int
    aligned: pa.Table
    resumed: tuple[str, ...] = ()


def pairs_sql(max_df: int) -> str:
    """The candidate-pair query for ``max_df`` (an int, so formatting it in is safe)."""
    return PAIRS_SQL.format(max_df=int(max_df), min_shared=MIN_SHARED)


def dropped_sql(max_df: int) -> str:
    """The query counting the fingerprints dropped as boilerplate."""
    return DROPPED_SQL.format(max_df=int(max_df))


# --- documents ---------------------------------------------------------------------------


def document_row(key: int, doc: Document, series: str | None) -> dict[str, Any]:
    """One row of :data:`DOCUMENT_SCHEMA`."""
    return {
        "key": key,
        "id": doc.id,
        "text": doc.text,
        "title": doc.title,
        "author": doc.author,
        "date": doc.date,
        "series": series,
        "excluded": json.dumps([list(span) for span in doc.excluded]) if doc.excluded else None,
        "length": len(doc.text),
    }


def documents_batch(rows: Sequence[dict[str, Any]]) -> pa.RecordBatch:
    """Rows of :func:`document_row` as one record batch."""
    return pa.RecordBatch.from_pylist(list(rows), schema=DOCUMENT_SCHEMA)


# --- fingerprints ------------------------------------------------------------------------


def fingerprint_batch(batch: pa.RecordBatch, settings: Settings) -> pa.RecordBatch:
    """The distinct winnowed fingerprints of each document of ``batch``.

    The fingerprints are those of :func:`~stemmatic.corpus.candidates.candidate_fingerprints`:
    the n-grams the aligner hashes, winnowed as the index winnows them.

    Args:
        batch: rows with at least ``key`` and ``text``.
        settings: the n-gram settings (``ngram``, ``stem``, ``stopwords``, folding).

    Returns:
        A batch of :data:`FINGERPRINT_SCHEMA`; hashes are the unsigned 64-bit
        fingerprints reinterpreted as signed, since Spark has no unsigned integers.
    """
    keys = batch.column("key").to_pylist()
    texts = batch.column("text").to_pylist()
    hashes: list[np.ndarray] = []
    docs: list[np.ndarray] = []
    for key, text in zip(keys, texts, strict=True):
        # Distinct: a document repeating a phrase counts once, df is a number of documents.
        found = candidate_fingerprints(text, settings)
        hashes.append(found.view(np.int64))
        docs.append(np.full(len(found), key, dtype=np.int32))
    if not hashes:
        return _empty_fingerprints()
    return pa.RecordBatch.from_arrays(
        [pa.array(np.concatenate(hashes)), pa.array(np.concatenate(docs))],
        schema=FINGERPRINT_SCHEMA,
    )


def _empty_fingerprints() -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [pa.array([], pa.int64()), pa.array([], pa.int32())], schema=FINGERPRINT_SCHEMA
    )


def fingerprint_batches(
    batches: Iterable[pa.RecordBatch], settings: Settings
) -> Iterator[pa.RecordBatch]:
    """:func:`fingerprint_batch` over a stream of batches (the shape ``mapInArrow`` wants)."""
    for batch in batches:
        yield fingerprint_batch(batch, settings)


# --- alignment ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Side:
    """One document of a candidate pair, as the alignment stage needs it."""

    id: str
    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    series: str | None = None
    excluded: tuple[tuple[int, int], ...] = ()

    def document(self) -> Document:
        return Document(id=self.id, text=self.text, excluded=self.excluded)


def orient(first: Side, second: Side) -> tuple[Side, Side]:
    """``(query, source)``: the document with the smaller id is the query.

    Each unordered pair is aligned once, in this orientation, by both engines.  Python,
    DuckDB and Spark all order strings by code point (UTF-8 byte order is code point
    order), but the choice is made here so that it cannot depend on an engine.
    """
    return (first, second) if first.id < second.id else (second, first)


def align_pair(
    first: Side,
    second: Side,
    shared: int,
    settings: Settings,
    hashes: Sequence[int] | np.ndarray | None = None,
) -> dict[str, Any] | None:
    """Align one candidate pair and gather the evidence the stemma needs.

    Args:
        first, second: the two documents, in any order.
        shared: how many fingerprints they share (kept for the record).
        settings: alignment settings, as ``stemmatic trace`` uses them.
        hashes: the fingerprints the two share (signed or unsigned 64-bit), which let
            :func:`align_shared` skip the paraphrase stages; None aligns in full.

    Returns:
        A row of :data:`ALIGNED_SCHEMA`, or None when the pair shares no passage.
    """
    query, source = orient(first, second)
    passages = align_shared(query.document(), source.document(), settings, hashes)
    if not passages:
        return None
    rare = shared_rare_words(query, source, passages, settings)
    row: dict[str, Any] = {}
    for prefix, side, spans in (
        ("query", query, [(p.query_start, p.query_end) for p in passages]),
        ("source", source, [(p.source_start, p.source_end) for p in passages]),
    ):
        row.update(
            {
                f"{prefix}_id": side.id,
                f"{prefix}_title": side.title,
                f"{prefix}_author": side.author,
                f"{prefix}_date": side.date,
                f"{prefix}_series": side.series,
                f"{prefix}_length": len(side.text),
                f"{prefix}_covered": covered(spans),
            }
        )
    row["shared"] = int(shared)
    row["rare_count"] = len(rare)
    row["rare"] = rare[:RARE_EXAMPLES]
    row["passages"] = [_passage_row(p, query.text, source.text) for p in passages]
    return row


def align_shared(
    query: Document,
    source: Document,
    settings: Settings,
    hashes: Sequence[int] | np.ndarray | None,
) -> list[Passage]:
    """:func:`~stemmatic.align.align`, without the paraphrase stages where copies explain
    the fingerprints the two documents share.

    Copies are cheap to find; paraphrases and summaries take most of the aligner's time
    (sentence vectors, runs of similar sentences).  Most pairs of a corpus share copied
    text only, and then the fingerprints that made them a candidate pair lie inside the
    copies found, on both sides: nothing points to more reuse elsewhere, and the copies
    are the answer.  When :data:`MIN_SHARED` or more of them do not (a rewritten
    passage, the copied text repeated elsewhere in one document, text the copies
    missed), the pair goes through the full aligner: as many as it takes to make two
    documents a candidate pair in the first place.

    A rewritten passage sharing fewer than that with its source is then found only in a
    pair that has no copy besides; the corpus finds pairs through shared fingerprints
    anyway, so such a passage alone would not make its pair a candidate either.  Copies
    that may be the pieces of one edited passage (:func:`split_copy`) go through the
    full aligner too, which may join them into one.

    Args:
        query, source: the pair, oriented (:func:`orient`).
        settings: alignment settings.
        hashes: the fingerprints the pair shares; None or empty aligns in full.

    Returns:
        The passages, as ``align`` returns them.
    """
    if settings.paraphrase and hashes is not None and len(hashes):
        copies = align(query, source, _copies_only(settings))
        if (
            copies
            and unexplained(query, source, copies, hashes, settings) < MIN_SHARED
            and not split_copy(query, source, copies, settings)
        ):
            return copies
    return align(query, source, settings)


@lru_cache(maxsize=16)
def _copies_only(settings: Settings) -> Settings:
    return settings.replace(paraphrase=False)


def unexplained(
    query: Document,
    source: Document,
    passages: Sequence[Passage],
    hashes: Sequence[int] | np.ndarray,
    settings: Settings,
) -> int:
    """How many of the fingerprints ``hashes`` are not found on both sides only inside
    ``passages``: missing from a side, or found outside the passages there.

    The n-grams are hashed from the aligner's own tokens; a fingerprint the candidate
    stage hashed differently (a run of number words) is not found, so it counts.
    """
    needed = np.unique(_unsigned(hashes))
    found = np.zeros(len(needed), dtype=np.int64)
    outside = np.zeros(len(needed), dtype=bool)
    for doc, spans in (
        (query, [(p.query_start, p.query_end) for p in passages]),
        (source, [(p.source_start, p.source_end) for p in passages]),
    ):
        grams, starts, ends = _grams(doc, settings)
        # The n-grams are sorted by hash: each needed fingerprint's occurrences are a run,
        # grams[left[k]:right[k]]; gather all runs at once.
        left = np.searchsorted(grams, needed, side="left")
        counts = np.searchsorted(grams, needed, side="right") - left
        found += counts > 0
        owner = np.repeat(np.arange(len(needed)), counts)
        at = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
        at += np.repeat(left, counts)
        inside = np.zeros(len(at), dtype=bool)
        for start, end in spans:
            inside |= (starts[at] >= start) & (ends[at] <= end)
        outside[owner[~inside]] = True
    return int(np.count_nonzero((found < 2) | outside))


def split_copy(
    query: Document, source: Document, passages: Sequence[Passage], settings: Settings
) -> bool:
    """Whether two passages follow each other, in the same order on both sides, with at
    most ``settings.max_gap`` words between them on each side.

    Such copies may be the two ends of one passage edited in the middle; the paraphrase
    stages may find the whole of it.
    """
    ordered = sorted(passages, key=lambda p: (p.query_start, p.source_start))
    if len(ordered) < 2:
        return False
    q = prepare(query.text, settings, query.excluded).tokens.starts
    s = prepare(source.text, settings, source.excluded).tokens.starts
    for before, after in pairwise(ordered):
        if after.source_start < before.source_end:
            continue
        q_gap = np.searchsorted(q, after.query_start) - np.searchsorted(q, before.query_end)
        s_gap = np.searchsorted(s, after.source_start) - np.searchsorted(s, before.source_end)
        if q_gap <= settings.max_gap and s_gap <= settings.max_gap:
            return True
    return False


def _grams(doc: Document, settings: Settings) -> _Grams:
    """The n-gram hashes of ``doc`` sorted, with the character span of each (cached: a
    document is in several pairs, and its pairs are aligned one after another)."""
    key = (doc.text, doc.excluded, settings)
    hit = _GRAMS.get(key)
    if hit is not None:
        _GRAMS.move_to_end(key)
        return hit
    tokens = prepare(doc.text, settings, doc.excluded).tokens
    grams = fingerprint(tokens, settings.ngram, stopwords=settings.stopwords)
    order = np.argsort(grams.hashes, kind="stable")
    found = (
        grams.hashes[order],
        tokens.starts[grams.first[order]],
        tokens.ends[grams.last[order]],
    )
    _GRAMS[key] = found
    while len(_GRAMS) > _GRAMS_KEPT:
        _GRAMS.popitem(last=False)
    return found


_Grams = tuple[np.ndarray, np.ndarray, np.ndarray]
_GRAMS: OrderedDict[tuple[str, tuple[tuple[int, int], ...], Settings], _Grams] = OrderedDict()
_GRAMS_KEPT = 64


def _unsigned(hashes: Sequence[int] | np.ndarray) -> np.ndarray:
    """Fingerprints as unsigned 64-bit values (tables hold them signed: Spark has no
    unsigned integers)."""
    if isinstance(hashes, np.ndarray) and hashes.dtype == np.uint64:
        return hashes
    return np.asarray(hashes, dtype=np.int64).view(np.uint64)


def _passage_row(passage: Passage, query_text: str, source_text: str) -> dict[str, Any]:
    return {
        "query_start": passage.query_start,
        "query_end": passage.query_end,
        "source_start": passage.source_start,
        "source_end": passage.source_end,
        "kind": str(passage.kind),
        "score": float(passage.score),
        "method": passage.method,
        "query_snippet": snippet(query_text[passage.query_start : passage.query_end]),
        "source_snippet": snippet(source_text[passage.source_start : passage.source_end]),
    }


def align_batch(batch: pa.RecordBatch, settings: Settings) -> pa.RecordBatch:
    """Align every candidate pair of ``batch``.

    Args:
        batch: rows with ``shared``, optionally ``hashes`` (the shared fingerprints, see
            :func:`align_shared`), and, for each side ``a`` and ``b``, the columns
            ``a_key``, ``a_id``, ``a_text``, ``a_title``, ``a_author``, ``a_date``,
            ``a_series``, ``a_excluded`` (see :data:`SIDE_COLUMNS`).
        settings: alignment settings.

    Returns:
        A batch of :data:`ALIGNED_SCHEMA`: one row per pair that shares passages.
    """
    columns = {name: batch.column(name).to_pylist() for name in batch.schema.names}
    rows = []
    for i in range(batch.num_rows):
        a = _side(columns, "a", i)
        b = _side(columns, "b", i)
        hashes = columns["hashes"][i] if "hashes" in columns else None
        row = align_pair(a, b, columns["shared"][i], settings, hashes)
        if row is not None:
            rows.append(row)
    return pa.RecordBatch.from_pylist(rows, schema=ALIGNED_SCHEMA)


def align_batches(
    batches: Iterable[pa.RecordBatch], settings: Settings
) -> Iterator[pa.RecordBatch]:
    """:func:`align_batch` over a stream of batches (the shape ``mapInArrow`` wants)."""
    for batch in batches:
        yield align_batch(batch, settings)


def _side(columns: dict[str, list[Any]], prefix: str, i: int) -> Side:
    excluded = columns[f"{prefix}_excluded"][i]
    return Side(
        id=columns[f"{prefix}_id"][i],
        text=columns[f"{prefix}_text"][i],
        title=columns[f"{prefix}_title"][i],
        author=columns[f"{prefix}_author"][i],
        date=columns[f"{prefix}_date"][i],
        series=columns[f"{prefix}_series"][i],
        excluded=tuple((int(s), int(e)) for s, e in json.loads(excluded)) if excluded else (),
    )


# --- evidence ----------------------------------------------------------------------------


def covered(spans: Iterable[tuple[int, int]]) -> int:
    """Characters covered by the union of half-open ``spans``."""
    total = 0
    end = -1
    for start, stop in sorted(spans):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def shared_rare_words(
    query: Side, source: Side, passages: Sequence[Passage], settings: Settings
) -> list[str]:
    """Rare words (see :data:`RARE_ZIPF`) found on both sides of the same passage, sorted.

    Shared rare words are evidence that one text derives from the other (or both from
    a common source) rather than that they say the same thing independently; they say
    nothing about which came first.
    """
    q = prepare(query.text, settings, query.excluded).tokens
    s = prepare(source.text, settings, source.excluded).tokens
    found: set[str] = set()
    for p in passages:
        q_words = _words_in(q.starts, q.ends, q.forms, p.query_start, p.query_end)
        s_words = _words_in(s.starts, s.ends, s.forms, p.source_start, p.source_end)
        found.update(word for word in q_words & s_words if is_rare(word))
    return sorted(found)


def _words_in(
    starts: np.ndarray, ends: np.ndarray, forms: Sequence[str], start: int, end: int
) -> set[str]:
    first = int(np.searchsorted(starts, start, side="left"))
    stop = int(np.searchsorted(ends, end, side="right"))
    return set(forms[first:stop])


@lru_cache(maxsize=200_000)
def is_rare(word: str) -> bool:
    """True for an alphabetic word of three letters or more that is rare in English."""
    return len(word) >= 3 and word.isalpha() and zipf_frequency(word, "en") < RARE_ZIPF


def snippet(text: str) -> str:
    """``text`` with white space collapsed, shortened in the middle when long."""
    flat = " ".join(text.split())
    if len(flat) <= SNIPPET_HEAD + SNIPPET_TAIL + 3:
        return flat
    return f"{flat[:SNIPPET_HEAD].rstrip()} … {flat[-SNIPPET_TAIL:].lstrip()}"
