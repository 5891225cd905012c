"""Word-level alignment inside a passage, and the typed differences it shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import regex
from rapidfuzz.distance import Indel, Levenshtein, Opcodes

from stemmatic.normalize import Tokens, fold_typography, normal_form
from stemmatic.types import Difference, DiffType, slot_builder


@dataclass(frozen=True, slots=True)
class WordAlignment:
    """Edit operations turning query tokens ``[q0, q1)`` into source tokens ``[s0, s1)``.

    Each opcode is ``(tag, i1, i2, j1, j2)`` with absolute token indices, ``tag`` one of
    ``equal``, ``replace``, ``delete`` (words only the query has) and ``insert`` (words
    only the source has).  The opcodes come in the order of the tokens.
    """

    opcodes: tuple[tuple[str, int, int, int, int], ...]
    equal: int

    def equal_blocks(self, min_length: int = 1) -> list[tuple[int, int, int, int]]:
        return [
            (i1, i2, j1, j2)
            for tag, i1, i2, j1, j2 in self.opcodes
            if tag == "equal" and i2 - i1 >= min_length
        ]


def align_words(query: Tokens, q0: int, q1: int, source: Tokens, s0: int, s1: int) -> WordAlignment:
    """Align two token runs on their matching keys (minimal edit script)."""
    found = Levenshtein.opcodes(query.ids[q0:q1].tolist(), source.ids[s0:s1].tolist())
    return opcode_alignment(found, q0, s0)


def opcode_alignment(found: Opcodes, q0: int, s0: int) -> WordAlignment:
    """The alignment of rapidfuzz's opcodes ``found`` for runs starting at query token
    ``q0`` and source token ``s0``."""
    # Plain tuples and list comprehensions: quicker than reading rapidfuzz's opcode
    # objects one attribute at a time, and there are thousands of opcodes.
    ops = cast(list[tuple[str, int, int, int, int]], found.as_list())
    return WordAlignment(
        tuple([(tag, i1 + q0, i2 + q0, j1 + s0, j2 + s0) for tag, i1, i2, j1, j2 in ops]),
        sum([i2 - i1 for tag, i1, i2, _, _ in ops if tag == "equal"]),
    )


# Replaced runs up to this many words on either side are split on the words they share:
# a tie between one replaced word and an added one is a matter of a few words, and a
# long replaced run is rewording, whatever words it shares.
PREFER_RUN = 4


def prefer_matches(alignment: WordAlignment, query_ids: np.ndarray, source_ids: np.ndarray
                   ) -> WordAlignment:
    """The alignment with each replaced run split where its two sides share words.

    An edit script of least cost can pair "very high" with "high: 88" as two replaced
    words, where one added word ("very") and one more matched word ("high") cost the
    same; a quotation checker must say the second.  Each short replaced run (at most
    ``PREFER_RUN`` words a side) whose sides share a word is aligned again on longest
    common subsequence, and what stays unmatched on both sides between two matches is a
    replaced run again.

    Args:
        alignment: absolute token indices, as ``align_words`` gives.
        query_ids, source_ids: the ids of all query and source tokens.
    """
    # (The tags read as a list: unpacking each opcode costs several times as much.)
    if "replace" not in [op[0] for op in alignment.opcodes]:
        return alignment
    out: list[tuple[str, int, int, int, int]] = []
    equal = alignment.equal
    for op in alignment.opcodes:
        tag, i1, i2, j1, j2 = op
        if tag != "replace" or max(i2 - i1, j2 - j1) > PREFER_RUN or not set(
            query_ids[i1:i2].tolist()
        ) & set(source_ids[j1:j2].tolist()):
            out.append(op)
            continue
        found = cast(
            list[tuple[str, int, int, int, int]],
            Indel.opcodes(query_ids[i1:i2].tolist(), source_ids[j1:j2].tolist()).as_list(),
        )
        pending: list[tuple[str, int, int, int, int]] = []
        for sub_tag, a1, a2, b1, b2 in found:
            piece = (sub_tag, a1 + i1, a2 + i1, b1 + j1, b2 + j1)
            if sub_tag == "equal":
                out.extend(_joined(pending))
                pending = []
                out.append(piece)
                equal += a2 - a1
            else:
                pending.append(piece)
        out.extend(_joined(pending))
    if equal == alignment.equal:
        return alignment  # no replaced run shared a word
    return WordAlignment(tuple(out), equal)


def _joined(ops: list[tuple[str, int, int, int, int]]) -> list[tuple[str, int, int, int, int]]:
    """Adjacent deletions and insertions as one run: a replaced run if both sides have
    words."""
    if len(ops) < 2:
        return ops
    i1, i2 = min(op[1] for op in ops), max(op[2] for op in ops)
    j1, j2 = min(op[3] for op in ops), max(op[4] for op in ops)
    if i2 > i1 and j2 > j1:
        return [("replace", i1, i2, j1, j2)]
    return [("delete" if i2 > i1 else "insert", i1, i2, j1, j2)]


def differences(query: Tokens, source: Tokens, alignment: WordAlignment) -> tuple[Difference, ...]:
    """Name every change between the aligned query and source words.

    Words matched on their keys can still differ on the surface: in typography (quote
    and dash style, ligatures), in case, in spelling (British/American, accents, numbers
    as words or figures) or in inflection (a matched stem with another ending, which is
    a changed word).  Unmatched runs are replaced words, insertions or omissions.
    """
    ops = alignment.opcodes
    if not ops:
        return ()
    out: list[Difference] = []
    qt, st = query.text, source.text
    # The spans of the tokens the opcodes cover (they come in order), as plain lists,
    # read once: indexing numpy arrays word by word costs more than the comparisons
    # themselves.
    q0, q1, s0, s1 = ops[0][1], ops[-1][2], ops[0][3], ops[-1][4]
    q_starts, q_ends = query.starts[q0:q1].tolist(), query.ends[q0:q1].tolist()
    s_starts, s_ends = source.starts[s0:s1].tolist(), source.ends[s0:s1].tolist()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            out.extend(_matched_differences(
                qt, st,
                q_starts[i1 - q0 : i2 - q0], q_ends[i1 - q0 : i2 - q0],
                s_starts[j1 - s0 : j2 - s0], s_ends[j1 - s0 : j2 - s0],
            ))
            continue
        qs = q_starts[i1 - q0] if i2 > i1 else _gap_position(query, i1)
        qe = q_ends[i2 - 1 - q0] if i2 > i1 else qs
        ss = s_starts[j1 - s0] if j2 > j1 else _gap_position(source, j1)
        se = s_ends[j2 - 1 - s0] if j2 > j1 else ss
        out.append(_difference(qt[qs:qe], st[ss:se], _UNMATCHED[tag], qs, qe, ss, se))
    return tuple(out)


# The difference each unmatched run is.
_UNMATCHED = {"replace": DiffType.WORD, "delete": DiffType.INSERTION, "insert": DiffType.OMISSION}


# (A reworded text has a difference every few words.)
_difference = slot_builder(Difference)


def _matched_differences(
    qt: str, st: str, q_starts: list[int], q_ends: list[int], s_starts: list[int],
    s_ends: list[int],
) -> list[Difference]:
    """The differences of a run of matched words, their spans given, in the order of the
    text: each word's, then those of the marks after it."""
    if _same_text(qt, st, q_starts, q_ends, s_starts, s_ends):
        return []
    out: list[Difference] = []
    last = len(q_starts) - 1
    for k, (qs, qe, ss, se) in enumerate(zip(q_starts, q_ends, s_starts, s_ends)):
        qw, sw = qt[qs:qe], st[ss:se]
        if qw != sw:
            out.append(_difference(qw, sw, classify_words(qw, sw), qs, qe, ss, se))
        if k < last:
            qn, sn = q_starts[k + 1], s_starts[k + 1]
            q_gap, s_gap = qt[qe:qn], st[se:sn]
            # Gaps with the same marks between their white space (a line break for a
            # space, ",\n" for ", ") show no difference, and saying so needs no
            # pattern: text wrapped at other places than its source is full of them.
            # (No mark holds white space: the marks of each stretch between white
            # space are those of the stretch alone.)
            if q_gap != s_gap and q_gap.split() != s_gap.split():
                out.extend(_mark_differences(qt, qe, qn, st, se, sn))
    return out


def _same_text(qt: str, st: str, q_starts: list[int], q_ends: list[int], s_starts: list[int],
               s_ends: list[int]) -> bool:
    """Whether two runs of matched words (their spans given) show no difference: the same
    text, but for line breaks where the other has spaces (a text wrapped at other places
    than its source), with the words at the same places in it.

    No token holds white space, so the words are then the same, and the gaps between
    them have the same marks.  Copies and quotations are mostly such runs, and comparing
    a run's text at once is quicker than comparing its words and gaps one by one.
    """
    if not q_starts:
        return True
    q_run, s_run = qt[q_starts[0] : q_ends[-1]], st[s_starts[0] : s_ends[-1]]
    if len(q_run) != len(s_run):
        return False
    if q_run != s_run and q_run.replace("\n", " ") != s_run.replace("\n", " "):
        return False
    shift = q_starts[0] - s_starts[0]
    return q_starts == [a + shift for a in s_starts] and q_ends == [a + shift for a in s_ends]


def _mark_differences(
    qt: str, qs: int, qe: int, st: str, ss: int, se: int
) -> list[Difference]:
    """Typographic differences in the marks between two pairs of matched words.

    Tokens hold only words, so the marks between them are compared here, one mark at a
    time: curly against straight quotes, an em dash against a double hyphen.  White space
    (line breaks) is not a difference, and when the marks differ in more than typography
    (a comma added or dropped) nothing is reported: the word alignment does not see
    punctuation.
    """
    q_gap, s_gap = qt[qs:qe], st[ss:se]
    if q_gap == s_gap:
        return []
    q_marks = [m for m in _MARK.finditer(q_gap) if not m.group().isspace()]
    s_marks = [m for m in _MARK.finditer(s_gap) if not m.group().isspace()]
    if len(q_marks) != len(s_marks):
        return []
    out = []
    for qm, sm in zip(q_marks, s_marks):
        if _fold_mark(qm.group()) != _fold_mark(sm.group()):
            return []
        if qm.group() != sm.group():
            out.append(Difference(
                qm.group(), sm.group(), DiffType.TYPOGRAPHY,
                qs + qm.start(), qs + qm.end(), ss + sm.start(), ss + sm.end(),
            ))
    return out


def same_marks(query_gap: str, source_gap: str) -> bool:
    """Whether the marks between two words agree, typography and white space aside."""
    q = [_fold_mark(m.group()) for m in _MARK.finditer(query_gap) if not m.group().isspace()]
    s = [_fold_mark(m.group()) for m in _MARK.finditer(source_gap) if not m.group().isspace()]
    return q == s


# A mark: a run of dashes (a double hyphen stands for a dash), a run of white space, or
# any other single character.
_MARK = regex.compile(r"[-\u2010-\u2015\u2212]+|\s+|.", regex.DOTALL)


def _fold_mark(mark: str) -> str:
    folded = fold_typography(mark)
    return "-" if folded and set(folded) == {"-"} else folded


def classify_words(query_word: str, source_word: str) -> DiffType:
    """The type of difference between two words that matched on their keys."""
    q, s = fold_typography(query_word), fold_typography(source_word)
    if q == s:
        return DiffType.TYPOGRAPHY
    if q.casefold() == s.casefold():
        return DiffType.CASE
    if normal_form(q) == normal_form(s):
        return DiffType.SPELLING
    return DiffType.WORD


def _gap_position(tokens: Tokens, index: int) -> int:
    """Character position of an empty run just before token ``index``."""
    if index < len(tokens):
        return int(tokens.starts[index])
    return int(tokens.ends[-1]) if len(tokens) else 0
