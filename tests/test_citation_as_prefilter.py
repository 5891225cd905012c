"""The "as Smith argues" / "as noted by Smith" patterns, tried only where they may match,
find what a search over the whole text finds."""

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from stemmatic import citations as c

_PIECES = [
    "as", "As", "AS", "aſ", " ", "  ", "\n", "\t", "\u00a0", "\u2003", "\x1c", "\x00",
    "Smith", "van", "der", "Berg", "de", "la", "Cruz", "the", "well", "noted", "by",
    "pointed", "out", "argues", "argued", "put", "shown", "(2004)", ",", ".", "and",
    "Jones", "et al.", "Étienne", "ʻ", "delà", "vanx", "notedly", "x",
]


def _search(pattern: c.regex.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def _prefiltered(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    doc = c._Context(text, "sentence", [])
    verb, by = c._after_as(text, c._as_words(doc))
    return (
        [m.span() for m in c._matches_at(c._AS_VERB, text, verb)],
        [m.span() for m in c._matches_at(c._AS_BY, text, by)],
    )


def test_as_patterns_found_as_by_search() -> None:
    text = (
        "As Smith argues, this holds. It was, as noted by Jones (2004), rare. "
        "As van der Berg writes, as the critics say, as well as others, as de la Cruz "
        "notes: as\u00a0Smith argues, as\u2003noted by Lee, as pointed out by Kim and "
        "as put by Ng. as\x1cSmith argues, as"
    )
    verb, by = _prefiltered(text)
    assert verb == _search(c._AS_VERB, text)
    assert by == _search(c._AS_BY, text)
    assert len(verb) >= 3 and len(by) >= 3  # the text does hold such citations


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_as_prefilter_keeps_every_match(pieces: list[str]) -> None:
    text = " ".join(pieces) if len(pieces) % 2 else "".join(pieces)
    verb, by = _prefiltered(text)
    assert verb == _search(c._AS_VERB, text)
    assert by == _search(c._AS_BY, text)


def test_titles_filled_with_covers_are_replaced_marks() -> None:
    mark = c.CitationMark(3, 9, "(X, 2004)", c.PARENTHETICAL, ("X",), "2004", None, "12", (1,))
    titled = c.CitationMark(3, 9, "(Y)", c.PARENTHETICAL, ("Y",))
    entry = c.CitationMark(30, 50, "Y. (2001). Z.", c.REFERENCE, ("Y",), "2001", "Z")
    assert c._fill_titles([mark, titled], [entry], [(0, 20), (1, 2)]) == [
        replace(mark, covers=(0, 20)),
        replace(titled, year="2001", title="Z", covers=(1, 2)),
    ]
    assert c._fill_titles([mark], [], [(0, 20)]) == [replace(mark, covers=(0, 20))]

