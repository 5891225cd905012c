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
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath
from typing import Any

import numpy as np
import regex
from rapidfuzz import fuzz

from stemmatic.normalize import strip_accents
from stemmatic.quotes import QUOTE_MARKS, code_points, find_quotations, paragraphs
from stemmatic.types import Document, Quotation, slot_builder

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


# A long text has hundreds of marks, most of them built twice (found, then given what
# they cover).
_mark = slot_builder(CitationMark)


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
# The ASCII letters the words of _PREFIX begin with (in either case).
_PREFIX_FIRST = frozenset("sceiqafSCEIQAF")

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
# What a work of a kind holds somewhere, found much faster than the work's pattern
# fails: a year begins with "1" or "2", or reads "n.", "in press" or "forthcoming"; a
# title opens with a quote mark, "*" or "_"; a locator holds a digit (\d of the regex
# module is any decimal digit, which may lie beyond ASCII, as "§" does) or a roman
# numeral after the "." or white space of its prefix.
_WORK_NEEDS = {
    "year": re.compile(r"[12]|n\.|press|forthcoming"),
    "titled": re.compile("[\"'“‘«*_]"),
    "page": re.compile(r"[0-9\x80-\U0010ffff]|[.\s][ivxlcdm]"),
}
# (The standard re module scans for this one faster than the regex module does.)
_PAREN = re.compile(r"\(([^()]{1,300})\)")
# What every work cited in parentheses holds: a capital (of its authors' names), a mark
# that sets off a title ("'*_, or one beyond ASCII), or the "ib" or "id" of "ibid." or
# "id." at the start of a word.  A character beyond ASCII may be a capital or a mark;
# only white space is left out.  Where the contents hold none, _parse_work finds no work.
_CITES_SOMETHING = re.compile(r"(?!\s)[A-Z\"'*_\x80-\U0010ffff]|(?<![A-Za-z])[iI][bBdD]")
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


_VERBS_SINGULAR = _phrases(_REPORTING_SINGULAR)
_VERBS_PLURAL = _phrases(_REPORTING_PLURAL)
# The same verbs as tries, which the regex module tries much faster at a position.  (At
# a position the phrases that match all begin one another, and the trie tries the longer
# first, as the lists sorted by length do.)
_VERBS_SINGULAR_TRIE = _trie(_REPORTING_SINGULAR)
_VERBS_PLURAL_TRIE = _trie(_REPORTING_PLURAL)
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
# (The names and year are matched once for both endings: the names can stand before a
# verb word ending at one place only, as one name continues to another after ",", "and",
# "&" or "et al.", where no verb begins, so either ending is tried after the same names.)
_NAME_VERB = _lazy(
    rf"(?P<authors>{_AUTH_SURNAME})(?:{_YEAR_PAREN})?\s+"
    rf"(?:(?:(?P<verb>{_VERBS_SINGULAR_TRIE})|(?P<plural>{_VERBS_PLURAL_TRIE}))"
    r"(?=(?:\s+\p{Ll}+ly)?\s*(?:that\b|:|[\"“‘«]))"
    "|"
    rf"(?:(?!(?:{_NOUN_LIKE_VERBS})\b)(?P<verb>{_VERBS_SINGULAR_TRIE})"
    rf"|(?!(?:{_NOUN_LIKE_PLURAL})\b)(?P<plural>{_VERBS_PLURAL_TRIE}))"
    r"(?=\s*,))"
)


# Scanning every position with the patterns above is slow, so they run only in a window
# around a cheap anchor: a year in parentheses, or the first word of a reporting verb.
# In the window they are tried only where a name can begin (see _StartsBefore).
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
# How the lines these headings match may begin, after blanks (see _line_starts).
_HEADING_FIRST = ("#", "*", "_", *sorted(
    {name[:2] for name in (_REFERENCE_HEADINGS + "|" + _NOTE_HEADINGS).split("|")}
))
_OTHER_HEADING_FIRST = ("#", "ap", "ac", "ab", "in", "gl", "fu", "ta", "fi")
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
# Words that make an author an organization (a corporate author), named in full.
_ORGANIZATION_WORDS = frozenset(
    """organization organisation association institute institution agency ministry
    department council committee commission university college partnership bank office
    foundation centre center society union group corporation company board bureau service
    network trust federation alliance programme program fund authority administration
    government inc ltd llc plc""".split()
)

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
_LONGEST_ABBREVIATION = max(len(a) for a in _ABBREVIATIONS)

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
    cp: np.ndarray | None = None,
) -> list[CitationMark]:
    """Find the citations in ``text``: in-text marks, note markers and reference entries.

    Args:
        text: the query text.
        scope: what a citation covers by default: "sentence" or "paragraph".
        quotations: the quotations of ``text`` if already found (by
            :func:`stemmatic.quotes.find_quotations`); found here otherwise.
        paras: the paragraphs of ``text`` (:func:`stemmatic.quotes.paragraphs`), if
            already found.
        cp: the code points of ``text`` (:func:`stemmatic.quotes.code_points`), if
            already read.

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
    doc = _Context(text, scope, quotations, paras, cp)
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
    marks = _fill_titles(marks, doc.references, [doc.covers(m) for m in marks])
    marks.extend(doc.references)
    marks.sort(key=lambda m: (m.start, m.end))
    return marks


def _remade(
    m: CitationMark,
    authors: tuple[str, ...],
    year: str | None,
    title: str | None,
    covers: tuple[int, int],
) -> CitationMark:
    """``replace(m, authors=authors, year=year, title=title, covers=covers)``, built
    directly (``replace`` is slow, and a long text has hundreds of marks)."""
    return _mark(
        m.start, m.end, m.text, m.style, authors, year, title, m.pages, m.numbers, covers
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
    return _footnotes(text, _note_regions(text), _definitions(text))


def _definitions(text: str) -> list[regex.Match[str]]:
    """The Markdown footnote definitions of ``text`` (``_MD_DEFINITION``)."""
    # (A definition holds "[^"; most texts have none, and the test is much quicker than
    # the scan.)
    return list(_line_matches(_MD_DEFINITION, text, ("[",))) if "[^" in text else []


def _footnotes(
    text: str, regions: list[tuple[int, int]], definitions: list[regex.Match[str]]
) -> dict[int, tuple[int, int, str]]:
    notes: dict[int, tuple[int, int, str]] = {}
    for start, end in regions:
        for number, s, e in _numbered_entries(text, start, end):
            notes.setdefault(number, (s, e, text[s:e]))
    for m in definitions:
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
            if not (_YEAR_BARE.search(entry) or _title_in(entry)):
                continue
            authors, year, title, _ = _parse_entry(entry)
            out.append(_mark(s, e, text[s:e], REFERENCE, authors, year, title,
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
    cited = _Cited(mark)
    scored = sorted(((_score(cited, doc), k) for k, doc in enumerate(sources)), reverse=True)
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
        cp: np.ndarray | None = None,
    ) -> None:
        self.text = text
        self.scope = scope
        self.paras = paragraphs(text) if paras is None else paras
        self.units = _Units(text, self.paras, scope, self.code_points)
        self.quotations = sorted(quotations, key=lambda q: (q.end, q.start))
        self.quote_ends = [q.end for q in self.quotations]
        self.by_start = sorted(quotations, key=lambda q: q.start)
        self.quote_starts = [q.start for q in self.by_start]
        self._code_points = code_points(text) if cp is None else cp
        # Where a numeric marker may begin.  (Texts hold few "[", which str.find finds
        # faster than numpy's passes over a short text.)
        self.brackets: list[int] = []
        at = text.find("[")
        while at >= 0:
            self.brackets.append(at)
            at = text.find("[", at + 1)
        # Where the text holds no "[^" (most texts), it holds no Markdown footnote; the
        # pair is looked for after the "[" alone (a search for two characters is slow).
        self.md_footnotes = any(text.startswith("^", at + 1) for at in self.brackets)
        note_regions = _note_regions(text, self.paras)
        definitions = _definitions(text) if self.md_footnotes else []
        self.regions = _merge(
            note_regions
            + _sections(text, "references")
            + [(m.start(), _line_end(text, m.end())) for m in definitions]
        )
        self.region_starts = [s for s, _ in self.regions]
        self.references = reference_list(text)
        self.notes = _footnotes(text, note_regions, definitions)
        self.known = {_fold(a) for r in self.references for a in r.authors}
        for _, _, note in self.notes.values():
            self.known.update(_fold(a) for a in _parse_entry(note)[0])
        self.tentative: set[tuple[int, int]] = set()
        # The forms of the works cited in parentheses (see _parse_work).
        self.work_forms: dict[tuple[str, str], _WorkForm | None] = {}
        # Doubtful marks are told from sure ones only to drop them from a document that
        # cites in no surer way (see find_citations); with a reference list or notes
        # they all count, so the tests that tell them apart need not run.
        self.weigh_doubts = not (self.references or self.notes)
        self._lower: dict[str, bool] = {}
        self._capitalized: dict[str, bool] = {}
        self._spaces: np.ndarray | None = None
        self._beyond: np.ndarray | None = None

    def excluded(self, pos: int) -> bool:
        k = bisect.bisect_right(self.region_starts, pos) - 1
        return k >= 0 and pos < self.regions[k][1]

    def spaces(self) -> np.ndarray:
        """The positions of the ASCII spaces and control characters (code points to 32)."""
        if self._spaces is None:
            self._spaces = np.flatnonzero(self.code_points() <= 32)
        return self._spaces

    def beyond_ascii(self) -> np.ndarray:
        """The positions of the characters beyond ASCII."""
        if self._beyond is None:
            self._beyond = np.flatnonzero(self.code_points() > 127)
        return self._beyond

    def code_points(self) -> np.ndarray:
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
        # A block quotation may be followed by its citation on a line of its own.  (The
        # gap is read only where its length allows: it may run far back.)
        if pos - self.quote_ends[k] > _QUOTE_GAP and not self.quotations[k].block:
            return False
        gap = self.text[self.quote_ends[k] : pos]
        return all(c.isspace() or c in QUOTE_MARKS or c in ".,;:!?…" for c in gap)

    def ends_sentence(self, end: int) -> bool:
        """Whether only sentence-final punctuation or the end of a paragraph follows ``end``."""
        rest = self.text[end : end + 2].lstrip(" \t")
        return not rest or rest[0] in ".!?" or self._ends_paragraph(end)

    def _ends_paragraph(self, end: int) -> bool:
        """Whether the text of a paragraph (without the white space at its end) ends at
        ``end``; that paragraph holds ``end - 1``."""
        k = bisect.bisect_right(self.units.para_starts, end - 1) - 1
        if k < 0 or end > self.paras[k][1]:
            return False
        start, stop = self.paras[k]
        # (A paragraph holds text, so only white space at its end is stripped.)
        return (_strip(self.text, start, stop)[1] if self.text[stop - 1].isspace() else stop) == end

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
        u = units.last_starting_at(mark.start) or units.first()
        narrative = mark.style == NARRATIVE
        # "... end of the quotation.” (Smith 2004)": a citation opening its sentence
        # belongs to the one before.
        if not narrative and _ALNUM.search(self.text, units.span(u)[0], mark.start) is None:
            u = units.previous(u) or u
        start, end = units.span(u)
        if not narrative:
            # The quotation that ends last before the citation (the outer one, if nested),
            # if it ends in this unit or the one before.  (The one before is looked for
            # only where needed: it starts in this paragraph or the one before it, so a
            # quotation that ends before those ends before it.)
            k = bisect.bisect_right(self.quote_ends, mark.start) - 1
            if k >= 0 and (
                self.quote_ends[k] >= start
                or (self.quote_ends[k] >= units.para_starts[max(u[0] - 1, 0)]
                    and (before := units.previous(u)) is not None
                    and self.quote_ends[k] >= units.span(before)[0])
            ):
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
    """The units a citation covers (sentences, or paragraphs), found where asked for.

    Citations need the units around them only, and splitting a long text into sentences
    costs more than all the rest of finding its citations; so only the text around the
    positions asked about is read.  A unit is named ``(paragraph, start, end)``; every
    paragraph holds at least one, and the units of a paragraph are those ``_sentences``
    gives for the whole paragraph (tests/test_query_side_speed.py holds them to it).

    Whether a sentence ends at a mark (``.``, ``!``, ``?`` or ``…``) is settled from the
    text around that mark alone.  A match of ``_SENTENCE_END`` holds one run of the
    marks (the closing marks and note markers after the run hold none, and white space
    follows the match), and it matches at a mark inside a run exactly where it matches
    at the run's first mark; so the matches ``_sentence_ends`` finds, left to right, are
    those at the first mark of each run where the pattern matches, and ``_sentences``
    keeps those that follow no abbreviation, which depends on the paragraph's start only.
    """

    def __init__(
        self,
        text: str,
        paras: list[tuple[int, int]],
        scope: str,
        code_points: Callable[[], np.ndarray] | None = None,
    ) -> None:
        self.text = text
        self.paras = paras
        self.scope = scope
        self.para_starts = [start for start, _ in paras]
        self._code_points = code_points
        self._stop_list: list[int] | None = None  # (see _stops)
        # Where the sentence ends whose last mark stands at a position (0: none ends).
        self._ends: dict[int, int] = {}
        # The units found so far, by start, and the unit before each (see
        # last_starting_at and previous).
        self._found_starts: list[int] = []
        self._found: list[tuple[int, int, int]] = []
        self._before: dict[tuple[int, int, int], tuple[int, int, int] | None] = {}

    def _stops(self) -> list[int]:
        """Where a sentence may end (``_stops``); nowhere in the paragraph scope."""
        if self._stop_list is None:
            if self.scope == "sentence":
                cp = self._code_points() if self._code_points else code_points(self.text)
                self._stop_list = _stops(cp)
            else:
                self._stop_list = []
        return self._stop_list

    def _end(self, at: int, ps: int, pe: int) -> int:
        """Where the sentence ends whose last mark is the one at ``at``, in the paragraph
        ``(ps, pe)``; 0 if none ends there (see the class's docstring)."""
        found = self._ends.get(at)
        if found is None:
            text = self.text
            found = 0
            if at == ps or text[at - 1] not in _SENTENCE_MARKS:
                found = _end_at(text, at, pe)
                if found and _after_abbreviation(text, at, ps):
                    found = 0
            self._ends[at] = found
        return found

    def _last_in(self, k: int, pos: int) -> tuple[int, int, int] | None:
        """The last unit of paragraph ``k`` that starts at or before ``pos``, if any."""
        text = self.text
        ps, pe = self.paras[k]
        stops = self._stop_list if self._stop_list is not None else self._stops()
        ends = self._ends  # (read here first: most marks are settled already)
        # The sentence ends before ``pos``, last first: a sentence starts after one of
        # them (past its white space), or at the paragraph's start.  (Between paragraphs
        # stands no mark, so those before ``pos`` past ``pe`` are none.)
        first = bisect.bisect_left(stops, pos)
        j = first - 1
        after: int | None = None  # the end of the sentence after the one looked at
        start = -1
        while j >= 0 and stops[j] >= ps:
            stop = ends.get(stops[j])
            if stop is None:
                stop = self._end(stops[j], ps, pe)
            j -= 1
            if stop:
                # (The text of the paragraph goes on after a sentence's end: the pattern
                # looks ahead to it.)
                begin = stop
                while text[begin].isspace():
                    begin += 1
                if begin <= pos:
                    start = begin
                    break
                after = stop
        if start < 0:
            start = ps
            while start < pe and text[start].isspace():
                start += 1
            if start > pos or start == pe:  # (a paragraph of white space holds none)
                return None
        if after is None:
            # The sentence ends at the first end after ``pos``, or with its paragraph.
            j = first
            while j < len(stops) and stops[j] < pe:
                after = ends.get(stops[j])
                if after is None:
                    after = self._end(stops[j], ps, pe)
                if after:
                    break
                j += 1
            if not after:
                after = pe
                while text[after - 1].isspace():
                    after -= 1
        return k, start, after

    def span(self, unit: tuple[int, int, int]) -> tuple[int, int]:
        return unit[1], unit[2]

    def first(self) -> tuple[int, int, int]:
        """The first unit of the text, which has a paragraph."""
        unit = self._last_in(0, _strip(self.text, *self.paras[0])[0])
        assert unit is not None  # (one starts where the paragraph's text does)
        return unit

    def last_starting_at(self, pos: int) -> tuple[int, int, int] | None:
        """The last unit that starts at or before ``pos``, if any."""
        # Citations ask about the same sentences again and again, and a position inside
        # a unit found before is in that unit, the last to start at or before it (the
        # units are disjoint and in order).
        j = bisect.bisect_right(self._found_starts, pos) - 1
        if j >= 0 and pos < (unit := self._found[j])[2]:
            return unit
        k = bisect.bisect_right(self.para_starts, pos) - 1
        if k < 0:
            return None
        found = self._last_in(k, pos)
        if found is None:
            # Before the first unit of its paragraph: the last unit of the paragraph before.
            found = self._last_in(k - 1, self.paras[k - 1][1]) if k > 0 else None
        if found is not None and (j < 0 or self._found[j] != found):
            self._found_starts.insert(j + 1, found[1])
            self._found.insert(j + 1, found)
        return found

    def previous(self, unit: tuple[int, int, int]) -> tuple[int, int, int] | None:
        if unit in self._before:
            return self._before[unit]
        k, start, _ = unit
        found = self._last_in(k, start - 1)
        if found is None and k > 0:
            found = self._last_in(k - 1, self.paras[k - 1][1])
        self._before[unit] = found
        return found


# The marks that may end a sentence (see _stops).
_SENTENCE_MARKS = frozenset(".!?…")


# A character that ``str.isalnum`` accepts: \w of the standard re module but "_".
_ALNUM = re.compile(r"[^\W_]")
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
        if _CITES_SOMETHING.search(text, inner_start, inner_end) is None:
            continue  # (most parentheses: a number, a gloss)
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
    The mark spans the work, or the whole parenthetical if it cites one work.
    """
    ms, me = (paren_start, paren_end) if n_works == 1 else (s, e)
    # A text cites the same works again and again, so their forms are kept.  (A form
    # depends on the work's characters and on the one before it, which the lookbehind
    # of a name at its start reads.)
    key = (text[s - 1 : s], text[s:e])
    forms = doc.work_forms
    if key not in forms:
        forms[key] = _work_form(text, s, e)
    form = forms[key]
    if form is None:
        return None
    kind, authors, title, year, pages = form
    if kind == "ibid":
        return _mark(ms, me, text[ms:me], PARENTHETICAL, pages=pages), False
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
    if kind == "year" and doc.weigh_doubts:
        # "(Munich, 1589)" and "(Housing, 2002)" look like author-year citations; an
        # early year or a name the text also uses as a common word needs company.
        early = year is not None and year[:1].isdigit() and int(year[:4]) < 1800
        tentative = early or any(doc.lower_word(a.split()[-1].casefold()) for a in authors)
    if kind == "name":
        verdict = _lone_name(doc, authors, after_quote, at_end, paren_start)
        if n_works > 1 or verdict is None:
            return None
        tentative = verdict == "tentative"
    mark = _mark(ms, me, text[ms:me], PARENTHETICAL, authors, year, title, pages)
    return mark, tentative


# What a work cited in parentheses says, whatever stands around it: its kind (of
# _WORKS), authors, title, year and pages.
_WorkForm = tuple[str, tuple[str, ...], str | None, str | None, str | None]


def _work_form(text: str, s: int, e: int) -> _WorkForm | None:
    """The form of the work ``text[s:e]`` cited in parentheses, or None if it is none."""
    # (Most works begin with a name, which begins no prefix; the suffixes follow a comma
    # and end with a letter or ".".)
    prefix = _PREFIX.match(text, s, e) if s < e and (
        text[s] in _PREFIX_FIRST or not text[s].isascii()
    ) else None
    body_start = prefix.end() if prefix else s
    last = text[e - 1]
    suffix = _SUFFIX.search(text, body_start, e) if (
        (last.isalpha() or last == "." or last.isspace() or not last.isascii())
        and text.find(",", body_start, e) >= 0
    ) else None
    body_end = suffix.start() if suffix else e
    if body_start >= body_end:
        return None  # every pattern needs a character or more
    first = text[body_start]
    for kind, pattern in _WORKS:
        if first.isascii() and first not in _WORK_FIRST[kind]:
            continue  # (most parentheses hold no citation: a number, a gloss)
        if kind == "year" and (plain := _plain_year(text, body_start, body_end)) is not None:
            # (What _split_names makes of a word of letters: the word, if it is a name.)
            name, year, pages = plain
            if name.casefold() in _NOT_NAMES:
                return None
            return kind, (name,), None, year, _norm_space(pages)
        needs = _WORK_NEEDS.get(kind)
        if needs is not None and needs.search(text, body_start, body_end) is None:
            continue
        m = pattern.fullmatch(text, body_start, body_end)
        if m is None:
            continue
        groups = m.groupdict()
        authors = _split_names(groups.get("authors"))
        if groups.get("authors") is not None and not authors:
            return None
        title = _clean_title(groups.get("title"))
        if title is not None and not title[:1].isupper() and not title[:1].isdigit():
            return None
        return (kind, authors, title, _norm_space(groups.get("year")),
                _norm_space(groups.get("pages")))
    return None


def _plain_year(text: str, start: int, end: int) -> tuple[str, str, str | None] | None:
    """The groups (authors, year, pages) of the "year" pattern of ``_WORKS`` matching
    ``text[start:end]`` whole, where that is a plain surname and year, perhaps with a
    page ("Smith 2004", "Smith 2004, p. 12"); None for any other work (which the
    pattern may match).

    Most works are such, and the pattern takes several times as long to match them.
    A name that begins after "(", ";" or white space (as the pattern's lookbehind
    asks) runs to the white space before the year; the pattern's first way through
    takes it whole, the year, then the page.
    """
    m = _PLAIN_YEAR.fullmatch(text, start, end)
    if m is None or not ((c := text[start - 1]) == "(" or c == ";" or c.isspace()):
        return None
    return m.group(1), m.group(2), m.group(3)


_PLAIN_YEAR = re.compile(
    r"([A-Z][a-z]+)[ \t\n]+((?:1[5-9]|20)[0-9][0-9])"
    r"(?:,[ \t\n]*((?:p|pp)\.[ \t\n]*[0-9]+(?:[-–][0-9]+)?))?"
)


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
        # (The frequency is looked up in a table; the lower-case word is searched for
        # in the whole text.)
        if zipf(key) >= _COMMON_ZIPF or doc.lower_word(key):
            return False
    return True


def _narratives(doc: _Context) -> list[CitationMark]:
    text = doc.text
    out: list[CitationMark] = []

    def add(
        m: regex.Match[str], title: str | None = None, authors: tuple[str, ...] | None = None
    ) -> None:
        # (``authors``: the names of the match, where already split.)
        if authors is None:
            authors = _split_names(m.group("authors"))
        if not authors:
            return
        groups = m.groupdict()
        s, e = m.span()
        out.append(_mark(s, e, text[s:e], NARRATIVE, authors,
                                _norm_space(groups.get("year")), title,
                                _norm_space(groups.get("pages"))))

    years = [m.span() for m in _YEAR_ANCHOR.finditer(text) if _after_name(text, m.start())]
    for m in _anchored(_NARRATIVE_YEAR, years, text, _StartsBefore(text, verb=False)):
        authors = _split_names(m.group("authors"))
        if authors and not _leading_stopword(m.group("authors")) and not _after_determiner(
            text, m.start()
        ):
            add(m, authors=authors)
            # "Smith (2004) found" and "see Smith (2004)" are citations; a bare
            # "Esmeralda (1881)" may be a title or a place with a date.
            if doc.weigh_doubts and not (_RESEARCH_VERB.match(text, m.end()) or _CUE_BEFORE.search(
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
    for m in _anchored(
        _NAME_VERB, _verbs_after_names(doc), text, _StartsBefore(text, verb=True)
    ):
        raw = m.group("authors")
        authors = _split_names(raw)
        if (
            not authors
            or _leading_stopword(raw)
            or _after_determiner(text, m.start(), _DETERMINERS_OR_LOCATIVES)
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
        add(m, authors=authors)
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
_DETERMINERS_OR_LOCATIVES = _DETERMINERS | _LOCATIVES
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
        found = _word_back(text, max(0, pos - 40), pos)
        if found is None:
            return False
        pos, word = found
        if word.casefold() in words:
            return True
        if not word[:1].isupper():
            return False
    return False


def _word_back(text: str, lo: int, end: int) -> tuple[int, str] | None:
    """The start and group 1 of ``_WORD_BACK.search(text, lo, end)``, or None.

    A match is a word of letters, ".", "'", "’" and "-", then spaces and tabs up to the
    end (or up to a newline that ends the text), so the word is the one before the
    spaces there, from where it begins (or ``lo``).  It is read here when it is ASCII;
    the regex settles any other (its letters are those of the regex module's Unicode).
    """
    stop = end
    if stop > lo and text[stop - 1] == "\n":
        stop -= 1  # "$" matches before a newline at the end
    blanks = stop
    while blanks > lo and text[blanks - 1] in " \t":
        blanks -= 1
    if blanks == stop:
        return None
    start = blanks
    while start > lo:
        c = text[start - 1]
        if not c.isascii():
            m = _WORD_BACK.search(text, lo, end)
            return (m.start(), m.group(1)) if m else None
        if not (c.isalpha() or c in ".'-"):
            break
        start -= 1
    if start == blanks:
        return None
    return start, text[start:blanks]


def _anchored(
    pattern: regex.Pattern[str],
    anchors: Iterable[tuple[int, int]],
    text: str,
    starts: Sequence[int] | Callable[[int, int], Sequence[int]],
) -> list[regex.Match[str]]:
    """The matches of ``pattern`` that contain an anchor, left to right.

    For each anchor that no match found so far covers, the matches of ``pattern`` in a
    window of ``_WINDOW`` characters around it are taken in turn, as ``finditer`` would
    give them, and the first that contains the anchor's start is kept.  ``starts`` are
    the sorted positions where a match may begin (more is harmless): trying the pattern
    at those alone finds the same matches as a search, which tries every position.
    ``starts`` may also be a function of the window's start and the anchor's start
    that gives the positions between them to try (see ``_StartsBefore``).
    """
    if callable(starts):
        starts_in = starts
    else:
        every = starts

        def starts_in(lo: int, a_start: int) -> Sequence[int]:
            return every[bisect.bisect_left(every, lo) : bisect.bisect_right(every, a_start)]

    out: list[regex.Match[str]] = []
    done = 0
    for a_start, a_end in anchors:
        if a_start < done:
            continue
        lo = max(done, a_start - _WINDOW)
        hi = min(len(text), a_end + _WINDOW)
        tried = starts_in(lo, a_start)
        k = 0
        while k < len(tried):
            m = pattern.match(text, tried[k], hi)
            if m is None:
                k += 1
            elif a_start < m.end():
                out.append(m)
                done = m.end()
                break
            else:
                # The search goes on after this match, which ends before the anchor.
                k = bisect.bisect_left(tried, m.end(), k + 1)
    return out


class _StartsBefore:
    """Where a match of ``_NARRATIVE_YEAR`` or ``_NAME_VERB`` that contains an anchor may
    begin, found in the anchor's window alone (a function for ``_anchored``).

    Such a match holds names and then, up to the anchor, a year in parentheses (for
    ``_NARRATIVE_YEAR`` the anchor opens it) or white space before a reporting verb
    (for ``_NAME_VERB``, whose anchor is the verb's first word, or its second after
    "has", "had" or "have").  Between the match's start and the year, or the verb if
    there is no year, stand only names, particles, "and", "&", ",", "et al.", "'s" and
    white space.  So a *barrier* there rules out every start before it: "(" or ")"; a
    word of lower-case ASCII letters after an ASCII character that is not a letter (or
    at the start of the text) that is not a particle, "and", "et", "al", nor an "s"
    after "'" (the letters of a name follow a capital, an accent or a letter beyond
    ASCII); or white space between a name and a capital ("Smith Jones": one name
    follows another only after ",", "and" or "&").  The positions tried are the
    possible name starts (``_NAME_START``) between the last barrier and the year or verb.

    This finds the same match as trying every name start of the window.  The match
    found is the first of the window's matches, in ``finditer`` order, that contains
    the anchor, and it starts after the barrier; an earlier match of the window could
    only change it by running on past the barrier into a start tried here, but a match
    holds barriers only in its year and its verb, after the last place where a name
    could begin in it.
    """

    def __init__(self, text: str, verb: bool) -> None:
        self.text = text
        self.verb = verb

    def __call__(self, lo: int, a_start: int) -> list[int]:
        text = self.text
        stop = a_start
        if self.verb:
            # "has argued": the verb may begin with the word before the anchor.
            begin, end = _token_before(text, lo, a_start)
            if end < a_start and text[begin:end] in ("has", "had", "have"):
                stop = begin
            # The year in parentheses between the names and the verb holds no barrier.
            end = _token_before(text, lo, stop)[1]
            if end > lo and text[end - 1] == ")":
                opening = text.rfind("(", lo, end - 1)
                if opening >= 0:
                    stop = opening
        first = _last_barrier(text, lo, stop) + 1
        return [m.start() for m in _NAME_START.finditer(text, first, stop)]


def _after_name(text: str, pos: int) -> bool:
    """Whether a match of ``_NARRATIVE_YEAR`` may hold the "(" at ``pos`` (see
    ``_YEAR_ANCHOR``): whether the token before it holds a capital or a character
    beyond ASCII, or is "al", "al.", "al's" or "al.'s".

    The names before the year end with a name, which holds a capital, or "et al.",
    perhaps with "'s" ("’s" is beyond ASCII); a name holds no white space.  The match
    lies in the anchor's window, so the token is read there alone.
    """
    begin, end = _token_before(text, max(0, pos - _WINDOW), pos)
    token = text[begin:end]
    return token in ("al", "al.", "al's", "al.'s") or any(
        "A" <= c <= "Z" or not c.isascii() for c in token
    )


def _token_before(text: str, lo: int, pos: int) -> tuple[int, int]:
    """The span of the token before ``pos``: the characters other than white space
    before the white space before ``pos``, read no further back than ``lo``."""
    end = pos
    while end > lo and text[end - 1].isspace():
        end -= 1
    begin = end
    while begin > lo and not text[begin - 1].isspace():
        begin -= 1
    return begin, end


def _last_barrier(text: str, lo: int, end: int) -> int:
    """The position of the last barrier (see ``_StartsBefore``) in ``[lo, end)``, or
    ``lo - 1`` if there is none.

    A word of lower-case letters that runs on before ``lo`` counts as a barrier at
    ``lo``: no name begins inside it.  (None runs on past ``end``: the callers' ``end``
    is a "(", or a word that white space stands before.)
    """
    j = end - 1
    while j >= lo:
        c = text[j]
        if c == "(" or c == ")":
            return j
        if not ("a" <= c <= "z"):
            if c.isspace() and _between_names(text, lo, j):
                return j
            j -= 1
            continue
        begin = j
        while begin > lo and "a" <= text[begin - 1] <= "z":
            begin -= 1
        before = text[begin - 1] if begin > 0 else " "
        word = text[begin : j + 1]
        if (
            before.isascii()
            and not ("A" <= before <= "Z")
            and word not in _BETWEEN
            and not (before == "'" and word == "s")
        ):
            return begin
        j = begin - 1
    return lo - 1


def _between_names(text: str, lo: int, space: int) -> bool:
    """Whether the white space at ``space`` stands between a name and a capital (or a
    character beyond ASCII): "Smith Jones".  It cannot stand so between a match's
    start and its year or verb, where one name follows another only after ",", "and"
    or "&".  A name here is a token whose last letters are lower-case ASCII after a
    capital ASCII letter, so they end a name and are no particle ("van") nor "and".
    """
    nxt = text[space + 1] if space + 1 < len(text) else " "
    if not ("A" <= nxt <= "Z" or not nxt.isascii()) or nxt.isspace():
        return False
    j = space
    while j > lo and text[j - 1].isspace():
        j -= 1
    if not (j > lo and "a" <= text[j - 1] <= "z"):
        return False
    while j > lo and "a" <= text[j - 1] <= "z":
        j -= 1
    return j > lo and "A" <= text[j - 1] <= "Z"


# Where a name may begin (a superset): a capital ASCII letter, any character beyond
# ASCII, or a particle (not after an ASCII letter or digit) before white space or a
# character beyond ASCII.
_NAME_START = re.compile(
    r"[A-Z\x80-\U0010ffff]|(?<![A-Za-z0-9])(?:"
    + "|".join(sorted(_PARTICLES, key=len, reverse=True))
    + r")(?=[\x00-\x20\x80-\U0010ffff])"
)


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
    digit or "_", and before white space (or a non-ASCII character).  Both patterns
    need white space after "as", so the words are looked for before the ASCII spaces
    and control characters and the characters beyond ASCII (far fewer than the "a"s).
    """
    cp = doc.code_points()
    after = np.concatenate((doc.spaces(), doc.beyond_ascii()))
    # (The characters are read through tables, in which 128 stands for any beyond ASCII.
    # The "s" is read first, which rules out most places; at the text's start it reads
    # the text's last character, and the place is dropped next.)
    after = after[_AS_SECOND[np.minimum(cp[after - 1], 128)]]
    at = after[after >= 2] - 2
    at = at[_AS_FIRST[np.minimum(cp[at], 128)]]
    in_word = _WORD_ASCII[np.minimum(cp[at - 1], 128)] & (at > 0)
    return sorted(at[~in_word].tolist())


def _ascii_table(chars: str, beyond: bool = False) -> np.ndarray:
    """Which of the code points 0 to 127 are ``chars``, then (at 128) ``beyond``."""
    table = np.zeros(129, dtype=bool)
    table[[ord(c) for c in chars]] = True
    table[128] = beyond
    return table


_AS_FIRST = _ascii_table("aA", beyond=True)
_AS_SECOND = _ascii_table("sS", beyond=True)
# \w of ASCII: a letter, a digit or "_".
_WORD_ASCII = _ascii_table(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
)


# The words that may follow "as" in a match of ``_AS_BY``.
_AS_BY_WORDS = frozenset(
    "noted argued shown observed suggested pointed discussed described demonstrated "
    "reported claimed put".split()
)


def _after_as(text: str, starts: list[int]) -> tuple[list[int], list[int]]:
    """The ``starts`` (from ``_as_words``) where ``_AS_VERB`` and where ``_AS_BY`` may match.

    Both patterns need white space after "as" (``\\s`` of the regex module, which
    ``_AS_GAP`` skips whole), and after it ``_AS_VERB`` needs a name, which begins with
    a capital or a particle ("van"): never another word in lower-case ASCII ("as the",
    "as well"), a digit or a mark; and ``_AS_BY`` needs one of its verbs.  A start
    followed by a character beyond ASCII (perhaps a capital) is kept for ``_AS_VERB``,
    so each list is a superset of where its pattern matches.
    """
    verb: list[int] = []
    by: list[int] = []
    n = len(text)
    for at in starts:
        m = _AS_GAP.match(text, at + 2)  # (always matches)
        j, k = m.span(1) if m else (n, n)
        if j >= n or j == at + 2:
            continue  # both patterns need white space, and words after it
        if k == j:
            c = text[j]  # (no lower-case ASCII letter)
            if "A" <= c <= "Z" or not c.isascii():
                verb.append(at)
            continue
        word = text[j:k]
        if word in _PARTICLES:
            verb.append(at)
        if word in _AS_BY_WORDS:
            by.append(at)
    return verb, by


# White space as the regex module's \s sees it (the patterns' white space), then the
# word of lower-case ASCII letters after it (perhaps none).  (The standard re module
# matches this faster; tests/test_query_side_speed.py checks the class is that \s.)
_REGEX_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_AS_GAP = re.compile(f"[{_REGEX_SPACE}]*([a-z]*)")


def _verbs_after_names(doc: _Context) -> list[tuple[int, int]]:
    """The verb anchors that a match of ``_NAME_VERB`` can contain: the words of
    ``_VERB_WORDS`` standing alone (no letter, digit or "_" on either side) where one may.

    In a match the anchor is the first word of the verb, after white space and before
    that a name (whose last word holds a capital letter, ASCII or not), "et al." or a
    year in parentheses; or it is the second word, after "has", "had" or "have".  So
    an anchor is kept when the *token* before it (the characters between the ASCII
    spaces and control characters before it and those before them) holds a capital or
    a character beyond ASCII, ends with ")", or is "al" or "al.", and a reporting verb
    begins at it; or when the token is "has", "had" or "have" and a verb begins there.
    An anchor right after a character beyond ASCII (which may be white space) is kept.
    """
    text = doc.text
    cp = doc.code_points()
    spaces = doc.spaces()
    # The words right after a space (as indexes into spaces), and right after a
    # character beyond ASCII, that begin like a verb (of three letters or more).
    words = np.searchsorted(spaces, len(cp) - 4, "right")  # (the spaces are in order)
    beyond = doc.beyond_ascii()
    beyond = beyond[beyond <= len(cp) - 4] + 1
    at = np.concatenate((spaces[:words] + 1, beyond))
    heads = _heads3(cp, at)
    verb_like = _VERB_HEADS[heads]
    # Most of those begin another word ("not", "produced", "continue"), which their
    # fourth character tells: a verb word's fourth letter, or anything but a letter
    # after one of three letters (a verb word stands alone).
    like = np.flatnonzero(verb_like)
    fourth = _fourth(cp, at[like])
    verb_like[like[~_VERB_HEADS4[heads[like] | (fourth << np.uint32(15))]]] = False
    beyond = beyond[verb_like[words:]]
    after_space = np.flatnonzero(verb_like[:words])
    # Their tokens: the one before a word ends where the run of spaces before the word
    # begins, and starts after the space before that.
    # (Along a run, a space's position less its index into spaces stays the same; it
    # grows from one run to the next.)
    run = spaces - np.arange(len(spaces))
    first = np.searchsorted(run, run[after_space])  # indexes into spaces
    token_end = spaces[first]
    token_start = np.where(first > 0, spaces[np.maximum(first - 1, 0)] + 1, 0)
    # (In unsigned arithmetic a code point below "A" less 65 is a large number.)
    capitals = np.flatnonzero(cp - np.uint32(65) < 26)
    named = _holds(capitals, token_start, token_end) | _holds(
        doc.beyond_ascii(), token_start, token_end
    )
    named |= cp[np.maximum(token_end - 1, 0)] == 41  # ")"
    length = token_end - token_start
    initial = cp[np.minimum(token_start, len(cp) - 1)]
    short = (length >= 2) & (length <= 4) & ((initial == 97) | (initial == 104))  # a, h
    chosen = (token_end > 0) & (named | short)

    out = []
    for b in beyond.tolist():
        e = _verb_word_end(text, b)
        if e and not _is_word_char(text[b - 1]):
            out.append((b, e))
    for b, t_start, t_end, name_before in zip(
        (spaces[after_space[chosen]] + 1).tolist(),
        token_start[chosen].tolist(),
        token_end[chosen].tolist(),
        named[chosen].tolist(),
    ):
        token = text[t_start:t_end]
        if name_before or token in ("al", "al."):
            verb_at = b
        elif token in ("has", "had", "have"):
            verb_at = t_start
        else:
            continue
        e = _verb_word_end(text, b)
        # (A verb word that is a whole reporting verb is where one begins.)
        if e and (
            (verb_at == b and text[b:e] in _ONE_WORD_VERBS)
            or _VERB_PHRASE.match(text, verb_at) is not None
        ):
            out.append((b, e))
    out.sort()
    return out


def _holds(positions: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Whether one of ``positions`` (in order) lies in each span ``[start, end)``."""
    # (-1 stands first, before every span.)
    before = np.append(-1, positions)
    return before[np.searchsorted(before, end) - 1] >= start


def _verb_word_end(text: str, at: int) -> int:
    """The end of the verb word (of ``_VERB_WORDS``) that stands alone at ``at``, where
    a run of three lower-case letters or more begins; 0 if there is none."""
    m = _VERB_WORD.match(text, at)
    return m.end() if m else 0


def _heads3(cp: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The first three letters at each of ``at`` packed (as ``_pack`` does), where they
    are three lower-case ASCII letters; elsewhere a number below ``1 << 15`` that packs
    no three such letters.  ``at + 2`` lies in ``cp``."""
    # Each character becomes 1 to 26 for "a" to "z" and 0 or 27 to 31 for any other (in
    # unsigned arithmetic a code point below "`" becomes a large number, cut to 31).
    offset, most = np.uint32(96), np.uint32(31)
    first, second, third = (np.minimum(cp[at + k] - offset, most) for k in range(3))
    return first | (second << 5) | (third << 10)


def _fourth(cp: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The fourth character at each of ``at`` coded as ``_heads3`` codes a letter (1 to
    26 for "a" to "z"), 0 past the end of the text.  ``at + 2`` lies in ``cp``."""
    n = len(cp)
    codes = np.minimum(cp[np.minimum(at + 3, n - 1)] - np.uint32(96), np.uint32(31))
    codes[at + 3 >= n] = 0
    return codes


def _is_word_char(c: str) -> bool:
    # A word character as \w of the standard re module sees it.
    return c.isalnum() or c == "_"


def _pack(word: str) -> int:
    """Up to three lower-case ASCII letters as one number (five bits a letter)."""
    return sum((ord(c) - 96) << (5 * k) for k, c in enumerate(word[:3]))


# The words of lower-case letters that may stand between a name and its verb.
_BETWEEN = _PARTICLES | {"and", "et", "al"}


# Where a reporting verb begins (whatever follows it).
_VERB_PHRASE = _lazy(_trie(_REPORTING_SINGULAR + _REPORTING_PLURAL))
# The reporting verbs of one word.
_ONE_WORD_VERBS = frozenset(
    p for p in _REPORTING_SINGULAR + _REPORTING_PLURAL if " " not in p
)
# Which heads begin a reporting verb.
_VERB_HEADS = np.zeros(1 << 15, dtype=bool)
_VERB_HEADS[[_pack(w) for w in _VERB_WORDS]] = True
# Which heads of four (``_heads3`` and ``_fourth``) begin a verb word: its first four
# letters, or its three and a character that is no letter ("has", "had", "put").
_VERB_HEADS4 = np.zeros(1 << 20, dtype=bool)
_VERB_HEADS4[[
    _pack(w) | (code << 15)
    for w in _VERB_WORDS
    for code in ([ord(w[3]) - 96] if len(w) > 3 else [0, 27, 28, 29, 30, 31])
]] = True
# A verb word that stands alone: a word running on in a lower-case letter is another
# word, and the standard re module's \w is what ``_is_word_char`` says.
_VERB_WORD = re.compile(rf"{_trie(_VERB_WORDS)}(?!\w)")


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
        if initial and zipf(last.casefold()) >= _RARE_ZIPF and (
            not doc.capitalized_mid_sentence(last)
        ):
            return False
    return True


def _numerics(doc: _Context) -> list[CitationMark]:
    text = doc.text
    out: list[CitationMark] = []
    # (A marker begins with its "[", which is found much faster than the scan finds it.)
    for m in _matches_at(_NUMERIC, text, doc.brackets):
        numbers = _expand_numbers(m.group("nums"))
        if numbers:
            out.append(_note_mark(doc, m.start(), m.end(), NUMERIC, numbers))
    for m in _MD_FOOTNOTE.finditer(text) if doc.md_footnotes else ():
        out.append(_note_mark(doc, m.start(), m.end(), FOOTNOTE, (int(m.group("nums")),)))
    # Most texts hold no superscript digit; a search for one is much cheaper than the scan.
    beyond = doc.code_points()[doc.beyond_ascii()]
    has_superscript = bool(
        ((beyond == 0xB2) | (beyond == 0xB3) | (beyond == 0xB9)
         | ((beyond >= 0x2070) & (beyond <= 0x2079))).any()
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
    if spec.isdecimal():
        return (int(spec),)  # one number, the common case
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
    return _mark(start, end, doc.text[start:end], style, authors, year, title, pages,
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
                mark = _remade(mark, last.authors, last.year, last.title, mark.covers)
        elif mark.style in (PARENTHETICAL, NARRATIVE) and (mark.authors or mark.title):
            last = mark
        out.append(mark)
    return out


def _fill_titles(
    marks: list[CitationMark], references: list[CitationMark], covers: list[tuple[int, int]]
) -> list[CitationMark]:
    """Give author-year and author-only citations the title of their reference entry,
    and each mark what it covers (``covers``, in the order of ``marks``).

    The entry is the only one whose first author has the citation's surname and, when
    the citation gives a year, that year ("Smith 2004" also finds a lone "Smith 2004a").
    An author-only citation also takes the entry's year.  (Each mark is built once, with
    both: a long text has hundreds of marks.)
    """
    by_name: dict[str, list[CitationMark]] = {}
    for ref in references:
        if ref.authors and ref.title:
            name = _fold(ref.authors[0])
            for key in {name, name.split()[-1]} if name else ():
                by_name.setdefault(key, []).append(ref)
    out = []
    for mark, span in zip(marks, covers):
        year, title = mark.year, mark.title
        if (
            by_name
            and title is None
            and mark.authors
            and mark.style in (PARENTHETICAL, NARRATIVE)
        ):
            found = by_name.get(_fold(mark.authors[0]), [])
            if mark.year:
                cited = mark.year.casefold()
                exact = [r for r in found if r.year and r.year.casefold() == cited]
                loose = [r for r in found if r.year and r.year[:4] == cited[:4]]
                found = exact or ([] if cited[-1:].isalpha() else loose)
            if len(found) == 1:
                year, title = mark.year or found[0].year, found[0].title
        out.append(_remade(mark, mark.authors, year, title, span))
    return out


# --------------------------------------------------------------------------------------
# Sections, notes and reference entries.


def _sections(text: str, kind: str) -> list[tuple[int, int]]:
    """Body spans of the sections of ``kind`` ("references" or "notes")."""
    return [(start, end) for found, start, end in _all_sections(text) if found == kind]


@lru_cache(maxsize=8)
def _all_sections(text: str) -> tuple[tuple[str, int, int], ...]:
    """(kind, body start, body end) of every notes or references section of ``text``."""
    # (One scan finds the lines where either kind of heading may stand; a pattern tried
    # on a line of the other kind finds nothing there.)
    lines = _line_starts(text, _HEADING_FIRST + _OTHER_HEADING_FIRST)
    headings = []
    for at in lines:
        m = _HEADING.match(text, at)
        if m is not None:
            kind = "notes" if _NOTE_HEADING.fullmatch(m.group("name")) else "references"
            headings.append((m.start(), m.end(), kind))
    if not headings:
        return ()
    # A section ends at the next heading or at the first other heading after it, so
    # only the lines up to that one are tried.
    out = []
    for k, (start, end, kind) in enumerate(headings):
        stop = headings[k + 1][0] if k + 1 < len(headings) else len(text)
        for at in lines[bisect.bisect_right(lines, start) :]:
            if at >= stop:
                break
            if _OTHER_HEADING.match(text, at):
                stop = at
                break
        out.append((kind, end, stop))
    return tuple(out)


def _line_matches(
    pattern: regex.Pattern[str], text: str, first: tuple[str, ...] | None = None
) -> Iterator[regex.Match[str]]:
    """``pattern.finditer(text)`` for a pattern that matches within one line or nothing.

    The pattern starts with ``^`` (multiline), so it is tried at the start of each line
    only, rather than at every position as a search would.  ``first``, if given, holds
    the ways a match may begin after blanks (see ``_line_starts``); the other lines are
    skipped without trying the pattern.
    """
    if first is None:
        starts: Iterable[int] = _all_line_starts(text)
    else:
        starts = _line_starts(text, first)
    for at in starts:
        m = pattern.match(text, at)
        if m is not None:
            yield m


def _all_line_starts(text: str) -> Iterator[int]:
    """The starts of the lines of ``text``."""
    at = 0
    while True:
        yield at
        nl = text.find("\n", at)
        if nl < 0:
            return
        at = nl + 1


def _line_starts(text: str, first: tuple[str, ...]) -> list[int]:
    """The starts of the lines that begin, after blanks (spaces and tabs), with one of
    ``first``: ASCII strings whose letters match in either case or as any character
    beyond ASCII (which may fold to one in a pattern that ignores case)."""
    # The scan looks for a newline, which a search finds fast (a search for a set of
    # characters is slow); one put before the text gives the first line one too, so a
    # match's newline stands where its line starts in ``text``.
    return [m.start() for m in _line_start_scan(first).finditer("\n" + text)]


@lru_cache(maxsize=4)
def _line_start_scan(first: tuple[str, ...]) -> re.Pattern[str]:
    def letter(c: str) -> str:
        return f"[{c.lower()}{c.upper()}\x80-\U0010ffff]" if c.isalpha() else re.escape(c)

    return re.compile("\n[ \t]*(?:" + "|".join("".join(map(letter, p)) for p in first) + ")")


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
        for m in _BLANK_LINES.finditer(text, start, end):
            spans.append((pos, m.start()))
            pos = m.end()
        spans.append((pos, end))
    else:
        for m in _ENTRY_LINE.finditer(text, start, end):
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


_BLANK_LINES = _lazy(r"\n(?:[ \t]*\n)+")
_ENTRY_LINE = _lazy(r"^[^\n]*", regex.MULTILINE)


def _parse_entry(entry: str) -> tuple[tuple[str, ...], str | None, str | None, str | None]:
    """Authors (surnames), year, title and pages of a reference entry or a note."""
    entry = " ".join(entry.split())
    cue = _LEADING_CUE.match(entry)
    if cue:
        entry = entry[cue.end():]
    title_m = _title_in(entry)
    year_m = (_YEAR_IN_PARENS.search(entry) if "(" in entry else None) or _YEAR_BARE.search(entry)
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


def _title_in(entry: str) -> regex.Match[str] | None:
    """``_QUOTED_TITLE.search(entry) or _ITALIC_TITLE.search(entry)``.

    A title opens with its mark, which a search for the marks finds much faster where
    the entry holds none.
    """
    quoted = (
        _QUOTED_TITLE.search(entry) if '"' in entry or "“" in entry or "‘" in entry else None
    )
    return quoted or (_ITALIC_TITLE.search(entry) if "*" in entry or "_" in entry else None)


def _first_break(s: str) -> int:
    """Index of the period that ends the author list (or first sentence) of an entry.

    A period after an initial ("J.", "J.K.") or an abbreviation ("ed.") ends nothing,
    except in the Vancouver style ("Smith JA, Lee K. Title"), where initials carry no
    periods and the period after the last one ends the list.
    """
    vancouver = _VANCOUVER.match(s) is not None
    for m in _ENTRY_STOP.finditer(s):
        # The word before the stop (``s`` comes from _parse_entry, whose only white space
        # is single spaces).
        token = s[s.rfind(" ", 0, m.start()) + 1 : m.start()].rstrip(".")
        if _initials(token) and not (vancouver and "." not in token):
            continue
        if token.casefold().strip(",(") in _ABBREVIATED_IN_ENTRIES:
            continue
        return m.start()
    return len(s)


def _initials(token: str) -> bool:
    """Whether ``_INITIAL`` matches ``token``: "J", "J.", "J.K.", "JA", "J.-P."."""
    # Most words are settled without the pattern: a match is 10 characters at most (with
    # a newline at its end), and a lower-case letter never follows its first one.
    if len(token) > 10 or "a" <= token[1:2] <= "z":
        return False
    return _INITIAL.match(token) is not None


_ENTRY_STOP = _lazy(r"[.?!](?=\s)")
_VANCOUVER = _lazy(r"[\p{Lu}][\p{L}'’-]+ \p{Lu}{1,3}[,.]")
_ABBREVIATED_IN_ENTRIES = frozenset("ed eds trans jr sr st vol no pp p".split())


_PARTICLE_WORD = _lazy(_PARTICLE)
_PARTICLE_SPACE = _lazy(_PARTICLE + r"\s")


def is_organization(words: list[str]) -> bool:
    """Whether the words of an author name an organization: several words, one of them
    such as "Organization" or "Department", all capitalized but for a few joining ones
    ("World Health Organization", "U.S. Department of Energy"; not "Bank", nor the
    title-like "Association between HIV infection")."""
    return (
        len(words) > 1
        and any(w.casefold().strip(".") in _ORGANIZATION_WORDS for w in words)
        and all(w[:1].isupper() or w[:1].isdigit() or w in _ORGANIZATION_JOINS for w in words)
    )


_ORGANIZATION_JOINS = frozenset("of for the and on in at de du des la le del di für".split())


def _surnames(segment: str) -> tuple[str, ...]:
    """Surnames in an author segment: "Smith, J., & Lee, K." -> ("Smith", "Lee")."""
    # (The editors' and "et al." marks hold "(" or "et", and the separators ";", "&",
    # "and" or "with": most segments have none, which these tests tell quickly.)
    if "(" in segment or "et" in segment:
        segment = _RX10.sub(" ", segment)
    segment = segment.strip(" .,;:")
    if not segment:
        return ()
    names: list[str] = []
    several = ";" in segment or "&" in segment or "and" in segment or "with" in segment
    for chunk in _RX11.split(segment) if several else [segment]:
        expect_given = False
        for part in (p.strip(" .") for p in chunk.split(",")):
            words = [w for w in part.split() if w.casefold().strip(".") not in _NOT_AUTHOR_WORDS]
            if not words:
                continue
            if all(_initials(w.rstrip(".")) for w in words):
                expect_given = False
                continue
            if expect_given and len(words) <= 3 and all(w[:1].isupper() for w in words):
                expect_given = False  # "Smith, John": John is the given name
                continue
            if not expect_given and is_organization(words):
                # "World Health Organization", not "Organization".
                names.append(part)
                continue
            if words[-1].casefold().strip(".") in _NAME_SUFFIX:
                words = words[:-1]
                if not words:
                    continue
            if len(words) == 1:
                names.append(words[0])
                expect_given = True
                continue
            if _initials(words[-1].rstrip(".")) and words[-1].isupper():
                # Vancouver style "Smith JK".
                names.append(" ".join(w for w in words[:-1]))
                expect_given = False
                continue
            particle = next((k for k, w in enumerate(words[1:], 1)
                             if _PARTICLE_WORD.fullmatch(w)), None)
            if particle:
                names.append(" ".join(words[particle:]))
            elif len(words) >= 3 and not any(_initials(w.rstrip(".")) for w in words):
                names.append(" ".join(words))  # "American Cancer Society"
            else:
                names.append(words[-1])
            expect_given = False
    return tuple(n.strip(".,") for n in names if (any(c.isalpha() for c in n) and n[:1].isupper())
                 or _PARTICLE_SPACE.match(n))


def _split_names(raw: str | None) -> tuple[str, ...]:
    """Names in an in-text author group: "Smith, Lee and Brown et al." -> three names."""
    if not raw:
        return ()
    raw = raw.strip()
    # (Most groups are one name: the patterns need "et", or ",", "&" or "and".)
    if "et" in raw:
        raw = _RX12.sub("", raw)
    parts = _RX13.split(raw) if "," in raw or "&" in raw or "and" in raw else [raw]
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


def _sentences(
    text: str, paras: list[tuple[int, int]], stops: list[int] | None = None
) -> list[tuple[int, int]]:
    """The sentences of the paragraphs ``paras`` of ``text``.

    ``stops`` are the positions of the characters that may end a sentence (``_stops``),
    if already found.
    """
    out: list[tuple[int, int]] = []
    for ps, pe in paras:
        pos = ps
        for at, stop in _sentence_ends(text, ps, pe, stops):
            if _after_abbreviation(text, at, ps):
                continue
            # (``_strip(text, pos, stop)``: a sentence's end is no white space, and its
            # mark at ``at`` stops the stripping of its start.)
            s = pos
            while text[s].isspace():
                s += 1
            out.append((s, stop))
            pos = stop
        s, e = _strip(text, pos, pe)
        if s < e:
            out.append((s, e))
    return out


def _sentence_ends(
    text: str, start: int, end: int, stops: list[int] | None
) -> list[tuple[int, int]]:
    """The spans of ``_SENTENCE_END.finditer(text, start, end)``.

    A match begins with a character of ``stops`` (``_stops``), so where they are known
    the pattern is tried at them alone, which finds the same matches as the scan (the
    scan of the regex module is slow for a set of characters).
    """
    if stops is None:
        return [m.span() for m in _SENTENCE_END.finditer(text, start, end)]
    out = []
    done = start
    for at in stops[bisect.bisect_left(stops, start) : bisect.bisect_left(stops, end)]:
        if at < done:
            continue
        stop = _end_at(text, at, end)
        if stop:
            out.append((at, stop))
            done = stop
    return out


def _end_at(text: str, at: int, end: int) -> int:
    """Where ``_SENTENCE_END.match(text, at, end)`` ends, at a mark of ``_stops``; 0 if
    it does not match.

    Most marks stand before a space and an ASCII letter or digit, which settles the match
    without the pattern: the mark alone before a capital or a digit, none before a
    lower-case letter (nothing else can come between).
    """
    if at < end - 2 and text[at + 1] == " ":
        ends = _ENDS_BEFORE.get(text[at + 2])
        if ends is not None:
            return at + 1 if ends else 0
    m = _SENTENCE_END.match(text, at, end)
    return m.end() if m is not None else 0


def _after_abbreviation(text: str, at: int, start: int) -> bool:
    """Whether the mark at ``at``, in a paragraph from ``start``, is a period after an
    initial or an abbreviation, which ends no sentence."""
    return text[at] == "." and text[at + 1 : at + 2] not in ".!?…" and _abbreviated(
        text, max(start, at - 20), at
    )


# Whether a sentence ends at a mark followed by a space and this character (see _end_at).
_ENDS_BEFORE = {
    **dict.fromkeys("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", True),
    **dict.fromkeys("abcdefghijklmnopqrstuvwxyz", False),
}


def _stops(cp: np.ndarray) -> list[int]:
    """Where ``_SENTENCE_END`` may match in a text of code points ``cp``: at . ! ? or …."""
    return np.flatnonzero((cp == 46) | (cp == 33) | (cp == 63) | (cp == 0x2026)).tolist()


def _abbreviated(text: str, lo: int, end: int) -> bool:
    """Whether the period at ``end`` follows an initial or an abbreviation (the word
    before it is ``_word_before(text, lo, end)``)."""
    long = end - _LONGEST_ABBREVIATION - 1
    if long >= lo and (tail := text[long:end]).isalpha() and tail.isascii():
        return False  # (a word too long for an abbreviation: most words, read quickly)
    space = text.rfind(" ", lo, end)
    if space >= 0:
        # Most other periods end a word of ASCII letters after a space, which is the
        # word before them.
        after = text[space + 1 : end]
        if after.isalpha() and after.isascii():
            return len(after) == 1 or after.casefold() in _ABBREVIATIONS
    word = _word_before(text, lo, end)
    return word is not None and (len(word) == 1 or word.casefold() in _ABBREVIATIONS)


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


class _Cited:
    """What :func:`_score` reads from a citation, worked out once for all the sources."""

    __slots__ = ("authors", "title", "wanted", "wanted_full", "year")

    def __init__(self, mark: CitationMark) -> None:
        self.authors = bool(mark.authors)
        # Surnames, and whole names, folded.
        self.wanted = [_fold(a).split()[-1] for a in mark.authors if _fold(a)]
        self.wanted_full = {_fold(a) for a in mark.authors}
        year = _RX14.match(mark.year or "")
        self.year = year.group() if year else None
        self.title = mark.title


def _score(mark: _Cited, doc: Document) -> float:
    stem_tokens = _stem_tokens(doc)
    score = 0.0
    if mark.authors:
        wanted = mark.wanted
        if doc.author:
            have = _doc_surnames(doc.author)
            if wanted and (wanted[0] in have or _fold(doc.author) in mark.wanted_full):
                score += 40
            elif any(w in have for w in wanted):
                score += 25
            else:
                score -= 25
        elif wanted and wanted[0] in stem_tokens:
            score += 30
    if mark.year:
        doc_year = _first_year(doc.date or "")
        if doc_year:
            score += 20 if doc_year == mark.year else -20
        elif mark.year in stem_tokens:
            score += 15
    if mark.title:
        points = 0.0
        if doc.title:
            similarity = _title_similarity(mark.title, doc.title)
            points = 50 if similarity >= 90 else 30 if similarity >= 80 else (
                -10 if similarity < 50 else 0)
        if points < 40:  # (a file name is worth 40 points, no more)
            stem = _name_stem(doc.id, doc.path)
            if stem and _title_similarity(mark.title, stem) >= 90:
                points = 40
        score += points
    return score


def _stem_tokens(doc: Document) -> set[str]:
    return _name_tokens(doc.id, doc.path)


@lru_cache(maxsize=4096)
def _name_stem(doc_id: str, path: str | None) -> str:
    """The words of a document's id and file name stem that are not numbers, as a title."""
    return " ".join(t for t in _name_tokens(doc_id, path) if not t.isdigit())


@lru_cache(maxsize=4096)
def _first_year(date: str) -> str | None:
    """The first four-digit year in a document's date, if any."""
    found = _RX15.search(date)
    return found.group() if found else None


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
def _title_keys(title: str) -> tuple[tuple[str, int], ...]:
    """The forms of ``title`` compared (folded, without a leading article; with and
    without its subtitle), each with its number of words."""
    keys: list[tuple[str, int]] = []
    for variant in (title, _SUBTITLE.split(title)[0]):
        key = _ARTICLE.sub("", _fold(variant))
        if key and all(key != k for k, _ in keys):
            keys.append((key, len(key.split())))
    return tuple(keys)


def _title_similarity(a: str, b: str) -> float:
    best = 0.0
    for x, x_words in _title_keys(a):
        for y, y_words in _title_keys(b):
            if x == y:
                return 100.0
            # One shared word makes a token-set "subset" match of 100; a one-word title
            # has to match the whole title instead.
            if x_words >= 2 and y_words >= 2:
                score = fuzz.token_set_ratio(x, y)
            else:
                score = fuzz.ratio(x, y)
            if score > best:
                best = score
    return best
