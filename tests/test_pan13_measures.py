"""The PAN scorer (bench/pan13_measures.py) and the PAN benchmark runner (bench/pan13.py).

Everything is built by hand or in tmp_path; nothing is read from the PAN corpus.
"""

from __future__ import annotations

import difflib
import json
import math
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

BENCH = Path(__file__).resolve().parents[1] / "bench"
if str(BENCH) not in sys.path:
    # bench/ is a folder of scripts, not a package; pan13.py imports its scorer this way.
    sys.path.insert(0, str(BENCH))

import pan13
from pan13_measures import (
    Case,
    granularity,
    macro_precision,
    macro_recall,
    plagdet,
    read_cases,
    score,
)

from stemmatic.settings import Settings
from stemmatic.types import Document, Kind, Passage


def case(t_off: int, t_len: int, s_off: int, s_len: int, susp: str = "s1", src: str = "r1") -> Case:
    return Case(susp, t_off, t_len, src, s_off, s_len)


# --- hand-made cases ------------------------------------------------------------------


def test_perfect_detection_scores_one() -> None:
    cases = [case(100, 50, 10, 60)]
    result = score(cases, list(cases))
    assert result["precision"] == 1.0
    assert result["recall"] == 1.0
    assert result["granularity"] == 1.0
    assert result["plagdet"] == 1.0
    assert result["detected_cases"] == 1
    assert result["false_detections"] == 0


def test_half_covering_detection_has_recall_half() -> None:
    cases = [case(0, 100, 0, 100)]
    detections = [case(0, 50, 0, 50)]
    assert macro_recall(cases, detections) == 0.5
    assert macro_precision(cases, detections) == 1.0
    assert granularity(cases, detections) == 1.0


def test_recall_counts_both_documents() -> None:
    # Covers the whole suspicious span (100 chars) but only 100 of 300 source chars.
    cases = [case(0, 100, 0, 300)]
    detections = [case(0, 100, 0, 100)]
    assert macro_recall(cases, detections) == pytest.approx(200 / 400)


def test_two_detections_of_one_case_give_granularity_two() -> None:
    cases = [case(0, 100, 0, 100)]
    detections = [case(0, 40, 0, 40), case(60, 40, 60, 40)]
    result = score(cases, detections)
    assert result["recall"] == pytest.approx(0.8)
    assert result["precision"] == 1.0
    assert result["granularity"] == 2.0
    f1 = 2 * 0.8 * 1.0 / 1.8
    assert result["plagdet"] == pytest.approx(f1 / math.log2(3))


def test_overlapping_detections_do_not_double_count() -> None:
    cases = [case(0, 100, 0, 100)]
    detections = [case(0, 60, 0, 60), case(40, 60, 40, 60)]
    result = score(cases, detections)
    assert result["recall"] == 1.0
    assert result["granularity"] == 2.0


def test_detection_on_wrong_source_counts_for_nothing() -> None:
    cases = [case(0, 100, 0, 100, src="r1")]
    detections = [case(0, 100, 0, 100, src="r2")]
    result = score(cases, detections)
    assert result["recall"] == 0.0
    assert result["precision"] == 0.0
    assert result["plagdet"] == 0.0
    assert result["false_detections"] == 1
    assert result["detected_cases"] == 0


def test_overlap_in_one_document_only_does_not_detect() -> None:
    cases = [case(0, 100, 0, 100)]
    detections = [case(0, 100, 500, 100)]  # same suspicious chars, other source chars
    assert macro_recall(cases, detections) == 0.0
    assert granularity(cases, detections) == 1.0


def test_no_detections_gives_recall_zero() -> None:
    result = score([case(0, 100, 0, 100)], [])
    assert result["recall"] == 0.0
    assert result["precision"] == 0.0  # the official convention for an empty side
    assert result["granularity"] == 1.0
    assert result["plagdet"] == 0.0


def test_detection_without_case_lowers_precision() -> None:
    cases = [case(0, 100, 0, 100)]
    detections = [case(0, 100, 0, 100), case(500, 100, 500, 100)]
    result = score(cases, detections)
    assert result["precision"] == 0.5
    assert result["recall"] == 1.0
    assert result["false_detections"] == 1


def test_detections_without_any_case_score_zero_and_none_score_one() -> None:
    # The official conventions for a corpus without plagiarism (01-no-plagiarism).
    empty = score([], [])
    assert (empty["precision"], empty["recall"], empty["granularity"]) == (1.0, 1.0, 1.0)
    assert empty["plagdet"] == 1.0
    result = score([], [case(0, 10, 0, 10)])
    assert (result["precision"], result["recall"], result["plagdet"]) == (0.0, 0.0, 0.0)


def test_duplicate_annotations_count_once() -> None:
    cases = [case(0, 100, 0, 100)]
    detections = [case(0, 100, 0, 100), case(0, 100, 0, 100)]
    result = score(cases, detections)
    assert result["detections"] == 1
    assert result["granularity"] == 1.0


def test_touching_ranges_do_not_overlap() -> None:
    cases = [case(0, 100, 0, 100)]
    assert macro_recall(cases, [case(100, 50, 100, 50)]) == 0.0
    assert macro_recall(cases, [case(99, 50, 99, 50)]) == pytest.approx(2 / 200)


def test_empty_annotations_score_zero_without_dividing_by_zero() -> None:
    cases = [case(0, 100, 0, 100)]
    empty = case(50, 0, 50, 0)  # strictly inside: it "detects" the case, covering nothing
    result = score(cases, [empty])
    assert result["recall"] == 0.0
    assert result["precision"] == 0.0
    assert result["detected_cases"] == 1
    assert score([empty], cases)["recall"] == 0.0


# The examples of the official perfmeasures.py unit tests (its external annotations).
ANN1 = case(0, 100, 0, 100, "tref1", "sref1")
ANN3 = case(100, 100, 100, 100, "tref1", "sref1")
ANN4 = case(0, 200, 0, 200, "tref1", "sref1")
ANN5 = case(0, 1, 0, 1, "tref1", "sref1")
ANN6 = case(99, 1, 99, 1, "tref1", "sref1")
ANN7 = case(0, 100, 0, 100, "tref2", "sref2")
ANN9 = case(50, 100, 50, 100, "tref2", "sref2")
ANN10 = case(25, 75, 25, 75, "tref2", "sref2")


def test_official_examples() -> None:
    assert macro_recall([ANN1, ANN7], [ANN1]) == 0.5
    assert macro_recall([ANN1], [ANN7]) == 0
    assert macro_recall([ANN1], [ANN3]) == 0
    assert macro_recall([ANN1], [ANN4, ANN7]) == 1
    assert macro_recall([ANN7], [ANN9]) == 0.5
    assert macro_recall([ANN7], [ANN10]) == 0.75
    assert macro_recall([ANN7], [ANN9, ANN10]) == 0.75
    assert macro_recall([ANN1], [ANN5, ANN6]) == pytest.approx(4 / 200)
    assert macro_precision([ANN1, ANN7], [ANN1]) == 1
    assert macro_precision([ANN1], [ANN4]) == 0.5
    assert macro_precision([ANN7], [ANN10]) == 1
    assert macro_precision([ANN7], [ANN9, ANN10]) == 0.75
    assert macro_precision([ANN1], [ANN3, ANN4]) == 0.25
    assert granularity([], []) == 1
    assert granularity([ANN1], [ANN3, ANN4]) == 1
    assert granularity([ANN1, ANN3], [ANN4, ANN5]) == 1.5


def test_plagdet_official_examples() -> None:
    assert plagdet(0, -1, 0) == 0
    assert plagdet(-1, 0, 0) == 0
    assert plagdet(1, 1, 0.5) == 0
    assert plagdet(0, 0, 1) == 0
    assert plagdet(1, 0, 1) == 0
    assert plagdet(1, 1, 1) == 1
    assert plagdet(1, 0.5, 1) == pytest.approx(2 / 3)
    assert plagdet(1, 1, 2) == pytest.approx(0.63092975)
    assert plagdet(0.75, 0.25, 2) == pytest.approx(0.23659865)


def test_case_refuses_negative_values() -> None:
    with pytest.raises(ValueError, match="this_length"):
        case(0, -1, 0, 10)


# --- brute-force reference ------------------------------------------------------------


def _ref_overlapping(a: Case, b: Case) -> bool:
    """is_overlapping() of the official perfmeasures.py, for external annotations."""
    return (
        a.this_reference == b.this_reference
        and b.this_offset + b.this_length > a.this_offset
        and b.this_offset < a.this_offset + a.this_length
        and a.source_reference == b.source_reference
        and b.source_offset + b.source_length > a.source_offset
        and b.source_offset < a.source_offset + a.source_length
    )


def _chars(offset: int, length: int) -> set[int]:
    return set(range(offset, offset + length))


def _ref_case_recall(target: Case, others: set[Case]) -> float:
    hits = [o for o in others if _ref_overlapping(target, o)]
    this = _chars(target.this_offset, target.this_length).intersection(
        *[set().union(*(_chars(o.this_offset, o.this_length) for o in hits))]
    )
    source = _chars(target.source_offset, target.source_length).intersection(
        *[set().union(*(_chars(o.source_offset, o.source_length) for o in hits))]
    )
    size = target.this_length + target.source_length
    return (len(this) + len(source)) / size if size else 0.0


def _ref_recall(cases: set[Case], detections: set[Case]) -> float:
    if not cases and not detections:
        return 1.0
    if not cases or not detections:
        return 0.0
    return sum(_ref_case_recall(c, detections) for c in cases) / len(cases)


def _ref_granularity(cases: set[Case], detections: set[Case]) -> float:
    if not detections:
        return 1.0
    counts = [sum(_ref_overlapping(c, d) for d in detections) for c in cases]
    detected = [n for n in counts if n > 0]
    return sum(detected) / len(detected) if detected else 1.0


ANNOTATIONS = st.builds(
    Case,
    st.sampled_from(["s1", "s2"]),
    st.integers(0, 20),
    st.integers(0, 12),
    st.sampled_from(["r1", "r2"]),
    st.integers(0, 20),
    st.integers(0, 12),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(ANNOTATIONS, max_size=6), st.lists(ANNOTATIONS, max_size=8))
def test_interval_arithmetic_agrees_with_per_character_reference(
    cases: list[Case], detections: list[Case]
) -> None:
    case_set, detection_set = set(cases), set(detections)
    recall = _ref_recall(case_set, detection_set)
    precision = _ref_recall(detection_set, case_set)
    gran = _ref_granularity(case_set, detection_set)
    result = score(cases, detections)
    assert result["recall"] == pytest.approx(recall, abs=1e-12)
    assert result["precision"] == pytest.approx(precision, abs=1e-12)
    assert result["granularity"] == pytest.approx(gran, abs=1e-12)
    assert result["plagdet"] == pytest.approx(plagdet(precision, recall, gran), abs=1e-12)
    assert macro_recall(cases, detections) == result["recall"]
    assert macro_precision(cases, detections) == result["precision"]
    assert granularity(cases, detections) == result["granularity"]


# --- PAN XML --------------------------------------------------------------------------


def test_read_cases_takes_only_the_named_features(tmp_path: Path) -> None:
    path = tmp_path / "a-b.xml"
    path.write_text(
        '<document  reference="suspicious-document00001.txt">\n'
        '\t<feature  name="about" authors="DUC2006" title="news" language="en" />\n'
        '<feature source_length="5" source_offset="6" name="plagiarism" '
        'this_offset="1" this_length="2" source_reference="source-document00009.txt"/>\n'
        '<feature name="detected-plagiarism" this_offset="3" this_length="4" '
        'source_reference="source-document00009.txt" source_offset="7" source_length="8"/>\n'
        "</document>\n",
        encoding="utf-8",
    )
    expected_case = Case("suspicious-document00001.txt", 1, 2, "source-document00009.txt", 6, 5)
    expected_det = Case("suspicious-document00001.txt", 3, 4, "source-document00009.txt", 7, 8)
    assert read_cases(path) == [expected_case]
    assert read_cases(path, "detected-plagiarism") == [expected_det]
    assert read_cases(path, "md5") == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<document reference='x'><feature name='plagiarism'", "not well-formed"),
        ("<document><feature name='plagiarism'/></document>", "reference"),
        ("<document reference='x'><feature name='plagiarism' this_offset='1'/></document>",
         "this_length"),
        (
            (
                "<document reference='x'><feature name='plagiarism' this_offset='a' "
                "this_length='1' source_reference='y' source_offset='0' source_length='1'/>"
                "</document>"
            ),
            "bad",
        ),
    ],
)
def test_read_cases_refuses_bad_files(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=reason):
        read_cases(path)


def test_detections_round_trip_through_xml(tmp_path: Path) -> None:
    pair = pan13.Pair("02-x", 'susp "&<odd>.txt', "src'&.txt")
    spans = [(0, 10, 5, 25), (40, 40, 7, 9)]
    path = tmp_path / "d.xml"
    pan13.write_detections(path, pair, spans)
    assert read_cases(path, "detected-plagiarism") == [
        Case(pair.susp, 0, 10, pair.src, 5, 20),
        Case(pair.susp, 40, 0, pair.src, 7, 2),
    ]
    assert read_cases(path) == []  # detections are not cases


# --- the runner on a tiny corpus ------------------------------------------------------

WORDS = [
    "river", "stone", "lantern", "copper", "meadow", "whistle", "harbour", "thimble", "orchard",
    "quill", "ember", "saddle", "lattice", "marble", "pepper", "cobalt", "willow", "anchor",
    "velvet", "tundra",
]


def _text(seed: int, words: int) -> str:
    # CRLF line ends and non-ASCII characters: offsets must count code points of the
    # text read without newline translation.
    out = []
    for i in range(words):
        word = WORDS[(seed * 7 + i * (seed + 3)) % len(WORDS)]
        out.append(word + ("é" if i % 11 == 0 else ""))
        out.append("\r\n" if i % 9 == 8 else "\u00a0" if i % 13 == 0 else " ")
    return "".join(out)


def _make_corpus(root: Path) -> Path:
    """01: one pair without plagiarism; 02: two pairs with a planted copy; 05: one pair
    with a summary case and one whose annotation is missing."""
    (root / "susp").mkdir(parents=True)
    (root / "src").mkdir()
    sources = {f"source-document{i:05d}.txt": _text(i, 120) for i in range(1, 5)}
    for name, text in sources.items():
        with open(root / "src" / name, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    layout: dict[str, list[tuple[str, str, tuple[int, int | None] | None]]] = {
        "01-no-plagiarism": [("suspicious-document00001.txt", "source-document00001.txt", None)],
        "02-no-obfuscation": [
            ("suspicious-document00002.txt", "source-document00002.txt", (30, 200)),
            ("suspicious-document00003.txt", "source-document00003.txt", (100, 90)),
        ],
        "05-summary-obfuscation": [
            ("suspicious-document00004.txt", "source-document00004.txt", (0, None)),
            ("suspicious-document00005.txt", "source-document00001.txt", None),
        ],
    }
    for sub, pairs in layout.items():
        (root / sub).mkdir()
        lines = []
        for number, (susp, src, planted) in enumerate(pairs):
            text = _text(50 + number + len(sub), 80)
            features = []
            if planted is not None:
                offset, length = planted
                length = length or len(sources[src])
                piece = sources[src][offset:offset + length]
                where = len(text) // 2
                text = text[:where] + piece + text[where:]
                features.append(
                    f'<feature name="plagiarism" source_offset="{offset}" '
                    f'source_length="{length}" source_reference="{src}" '
                    f'this_length="{length}" this_offset="{where}" type="artificial"/>'
                )
            with open(root / "susp" / susp, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            stem = f"{susp[:-4]}-{src[:-4]}"
            (root / sub / f"{stem}.xml").write_text(
                f'<document reference="{susp}">\n'
                '<feature name="about" authors="x"/>\n' + "\n".join(features) + "\n</document>\n",
                encoding="utf-8",
            )
            lines.append(f"{susp} {src}\n")
        (root / sub / "pairs").write_text("".join(lines), encoding="utf-8")
    return root


def copy_aligner(query: Document, source: Document, settings: Settings) -> list[Passage]:
    """A stand-in aligner: the longest common substring, if it is long enough."""
    match = difflib.SequenceMatcher(None, query.text, source.text, autojunk=False)
    block = match.find_longest_match(0, len(query.text), 0, len(source.text))
    if block.size < 40:
        return []
    return [Passage(block.a, block.a + block.size, source.id, block.b, block.b + block.size,
                    Kind.COPY, 1.0)]


def broken_aligner(query: Document, source: Document, settings: Settings) -> list[Passage]:
    if query.id.endswith("00003.txt"):
        raise RuntimeError("boom")
    return [Passage(0, len(query.text) + 5, source.id, 0, 1, Kind.COPY, 1.0)]


def test_gold_aligner_scores_one_everywhere(tmp_path: Path) -> None:
    corpus = _make_corpus(tmp_path / "corpus")
    out = tmp_path / "out"
    results = pan13.run(corpus, out, pan13.GoldAligner(corpus), workers=1, progress=False)
    assert results["left_out"] == {"05-summary-obfuscation": 1}
    assert results["pairs"] == 4
    assert set(results["scores"]) == {
        "01-no-plagiarism", "02-no-obfuscation", "05-summary-obfuscation", "overall"
    }
    for name, s in results["scores"].items():
        assert (s["precision"], s["recall"], s["granularity"], s["plagdet"]) == (1, 1, 1, 1), name
    assert results["scores"]["overall"]["cases"] == 3
    assert json.loads((out / "scores.json").read_text()) == results
    assert sorted(p.name for p in out.glob("*.xml")) == [
        "suspicious-document00001-source-document00001.xml",
        "suspicious-document00002-source-document00002.xml",
        "suspicious-document00003-source-document00003.xml",
        "suspicious-document00004-source-document00004.xml",
    ]


def test_runner_scores_a_real_aligner_in_worker_processes(tmp_path: Path) -> None:
    corpus = _make_corpus(tmp_path / "corpus")
    results = pan13.run(corpus, tmp_path / "out", copy_aligner, workers=2,
                        subcorpora=["02", "no-plagiarism"], progress=False)
    assert results["workers"] == 2
    assert results["failed"] == []
    scores = results["scores"]["02-no-obfuscation"]
    # The longest common substring is at least the planted copy, which is all of the case.
    assert scores["recall"] == 1.0
    assert scores["detected_cases"] == 2
    assert scores["precision"] > 0.9
    assert results["scores"]["01-no-plagiarism"]["detections"] == 0
    assert results["peak_rss_mib"]["largest_child"] > 0


def test_runner_limit_failures_and_invalid_passages(tmp_path: Path) -> None:
    corpus = _make_corpus(tmp_path / "corpus")
    results = pan13.run(corpus, tmp_path / "out", broken_aligner, workers=1, limit=1,
                        progress=False)
    assert {s: v["pairs"] for s, v in results["scores"].items()} == {
        "01-no-plagiarism": 1, "02-no-obfuscation": 1, "05-summary-obfuscation": 1, "overall": 3
    }
    assert results["failed"] == []
    assert results["invalid_passages"] == 3  # each ran past the end of its query
    results = pan13.run(corpus, tmp_path / "out", broken_aligner, workers=1,
                        subcorpora=["02"], progress=False)
    assert [f["pair"] for f in results["failed"]] == [
        "suspicious-document00003-source-document00003"
    ]
    assert results["failed"][0]["error"] == "RuntimeError: boom"


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _make_corpus(tmp_path / "corpus")
    status = pan13.main([str(corpus), str(tmp_path / "out"), "--aligner", "gold",
                         "--workers", "1", "--no-progress", "--set", "ngram=5"])
    captured = capsys.readouterr()
    assert status == 0
    assert "left out:  1 pairs of 05-summary-obfuscation" in captured.out
    assert "union of all cases and detections" in captured.out
    assert "02-no-obfuscation" in captured.out
    saved = json.loads((tmp_path / "out" / "scores.json").read_text())
    assert saved["settings"]["ngram"] == 5
    assert saved["scores"]["overall"]["plagdet"] == 1.0

    status = pan13.main([str(corpus), str(tmp_path / "out"), "--subcorpus", "07"])
    assert status == 2
    assert "unknown sub-corpus '07'" in capsys.readouterr().err
    status = pan13.main([str(corpus), str(tmp_path / "out"), "--set", "ngram=many"])
    assert status == 2
    assert "is not of type int" in capsys.readouterr().err
