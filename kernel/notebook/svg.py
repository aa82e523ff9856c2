"""A small layered layout of a DAG (see `plait.notebook.dag`) drawn as SVG.

The fallback picture for frontends without the plait lab extension, and for
static HTML exports. Layers come from the longest path from the workflow's
inputs; nodes in a layer are ordered by the barycentre of their neighbours
(two sweeps), which keeps most edges short without any graph library.
Left to right: inputs, the nodes layer by layer, outputs.
"""

from __future__ import annotations

from html import escape
from typing import Any

NODE_W, NODE_H = 150, 34
GAP_X, GAP_Y = 54, 14
PAD = 12
_FILL = {
    "task": "#e3f0fb", "dynamic": "#e5f5e0", "workflow": "#ece6f7", "launch_plan": "#f9e3ef",
    "map": "#fdebd3", "branch": "#fff6cc", "input": "#f2f2f2", "output": "#f2f2f2",
}
_STROKE = {
    "task": "#3b7dc4", "dynamic": "#3f9a3a", "workflow": "#7b5cc4", "launch_plan": "#c2457f",
    "map": "#d9831f", "branch": "#b59a00", "input": "#888", "output": "#888",
}


def layers_of(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering (Kahn's order); nodes in cycles, if any, go last."""
    preds: dict[str, list[str]] = {i: [] for i in ids}
    succs: dict[str, list[str]] = {i: [] for i in ids}
    for s, t in edges:
        if s in preds and t in preds:
            succs[s].append(t)
            preds[t].append(s)
    indegree = {i: len(preds[i]) for i in ids}
    layer = {i: 0 for i in ids}
    ready = [i for i in ids if indegree[i] == 0]
    seen = 0
    while ready:
        n = ready.pop()
        seen += 1
        for t in succs[n]:
            layer[t] = max(layer[t], layer[n] + 1)
            indegree[t] -= 1
            if indegree[t] == 0:
                ready.append(t)
    if seen < len(ids):  # not a DAG: place leftovers after everything
        top = max(layer.values(), default=0) + 1
        for i in ids:
            if indegree[i] > 0:
                layer[i] = top
    return layer


def order_layers(layer: dict[str, int], edges: list[tuple[str, str]], ids: list[str]) -> list[list[str]]:
    """Nodes per layer, ordered to reduce crossings (barycentre, down then up)."""
    count = max(layer.values(), default=-1) + 1
    rows: list[list[str]] = [[] for _ in range(count)]
    for i in ids:  # definition order first
        rows[layer[i]].append(i)
    preds: dict[str, list[str]] = {i: [] for i in ids}
    succs: dict[str, list[str]] = {i: [] for i in ids}
    for s, t in edges:
        if s in preds and t in preds:
            succs[s].append(t)
            preds[t].append(s)

    pos = {n: k for r in rows for k, n in enumerate(r)}

    def sweep(order: range, neighbours: dict[str, list[str]]) -> None:
        for li in order:
            current = rows[li]

            def key(n: str) -> float:
                ns = neighbours[n]
                return sum(pos[m] for m in ns) / len(ns) if ns else float(pos[n])

            current.sort(key=key)
            for k, n in enumerate(current):
                pos[n] = k

    for _ in range(2):
        sweep(range(1, count), preds)
        sweep(range(count - 2, -1, -1), succs)
    return rows


def render(dag: dict[str, Any], max_nodes: int = 400) -> str:
    """The DAG as an SVG document (a string)."""
    nodes = dag["nodes"][:max_nodes]
    ids = [n["id"] for n in nodes]
    info = {n["id"]: n for n in nodes}
    edges = [(e["source"], e["target"]) for e in dag["edges"] if e["source"] in info and e["target"] in info]
    inputs, outputs = dag.get("inputs") or [], dag.get("outputs") or []
    # Pseudo nodes for the workflow's inputs and outputs, so the picture reads left to right.
    extra: list[tuple[str, str]] = []
    if inputs:
        info["@in"] = {"id": "@in", "label": ", ".join(i["name"] for i in inputs), "kind": "input"}
        ids.insert(0, "@in")
        fed = {n["id"] for n in nodes for i in n.get("inputs", ()) if "input" in i["source"]}
        extra += [("@in", n) for n in ids if n in fed]
    if outputs:
        info["@out"] = {"id": "@out", "label": ", ".join(o["name"] for o in outputs), "kind": "output"}
        ids.append("@out")
        extra += [(o["source"]["node"], "@out") for o in outputs if o["source"].get("node") in info]
    all_edges = edges + extra
    layer = layers_of(ids, all_edges)
    if "@out" in layer and len(ids) > 1:  # outputs always in the last column
        layer["@out"] = max(v for k, v in layer.items() if k != "@out") + 1
    rows = order_layers(layer, all_edges, ids)
    tallest = max((len(r) for r in rows), default=1)
    height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y
    width = PAD * 2 + len(rows) * NODE_W + (len(rows) - 1) * GAP_X
    xy: dict[str, tuple[float, float]] = {}
    for li, row in enumerate(rows):
        column_h = len(row) * NODE_H + (len(row) - 1) * GAP_Y
        top = (height - column_h) / 2
        for k, n in enumerate(row):
            xy[n] = (PAD + li * (NODE_W + GAP_X), top + k * (NODE_H + GAP_Y))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plait-dag" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        'style="max-width:100%;height:auto;font-family:sans-serif;font-size:12px">',
        f"<title>{escape(dag.get('kind', ''))} {escape(dag.get('label', ''))}</title>",
        '<defs><marker id="plait-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#999"/></marker></defs>',
    ]
    order_edges = {(e["source"], e["target"]) for e in dag["edges"] if e["kind"] == "order"}
    for s, t in all_edges:
        (x1, y1), (x2, y2) = xy[s], xy[t]
        x1, y1, x2, y2 = x1 + NODE_W, y1 + NODE_H / 2, x2, y2 + NODE_H / 2
        mid = (x1 + x2) / 2
        dash = ' stroke-dasharray="4 3"' if (s, t) in order_edges else ""
        out.append(
            f'<path d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" '
            f'fill="none" stroke="#999" stroke-width="1.2"{dash} marker-end="url(#plait-arrow)"/>'
        )
    for n in ids:
        node = info[n]
        x, y = xy[n]
        kind = node.get("kind", "task")
        fill, stroke = _FILL.get(kind, "#eee"), _STROKE.get(kind, "#777")
        nested = "graph" in node or "cases" in node
        label = node.get("label", n)
        if nested:
            size = len(node["graph"]["nodes"]) if "graph" in node else len(node["cases"])
            label = f"{label} ({size} {'nodes' if 'graph' in node else 'cases'})"
        shown = label if len(label) <= 21 else label[:20] + "…"
        tip = f"{node.get('entity', label)} ({kind})" if kind not in ("input", "output") else f"{kind}s: {label}"
        rx = 17 if kind in ("input", "output") else 6
        out.append(f'<g class="plait-node" data-id="{escape(n)}" data-kind="{escape(kind)}">')
        out.append(f"<title>{escape(tip)}</title>")
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="{rx}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{2.5 if nested else 1.2}"/>'
        )
        out.append(
            f'<text x="{x + NODE_W / 2:.1f}" y="{y + NODE_H / 2 + 4:.1f}" text-anchor="middle" '
            f'fill="#222">{escape(shown)}</text>'
        )
        out.append("</g>")
    if len(dag["nodes"]) > max_nodes:
        out.append(f'<text x="{PAD}" y="{height - 2:.0f}" fill="#a00">'
                   f"{len(dag['nodes']) - max_nodes} more nodes not drawn</text>")
    out.append("</svg>")
    return "\n".join(out)
