"""``stemma.html``: a picture of the stemma in one self-contained file.

The layout is computed here (layers from the earliest texts down to their copies), the
graph is drawn as inline SVG, and a few lines of JavaScript show the details of a node or
an edge when it is clicked: for an edge, the shared passages' snippets on both sides.
Nothing is loaded from anywhere: no scripts, styles, fonts or images from the network.
All text taken from the corpus goes into the page as escaped SVG text or as JSON read by
the script, which puts it in the page with ``textContent`` only, so a document cannot
inject markup.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx

from stemmatic.corpus.stemma import Stemma

# Larger stemmas are drawn in part: the nodes of the heaviest edges first.
MAX_NODES = 400
# Passages shown per document pair when an edge is clicked.
MAX_PASSAGES = 12
X_STEP, Y_STEP, MARGIN = 150, 110, 60
NODE_GAP = 14
LABEL_CHARS = 22


def render(stemma: Stemma, by_pair: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]]) -> str:
    """The HTML page of a stemma.

    Args:
        stemma: the graph to draw.
        by_pair: the passages of each document pair, keyed ``(query_id, source_id)``.

    Returns:
        The page, one self-contained HTML document.
    """
    graph = stemma.graph
    shown = _shown_nodes(graph)
    sub = graph.subgraph(shown).copy()
    positions = _layout(sub)
    width = max((x for x, _ in positions.values()), default=0) + 2 * MARGIN
    height = max((y for _, y in positions.values()), default=0) + 2 * MARGIN

    edges = []
    for index, (u, v, data) in enumerate(sorted(sub.edges(data=True), key=lambda e: (e[0], e[1]))):
        snippets = []
        for earlier, later in data.get("pairs", []):
            key = (min(earlier, later), max(earlier, later))
            for p in by_pair.get(key, ())[:MAX_PASSAGES]:
                snippets.append(
                    {
                        "query": p["query_id"],
                        "source": p["source_id"],
                        "query_span": [p["query_start"], p["query_end"]],
                        "source_span": [p["source_start"], p["source_end"]],
                        "kind": p["kind"],
                        "score": p["score"],
                        "query_snippet": p["query_snippet"],
                        "source_snippet": p["source_snippet"],
                    }
                )
        edges.append({"index": index, "earlier": u, "later": v, **data, "snippets": snippets})
    document_edges = [e.to_dict() for e in stemma.edges]
    nodes = {n: {"id": n, **d} for n, d in sub.nodes(data=True)}
    payload = {"nodes": nodes, "edges": edges, "documents": document_edges}

    svg = [
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">',
        (
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto">'
            '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>'
        ),
    ]
    for edge in edges:
        x1, y1 = positions[edge["earlier"]]
        x2, y2 = positions[edge["later"]]
        path = _path(x1, y1, x2, y2)
        stroke = 1 + min(5.0, math.log10(1 + edge.get("chars", 0)))
        opacity = 0.3 + 0.7 * float(edge.get("confidence", 0))
        style = ""
        if edge.get("basis") == "none":
            style = ' stroke-dasharray="6 4"'
        elif edge.get("indirect"):
            style = ' stroke-dasharray="2 4"'
        title = html.escape(
            f"{edge['earlier']} → {edge['later']}: {edge.get('chars', 0)} characters, "
            f"confidence {edge.get('confidence', 0)}, {edge.get('basis', '')}"
        )
        kind = "edge indirect" if edge.get("indirect") else "edge"
        svg.append(
            f'<g class="{kind}" data-edge="{edge["index"]}"><title>{title}</title>'
            f'<path d="{path}" fill="none" stroke="transparent" stroke-width="14"/>'
            f'<path d="{path}" fill="none" stroke="#555" stroke-opacity="{opacity:.2f}" '
            f'stroke-width="{stroke:.1f}"{style} marker-end="url(#arrow)"/></g>'
        )
    for index, node in enumerate(sorted(nodes)):
        x, y = positions[node]
        data = nodes[node]
        members = data.get("members", [node])
        radius = 9 + min(12, 3 * (len(members) - 1))
        label = str(data.get("title") or node)
        if len(label) > LABEL_CHARS:
            label = label[: LABEL_CHARS - 1] + "…"
        if len(members) > 1:
            label += f" (+{len(members) - 1})"
        fill = "#e8a33d" if len(members) > 1 else "#4a7ab5"
        svg.append(
            f'<g class="node" data-node="{index}"><title>{html.escape(node)}</title>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{fill}"/>'
            f'<text x="{x:.1f}" y="{y + radius + 14:.1f}" text-anchor="middle">'
            f"{html.escape(label)}</text></g>"
        )
    svg.append("</svg>")
    node_order = sorted(nodes)
    payload["node_order"] = node_order
    note = ""
    if graph.number_of_nodes() > len(shown):
        note = (
            f"<p class=\"note\">Showing {len(shown)} of {graph.number_of_nodes()} nodes "
            "(those joined by the most reused text); graph.json has them all.</p>"
        )
    return _PAGE.format(
        summary=html.escape(
            f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges, "
            f"{len(stemma.edges)} document pairs"
        ),
        note=note,
        svg="\n".join(svg),
        data=_script_json(payload),
        script=_SCRIPT,
        style=_STYLE,
    )


def _shown_nodes(graph: nx.DiGraph) -> list[str]:
    if graph.number_of_nodes() <= MAX_NODES:
        return list(graph.nodes)
    chosen: dict[str, None] = {}
    heaviest = sorted(graph.edges(data=True), key=lambda e: (-e[2].get("chars", 0), e[0], e[1]))
    for u, v, _ in heaviest:
        if len(chosen) + (u not in chosen) + (v not in chosen) <= MAX_NODES:
            chosen[u] = chosen[v] = None
        if len(chosen) >= MAX_NODES:
            break
    return list(chosen)


def _layout(graph: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Positions: earliest texts at the top, each copy below the texts it came from.

    Cycles (conflicting evidence) are broken by dropping their least confident edges
    for the layout only.  Components are placed side by side, largest first.
    """
    dag = nx.DiGraph()
    dag.add_nodes_from(graph.nodes)
    ranked = sorted(graph.edges(data=True), key=lambda e: (-e[2].get("confidence", 0), e[0], e[1]))
    for u, v, _ in ranked:
        if not nx.has_path(dag, v, u):
            dag.add_edge(u, v)
    positions: dict[str, tuple[float, float]] = {}
    offset = 0.0
    components = sorted(nx.weakly_connected_components(dag), key=lambda c: (-len(c), min(c)))
    for component in components:
        layers = [sorted(layer) for layer in nx.topological_generations(dag.subgraph(component))]
        slot: dict[str, float] = {}
        widest = 0
        for depth, layer in enumerate(layers):
            if depth:
                # Barycenter ordering: a node under the texts it came from.
                centre = {}
                for n in layer:
                    parents = [slot[p] for p in dag.predecessors(n) if p in slot]
                    centre[n] = (sum(parents) / len(parents) if parents else 0.0, n)
                layer.sort(key=centre.__getitem__)
            for i, node in enumerate(layer):
                slot[node] = float(i)
                positions[node] = (MARGIN + (offset + i) * X_STEP, MARGIN + depth * Y_STEP)
            widest = max(widest, len(layer))
        offset += widest
    return positions


def _path(x1: float, y1: float, x2: float, y2: float) -> str:
    """An SVG path from one node to another, stopping short of the circles.

    An edge spanning more than one layer is bowed sideways, so it does not run through
    the nodes between its ends.
    """
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    bow = 0.0 if abs(y2 - y1) <= Y_STEP else 0.25 * length
    # Control point: the middle, pushed sideways (perpendicular to the segment).
    cx, cy = (x1 + x2) / 2 - uy * bow, (y1 + y2) / 2 + ux * bow
    sx, sy = _towards(x1, y1, cx, cy, NODE_GAP)
    ex, ey = _towards(x2, y2, cx, cy, NODE_GAP)
    return f"M {sx:.1f} {sy:.1f} Q {cx:.1f} {cy:.1f} {ex:.1f} {ey:.1f}"


def _towards(x: float, y: float, tx: float, ty: float, by: float) -> tuple[float, float]:
    length = math.hypot(tx - x, ty - y)
    if length <= by:
        return x, y
    return x + (tx - x) / length * by, y + (ty - y) / length * by


def _script_json(payload: Any) -> str:
    """JSON safe inside a <script> element: no "<" can close it or open a comment."""
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; display: flex; height: 100vh; }
#graph { flex: 3; overflow: auto; border-right: 1px solid #ccc; }
#panel { flex: 2; overflow: auto; padding: 0 1em; }
.edge, .node { cursor: pointer; }
.edge:hover path + path { stroke: #c03; }
.node text { font-size: 11px; fill: #222; }
.selected path + path { stroke: #c03; }
body.direct .indirect { display: none; }
.selected circle { stroke: #c03; stroke-width: 3; }
.passage { border-top: 1px solid #ddd; padding: .5em 0; }
.snippet { background: #f6f6f6; padding: .3em .5em; margin: .2em 0; white-space: pre-wrap; }
.meta { color: #555; font-size: 12px; }
.note { color: #a50; }
table { border-collapse: collapse; }
td { padding: 0 .6em 0 0; vertical-align: top; word-break: break-word; }
"""

_SCRIPT = """
(function () {
  const data = JSON.parse(document.getElementById("stemma-data").textContent);
  const panel = document.getElementById("details");
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function row(table, name, value) {
    const tr = el("tr");
    tr.appendChild(el("td", name, "meta"));
    tr.appendChild(el("td", typeof value === "object" ? JSON.stringify(value) : value));
    table.appendChild(tr);
  }
  function select(target) {
    document.querySelectorAll(".selected").forEach(s => s.classList.remove("selected"));
    target.classList.add("selected");
    panel.replaceChildren();
  }
  function showEdge(g) {
    select(g);
    const e = data.edges[Number(g.dataset.edge)];
    panel.appendChild(el("h2", e.earlier + " \\u2192 " + e.later));
    const t = el("table");
    row(t, "reused characters", e.chars);
    row(t, "passages", e.passages);
    row(t, "confidence", e.confidence);
    row(t, "direction from", e.basis);
    if (e.indirect) row(t, "indirect", "a path through another text may explain this edge");
    panel.appendChild(t);
    for (const [a, b] of e.pairs) {
      const d = data.documents.find(x => x.earlier === a && x.later === b);
      if (!d) continue;
      panel.appendChild(el("h3", a + " \\u2192 " + b));
      const dt = el("table");
      row(dt, "derivation", d.derivation);
      row(dt, "direction", d.direction);
      for (const [k, v] of Object.entries(d.evidence)) row(dt, k, v);
      panel.appendChild(dt);
    }
    panel.appendChild(el("h3", "Shared passages"));
    if (!e.snippets.length) panel.appendChild(el("p", "(none recorded)"));
    for (const s of e.snippets) {
      const box = el("div", undefined, "passage");
      box.appendChild(el("div", s.kind + ", score " + s.score, "meta"));
      box.appendChild(el("div", s.query + " [" + s.query_span.join(", ") + ")", "meta"));
      box.appendChild(el("div", s.query_snippet, "snippet"));
      box.appendChild(el("div", s.source + " [" + s.source_span.join(", ") + ")", "meta"));
      box.appendChild(el("div", s.source_snippet, "snippet"));
      panel.appendChild(box);
    }
  }
  function showNode(g) {
    select(g);
    const n = data.nodes[data.node_order[Number(g.dataset.node)]];
    panel.appendChild(el("h2", n.id));
    const t = el("table");
    for (const k of ["title", "author", "date", "series", "length"]) {
      if (n[k] !== undefined) row(t, k, n[k]);
    }
    panel.appendChild(t);
    if (n.members && n.members.length > 1) {
      panel.appendChild(el("h3", "Near-identical copies in this node"));
      const ul = el("ul");
      for (const m of n.members) ul.appendChild(el("li", m));
      panel.appendChild(ul);
    }
  }
  document.getElementById("direct-only").addEventListener("change", ev => {
    document.body.classList.toggle("direct", ev.target.checked);
  });
  document.querySelectorAll("[data-edge]")
    .forEach(g => g.addEventListener("click", () => showEdge(g)));
  document.querySelectorAll("[data-node]")
    .forEach(g => g.addEventListener("click", () => showNode(g)));
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Stemma</title>
<style>{style}</style>
</head>
<body>
<div id="graph">
<p class="meta">{summary}. Earlier texts above their copies; dashed: direction unknown;
dotted: indirect (a path through another text may explain it); fainter: less confident;
orange: near-identical copies collapsed into one node.</p>
<p class="meta"><label><input type="checkbox" id="direct-only"> hide indirect edges</label></p>
{note}
{svg}
</div>
<div id="panel"><div id="details"><p>Click an edge to see the passages its documents share,
or a node to see its documents.</p></div></div>
<script type="application/json" id="stemma-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""
