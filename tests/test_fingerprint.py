from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from stemmatic.fingerprint import fingerprint, winnow
from stemmatic.normalize import tokenize

WORDS = ["harbour", "crane", "labour", "union", "river", "ship", "memory", "dock", "strike", "city"]


def test_same_words_give_same_fingerprints_whatever_the_surface() -> None:
    a = fingerprint(tokenize("The Labour union struck the harbour cranes."), 3)
    b = fingerprint(tokenize("the labor UNION struck the harbor  cranes!"), 3)
    assert a.hashes.tolist() == b.hashes.tolist()


def test_stop_words_are_skipped_but_spans_cover_them() -> None:
    tokens = tokenize("the crane of the city and the ship")
    grams = fingerprint(tokens, 2)
    assert len(grams) == 2  # crane-city, city-ship
    first, last = int(grams.first[0]), int(grams.last[0])
    assert tokens.text[tokens.starts[first] : tokens.ends[last]] == "crane of the city"


def test_order_matters() -> None:
    a = fingerprint(tokenize("crane union river"), 3)
    b = fingerprint(tokenize("river union crane"), 3)
    assert a.hashes.tolist() != b.hashes.tolist()


def test_too_short_text_has_no_fingerprint() -> None:
    assert len(fingerprint(tokenize("crane union"), 3)) == 0
    assert len(fingerprint(tokenize(""), 3)) == 0


@given(
    st.lists(st.sampled_from(WORDS), min_size=0, max_size=60),
    st.integers(min_value=2, max_value=6),
)
def test_winnowing_guarantee(words: list[str], window: int) -> None:
    """Any run of window + n - 1 words shares a kept fingerprint with the full set."""
    n = 3
    grams = fingerprint(tokenize(" ".join(words)), n)
    kept = winnow(grams, window)
    assert set(kept.hashes.tolist()) <= set(grams.hashes.tolist())
    for start in range(0, len(grams) - window + 1):
        window_hashes = set(grams.hashes[start : start + window].tolist())
        assert window_hashes & set(kept.hashes.tolist())
    assert np.all(np.diff(kept.first) >= 0)
