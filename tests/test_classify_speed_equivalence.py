"""The shortcuts taken to make checking quotations and citations cheaper give the same
results as the plain way."""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wordfreq import iter_wordlist, zipf_frequency

from stemmatic import citations
from stemmatic.citations import find_citations, zipf
from stemmatic.quotes import find_quotations, paragraphs, quotations_and_paragraphs

# ---------------------------------------------------------------------------------------
# Word frequencies read from wordfreq's list agree with wordfreq.


def test_zipf_agrees_with_wordfreq_on_listed_words() -> None:
    words = [w for w in iter_wordlist("en") if w.isascii() and w.isalpha() and w.islower()]
    rng = random.Random(5)
    sample = words[:3000] + rng.sample(words, 3000) + words[-500:]
    assert len(sample) > 6000
    assert [zipf(w) for w in sample] == [zipf_frequency(w, "en") for w in sample]


def test_zipf_agrees_with_wordfreq_on_unlisted_and_other_words() -> None:
    rng = random.Random(7)
    made_up = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(1, 14)))
               for _ in range(3000)]
    others = ["Smith", "café", "naïve", "lévi-strauss", "o'brien", "straße", "ﬁnal", "x2",
              "", "recieved", "occured", "unfilled", "the", "qzxv"]
    for word in made_up + others:
        assert zipf(word) == zipf_frequency(word, "en"), word
        assert isinstance(zipf(word), float)


def test_zipf_falls_back_to_wordfreq_without_the_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(citations, "_english", {})
    assert zipf("received") == zipf_frequency("received", "en")
    assert zipf("recieved") == zipf_frequency("recieved", "en")


# ---------------------------------------------------------------------------------------
# A parenthetical's patterns are tried only where their first character allows.

_WORKS = [
    "Smith 2004", "Smith and Lee 2004, p. 12", "van der Berg 1999", "de Vries 12",
    "al-Farabi 1990", "WHO 2019", "Smith, “Title of It”, 34", "“The Tidal Ledger” 12",
    "'Short Title' 3", "*Italic Title*, 2001", "_Under Title_", "ibid., 4", "Ibid.", "id. 7",
    "Lévi-Strauss 1962", "Ødegaard 2001", "Smith", "bin Laden 2001", "le Goff 1980",
    "ten Brink 1877", "el-Sayed 2010", "di Lampedusa", "du Bois 1903", "la Fontaine 1668",
    "Étienne 1900", "1990", "see above", "e.g. Smith 2004", "which was new",
]


def _allowed(kind: str, body: str) -> bool:
    first = body[:1]
    return bool(first) and (not first.isascii() or first in citations._WORK_FIRST[kind])


def test_work_patterns_match_only_where_their_first_character_allows() -> None:
    matched = 0
    for kind, pattern in citations._WORKS:
        for body in _WORKS:
            if pattern.fullmatch(body) is not None:
                matched += 1
                assert _allowed(kind, body), (kind, body)
    assert matched > 15


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("AaBbdeilSstvV “”'\"*_.,&0123 ÉØ-")), max_size=14))
def test_work_patterns_first_character_property(body: str) -> None:
    for kind, pattern in citations._WORKS:
        if pattern.fullmatch(body) is not None:
            assert _allowed(kind, body), (kind, body)


# ---------------------------------------------------------------------------------------
# Shared paragraphs and skipped scans.

_TEXT = """# Essay

According to Smith (2004), the port “was never the same again” (p. 12). As Lee writes,
“nothing changed” [1]. In *The Tidal Ledger* (1999), Brown argues that it did.^2

    An indented block quotation of a few words, to be found as a block.

Jones notes that the figures were revised¹ (Jones, “Harbours”, 34; ibid., 35).[^3]

[^3]: A note, with a definition.

## References

Smith, J. (2004). *Ports and Labour*. London.

Lee, K. (2010). “Nothing Changed.” Journal 4: 1-20.
"""


def test_quotations_and_paragraphs_match_the_separate_functions() -> None:
    for text in (_TEXT, _TEXT.replace("\n\n", "\n"), "", "No quotes here.", "“Open only"):
        quotations, warnings, paras = quotations_and_paragraphs(text, max_chars=200)
        assert (quotations, warnings) == find_quotations(text, max_chars=200)
        assert paras == paragraphs(text)
    assert quotations_and_paragraphs(_TEXT)[0]


def test_find_citations_with_given_paragraphs_is_the_same() -> None:
    for text in (_TEXT, _TEXT.replace("[^", "[").replace("^2", "2").replace("In ", "in ")):
        quotations, _, paras = quotations_and_paragraphs(text)
        for scope in ("sentence", "paragraph"):
            plain = find_citations(text, scope=scope)
            assert find_citations(text, scope=scope, quotations=quotations, paras=paras) == plain
    styles = {m.style for m in find_citations(_TEXT)}
    assert {"narrative", "parenthetical", "numeric", "footnote", "reference"} <= styles
