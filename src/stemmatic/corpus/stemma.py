"""The stemma: which document copied which, as a directed graph.

For every pair of documents sharing passages, :func:`direct` decides which is earlier:

1. **dates**: when both documents have dates that differ (ISO-like: ``1851``,
   ``1851-03``, ``1851-03-07``, a timestamp), the earlier date is the earlier text;
2. **containment**: otherwise, the text that is mostly made of the other is the copy.
   If passages cover 80% of B but 10% of A, B was most likely made from A (an excerpt,
   or a piece built around a borrowed passage).  A text covered almost entirely
   (:data:`SUPERSET`) while the other is not is a *superset* relation, the strongest
   form of this evidence;
3. nothing else: the direction is unknown (probability 0.5) and the edge is drawn from
   the smaller id to the larger.

Two numbers make each edge's ``confidence``:

* ``derivation``: how sure it is that one text derives from the other at all.  It grows
  with the amount reused and with **shared rare words** (words rarer than
  :data:`~stemmatic.corpus.work.RARE_ZIPF` on the Zipf scale found on both sides of a
  passage: misspellings, unusual names), which independent writers seldom share.  Shared
  rare words say nothing about direction.
* ``direction``: the probability that the direction drawn is right.

``confidence = derivation * direction``, in 0..1; every edge records the evidence used.

Documents covered at least :data:`IDENTICAL` by each other, both ways, are near-identical
copies; :func:`build_stemma` collapses each group of them into one node (recording its
members), so the stemma shows how the *versions* of a text relate.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

# Direction from dates: right unless the dates are wrong.
DATE_DIRECTION = 0.95
# Direction from containment: 0.5 (a coin toss) plus this much times the asymmetry
# (0 when both texts are covered alike, 1 when one is not covered at all).
CONTAINMENT_GAIN = 0.4
# One text covered at least this much while the other is not: superset evidence.
SUPERSET = 0.9
SUPERSET_BONUS = 0.05
# Coverage shares this close (relative difference) give no direction.
SYMMETRIC = 0.1
# Derivation: half the doubt goes with every DERIVATION_CHARS characters reused, and
# with every shared rare word.
DERIVATION_CHARS = 100
# Near-identical copies, collapsed into one node: each covered this much by the other.
IDENTICAL = 0.9
# An edge is indirect when a path through another document carries this share of it.
INDIRECT_SHARE = 0.8

_DATE = re.compile(r"(?<!\d)(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?!\d)")


def parse_date(value: str | None) -> tuple[int, ...] | None:
    """``(year,)``, ``(year, month)`` or ``(year, month, day)`` from an ISO-like date.

    Accepts ``1851``, ``1851-03``, ``1851-03-07``, ``1851/3/7``, timestamps
    (``1851-03-07T10:00:00Z``) and a year within other words (``c. 1851``).  Out-of-range
    months and days are dropped, keeping the coarser date.
    """
    if not value:
        return None
    match = _DATE.search(value)
    if match is None:
        return None
    year = int(match.group(1))
    parts = [year]
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    if month is not None and 1 <= month <= 12:
        parts.append(month)
        if day is not None and 1 <= day <= 31:
            parts.append(day)
    return tuple(parts)


def compare_dates(a: str | None, b: str | None) -> int | None:
    """-1 when ``a`` is earlier, 1 when later, None when unknown or the same.

    Dates are compared at the precision both have: ``1851`` and ``1851-03-07`` are
    not ordered, ``1850`` and ``1851-03-07`` are.
    """
    pa_, pb = parse_date(a), parse_date(b)
    if pa_ is None or pb is None:
        return None
    depth = min(len(pa_), len(pb))
    if pa_[:depth] == pb[:depth]:
        return None
    return -1 if pa_[:depth] < pb[:depth] else 1


@dataclass(frozen=True, slots=True)
class Edge:
    """One directed edge of the stemma between two documents.

    Attributes:
        earlier, later: document ids; ``later`` is taken to have copied from ``earlier``.
        chars: characters of ``later`` covered by passages shared with ``earlier``.
        passages: how many passages the two documents share.
        confidence: ``derivation * direction``, in 0..1.
        derivation: how sure it is that one text derives from the other.
        direction: the probability that the direction is right (0.5: unknown).
        basis: what decided the direction: "date", "superset", "containment" or "none".
        evidence: the figures used, by name.
    """

    earlier: str
    later: str
    chars: int
    passages: int
    confidence: float
    derivation: float
    direction: float
    basis: str
    evidence: tuple[tuple[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "earlier": self.earlier,
            "later": self.later,
            "chars": self.chars,
            "passages": self.passages,
            "confidence": self.confidence,
            "derivation": self.derivation,
            "direction": self.direction,
            "basis": self.basis,
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class PairEvidence:
    """What two documents share, as the alignment stage measured it."""

    query_id: str
    source_id: str
    query_length: int
    source_length: int
    query_covered: int
    source_covered: int
    passages: int
    rare: tuple[str, ...] = ()
    rare_count: int = 0
    query_date: str | None = None
    source_date: str | None = None

    @property
    def query_share(self) -> float:
        return self.query_covered / self.query_length if self.query_length else 0.0

    @property
    def source_share(self) -> float:
        return self.source_covered / self.source_length if self.source_length else 0.0


def direct(pair: PairEvidence) -> Edge:
    """Decide which document of a pair is earlier, and how sure that is.

    Args:
        pair: coverage, rare words and dates of the two documents.

    Returns:
        The directed edge, with its evidence.
    """
    q_share, s_share = pair.query_share, pair.source_share
    evidence: dict[str, Any] = {
        "coverage": {pair.query_id: round(q_share, 4), pair.source_id: round(s_share, 4)},
        "rare_words": pair.rare_count,
    }
    if pair.rare:
        evidence["rare_examples"] = list(pair.rare)
    order = compare_dates(pair.query_date, pair.source_date)
    if pair.query_date or pair.source_date:
        evidence["dates"] = {pair.query_id: pair.query_date, pair.source_id: pair.source_date}
    # query_later: True when the query is the copy.
    if order is not None:
        query_later = order > 0
        direction, basis = DATE_DIRECTION, "date"
    else:
        high = max(q_share, s_share)
        asymmetry = abs(q_share - s_share) / high if high > 0 else 0.0
        evidence["asymmetry"] = round(asymmetry, 4)
        if asymmetry < SYMMETRIC:
            query_later = pair.query_id > pair.source_id  # smaller id first: arbitrary, stable
            direction, basis = 0.5, "none"
        else:
            query_later = q_share > s_share
            direction = 0.5 + CONTAINMENT_GAIN * asymmetry
            basis = "containment"
            if max(q_share, s_share) >= SUPERSET > min(q_share, s_share):
                direction += SUPERSET_BONUS
                basis = "superset"
    later_covered = pair.query_covered if query_later else pair.source_covered
    doubt = 0.5 ** (later_covered / DERIVATION_CHARS) * 0.5**pair.rare_count
    derivation = 1.0 - doubt
    earlier, later = (
        (pair.source_id, pair.query_id) if query_later else (pair.query_id, pair.source_id)
    )
    return Edge(
        earlier=earlier,
        later=later,
        chars=later_covered,
        passages=pair.passages,
        confidence=round(derivation * direction, 4),
        derivation=round(derivation, 4),
        direction=round(direction, 4),
        basis=basis,
        evidence=tuple(sorted(evidence.items())),
    )


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the stemma: one document, or a group of near-identical copies.

    ``id`` is the group's representative: its earliest dated member, else the member
    with the smallest id.
    """

    id: str
    members: tuple[str, ...]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Stemma:
    """The stemma graph and the edges it was built from.

    Attributes:
        graph: nodes are :class:`Node` ids; each edge has ``chars`` (also as ``weight``),
            ``passages``, ``confidence``, ``basis``, ``pairs`` (the document edges) and
            ``indirect`` (a path through another node may explain it).
        nodes: every node, by id.
        edges: the document-level edges, including those inside a collapsed group.
        group_of: the node id of each document in a pair.
    """

    graph: nx.DiGraph
    nodes: dict[str, Node]
    edges: tuple[Edge, ...]
    group_of: dict[str, str]


def build_stemma(
    pairs: Iterable[PairEvidence], documents: Mapping[str, Mapping[str, Any]]
) -> Stemma:
    """Direct every pair and build the stemma, collapsing near-identical copies.

    Args:
        pairs: evidence for each pair of documents sharing passages.
        documents: metadata of each document (``title``, ``author``, ``date``,
            ``series``, ``length``), by id.

    Returns:
        The stemma.
    """
    pairs = sorted(pairs, key=lambda p: (p.query_id, p.source_id))
    edges = tuple(direct(pair) for pair in pairs)

    # Groups of near-identical copies (union-find over ids).
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        find(pair.query_id), find(pair.source_id)
        if pair.query_share >= IDENTICAL and pair.source_share >= IDENTICAL:
            a, b = find(pair.query_id), find(pair.source_id)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[str, list[str]] = defaultdict(list)
    for doc_id in sorted(parent):
        members[find(doc_id)].append(doc_id)

    nodes: dict[str, Node] = {}
    group_of: dict[str, str] = {}
    for group in members.values():
        rep = min(group, key=lambda d: _date_key(documents.get(d, {}).get("date"), d))
        info = dict(documents.get(rep, {}))
        nodes[rep] = Node(rep, tuple(group), info)
        for doc_id in group:
            group_of[doc_id] = rep

    graph = nx.DiGraph()
    for node in sorted(nodes.values(), key=lambda n: n.id):
        graph.add_node(node.id, members=list(node.members), **_scalars(node.info))
    between: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for edge in edges:
        u, v = group_of[edge.earlier], group_of[edge.later]
        if u != v:
            between[(min(u, v), max(u, v))].append(edge)
    for (u, v), group_edges in sorted(between.items()):
        earlier, later, data = _merge(u, v, group_edges, group_of)
        graph.add_edge(earlier, later, **data)
    _mark_indirect(graph)
    return Stemma(graph, nodes, edges, group_of)


def _mark_indirect(graph: nx.DiGraph) -> None:
    """Mark each edge u -> w that a path u -> v -> w may explain.

    When B and C both copied a text from A and C also shares it with B, C may have taken
    it from B rather than from A: the edge A -> C is then *indirect*.  Which of the two
    is true the passages alone cannot tell, so the edge is kept and only marked (the
    picture can hide it).  A path explains an edge when both its steps carry at least
    :data:`INDIRECT_SHARE` of the edge's characters.
    """
    for u, w, data in graph.edges(data=True):
        needed = INDIRECT_SHARE * data["chars"]
        data["indirect"] = any(
            v != w
            and graph.has_edge(v, w)
            and graph[u][v]["chars"] >= needed
            and graph[v][w]["chars"] >= needed
            for v in graph.successors(u)
        )


def _merge(
    u: str, v: str, edges: Sequence[Edge], group_of: Mapping[str, str]
) -> tuple[str, str, dict[str, Any]]:
    """One stemma edge from the document edges between two groups (u < v)."""
    vote = 0.0
    for e in edges:
        sign = 1 if group_of[e.earlier] == u else -1
        vote += sign * e.chars * (e.direction - 0.5)
    earlier, later = (v, u) if vote < 0 else (u, v)
    agree = [e for e in edges if group_of[e.earlier] == earlier]
    total = sum(e.chars for e in edges) or 1
    if vote == 0:
        agree = list(edges)
    confidence = sum(e.chars * e.confidence for e in agree) / total
    heaviest = max(agree, key=lambda e: (e.chars, e.earlier, e.later)) if agree else edges[0]
    chars = sum(e.chars for e in edges)
    return earlier, later, {
        # "weight" is what graph tools (Gephi, networkx algorithms) read as the weight.
        "weight": chars,
        "chars": chars,
        "passages": sum(e.passages for e in edges),
        "confidence": round(confidence, 4),
        "basis": heaviest.basis if vote != 0 else "none",
        "pairs": [[e.earlier, e.later] for e in edges],
    }


def _date_key(date: str | None, doc_id: str) -> tuple[int, tuple[int, ...], str]:
    parsed = parse_date(date)
    return (0, parsed, doc_id) if parsed is not None else (1, (), doc_id)


def _scalars(info: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if v is not None and k != "members"}
