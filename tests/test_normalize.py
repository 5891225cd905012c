"""Normalization: tokens keep exact original spans, and folding is principled."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stemmatic import normalize
from stemmatic.normalize import fold, fold_typography, normal_form, tokenize

TEXTS = st.text(
    alphabet=st.sampled_from(
        [*list("abcXYZ éüß 0123,./’‘“”\"'—–-…\xa0\u200b\n\tﬁ½Ωж中文😀"), "́", "ا", "א"]
    ),
    max_size=120,
)


@given(TEXTS)
def test_tokens_slice_the_original_text(text: str) -> None:
    tokens = tokenize(text)
    previous_end = 0
    for start, end, form in zip(tokens.starts, tokens.ends, tokens.forms):
        assert 0 <= previous_end <= start < end <= len(text)
        assert text[start:end].strip() == text[start:end]
        assert form  # every token has a non-empty normalized form
        previous_end = end


@given(TEXTS)
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text).text
    assert fold(once).text == once


@given(TEXTS)
def test_fold_offsets_map_back_inside_the_original(text: str) -> None:
    folded = fold(text)
    assert len(folded.offsets) == len(folded.text) + 1
    assert folded.offsets[-1] == len(text)
    assert list(folded.offsets) == sorted(folded.offsets)
    for i in range(len(folded.text)):
        start, end = folded.to_original(i, i + 1)
        assert 0 <= start < end <= len(text)


def test_fold_maps_a_span_back_to_the_original_words() -> None:
    text = "He said  “Don’t — stop…”"
    folded = fold(text)
    assert folded.text == "he said \"don't - stop...\""
    at = folded.text.index("don't")
    start, end = folded.to_original(at, at + len("don't"))
    assert text[start:end] == "Don’t"


def test_typography_case_and_spelling_fold_to_one_form() -> None:
    assert normal_form("Labour") == normal_form("labor") == "labor"
    assert normal_form("organisational") == "organizational"
    assert normal_form("recognising") == "recognizing"
    assert normal_form("Centre") == "center"
    assert normal_form("don’t") == normal_form("don't")
    assert normal_form("café") == "cafe"
    assert fold_typography("“quoted”—dash") == '"quoted"-dash'


def test_spelling_folding_can_be_turned_off() -> None:
    assert normal_form("labour", spelling=False) == "labour"
    tokens = tokenize("labour", spelling=False)
    assert tokens.forms == ("labour",)


def test_numbers_in_words_and_figures_match() -> None:
    words = tokenize("twenty-five workers, one third of them, and 1,000 more")
    figures = tokenize("25 workers, 1/3 of them, and 1000 more")
    assert [f for f in words.forms if f[0].isdigit()] == ["25", "1/3", "1000"]
    assert [f for f in figures.forms if f[0].isdigit()] == ["25", "1/3", "1000"]
    merged = words.forms.index("25")
    assert words.text[words.starts[merged] : words.ends[merged]] == "twenty-five"


def test_stems_join_inflections_only_when_stemming() -> None:
    stemmed = tokenize("organizing organized")
    assert stemmed.keys[0] == stemmed.keys[1]
    plain = tokenize("organizing organized", stem=False)
    assert plain.keys[0] != plain.keys[1]


def test_ids_are_stable_hashes_of_the_keys() -> None:
    a = tokenize("The labour movement")
    b = tokenize("the labor movement")
    assert a.ids.tolist() == b.ids.tolist()
    # Known value: a stable hash, the same in every process and on every machine.
    assert tokenize("labor").ids.tolist() == tokenize("labour").ids.tolist()


def test_scripts_without_spaces_are_tokenized_per_character() -> None:
    tokens = tokenize("三国志 naïve")
    assert tokens.forms[:3] == ("三", "国", "志")
    assert tokens.forms[3] == "naive"


def test_apostrophes_stay_inside_words() -> None:
    tokens = tokenize("workers’ rights don’t wait for the ’90s")
    words = [tokens.text[s:e] for s, e in zip(tokens.starts, tokens.ends)]
    assert "don’t" in words
    assert "workers" in words
    assert "90s" in words


PLAIN = st.text(
    alphabet=st.sampled_from(list("abcXYZ éüßø 0123,./:’'ʼ-—\u00a0\n[]_жΩ")), max_size=200
)


@given(PLAIN)
def test_fast_tokenizer_agrees_with_the_full_pattern(text: str) -> None:
    from stemmatic.normalize import _TOKEN, token_spans

    assert token_spans(text) == [m.span() for m in _TOKEN.finditer(text)]


PIECE_WORDS = st.lists(
    st.sampled_from(
        ["twenty", "five", "hundred", "and", "one", "third", "half", "a", "quarter", "three-hour",
         "1,000", "3.5", "don’t", "[s]trike", "Labour", "dog.", "“cat”", "\n", "  ", "中文"]
    ),
    max_size=300,
)


@given(PIECE_WORDS, st.integers(min_value=1, max_value=60))
def test_a_long_text_tokenized_in_pieces_gives_the_same_tokens(words: list[str], size: int) -> None:
    text = " ".join(words)
    whole = tokenize(text)
    original = normalize.PIECE_CHARS
    normalize.PIECE_CHARS = size
    try:
        pieces = tokenize(text)
    finally:
        normalize.PIECE_CHARS = original
    assert pieces.starts.tolist() == whole.starts.tolist()
    assert pieces.ends.tolist() == whole.ends.tolist()
    assert pieces.forms == whole.forms and pieces.keys == whole.keys
    assert pieces.ids.tolist() == whole.ids.tolist() and pieces.stop.tolist() == whole.stop.tolist()


def test_pieces_are_cut_between_words_and_never_inside_a_number_run() -> None:
    text = "We counted twenty five hundred and three ships and one third of them sank."
    spans = list(normalize._pieces(text, 5))
    assert spans[0][0] == 0 and spans[-1][1] == len(text) and len(spans) > 3
    cuts = [start for start, _ in spans[1:]]
    for cut in cuts:
        assert text[cut - 1].isspace() and not text[cut].isspace()
        assert text[cut:].split()[0] not in {"five", "hundred", "and", "three", "third"}
