"""Clusters: one text reused across several documents.

A passage links a span of one document to a span of another.  When a text was reused in
documents A, B and C, the passages A–B, A–C and B–C overlap on each document: the
union-find below joins every passage's two spans, and any two spans of the same document
that overlap by at least :data:`MIN_OVERLAP` of the shorter one.  Each connected group is
a cluster.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

# Two spans of one document are the same reused text when they share at least this
# share of the shorter span.  Requiring more than a touch keeps two different passages
# that happen to sit side by side in one document from chaining their clusters together.
MIN_OVERLAP = 0.5


@dataclass(frozen=True, slots=True)
class Region:
    """A stretch of one document that belongs to a cluster.

    ``passages`` counts the passage ends that fall in it.
    """

    cluster: int
    doc_id: str
    start: int
    end: int
    passages: int


@dataclass(frozen=True, slots=True)
class Clusters:
    """The clusters of a list of passages.

    Attributes:
        of_passage: the cluster of each passage, in the order given.
        regions: every region of every cluster, ordered by cluster, document, start.
        documents: how many distinct documents each cluster spans, by cluster id.
    """

    of_passage: tuple[int, ...]
    regions: tuple[Region, ...]
    documents: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.documents)


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller index becomes the root, so the result does not depend on order.
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def cluster_passages(
    passages: Sequence[tuple[str, int, int, str, int, int]],
    *,
    min_overlap: float = MIN_OVERLAP,
) -> Clusters:
    """Group passages that are the same reused text.

    Args:
        passages: ``(query_id, query_start, query_end, source_id, source_start,
            source_end)`` of each passage.
        min_overlap: share of the shorter of two spans of one document they must share.

    Returns:
        The cluster of each passage and the regions of each cluster.  Cluster ids are
        numbered by each cluster's first region in (document id, start) order, so they
        depend only on the passages, not on their order.
    """
    count = len(passages)
    # Span i is the query side of passage i; span count + i its source side.
    spans: list[tuple[str, int, int]] = [(p[0], p[1], p[2]) for p in passages]
    spans += [(p[3], p[4], p[5]) for p in passages]
    groups = _UnionFind(len(spans))
    for i in range(count):
        groups.union(i, count + i)

    by_doc: dict[str, list[int]] = defaultdict(list)
    for index, (doc_id, _, _) in enumerate(spans):
        by_doc[doc_id].append(index)
    for indices in by_doc.values():
        indices.sort(key=lambda k: (spans[k][1], spans[k][2], k))
        active: list[int] = []
        for k in indices:
            start, end = spans[k][1], spans[k][2]
            active = [j for j in active if spans[j][2] > start]
            for j in active:
                if groups.find(j) == groups.find(k):
                    continue
                shared = min(end, spans[j][2]) - start
                shorter = min(end - start, spans[j][2] - spans[j][1])
                if shorter > 0 and shared >= min_overlap * shorter:
                    groups.union(j, k)
            active.append(k)

    # Regions: the member spans of a cluster in one document, merged where they overlap.
    members: dict[int, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for index, (doc_id, start, end) in enumerate(spans):
        members[groups.find(index)][doc_id].append((start, end))
    raw: list[tuple[int, list[tuple[str, int, int, int]]]] = []
    for root, docs in members.items():
        regions: list[tuple[str, int, int, int]] = []
        for doc_id, doc_spans in docs.items():
            doc_spans.sort()
            cur_start, cur_end, n = doc_spans[0][0], doc_spans[0][1], 1
            for start, end in doc_spans[1:]:
                if start < cur_end:
                    cur_end = max(cur_end, end)
                    n += 1
                else:
                    regions.append((doc_id, cur_start, cur_end, n))
                    cur_start, cur_end, n = start, end, 1
            regions.append((doc_id, cur_start, cur_end, n))
        regions.sort()
        raw.append((root, regions))
    raw.sort(key=lambda item: item[1][0])
    number = {root: cluster for cluster, (root, _) in enumerate(raw)}
    return Clusters(
        of_passage=tuple(number[groups.find(i)] for i in range(count)),
        regions=tuple(
            Region(number[root], doc_id, start, end, n)
            for root, regions in raw
            for doc_id, start, end, n in regions
        ),
        documents=tuple(len({r[0] for r in regions}) for _, regions in raw),
    )
