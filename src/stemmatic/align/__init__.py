"""Align a query with one source: every reused passage, with exact offsets on both sides.

The stages are plain functions on plain values, so the same code runs in a single
process, in worker processes and inside Spark tasks:

1. :func:`~stemmatic.align.units.prepare` tokenizes and segments both texts;
2. :mod:`~stemmatic.align.seeds` finds shared word n-grams and similar sentence pairs;
3. :func:`~stemmatic.align.extend.cluster` groups seeds into fragments, in any order;
4. each fragment is validated, its boundaries are placed on words (copies) or sentences
   (paraphrases), and overlapping fragments are resolved;
5. :func:`~stemmatic.align.diff.differences` names every word-level change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from stemmatic.align.diff import WordAlignment, align_words, differences
from stemmatic.align.edges import char_span, trim_units
from stemmatic.align.extend import (
    Fragment,
    cluster,
    extend_punctuation,
    fragment_cosine,
    fragments,
    token_range,
)
from stemmatic.align.seeds import (
    SentenceVectors,
    TokenMatches,
    ngram_matches,
    sentence_seeds,
    sentence_vectors,
)
from stemmatic.align.path import best_block, best_path
from stemmatic.align.summary import summaries
from stemmatic.align.units import Prepared, prepare
from stemmatic.settings import Settings
from stemmatic.types import Document, Kind, Passage

__all__ = ["align", "prepare", "Prepared"]

# A fragment whose words match the source at least this well is a copy, placed on words;
# below it the fragment is a paraphrase, placed on whole sentences.
COPY_RATIO = 0.7
# A paraphrase mostly covered by copies found inside it gives way to them.
COPY_SHARE = 0.6
# Shortest run of equal words that may place a copy's boundary (shorter runs are often
# chance matches of common words near the real copy).
BOUNDARY_RUN = 2
# A fragment must be at least this similar as a whole to be reported; a paraphrase of a
# single sentence needs more, since topically close texts share many single sentences.
FRAGMENT_COSINE = 0.4
SINGLE_SENTENCE_COSINE = 0.6
# Trimming: a sentence at the end of a fragment needs this share of the fragment's
# median evidence, and at least the floor.
TRIM_SHARE = 0.5
WORDS_PER_SENTENCE = 20
# A sentence next to a fragment joins it at this cosine with the other side.
EXTEND_COSINE = 0.25
TRIM_FLOOR = 0.1
# Paraphrases of one query region spread over a source this many times longer are a
# summary of that stretch of the source, reported as one passage.
SUMMARY_RATIO = 3.0
# A summary mostly made of one copied passage is that copy.
SUMMARY_COPIED = 0.5
MERGE_WHOLE = 0.0


@dataclass(frozen=True, slots=True)
class _Candidate:
    q_span: tuple[int, int]
    s_span: tuple[int, int]
    kind: Kind
    score: float
    words: int
    alignment: WordAlignment
    method: str
    fragment: Fragment | None = None


def align(query: Document, source: Document, settings: Settings | None = None) -> list[Passage]:
    """Find every passage of ``query`` that was taken from ``source``.

    Args:
        query: the document being checked.
        source: one corpus document.
        settings: matching settings; the defaults suit prose in English.

    Returns:
        Passages sorted by query position.  Spans are offsets into ``query.text`` and
        ``source.text``.  Passages never overlap on the query side.
    """
    settings = settings or Settings()
    q = prepare(query.text, settings, query.excluded)
    s = prepare(source.text, settings, source.excluded)
    if not len(q.tokens) or not len(s.tokens):
        return []

    matches = ngram_matches(q, s, settings.ngram, stopwords=settings.stopwords)
    copies = _copies(q, s, matches, settings)
    paraphrases: list[_Candidate] = []
    whole: list[_Candidate] = []
    if settings.paraphrase:
        vectors = sentence_vectors(q, s)
        paraphrases = _paraphrases(q, s, matches, vectors, settings)
    found = _combine(copies, paraphrases)
    if settings.paraphrase:
        whole = _summaries(q, s, vectors, found, settings)
    chosen = _resolve_overlaps(found, whole)
    passages = [
        Passage(
            query_start=c.q_span[0],
            query_end=c.q_span[1],
            source_id=source.id,
            source_start=c.s_span[0],
            source_end=c.s_span[1],
            kind=c.kind,
            score=round(c.score, 4),
            differences=differences(q.tokens, s.tokens, c.alignment),
            method=c.method,
        )
        for c in chosen
    ]
    passages.sort(key=lambda p: (p.query_start, p.source_start))
    return passages


def _copies(q: Prepared, s: Prepared, matches: TokenMatches, settings: Settings) -> list[_Candidate]:
    """Copies and near-copies: clusters of shared n-grams placed on exact words."""
    out = []
    for idx in cluster(matches.q_first, matches.s_first, settings.max_gap, settings.max_gap):
        q0, q1 = int(matches.q_first[idx].min()), int(matches.q_last[idx].max()) + 1
        s0, s1 = int(matches.s_first[idx].min()), int(matches.s_last[idx].max()) + 1
        candidate = _place_copy(q, s, q0, q1, s0, s1, settings)
        if candidate is not None:
            out.append(candidate)
    return out


def _place_copy(
    q: Prepared, s: Prepared, q0: int, q1: int, s0: int, s1: int, settings: Settings
) -> _Candidate | None:
    """Place a copy on the first and last runs of shared words, or reject the cluster."""
    alignment = align_words(q.tokens, q0, q1, s.tokens, s0, s1)
    blocks = alignment.equal_blocks(BOUNDARY_RUN)
    if not blocks:
        return None
    first_q, first_s = blocks[0][0], blocks[0][2]
    last_q, last_s = blocks[-1][1] - 1, blocks[-1][3] - 1
    if (first_q, first_s) != (q0, s0) or (last_q, last_s) != (q1 - 1, s1 - 1):
        alignment = align_words(q.tokens, first_q, last_q + 1, s.tokens, first_s, last_s + 1)
    words = last_q - first_q + 1
    if alignment.equal < settings.min_words or alignment.equal < COPY_RATIO * words:
        return None
    q_span, s_span = extend_punctuation(
        q.tokens.text, s.tokens.text, q.tokens.span(first_q, last_q), s.tokens.span(first_s, last_s)
    )
    score = min(1.0, 2 * alignment.equal / (words + last_s - first_s + 1))
    return _Candidate(q_span, s_span, Kind.COPY, score, words, alignment, "ngram")


def _paraphrases(
    q: Prepared, s: Prepared, matches: TokenMatches, vectors: SentenceVectors,
    settings: Settings,
) -> list[_Candidate]:
    """Paraphrases: clusters of similar sentences, placed on whole sentences."""
    rows, cols, _ = sentence_seeds(vectors, settings.sentence_cosine, settings.sentence_dice)
    seed_q = np.concatenate([q.tok_sent[matches.q_first], rows])
    seed_s = np.concatenate([s.tok_sent[matches.s_first], cols])
    if not len(seed_q):
        return []
    gap = _sentence_gap(settings)
    q_cover = _coverage(q, matches.q_first, matches.q_last)
    s_cover = _coverage(s, matches.s_first, matches.s_last)
    out = []
    for fragment in fragments(seed_q, seed_s, gap, gap):
        if USE_PATH == 3:
            old = _trim(vectors, _extend(vectors, fragment), q_cover, s_cover)
            new = _align_path(vectors, fragment, q_cover, s_cover)
            if old is None or new is None:
                trimmed = old or new
            else:
                trimmed = Fragment(min(old.q_first, new.q_first), max(old.q_last, new.q_last),
                                   min(old.s_first, new.s_first), max(old.s_last, new.s_last), fragment.seeds)
        elif USE_PATH == 2:
            trimmed = _align_block(vectors, fragment, q_cover, s_cover)
        elif USE_PATH:
            trimmed = _align_path(vectors, fragment, q_cover, s_cover)
        else:
            fragment = _extend(vectors, fragment)
            trimmed = _trim(vectors, fragment, q_cover, s_cover)
        if trimmed is None:
            continue
        candidate = _place_paraphrase(q, s, vectors, trimmed, settings)
        if candidate is not None:
            out.append(candidate)
    return _merge_summaries(q, s, vectors, out, gap)


def _combine(copies: list[_Candidate], paraphrases: list[_Candidate]) -> list[_Candidate]:
    """Choose between a paraphrase and the copies found inside it.

    When copies cover most of a paraphrase's query span, the copies are kept (their
    word-exact boundaries are better); otherwise the paraphrase stands for the whole
    passage, the copies inside it included.
    """
    kept_copies = list(copies)
    out = []
    for p in paraphrases:
        inside = [c for c in copies if _overlap(c.q_span, p.q_span) > 0]
        covered = sum(_overlap(c.q_span, p.q_span) for c in inside)
        if covered >= COPY_SHARE * (p.q_span[1] - p.q_span[0]):
            continue
        out.append(p)
        kept_copies = [
            c for c in kept_copies
            if not (p.q_span[0] <= c.q_span[0] and c.q_span[1] <= p.q_span[1])
        ]
    return kept_copies + out


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _sentence_gap(settings: Settings) -> int:
    # max_gap is in words; about WORDS_PER_SENTENCE words make a sentence of prose.
    return max(1, round(settings.max_gap / WORDS_PER_SENTENCE))


def _coverage(prepared: Prepared, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Share of each sentence's content words that lie inside a shared n-gram."""
    covered = np.zeros(len(prepared.tokens) + 1, dtype=np.int64)
    np.add.at(covered, first, 1)
    np.add.at(covered, last + 1, -1)
    inside = (np.cumsum(covered)[:-1] > 0) & prepared.content
    per_sentence = np.bincount(
        prepared.tok_sent[inside], minlength=prepared.n_sentences
    ).astype(np.float64)
    content = np.bincount(
        prepared.tok_sent[prepared.content], minlength=prepared.n_sentences
    ).astype(np.float64)
    return per_sentence / np.maximum(content, 1.0)


USE_PATH = 3
PATH_THRESHOLD = 0.25
PATH_MARGIN = 5
PATH_COVER = 0.0


def _align_path(
    vectors: SentenceVectors, fragment: Fragment, q_cover: np.ndarray, s_cover: np.ndarray
) -> Fragment | None:
    """The extent of a fragment as the best local alignment of the sentences around it."""
    n_q, n_s = vectors.q_tfidf.shape[0], vectors.s_tfidf.shape[0]
    margin = int(PATH_MARGIN)
    qa, qb, sa, sb = fragment.q_first, fragment.q_last, fragment.s_first, fragment.s_last
    for _ in range(4):
        q0, q1 = max(qa - margin, 0), min(qb + margin + 1, n_q)
        s0, s1 = max(sa - margin, 0), min(sb + margin + 1, n_s)
        block = vectors.cosine[q0:q1, s0:s1].toarray()
        if PATH_COVER:
            block = np.maximum(block, PATH_COVER * np.minimum.outer(q_cover[q0:q1], s_cover[s0:s1]))
        path = best_path(block, PATH_THRESHOLD)
        if path is None:
            return None
        pa, pb, ps, pe = q0 + path.q_first, q0 + path.q_last, s0 + path.s_first, s0 + path.s_last
        grow = (pa == q0 > 0) or (pb == q1 - 1 < n_q - 1) or (ps == s0 > 0) or (pe == s1 - 1 < n_s - 1)
        qa, qb, sa, sb = pa, pb, ps, pe
        if not grow:
            break
    return Fragment(qa, qb, sa, sb, fragment.seeds)


def _align_block(
    vectors: SentenceVectors, fragment: Fragment, q_cover: np.ndarray, s_cover: np.ndarray
) -> Fragment | None:
    """The extent of a fragment as the best block of sentences around it."""
    n_q, n_s = vectors.q_tfidf.shape[0], vectors.s_tfidf.shape[0]
    margin = int(PATH_MARGIN)
    qa, qb, sa, sb = fragment.q_first, fragment.q_last, fragment.s_first, fragment.s_last
    for _ in range(4):
        q0, q1 = max(qa - margin, 0), min(qb + margin + 1, n_q)
        s0, s1 = max(sa - margin, 0), min(sb + margin + 1, n_s)
        sim = vectors.cosine[q0:q1, s0:s1].toarray()
        if PATH_COVER:
            sim = np.maximum(sim, PATH_COVER * np.minimum.outer(q_cover[q0:q1], s_cover[s0:s1]))
        block = best_block(sim, PATH_THRESHOLD, (qa - q0, qb - q0, sa - s0, sb - s0))
        if block is None:
            return None
        pa, pb, ps, pe = q0 + block.q_first, q0 + block.q_last, s0 + block.s_first, s0 + block.s_last
        grow = (pa == q0 > 0) or (pb == q1 - 1 < n_q - 1) or (ps == s0 > 0) or (pe == s1 - 1 < n_s - 1)
        qa, qb, sa, sb = pa, pb, ps, pe
        if not grow:
            break
    return Fragment(qa, qb, sa, sb, fragment.seeds)


def _extend(vectors: SentenceVectors, fragment: Fragment) -> Fragment:
    """Grow a fragment over neighbouring sentences that are still similar to the other side.

    Seeds need a fairly high similarity; a heavily reworded sentence at the edge of a
    passage often falls short of it while still clearly belonging to the passage.
    """
    qa, qb, sa, sb = fragment.q_first, fragment.q_last, fragment.s_first, fragment.s_last
    n_q, n_s = vectors.q_tfidf.shape[0], vectors.s_tfidf.shape[0]

    def best(rows: sparse.csr_matrix, cols: sparse.csr_matrix) -> float:
        product = rows @ cols.T
        return float(product.max()) if product.nnz else 0.0

    changed = True
    while changed:
        changed = False
        lo, hi = max(sa - 1, 0), min(sb + 2, n_s)
        if qa > 0 and best(vectors.q_tfidf[qa - 1], vectors.s_tfidf[lo:hi]) >= EXTEND_COSINE:
            qa -= 1
            changed = True
        if qb + 1 < n_q and best(vectors.q_tfidf[qb + 1], vectors.s_tfidf[lo:hi]) >= EXTEND_COSINE:
            qb += 1
            changed = True
        lo, hi = max(qa - 1, 0), min(qb + 2, n_q)
        if sa > 0 and best(vectors.s_tfidf[sa - 1], vectors.q_tfidf[lo:hi]) >= EXTEND_COSINE:
            sa -= 1
            changed = True
        if sb + 1 < n_s and best(vectors.s_tfidf[sb + 1], vectors.q_tfidf[lo:hi]) >= EXTEND_COSINE:
            sb += 1
            changed = True
    return Fragment(qa, qb, sa, sb, fragment.seeds)


def _trim(
    vectors: SentenceVectors, fragment: Fragment, q_cover: np.ndarray, s_cover: np.ndarray
) -> Fragment | None:
    """Drop weakly matched sentences from the ends of a fragment.

    Clustering bridges small gaps, so a copied passage can pull in its neighbours when
    they share a few topical words with the source.  A sentence at either end stays only
    if its best evidence (sentence cosine or share of words in shared n-grams) reaches
    half the fragment's median evidence.
    """
    qa, qb, sa, sb = fragment.q_first, fragment.q_last, fragment.s_first, fragment.s_last
    block = vectors.cosine[qa : qb + 1, sa : sb + 1].toarray()
    q_evidence = np.maximum(block.max(axis=1), q_cover[qa : qb + 1])
    floor = max(TRIM_FLOOR, TRIM_SHARE * float(np.median(q_evidence)))
    keep = np.flatnonzero(q_evidence >= floor)
    if not len(keep):
        return None
    qa, qb = qa + int(keep[0]), qa + int(keep[-1])
    block = block[keep[0] : keep[-1] + 1]
    s_evidence = np.maximum(block.max(axis=0), s_cover[sa : sb + 1])
    keep = np.flatnonzero(s_evidence >= max(TRIM_FLOOR, TRIM_SHARE * float(np.median(s_evidence))))
    if not len(keep):
        return None
    return Fragment(qa, qb, sa + int(keep[0]), sa + int(keep[-1]), fragment.seeds)


def _place_paraphrase(
    q: Prepared, s: Prepared, vectors: SentenceVectors, fragment: Fragment, settings: Settings
) -> _Candidate | None:
    """Validate a fragment of similar sentences and place it on whole sentences."""
    q0, q1 = token_range(q, fragment.q_first, fragment.q_last)
    s0, s1 = token_range(s, fragment.s_first, fragment.s_last)
    if q1 <= q0 or s1 <= s0:
        return None
    q_words = q1 - q0
    if q_words < settings.min_words:
        return None
    if 3 * (s1 - s0) < q_words:
        # A passage much longer than its source is elaboration, not reuse.
        return None
    cosine = fragment_cosine(vectors, fragment)
    if USE_EVIDENCE:
        needed = EVIDENCE + (SINGLE_EXTRA if fragment.q_first == fragment.q_last else 0.0)
        if _evidence(q, s, vectors, fragment, q0, q1, s0, s1, cosine) < needed:
            return None
    else:
        needed = SINGLE_SENTENCE_COSINE if fragment.q_first == fragment.q_last else FRAGMENT_COSINE
        if cosine < needed:
            return None
    q0, q1, s0, s1 = trim_units(q, q0, q1, s, s0, s1)
    if q1 - q0 < settings.min_words:
        return None
    q_span = char_span(q, q0, q1)
    s_span = char_span(s, s0, s1)
    alignment = align_words(q.tokens, q0, q1, s.tokens, s0, s1)
    return _Candidate(
        q_span, s_span, Kind.PARAPHRASE, cosine, q_words, alignment, "sentence", fragment
    )


USE_EVIDENCE = 1.0
EVIDENCE = 0.35
SINGLE_EXTRA = 0.1


def _evidence(
    q: Prepared, s: Prepared, vectors: SentenceVectors, fragment: Fragment,
    q0: int, q1: int, s0: int, s1: int, cosine: float,
) -> float:
    """How clearly a fragment is reuse: its similarity beyond what the texts share anyway.

    Three views of similarity are averaged: the cosine of the two sides as wholes, the
    share of the query side's content words found on the source side, and how well each
    source sentence is matched by some query sentence of the fragment.  From this the
    background similarity of the two texts is subtracted, so that texts on one topic
    need more evidence than unrelated ones.
    """
    q_ids = q.tokens.ids[q0:q1][q.content[q0:q1]]
    s_ids = s.tokens.ids[s0:s1][s.content[s0:s1]]
    contained = float(np.isin(q_ids, s_ids).mean()) if len(q_ids) else 0.0
    block = vectors.cosine[fragment.q_first : fragment.q_last + 1, fragment.s_first : fragment.s_last + 1]
    matched = float(block.max(axis=0).toarray().mean())
    return (cosine + contained + matched) / 3 - vectors.background()


def _merge_summaries(
    q: Prepared,
    s: Prepared,
    vectors: SentenceVectors,
    candidates: list[_Candidate],
    gap: int,
) -> list[_Candidate]:
    """Join paraphrases of one query region that draw on a long stretch of the source.

    A summary condenses a long source passage: its sentences match source sentences
    far apart from each other, so clustering cuts it into pieces.  Pieces that are close
    in the query and whose source extent is much longer than their query extent are
    merged back into one passage.
    """
    para = sorted(
        (c for c in candidates if c.kind is Kind.PARAPHRASE and c.fragment is not None),
        key=lambda c: c.q_span,
    )
    if len(para) < 2:
        return candidates
    groups: list[list[_Candidate]] = [[para[0]]]
    for c in para[1:]:
        last = groups[-1][-1]
        assert last.fragment is not None and c.fragment is not None
        if c.fragment.q_first - last.fragment.q_last <= gap:
            groups[-1].append(c)
        else:
            groups.append([c])
    merged: list[_Candidate] = []
    absorbed: set[int] = set()
    for group in groups:
        if len(group) < 2:
            continue
        frags = [c.fragment for c in group if c.fragment is not None]
        whole = Fragment(
            min(f.q_first for f in frags), max(f.q_last for f in frags),
            min(f.s_first for f in frags), max(f.s_last for f in frags),
            sum(f.seeds for f in frags),
        )
        q_span = (int(q.sent_start[whole.q_first]), int(q.sent_end[whole.q_last]))
        s_span = (int(s.sent_start[whole.s_first]), int(s.sent_end[whole.s_last]))
        if (s_span[1] - s_span[0]) < SUMMARY_RATIO * (q_span[1] - q_span[0]):
            continue
        if MERGE_WHOLE and whole.s_last - whole.s_first + 1 >= MERGE_WHOLE * s.n_sentences:
            whole = Fragment(whole.q_first, whole.q_last, 0, s.n_sentences - 1, whole.seeds)
            s_span = (int(s.sent_start[0]), int(s.sent_end[-1]))
        q0, q1 = token_range(q, whole.q_first, whole.q_last)
        s0, s1 = token_range(s, whole.s_first, whole.s_last)
        alignment = align_words(q.tokens, q0, q1, s.tokens, s0, s1)
        cosine = fragment_cosine(vectors, whole)
        merged.append(
            _Candidate(q_span, s_span, Kind.PARAPHRASE, cosine, q1 - q0, alignment, "merged", whole)
        )
        absorbed.update(id(c) for c in group)
    return [c for c in candidates if id(c) not in absorbed] + merged


def _summaries(
    q: Prepared,
    s: Prepared,
    vectors: SentenceVectors,
    candidates: list[_Candidate],
    settings: Settings,
) -> list[_Candidate]:
    """Summaries of the whole source, placed on whole sentences."""
    q_found = _sentences_inside(q, [c.q_span for c in candidates])
    s_found = _sentences_inside(s, [c.s_span for c in candidates])
    out = []
    q_copied = _sentences_inside(q, [c.q_span for c in candidates if c.kind is Kind.COPY])
    copies = [c for c in candidates if c.kind is Kind.COPY]
    for found in summaries(q, s, vectors, q_found, s_found, q_copied):
        fragment = Fragment(found.q_first, found.q_last, found.s_first, found.s_last, 0)
        q0, q1 = token_range(q, found.q_first, found.q_last)
        if q1 - q0 < settings.min_words:
            continue
        s0, s1 = token_range(s, found.s_first, found.s_last)
        q_span = (int(q.sent_start[found.q_first]), int(q.sent_end[found.q_last]))
        s_span = (int(s.sent_start[found.s_first]), int(s.sent_end[found.s_last]))
        copied = max((_overlap(c.q_span, q_span) for c in copies), default=0)
        if copied >= SUMMARY_COPIED * (q_span[1] - q_span[0]):
            continue
        alignment = align_words(q.tokens, q0, q1, s.tokens, s0, s1)
        out.append(_Candidate(
            q_span, s_span, Kind.PARAPHRASE, fragment_cosine(vectors, fragment), q1 - q0,
            alignment, "summary", fragment,
        ))
    return out


def _sentences_inside(prepared: Prepared, spans: list[tuple[int, int]]) -> np.ndarray:
    """Mask of the sentences that lie mostly inside one of ``spans``."""
    inside = np.zeros(prepared.n_sentences, dtype=bool)
    middle = (prepared.sent_start + prepared.sent_end) // 2
    for start, end in spans:
        inside |= (middle >= start) & (middle < end)
    return inside


def _resolve_overlaps(
    candidates: list[_Candidate], first: Sequence[_Candidate] = ()
) -> list[_Candidate]:
    """Keep the strongest of fragments that claim the same query words.

    Candidates in ``first`` are kept before any other: a summary of the whole source
    stands for the pieces of it that were found as paraphrases.
    """
    ranked = sorted(candidates, key=lambda c: (-c.score * c.words, c.q_span, c.s_span))
    chosen: list[_Candidate] = []
    ranked = list(first) + ranked
    for c in ranked:
        if all(c.q_span[1] <= o.q_span[0] or o.q_span[1] <= c.q_span[0] for o in chosen):
            chosen.append(c)
    return chosen
