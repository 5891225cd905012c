"""Writing a corpus run's results, the same way whichever engine aligned the pairs.

Both engines end with a table of aligned pairs (:data:`~stemmatic.corpus.work.ALIGNED_SCHEMA`);
:func:`write_outputs` sorts the passages, clusters them, builds the stemma and writes:

* ``passages/part-00000.parquet`` (:data:`PASSAGE_SCHEMA`);
* ``clusters/part-00000.parquet`` (:data:`CLUSTER_SCHEMA`);
* ``graph.json`` and ``graph.graphml``: the stemma;
* ``stemma.html``: a picture of the stemma that works offline;
* with ``jsonl``: ``passages.jsonl``, ``clusters.jsonl`` and ``edges.jsonl`` too.

Document ids are only ever data in these files, never part of a file name.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stemmatic.corpus import html
from stemmatic.corpus.cluster import cluster_passages
from stemmatic.corpus.stemma import PairEvidence, Stemma, build_stemma
from stemmatic.types import SCHEMA_VERSION

PASSAGE_SCHEMA = pa.schema(
    [
        ("passage", pa.int64()),
        ("cluster", pa.int64()),
        ("query_id", pa.string()),
        ("query_start", pa.int64()),
        ("query_end", pa.int64()),
        ("source_id", pa.string()),
        ("source_start", pa.int64()),
        ("source_end", pa.int64()),
        ("kind", pa.string()),
        ("score", pa.float64()),
        ("method", pa.string()),
        ("query_snippet", pa.string()),
        ("source_snippet", pa.string()),
    ]
)

CLUSTER_SCHEMA = pa.schema(
    [
        ("cluster", pa.int64()),
        ("doc_id", pa.string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("passages", pa.int32()),
        ("documents", pa.int32()),
    ]
)

# The names a corpus run writes in its output folder (and may replace on a re-run).
OUTPUT_NAMES = frozenset(
    {
        "passages",
        "clusters",
        "graph.json",
        "graph.graphml",
        "stemma.html",
        "passages.jsonl",
        "clusters.jsonl",
        "edges.jsonl",
        "skipped.jsonl",
        "summary.json",
        "_work",
    }
)

_PASSAGE_KEYS = ("query_start", "query_end", "source_start", "source_end")
_DOC_FIELDS = ("title", "author", "date", "series", "length")


@dataclass(frozen=True, slots=True)
class Written:
    """What :func:`write_outputs` wrote."""

    aligned_pairs: int
    passages: int
    clusters: int
    edges: int
    groups: int
    outputs: dict[str, Path]


def flatten(aligned: pa.Table) -> list[dict[str, Any]]:
    """One dict per passage, sorted by query id, source id and offsets."""
    rows = []
    for batch in aligned.select(["query_id", "source_id", "passages"]).to_batches():
        for pair in batch.to_pylist():
            for p in pair["passages"]:
                rows.append({"query_id": pair["query_id"], "source_id": pair["source_id"], **p})
    rows.sort(key=lambda r: (r["query_id"], r["source_id"], *(r[k] for k in _PASSAGE_KEYS)))
    return rows


def write_outputs(aligned: pa.Table, out: Path, *, jsonl: bool = False) -> Written:
    """Write passages, clusters, the stemma and its picture into ``out``.

    Args:
        aligned: one row per aligned pair (:data:`~stemmatic.corpus.work.ALIGNED_SCHEMA`).
        out: the output folder (it exists).
        jsonl: also write every table as JSON Lines.

    Returns:
        Counts and the paths written.
    """
    passages = flatten(aligned)
    clusters = cluster_passages(
        [
            (p["query_id"], p["query_start"], p["query_end"],
             p["source_id"], p["source_start"], p["source_end"])
            for p in passages
        ]
    )
    for number, (row, cluster) in enumerate(zip(passages, clusters.of_passage, strict=True)):
        row["passage"] = number
        row["cluster"] = cluster
    cluster_rows = [
        {
            "cluster": r.cluster,
            "doc_id": r.doc_id,
            "start": r.start,
            "end": r.end,
            "passages": r.passages,
            "documents": clusters.documents[r.cluster],
        }
        for r in clusters.regions
    ]

    pairs, documents = _evidence(aligned)
    stemma = build_stemma(pairs, documents)

    outputs: dict[str, Path] = {}
    outputs["passages"] = _write_parquet(out / "passages", passages, PASSAGE_SCHEMA)
    outputs["clusters"] = _write_parquet(out / "clusters", cluster_rows, CLUSTER_SCHEMA)
    graph_doc = graph_json(stemma)
    outputs["graph_json"] = _write_text(out / "graph.json", json.dumps(graph_doc, indent=1))
    outputs["graphml"] = out / "graph.graphml"
    nx.write_graphml(_graphml_ready(stemma.graph), outputs["graphml"])
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for p in passages:
        by_pair[(p["query_id"], p["source_id"])].append(p)
    outputs["html"] = _write_text(out / "stemma.html", html.render(stemma, by_pair))
    if jsonl:
        outputs["passages_jsonl"] = _write_jsonl(out / "passages.jsonl", passages, PASSAGE_SCHEMA)
        outputs["clusters_jsonl"] = _write_jsonl(
            out / "clusters.jsonl", cluster_rows, CLUSTER_SCHEMA
        )
        outputs["edges_jsonl"] = _write_jsonl(
            out / "edges.jsonl", (e.to_dict() for e in stemma.edges), None
        )
    return Written(
        aligned_pairs=aligned.num_rows,
        passages=len(passages),
        clusters=len(clusters),
        edges=stemma.graph.number_of_edges(),
        groups=sum(1 for n in stemma.nodes.values() if len(n.members) > 1),
        outputs=outputs,
    )


def _evidence(aligned: pa.Table) -> tuple[list[PairEvidence], dict[str, dict[str, Any]]]:
    """The evidence of each aligned pair, and the metadata of each document in a pair."""
    pairs: list[PairEvidence] = []
    documents: dict[str, dict[str, Any]] = {}
    columns = [name for name in aligned.schema.names if name != "passages"]
    counts = pc.list_value_length(aligned.column("passages")).to_pylist()
    for row, count in zip(aligned.select(columns).to_pylist(), counts, strict=True):
        for side in ("query", "source"):
            documents.setdefault(
                row[f"{side}_id"],
                {name: row[f"{side}_{name}"] for name in _DOC_FIELDS},
            )
        pairs.append(
            PairEvidence(
                query_id=row["query_id"],
                source_id=row["source_id"],
                query_length=row["query_length"],
                source_length=row["source_length"],
                query_covered=row["query_covered"],
                source_covered=row["source_covered"],
                passages=int(count or 0),
                rare=tuple(row["rare"] or ()),
                rare_count=row["rare_count"],
                query_date=row["query_date"],
                source_date=row["source_date"],
            )
        )
    return pairs, documents


def graph_json(stemma: Stemma) -> dict[str, Any]:
    """The stemma as a JSON document: nodes, stemma edges, and every document edge."""
    nodes = []
    for node_id, data in stemma.graph.nodes(data=True):
        nodes.append({"id": node_id, **data})
    edges = []
    for u, v, data in stemma.graph.edges(data=True):
        edges.append({"earlier": u, "later": v, **data})
    return {
        "schema_version": SCHEMA_VERSION,
        "directed": True,
        "nodes": nodes,
        "edges": edges,
        "pairs": [
            {**e.to_dict(), "group": stemma.group_of[e.earlier] == stemma.group_of[e.later]}
            for e in stemma.edges
        ],
    }


def _graphml_ready(graph: nx.DiGraph) -> nx.DiGraph:
    """A copy whose list attributes are JSON strings (GraphML holds scalars only)."""
    ready = nx.DiGraph()
    for node, data in graph.nodes(data=True):
        ready.add_node(node, **{k: _scalar(v) for k, v in data.items()})
    for u, v, data in graph.edges(data=True):
        ready.add_edge(u, v, **{k: _scalar(val) for k, val in data.items()})
    return ready


def _scalar(value: Any) -> Any:
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _write_parquet(folder: Path, rows: list[dict[str, Any]], schema: pa.Schema) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.parquet"):
        old.unlink()
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, folder / "part-00000.parquet", row_group_size=100_000)
    return folder


def _write_text(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _write_jsonl(
    path: Path, rows: Iterable[dict[str, Any]], schema: pa.Schema | None
) -> Path:
    names = schema.names if schema is not None else None
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as stream:
        for row in _ordered(rows, names):
            stream.write(json.dumps(row, ensure_ascii=False))
            stream.write("\n")
    os.replace(tmp, path)
    return path


def _ordered(rows: Iterable[dict[str, Any]], names: list[str] | None) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield {name: row[name] for name in names} if names is not None else row
