"""One frozen Settings object: every knob of the pipeline, validated on creation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from stemmatic.errors import SettingsError

# Settings that change the fingerprints stored in an index.  An index built with other
# values of these cannot be searched with this configuration.
INDEX_SETTINGS = ("ngram", "stem", "stopwords", "fold_spelling", "fold_numbers")


@dataclass(frozen=True, slots=True)
class Settings:
    """Settings of a trace.

    Attributes:
        ngram: length of the word n-grams used as exact-match seeds.
        stem: reduce words to their Snowball stem before matching.
        stopwords: keep stop words in the seeds (False drops them, as most PAN systems do).
        fold_spelling: treat British and American spellings as the same word.
        fold_numbers: treat numbers written as words and as figures as the same token.
        paraphrase: look for paraphrases through sentence similarity, not only copies.
        min_words: shortest passage reported, in words of the query.
        sentence_cosine: tf-idf cosine a sentence pair needs to seed a paraphrase.
        sentence_dice: Dice overlap of word sets a sentence pair needs to seed a paraphrase.
        max_gap: largest gap, in words, bridged when seeds are merged into one passage.
        candidates: how many sources the index retrieves for alignment.
        max_bytes: larger input files are refused (0 means no limit).
        timeout: seconds allowed to extract one document (0 means no limit).
        citation_scope: what a citation covers: "sentence" or "paragraph".
        max_quote_chars: longest quotation before an opening mark is taken as unbalanced.
    """

    ngram: int = 4
    stem: bool = True
    stopwords: bool = False
    fold_spelling: bool = True
    fold_numbers: bool = True
    paraphrase: bool = True
    min_words: int = 8
    sentence_cosine: float = 0.33
    sentence_dice: float = 0.33
    max_gap: int = 40
    candidates: int = 50
    max_bytes: int = 200_000_000
    timeout: float = 120.0
    citation_scope: str = "sentence"
    max_quote_chars: int = 3000

    def __post_init__(self) -> None:
        if not 2 <= self.ngram <= 12:
            raise SettingsError(f"ngram must be between 2 and 12, not {self.ngram}")
        if self.min_words < 1:
            raise SettingsError(f"min_words must be at least 1, not {self.min_words}")
        for name in ("sentence_cosine", "sentence_dice"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise SettingsError(f"{name} must be in (0, 1], not {value}")
        if self.max_gap < 0:
            raise SettingsError(f"max_gap must be non-negative, not {self.max_gap}")
        if self.candidates < 1:
            raise SettingsError(f"candidates must be at least 1, not {self.candidates}")
        if self.max_bytes < 0 or self.timeout < 0:
            raise SettingsError("max_bytes and timeout must be non-negative (0 means no limit)")
        if self.citation_scope not in ("sentence", "paragraph"):
            raise SettingsError(
                f"citation_scope must be 'sentence' or 'paragraph', not {self.citation_scope!r}"
            )
        if self.max_quote_chars < 20:
            raise SettingsError(f"max_quote_chars must be at least 20, not {self.max_quote_chars}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def index_key(self) -> dict[str, Any]:
        """The settings an index's fingerprints depend on."""
        return {name: getattr(self, name) for name in INDEX_SETTINGS}

    def replace(self, **changes: Any) -> Settings:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)
