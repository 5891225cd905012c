"""Tests of citation detection and resolution (stemmatic.citations)."""

from __future__ import annotations

import bisect

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from stemmatic import citations
from stemmatic.citations import (
    CitationMark,
    find_citations,
    footnotes,
    reference_list,
    resolve,
    sentences,
)
from stemmatic.quotes import find_quotations
from stemmatic.types import Document


def cites(text: str, style: str | None = None, **kwargs: str) -> list[CitationMark]:
    marks = find_citations(text, **kwargs)
    return [m for m in marks if style is None or m.style == style]


def one(text: str, style: str | None = None) -> CitationMark:
    marks = [m for m in cites(text, style) if m.style != "reference"]
    assert len(marks) == 1, [m.text for m in marks]
    mark = marks[0]
    assert text[mark.start : mark.end] == mark.text
    return mark


def covered(text: str, mark: CitationMark) -> str:
    return text[mark.covers[0] : mark.covers[1]]


# --- parenthetical ---------------------------------------------------------------------


def test_author_year() -> None:
    text = "Markets fail often (Smith 2004). Next."
    mark = one(text)
    assert (mark.style, mark.text, mark.authors, mark.year) == (
        "parenthetical", "(Smith 2004)", ("Smith",), "2004")
    assert covered(text, mark) == "Markets fail often (Smith 2004)."


def test_author_comma_year_page() -> None:
    mark = one("A claim (Smith, 2004, p. 12).")
    assert (mark.authors, mark.year, mark.pages) == (("Smith",), "2004", "p. 12")


def test_author_year_colon_page() -> None:
    mark = one("A claim (Smith 2004: 45-47).")
    assert (mark.year, mark.pages) == ("2004", "45-47")


def test_author_page_range() -> None:
    mark = one("It was “a bad year” (Smith, p. 23-26).")
    assert (mark.authors, mark.year, mark.pages) == (("Smith",), None, "p. 23-26")


def test_mla_author_page_after_quotation() -> None:
    mark = one("She calls it “the end of history” (Fukuyama 12).")
    assert (mark.authors, mark.pages, mark.year) == (("Fukuyama",), "12", None)


def test_two_authors() -> None:
    assert one("A claim (Smith and Jones 2004).").authors == ("Smith", "Jones")
    assert one("A claim (Smith & Jones, 2004).").authors == ("Smith", "Jones")


def test_three_authors() -> None:
    assert one("A claim (Smith, Jones, and Lee 2004).").authors == ("Smith", "Jones", "Lee")


def test_et_al() -> None:
    mark = one("A claim (Smith et al., 2004).")
    assert (mark.authors, mark.year) == (("Smith",), "2004")


def test_particles_and_accents() -> None:
    assert one("A claim (van der Berg 2011).").authors == ("van der Berg",)
    assert one("A claim (Lévi-Strauss 1962).").authors == ("Lévi-Strauss",)
    assert one("A claim (O’Brien 1999).").authors == ("O’Brien",)


def test_organization_and_acronym_authors() -> None:
    assert one("A claim (World Health Organization 2020).").authors == (
        "World Health Organization",)
    assert one("A claim (OECD, 2019).").authors == ("OECD",)


def test_multiple_works_give_one_mark_each() -> None:
    text = "Studies agree (Smith 2004; Lee et al., 2010)."
    marks = cites(text)
    assert [(m.text, m.authors, m.year) for m in marks] == [
        ("Smith 2004", ("Smith",), "2004"),
        ("Lee et al., 2010", ("Lee",), "2010"),
    ]
    assert all(covered(text, m) == text for m in marks)


def test_see_prefix_and_emphasis_suffix() -> None:
    assert one("A claim (see Smith 2004).").authors == ("Smith",)
    assert one("A claim (cf. Smith 2004, p. 3).").pages == "p. 3"
    assert one("It was “sharp” (Smith 2004, 12, emphasis added).").pages == "12"


def test_several_years_for_one_author() -> None:
    assert one("A claim (Smith 2004, 2010).").year == "2004, 2010"


def test_no_date_and_letter_suffix() -> None:
    assert one("A claim (Smith n.d.).").year == "n.d."
    assert one("A claim (Smith 2004a).").year == "2004a"


@pytest.mark.parametrize(
    "title_text",
    ['("Workers of the World")', "(“Workers of the World”)", "(‘Workers of the World’)",
     "(*Workers of the World*)"],
)
def test_title_in_any_quote_style(title_text: str) -> None:
    text = f"The slogan was “unite” {title_text}."
    mark = one(text)
    assert (mark.title, mark.authors) == ("Workers of the World", ())


def test_title_at_sentence_end() -> None:
    text = "The company lost its trade in a year (\"A Short History of the Ferry\")."
    assert one(text).title == "A Short History of the Ferry"


def test_single_quoted_title_with_page() -> None:
    mark = one("Also “this” ('Title Here' 12).")
    assert (mark.title, mark.pages) == ("Title Here", "12")


def test_author_and_title() -> None:
    mark = one("It is “dead” (Nietzsche, “The Gay Science” 125).")
    assert (mark.authors, mark.title, mark.pages) == (("Nietzsche",), "The Gay Science", "125")


def test_lone_name_after_quotation() -> None:
    mark = one("“It was the best of times” (Dickens).")
    assert mark.authors == ("Dickens",)


def test_lone_common_surname_after_quotation() -> None:
    assert one("The motto was “never again” (Smith).").authors == ("Smith",)


def test_lone_rare_name_at_sentence_end_in_a_citing_document() -> None:
    text = "Power is productive (Foucault). Discipline is older (Smith 2004)."
    assert [m.authors for m in cites(text)] == [("Foucault",), ("Smith",)]


def test_lone_rare_name_in_a_document_that_cites_nothing_else() -> None:
    assert cites("Power is productive (Foucault).") == []


def test_lone_name_known_from_reference_list() -> None:
    text = "Markets fail (Smith) often.\n\nReferences\n\nSmith, J. (2004). Markets. OUP.\n"
    assert [m.authors for m in cites(text, "parenthetical")] == [("Smith",)]


@pytest.mark.parametrize(
    "text",
    [
        "We return to this later (see below).",
        "He lived through the war (1998–2004).",
        "The claim (which is true) stands.",
        "Some cases (e.g. this) are odd.",
        "He answered (Yes) quickly.",
        "She moved to the capital (Paris).",
        "The common name (Smith) appears mid-sentence.",
        "A name (Smith) followed by more words.",
        "The results (Table 2) are clear.",
        "It was finished (Spring 2004).",
        "The phone (iPhone 12) was new.",
        "He drove along (Route 66) happily.",
        "The agency (NASA) launched it.",
        "It is basic (Pakhtunistan).",
        "Leave the city on Route 528 (The Beachline Expressway).",
        "Speed is measured in Megabits Per Second (Mbps).",
        'The gloss reads “Ouviram” ("Listen to the cry of Ipiranga").',
        'It was done on behalf of Fidelity (“FMR”).',
        'The party buying the house (“Buyer”).',
        "The words (‘harm-joy’) translate it.",
        "A quantity (2004) alone.",
        "He said “bonjour” (French).",
        "Visible (Figure 3, p. 4).",
        "He was there (January 2004).",
    ],
)
def test_ordinary_parentheticals_are_not_citations(text: str) -> None:
    assert cites(text) == []


# --- narrative ---------------------------------------------------------------------------


def test_narrative_author_year() -> None:
    text = "Smith (2004) argues that markets fail. Next sentence."
    mark = one(text)
    assert (mark.style, mark.text, mark.authors, mark.year) == (
        "narrative", "Smith (2004)", ("Smith",), "2004")
    assert covered(text, mark) == "Smith (2004) argues that markets fail."


def test_narrative_two_authors_and_et_al() -> None:
    assert one("Smith and Jones (2004) disagree.").authors == ("Smith", "Jones")
    assert one("Later Lee et al. (2010) show it.").authors == ("Lee",)


def test_narrative_with_page() -> None:
    mark = one("As shown by Smith (2004, p. 7), it holds.")
    assert (mark.authors, mark.year, mark.pages) == (("Smith",), "2004", "p. 7")


def test_narrative_years_in_a_list_of_titles_are_not_citations() -> None:
    text = "She wrote the novels Haworth's (1879), Louisiana (1880) and Esmeralda (1881)."
    assert cites(text) == []


def test_place_and_early_year_needs_company() -> None:
    text = "Printed in a collection of motets (Leipzig, 1626)."
    assert cites(text) == []
    assert [m.authors for m in cites(text + " Modern views differ (Smith 2004).")] == [
        ("Leipzig",), ("Smith",)]


def test_author_year_whose_name_is_a_common_word_here_needs_company() -> None:
    assert cites("Public housing is scarce (Housing, 2002).") == []


def test_narrative_year_after_a_cue() -> None:
    assert one("For details, see Shuler (1992) on the method.").authors == ("Shuler",)


def test_narrative_possessive() -> None:
    assert one("Smith’s (2004) study found it.").authors == ("Smith",)


def test_according_to() -> None:
    mark = one("According to Foucault, power is everywhere.")
    assert (mark.text, mark.authors) == ("According to Foucault", ("Foucault",))


def test_according_to_mid_sentence() -> None:
    assert one("Power is everywhere, according to Jane Smith.").authors == ("Jane Smith",)


def test_as_author_writes() -> None:
    mark = one("As Butler writes, gender is performative.")
    assert (mark.text, mark.authors) == ("As Butler writes", ("Butler",))


def test_as_author_puts_it() -> None:
    assert one("As Orwell puts it, all animals are equal.").authors == ("Orwell",)


def test_as_author_says() -> None:
    assert one("As Smith says, this is so.").authors == ("Smith",)


def test_author_writes_that_mid_sentence() -> None:
    mark = one("In this book, Smith writes that markets fail.")
    assert (mark.text, mark.authors) == ("Smith writes", ("Smith",))


def test_rare_name_opening_a_sentence() -> None:
    assert one("Foucault argues that power is diffuse.").authors == ("Foucault",)


def test_common_name_opening_a_sentence_needs_evidence() -> None:
    assert cites("Brown argues that this is wrong.") == []
    text = "Here is the view of Brown on it. Brown argues that this is wrong."
    assert one(text).authors == ("Brown",)


def test_in_title_author() -> None:
    mark = one("In *The Prince*, Machiavelli writes about power.")
    assert (mark.title, mark.authors) == ("The Prince", ("Machiavelli",))
    mark = one("In her essay “A Room of One’s Own”, Woolf argues for money.")
    assert (mark.title, mark.authors) == ("A Room of One’s Own", ("Woolf",))


@pytest.mark.parametrize(
    "text",
    [
        "Research shows that this is false.",
        "Critics argue that this is false.",
        "Evidence suggests otherwise.",
        "Smith said, “Come in.”",
        "According to Table 3, sales rose.",
        "According to Christian doctrine, this is so.",
        "He writes that this is true.",
        "As he writes, this is true.",
        "The report notes that costs rose.",
        "History shows that empires fall. Empires fall as history shows.",
        "A study in New York found that rents rose.",
        "Researchers from Sweden demonstrated that genes matter.",
        "The Kennel Club reports that poodles lead.",
        "Spain and other Baltic states, and Ukraine.",
    ],
)
def test_not_narrative_citations(text: str) -> None:
    assert cites(text) == []


def test_overlapping_patterns_give_one_mark() -> None:
    mark = one("According to Smith (2004), markets fail.")
    assert (mark.text, mark.year) == ("According to Smith (2004)", "2004")


# --- numeric and footnote markers ---------------------------------------------------------


def test_bracket_numbers() -> None:
    marks = cites("Shown before [1]. Others agree [2, 4-6]. See [12].")
    assert [(m.style, m.numbers) for m in marks] == [
        ("numeric", (1,)), ("numeric", (2, 4, 5, 6)), ("numeric", (12,))]


def test_superscript_markers() -> None:
    marks = cites("A claim.¹ Another claim,²³ and a third¹˒² here.")
    assert [(m.style, m.numbers) for m in marks] == [
        ("footnote", (1,)), ("footnote", (23,)), ("footnote", (1, 2))]


def test_caret_and_markdown_markers() -> None:
    marks = cites("A marker^1 here and another[^2] there.")
    assert [(m.text, m.numbers) for m in marks] == [("^1", (1,)), ("[^2]", (2,))]


@pytest.mark.parametrize(
    "text",
    ["The area is 10 m² here.", "Energy E = mc² always.", "Compute x^2 now.",
     "He wrote [sic] this.", "In [2004] it rose.", "Link [1](http://x.org) here.",
     "An array[1] index."],
)
def test_not_note_markers(text: str) -> None:
    assert cites(text) == []


def test_numeric_resolved_to_notes_section() -> None:
    text = (
        "Shown before [1]. Others agree [2].\n\nNotes\n\n"
        "1. Smith, J. (2004). The Title of It. Publisher.\n"
        "2. Brown, K. 2010. Another Book. Pub.\n"
    )
    first, second = cites(text)
    assert (first.numbers, first.authors, first.year, first.title) == (
        (1,), ("Smith",), "2004", "The Title of It")
    assert (second.authors, second.year, second.title) == (("Brown",), "2010", "Another Book")


def test_superscript_resolved_to_footnotes_with_ibid() -> None:
    text = (
        "A claim.¹ Another claim.²\n\n## Footnotes\n\n"
        "¹ Jane Smith, *Discipline and Punish* (New York: Pantheon, 1977), 45.\n"
        "² Ibid., 50.\n"
    )
    first, second = cites(text)
    assert (first.authors, first.title, first.year, first.pages) == (
        ("Smith",), "Discipline and Punish", "1977", "45")
    assert (second.authors, second.title, second.pages) == (
        ("Smith",), "Discipline and Punish", "50")
    assert covered(text, first) == "A claim.¹"


def test_numbered_reference_list_resolves_bracket_numbers() -> None:
    text = (
        "As shown in [1].\n\nReferences\n\n"
        "[1] A. Smith and B. Jones, “Fast Tracing,” in Proc. X, 2004, pp. 1–10.\n"
    )
    mark = cites(text, "numeric")[0]
    assert (mark.authors, mark.title, mark.year) == (("Smith", "Jones"), "Fast Tracing", "2004")


def test_marker_without_note_has_no_metadata() -> None:
    mark = one("Shown before [3].")
    assert (mark.numbers, mark.authors, mark.title) == ((3,), (), None)


# --- footnotes() ---------------------------------------------------------------------------


def test_footnotes_under_heading() -> None:
    text = "Body.¹\n\nNotes\n\n1. First note\ncontinues here.\n2. Second note.\n"
    notes = footnotes(text)
    assert sorted(notes) == [1, 2]
    start, end, note = notes[1]
    assert note == "First note\ncontinues here." and text[start:end] == note


def test_footnotes_markdown_definitions_anywhere() -> None:
    text = "Body[^1] text.\n\n[^1]: The note itself.\n\nMore body."
    assert footnotes(text)[1][2] == "The note itself."
    assert [m.numbers for m in cites(text)] == [(1,)]


def test_trailing_notes_without_heading() -> None:
    text = "Body text.¹ More text.²\n\n1. Smith, Title One, 4.\n\n2. Lee, Title Two, 9.\n"
    notes = footnotes(text)
    assert [notes[n][2] for n in (1, 2)] == ["Smith, Title One, 4.", "Lee, Title Two, 9."]
    first = cites(text)[0]
    assert (first.authors, first.title, first.pages) == (("Smith",), "Title One", "4")


def test_trailing_numbered_list_without_markers_is_not_notes() -> None:
    text = "Steps to follow:\n\n1. Buy milk.\n\n2. Go home.\n"
    assert footnotes(text) == {}


def test_marks_inside_notes_are_not_in_text_citations() -> None:
    text = "Body.¹\n\nNotes\n\n1. See Smith (2004) and (Lee 2010) for more.\n"
    marks = cites(text)
    assert [m.style for m in marks] == ["footnote"]


# --- reference lists --------------------------------------------------------------------------


def test_reference_list_apa_lines() -> None:
    text = (
        "Body (Smith 2004).\n\n# References\n\n"
        "Smith, J. (2004). Markets and their failures. Oxford: OUP.\n"
        "Jones, K., & Lee, M. (2010). “Another title.” Journal, 3, 1–10.\n"
    )
    refs = reference_list(text)
    assert [(r.authors, r.year, r.title) for r in refs] == [
        (("Smith",), "2004", "Markets and their failures"),
        (("Jones", "Lee"), "2010", "Another title"),
    ]
    assert all(r.style == "reference" and text[r.start : r.end] == r.text for r in refs)
    assert all(r.covers == (r.start, r.end) for r in refs)


def test_reference_list_mla_paragraphs() -> None:
    text = (
        "Body.\n\nWorks Cited\n\n"
        "Smith, John. *The Long Title of a Book*. Penguin,\n2004.\n\n"
        "Doe, Jane, and Bob Lee. “An Article.” Journal, vol. 2, 2011, pp. 3-9.\n"
    )
    refs = reference_list(text)
    assert [(r.authors, r.year, r.title) for r in refs] == [
        (("Smith",), "2004", "The Long Title of a Book"),
        (("Doe", "Lee"), "2011", "An Article"),
    ]
    assert refs[0].text.endswith("Penguin,\n2004.")


def test_reference_list_hanging_indent_and_bullets() -> None:
    text = (
        "Body.\n\n**Bibliography**\n"
        "- Smith, J. 2004. Markets and Failures. London:\n"
        "    Verso.\n"
        "- Brown, K. 2010. Second Book. Pub.\n"
    )
    refs = reference_list(text)
    assert [(r.authors, r.year, r.title) for r in refs] == [
        (("Smith",), "2004", "Markets and Failures"), (("Brown",), "2010", "Second Book")]
    assert refs[0].text.startswith("Smith") and refs[0].text.endswith("Verso.")


def test_reference_list_chicago_without_italics() -> None:
    text = "Body.\n\nSources:\n\nSmith, John. Title of the Book. New York: Pub, 2004.\n"
    (ref,) = reference_list(text)
    assert (ref.authors, ref.year, ref.title) == (("Smith",), "2004", "Title of the Book")


def test_reference_list_vancouver_and_et_al() -> None:
    text = (
        "Body.\n\nReferences\n\n"
        "Beard JL, Borel MJ, Derr J. Impaired thermoregulation in anemia. Am J Clin. "
        "1990;52:813-9.\n"
        "Smith, John, et al. The Shared Title. Penguin, 2004.\n"
    )
    assert [(r.authors, r.year, r.title) for r in reference_list(text)] == [
        (("Beard", "Borel", "Derr"), "1990", "Impaired thermoregulation in anemia"),
        (("Smith",), "2004", "The Shared Title"),
    ]


def test_reference_list_organization_author() -> None:
    text = "Body.\n\nReferences\n\nAmerican Cancer Society. Detailed Guide. 2007.\n"
    (ref,) = reference_list(text)
    assert (ref.authors, ref.year, ref.title) == (("American Cancer Society",), "2007",
                                                  "Detailed Guide")


def test_reference_section_ends_at_next_heading() -> None:
    text = (
        "Body.\n\nReferences\n\nSmith, J. (2004). A Book. Pub.\n\n"
        "## Appendix\n\nData from (Lee 2010) here."
    )
    assert [r.authors for r in reference_list(text)] == [("Smith",)]
    assert [m.authors for m in cites(text, "parenthetical")] == [("Lee",)]


def test_reference_entries_need_a_year_or_title() -> None:
    text = "Body.\n\nReferences\n\nSome loose line of text\nSmith, J. (2004). A Book. Pub.\n"
    assert [r.authors for r in reference_list(text)] == [("Smith",)]


def test_heading_word_inside_a_sentence_is_not_a_section() -> None:
    assert reference_list("The references to Smith (2004) are many.") == []


def test_title_filled_in_from_reference_list() -> None:
    text = (
        "Markets fail (Smith 2004). Jones (2010) agrees.\n\nReferences\n\n"
        "Smith, J. (2004). Markets and their failures. OUP.\n"
        "Jones, K. (2010a). Agreement. Pub.\n"
    )
    marks = [m for m in cites(text) if m.style != "reference"]
    assert [(m.authors, m.title) for m in marks] == [
        (("Smith",), "Markets and their failures"), (("Jones",), "Agreement")]


def test_title_and_year_filled_for_author_only_citation() -> None:
    text = (
        "As Smith writes, markets fail.\n\nReferences\n\n"
        "Smith, J. (2004). Markets and their failures. OUP.\n"
    )
    mark = cites(text, "narrative")[0]
    assert (mark.title, mark.year) == ("Markets and their failures", "2004")


def test_title_not_filled_when_ambiguous() -> None:
    text = (
        "Markets fail (Smith 2004).\n\nReferences\n\n"
        "Smith, J. (2004a). First. Pub.\nSmith, J. (2004b). Second. Pub.\n"
    )
    assert cites(text, "parenthetical")[0].title is None


# --- covers and sentences --------------------------------------------------------------------


def test_sentences_respect_abbreviations() -> None:
    text = "See p. 12 of Smith et al. 2004 for details. Dr. Lee agrees, e.g. here. J. Smith did."
    assert [text[s:e] for s, e in sentences(text)] == [
        "See p. 12 of Smith et al. 2004 for details.",
        "Dr. Lee agrees, e.g. here.",
        "J. Smith did.",
    ]


def test_sentences_keep_markers_and_quotes_with_their_sentence() -> None:
    text = "It ended.¹ He said “Go.” Then [2] more.[3] Fin!"
    assert [text[s:e] for s, e in sentences(text)] == [
        "It ended.¹", "He said “Go.”", "Then [2] more.[3]", "Fin!"]


def test_covers_quotation_in_previous_sentence() -> None:
    text = "Intro. He wrote “the state is dead.” This is famous (Smith 2004). Later."
    mark = one(text)
    assert covered(text, mark) == "He wrote “the state is dead.” This is famous (Smith 2004)."


def test_covers_previous_sentence_when_citation_follows_the_period() -> None:
    text = "Intro here. He said “no more.” (Smith 2004) Next one."
    mark = one(text)
    assert covered(text, mark) == "He said “no more.” (Smith 2004)"


def test_covers_block_quotation_before_citation() -> None:
    text = (
        "Smith puts it so:\n\n    Power is everywhere and it comes from everywhere.\n\n"
        "(Smith 2004, p. 93)\n\nNext."
    )
    mark = one(text, "parenthetical")
    assert covered(text, mark).startswith("Power is everywhere")
    assert covered(text, mark).endswith("(Smith 2004, p. 93)")


def test_narrative_covers_quotation_it_introduces() -> None:
    text = "As Butler writes: “Gender is performative. It is done.” Next sentence here."
    mark = one(text)
    assert covered(text, mark) == "As Butler writes: “Gender is performative. It is done.”"


def test_narrative_colon_covers_following_block() -> None:
    text = "Foucault argues:\n\n> Power is everywhere and\n> comes from everywhere.\n\nAfter."
    mark = one(text)
    assert covered(text, mark) == (
        "Foucault argues:\n\n> Power is everywhere and\n> comes from everywhere."
    )


def test_paragraph_scope() -> None:
    text = "First sentence here. Second one (Smith 2004). Third.\n\nOther paragraph."
    mark = one(text)
    assert covered(text, mark) == "Second one (Smith 2004)."
    mark = find_citations(text, scope="paragraph")[0]
    assert covered(text, mark) == "First sentence here. Second one (Smith 2004). Third."


def test_quotations_can_be_passed_in() -> None:
    text = "Intro. He wrote “the state is dead.” This is famous (Smith 2004). Later."
    quotations, _ = find_quotations(text)
    assert find_citations(text, quotations=quotations) == find_citations(text)
    # Without the quotation, the citation covers its own sentence only.
    mark = find_citations(text, quotations=[])[0]
    assert covered(text, mark) == "This is famous (Smith 2004)."


def test_bad_scope_is_refused() -> None:
    with pytest.raises(ValueError, match="scope"):
        find_citations("x", scope="page")


def test_ibid_takes_previous_citation() -> None:
    text = "One claim (Smith 2004, p. 3). Another “quote” (ibid., p. 5)."
    _, second = cites(text)
    assert (second.authors, second.year, second.pages) == (("Smith",), "2004", "p. 5")


_PIECES = [
    "Smith", "Jones", "and", "(", ")", "2004", "p. 12", ",", ";", ".", " ", "\n", "\n\n",
    "“", "”", "argues that", "According to", "As", "writes", "[1]", "¹", "^2", "et al.",
    "References\n", "1. ", "(Smith 2004)", "Smith (2004)", "'", "\"", "*Title*",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=60))
def test_marks_always_slice_their_text(pieces: list[str]) -> None:
    text = " ".join(pieces)
    for mark in find_citations(text):
        assert 0 <= mark.start < mark.end <= len(text)
        assert text[mark.start : mark.end] == mark.text
        assert mark.covers[0] <= mark.start and mark.end <= mark.covers[1] <= len(text)


def test_no_citations_in_empty_text() -> None:
    assert find_citations("") == []


# --- resolve ---------------------------------------------------------------------------------

SOURCES = [
    Document(id="a", text="", title="Discipline and Punish: The Birth of the Prison",
             author="Michel Foucault", date="1975"),
    Document(id="b", text="", title="Markets and Their Failures", author="Smith, Jane",
             date="2004-05-01"),
    Document(id="c", text="", title="The Origin of Species by Means of Natural Selection",
             author="Charles Darwin", date="1859"),
    Document(id="d", text="", title="Fast Tracing of Reuse", author="J. Smith and K. Lee",
             date="March 2010"),
    Document(id="e", text="", title="Les Misérables", author="Victor Hugo", date="1862"),
]


def mark(**fields: object) -> CitationMark:
    base: dict[str, object] = {"start": 0, "end": 1, "text": "x", "style": "parenthetical"}
    base.update(fields)
    return CitationMark(**base)  # type: ignore[arg-type]


def test_resolve_author_year() -> None:
    assert resolve(mark(authors=("Smith",), year="2004"), SOURCES) == ("b", "metadata")
    assert resolve(mark(authors=("Smith",), year="2010"), SOURCES) == ("d", "metadata")


def test_resolve_second_author_in_list() -> None:
    assert resolve(mark(authors=("Lee",), year="2010"), SOURCES) == ("d", "metadata")


def test_resolve_ambiguous_author_only_is_none() -> None:
    assert resolve(mark(authors=("Smith",)), SOURCES) == (None, None)


def test_resolve_unique_author_only() -> None:
    assert resolve(mark(authors=("Foucault",)), SOURCES) == ("a", "metadata")


def test_resolve_title_ignoring_subtitle_and_case() -> None:
    assert resolve(mark(title="discipline and punish"), SOURCES) == ("a", "metadata")


def test_resolve_partial_title_dropping_the() -> None:
    assert resolve(mark(title="Origin of Species"), SOURCES) == ("c", "metadata")


def test_resolve_title_with_accents_and_punctuation() -> None:
    assert resolve(mark(title="Les Miserables!"), SOURCES) == ("e", "metadata")


def test_resolve_absent_source_is_none() -> None:
    assert resolve(mark(authors=("Brown",), year="1999"), SOURCES) == (None, None)
    assert resolve(mark(title="A Completely Different Book"), SOURCES) == (None, None)


def test_resolve_year_conflict_counts_against() -> None:
    # Smith 1990 is neither Smith 2004 nor Smith 2010.
    assert resolve(mark(authors=("Smith",), year="1990"), SOURCES) == (None, None)


def test_resolve_numbers_only_is_none() -> None:
    assert resolve(mark(style="numeric", numbers=(1,)), SOURCES) == (None, None)


def test_resolve_by_file_name_stem() -> None:
    sources = [Document(id="smith-2004.txt", text=""), Document(id="lee_2010.txt", text="")]
    assert resolve(mark(authors=("Smith",), year="2004"), sources) == ("smith-2004.txt", "metadata")
    assert resolve(mark(authors=("Lee",), year="2010"), sources) == ("lee_2010.txt", "metadata")
    # The stem alone is weak: a name without a year is not enough.
    assert resolve(mark(authors=("Smith",)), sources) == (None, None)


def test_resolve_title_by_path_stem() -> None:
    sources = [Document(id="1", text="", path="/corpus/discipline-and-punish.txt"),
               Document(id="2", text="", path="/corpus/origin-of-species.txt")]
    assert resolve(mark(title="Discipline and Punish"), sources) == ("1", "metadata")


def test_resolve_one_word_title_needs_the_whole_title() -> None:
    sources = [Document(id="w", text="", title="War and Peace"),
               Document(id="p", text="", title="Peace")]
    assert resolve(mark(title="Peace"), sources) == ("p", "metadata")
    assert resolve(mark(title="War"), sources) == (None, None)


def test_resolve_found_citations_end_to_end() -> None:
    text = (
        "Power works “through the body” (Foucault 1975, p. 25). Markets fail (Smith 2004).\n"
        "Others disagree (Brown 1999)."
    )
    marks = find_citations(text)
    assert [resolve(m, SOURCES)[0] for m in marks] == ["a", "b", None]


def test_resolve_with_no_sources() -> None:
    assert resolve(mark(authors=("Smith",), year="2004"), []) == (None, None)


# --- the fast paths agree with the plain scans they replace ------------------------------
#
# Finding narrative citations tries its big patterns only near a reporting verb and only
# where a name can begin; these tests hold each shortcut to the plain scan it replaces.

_PIECES = [
    "Smith", "van Gogh", "de Beauvoir", "van der Rohe", "della Robbia", "Lévi-Strauss",
    "O'Brien", "McDonald", "Émile", "Ölund", "WHO", "It", "The", "Jones and Lee", "Smith, Lee",
    "et al.", "the", "river", "and", "also", "ack", "del", "dell", "has", "had", "have", "not",
    "notes", "noted", "argues", "argued", "arguesthat", "writes", "wrote", "said", "says",
    "points out", "puts it", "states", "found", "finds", "has argued", "has been", "as", "As",
    "AS", "aſ", "that", "by", "noted by", "according to", "(2004)", "(2004, p. 12)", "(n.d.)",
    "(in press)", "(", ")", "“", "”", "'", "’", "-", "_", "2", "é", "\u00a0", " ", " ", " ",
    "  ", "\n", "\n\n", "\t", ", ", ". ", ": ", "; ",
]
_TEXTS = st.lists(st.sampled_from(_PIECES), max_size=50).map("".join)


def _context(text: str) -> citations._Context:
    return citations._Context(text, "sentence", find_quotations(text)[0])


def _spans(matches: list[regex.Match[str]]) -> list[tuple[tuple[int, int], dict[str, object]]]:
    return [(m.span(), m.groupdict()) for m in matches]


@settings(max_examples=200, deadline=None)
@given(_TEXTS)
def test_as_patterns_at_as_words_are_the_scanned_ones(text: str) -> None:
    doc = _context(text)
    at = citations._as_words(doc)
    for pattern in (citations._AS_VERB, citations._AS_BY):
        assert _spans(citations._matches_at(pattern, text, at)) == _spans(
            list(pattern.finditer(text))
        )


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_word_lookups_agree_with_collecting_every_word(text: str) -> None:
    doc = _context(text)
    lower = set(regex.findall(r"(?<![\w'’-])\p{Ll}+(?![\w'’-])", text))
    capitalized = set(regex.findall(r"(?<=[\p{Ll},;] )(\p{Lu}\p{Ll}+)(?!\w)", text))
    words = set(regex.findall(r"[\w'’-]+", text)) | {"", "smith", "Smith", "river", "Has"}
    for word in words | {w.casefold() for w in words} | {w[1:] for w in words}:
        assert doc.lower_word(word) == (word in lower), word
        assert doc.capitalized_mid_sentence(word) == (word in capitalized), word


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_word_before_a_period_is_the_regex_one(text: str) -> None:
    for end in range(len(text) + 1):
        for lo in (0, max(0, end - 20), max(0, end - 3)):
            m = citations._WORD_BEFORE.search(text, lo, end)
            assert citations._word_before(text, lo, end) == (m.group(1) if m else None)


@settings(max_examples=200, deadline=None)
@given(_TEXTS)
def test_units_found_on_demand_are_the_sentences(text: str) -> None:
    paras = citations.paragraphs(text)
    for scope in ("sentence", "paragraph"):
        units = citations._Units(text, paras, scope)
        every = citations._sentences(text, paras) if scope == "sentence" else [
            citations._strip(text, s, e) for s, e in paras
        ]
        starts = [s for s, _ in every]
        for pos in range(len(text) + 1):
            u = bisect.bisect_right(starts, pos) - 1
            found = units.last_starting_at(pos)
            assert (units.span(found) if found else None) == (every[u] if u >= 0 else None)
        # From the last unit back to the first, one at a time.
        unit, back = units.last_starting_at(len(text)), []
        while unit is not None:
            back.append(units.span(unit))
            unit = units.previous(unit)
        assert back[::-1] == every


def test_headings_found_line_by_line_are_the_scanned_ones() -> None:
    text = ("Body text.\n\n## References\n\nSmith, J. (2004). *Title*.\r\nNotes:\n"
            "Appendix A\n# Heading\n  Bibliography  \nWorks Cited\n\nreferences\n")
    for pattern in (citations._HEADING, citations._OTHER_HEADING):
        assert [m.span() for m in citations._line_matches(pattern, text)] == [
            m.span() for m in pattern.finditer(text)
        ]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab; \t", max_size=30))
def test_split_works_at_semicolons(inner: str) -> None:
    text = f"({inner})"
    expected, pos = [], 1
    for k in range(1, len(text)):
        if k == len(text) - 1 or text[k] == ";":
            expected.append(citations._strip(text, pos, k))
            pos = k + 1
    assert citations._split_works(text, 1, len(text) - 1) == expected


_PHRASES = citations._REPORTING_SINGULAR + citations._REPORTING_PLURAL


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*_PHRASES, "has", "had", "not", "point", "it", "us", "s",
                                 "ed", " ", "  ", "\n", "\u00a0", "that"]),
                min_size=1, max_size=4).map("".join))
def test_verb_phrase_trie_matches_where_the_phrases_do(text: str) -> None:
    listed = regex.compile(f"(?:{citations._VERBS_SINGULAR}|{citations._VERBS_PLURAL})")
    for at in range(len(text)):
        assert (citations._VERB_PHRASE.match(text, at) is None) == (
            listed.match(text, at) is None
        )


@pytest.mark.parametrize(
    ("entry", "authors"),
    [
        ("World Health Organization (2023). *Global Tuberculosis Report*.",
         ("World Health Organization",)),
        ("U.S. Department of Energy. 2019. “Grid Storage Review.”", ("U.S. Department of Energy",)),
        ("Smith, J., & World Bank (2010). *Roads and Rents*.", ("Smith", "World Bank")),
        ("Bank, A. (2011). *Ledgers*.", ("Bank",)),
        # Words of a title before the year are not an organization.
        (": Association between HIV infection and neoplasia. AIDS 6(2): 173-178, 1992.", ()),
    ],
)
def test_an_organization_in_a_reference_entry_is_named_in_full(
    entry: str, authors: tuple[str, ...]
) -> None:
    (mark,) = reference_list(f"Some text.\n\nReferences\n\n{entry}\n")
    assert mark.authors == authors
