from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

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
