"""Condensed paraphrases: one sentence rewriting two or three adjacent sentences of the
other text is found as one passage over all of them; independently written sentences on
the same topic are not."""

from __future__ import annotations

import pytest

from stemmatic.align import align, prepare
from stemmatic.align.close import MAX_WORDS, SPECIFIC
from stemmatic.align.paraphrases import (
    CONDENSED_DICE,
    CONDENSED_OWN,
    CONDENSED_RUNS,
    CONDENSED_SHARED,
)
from stemmatic.align.seeds import Condensation, condensation_seeds, sentence_vectors
from stemmatic.pipeline import trace
from stemmatic.settings import Settings
from stemmatic.types import Attribution, Document, Kind, Passage

# The quality gate's case passage-narrative-cited-paraphrase: one query sentence
# condensing the first two sentences of its source.
ASHWORTH = (
    "The crowds that seized grain carts in the hungry years were not mobs in the sense "
    "their enemies intended. They were disciplined, often led by women, and they "
    "frequently paid for what they took, at a price they considered just.\n"
    "\n"
    "In the spring of 1766 the price of a quartern loaf rose by nearly a third in six "
    "weeks. Riots broke out in more than sixty market towns, and in most of them the "
    "crowd's first target was not the baker but the miller and the dealer who bought up "
    "grain for export.\n"
    "\n"
    "Magistrates were often sympathetic. Many of them believed, as the crowds did, that "
    "a fair price for bread was a matter of custom and conscience rather than of supply "
    "and demand."
)
ASHWORTH_QUERY = (
    "Ashworth argues that the grain crowds were not mobs at all, whatever their enemies "
    "claimed: they were orderly, frequently led by women, and they often paid for what "
    "they seized at a price they thought fair."
)

# One query sentence merging three short source sentences.
BEES = (
    "A colony may hold fifty thousand bees at midsummer. Worker bees forage within three "
    "kilometres of the hive. They bring nectar home in a special stomach. Younger workers "
    "then fan it until the water evaporates and honey remains.\n"
    "\n"
    "Swarms leave in late spring."
)
BEES_QUERY = (
    "Workers gather from as far as three kilometres away, bringing the nectar back in a "
    "dedicated stomach, and younger bees fan off its water until only honey is left. "
    "The rest of this essay is about swarming."
)

# A condensation that puts the consequence (the second sentence) before the cause.
VOLCANO = (
    "Tambora stands on the island of Sumbawa. Its eruption in April 1815 threw so much "
    "ash into the sky that summer never came to Europe the following year. Crops failed "
    "from Switzerland to Ireland, and bread prices doubled. Mary Shelley wrote "
    "Frankenstein indoors that June."
)
VOLCANO_QUERY = (
    "Historians of climate keep returning to that decade. Bread prices doubled and "
    "harvests failed across Europe in 1816, a year without a summer, because the "
    "eruption of the year before had filled the sky with ash."
)

# The other way round: two query sentences rewriting one long source sentence.
ROADS = (
    "The network reached eighty thousand kilometres at its height. Roman engineers laid "
    "their roads on a bed of crushed stone and gravel, cambered the surface so that rain "
    "ran off into side ditches, and marked every mile with an inscribed stone pillar. "
    "Many of those roads are still in use."
)
ROADS_QUERY = (
    "Roman builders bedded each highway on crushed stone and gravel and gave it a camber, "
    "so rain drained to ditches along both edges. At every mile a pillar of stone "
    "recorded the distance in an inscription."
)

# Sentences on the topic of a two-sentence source, written without it: they share its
# names and a few of its terms, not its content.
INDEPENDENT = [
    (
        "The Tambora eruption is better documented than most, because colonial officials "
        "on Sumbawa and Java sent reports of the ash fall to Batavia within weeks.",
        "Tambora stands on the island of Sumbawa. Its eruption in April 1815 threw so much "
        "ash into the sky that summer never came to Europe the following year.",
    ),
    (
        "By 1900 the Mersey ferries carried commuters from Birkenhead to Liverpool, and the "
        "docks employed more casual labourers than any other port in Britain.",
        "Liverpool grew rich on the Atlantic trade, and its docks stretched for miles along "
        "the Mersey. Sailing ships waited in the river for a fair wind, while pilots "
        "studied the shifting sandbanks of the bay.",
    ),
    (
        "Grain riots were rarer in Scotland, where the kirk sessions bought meal in bad "
        "years and sold it to the poor below the market price.",
        ASHWORTH.split("\n")[0],
    ),
]

def _align(query: str, source: str) -> list[Passage]:
    return align(Document(id="q", text=query), Document(id="s", text=source), Settings())


def _sentence(text: str, start: str, end: str) -> tuple[int, int]:
    """The span from ``start`` to the end of ``end`` (both unique in ``text``)."""
    first = text.index(start)
    return first, text.index(end, first) + len(end)


def _seeds(
    query: str, source: str, *, shared: int = CONDENSED_SHARED, dice: float = CONDENSED_DICE,
    own: int = CONDENSED_OWN,
) -> list[Condensation]:
    """The condensations the aligner would find (or with some limits changed)."""
    settings = Settings()
    q, s = prepare(query, settings), prepare(source, settings)
    return condensation_seeds(
        q, s, sentence_vectors(q, s), runs=CONDENSED_RUNS, shared=shared, dice=dice, own=own,
        specific=SPECIFIC, longest=MAX_WORDS,
    )


def test_the_gate_case_is_one_paraphrase_of_both_source_sentences() -> None:
    passages = _align(ASHWORTH_QUERY, ASHWORTH)
    assert len(passages) == 1
    p = passages[0]
    assert p.kind is Kind.PARAPHRASE
    assert p.method == "condensed"
    assert (p.query_start, p.query_end) == (0, len(ASHWORTH_QUERY))
    assert (p.source_start, p.source_end) == _sentence(ASHWORTH, "The crowds", "considered just.")


def test_the_gate_case_is_attributed_to_its_narrative_citation() -> None:
    source = Document(id="ashworth-2010", text=ASHWORTH, author="Eleanor Ashworth", date="2010")
    report = trace(Document(id="q", text=ASHWORTH_QUERY), sources=[source])
    paraphrases = [p for p in report.passages if p.kind is Kind.PARAPHRASE]
    assert [p.source_id for p in paraphrases] == ["ashworth-2010"]
    assert paraphrases[0].attribution is Attribution.CITED


def test_one_sentence_merging_three_short_sentences_spans_all_three() -> None:
    passages = _align(BEES_QUERY, BEES)
    assert len(passages) == 1
    p = passages[0]
    assert p.method == "condensed"
    # The writer's own sentence after it stays out.
    assert (p.query_start, p.query_end) == _sentence(BEES_QUERY, "Workers gather", "is left.")
    assert (p.source_start, p.source_end) == _sentence(BEES, "Worker bees", "honey remains.")
    runs = [(c.sentence, c.first, c.last, c.in_query) for c in _seeds(BEES_QUERY, BEES)]
    assert runs == [(0, 1, 3, True)]


def test_a_condensation_with_its_clauses_reordered_is_found() -> None:
    passages = _align(VOLCANO_QUERY, VOLCANO)
    assert len(passages) == 1
    p = passages[0]
    assert p.method == "condensed"
    assert (p.query_start, p.query_end) == _sentence(VOLCANO_QUERY, "Bread prices", "with ash.")
    assert (p.source_start, p.source_end) == _sentence(VOLCANO, "Its eruption", "prices doubled.")


def test_two_query_sentences_expanding_one_source_sentence_are_one_passage() -> None:
    passages = _align(ROADS_QUERY, ROADS)
    assert len(passages) == 1
    p = passages[0]
    assert (p.query_start, p.query_end) == (0, len(ROADS_QUERY))
    assert (p.source_start, p.source_end) == _sentence(ROADS, "Roman engineers", "stone pillar.")
    # Found as source sentence 1 expanded into query sentences 0 and 1.
    runs = [(c.sentence, c.first, c.last, c.in_query) for c in _seeds(ROADS_QUERY, ROADS)]
    assert runs == [(1, 0, 1, False)]


@pytest.mark.parametrize(("query", "source"), INDEPENDENT)
def test_independent_sentences_on_the_same_topic_are_not_reported(query: str, source: str) -> None:
    assert _align(query, source) == []
    # Not even as a condensation with the limits relaxed a little: they are far from it.
    assert _seeds(query, source, shared=4, dice=0.3) == []


def test_every_sentence_of_the_run_must_add_words_of_its_own() -> None:
    # The query sentence rewrites the first source sentence and takes one word of the
    # second: a sentence pair (a seed already) and a neighbour, not a condensation.
    query = (
        "Beekeepers in the hills move their hives up to the heather moors every August, "
        "where the bees make a dark and strongly flavoured honey that buyers prize."
    )
    source = (
        "Every August the hill beekeepers carry their hives up to the heather moors, and "
        "the bees there make a dark honey with a strong flavour. Buyers pay well for it."
    )
    assert _seeds(query, source) == []
    assert _seeds(query, source, own=1) != []  # the rule, not the other limits, says no


def test_a_run_stays_inside_one_paragraph() -> None:
    split = ASHWORTH.replace("intended. They", "intended.\n\nThey")
    assert _seeds(ASHWORTH_QUERY, ASHWORTH) == [Condensation(0, 0, 1, True, 11, 22 / 37)]
    assert _seeds(ASHWORTH_QUERY, split) == []
    assert _align(ASHWORTH_QUERY, split) == []
