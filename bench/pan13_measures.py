"""The PAN text-alignment measures: macro precision and recall, granularity, plagdet.

A re-implementation of the official PAN evaluator ``perfmeasures.py`` (webis.de, v1.3,
used from PAN 2009 to PAN 2015) for the measures of Potthast et al., "An Evaluation
Framework for Plagiarism Detection", COLING 2010.  It gives the same numbers as the
official code; only the way they are computed differs:

* the official code compares every case with every detection of the same suspicious
  document and marks characters in boolean arrays; here annotations are grouped by
  (suspicious document, source document) pair, since two annotations can only overlap
  when both references agree, and the characters covered are counted by merging
  intervals, so the cost does not grow with the length of the passages.

Definitions (``S`` = cases, ``R`` = detections, ``r`` detects ``s`` when they share both
documents and their character ranges overlap in *both* documents)::

    case recall(s)   = (|s_susp ∩ ⋃ r_susp| + |s_src ∩ ⋃ r_src|) / (|s_susp| + |s_src|)
                       over the detections r that detect s
    recall           = mean of case recall over all cases (undetected cases count 0)
    precision        = the same with the roles of cases and detections swapped
    granularity      = mean, over the cases detected at least once, of how many
                       detections detect the case
    plagdet          = F1(precision, recall) / log2(1 + granularity)

Conventions of the official code that this module keeps:

* Cases and detections are *sets*: an annotation given twice counts once.
* No cases and no detections: precision = recall = 1.  Cases but no detections, or
  detections but no cases: precision = recall = 0 (so on a corpus without plagiarism a
  single detection sets plagdet to 0).
* Granularity is 1 when there is no detection or no case is detected.
* plagdet is 0 when precision and recall are both 0, either is negative, or
  granularity is below 1.
* Overlap is strict: ranges that only touch (``a.end == b.start``) do not overlap.  An
  empty range strictly inside another one overlaps it (and adds no character).

Where the official code fails, this module decides:

* An annotation of length 0 in both documents makes the official code divide by zero;
  here it scores 0 (a case nobody can find, a detection that finds nothing).
* A feature without source attributes is an intrinsic annotation in the official code;
  text alignment has none, so :func:`read_cases` refuses it.
* The official reader takes every feature whose name *ends with* the tag name (so
  ``detected-plagiarism`` counts as ``plagiarism``); :func:`read_cases` takes only exact
  matches, which makes no difference on gold files, which hold no detections.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

__all__ = [
    "Case",
    "granularity",
    "macro_precision",
    "macro_recall",
    "plagdet",
    "read_cases",
    "score",
]


@dataclass(frozen=True, slots=True, order=True)
class Case:
    """A plagiarism case or a detection: a span of a suspicious document and of a source.

    The field names are the PAN XML attribute names.  Offsets and lengths count code
    points of the document text read as UTF-8 without newline translation.
    """

    this_reference: str
    this_offset: int
    this_length: int
    source_reference: str
    source_offset: int
    source_length: int

    def __post_init__(self) -> None:
        for name in ("this_offset", "this_length", "source_offset", "source_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, not {value!r}")

    @property
    def this_end(self) -> int:
        return self.this_offset + self.this_length

    @property
    def source_end(self) -> int:
        return self.source_offset + self.source_length


def read_cases(xml_path: str | Path, name: str = "plagiarism") -> list[Case]:
    """Read the ``<feature name=NAME>`` annotations of one PAN XML file.

    Args:
        xml_path: a ``<document reference="...">`` file with ``<feature>`` children.
        name: the feature name to take: ``"plagiarism"`` for gold cases,
            ``"detected-plagiarism"`` for detections.  Other features (``about``,
            ``md5``) are metadata and are ignored.

    Returns:
        The annotations in file order (duplicates kept; the measures drop them).

    Raises:
        ValueError: the file is not well-formed, has no ``reference``, or an annotation
            lacks an attribute or holds a value that is not a non-negative integer.
    """
    path = Path(xml_path)
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise ValueError(f"{path}: not well-formed XML: {error}") from error
    reference = root.get("reference")
    if not reference:
        raise ValueError(f"{path}: the root element has no 'reference' attribute")
    cases = []
    for feature in root.iter("feature"):
        if feature.get("name") != name:
            continue
        try:
            cases.append(
                Case(
                    reference,
                    int(feature.attrib["this_offset"]),
                    int(feature.attrib["this_length"]),
                    feature.attrib["source_reference"],
                    int(feature.attrib["source_offset"]),
                    int(feature.attrib["source_length"]),
                )
            )
        except KeyError as error:
            raise ValueError(f"{path}: a {name!r} feature has no {error.args[0]!r}") from error
        except ValueError as error:
            raise ValueError(f"{path}: bad {name!r} feature: {error}") from error
    return cases


def _overlaps(a: Case, b: Case) -> bool:
    # The official is_overlapping(): strict inequalities in both documents.  The
    # document references are equal already (callers compare within one pair).
    return (
        b.this_end > a.this_offset
        and b.this_offset < a.this_end
        and b.source_end > a.source_offset
        and b.source_offset < a.source_end
    )


def _covered(start: int, end: int, spans: list[tuple[int, int]]) -> int:
    """Characters of ``[start, end)`` covered by the union of ``spans``."""
    clipped = sorted((max(s, start), min(e, end)) for s, e in spans)
    total, reach = 0, start
    for s, e in clipped:
        # Merging sorted intervals: count only the part beyond what is already counted,
        # so characters covered by several detections count once (the official code
        # marks them in one boolean array).
        s = max(s, reach)
        if e > s:
            total += e - s
            reach = e
    return total


def _by_pair(annotations: Iterable[Case]) -> dict[tuple[str, str], list[Case]]:
    index: dict[tuple[str, str], list[Case]] = defaultdict(list)
    for ann in annotations:
        index[ann.this_reference, ann.source_reference].append(ann)
    return index


def _match(targets: Iterable[Case], others: Iterable[Case]) -> list[tuple[float, int]]:
    """For each target: the fraction of its characters the overlapping others cover,
    and how many others overlap it.  Per document pair, sorted targets first."""
    index = _by_pair(others)
    result = []
    for target in sorted(targets):
        hits = [o for o in index.get((target.this_reference, target.source_reference), ())
                if _overlaps(target, o)]
        size = target.this_length + target.source_length
        if not hits or size == 0:
            result.append((0.0, len(hits)))
            continue
        chars = _covered(target.this_offset, target.this_end,
                         [(o.this_offset, o.this_end) for o in hits])
        chars += _covered(target.source_offset, target.source_end,
                          [(o.source_offset, o.source_end) for o in hits])
        result.append((chars / size, len(hits)))
    return result


def _mean_coverage(targets: set[Case], others: set[Case],
                   matches: Sequence[tuple[float, int]] | None = None) -> float:
    if not targets and not others:
        return 1.0
    if not targets or not others:
        return 0.0
    if matches is None:
        matches = _match(targets, others)
    return sum(fraction for fraction, _ in matches) / len(targets)


def macro_recall(cases: Iterable[Case], detections: Iterable[Case]) -> float:
    """Macro-averaged character recall: the mean, over cases, of the share of each
    case's characters (in both documents) that the detections detecting it cover."""
    return _mean_coverage(set(cases), set(detections))


def macro_precision(cases: Iterable[Case], detections: Iterable[Case]) -> float:
    """Macro-averaged character precision: the mean, over detections, of the share of
    each detection's characters that the cases it detects cover."""
    return _mean_coverage(set(detections), set(cases))


def _granularity(matches: Sequence[tuple[float, int]], any_detection: bool) -> float:
    counts = [count for _, count in matches if count > 0]
    if not any_detection or not counts:
        return 1.0
    return sum(counts) / len(counts)


def granularity(cases: Iterable[Case], detections: Iterable[Case]) -> float:
    """The mean number of detections per detected case (1 when nothing is detected)."""
    detected = set(detections)
    return _granularity(_match(set(cases), detected), bool(detected))


def plagdet(precision: float, recall: float, granularity: float) -> float:
    """F1 of precision and recall divided by ``log2(1 + granularity)``."""
    if (precision == 0 and recall == 0) or precision < 0 or recall < 0 or granularity < 1:
        return 0.0
    f1 = 2 * precision * recall / (precision + recall)
    return f1 / math.log2(1 + granularity)


def score(cases: Iterable[Case], detections: Iterable[Case]) -> dict[str, Any]:
    """All measures at once, sharing the overlap computation.

    Returns:
        ``cases`` and ``detections`` (distinct annotations), ``detected_cases`` (cases
        detected at least once), ``false_detections`` (detections that detect no case),
        ``precision``, ``recall``, ``granularity`` and ``plagdet``.
    """
    case_set, detection_set = set(cases), set(detections)
    by_case = _match(case_set, detection_set)
    by_detection = _match(detection_set, case_set)
    recall = _mean_coverage(case_set, detection_set, by_case)
    precision = _mean_coverage(detection_set, case_set, by_detection)
    gran = _granularity(by_case, bool(detection_set))
    return {
        "cases": len(case_set),
        "detections": len(detection_set),
        "detected_cases": sum(1 for _, count in by_case if count > 0),
        "false_detections": sum(1 for _, count in by_detection if count == 0),
        "precision": precision,
        "recall": recall,
        "granularity": gran,
        "plagdet": plagdet(precision, recall, gran),
    }
