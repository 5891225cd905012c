"""The aligner: planted passages are found at their exact offsets, in any order."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stemmatic.align import align
from stemmatic.types import DiffType, Document, Kind



def _words(rng: random.Random, n: int) -> str:
    """Random text: invented words, so two random texts share words only by rare chance."""
    out = []
    for i in range(n):
        word = "".join(rng.choice("abcdefghiklmnoprstuvw") for _ in range(rng.randint(3, 9)))
        out.append(word + ("." if i % 11 == 10 else ""))
    return " ".join(out)


def _plant(
    rng: random.Random, passage: str, before: int, after: int, end: str = ".", edge: str = "Aardvark"
) -> tuple[str, int, int]:
    # ``edge`` words around the passage differ between query and source, so that a chance
    # match of the neighbouring filler cannot extend the passage.
    head = _words(rng, before) + f". {edge} " if before else f"{edge} "
    text = head + passage + end + f" {edge} " + _words(rng, after) + "."
    start = len(head)
    return text, start, start + len(passage)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(12, 40), st.integers(0, 200), st.integers(0, 200))
def test_planted_verbatim_passage_is_found_at_its_exact_offsets(
    seed: int, length: int, before: int, after: int
) -> None:
    rng = random.Random(seed)
    # A passage from a different vocabulary, so chance matches with the filler are rare.
    passage = " ".join(rng.choice(["Albion", "Mersey", "Tillett", "Vauxhall", "Bootle",
                                   "Kirkdale", "Garston", "Everton", "Toxteth", "Wirral",
                                   "Birkenhead", "Seacombe", "Wallasey", "Runcorn"])
                       + str(rng.randint(1, 9)) for _ in range(length))
    source, s0, s1 = _plant(rng, passage, before, after)
    # Different closing marks: shared punctuation would rightly join the passage.
    query, q0, q1 = _plant(
        rng, passage, rng.randint(0, 100), rng.randint(0, 100), end="!", edge="Zebra"
    )
    passages = align(Document("q", query), Document("s", source))
    assert any(
        (p.query_start, p.query_end, p.source_start, p.source_end) == (q0, q1, s0, s1)
        for p in passages
    ), (passages, (q0, q1, s0, s1))
    for p in passages:
        assert 0 <= p.query_start < p.query_end <= len(query)
        assert 0 <= p.source_start < p.source_end <= len(source)


SOURCE = (
    "The dock was never simply a workplace; it was the city's clock, its gossip and its "
    "school. In 1911 the organisational lessons of that summer shaped a generation of "
    "labour leaders across the northern ports. Meanwhile the river carried timber, salt and "
    "grain past warehouses that had stood empty since the great fire of the previous decade."
)


def test_spelling_and_typography_variants_are_found_and_named() -> None:
    query = (
        "Some context first. The dock was never simply a workplace; it was the city’s clock, "
        "its gossip and its school. In 1911 the organizational lessons of that summer shaped a "
        "generation of labor leaders across the northern ports. Then other words follow."
    )
    passages = align(Document("q", query), Document("s", SOURCE))
    assert len(passages) == 1
    p = passages[0]
    assert query[p.query_start : p.query_end].startswith("The dock was never")
    assert query[p.query_start : p.query_end].endswith("northern ports.")
    types = {(d.query, d.source): d.type for d in p.differences}
    assert types[("labor", "labour")] is DiffType.SPELLING
    assert types[("organizational", "organisational")] is DiffType.SPELLING
    assert types[("city’s", "city's")] is DiffType.TYPOGRAPHY


def test_changed_and_dropped_words_are_differences() -> None:
    query = (
        "The dock was never simply a workplace; it was the town's clock, its gossip and "
        "school. In 1911 the organisational lessons of that summer shaped a generation."
    )
    passages = align(Document("q", query), Document("s", SOURCE))
    assert passages
    changes = {(d.type, d.query, d.source) for p in passages for d in p.differences}
    assert (DiffType.WORD, "town's", "city's") in changes
    assert any(t is DiffType.OMISSION and s == "its" for t, _q, s in changes)


def test_reordered_passages_are_both_found() -> None:
    a = ("Every arrival hall was also a place of departure, because the people who passed "
         "through it were already rehearsing the stories they would tell about the crossing.")
    b = ("Memory in a port city is never settled; it is argued over in kitchens, in churches "
         "and at the cemetery gates on the anniversaries of the dead.")
    filler = ("Tides, timber and tariffs filled the ledgers of the customs house for a "
              "century and more, year after year without change. " * 4)
    source = f"{a} {filler} {b}"
    query = f"Consider this. {b} And then: {a}"
    passages = align(Document("q", query), Document("s", source))
    starts = sorted(query[p.query_start : p.query_end][:12] for p in passages)
    assert len(passages) >= 2, passages
    assert any(s.startswith("Memory in a") for s in starts)
    assert any(s.startswith("Every arriva") for s in starts)
    for p in passages:
        words = source[p.source_start : p.source_end]
        assert words.startswith(("Every", "Memory"))


def test_passages_never_overlap_on_the_query_side() -> None:
    rng = random.Random(7)
    source = _words(rng, 400)
    query = source[200:1500] + " " + source[100:900]
    passages = align(Document("q", query), Document("s", source))
    assert passages
    spans = sorted((p.query_start, p.query_end) for p in passages)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_unrelated_texts_give_nothing() -> None:
    bees = ("Bees gather nectar from clover and store it as honey in wax combs; a strong "
            "colony can make more than it needs in a good summer, and the keeper takes the rest.")
    assert align(Document("q", bees), Document("s", SOURCE)) == []


def test_tiny_and_empty_texts() -> None:
    assert align(Document("q", ""), Document("s", SOURCE)) == []
    assert align(Document("q", "dock"), Document("s", SOURCE)) == []
    assert align(Document("q", SOURCE), Document("s", " ")) == []


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
        "gunfire on Vauxhall Road, and a warship was anchored in the Mersey. Later, calm."
    )
    passages = align(Document("q", query), Document("s", source))
    assert passages, "paraphrase not found"
    p = passages[0]
    assert p.kind in (Kind.PARAPHRASE, Kind.COPY)
    covered = query[p.query_start : p.query_end]
    assert "seamen struck" in covered and "Mersey" in covered
