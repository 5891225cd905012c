"""Tokens stored in an index: packed, unpacked, and used by traces instead of tokenizing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stemmatic.align import units
from stemmatic.index import DuckIndex, MemoryIndex, tokens_for
from stemmatic.index.packed import pack, unpack
from stemmatic.normalize import Tokens, tokenize
from stemmatic.pipeline import trace
from stemmatic.settings import Settings
from stemmatic.types import Document

# Words touching every rule of the tokenizer, to build texts from.
WORDS = [
    "The", "colour", "Théâtre’s", "“walls”", "isn't", "twenty-five", "one", "third", "of",
    "1,000", "organisers", "didn't", "3rd", "NOT", "running", "analysed", "O'Neill's",
    "café", "3.5%", "1/3", "東京の大学", "naïve", "ﬁnance", "e.g.", "U.S.A.", "seventy",
    "and", "two", "[s]trike", "labour", "ninety", "hundred", "—", "\n\n", "x" * 70_000,
]


def same(a: Tokens, b: Tokens) -> None:
    assert a.text is b.text or a.text == b.text
    for name in ("starts", "ends", "ids", "stop"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y), name
    assert a.forms == b.forms
    assert a.keys == b.keys


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(WORDS[:-1]) | st.text(max_size=12), max_size=60))
def test_unpack_gives_back_the_tokens(words: list[str]) -> None:
    text = " ".join(words)
    for stem in (True, False):
        tokens = tokenize(text, stem=stem)
        same(unpack(text, pack(tokens)), tokens)


def test_long_tokens_and_a_large_vocabulary_round_trip() -> None:
    # Over 65,535 distinct words takes the wide vocabulary index; a 70,000-character
    # word takes a length no narrow type could hold.
    text = " ".join(f"w{i}q" for i in range(70_000)) + " " + WORDS[-1] + " end"
    tokens = tokenize(text)
    packed = pack(tokens)
    assert packed[12] == 4  # the byte width of a vocabulary index
    same(unpack(text, packed), tokens)


def test_empty_text_round_trips() -> None:
    tokens = tokenize("")
    same(unpack("", pack(tokens)), tokens)


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:10],
        lambda b: b"XXXX" + b[4:],
        lambda b: b[:13] + b"\x00" * (len(b) - 13),
        lambda b: b[:-5],
    ],
)
def test_damaged_packed_tokens_raise_value_error(damage) -> None:
    text = "Colour and labour, twenty-five of them, were analysed."
    with pytest.raises(ValueError):
        unpack(text, damage(pack(tokenize(text))))


def test_tokens_that_do_not_fit_the_text_raise_value_error() -> None:
    text = "Colour and labour, twenty-five of them, were analysed."
    with pytest.raises(ValueError, match="do not fit"):
        unpack(text[:20], pack(tokenize(text)))


def _docs() -> list[Document]:
    base = (
        "The colour of the walls was analysed by twenty-five organisers in 1990. "
        "They did not agree on one third of the results, and the labour went on. "
    )
    return [
        Document(id=f"src-{i}", text=f"Source {i} opens here. " + base * (i + 1) + f"Closing {i}.")
        for i in range(4)
    ]


def test_duck_index_stores_the_tokens_a_trace_would_compute(tmp_path: Path) -> None:
    settings = Settings()
    docs = _docs()
    with DuckIndex.open(tmp_path / "i.duckdb", settings, create=True) as index:
        index.add(docs)
        loaded = index.load(["src-2", "src-0"])
        assert [doc.id for doc, _ in loaded] == ["src-2", "src-0"]
        for doc, tokens in loaded:
            assert tokens is not None
            same(tokens, tokens_for(doc.text, settings))
        with pytest.raises(KeyError):
            index.load(["src-0", "nope"])
        # A new title alone keeps the stored tokens; a new text replaces them.
        retitled = Document(id="src-0", text=docs[0].text, title="Another title")
        rewritten = Document(id="src-1", text=docs[1].text + " A sentence added.")
        result = index.add([retitled, rewritten])
        assert (result.replaced, result.added) == (2, 0)
        for (doc, tokens), want in zip(index.load(["src-0", "src-1"]), [retitled, rewritten]):
            assert doc == want
            assert tokens is not None
            same(tokens, tokens_for(want.text, settings))
    memory = MemoryIndex(settings, docs)
    assert [(d.id, t) for d, t in memory.load(["src-1"])] == [("src-1", None)]


def test_trace_uses_stored_tokens_and_reports_as_from_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings()
    docs = _docs()
    query = Document(
        id="q",
        text="An essay. " + docs[3].text[23:260] + " Its own ending, unlike any source.",
    )
    expected = trace(query, sources=docs, settings=settings)
    with DuckIndex.open(tmp_path / "i.duckdb", settings, create=True) as index:
        index.add(docs)
    units._cache.clear()
    calls: list[int] = []
    original = units.tokenize

    def counting(text: str, **kwargs: bool) -> Tokens:
        calls.append(len(text))
        return original(text, **kwargs)

    monkeypatch.setattr(units, "tokenize", counting)
    with DuckIndex.open(tmp_path / "i.duckdb", settings, read_only=True) as index:
        report = trace(query, index=index, settings=settings)
    # Only the query was tokenized: every source came with its stored tokens.
    assert calls == [len(query.text)]
    assert report.passages == expected.passages
    assert report.findings == expected.findings
    assert report.passages
