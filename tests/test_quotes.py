"""Tests of quotation detection (stemmatic.quotes)."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from stemmatic import quotes
from stemmatic.quotes import find_quotations, paragraphs
from stemmatic.types import Quotation


def quoted(text: str, **kwargs: int) -> list[str]:
    """The quoted words, in order."""
    quotations, _ = find_quotations(text, **kwargs)
    return [text[q.start : q.end] for q in quotations]


def only(text: str) -> Quotation:
    quotations, warnings = find_quotations(text)
    assert len(quotations) == 1, [text[q.start : q.end] for q in quotations]
    assert warnings == []
    return quotations[0]


# --- marks of every style -------------------------------------------------------------


def test_straight_double_quotes() -> None:
    text = 'He said "the end is near" and left.'
    q = only(text)
    assert text[q.start : q.end] == "the end is near"
    assert (q.open_mark, q.close_mark, q.block) == ('"', '"', False)


def test_curly_double_quotes() -> None:
    q = only("She wrote “a new beginning” today.")
    assert (q.open_mark, q.close_mark) == ("“", "”")


def test_span_excludes_the_marks_exactly() -> None:
    text = "x “abc” y"
    q = only(text)
    assert (q.start, q.end) == (3, 6)
    assert text[q.start - 1] == "“" and text[q.end] == "”"


def test_straight_and_curly_single_quotes() -> None:
    assert quoted("A 'scare' word and a ‘curly’ one.") == ["scare", "curly"]


def test_low_nine_quotes_german() -> None:
    assert quoted("Er sagte „guten Morgen“ und ‚tschüss‘ dann.") == ["guten Morgen", "tschüss"]


def test_polish_low_nine_with_right_closer() -> None:
    assert quoted("Powiedział „dzień dobry” i wyszedł.") == ["dzień dobry"]


def test_guillemets_french_with_spaces() -> None:
    text = "Il a dit « bonjour tout le monde » hier."
    assert quoted(text) == ["bonjour tout le monde"]


def test_guillemets_french_with_narrow_no_break_spaces() -> None:
    assert quoted("Il a dit «\u202fbonjour\u202f» hier.") == ["bonjour"]


def test_guillemets_both_directions() -> None:
    assert quoted("Er sagte »Guten Tag« und «ciao» und »hej».") == ["Guten Tag", "ciao", "hej"]


def test_single_guillemets() -> None:
    assert quoted("Il a dit ‹non› et ›ja‹ aussi.") == ["non", "ja"]


# --- mismatched pairs ------------------------------------------------------------------


def test_closing_mark_used_to_open() -> None:
    q = only("”Hello there,” she said.")
    assert (q.open_mark, q.close_mark) == ("”", "”")


def test_double_prime_used_to_close() -> None:
    text = "He said “hello″ and left."
    q = only(text)
    assert text[q.start : q.end] == "hello"
    assert q.close_mark == "″"


def test_straight_opening_curly_closing() -> None:
    q = only('They called it "progress” at the time.')
    assert (q.open_mark, q.close_mark) == ('"', "”")


def test_primes_after_digits_are_measurements() -> None:
    quotations, warnings = find_quotations("He is 5′ 10″ tall and said “fine” then.")
    assert [q.open_mark for q in quotations] == ["“"]
    assert warnings == []


def test_inch_mark_after_digit_is_not_a_warning() -> None:
    text = 'Use a 12" ruler, the "good" one.'
    quotations, warnings = find_quotations(text)
    assert [text[q.start : q.end] for q in quotations] == ["good"]
    assert warnings == []


# --- apostrophes -------------------------------------------------------------------------


def test_apostrophe_inside_a_quotation() -> None:
    text = "“Workers’ rights,” she said."
    q = only(text)
    assert text[q.start : q.end] == "Workers’ rights,"


def test_plural_possessive_is_not_a_quote() -> None:
    assert find_quotations("It will take 6 months’ time to finish.") == ([], [])


def test_contractions_are_not_quotes() -> None:
    assert find_quotations("I don’t think it's over, isn't it? We’ll see.") == ([], [])


def test_straight_plural_possessive_is_not_a_quote() -> None:
    assert find_quotations("The workers' union met the owners' group.") == ([], [])


def test_elided_decade_is_not_a_quote() -> None:
    assert find_quotations("Back in the '90s and the ’80s, life was slower.") == ([], [])


def test_elisions_are_not_quotes() -> None:
    assert find_quotations("'Tis the season, give 'em a 'cause, 'twas fun.") == ([], [])


def test_rock_n_roll_is_not_a_quote() -> None:
    # Documented choice: 'n' between spaces is an elision of "and", not a quotation.
    assert find_quotations("They played rock 'n' roll and rock ’n’ roll all night.") == ([], [])


def test_scare_quote_round_is_still_a_quote() -> None:
    # "'round" is an elision, but not when a closing mark follows the word.
    assert quoted("A ‘round’ number.") == ["round"]


def test_single_quote_around_possessive() -> None:
    text = "She called it ‘the workers’ rights’ movement."
    assert quoted(text) == ["the workers’ rights"]


def test_single_quote_ending_in_possessive_word_before_next_opener() -> None:
    text = "‘The boss’ car’ is odd, but ‘the workers’ are fine."
    assert quoted(text) == ["The boss’ car", "the workers"]


def test_single_quote_prefers_closer_before_function_word() -> None:
    text = "He said ‘this is yours’ and left the boss’ car."
    assert quoted(text) == ["this is yours"]


def test_two_straight_single_quotes_in_a_sentence() -> None:
    text = "He wrote 'the workers' and then 'yes,' he said."
    assert quoted(text) == ["the workers", "yes,"]


def test_straight_single_mark_opening_nothing_is_not_reported() -> None:
    text = "Muhammad 'Ali went home, and the 'net was down."
    assert find_quotations(text) == ([], [])


def test_possessive_far_away_does_not_close_an_elision() -> None:
    text = "On the 'web " + "many words follow here " * 10 + "and the subcultures' makeup changed."
    assert find_quotations(text) == ([], [])


def test_left_single_mark_before_digits_opens() -> None:
    assert quoted("He said ‘20 per cent’ was fair.") == ["20 per cent"]


# --- nesting --------------------------------------------------------------------------


def test_nested_single_in_double() -> None:
    text = "He said “She told me ‘no’ to them” yesterday."
    quotations, warnings = find_quotations(text)
    assert warnings == []
    outer, inner = quotations
    assert text[outer.start : outer.end] == "She told me ‘no’ to them"
    assert text[inner.start : inner.end] == "no"
    assert outer.start <= inner.start and inner.end <= outer.end


def test_nested_double_in_single_british() -> None:
    text = "‘He said “never” and meant it,’ she recalled."
    assert quoted(text) == ["He said “never” and meant it,", "never"]


def test_nested_quotes_sharing_an_edge() -> None:
    text = "“‘Go,’ he said, ‘now.’”"
    assert quoted(text) == ["‘Go,’ he said, ‘now.’", "Go,", "now."]


def test_single_quote_cannot_cross_a_double_quote() -> None:
    # The ’ inside the double quotation cannot close the ‘ outside it.
    text = "A ‘note “the workers’ union” was here."
    quotations, warnings = find_quotations(text)
    assert [text[q.start : q.end] for q in quotations] == ["the workers’ union"]
    assert warnings == ["unbalanced quote mark ‘ at offset 2 (line 1)"]


# --- line and paragraph breaks --------------------------------------------------------


def test_quote_over_a_line_break() -> None:
    text = "He said “this runs\nover a line” and stopped."
    assert quoted(text) == ["this runs\nover a line"]


def test_quote_does_not_cross_a_paragraph_break() -> None:
    text = "He said “hello and went home.\n\nNext paragraph with “ok” here."
    quotations, warnings = find_quotations(text)
    assert [text[q.start : q.end] for q in quotations] == ["ok"]
    assert warnings == ["unbalanced quote mark “ at offset 8 (line 1)"]


def test_multi_paragraph_convention_double() -> None:
    text = (
        "He wrote:\n\n“First paragraph of the letter.\n\n“Second paragraph of it.\n\n"
        "“Third and last.”\n\nNot quoted."
    )
    quotations, warnings = find_quotations(text)
    assert warnings == []
    assert len(quotations) == 1
    q = quotations[0]
    assert text[q.start : q.end].startswith("First paragraph")
    assert text[q.start : q.end].endswith("Third and last.")
    assert "Not quoted" not in text[q.start : q.end]


def test_multi_paragraph_convention_single() -> None:
    text = "‘Para one of a British quotation.\n\n‘Para two of it.’\n\nAfter."
    assert quoted(text) == ["Para one of a British quotation.\n\n‘Para two of it."]


def test_next_paragraph_not_reopening_ends_the_quote() -> None:
    text = "“Unclosed here.\n\nA new paragraph “with” quotes."
    quotations, warnings = find_quotations(text)
    assert [text[q.start : q.end] for q in quotations] == ["with"]
    assert len(warnings) == 1


def test_unwrapped_document_treats_newline_as_paragraph_break() -> None:
    long_line = "word " * 40
    text = f"He said “never closed {long_line}\nAnother line “here” {long_line}\n"
    quotations, warnings = find_quotations(text)
    assert [text[q.start : q.end] for q in quotations] == ["here"]
    assert len(warnings) == 1


def test_paragraphs_split_on_blank_lines() -> None:
    text = "one\ntwo\n\n  \nthree\n> \n> four"
    spans = paragraphs(text)
    assert [text[s:e] for s, e in spans] == ["one\ntwo", "three", "> four"]


# --- block quotations ------------------------------------------------------------------


def test_markdown_blockquote() -> None:
    text = "Intro:\n\n> The quoted line.\n\nAfter."
    q = only(text)
    assert q.block and (q.open_mark, q.close_mark) == ("", "")
    assert text[q.start : q.end] == "The quoted line."


def test_multi_line_markdown_blockquote_keeps_inner_markers() -> None:
    text = "Intro:\n\n> first line of it\n> second line  \n\nAfter."
    q = only(text)
    assert text[q.start : q.end] == "first line of it\n> second line"


def test_two_separate_markdown_blockquotes() -> None:
    text = "> one two three\n\nmiddle text\n\n> four five six\n"
    quotations, _ = find_quotations(text)
    assert [text[q.start : q.end] for q in quotations] == ["one two three", "four five six"]
    assert all(q.block for q in quotations)


def test_indented_block_quotation() -> None:
    text = (
        "The author puts it this way:\n\n"
        "    Power is everywhere, not because it embraces\n"
        "    everything, but because it comes from everywhere.  \n\n"
        "And so on."
    )
    q = only(text)
    assert q.block
    assert text[q.start : q.end] == (
        "Power is everywhere, not because it embraces\n"
        "    everything, but because it comes from everywhere."
    )


def test_tab_indented_block_quotation() -> None:
    text = "Before it.\n\n\tA tab indented block of quoted words.\n\nAfter it."
    q = only(text)
    assert q.block and text[q.start : q.end] == "A tab indented block of quoted words."


def test_first_line_indents_are_not_blocks() -> None:
    text = "    First paragraph starts\nindented as usual.\n\n    Second one\ntoo, like a novel.\n"
    assert find_quotations(text) == ([], [])


def test_uniformly_indented_document_has_no_blocks() -> None:
    text = "    One paragraph of words.\n\n    Two paragraphs of words.\n\n    Three of them here."
    assert find_quotations(text) == ([], [])


def test_indented_list_and_heading_are_not_blocks() -> None:
    text = "Text here.\n\n    - an item in a list\n\nMore.\n\n        CHAPTER ONE\n\nEnd text."
    assert find_quotations(text) == ([], [])


def test_unwrapped_document_with_indented_body_and_plain_headings() -> None:
    body = "\u00a0" * 5 + " " + "Body text of a paragraph that goes on and on. " * 6
    text = f"A Heading\n{body}\nAnother Heading\n{body}\nThird Heading\n{body}\nLast\n{body}\n"
    assert find_quotations(text) == ([], [])


def test_breadcrumb_and_centred_line_are_not_blocks() -> None:
    text = "Some text here.\n> Home Databases\n\nMore text.\n\n" + " " * 30 + "a centred line\n"
    assert find_quotations(text) == ([], [])


def test_block_in_quote_marks_gives_block_and_inline() -> None:
    text = "Intro.\n\n    “A quoted block of several words.”\n\nAfter."
    quotations, _ = find_quotations(text)
    assert [(q.block, text[q.start : q.end]) for q in quotations] == [
        (True, "“A quoted block of several words.”"),
        (False, "A quoted block of several words."),
    ]


# --- unbalanced marks ----------------------------------------------------------------------


def test_unbalanced_opening_mark_in_a_long_text() -> None:
    filler = "plain words without any marks at all. " * 265  # over 10,000 characters
    text = "Start “of an unclosed quotation " + filler + " then “a real one” at the end."
    assert len(text) > 10_000
    quotations, warnings = find_quotations(text)
    assert [text[q.start : q.end] for q in quotations] == ["a real one"]
    assert warnings == ["unbalanced quote mark “ at offset 6 (line 1)"]


def test_unbalanced_opening_mark_in_a_long_hard_wrapped_paragraph() -> None:
    words = "Start “of an unclosed quotation " + "plain words without marks. " * 400
    text = "\n".join(words[k : k + 70] for k in range(0, len(words), 70))
    text += " then “a real one” at the end.\n\nA “second” paragraph."
    assert len(text) > 10_000
    quotations, warnings = find_quotations(text)
    assert [text[q.start : q.end] for q in quotations] == ["a real one", "second"]
    assert warnings == ["unbalanced quote mark “ at offset 6 (line 1)"]


def test_unbalanced_mark_is_capped_at_max_chars() -> None:
    text = "A “starts here " + "x " * 3000 + "and ends” here."
    quotations, warnings = find_quotations(text, max_chars=3000)
    assert quotations == []
    assert len(warnings) == 2  # the opener expired, so the closer is a stray
    quotations, warnings = find_quotations(text, max_chars=10_000)
    assert len(quotations) == 1 and warnings == []


def test_unbalanced_single_opener_is_reported() -> None:
    text = "He said ‘this never closes.\n\nNext."
    assert find_quotations(text) == ([], ["unbalanced quote mark ‘ at offset 8 (line 1)"])


def test_stray_double_closer_is_reported_with_line() -> None:
    text = "Line one.\nLine two” is odd."
    assert find_quotations(text) == ([], ["unbalanced quote mark ” at offset 18 (line 2)"])


def test_warnings_are_capped() -> None:
    text = "\n\n".join(f"Para “{k} open" for k in range(30))
    _, warnings = find_quotations(text)
    assert len(warnings) == 21
    assert warnings[-1] == "... and 10 more unbalanced quote marks"


def test_isolated_marks_between_spaces_are_ignored() -> None:
    assert find_quotations('A " B and C " D') == ([], [])


def test_empty_quotes_give_nothing() -> None:
    assert find_quotations('He said "" and “ ” then.') == ([], [])


# --- scare quotes and ordering ------------------------------------------------------------


def test_scare_quotes_of_one_to_three_words_are_returned() -> None:
    text = "This “fact” is a ‘so-called truth’ in the “very best sense” of it."
    assert quoted(text) == ["fact", "so-called truth", "very best sense"]


def test_quotations_are_sorted_by_start() -> None:
    text = "“a” then “b ‘c’” then «d»"
    quotations, _ = find_quotations(text)
    starts = [q.start for q in quotations]
    assert starts == sorted(starts)
    assert quoted(text) == ["a", "b ‘c’", "c", "d"]


def test_empty_text() -> None:
    assert find_quotations("") == ([], [])


# --- properties and size --------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab \n'\"“”‘’«»„>\t.,\u00a0\r\x0c", max_size=200))
def test_spans_always_slice_inside_the_text(text: str) -> None:
    quotations, warnings = find_quotations(text, max_chars=50)
    for q in quotations:
        assert 0 <= q.start < q.end <= len(text)
        assert not text[q.start].isspace() and not text[q.end - 1].isspace()
        if not q.block:
            assert q.open_mark in text[: q.start] and q.close_mark in text[q.end :]
    assert all(w.startswith(("unbalanced quote mark", "...")) for w in warnings)


def test_one_megabyte_of_text_completes() -> None:
    rng = random.Random(7)
    vocab = (
        "the of and workers’ don’t it's months’ “quoted” 'single' ‘curly’ « guillemet » "
        "“open ’tis (paren) — dash. Para he said"
    ).split()
    parts = []
    size = 0
    while size < 1_000_000:
        word = rng.choice(vocab) + rng.choice([" "] * 30 + ["\n", "\n\n"])
        parts.append(word)
        size += len(word)
    text = "".join(parts)
    quotations, warnings = find_quotations(text)
    assert len(quotations) > 1000
    assert all(0 <= q.start < q.end <= len(text) for q in quotations)
    assert len(warnings) <= 21


def test_warning_offsets_point_at_the_mark() -> None:
    text = "ok “a” and\n\n“broken here\n\nend"
    _, warnings = find_quotations(text)
    (warning,) = warnings
    offset = int(re.search(r"offset (\d+)", warning).group(1))  # type: ignore[union-attr]
    assert text[offset] == "“" and "(line 3)" in warning


# --- shortcuts agree with the plain scans they replace -----------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab.”)’: \t\n\u00a0\u2003", max_size=20))
def test_body_end_found_at_the_last_mark(text: str) -> None:
    for start in range(len(text) + 1):
        for end in range(start, len(text) + 1):
            expected = quotes._BODY_END.search(text, start, end) is not None
            assert quotes._ends_like_body(text, start, end) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="'’‘nNa \t", max_size=20))
def test_n_elision_is_scanned_for_wherever_it_can_be(text: str) -> None:
    if quotes._N_ELISION.search(text):
        cp = quotes.code_points(text)
        assert quotes._mark_before_n(cp, quotes._mark_positions(cp))


def test_rock_n_roll_with_every_mark() -> None:
    for left, right in (("'", "'"), ("’", "’"), ("‘", "’"), ("'", "’")):
        text = f"They played rock {left}n{right} roll all night."
        assert find_quotations(text) == ([], [])


def test_warnings_give_the_line_of_the_mark() -> None:
    text = "one\ntwo\n\nthree “open here\nfour"
    _, warnings = find_quotations(text)
    assert warnings == [f"unbalanced quote mark “ at offset {text.index('“')} (line 4)"]
