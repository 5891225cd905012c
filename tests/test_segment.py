from __future__ import annotations

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from stemmatic import segment
from stemmatic.segment import paragraphs, sentences


def _texts(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[s:e] for s, e in spans]


def test_sentences_keep_closing_quotes_and_skip_abbreviations() -> None:
    text = "He said “Stop.” Then Dr. Smith left, e.g. quickly. J. Smith wrote in 1954. It rained!"
    assert _texts(text, sentences(text)) == [
        "He said “Stop.”",
        "Then Dr. Smith left, e.g. quickly.",
        "J. Smith wrote in 1954.",
        "It rained!",
    ]


def test_possessive_before_a_period_is_not_an_initial() -> None:
    text = "It belonged to the workers' and women's.  Flight came next."
    assert len(sentences(text)) == 2


def test_blank_lines_end_sentences_and_paragraphs() -> None:
    text = "Heading\n\nFirst line\nsecond line. Next one\n\n\nLast"
    assert _texts(text, sentences(text)) == ["Heading", "First line\nsecond line.", "Next one", "Last"]
    assert _texts(text, paragraphs(text)) == ["Heading", "First line\nsecond line. Next one", "Last"]


@given(st.text(alphabet=st.sampled_from(list("ab .!?\n\"”")), max_size=80))
def test_spans_are_ordered_trimmed_and_cover_every_visible_character(text: str) -> None:
    spans = sentences(text)
    covered = set()
    last = 0
    for start, end in spans:
        assert last <= start < end <= len(text)
        assert not text[start].isspace() and not text[end - 1].isspace()
        covered.update(range(start, end))
        last = end
    visible = {i for i, ch in enumerate(text) if not ch.isspace()}
    assert visible <= covered


# The sentence splitter as first written, with a variable-length lookbehind in `regex`;
# the splitter now uses the standard library's engine and must split exactly alike.
_REFERENCE_BOUNDARY = regex.compile(r"""(?<=[.!?…]["'”’»)\]]*)\s+|\n[ \t]*\n\s*""")
_REFERENCE_PARAGRAPH = regex.compile(r"\n[ \t]*\n\s*")


def _reference_sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _REFERENCE_BOUNDARY.finditer(text):
        end = match.start()
        if not _REFERENCE_PARAGRAPH.fullmatch(match.group()):
            word = segment._LAST_WORD.search(text, max(start, end - 12), end)
            if word is not None:
                w = word.group(1).casefold()
                if w in segment._ABBREVIATIONS or (len(w) == 1 and w.isalpha()):
                    continue
        segment._append(text, spans, start, end)
        start = match.end()
    segment._append(text, spans, start, len(text))
    return spans


_PIECES = st.sampled_from(
    [".", "!", "?", "…", '"', "'", "”", "’", "»", ")", "]", " ", "  ", "\n", "\n\n", "\n \t\n",
     "\t", "Dr", "e.g", "J", "x", "word", "Smith", "workers'", "²", "ß", "1954", "\u00a0"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=40))
def test_sentences_split_as_the_reference_splitter(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert sentences(text) == _reference_sentences(text)
