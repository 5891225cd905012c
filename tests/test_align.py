"""The aligner: planted passages are found at their exact offsets, in any order, with
every difference named; unrelated or degenerate texts give nothing."""

from __future__ import annotations

import random
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stemmatic.align import _spanned, align
from stemmatic.align.candidate import Candidate
from stemmatic.align.diff import align_words, differences
from stemmatic.align.units import prepare, span_tokens
from stemmatic.settings import Settings
from stemmatic.types import Difference, DiffType, Document, Kind, Passage

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Three disjoint vocabularies: query filler, source filler and planted passages.  Filler
# words never match across the two texts, so nothing but the planted words can be found,
# and a chance match next to a passage cannot move its boundaries.
QUERY_LETTERS = "abcdefg"
SOURCE_LETTERS = "hiklmno"
PASSAGE_WORDS = [
    f"{stem}{suffix}"
    for stem in ("albion", "mersey", "tillett", "vauxhall", "bootle", "kirkdale", "garston",
                 "everton", "toxteth", "wirral", "seacombe", "wallasey", "runcorn", "halton")
    for suffix in ("", "ward", "ham", "ley")
]
SOURCE = (
    "The dock was never simply a workplace; it was the city's clock, its gossip and its "
    "school. In 1911 the organisational lessons of that summer shaped a generation of "
    "labour leaders across the northern ports. Meanwhile the river carried timber, salt and "
    "grain past warehouses that had stood empty since the great fire of the previous decade."
)

# British spellings in the source, American ones in the query.
SPELLINGS = [
    ("labour", "labor"), ("organisational", "organizational"), ("colour", "color"),
    ("behaviour", "behavior"), ("centre", "center"), ("harbour", "harbor"),
    ("defence", "defense"), ("theatre", "theater"), ("catalogue", "catalog"),
]


def _filler(rng: random.Random, letters: str, n: int) -> str:
    """``n`` invented words in sentences of eleven words."""
    words = []
    for i in range(n):
        word = "".join(rng.choice(letters) for _ in range(rng.randint(4, 9)))
        words.append(word + ("." if i % 11 == 10 else ""))
    return " ".join(words)


def _passage(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(PASSAGE_WORDS) for _ in range(n)]


def _join(*parts: str) -> tuple[str, list[tuple[int, int]]]:
    """Join ``filler, passage, filler, passage, ...`` with each passage a sentence of its
    own; return the text and the span of every passage sentence, full stop included
    (the odd parts)."""
    text, spans = "", []
    for i, part in enumerate(parts):
        if i % 2:
            text += ". " if text else ""
            spans.append((len(text), len(text) + len(part) + 1))
            text += part + "."
        else:
            text += (" " if text else "") + part
    return text, spans


def _check_spans(passages: list[Passage], query: str, source: str) -> None:
    """Every span slices inside its text, no two passages overlap on the query side,
    and every difference slices to its own words."""
    for p in passages:
        assert 0 <= p.query_start < p.query_end <= len(query)
        assert 0 <= p.source_start < p.source_end <= len(source)
        for d in p.differences:
            assert query[d.query_start : d.query_end] == d.query
            assert source[d.source_start : d.source_end] == d.source
    spans = sorted((p.query_start, p.query_end) for p in passages)
    assert all(a[1] <= b[0] for a, b in pairwise(spans)), spans


@PROPERTY
@given(st.integers(0, 10**6), st.integers(12, 40), st.integers(0, 150), st.integers(0, 150))
def test_planted_verbatim_passage_is_found_at_its_exact_offsets(
    seed: int, length: int, before: int, after: int
) -> None:
    rng = random.Random(seed)
    passage = " ".join(_passage(rng, length))
    source, (s_span,) = _join(_filler(rng, SOURCE_LETTERS, before), passage,
                              _filler(rng, SOURCE_LETTERS, after))
    query, (q_span,) = _join(_filler(rng, QUERY_LETTERS, rng.randint(0, 150)), passage,
                             _filler(rng, QUERY_LETTERS, rng.randint(0, 150)))
    passages = align(Document("q", query), Document("s", source))
    _check_spans(passages, query, source)
    assert [(p.query_start, p.query_end, p.source_start, p.source_end) for p in passages] == [
        (*q_span, *s_span)
    ]
    assert passages[0].kind is Kind.COPY
    assert passages[0].differences == ()


@PROPERTY
@given(st.integers(0, 10**6), st.integers(12, 30))
def test_spelling_and_typography_variants_keep_exact_offsets_and_are_named(
    seed: int, length: int
) -> None:
    rng = random.Random(seed)
    words = _passage(rng, length)
    british, american = rng.choice(SPELLINGS)
    at = rng.randrange(1, length - 1)
    quoted = rng.randrange(1, length - 1)
    dash = rng.randrange(1, length - 2)

    def render(spelled: str, quotes: tuple[str, str], rule: str) -> str:
        out = list(words)
        out[at] = spelled
        out[quoted] = f"{quotes[0]}{out[quoted]}{quotes[1]}"
        out[dash] = f"{out[dash]} {rule}"
        return " ".join(out)

    source_passage = render(british, ('"', '"'), "--")
    query_passage = render(american, ("\u201c", "\u201d"), "\u2014")
    source, (s_span,) = _join(_filler(rng, SOURCE_LETTERS, 60), source_passage,
                              _filler(rng, SOURCE_LETTERS, 60))
    query, (q_span,) = _join(_filler(rng, QUERY_LETTERS, 40), query_passage,
                             _filler(rng, QUERY_LETTERS, 40))
    passages = align(Document("q", query), Document("s", source))
    _check_spans(passages, query, source)
    assert len(passages) == 1
    p = passages[0]
    assert (p.query_start, p.query_end, p.source_start, p.source_end) == (*q_span, *s_span)
    named = {(d.query, d.source, d.type) for d in p.differences}
    assert (american, british, DiffType.SPELLING) in named
    assert ("\u201c", '"', DiffType.TYPOGRAPHY) in named
    assert ("\u201d", '"', DiffType.TYPOGRAPHY) in named
    assert ("\u2014", "--", DiffType.TYPOGRAPHY) in named
    # Nothing else differs.
    assert len(named) == 4


@PROPERTY
@given(st.integers(0, 10**6), st.integers(16, 30))
def test_a_misquote_names_the_changed_and_the_dropped_word(seed: int, length: int) -> None:
    rng = random.Random(seed)
    words = _passage(rng, length)
    changed = rng.randrange(3, length // 2 - 1)
    dropped = rng.randrange(length // 2 + 1, length - 3)
    misquoted = list(words)
    misquoted[changed] = "quarterdeck"
    del misquoted[dropped]
    source, _ = _join(_filler(rng, SOURCE_LETTERS, 50), " ".join(words),
                      _filler(rng, SOURCE_LETTERS, 50))
    query, _ = _join(_filler(rng, QUERY_LETTERS, 50), " ".join(misquoted),
                     _filler(rng, QUERY_LETTERS, 50))
    passages = align(Document("q", query), Document("s", source))
    _check_spans(passages, query, source)
    assert len(passages) == 1
    named = [(d.type, d.query, d.source) for d in passages[0].differences]
    assert (DiffType.WORD, "quarterdeck", words[changed]) in named
    omissions = [d for d in named if d[0] is DiffType.OMISSION]
    assert len(omissions) == 1 and omissions[0][2] == words[dropped] and omissions[0][1] == ""


@PROPERTY
@given(st.integers(0, 10**6), st.integers(12, 30), st.integers(12, 30))
def test_passages_used_in_the_opposite_order_are_both_found(
    seed: int, len_a: int, len_b: int
) -> None:
    rng = random.Random(seed)
    a, b = " ".join(_passage(rng, len_a)), " ".join(_passage(rng, len_b))
    source, (s_a, s_b) = _join(_filler(rng, SOURCE_LETTERS, 30), a,
                               _filler(rng, SOURCE_LETTERS, 80), b,
                               _filler(rng, SOURCE_LETTERS, 30))
    query, (q_b, q_a) = _join(_filler(rng, QUERY_LETTERS, 30), b,
                              _filler(rng, QUERY_LETTERS, 50), a,
                              _filler(rng, QUERY_LETTERS, 30))
    passages = align(Document("q", query), Document("s", source))
    _check_spans(passages, query, source)
    found = [(p.query_start, p.query_end, p.source_start, p.source_end) for p in passages]
    assert found == [(*q_b, *s_b), (*q_a, *s_a)]


@PROPERTY
@given(st.integers(0, 10**6), st.lists(st.integers(8, 40), min_size=1, max_size=5))
def test_spans_are_sound_for_any_mixture_of_reused_pieces(seed: int, lengths: list[int]) -> None:
    # Pieces of one source stitched together in random order, some repeated, some cut
    # mid-word: whatever is found must slice inside both texts without overlaps.
    rng = random.Random(seed)
    source = _filler(rng, SOURCE_LETTERS, 150) + " " + " ".join(_passage(rng, 120))
    pieces = []
    for n in lengths:
        start = rng.randrange(0, len(source) - 1)
        pieces.append(source[start : start + 8 * n])
        pieces.append(_filler(rng, QUERY_LETTERS, rng.randint(0, 20)))
    query = " ".join(pieces)
    passages = align(Document("q", query), Document("s", source))
    _check_spans(passages, query, source)


@PROPERTY
@given(st.integers(0, 10**6), st.integers(0, 300), st.integers(0, 300))
def test_unrelated_texts_give_no_passage(seed: int, n_query: int, n_source: int) -> None:
    rng = random.Random(seed)
    query = _filler(rng, QUERY_LETTERS, n_query)
    source = _filler(rng, SOURCE_LETTERS, n_source)
    assert align(Document("q", query), Document("s", source)) == []


def test_unrelated_prose_gives_no_passage() -> None:
    bees = ("Bees gather nectar from clover and store it as honey in wax combs; a strong "
            "colony can make more than it needs in a good summer, and the keeper takes the rest.")
    assert align(Document("q", bees), Document("s", SOURCE)) == []


@pytest.mark.parametrize("tiny", ["", " ", "\n\n", "dock", "dock.", "...", "\u00a0", "the"])
def test_empty_and_one_word_texts_give_no_passage(tiny: str) -> None:
    assert align(Document("q", tiny), Document("s", SOURCE)) == []
    assert align(Document("q", SOURCE), Document("s", tiny)) == []
    assert align(Document("q", tiny), Document("s", tiny)) == []


def test_a_copied_sentence_starts_and_ends_on_its_words() -> None:
    # Stop words are not n-gram seeds, yet a copied sentence starts at "The" and keeps
    # its full stop.
    query = ("An essay on ports. The dock was never simply a workplace; it was the city's "
             "clock, its gossip and its school. My own view differs.")
    (p,) = align(Document("q", query), Document("s", SOURCE))
    assert query[p.query_start : p.query_end] == (
        "The dock was never simply a workplace; it was the city's clock, its gossip and "
        "its school."
    )
    assert SOURCE[p.source_start : p.source_end] == query[p.query_start : p.query_end]


def test_a_short_quotation_of_eight_words_is_found_exactly() -> None:
    # The default settings report copies from eight words: a short quotation in an essay,
    # placed on its words although the words around it ("the", "no") are common ones.
    quoted = "timber, salt and grain past warehouses that had"
    query = f'One historian says the harbour "{quoted}" no use for.'
    (p,) = align(Document("q", query), Document("s", SOURCE))
    assert query[p.query_start : p.query_end] == quoted
    assert SOURCE[p.source_start : p.source_end] == quoted


def test_a_quotation_inside_ones_own_sentence_stays_a_copy() -> None:
    # The sentence around the quotation is the writer's own: only the quoted words count.
    query = ('Looking back, the strike of that year meant, in one writer\'s words, that "the '
             'organisational lessons of that summer shaped a generation of labour leaders" '
             "who would later run the unions themselves.")
    passages = align(Document("q", query), Document("s", SOURCE))
    assert len(passages) == 1 and passages[0].kind is Kind.COPY
    assert query[passages[0].query_start : passages[0].query_end] == (
        "the organisational lessons of that summer shaped a generation of labour leaders"
    )


def test_paraphrase_of_several_sentences_is_found() -> None:
    source = (
        "When the seamen went on strike in 1911, about forty thousand dock workers in "
        "Liverpool joined them, and the port came almost completely to a stop for more than "
        "two months. The government sent soldiers into the city, and two men died from gunfire "
        "on Vauxhall Road while a warship lay anchored in the Mersey."
    )
    query = (
        "Other things happened first. Once the seamen struck in 1911, roughly forty thousand "
        "Liverpool dockers joined them and the port almost completely stopped for over two "
        "months. Soldiers were sent into the city by the government; two men were killed by "
        "gunfire on Vauxhall Road, and a warship was anchored in the Mersey.\n\nLater, calm."
    )
    passages = align(Document("q", query), Document("s", source))
    assert len(passages) == 1
    p = passages[0]
    assert p.kind is Kind.PARAPHRASE
    assert query[p.query_start : p.query_end].startswith("Once the seamen struck")
    assert query[p.query_start : p.query_end].endswith("anchored in the Mersey.")
    assert (p.source_start, p.source_end) == (0, len(source))


# The minutes of a harbour board: a source with a sentence for every step of a story.
HARBOUR = [
    "The harbour board met in March to discuss the silting of the northern channel.",
    "Engineers reported that the sandbanks had moved two hundred yards in a decade.",
    "Several captains complained that larger steamers now waited for the spring tides.",
    "Merchants feared that trade would drift to the rival port across the estuary.",
    "The board's treasurer warned that dredging would cost more than the annual dues.",
    "A proposal to borrow the money against future tonnage fees was debated at length.",
    "Opponents argued that the fees would drive shipowners away even faster.",
    "In the end the board voted narrowly to borrow and to begin dredging in the autumn.",
    "The first dredger arrived from Glasgow in October and worked through the winter.",
    "By the following summer the channel was deep enough for the largest steamers.",
    "Trade recovered quickly and the loan was repaid within twelve years.",
    "The treasurer later wrote that the decision had saved the port from decline.",
    "His account was published in a pamphlet that circulated among the merchants.",
    "It praised the engineers and the dredging crews who had worked in bitter weather.",
    "It also named the captains who had first raised the alarm about the sandbanks.",
    "Some of them were given the freedom of the town at a dinner in the guildhall.",
    "The rival port across the estuary never regained the trade it had briefly won.",
    "Its own channel silted up in turn, and no board there was willing to borrow.",
]


def test_a_summary_of_a_whole_source_is_one_passage() -> None:
    source = " ".join(HARBOUR)
    summary = (
        "The harbour board met about the silting of the northern channel, where sandbanks "
        "had moved. Captains complained that steamers waited for spring tides, and merchants "
        "feared trade would drift to the rival port. Dredging would cost more than the dues, "
        "so the board voted narrowly to borrow against future tonnage fees. A dredger from "
        "Glasgow deepened the channel, trade recovered and the loan was repaid."
    )
    query = ("A history of a small port.\n\n" + summary
             + "\n\nThe port's later history is another story.")
    passages = align(Document("q", query), Document("s", source))
    assert len(passages) == 1
    p = passages[0]
    assert query[p.query_start : p.query_end] == summary
    assert (p.source_start, p.source_end) == (0, len(source))


def test_two_adjacent_sentences_copied_in_swapped_order_are_two_copies() -> None:
    a = ("Every arrival hall was also a place of departure, because the people who passed "
         "through it were already rehearsing the stories they would tell about the crossing.")
    b = ("Memory in a port city is never settled; it is argued over in kitchens, in churches "
         "and at the cemetery gates on the anniversaries of the dead.")
    source = f"Port cities are built by people who did not plan to stay. {a} {b} Nothing else."
    query = f"My own words come first. {b} {a} And mine again."
    passages = align(Document("q", query), Document("s", source))
    _check_spans(passages, query, source)
    assert [(query[p.query_start : p.query_end], p.kind) for p in passages] == [
        (b, Kind.COPY), (a, Kind.COPY)
    ]
    assert [source[p.source_start : p.source_end] for p in passages] == [b, a]


# A short source for close paraphrases: each sentence has words of its own.
LEDGER = (
    "The salt merchants of Bergen kept their accounts in heavy ledgers bound in sealskin. "
    "A fisherman who borrowed salt in March owed his whole catch by September, and in a bad "
    "year he owed the next one as well. "
    "Prices were fixed each spring at a meeting in the German hall on the wharf. "
    "Posts were left unfilled when their clerks retired, counters were merged, and within a "
    "decade a hall that once held sixty traders held twelve."
)


def test_one_closely_reworded_sentence_is_found_on_its_own() -> None:
    # Too short and too little alike for the sentence-run evidence of paraphrases: eight
    # words of the source sentence come back in its order, the rest are synonyms.
    reworded = ("A fisherman who had borrowed salt in the spring owed his entire catch by "
                "the autumn, and after a bad year he owed the following one too.")
    query = f"The trade was harsh for those who worked it. {reworded} Few complained aloud."
    passages = align(Document("q", query), Document("s", LEDGER))
    _check_spans(passages, query, LEDGER)
    assert [(query[p.query_start : p.query_end], p.kind) for p in passages] == [
        (reworded, Kind.PARAPHRASE)
    ]
    (p,) = passages
    assert LEDGER[p.source_start : p.source_end].startswith("A fisherman who borrowed salt")


def test_two_consecutive_reworded_sentences_are_one_passage() -> None:
    # Each sentence alone shares too few words with its source sentence; two consecutive
    # sentences rewritten from two consecutive ones are not chance.
    first = "Prices were set every spring at a gathering in the German hall by the wharf."
    second = ("Jobs were simply not refilled when the clerks holding them retired, counters "
              "were combined, and inside ten years a hall that had seated sixty traders "
              "seated twelve.")
    query = f"{first} {second}"
    passages = align(Document("q", query), Document("s", LEDGER))
    _check_spans(passages, query, LEDGER)
    assert [query[p.query_start : p.query_end] for p in passages] == [query]


def _close(query: str, source: str) -> list[str]:
    """The query sides of the close paraphrases the close stage alone proposes."""
    from stemmatic.align import prepare
    from stemmatic.align.close import find_close
    from stemmatic.align.seeds import sentence_vectors
    from stemmatic.settings import Settings

    q, s = prepare(query, Settings()), prepare(source, Settings())
    found = find_close(q, s, sentence_vectors(q, s), Settings())
    return [query[c.q_span[0] : c.q_span[1]] for c in found]


def test_words_shared_out_of_order_make_no_close_paraphrase() -> None:
    # The close stage on its own: the reworded sentence keeps the source's order of
    # words; the same content words shuffled into a sentence of one's own do not.
    kept = ("A fisherman who had borrowed salt in the spring owed his entire catch by the "
            "autumn, and after a bad year he owed the following one too.")
    shuffled = ("By September the catch, whole, was what a year of bad salt borrowed from "
                "March had owed the next fisherman as well.")
    assert _close(f"Salt was dear. {kept}", LEDGER) == [kept]
    assert _close(f"Salt was dear. {shuffled}", LEDGER) == []


def test_a_sentence_on_the_same_topic_is_no_close_paraphrase() -> None:
    query = ("Bergen's salt merchants were feared along the whole coast, and a fisherman "
             "who fell behind in a bad year could lose his boat to them.")
    assert align(Document("q", query), Document("s", LEDGER)) == []


def test_a_note_marker_after_a_full_stop_ends_the_sentence() -> None:
    from stemmatic.align import prepare
    from stemmatic.settings import Settings

    text = "The clerk read the paper aloud.¹ In England a century earlier, crowds gathered."
    p = prepare(text, Settings())
    assert [text[a:b] for a, b in zip(p.sent_start, p.sent_end, strict=True)] == [
        "The clerk read the paper aloud.¹",
        "In England a century earlier, crowds gathered.",
    ]


def test_copies_and_a_paraphrase_from_far_apart_are_placed_each_on_its_source_words() -> None:
    # A paragraph that copies two sentences of a source and paraphrases a third is three
    # borrowings, each placed on its own source words, not a summary of the whole source.
    source = " ".join(HARBOUR)
    first, last = HARBOUR[1], HARBOUR[15]
    paraphrase = (
        "In the end the board narrowly voted to borrow the money and to start dredging "
        "that autumn."
    )
    query = (
        "A history of a small port.\n\n"
        f"The record is plain: “{first}” A decision followed. {paraphrase} It worked. "
        f"As the town's chronicle puts it, “{last}”\n\n"
        "The port's later history is another story."
    )
    passages = align(Document("q", query), Document("s", source))
    assert passages
    for p in passages:
        # No passage claims the whole source (or most of it).
        assert p.source_end - p.source_start < len(source) / 2, (p.source_start, p.source_end)
    by_words = {query[p.query_start : p.query_end]: p for p in passages}
    for sentence in (first, last):
        copy = next(p for words, p in by_words.items() if sentence.rstrip(".") in words)
        assert copy.kind is Kind.COPY
        assert source[copy.source_start : copy.source_end].rstrip(".") == sentence.rstrip(".")
    reworded = [p for p in passages if query.find(paraphrase) <= p.query_start < query.find(
        paraphrase) + len(paraphrase)]
    assert reworded, passages
    start = source.find(HARBOUR[7])
    assert start <= reworded[0].source_start < start + len(HARBOUR[7])


def _differences_of_spans(query: str, source: str, p: Passage) -> tuple[Difference, ...]:
    """The differences of the word alignment of exactly the tokens ``p``'s spans hold."""
    q, s = prepare(query, Settings()), prepare(source, Settings())
    q0, q1 = span_tokens(q, p.query_start, p.query_end)
    s0, s1 = span_tokens(s, p.source_start, p.source_end)
    return differences(q.tokens, s.tokens, align_words(q.tokens, q0, q1, s.tokens, s0, s1))


@PROPERTY
@given(st.integers(0, 10**6), st.lists(st.integers(8, 40), min_size=1, max_size=5))
def test_a_passages_differences_are_those_of_the_words_its_spans_hold(
    seed: int, lengths: list[int]
) -> None:
    # ``classify`` keeps the differences of a passage it does not cut, as those of its
    # spans' words: pieces of a source, some cut mid-word, some with words changed.
    rng = random.Random(seed)
    source = _filler(rng, SOURCE_LETTERS, 150) + " " + " ".join(_passage(rng, 120))
    pieces = []
    for n in lengths:
        start = rng.randrange(0, len(source) - 1)
        words = source[start : start + 8 * n].split(" ")
        for _ in range(rng.randint(0, 3)):
            words[rng.randrange(len(words))] = rng.choice(PASSAGE_WORDS)
        pieces.append(" ".join(words))
        pieces.append(_filler(rng, QUERY_LETTERS, rng.randint(0, 20)))
    query = " ".join(pieces)
    for p in align(Document("q", query), Document("s", source)):
        assert p.differences == _differences_of_spans(query, source, p)


def test_the_example_passages_differences_are_those_of_the_words_their_spans_hold() -> None:
    # Copies, sentence and close paraphrases, with typography, spelling and changed words.
    examples = Path(__file__).resolve().parent.parent / "examples"
    query = (examples / "essay.md").read_text(encoding="utf-8")
    methods = set()
    for path in sorted((examples / "sources").glob("*.txt")) + sorted(
        (examples / "sources").glob("*.md")
    ):
        source = path.read_text(encoding="utf-8")
        for p in align(Document("q", query), Document("s", source)):
            methods.add(p.method)
            assert p.differences == _differences_of_spans(query, source, p), (path.name, p)
    assert {"ngram", "sentence"} <= methods


def test_a_candidate_aligned_over_other_words_is_aligned_again() -> None:
    text = "the dock was never simply a workplace it was the city clock and its gossip"
    q, s = prepare(text, Settings()), prepare(text, Settings())
    wide = align_words(q.tokens, 0, len(q.tokens), s.tokens, 0, len(s.tokens))
    # Words 2 to 6 ("was never simply a workplace") on both sides, but aligned as a whole.
    span = (int(q.tokens.starts[2]), int(q.tokens.ends[6]))
    candidate = Candidate(span, span, Kind.COPY, 1.0, 5, wide, "ngram")
    exact = Candidate(span, span, Kind.COPY, 1.0, 5, align_words(q.tokens, 2, 7, s.tokens, 2, 7),
                      "ngram")
    again, kept = _spanned(q, s, [candidate, exact])
    assert again.opcodes == (("equal", 2, 7, 2, 7),)
    assert kept is exact.alignment
