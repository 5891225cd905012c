"""In-text citations, footnotes and reference lists, and resolving them to sources.

Four kinds of marks are found in a query (see :class:`CitationMark`):

* parenthetical: ``(Smith 2004, p. 12)``, ``(Smith and Lee 2004; Brown 2010)``,
  ``(Smith 12)``, ``("Title" 12)``, ``(ibid.)``;
* narrative: ``Smith (2004) argues``, ``According to Smith,``, ``As Smith puts it``,
  ``Smith writes that``, ``In *Title*, Smith ...``;
* numeric and footnote markers: ``[1]``, ``[2, 4-6]``, ``¹²``, ``^3``, ``[^4]``, resolved
  to the note or numbered reference they point at;
* reference-list entries under a heading such as References or Works Cited.

Precision matters as much as recall here: a report that flags citations that are not
there is useless.  So every pattern asks for positive evidence (a year, a page, a
reporting verb, a title in quote marks), a name on its own counts only where a
citation is expected (right after a quotation, at the end of a sentence) and where the
word is not a common English word, and doubtful marks count only in a document that
cites in surer ways too.

:func:`resolve` matches a mark to one source by metadata (author, year, title, file
name).
"""

from __future__ import annotations

import bisect
import importlib.util
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import PurePath
from typing import Any

import numpy as np
import regex
from rapidfuzz import fuzz

from stemmatic.normalize import strip_accents
from stemmatic.quotes import QUOTE_MARKS, find_quotations, paragraphs
from stemmatic.types import Document, Quotation

__all__ = [
    "FOOTNOTE",
    "NARRATIVE",
    "NUMERIC",
    "PARENTHETICAL",
    "REFERENCE",
    "CitationMark",
    "find_citations",
    "footnotes",
    "reference_list",
    "resolve",
    "sentences",
]

# --------------------------------------------------------------------------------------
# Word frequencies.
#
# Importing wordfreq takes about 0.15 s (it imports langcodes and ftfy) and its first
# lookup another 0.1 s; most words looked up here are plain lower-case ASCII, for which
# wordfreq's tokenizer changes nothing, so their frequencies are read straight from its
# English word list (in about 0.1 s, on first use) with wordfreq's own arithmetic.  Any
# other word goes to wordfreq itself.  tests/test_classify_speed_equivalence.py checks
# that both give the same figures.

_wordfreq_zipf: Any = None
_english: dict[str, float] | None = None
# wordfreq's smallest frequency, ``zipf_to_freq(0.0)``, given to words it does not list.
_MIN_FREQUENCY = 10**0.0 / 1e9


def zipf(word: str) -> float:
    """``wordfreq.zipf_frequency(word, "en")``, the English frequency on the Zipf scale."""
    if word.isascii() and word.isalpha() and word.islower():
        table = _english_frequencies()
        if table:
            return _zipf_of(table.get(word))
    global _wordfreq_zipf
    if _wordfreq_zipf is None:
        from wordfreq import zipf_frequency

        _wordfreq_zipf = zipf_frequency
    return float(_wordfreq_zipf(word, "en"))


def _zipf_of(frequency: float | None) -> float:
    """What ``wordfreq.zipf_frequency`` gives a one-token word with this frequency
    in the list (None: not listed), computed as it computes it."""
    if frequency is None:
        value = _MIN_FREQUENCY
    else:
        # The frequency of a text is 1 / sum(1 / f) over its tokens, rounded to three
        # significant digits.
        combined = 1.0 / (0.0 + 1.0 / frequency)
        unrounded = max(combined, _MIN_FREQUENCY)
        value = round(unrounded, math.floor(-math.log(unrounded, 10)) + 3)
    return round(math.log(value, 10) + 9, 2)


def _english_frequencies() -> dict[str, float]:
    """wordfreq's English ("best", that is "large") word list as word -> frequency.

    Empty if the list cannot be read as expected, so that wordfreq answers instead.
    """
    global _english
    if _english is None:
        _english = {}
        try:
            import gzip

            import msgpack

            spec = importlib.util.find_spec("wordfreq")
            if spec is None or not spec.submodule_search_locations:
                return _english
            folder = next(iter(spec.submodule_search_locations))
            path = PurePath(folder, "data", "large_en.msgpack.gz")
            with gzip.open(str(path), "rb") as handle:
                data = msgpack.load(handle, raw=False)
        except (ImportError, OSError, ValueError):
            return _english
        header = data[0] if data else None
        if not isinstance(header, dict) or header.get("format") != "cB" or (
            header.get("version") != 1
        ):
            return _english
        table: dict[str, float] = {}
        # Bucket k holds the words of frequency 10 ** (-k / 100); a word listed twice
        # takes its later bucket, as in wordfreq.get_frequency_dict.
        for index, bucket in enumerate(data[1:]):
            table.update(dict.fromkeys(bucket, 10 ** (-index / 100)))
        _english = table
    return _english


PARENTHETICAL = "parenthetical"
NARRATIVE = "narrative"
NUMERIC = "numeric"
FOOTNOTE = "footnote"
REFERENCE = "reference"


@dataclass(frozen=True, slots=True)
class CitationMark:
    """A citation found in a text, before it is resolved to a source.

    Attributes:
        start, end: span of the citation in the text (half-open).  A parenthetical that
            cites several works gives one mark per work, each spanning that work's
            words inside the parentheses; a single work spans the whole parenthetical.
        text: ``text[start:end]``.
        style: "parenthetical", "narrative", "numeric", "footnote" or "reference".
        authors: surnames (or an organization's name) as written.
        year: the year as written ("2004", "2004a", "n.d."), if any; a citation that
            names only an author takes the year of its reference-list entry.
        title: the cited title, if given or found in the reference list or the note.
        pages: the page or other locator as written ("12", "23-26"), if any.
        numbers: note or reference numbers of a numeric or footnote marker.
        covers: the span of text the citation applies to: its sentence (or paragraph),
            widened to a quotation it follows or introduces.  A reference-list entry
            covers itself.
    """

    start: int
    end: int
    text: str
    style: str
    authors: tuple[str, ...] = ()
    year: str | None = None
    title: str | None = None
    pages: str | None = None
    numbers: tuple[int, ...] = ()
    covers: tuple[int, int] = (0, 0)


class _Lazy:
    """A pattern compiled on first use.

    The regex module takes about 0.3 s to compile the citation patterns below, which
    every command would pay at import; a trace pays only for the patterns its text needs.
    After the first use, the pattern's methods are plain attributes of this object.
    """

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        compiled = self.__dict__.get("compiled")
        if compiled is None:
            compiled = self.compiled = regex.compile(*self._source)
            for method in ("match", "fullmatch", "search", "finditer", "findall", "split", "sub"):
                setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)


def _lazy(pattern: str, flags: int = 0) -> regex.Pattern[str]:
    return _Lazy(pattern, flags)


# Patterns used in hot loops (compiled on first use, as all the patterns here).
_RX2 = _lazy(r"[\p{L}][\p{L}'’-]*")
_RX3 = _lazy(r"(?<![\w.])(?:\p{Lu}\.?){2,}\s*$")
_RX4 = _lazy(r"[,˒]\s?")
_RX5 = _lazy(r"\s*[,;]\s*")
_RX6 = _lazy(r"\s*[-–]\s*")
_RX7 = _lazy(r"(?i)\s*(?:ibid|id)\b\.?")
_RX8 = _lazy(r"\n[ \t]*\n")
_RX9 = _lazy(r"(\S+)$")
_RX10 = _lazy(r"\((?i:eds?|trans|comp)\.?\)|\bet\s+al\.?")
_RX11 = _lazy(r"\s*(?:;|&|\band\b|\bwith\b)\s*")
_RX12 = _lazy(r"\s+et\s+al\.?$")
_RX13 = _lazy(r"\s*,?\s*(?:\band\b|&)\s*|\s*,\s*")
_RX14 = _lazy(r"\d{4}")
_RX15 = _lazy(r"(?<!\d)\d{4}(?!\d)")

# --------------------------------------------------------------------------------------
# Building blocks of the patterns.

_LOWER = r"[\p{Ll}\p{M}]"
_CAPWORD = rf"(?:\p{{Lu}}['’])?\p{{Lu}}{_LOWER}+(?:\p{{Lu}}{_LOWER}+)*"  # Smith O'Brien McDonald
_NAMEWORD = rf"{_CAPWORD}(?:-{_CAPWORD})*(?!\p{{L}})"  # Lévi-Strauss
_PARTICLE = r"(?:van|von|der|den|de|del|della|di|da|du|dos|das|la|le|ten|ter|al|el|bin|ibn)"
_SURNAME = rf"(?<![\w'’-])(?:{_PARTICLE}\s+)*{_NAMEWORD}"
_FULLNAME = rf"{_SURNAME}(?:\s+{_SURNAME}){{0,3}}"  # Jane Smith, World Health Organization
_ACRONYM = r"\p{Lu}{2,8}"
_AND = r"(?:\s*,?\s*(?:and|&)\s+|\s*&\s*)"
_ETAL = r"(?:\s+et\s+al\.?)"


def _authors(name: str) -> str:
    # A list with commas ends in "and": "Smith, Jones and Lee", never "Honolulu, Obama".
    return rf"{name}(?:(?:\s*,\s*{name})*{_AND}{name})?{_ETAL}?"


_AUTH = _authors(_FULLNAME)
_AUTH_ORG = _authors(rf"(?:{_FULLNAME}|{_ACRONYM})")
_AUTH_SURNAME = _authors(_SURNAME)

_YEAR = r"(?:(?:1[5-9]\d\d|20\d\d)[a-z]?(?!\d)|n\.\s?d\.|in\s+press|forthcoming)"
_YEARS = rf"{_YEAR}(?:\s*,\s*{_YEAR})*"
_PAGE_PREFIX = (
    r"(?<!\w)(?:pp?|pg|pages?|paras?|ch|chap|chapter|sect?|vol|fig|ll?|lines?|col|nn?|fol|"
    r"fols)(?:\.\s*|\s+)|§\s*"
)
_PAGE_NUM = r"(?:\d+[a-z]?|[ivxlcdm]+)(?!\w)"
_LOC_PREFIXED = (
    rf"(?:{_PAGE_PREFIX}){_PAGE_NUM}(?:\s*[-–—]\s*{_PAGE_NUM})?(?:\s*ff?\.?)?"
)
_LOC_BARE = (
    r"(?<!\w)(?!(?:1[5-9]|20)\d\d(?!\d))\d{1,4}(?:\.\d+)*(?:\s*[-–—]\s*\d+)?(?:\s*ff?\.?)?"
    r"(?!\w)"
)
_LOCATOR = (
    rf"(?:{_LOC_PREFIXED}|{_LOC_BARE})(?:\s*,\s*(?:{_LOC_PREFIXED}|{_LOC_BARE}))*"
)
_QTITLE = r"(?:\"[^\"]+\"|“[^”\"]+[”\"]|‘[^’]+’|'[^']+'|«[^»]+»)"
_ITITLE = r"(?:\*[^*\n]+\*|_[^_\n]+_)"
_TITLE = rf"(?:{_QTITLE}|{_ITITLE})"

_PREFIX = _lazy(
    r"(?i:(?:see\s+also|see|cf\.?|compare|e\.\s?g\.,?|i\.\s?e\.,?|quoted\s+in|qtd\.?\s+in|"
    r"as\s+cited\s+in|cited\s+in|after|following|also)\s+)*"
)
_SUFFIX = _lazy(
    r"(?i:\s*,\s*(?:(?:emphasis|italics)(?:\s+(?:added|mine|in\s+original|original))?|"
    r"my\s+emphasis|original\s+emphasis|trans(?:lation)?\.?(?:\s+mine|\s+modified)?|"
    r"modified|adapted))$"
)
_SEP = r"\s*[,:]?\s*"

# One cited work inside parentheses, tried in this order.
_WORKS = [
    ("year", _lazy(
        rf"(?P<authors>{_AUTH_ORG}){_SEP}(?P<year>{_YEARS})(?:\s*[,:]\s*(?P<pages>{_LOCATOR}))?"
    )),
    ("titled", _lazy(
        rf"(?P<authors>{_AUTH})\s*,\s*(?P<title>{_TITLE})(?:\s*,?\s*(?P<pages>{_LOCATOR}))?"
    )),
    ("page", _lazy(rf"(?P<authors>{_AUTH}){_SEP}(?P<pages>{_LOCATOR})")),
    ("title", _lazy(
        rf"(?P<title>{_TITLE})(?:\s*,?\s*(?P<year>{_YEARS}))?(?:\s*,?\s*(?P<pages>{_LOCATOR}))?"
    )),
    ("ibid", _lazy(rf"(?i:ibid\.?|id\.)(?:\s*,?\s*(?P<pages>{_LOCATOR}))?")),
    ("name", _lazy(rf"(?P<authors>{_AUTH})")),
]

# The ASCII characters each pattern of _WORKS may begin with: a capital or a particle
# ("van", "de", "al"...) begins a name, a quote mark or "*" or "_" a title, an "i" ibid.
# (A character beyond ASCII is always tried.)
_NAME_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ") | {p[0] for p in _PARTICLE[3:-1].split("|")}
_WORK_FIRST = {
    "year": _NAME_FIRST,
    "titled": _NAME_FIRST,
    "page": _NAME_FIRST,
    "title": frozenset("\"'*_"),
    "ibid": frozenset("iI"),
    "name": _NAME_FIRST,
}
_PAREN = _lazy(r"\(([^()]{1,300})\)")
_IBID = _lazy(r"\(?\s*(?i:ibid|id)\b")

_REPORTING_SINGULAR = [
    *"""writes wrote argues argued notes noted observes observed claims claimed
    contends contended suggests suggested asserts asserted maintains maintained explains
    explained remarks remarked concludes concluded insists insisted proposes proposed states
    stated emphasizes emphasises emphasized emphasised stresses stressed shows showed
    demonstrates demonstrated reports reported finds found posits posited acknowledges
    acknowledged cautions cautioned warns warned comments commented describes described
    defines defined recalls recalled admits admitted""".split(),
    "puts it", "put it", "points out", "pointed out", "reminds us", "reminded us",
    *(
        f"{aux} {verb}"
        for aux in ("has", "had")
        for verb in (
            "argued", "shown", "noted", "written", "observed", "suggested", "claimed",
            "pointed out", "demonstrated", "described", "remarked", "stated",
        )
    ),
]
_REPORTING_PLURAL = [
    *"""write argue note observe claim contend suggest assert maintain explain
    remark conclude insist propose state emphasize emphasise stress show demonstrate report
    find posit acknowledge caution warn comment describe define""".split(),
    "point out", "remind us",
    *(
        f"have {verb}"
        for verb in (
            "argued", "shown", "noted", "written", "observed", "suggested", "claimed",
            "pointed out", "demonstrated", "described",
        )
    ),
]


def _phrases(phrases: Iterable[str]) -> str:
    return "|".join(p.replace(" ", r"\s+") for p in sorted(phrases, key=len, reverse=True))


_VERBS_SINGULAR = _phrases(_REPORTING_SINGULAR)
_VERBS_PLURAL = _phrases(_REPORTING_PLURAL)
# "As Smith says" is a citation; "Smith said" on its own is more often dialogue.
_VERBS_AS = rf"{_VERBS_SINGULAR}|{_VERBS_PLURAL}|says|said|say|tells\s+us|told\s+us"
_YEAR_PAREN = rf"\s*\(\s*(?P<year>{_YEARS})(?:\s*[,:]\s*(?P<pages>{_LOCATOR}))?\s*\)"

# A capitalized word after the year is a caption or a reference entry: "Cyprus (1888) Map".
_NARRATIVE_YEAR = _lazy(
    rf"(?P<authors>{_AUTH_SURNAME})(?:['’]s)?{_YEAR_PAREN}(?!\s*\p{{Lu}})"
)
_ACCORDING = _lazy(
    rf"(?i:according\s+to)\s+(?P<authors>{_AUTH})(?:{_YEAR_PAREN})?(?=\s*[,.;:(]|\s*$)"
)
# The big patterns compile in some 10 ms each; this one is needed only where the words
# can be found, which a search for them (of the same case folding) tells at once.
_ACCORDING_WORD = _lazy(r"(?i:according)")
_AS_VERB = _lazy(
    rf"\b(?i:as)\s+(?P<authors>{_AUTH})(?:{_YEAR_PAREN})?\s+(?P<verb>{_VERBS_AS})\b"
)
_AS_BY = _lazy(
    r"\b(?i:as)\s+(?:noted|argued|shown|observed|suggested|pointed\s+out|discussed|"
    rf"described|demonstrated|reported|claimed|put)\s+by\s+(?P<authors>{_AUTH})(?:{_YEAR_PAREN})?"
)
# Many of the verbs are also nouns ("the Baltic states", "Smith found it hard"), so the
# verb has to introduce what is reported: "that", a colon, a quotation, or a comma after
# a verb that is not also a plural noun ("Lewis wrote, ..." but not "Colorado shows, ...").
_NOUN_LIKE_VERBS = (
    r"notes|claims|states|reports|finds|shows|comments|remarks|warns|cautions|recalls|"
    r"stresses|proposes|maintains|defines|describes"
)
_NOUN_LIKE_PLURAL = (
    r"note|claim|state|report|find|show|comment|remark|warn|caution|stress|propose|"
    r"maintain|define|describe|write"
)
_NAME_VERB = _lazy(
    rf"(?P<authors>{_AUTH_SURNAME})(?:{_YEAR_PAREN})?\s+"
    rf"(?:(?P<verb>{_VERBS_SINGULAR})|(?P<plural>{_VERBS_PLURAL}))"
    r"(?=(?:\s+\p{Ll}+ly)?\s*(?:that\b|:|[\"“‘«]))"
    "|"
    rf"(?P<authors>{_AUTH_SURNAME})(?:{_YEAR_PAREN})?\s+"
    rf"(?:(?!(?:{_NOUN_LIKE_VERBS})\b)(?P<verb>{_VERBS_SINGULAR})"
    rf"|(?!(?:{_NOUN_LIKE_PLURAL})\b)(?P<plural>{_VERBS_PLURAL}))"
    r"(?=\s*,)"
)


# Scanning every position with the patterns above is slow, so they run only in a window
# around a cheap anchor: a year in parentheses, or the first word of a reporting verb.
# In the window they are tried only where a name can begin (see _name_starts).
_YEAR_ANCHOR = _lazy(rf"\(\s*{_YEAR}")
# The first words of the reporting verbs, all in lower-case ASCII.
_VERB_WORDS = frozenset(p.split()[0] for p in _REPORTING_SINGULAR + _REPORTING_PLURAL)
_PARTICLES = frozenset(_PARTICLE[3:-1].split("|"))
_IN_TITLE = _lazy(
    r"\bIn\s+(?:(?:his|her|their|its|the)\s+(?:[\p{Ll}-]+\s+){0,2})?"
    rf"(?P<title>{_TITLE})(?:\s*\(\s*(?P<year>{_YEAR})\s*\))?\s*,\s*(?P<authors>{_AUTH})"
    r"(?=\s+\p{Ll})"
)

_NUMERIC = _lazy(
    r"(?<![\]!\w])\[(?P<nums>\d{1,3}(?:\s*[-–]\s*\d{1,3})?(?:\s*[,;]\s*\d{1,3}"
    r"(?:\s*[-–]\s*\d{1,3})?)*)\](?![(:\[])"
)
_SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUPERSCRIPT = _lazy(
    r"(?<=[\p{L}\p{P}])[⁰¹²³⁴⁵⁶⁷⁸⁹]+(?:[,˒]\s?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)*"
)
_CARET = _lazy(r"(?<=[\p{L}\p{P}])(?<!\[)\^(?P<nums>\d{1,3})(?!\d)")
_MD_FOOTNOTE = _lazy(r"\[\^(?P<nums>\d{1,3})\](?!:)")
_SUPER_TABLE = str.maketrans(_SUPERSCRIPT_DIGITS, "0123456789")

# Sections.
_REFERENCE_HEADINGS = (
    "references|bibliography|works cited|works consulted|sources|sources cited|"
    "literature cited|reference list|cited works|select bibliography"
)
_NOTE_HEADINGS = "notes|endnotes|footnotes|end notes|foot notes"
_HEADING = _lazy(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*|__)?(?P<name>(?i:"
    + _REFERENCE_HEADINGS
    + "|"
    + _NOTE_HEADINGS
    + r"))(?:\*\*|__)?[ \t]*:?[ \t]*$",
    regex.MULTILINE,
)
_NOTE_HEADING = _lazy(f"(?i:{_NOTE_HEADINGS})")
_OTHER_HEADING = _lazy(
    r"^[ \t]*(?:#{1,6}[ \t]+\S.*|(?i:appendix\b.{0,60}|acknowledge?ments?|about\s+the\s+authors?|"
    r"index|glossary|further\s+reading|tables|figures)[ \t]*:?)[ \t]*$",
    regex.MULTILINE,
)
_NOTE_START = _lazy(
    r"^[ \t]*(?:(?P<a>\d{1,3})[.)]|\[(?P<b>\d{1,3})\]|\[\^(?P<c>\d{1,3})\]:|"
    r"(?P<d>[⁰¹²³⁴⁵⁶⁷⁸⁹]+)|\^(?P<e>\d{1,3}))[ \t]+(?=\S)",
    regex.MULTILINE,
)
_MD_DEFINITION = _lazy(r"^[ \t]*\[\^(?P<c>\d{1,3})\]:[ \t]*", regex.MULTILINE)
_BULLET = _lazy(r"[ \t]*(?:[-*•–][ \t]+)?")

# Parsing an entry.
_YEAR_IN_PARENS = _lazy(rf"\(\s*(?P<year>{_YEAR})\s*[),;:]")
_YEAR_BARE = _lazy(rf"(?<![\d\w])(?P<year>{_YEAR})")
_QUOTED_TITLE = _lazy(r"“(?P<t>[^”]+)”|\"(?P<u>[^\"]+)\"|‘(?P<v>[^’]+)’(?!\w)")
_ITALIC_TITLE = _lazy(r"(?<!\w)\*(?P<t>[^*\n]+)\*(?!\w)|(?<!\w)_(?P<u>[^_\n]+)_(?!\w)")
_NOTE_PAGES = _lazy(
    r"(?:\bpp?\.\s*(?P<a>\d+(?:\s*[-–]\s*\d+)?)|,\s*(?P<b>\d{1,4}(?:\s*[-–]\s*\d+)?)\.?\s*$)"
)
_LEADING_CUE = _lazy(r"^(?i:(?:see\s+also|see|cf\.?|compare)\s+)+")
_INITIAL = _lazy(r"^(?:\p{Lu}\.?-?){1,3}$")
_NAME_SUFFIX = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md"})
_NOT_AUTHOR_WORDS = frozenset({"et", "al", "ed", "eds", "trans", "tr", "and", "with", "comp",
                               "comps", "dir", "intro", "foreword", "by", "&"})

# Sentences.
_SENTENCE_END = _lazy(
    r"[.!?…]+(?:[\"'”’»›)\]]|\[\d[\d,\s–-]*\]|\^\d+|[⁰¹²³⁴⁵⁶⁷⁸⁹]+)*"
    r"(?=\s+[\"'“‘«(\[¿¡*_]*[\p{Lu}\p{N}])"
)
_ABBREVIATIONS = frozenset(
    """p pp cf eg ie al ed eds dr mr mrs ms mme prof st vs vol vols no nos fig figs ch chap sec
    op cit ibid viz approx ca jr sr inc ltd co trans repr rev esp dept univ para paras ff
    gen col lt sgt capt fr rep sen gov pres""".split()
)
_WORD_BEFORE = _lazy(r"(\p{L}+)\.?$")

# Capitalized words that are not names where a name would stand.
_NOT_NAMES = frozenset(
    """a an the in on at as of to by for from with and or but nor so yet if this that these
    those it its he she they we i you his her their our my your who which what when where
    why how there here then thus hence also see yes no not note notes sic ibid id eg ie
    table tables figure figures fig chapter chapters section sections appendix part parts
    page pages vol volume volumes book books act acts article articles step steps phase
    version model study studies experiment experiments level group type room route exhibit
    plate map chart line lines verse verses item items question questions example examples
    case cases
    january february march april may june july august september october november december
    spring summer autumn fall winter monday tuesday wednesday thursday friday saturday
    sunday
    english french german latin greek spanish italian portuguese dutch russian arabic
    hebrew chinese japanese korean hindi translation trans original emphasis added
    applause laughter cheers inaudible pause above below left right top bottom ok okay
    today yesterday tomorrow now later earlier first second third last next
    mr mrs ms dr prof professor sir lord lady saint st according however although because
    while after before during since until unless whereas moreover furthermore indeed
    meanwhile nevertheless therefore instead otherwise finally perhaps
    everyone everybody someone somebody nobody anyone critics scholars researchers
    historians people others many most some all few""".split()
)
_COMMON_ZIPF = 3.5
_RARE_ZIPF = 3.0
_QUOTE_GAP = 8
_WINDOW = 100


# --------------------------------------------------------------------------------------
# Public functions.


def find_citations(
    text: str,
    *,
    scope: str = "sentence",
    quotations: Sequence[Quotation] | None = None,
    paras: list[tuple[int, int]] | None = None,
) -> list[CitationMark]:
    """Find the citations in ``text``: in-text marks, note markers and reference entries.

    Args:
        text: the query text.
        scope: what a citation covers by default: "sentence" or "paragraph".
        quotations: the quotations of ``text`` if already found (by
            :func:`stemmatic.quotes.find_quotations`); found here otherwise.
        paras: the paragraphs of ``text`` (:func:`stemmatic.quotes.paragraphs`), if
            already found.

    Some marks are doubtful on their own: a rare name alone in parentheses at the end
    of a sentence, "Esmeralda (1881)" with no reporting verb, "(Leipzig, 1626)" with an
    early year, "(Housing, 2002)" whose name the text also uses as a common word.  They
    count only in a document that also cites in a surer way (an author-year citation,
    a reference list or notes).

    Returns:
        The marks sorted by start.  Marks inside a reference list or a notes section
        are not reported as in-text citations; reference-list entries are reported with
        style "reference".

    Raises:
        ValueError: if ``scope`` is not "sentence" or "paragraph".
    """
    if scope not in ("sentence", "paragraph"):
        raise ValueError(f"scope must be 'sentence' or 'paragraph', not {scope!r}")
    if quotations is None:
        quotations, _ = find_quotations(text)
    doc = _Context(text, scope, quotations, paras)
    marks: list[CitationMark] = []
    marks.extend(_parentheticals(doc))
    marks.extend(_narratives(doc))
    marks = _drop_overlaps(marks)
    sure = [m for m in marks if (m.start, m.end) not in doc.tentative]
    if not (doc.references or doc.notes or any(m.year for m in sure)):
        marks = sure  # nothing else here cites, so the doubtful marks are not citations
    marks.extend(_numerics(doc))
    marks = [m for m in marks if not doc.excluded(m.start)]
    marks.sort(key=lambda m: (m.start, m.end))
    marks = _fill_ibid(marks)
    marks = _fill_titles(marks, doc.references)
    marks = [_with_covers(m, doc.covers(m)) for m in marks]
    marks.extend(doc.references)
    marks.sort(key=lambda m: (m.start, m.end))
    return marks


def _with_covers(m: CitationMark, covers: tuple[int, int]) -> CitationMark:
    """``replace(m, covers=covers)``, built directly (``replace`` is slow, and a long
    text has hundreds of marks)."""
    return CitationMark(
        m.start, m.end, m.text, m.style, m.authors, m.year, m.title, m.pages, m.numbers, covers
    )


def footnotes(text: str) -> dict[int, tuple[int, int, str]]:
    """The notes of ``text``, by number.

    Notes are numbered lines (``1. ...``, ``[1] ...``, ``¹ ...``, ``^1 ...``) under a
    heading Notes, Endnotes, Footnotes, References or Bibliography, Markdown footnote
    definitions (``[^1]: ...``) anywhere, or a run of numbered paragraphs that ends the
    document when the text before it carries a marker for one of them.  A note runs
    to the next note or the end of its section.  Where a number repeats (notes numbered
    per chapter), the first note with that number is kept.

    Args:
        text: the document text.

    Returns:
        ``{number: (start, end, note text)}``; the span excludes the number itself.
    """
    return _footnotes(text, _note_regions(text))


def _footnotes(text: str, regions: list[tuple[int, int]]) -> dict[int, tuple[int, int, str]]:
    notes: dict[int, tuple[int, int, str]] = {}
    for start, end in regions:
        for number, s, e in _numbered_entries(text, start, end):
            notes.setdefault(number, (s, e, text[s:e]))
    # (A definition holds "[^"; most texts have none, and the test is much quicker than
    # the scan.)
    for m in _MD_DEFINITION.finditer(text) if "[^" in text else ():
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        s, e = _strip(text, m.end(), line_end)
        notes.setdefault(int(m.group("c")), (s, e, text[s:e]))
    return dict(sorted(notes.items()))


def reference_list(text: str) -> list[CitationMark]:
    """The entries of the reference lists of ``text``.

    A reference list is a section headed References, Bibliography, Works Cited,
    Sources (and a few variants; case-insensitive, optionally a Markdown heading).  Its
    entries are numbered lines, paragraphs separated by blank lines, or lines (a line
    that starts with whitespace continues the entry above it, as in a hanging indent).
    An entry counts only when it has a year or a title in quote marks or italics.

    Args:
        text: the document text.

    Returns:
        One mark per entry, style "reference", covering the entry itself.
    """
    out: list[CitationMark] = []
    for start, end in _sections(text, "references"):
        for s, e in _entries(text, start, end):
            entry = text[s:e]
            if not (_YEAR_BARE.search(entry) or _QUOTED_TITLE.search(entry)
                    or _ITALIC_TITLE.search(entry)):
                continue
            authors, year, title, _ = _parse_entry(entry)
            out.append(CitationMark(s, e, text[s:e], REFERENCE, authors, year, title,
                                    covers=(s, e)))
    return out


def sentences(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentences with a simple splitter.

    A sentence ends at ``.``, ``!``, ``?`` or ``…`` (with any closing quote marks,
    brackets and note markers after it) before whitespace and a capital letter, digit
    or opening mark, and at every paragraph break.  A period after a single letter
    (initials, "e.g.") or a known abbreviation ("p.", "et al.", "Dr.") ends nothing.

    Args:
        text: the document text.

    Returns:
        ``(start, end)`` spans, stripped of surrounding whitespace, in order.
    """
    return _sentences(text, paragraphs(text))


def resolve(mark: CitationMark, sources: Sequence[Document]) -> tuple[str | None, str | None]:
    """Resolve a citation to one source by metadata.

    Each source is scored on its author (surnames compared forgivingly: "Jane Smith",
    "Smith, Jane" and "J. Smith and K. Lee" all name Smith), the first four-digit year
    of its date, and its title (case, accents, punctuation, a leading "The" and a
    subtitle after ":" are ignored; a partial title matches).  The document's id and
    file name stem serve as a weaker key ("smith-2004.txt" matches Smith 2004).  A
    conflicting author or year counts against a source.

    Args:
        mark: the citation.
        sources: the candidate sources.

    Returns:
        ``(source id, "metadata")`` for the single best source when it clearly beats
        the others, else ``(None, None)``.
    """
    if not (mark.authors or mark.title):
        return None, None
    scored = sorted(((_score(mark, doc), k) for k, doc in enumerate(sources)), reverse=True)
    if not scored or scored[0][0] < _ACCEPT:
        return None, None
    if len(scored) > 1 and scored[1][0] > scored[0][0] - _MARGIN:
        return None, None
    return sources[scored[0][1]].id, "metadata"


# --------------------------------------------------------------------------------------
# Document context shared by the detectors.


class _Context:
    """What the detectors need to know about the whole text, computed once."""

    def __init__(
        self,
        text: str,
        scope: str,
        quotations: Sequence[Quotation],
        paras: list[tuple[int, int]] | None = None,
    ) -> None:
        self.text = text
        self.scope = scope
        self.paras = paragraphs(text) if paras is None else paras
        self.para_ends = {_strip(text, s, e)[1] for s, e in self.paras}
        self.units = _Units(text, self.paras, scope)
        self.quotations = sorted(quotations, key=lambda q: (q.end, q.start))
        self.quote_ends = [q.end for q in self.quotations]
        self.by_start = sorted(quotations, key=lambda q: q.start)
        self.quote_starts = [q.start for q in self.by_start]
        note_regions = _note_regions(text, self.paras)
        self.regions = _merge(
            note_regions
            + _sections(text, "references")
            + [
                (m.start(), _line_end(text, m.end()))
                for m in (_MD_DEFINITION.finditer(text) if "[^" in text else ())
            ]
        )
        self.region_starts = [s for s, _ in self.regions]
        self.references = reference_list(text)
        self.notes = _footnotes(text, note_regions)
        self.known = {_fold(a) for r in self.references for a in r.authors}
        for _, _, note in self.notes.values():
            self.known.update(_fold(a) for a in _parse_entry(note)[0])
        self.tentative: set[tuple[int, int]] = set()
        self._lower: dict[str, bool] = {}
        self._capitalized: dict[str, bool] = {}
        self._code_points: np.ndarray | None = None
        self._runs: _Runs | None = None

    def excluded(self, pos: int) -> bool:
        k = bisect.bisect_right(self.region_starts, pos) - 1
        return k >= 0 and pos < self.regions[k][1]

    def lower_runs(self) -> _Runs:
        if self._runs is None:
            self._runs = _Runs.of(self.code_points())
        return self._runs

    def code_points(self) -> np.ndarray:
        if self._code_points is None:
            # "surrogatepass": extracted text may hold lone surrogates.
            raw = self.text.encode("utf-32-le", "surrogatepass")
            self._code_points = np.frombuffer(raw, dtype=np.uint32)
        return self._code_points

    def lower_word(self, word: str) -> bool:
        """Whether the text writes ``word`` as a whole word in lower case.

        A whole word stands between characters that are not word characters,
        apostrophes or hyphens.  Only the few names asked about are looked up, which is
        much cheaper than collecting every lower-case word of a long text.
        """
        found = self._lower.get(word)
        if found is None:
            found = self._lower[word] = _LOWER_RUN.fullmatch(word) is not None and any(
                (at == 0 or not _WORDISH.match(self.text, at - 1))
                and not _WORDISH.match(self.text, at + len(word))
                for at in _occurrences(self.text, word)
            )
        return found

    def capitalized_mid_sentence(self, word: str) -> bool:
        """Whether the text writes ``word`` (capitalized) after a lower-case word, "," or ";"."""
        found = self._capitalized.get(word)
        if found is None:
            text = self.text
            found = self._capitalized[word] = _CAPITALIZED_RUN.fullmatch(word) is not None and any(
                at >= 2 and text[at - 1] == " " and _MID_SENTENCE.match(text, at - 2) is not None
                and not _WORD_CHAR.match(text, at + len(word))
                for at in _occurrences(text, word)
            )
        return found

    def follows_quote(self, pos: int) -> bool:
        """Whether a quotation ends right before ``pos`` (only marks and punctuation between)."""
        k = bisect.bisect_right(self.quote_ends, pos) - 1
        if k < 0:
            return False
        gap = self.text[self.quote_ends[k] : pos]
        if not all(c.isspace() or c in QUOTE_MARKS or c in ".,;:!?…" for c in gap):
            return False
        # A block quotation may be followed by its citation on a line of its own.
        return len(gap) <= _QUOTE_GAP or self.quotations[k].block

    def ends_sentence(self, end: int) -> bool:
        """Whether only sentence-final punctuation or the end of a paragraph follows ``end``."""
        rest = self.text[end : end + 2].lstrip(" \t")
        return not rest or rest[0] in ".!?" or end in self.para_ends

    def sentence_initial(self, pos: int) -> bool:
        j = pos - 1
        text = self.text
        saw_break = False
        while j >= 0 and (text[j].isspace() or text[j] in "“‘\"'«(*_"):
            if text[j] == "\n" and j > 0 and text[j - 1] == "\n":
                saw_break = True
            j -= 1
        if j < 0 or saw_break:
            return True
        while j >= 0 and text[j] in "”’\"')]»":
            j -= 1
        return j < 0 or text[j] in ".!?…:"

    def covers(self, mark: CitationMark) -> tuple[int, int]:
        units = self.units
        if not self.paras:
            return mark.start, mark.end
        u = units.last_starting_at(mark.start) or (0, 0)
        lead = self.text[units.span(u)[0] : mark.start]
        # "... end of the quotation.” (Smith 2004)": a citation opening its sentence
        # belongs to the one before.
        before = units.previous(u)
        if mark.style != NARRATIVE and before is not None and not any(c.isalnum() for c in lead):
            u, before = before, units.previous(before)
        start, end = units.span(u)
        earliest = units.span(before)[0] if before is not None else start
        if mark.style != NARRATIVE:
            # The quotation that ends last before the citation (the outer one, if nested).
            k = bisect.bisect_right(self.quote_ends, mark.start) - 1
            if k >= 0 and self.quote_ends[k] >= earliest:
                start = min(start, self._unit_at(self.quotations[k].start)[0])
        # A quotation that opens inside the covered span runs on with it, and a
        # sentence that ends with ":" introduces the quotation after it.
        for quote in self._quotes_from(start, end):
            end = max(end, self._unit_at(quote.end - 1)[1])
        if self.text[start:end].rstrip().endswith(":"):
            nxt = bisect.bisect_left(self.quote_starts, end)
            if nxt < len(self.quote_starts) and not self.text[end : self.quote_starts[nxt]].strip(
                " \t\n\r>\"'“‘«"
            ):
                for quote in self._quotes_from(self.quote_starts[nxt], self.quote_starts[nxt] + 1):
                    end = max(end, self._unit_at(quote.end - 1)[1])
        return start, max(end, mark.end)

    def _unit_at(self, pos: int) -> tuple[int, int]:
        """The sentence (or paragraph) around ``pos``; ``(pos, pos + 1)`` between units."""
        u = self.units.last_starting_at(pos)
        if u is not None:
            span = self.units.span(u)
            if pos < span[1]:
                return span
        return pos, pos + 1

    def _quotes_from(self, start: int, end: int) -> list[Quotation]:
        lo = bisect.bisect_left(self.quote_starts, start)
        hi = bisect.bisect_left(self.quote_starts, end)
        return self.by_start[lo:hi]


class _Units:
    """The units a citation covers (sentences, or paragraphs), found when first needed.

    Citations need the units around them only, and splitting a long text into sentences
    costs more than all the rest of finding its citations; so each paragraph is split
    on first use.  A unit is named ``(paragraph, index in the paragraph)``; every
    paragraph holds at least one, and the units of a paragraph are those
    ``_sentences`` gives for the whole text there.
    """

    def __init__(self, text: str, paras: list[tuple[int, int]], scope: str) -> None:
        self.text = text
        self.paras = paras
        self.scope = scope
        self.para_starts = [start for start, _ in paras]
        self._split: dict[int, tuple[list[tuple[int, int]], list[int]]] = {}

    def _of(self, k: int) -> tuple[list[tuple[int, int]], list[int]]:
        found = self._split.get(k)
        if found is None:
            if self.scope == "sentence":
                spans = _sentences(self.text, [self.paras[k]])
            else:
                spans = [_strip(self.text, *self.paras[k])]
            found = self._split[k] = (spans, [start for start, _ in spans])
        return found

    def span(self, unit: tuple[int, int]) -> tuple[int, int]:
        return self._of(unit[0])[0][unit[1]]

    def last_starting_at(self, pos: int) -> tuple[int, int] | None:
        """The last unit that starts at or before ``pos``, if any."""
        k = bisect.bisect_right(self.para_starts, pos) - 1
        if k < 0:
            return None
        j = bisect.bisect_right(self._of(k)[1], pos) - 1
        if j >= 0:
            return k, j
        # Before the first unit of its paragraph: the last unit of the paragraph before.
        return (k - 1, len(self._of(k - 1)[0]) - 1) if k > 0 else None

    def previous(self, unit: tuple[int, int]) -> tuple[int, int] | None:
        k, j = unit
        if j > 0:
            return k, j - 1
        return (k - 1, len(self._of(k - 1)[0]) - 1) if k > 0 else None


_LOWER_RUN = _lazy(r"\p{Ll}+")
_CAPITALIZED_RUN = _lazy(r"\p{Lu}\p{Ll}+")
_WORDISH = _lazy(r"[\w'’-]")
_WORD_CHAR = _lazy(r"\w")
_MID_SENTENCE = _lazy(r"[\p{Ll},;]")


def _occurrences(text: str, word: str) -> Iterator[int]:
    at = text.find(word)
    while at >= 0:
        yield at
        at = text.find(word, at + 1)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint spans covering the same positions as ``spans``."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _line_end(text: str, pos: int) -> int:
    k = text.find("\n", pos)
    return len(text) if k < 0 else k


# --------------------------------------------------------------------------------------
# Detectors.


def _parentheticals(doc: _Context) -> list[CitationMark]:
    text = doc.text
    out: list[CitationMark] = []
    for m in _PAREN.finditer(text):
        inner_start, inner_end = m.span(1)
        if "\n\n" in text[inner_start:inner_end] or doc.excluded(m.start()):
            continue
        works = _split_works(text, inner_start, inner_end)
        parsed: list[CitationMark] = []
        tentative = False
        for s, e in works:
            work = _parse_work(doc, text, s, e, m.start(), m.end(), len(works))
            if work is None:
                parsed = []
                break
            parsed.append(work[0])
            tentative = tentative or work[1]
        if len(parsed) == 1:
            s, e = m.span()
            p = parsed[0]
            parsed = [CitationMark(s, e, text[s:e], p.style, p.authors, p.year, p.title,
                                   p.pages, p.numbers, p.covers)]
        if tentative:
            doc.tentative.update((p.start, p.end) for p in parsed)
        out.extend(parsed)
    return out


def _split_works(text: str, start: int, end: int) -> list[tuple[int, int]]:
    works = []
    pos = start
    while True:
        k = text.find(";", pos, end)
        if k < 0:
            works.append(_strip(text, pos, end))
            return works
        works.append(_strip(text, pos, k))
        pos = k + 1


def _parse_work(
    doc: _Context, text: str, s: int, e: int, paren_start: int, paren_end: int, n_works: int
) -> tuple[CitationMark, bool] | None:
    """Parse one work cited in parentheses: (mark, tentative), or None if it is not one.

    A tentative mark counts only in a document that cites in other, surer ways too.
    """
    prefix = _PREFIX.match(text, s, e)
    body_start = prefix.end() if prefix else s
    suffix = _SUFFIX.search(text, body_start, e)
    body_end = suffix.start() if suffix else e
    if body_start >= body_end:
        return None  # every pattern needs a character or more
    first = text[body_start]
    for kind, pattern in _WORKS:
        if first.isascii() and first not in _WORK_FIRST[kind]:
            continue  # (most parentheses hold no citation: a number, a gloss)
        m = pattern.fullmatch(text, body_start, body_end)
        if m is None:
            continue
        groups = m.groupdict()
        authors = _split_names(groups.get("authors"))
        if groups.get("authors") is not None and not authors:
            return None
        title = _clean_title(groups.get("title"))
        year = _norm_space(groups.get("year"))
        pages = _norm_space(groups.get("pages"))
        if kind == "ibid":
            return CitationMark(s, e, text[s:e], PARENTHETICAL, pages=pages), False
        if title is not None and not title[:1].isupper() and not title[:1].isdigit():
            return None
        after_quote = doc.follows_quote(paren_start)
        at_end = doc.ends_sentence(paren_end)
        # (Smith 12) is MLA, but so are (Route 66) and (Windows 10) in form.
        if (
            kind == "page"
            and not _PAGE_PREFIX_RE.match(pages or "")
            and not (after_quote or _is_known(doc, authors) or (at_end and _rare(doc, authors)))
        ):
            return None
        # A bare title counts in title case, after a quotation or, if it is more than a
        # word, at the end of a sentence: not a gloss ("harm-joy", "Listen to the cry")
        # nor a defined term ("(“Buyer”)", "(“FMR”)").
        if kind == "title" and year is None and pages is None and not (
            _title_case(title or "")
            and (after_quote or (at_end and len((title or "").split()) > 1))
        ):
            return None
        tentative = False
        if kind == "year":
            # "(Munich, 1589)" and "(Housing, 2002)" look like author-year citations; an
            # early year or a name the text also uses as a common word needs company.
            early = year is not None and year[:1].isdigit() and int(year[:4]) < 1800
            tentative = early or any(doc.lower_word(a.split()[-1].casefold()) for a in authors)
        if kind == "name":
            verdict = _lone_name(doc, authors, after_quote, at_end, paren_start)
            if n_works > 1 or verdict is None:
                return None
            tentative = verdict == "tentative"
        mark = CitationMark(s, e, text[s:e], PARENTHETICAL, authors, year, title, pages)
        return mark, tentative
    return None


_TITLE_SMALL_WORDS = frozenset(
    "a an the and or nor but of in on at to for from by with as into over upon vs via".split()
)


def _title_case(title: str) -> bool:
    words = _RX2.findall(title)
    if not words or (len(words) == 1 and words[0].isupper() and len(words[0]) > 1):
        return False  # "FMR": an acronym being defined
    return all(w[0].isupper() for k, w in enumerate(words)
               if k == 0 or w.casefold() not in _TITLE_SMALL_WORDS)


_PAGE_PREFIX_RE = _lazy(_PAGE_PREFIX)


def _lone_name(
    doc: _Context, authors: tuple[str, ...], after_quote: bool, at_end: bool, pos: int
) -> str | None:
    """Whether a name alone in parentheses is a citation: "sure", "tentative" or None.

    It is sure for a name in the reference list or right after a quotation, tentative
    for a rare word at the end of a sentence ("... is productive (Foucault).").
    """
    if not authors or any(len(a.split()) > 3 for a in authors):
        return None
    # "E.S.P. (Extra Sensory Perception)", "WHO (World Health Organization)".
    if _RX3.search(doc.text[max(0, pos - 12) : pos]):
        return None
    if any(w.casefold() in _PLACE_WORDS for a in authors for w in a.split()):
        return None
    if _is_known(doc, authors) or after_quote:
        return "sure"
    if _abbreviates(doc.text[max(0, pos - 60) : pos], authors[0]):
        return None
    return "tentative" if at_end and _rare(doc, authors) else None


# Heads of place and organization names, which a name alone in parentheses often is.
_PLACE_WORDS = frozenset(
    """lake river mount mountain mountains street road avenue highway expressway bridge bay
    island islands county city state province sea ocean park church hospital university
    college school company corporation inc ltd press system systems group valley desert
    basin gulf strait canal airport station square hall museum library""".split()
)


def _abbreviates(before: str, name: str) -> bool:
    """Whether ``name`` abbreviates the words before it: "Megabits Per Second (Mbps)"."""
    if len(name) > 6 or " " in name:
        return False
    words = before.split()[-6:]
    key = name.casefold()
    for k, word in enumerate(words):
        if word[:1].casefold() != key[0]:
            continue
        rest = iter(" ".join(words[k:]).casefold())
        if all(c in rest for c in key):
            return True
    return False


def _is_known(doc: _Context, authors: tuple[str, ...]) -> bool:
    return bool(authors) and all(_fold(a) in doc.known for a in authors)


def _rare(doc: _Context, authors: tuple[str, ...]) -> bool:
    """Whether every name is unlikely to be an ordinary word."""
    for author in authors:
        last = author.split()[-1]
        key = last.casefold()
        if doc.lower_word(key) or zipf(key) >= _COMMON_ZIPF:
            return False
    return True


def _narratives(doc: _Context) -> list[CitationMark]:
    text = doc.text
    out: list[CitationMark] = []

    def add(m: regex.Match[str], title: str | None = None) -> None:
        authors = _split_names(m.group("authors"))
        if not authors:
            return
        groups = m.groupdict()
        s, e = m.span()
        out.append(CitationMark(s, e, text[s:e], NARRATIVE, authors,
                                _norm_space(groups.get("year")), title,
                                _norm_space(groups.get("pages"))))

    starts = _name_starts(doc)
    years = [m.span() for m in _YEAR_ANCHOR.finditer(text)]
    for m in _anchored(_NARRATIVE_YEAR, years, text, starts):
        authors = _split_names(m.group("authors"))
        if authors and not _leading_stopword(m.group("authors")) and not _after_determiner(
            text, m.start()
        ):
            add(m)
            # "Smith (2004) found" and "see Smith (2004)" are citations; a bare
            # "Esmeralda (1881)" may be a title or a place with a date.
            if not (_RESEARCH_VERB.match(text, m.end()) or _CUE_BEFORE.search(
                text, max(0, m.start() - 12), m.start()
            )):
                doc.tentative.add(m.span())
    as_verb, as_by = _after_as(text, _as_words(doc))
    for found in (
        _ACCORDING.finditer(text) if _ACCORDING_WORD.search(text) else (),
        _matches_at(_AS_VERB, text, as_verb),
        _matches_at(_AS_BY, text, as_by),
    ):
        for m in found:
            if not _leading_stopword(m.group("authors")):
                add(m)
    for m in _anchored(_NAME_VERB, _verb_anchors(doc), text, _reaching_verbs(doc, starts)):
        raw = m.group("authors")
        authors = _split_names(raw)
        if (
            not authors
            or _leading_stopword(raw)
            or _after_determiner(text, m.start(), _DETERMINERS | _LOCATIVES)
        ):
            continue
        several = len(authors) > 1 or "et al" in raw
        if m.group("plural") and not several:
            continue
        verb = m.group("verb")
        if verb and several and verb.endswith("s") and not verb.startswith(("has", "had")):
            continue  # "Smith and Jones argues" is ungrammatical; the past tense fits both
        if not _name_evidence(doc, authors, doc.sentence_initial(m.start())):
            continue
        add(m)
    for m in _IN_TITLE.finditer(text) if "In" in text else ():
        title = _clean_title(m.group("title"))
        if title and title[:1].isupper() and not _leading_stopword(m.group("authors")):
            add(m, title)
    return out


_DETERMINERS = frozenset(
    """the a an other its his her their our this that these those some many all both each
    every another any no""".split()
)
# Before the subject of a reporting verb: "a study in New York found" is not New York's.
_LOCATIVES = frozenset(
    "in at from near across throughout within into outside inside around".split()
)
_WORD_BACK = _lazy(r"([\p{L}.'’-]+)[ \t]+$")
_RESEARCH_VERB = _lazy(
    rf"\s+(?:\p{{Ll}}+ly\s+)?(?:{_VERBS_SINGULAR}|{_VERBS_PLURAL}|said|says|used|uses|"
    r"developed|introduced|studied|examined|investigated|identified|provides?|provided|"
    r"presents?|presented|discuss(?:es|ed)?|analy[sz]ed|measured|estimated|documented|"
    r"indicated?s?|shown|gives?|gave|offers?|offered|agrees?|agreed|disagrees?|disagreed|"
    # "Smith's (2004) study"
    r"study|work|book|article|paper|analysis|account|research|argument|view|model|theory|"
    r"findings|data|survey|report|essay|review|thesis|framework|approach|concept|notion|"
    r"definition|critique|discussion)\b"
)
_CUE_BEFORE = _lazy(r"(?i:\b(?:see|cf\.|by|following|per|after)\s+)$")


def _after_determiner(text: str, pos: int, words: frozenset[str] = _DETERMINERS) -> bool:
    """Whether the name at ``pos`` is part of a noun phrase: "the Kennel Club", "other Baltic".

    ``words`` are the words that, before a name, make it one.
    """
    for _ in range(4):
        m = _WORD_BACK.search(text, max(0, pos - 40), pos)
        if m is None:
            return False
        word = m.group(1)
        if word.casefold() in words:
            return True
        if not word[:1].isupper():
            return False
        pos = m.start()
    return False


def _anchored(
    pattern: regex.Pattern[str],
    anchors: Iterable[tuple[int, int]],
    text: str,
    starts: Sequence[int],
) -> list[regex.Match[str]]:
    """The matches of ``pattern`` that contain an anchor, left to right.

    For each anchor that no match found so far covers, the matches of ``pattern`` in a
    window of ``_WINDOW`` characters around it are taken in turn, as ``finditer`` would
    give them, and the first that contains the anchor's start is kept.  ``starts`` are
    the sorted positions where a match may begin (more is harmless): trying the pattern
    at those alone finds the same matches as a search, which tries every position.
    """
    out: list[regex.Match[str]] = []
    done = 0
    n = len(starts)
    for a_start, a_end in anchors:
        if a_start < done:
            continue
        lo = max(done, a_start - _WINDOW)
        hi = min(len(text), a_end + _WINDOW)
        k = bisect.bisect_left(starts, lo)
        while k < n and starts[k] <= a_start:
            m = pattern.match(text, starts[k], hi)
            if m is None:
                k += 1
            elif a_start < m.end():
                out.append(m)
                done = m.end()
                break
            else:
                # The search goes on after this match, which ends before the anchor.
                k = bisect.bisect_left(starts, m.end(), k + 1)
    return out


def _matches_at(
    pattern: regex.Pattern[str], text: str, starts: Sequence[int]
) -> list[regex.Match[str]]:
    """``list(pattern.finditer(text))``, trying the pattern only at ``starts``.

    ``starts`` are sorted and hold every position where a match may begin (more is
    harmless); the pattern never matches the empty string.
    """
    out = []
    done = 0
    for at in starts:
        if at >= done:
            m = pattern.match(text, at)
            if m is not None:
                out.append(m)
                done = m.end()
    return out


def _as_words(doc: _Context) -> list[int]:
    """Where ``_AS_VERB`` and ``_AS_BY`` may match: at "as" in any case, as a word.

    A superset: an "a" or "A" then an "s", "S" or "ſ" (which also folds to "s"), or any
    non-ASCII character in their place, after a character that is not an ASCII letter,
    digit or "_", and before white space (or a non-ASCII character).
    """
    cp = doc.code_points()
    n = len(cp)
    at = np.flatnonzero((cp == 65) | (cp == 97) | (cp > 127))
    at = at[at + 2 < n]
    second, after = cp[at + 1], cp[at + 2]
    before = np.where(at > 0, cp[np.maximum(at - 1, 0)], 32)
    keep = (
        ((second == 83) | (second == 115) | (second > 127))
        & ((after <= 32) | (after > 127))
        & ~(_is_ascii_alnum(before) | (before == 95))
    )
    return at[keep].tolist()


# The words that may follow "as" in a match of ``_AS_BY``.
_AS_BY_WORDS = frozenset(
    "noted argued shown observed suggested pointed discussed described demonstrated "
    "reported claimed put".split()
)
_ASCII_SPACE = " \t\n\r\f\v"
_ASCII_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")


def _after_as(text: str, starts: list[int]) -> tuple[list[int], list[int]]:
    """The ``starts`` (from ``_as_words``) where ``_AS_VERB`` and where ``_AS_BY`` may match.

    After "as" and its white space, ``_AS_VERB`` needs a name: a capital letter or a
    particle ("van"), never another word in lower-case ASCII ("as the", "as well"); and
    ``_AS_BY`` needs one of its verbs.  Only ASCII white space is skipped here, and a
    start followed by any other character that might be white space (non-ASCII, or an
    ASCII control character) is kept for both, so each list is a superset of where its
    pattern matches.
    """
    verb: list[int] = []
    by: list[int] = []
    n = len(text)
    for at in starts:
        j = at + 2
        while j < n and text[j] in _ASCII_SPACE:
            j += 1
        if j >= n:
            continue  # both patterns need words after "as"
        c = text[j]
        if c not in _ASCII_LOWER:
            verb.append(at)
            if not c.isascii() or c < "!":
                by.append(at)
            continue
        k = j + 1
        while k < n and text[k] in _ASCII_LOWER:
            k += 1
        word = text[j:k]
        if word in _PARTICLES:
            verb.append(at)
        if word in _AS_BY_WORDS:
            by.append(at)
    return verb, by


def _name_starts(doc: _Context) -> list[int]:
    """Where a match of the narrative patterns may begin: a superset of name starts.

    Those patterns begin with a surname: a capital letter, or a lower-case particle
    ("van", "de") followed by white space, not inside a word.  Every capital ASCII letter
    and every non-ASCII character is kept, and every particle that does not follow an
    ASCII letter or digit and is followed by white space (or a non-ASCII character).
    """
    cp = doc.code_points()
    keep = ((cp >= 65) & (cp <= 90)) | (cp > 127)
    runs = doc.lower_runs()
    particle = (
        ~(_is_ascii_alnum(runs.before) & (runs.begins > 0))
        & ((runs.after <= 32) | (runs.after > 127))
        & (runs.ends < len(cp))
    )
    keep[runs.begins[runs.spelling(doc.text, _PARTICLES, particle)]] = True
    return np.flatnonzero(keep).tolist()


def _reaching_verbs(doc: _Context, starts: list[int]) -> list[int]:
    """The ``starts`` from which a match of ``_NAME_VERB`` could reach its verb.

    Between a name and its reporting verb stand only more names, particles, "and",
    "et al.", a year in parentheses and white space.  So, outside parentheses, a word
    that begins with a lower-case ASCII letter after an ASCII non-letter is a barrier
    unless it is one of those words or could begin the verb: a word after white space
    that begins with the first three letters of a verb.  None of the words that may
    stand before the verb begins like one (see the tests), so the verb of a match is
    the first such word after its start.  A start is kept when that word comes before
    the first barrier and a verb phrase does begin there.
    """
    if not starts:
        return []
    text = doc.text
    cp = doc.code_points()
    runs = doc.lower_runs()
    before = runs.before
    word = (runs.begins == 0) | ~_is_ascii_letter(before)
    verbs = _VERB_HEADS[runs.head] & (runs.ends - runs.begins >= 3) & (runs.begins > 0) & (
        ((before >= 9) & (before <= 13)) | ((before >= 28) & (before <= 32))
    )
    # White space beyond ASCII, read one character at a time (there are few).
    for k in np.flatnonzero(_VERB_HEADS[runs.head] & (runs.ends - runs.begins >= 3) & (
        before > 127
    )).tolist():
        verbs[k] = text[runs.begins[k] - 1].isspace()
    opens = np.flatnonzero(cp == 40)
    closes = np.flatnonzero(cp == 41)
    last_open = np.concatenate(([-1], opens))[np.searchsorted(opens, runs.begins)]
    last_close = np.concatenate(([-1], closes))[np.searchsorted(closes, runs.begins)]
    barrier = word & ~verbs & (last_open <= last_close) & ((runs.begins == 0) | (before < 128))
    barrier &= ~runs.spelling(text, _BETWEEN, barrier)
    at = np.array(starts, dtype=np.int64)
    never = np.int64(len(cp) + 1)
    verb_at = runs.begins[verbs]
    barrier_at = runs.begins[barrier]
    next_verb = np.append(verb_at, never)[np.searchsorted(verb_at, at, "right")]
    next_barrier = np.append(barrier_at, never)[np.searchsorted(barrier_at, at, "right")]
    viable = next_verb < next_barrier
    kept = at[viable].tolist()
    verb_of = next_verb[viable].tolist()
    phrase = {v: _VERB_PHRASE.match(text, v) is not None for v in set(verb_of)}
    return [start for start, v in zip(kept, verb_of) if phrase[v]]


def _verb_anchors(doc: _Context) -> list[tuple[int, int]]:
    """Spans of the words that begin a reporting verb ("writes", "has", "points"...).

    The word has to stand alone: the characters around it are not word characters
    (letters, digits or "_").
    """
    text = doc.text
    runs = doc.lower_runs()
    words = runs.spelling(text, _VERB_WORDS)
    out = []
    for b, e in zip(runs.begins[words].tolist(), runs.ends[words].tolist()):
        if (b == 0 or not _is_word_char(text[b - 1])) and (
            e == len(text) or not _is_word_char(text[e])
        ):
            out.append((b, e))
    return out


def _is_word_char(c: str) -> bool:
    # A word character as \w of the standard re module sees it.
    return c.isalnum() or c == "_"


def _is_ascii_letter(cp: np.ndarray) -> np.ndarray:
    return ((cp >= 65) & (cp <= 90)) | ((cp >= 97) & (cp <= 122))


def _is_ascii_alnum(cp: np.ndarray) -> np.ndarray:
    return _is_ascii_letter(cp) | ((cp >= 48) & (cp <= 57))


def _pack(word: str) -> int:
    """Up to three lower-case ASCII letters as one number (five bits a letter)."""
    return sum((ord(c) - 96) << (5 * k) for k, c in enumerate(word[:3]))


@dataclass(frozen=True, slots=True)
class _Runs:
    """The runs of lower-case ASCII letters of a text: where its small words are.

    Attributes:
        begins, ends: span of each run.
        before, after: the code point before and after each run (0 at the ends).
        head: the first three letters of each run (all of a shorter one), packed.
    """

    begins: np.ndarray
    ends: np.ndarray
    before: np.ndarray
    after: np.ndarray
    head: np.ndarray

    @classmethod
    def of(cls, cp: np.ndarray) -> _Runs:
        n = len(cp)
        lower = np.zeros(n + 2, dtype=bool)
        lower[1:-1] = (cp >= 97) & (cp <= 122)
        edges = np.flatnonzero(lower[1:] != lower[:-1])
        begins, ends = edges[0::2], edges[1::2]
        length = ends - begins
        head = cp[begins].astype(np.int64) - 96
        for k in (1, 2):
            letter = cp[np.minimum(begins + k, n - 1)].astype(np.int64) - 96
            head |= np.where(length > k, letter, 0) << (5 * k)
        before = np.where(begins > 0, cp[np.maximum(begins - 1, 0)], 0).astype(np.int64)
        after = np.where(ends < n, cp[np.minimum(ends, n - 1)], 0).astype(np.int64)
        return cls(begins, ends, before, after, head)

    def spelling(self, text: str, words: frozenset[str], mask: np.ndarray | None = None
                 ) -> np.ndarray:
        """Which runs (among ``mask``) spell one of ``words``, all lower-case ASCII."""
        # The head is the whole of a run of three letters or fewer; a longer run that
        # begins like a longer word is read.
        short = self.ends - self.begins <= 3
        whole, begun = _heads(words)
        out = np.where(short, whole[self.head], begun[self.head])
        if mask is not None:
            out &= mask
        longer = np.flatnonzero(out & ~short)
        out[longer] = [
            text[b:e] in words
            for b, e in zip(self.begins[longer].tolist(), self.ends[longer].tolist())
        ]
        return out


@lru_cache(maxsize=8)
def _heads(words: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
    """Tables, indexed by a packed head, of the words of three letters or fewer that it
    spells and of the longer words that begin with it."""
    whole = np.zeros(1 << 15, dtype=bool)
    begun = np.zeros(1 << 15, dtype=bool)
    for word in words:
        (whole if len(word) <= 3 else begun)[_pack(word)] = True
    return whole, begun


# The words of lower-case letters that may stand between a name and its verb.
_BETWEEN = _PARTICLES | {"and", "et", "al"}


def _trie(phrases: Iterable[str]) -> str:
    """A pattern matching exactly ``phrases`` (a space in one matches any white space),
    shaped as a trie: a long list of alternatives is slow to try at a position."""
    tree: dict[str, Any] = {}
    for phrase in phrases:
        node = tree
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        alts = [(r"\s+" if ch == " " else regex.escape(ch)) + build(sub)
                for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(tree)


# Where a reporting verb begins (whatever follows it).
_VERB_PHRASE = _lazy(_trie(_REPORTING_SINGULAR + _REPORTING_PLURAL))
# Which heads begin a reporting verb.
_VERB_HEADS = np.zeros(1 << 15, dtype=bool)
_VERB_HEADS[[_pack(w) for w in _VERB_WORDS]] = True


def _leading_stopword(raw: str) -> bool:
    first = raw.split()[0].strip(",").casefold()
    return first in _NOT_NAMES


def _name_evidence(doc: _Context, authors: tuple[str, ...], initial: bool) -> bool:
    """Whether capitalized words before a reporting verb are really names.

    A word the document also writes in lower case is an ordinary word ("Evidence
    suggests").  At the start of a sentence, where every word is capitalized, a name
    also has to be capitalized elsewhere in the middle of a sentence, or be rare as a word.
    """
    if _is_known(doc, authors):
        return True
    for author in authors:
        last = author.split()[-1]
        if doc.lower_word(last.casefold()):
            return False
        if initial and not doc.capitalized_mid_sentence(last) and (
            zipf(last.casefold()) >= _RARE_ZIPF
        ):
            return False
    return True


def _numerics(doc: _Context) -> list[CitationMark]:
    text = doc.text
    out: list[CitationMark] = []
    for m in _NUMERIC.finditer(text) if "[" in text else ():
        numbers = _expand_numbers(m.group("nums"))
        if numbers:
            out.append(_note_mark(doc, m.start(), m.end(), NUMERIC, numbers))
    for m in _MD_FOOTNOTE.finditer(text) if "[^" in text else ():
        out.append(_note_mark(doc, m.start(), m.end(), FOOTNOTE, (int(m.group("nums")),)))
    # Most texts hold no superscript digit; a search for one is much cheaper than the scan.
    cp = doc.code_points()
    has_superscript = bool(
        ((cp == 0xB2) | (cp == 0xB3) | (cp == 0xB9) | ((cp >= 0x2070) & (cp <= 0x2079))).any()
    )
    for m in _SUPERSCRIPT.finditer(text) if has_superscript else ():
        if _unit_like(text, m.start()):
            continue
        groups = _RX4.split(m.group())
        numbers = tuple(int(g.translate(_SUPER_TABLE)) for g in groups)
        out.append(_note_mark(doc, m.start(), m.end(), FOOTNOTE, numbers))
    for m in _CARET.finditer(text) if "^" in text else ():
        if _unit_like(text, m.start()):
            continue
        out.append(_note_mark(doc, m.start(), m.end(), FOOTNOTE, (int(m.group("nums")),)))
    return out


def _unit_like(text: str, pos: int) -> bool:
    """Whether a superscript at ``pos`` is an exponent (m², x^2, mc²) rather than a note."""
    k = pos
    while k > 0 and text[k - 1].isalpha():
        k -= 1
    word = text[k:pos]
    if not word:
        return False  # after punctuation: a note marker
    before = text[max(0, k - 2) : k]
    return len(word) < 3 or any(c.isdigit() for c in before)


def _expand_numbers(spec: str) -> tuple[int, ...]:
    numbers: list[int] = []
    for part in _RX5.split(spec.strip()):
        bounds = _RX6.split(part)
        if len(bounds) == 2:
            lo, hi = int(bounds[0]), int(bounds[1])
            if lo > hi or hi - lo > 50:
                return ()
            numbers.extend(range(lo, hi + 1))
        else:
            numbers.append(int(bounds[0]))
    return tuple(numbers)


def _note_mark(doc: _Context, start: int, end: int, style: str,
               numbers: tuple[int, ...]) -> CitationMark:
    authors: tuple[str, ...] = ()
    year = title = pages = None
    note = doc.notes.get(numbers[0]) if numbers else None
    if note is not None:
        authors, year, title, pages = _parse_note(doc, numbers[0])
    return CitationMark(start, end, doc.text[start:end], style, authors, year, title, pages,
                        numbers)


def _parse_note(doc: _Context, number: int) -> tuple[tuple[str, ...], str | None, str | None,
                                                       str | None]:
    """Parse note ``number``; "Ibid." takes the work of the note before it."""
    note = doc.notes[number][2]
    parsed = _parse_entry(note)
    if _RX7.match(note):
        earlier = [n for n in doc.notes if n < number]
        if earlier:
            authors, year, title, _ = _parse_note(doc, earlier[-1])
            return authors, year, title, parsed[3]
    return parsed


def _drop_overlaps(marks: list[CitationMark]) -> list[CitationMark]:
    """Keep the longest of overlapping marks ("According to Smith (2004)" once, not twice).

    Works cited in one parenthetical do not overlap one another, so they all stay.
    """
    ordered = sorted(marks, key=lambda m: (-(m.end - m.start), m.start))
    kept: list[CitationMark] = []
    starts: list[int] = []  # kept spans, sorted and disjoint
    ends: list[int] = []
    for mark in ordered:
        k = bisect.bisect_left(starts, mark.end)  # spans from k on start after this mark
        if k > 0 and ends[k - 1] > mark.start:
            continue
        kept.append(mark)
        starts.insert(k, mark.start)
        ends.insert(k, mark.end)
    return kept


def _fill_ibid(marks: list[CitationMark]) -> list[CitationMark]:
    """Give "(ibid.)" the work of the author or title citation before it."""
    out: list[CitationMark] = []
    last: CitationMark | None = None
    for mark in marks:
        if mark.style == PARENTHETICAL and _IBID.match(mark.text):
            if last is not None:
                mark = replace(mark, authors=last.authors, year=last.year, title=last.title)
        elif mark.style in (PARENTHETICAL, NARRATIVE) and (mark.authors or mark.title):
            last = mark
        out.append(mark)
    return out


def _fill_titles(marks: list[CitationMark], references: list[CitationMark]) -> list[CitationMark]:
    """Give author-year and author-only citations the title of their reference entry.

    The entry is the only one whose first author has the citation's surname and, when
    the citation gives a year, that year ("Smith 2004" also finds a lone "Smith 2004a").
    An author-only citation also takes the entry's year.
    """
    by_name: dict[str, list[CitationMark]] = {}
    for ref in references:
        if ref.authors and ref.title:
            name = _fold(ref.authors[0])
            for key in {name, name.split()[-1]} if name else ():
                by_name.setdefault(key, []).append(ref)
    if not by_name:
        return marks
    out = []
    for mark in marks:
        if mark.title is None and mark.authors and mark.style in (PARENTHETICAL, NARRATIVE):
            found = by_name.get(_fold(mark.authors[0]), [])
            if mark.year:
                year = mark.year.casefold()
                exact = [r for r in found if r.year and r.year.casefold() == year]
                loose = [r for r in found if r.year and r.year[:4] == year[:4]]
                found = exact or ([] if year[-1:].isalpha() else loose)
            if len(found) == 1:
                mark = replace(mark, title=found[0].title, year=mark.year or found[0].year)
        out.append(mark)
    return out


# --------------------------------------------------------------------------------------
# Sections, notes and reference entries.


def _sections(text: str, kind: str) -> list[tuple[int, int]]:
    """Body spans of the sections of ``kind`` ("references" or "notes")."""
    return [(start, end) for found, start, end in _all_sections(text) if found == kind]


@lru_cache(maxsize=8)
def _all_sections(text: str) -> tuple[tuple[str, int, int], ...]:
    """(kind, body start, body end) of every notes or references section of ``text``."""
    headings = []
    for m in _line_matches(_HEADING, text):
        kind = "notes" if _NOTE_HEADING.fullmatch(m.group("name")) else "references"
        headings.append((m.start(), m.end(), kind))
    if not headings:
        return ()
    others = [m.start() for m in _line_matches(_OTHER_HEADING, text)]
    bounds = sorted({s for s, _, _ in headings} | set(others))
    out = []
    for start, end, kind in headings:
        k = bisect.bisect_right(bounds, start)
        stop = bounds[k] if k < len(bounds) else len(text)
        out.append((kind, end, stop))
    return tuple(out)


def _line_matches(pattern: regex.Pattern[str], text: str) -> Iterator[regex.Match[str]]:
    """``pattern.finditer(text)`` for a pattern that matches a whole line or nothing.

    The pattern starts with ``^`` (multiline), so it is tried at the start of each line
    only, rather than at every position as a search would.
    """
    at = 0
    while at <= len(text):
        m = pattern.match(text, at)
        if m is not None:
            yield m
        nl = text.find("\n", at)
        if nl < 0:
            return
        at = nl + 1


def _note_regions(
    text: str, paras: list[tuple[int, int]] | None = None
) -> list[tuple[int, int]]:
    """Spans holding notes: notes sections, numbered reference lists, or trailing notes.

    ``paras`` are the paragraphs of ``text``, if already found.
    """
    regions = _sections(text, "notes")
    for start, end in _sections(text, "references"):
        if _NOTE_START.search(text, start, end):
            regions.append((start, end))
    if not regions:
        trailing = _trailing_notes(text, paragraphs(text) if paras is None else paras)
        if trailing:
            regions.append(trailing)
    return regions


def _trailing_notes(text: str, paras: list[tuple[int, int]]) -> tuple[int, int] | None:
    """A run of numbered paragraphs that ends the document and is referred to before it."""
    k = len(paras)
    while k > 0 and _NOTE_START.match(text, paras[k - 1][0], paras[k - 1][1]):
        k -= 1
    if k == len(paras) or k == 0:
        return None
    start, end = paras[k][0], paras[-1][1]
    numbers = [n for n, _, _ in _numbered_entries(text, start, end)]
    if not numbers or numbers != sorted(set(numbers)):
        return None
    before = text[:start]
    for n in numbers[:3]:
        sup = str(n).translate(str.maketrans("0123456789", _SUPERSCRIPT_DIGITS))
        if f"[{n}]" in before or f"^{n}" in before or regex.search(
            rf"[\p{{L}}\p{{P}}]{sup}(?![⁰¹²³⁴⁵⁶⁷⁸⁹])", before
        ):
            return start, end
    return None


def _numbered_entries(text: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """(number, start, end) of each numbered entry between ``start`` and ``end``."""
    found = list(_NOTE_START.finditer(text, start, end))
    out = []
    for k, m in enumerate(found):
        raw = next(g for g in (m.group("a"), m.group("b"), m.group("c"), m.group("d"),
                               m.group("e")) if g)
        number = int(raw.translate(_SUPER_TABLE))
        stop = found[k + 1].start() if k + 1 < len(found) else end
        s, e = _strip(text, m.end(), stop)
        if s < e:
            out.append((number, s, e))
    return out


def _entries(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the entries of a reference list."""
    if _NOTE_START.search(text, start, end):
        return [(s, e) for _, s, e in _numbered_entries(text, start, end)]
    body = text[start:end]
    spans: list[tuple[int, int]] = []
    if _RX8.search(body.strip()):
        pos = start
        for m in regex.finditer(r"\n(?:[ \t]*\n)+", text[:end], pos=start):
            spans.append((pos, m.start()))
            pos = m.end()
        spans.append((pos, end))
    else:
        for m in regex.finditer(r"^[^\n]*", text[:end], pos=start, flags=regex.MULTILINE):
            s, e = m.span()
            if not text[s:e].strip():
                continue
            if spans and text[s:s + 1] in (" ", "\t"):
                spans[-1] = (spans[-1][0], e)  # a hanging indent continues the entry
            else:
                spans.append((s, e))
    out = []
    for s, e in spans:
        bullet = _BULLET.match(text, s, e)
        s2, e2 = _strip(text, bullet.end() if bullet else s, e)
        if s2 < e2:
            out.append((s2, e2))
    return out


def _parse_entry(entry: str) -> tuple[tuple[str, ...], str | None, str | None, str | None]:
    """Authors (surnames), year, title and pages of a reference entry or a note."""
    entry = " ".join(entry.split())
    cue = _LEADING_CUE.match(entry)
    if cue:
        entry = entry[cue.end():]
    title_m = _QUOTED_TITLE.search(entry) or _ITALIC_TITLE.search(entry)
    year_m = _YEAR_IN_PARENS.search(entry) or _YEAR_BARE.search(entry)
    if year_m and title_m and title_m.start() <= year_m.start() < title_m.end():
        year_m = _YEAR_BARE.search(entry, title_m.end())
    year = year_m.group("year") if year_m else None
    pages_m = _NOTE_PAGES.search(entry)
    pages = None
    if pages_m:
        pages = pages_m.group("a") or pages_m.group("b")
        if pages and year and pages.startswith(year[:4]):
            pages = None

    brk = _first_break(entry)
    author_end = brk
    if title_m:
        author_end = min(author_end, title_m.start())
    year_first = year_m is not None and year_m.start() <= author_end + 2
    if year_m and year_first:
        author_end = min(author_end, year_m.start())
    authors = _surnames(entry[:author_end])

    if title_m:
        title = _clean_title(title_m.group())
    elif year_m and year_first:
        after = entry[year_m.end():].lstrip(" .,:;)")
        title = _clean_title(after[: _first_break(after)])
    elif brk < len(entry):
        after = entry[brk:].lstrip(" .,:;")
        title = _clean_title(after[: _first_break(after)])
    else:
        # A short note: "Smith, Title of the Work, 45."
        parts = [p.strip() for p in entry.rstrip(".").split(",")]
        authors = _surnames(parts[0]) if parts else ()
        title = _clean_title(parts[1]) if len(parts) > 1 and not parts[1][:1].isdigit() else None
    if title is not None and ((year is not None and title == year) or not title[:1].isalnum()):
        title = None
    return authors, year, title, pages


def _first_break(s: str) -> int:
    """Index of the period that ends the author list (or first sentence) of an entry.

    A period after an initial ("J.", "J.K.") or an abbreviation ("ed.") ends nothing,
    except in the Vancouver style ("Smith JA, Lee K. Title"), where initials carry no
    periods and the period after the last one ends the list.
    """
    vancouver = _VANCOUVER.match(s) is not None
    for m in regex.finditer(r"[.?!](?=\s)", s):
        word = _RX9.search(s[: m.start()])
        token = (word.group(1) if word else "").rstrip(".")
        if _INITIAL.match(token) and not (vancouver and "." not in token):
            continue
        if token.casefold().strip(",(") in _ABBREVIATED_IN_ENTRIES:
            continue
        return m.start()
    return len(s)


_VANCOUVER = _lazy(r"[\p{Lu}][\p{L}'’-]+ \p{Lu}{1,3}[,.]")
_ABBREVIATED_IN_ENTRIES = frozenset("ed eds trans jr sr st vol no pp p".split())


def _surnames(segment: str) -> tuple[str, ...]:
    """Surnames in an author segment: "Smith, J., & Lee, K." -> ("Smith", "Lee")."""
    segment = _RX10.sub(" ", segment)
    segment = segment.strip(" .,;:")
    if not segment:
        return ()
    names: list[str] = []
    for chunk in _RX11.split(segment):
        expect_given = False
        for part in (p.strip(" .") for p in chunk.split(",")):
            words = [w for w in part.split() if w.casefold().strip(".") not in _NOT_AUTHOR_WORDS]
            if not words:
                continue
            if all(_INITIAL.match(w.rstrip(".")) for w in words):
                expect_given = False
                continue
            if expect_given and len(words) <= 3 and all(w[:1].isupper() for w in words):
                expect_given = False  # "Smith, John": John is the given name
                continue
            if words[-1].casefold().strip(".") in _NAME_SUFFIX:
                words = words[:-1]
                if not words:
                    continue
            if len(words) == 1:
                names.append(words[0])
                expect_given = True
                continue
            if _INITIAL.match(words[-1].rstrip(".")) and words[-1].isupper():
                # Vancouver style "Smith JK".
                names.append(" ".join(w for w in words[:-1]))
                expect_given = False
                continue
            particle = next((k for k, w in enumerate(words[1:], 1)
                             if regex.fullmatch(_PARTICLE, w)), None)
            if particle:
                names.append(" ".join(words[particle:]))
            elif len(words) >= 3 and not any(_INITIAL.match(w.rstrip(".")) for w in words):
                names.append(" ".join(words))  # "American Cancer Society"
            else:
                names.append(words[-1])
            expect_given = False
    return tuple(n.strip(".,") for n in names if (any(c.isalpha() for c in n) and n[:1].isupper())
                 or regex.match(_PARTICLE + r"\s", n))


def _split_names(raw: str | None) -> tuple[str, ...]:
    """Names in an in-text author group: "Smith, Lee and Brown et al." -> three names."""
    if not raw:
        return ()
    raw = _RX12.sub("", raw.strip())
    parts = _RX13.split(raw)
    names = []
    for part in parts:
        words = part.split()
        while words and words[0].casefold() in _NOT_NAMES:
            words = words[1:]
        if not words:
            continue
        if any(w.casefold() in _NOT_NAMES for w in words):
            return ()
        names.append(" ".join(words))
    return tuple(names)


def _clean_title(raw: str | None) -> str | None:
    if raw is None:
        return None
    title = " ".join(raw.split()).strip(" \"'“”‘’«»*_")
    title = title.rstrip(" .,;:")
    return title or None


def _norm_space(raw: str | None) -> str | None:
    return " ".join(raw.split()) if raw else None


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _sentences(text: str, paras: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for ps, pe in paras:
        pos = ps
        for m in _SENTENCE_END.finditer(text, ps, pe):
            at, stop = m.span()
            if text[at] == "." and text[at + 1 : at + 2] not in ".!?…":
                # One period may belong to an initial or an abbreviation.
                word = _word_before(text, max(ps, at - 20), at)
                if word and (len(word) == 1 or word.casefold() in _ABBREVIATIONS):
                    continue
            s, e = _strip(text, pos, stop)
            if s < e:
                out.append((s, e))
            pos = stop
        s, e = _strip(text, pos, pe)
        if s < e:
            out.append((s, e))
    return out


def _word_before(text: str, lo: int, end: int) -> str | None:
    """``_WORD_BEFORE.search(text, lo, end).group(1)``: the word before a period at ``end``.

    A match is letters, then perhaps a period, then the end (or a newline before it).
    Most periods follow ASCII letters after an ASCII non-letter, or an ASCII character
    that no match can end with, and are settled here; the regex settles the rest.
    """
    if end > lo:
        last = text[end - 1]
        if last.isascii():
            if last.isalpha():
                start = end - 1
                while start > lo and text[start - 1].isascii() and text[start - 1].isalpha():
                    start -= 1
                if start == lo or text[start - 1].isascii():
                    # The letters cannot run on further back, and a match starting
                    # farther back would need letters up to here.
                    return text[start:end]
            elif last not in ".\n":
                return None
    # A match's letters reach ``end - 3`` or later, so it starts inside the run of letters
    # that holds that position: the search starts at the beginning of that run (walking
    # back over anything that might be a letter to the regex module only makes it start
    # earlier, which finds the same leftmost match).
    start = max(lo, end - 3)
    while start > lo and (text[start - 1].isalpha() or not text[start - 1].isascii()):
        start -= 1
    m = _WORD_BEFORE.search(text, start, end)
    return m.group(1) if m else None


# --------------------------------------------------------------------------------------
# Resolving by metadata.

_ACCEPT = 40
_MARGIN = 15


def _score(mark: CitationMark, doc: Document) -> float:
    stem_tokens = _stem_tokens(doc)
    score = 0.0
    if mark.authors:
        wanted = [_fold(a).split()[-1] for a in mark.authors if _fold(a)]
        wanted_full = {_fold(a) for a in mark.authors}
        if doc.author:
            have = _doc_surnames(doc.author)
            have_full = _fold(doc.author)
            if wanted and (wanted[0] in have or wanted_full & {have_full}):
                score += 40
            elif any(w in have for w in wanted):
                score += 25
            else:
                score -= 25
        elif wanted and wanted[0] in stem_tokens:
            score += 30
    year = _RX14.match(mark.year or "")
    if year:
        doc_year = _RX15.search(doc.date or "")
        if doc_year:
            score += 20 if doc_year.group() == year.group() else -20
        elif year.group() in stem_tokens:
            score += 15
    if mark.title:
        points = 0.0
        if doc.title:
            similarity = _title_similarity(mark.title, doc.title)
            points = 50 if similarity >= 90 else 30 if similarity >= 80 else (
                -10 if similarity < 50 else 0)
        stem = " ".join(t for t in stem_tokens if not t.isdigit())
        if stem and _title_similarity(mark.title, stem) >= 90:
            points = max(points, 40)
        score += points
    return score


def _stem_tokens(doc: Document) -> set[str]:
    return _name_tokens(doc.id, doc.path)


@lru_cache(maxsize=4096)
def _name_tokens(doc_id: str, path: str | None) -> set[str]:
    """The words of a document's id and file name stem (every citation asks again).

    The set is shared by the callers, which only read it.
    """
    tokens: set[str] = set()
    for name in (doc_id, path):
        if name:
            tokens.update(_fold(PurePath(name).stem.replace("_", " ")).split())
    return tokens


@lru_cache(maxsize=4096)
def _doc_surnames(author: str) -> frozenset[str]:
    names = _surnames(author)
    out = {_fold(n).split()[-1] for n in names if _fold(n)}
    return frozenset(out)


_NON_WORD = _lazy(r"[^\w]+|_")
_SUBTITLE = _lazy(r"[:—–]|\s-\s|[.?!]\s")
_ARTICLE = _lazy(r"^(?:the|a|an)\s+")


@lru_cache(maxsize=65536)
def _fold(s: str) -> str:
    folded = strip_accents(s).casefold().replace("’", "'")
    return " ".join(_NON_WORD.sub(" ", folded).split())


@lru_cache(maxsize=16384)
def _title_keys(title: str) -> tuple[str, ...]:
    keys: list[str] = []
    for variant in (title, _SUBTITLE.split(title)[0]):
        key = _ARTICLE.sub("", _fold(variant))
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)


def _title_similarity(a: str, b: str) -> float:
    best = 0.0
    for x in _title_keys(a):
        for y in _title_keys(b):
            if x == y:
                return 100.0
            shorter = min(len(x.split()), len(y.split()))
            # One shared word makes a token-set "subset" match of 100; a one-word title
            # has to match the whole title instead.
            score = fuzz.token_set_ratio(x, y) if shorter >= 2 else fuzz.ratio(x, y)
            best = max(best, score)
    return best
