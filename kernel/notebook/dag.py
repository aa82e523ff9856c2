"""The DAG bundle of a compiled entity: what `%plait dag` sends to frontends.

The bundle's shape is `plait.model.dag`'s. Built from the compiled graph, it
shows what the spec does not keep (an enum literal by name, the type of a
branch output read through a field); the backend builds the same bundle from
registered specs with `plait.model.dag.dag_from_spec`, and
`tests/model/test_dag_from_spec.py` keeps the two equal on every example.
No IPython needed.
"""

from __future__ import annotations

from typing import Any

from ..model.dag import MAX_DEPTH, short_name
from ..sdk.compiler import DictOf, ListOf, Lit, Ref
from ..typesys import describe


def dag_of(entity: Any) -> dict[str, Any]:
    """The DAG of a workflow, launch plan or task (a single node)."""
    kind = entity.kind
    if kind == "launch_plan" and hasattr(entity, "workflow"):  # a reference plan has no graph here
        inner = dag_of(entity.workflow)
        return {**inner, "kind": "launch_plan", "name": entity.name, "label": short_name(entity.name),
                "workflow": entity.workflow.name}
    if kind == "workflow":
        graph = entity.compile()
        return {"version": 1, "name": entity.name, "label": short_name(entity.name), "kind": kind,
                **_graph(graph.nodes, graph.outputs, entity.interface, "", 0)}
    # A task (or map/dynamic entity) on its own: one node fed by its inputs.
    node = {"id": "n0", "path": "", "label": short_name(entity.name), "entity": entity.name, "kind": kind,
            "inputs": [{"name": n, "type": describe(p.type), "source": {"input": n}}
                       for n, p in entity.interface.inputs.items()],
            "outputs": [{"name": n, "type": describe(t)} for n, t in entity.interface.outputs.items()]}
    return {"version": 1, "name": entity.name, "label": short_name(entity.name), "kind": kind,
            "inputs": _params(entity.interface), "nodes": [node], "edges": [],
            "outputs": [{"name": n, "type": describe(t), "source": {"node": "n0", "output": n}}
                        for n, t in entity.interface.outputs.items()]}


def _params(interface: Any) -> list[dict[str, Any]]:
    return [{"name": n, "type": describe(p.type)} for n, p in interface.inputs.items()]


def _source(binding: Any) -> dict[str, Any]:
    cls = binding.__class__
    if cls is Ref:
        src: dict[str, Any] = (
            {"input": binding.output} if binding.node_id is None
            else {"node": binding.node_id, "output": binding.output}
        )
        if binding.path:
            src["path"] = [str(p) for p in binding.path]
        return src
    if cls is Lit:
        text = repr(binding.value)
        return {"literal": text if len(text) <= 40 else text[:37] + "..."}
    if cls in (ListOf, DictOf):
        items = binding.items if cls is ListOf else [b for _, b in binding.items]
        return {"collection": [_source(b) for b in items]}
    return {"literal": "?"}


def _refs(binding: Any) -> list[Ref]:
    cls = binding.__class__
    if cls is Ref:
        return [binding]
    if cls is ListOf:
        return [r for b in binding.items for r in _refs(b)]
    if cls is DictOf:
        return [r for _, b in binding.items for r in _refs(b)]
    return []


def _graph(graph_nodes: list[Any], graph_outputs: dict[str, Any], interface: Any, prefix: str,
           depth: int) -> dict[str, Any]:
    nodes = [_node(n, prefix, depth) for n in graph_nodes]
    known = {n.id for n in graph_nodes}
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    for n in graph_nodes:
        for name, b in n.bindings.items():
            for ref in _refs(b):
                if ref.node_id is None or ref.node_id not in known:
                    continue
                edge = edges.setdefault((ref.node_id, n.id), {"source": ref.node_id, "target": n.id,
                                                              "kind": "data", "labels": []})
                edge["labels"].append(f"{ref.output} → {name}")
        # A branch reads its inputs inside its cases, so its upstream nodes feed it data.
        kind = "data" if n.entity.kind == "branch" else "order"
        for up in sorted(set(n.upstream)):  # in the spec's order, so that dag_from_spec agrees
            if up in known and (up, n.id) not in edges:
                edges[(up, n.id)] = {"source": up, "target": n.id, "kind": kind, "labels": []}
    outputs = []
    for name, b in graph_outputs.items():
        tp = interface.outputs.get(name)
        outputs.append({"name": name, "type": describe(tp) if tp is not None else "?", "source": _source(b)})
    return {
        "inputs": _params(interface),
        "outputs": outputs,
        "nodes": nodes,
        "edges": [{"source": e["source"], "target": e["target"], "kind": e["kind"],
                   "label": ", ".join(e["labels"])} for e in edges.values()],
    }


def _node(node: Any, prefix: str, depth: int) -> dict[str, Any]:
    entity = node.entity
    kind = entity.kind
    types = entity.interface.input_types
    out: dict[str, Any] = {
        "id": node.id,
        "path": f"{prefix}{node.id}",
        "label": short_name(node.entity_name),
        "entity": entity.name,
        "kind": kind,
        "inputs": [{"name": k, "type": describe(types.get(k)) if k in types else "?", "source": _source(b)}
                   for k, b in node.bindings.items()],
        "outputs": [{"name": k, "type": describe(t)} for k, t in entity.interface.outputs.items()],
    }
    if node.overrides:
        out["overrides"] = sorted(node.overrides)
    path = f"{prefix}{node.id}-"
    if kind == "workflow" and depth < MAX_DEPTH:
        g = entity.compile()
        out["graph"] = {"name": entity.name, **_graph(g.nodes, g.outputs, entity.interface, path, depth + 1)}
    elif kind == "launch_plan" and depth < MAX_DEPTH and hasattr(entity, "workflow"):
        wf = entity.workflow
        g = wf.compile()
        out["graph"] = {"name": wf.name, **_graph(g.nodes, g.outputs, wf.interface, path, depth + 1)}
    elif kind == "map":
        out["label"] = f"map({short_name(entity.target.name)})"
        out["target"] = entity.target.name
    elif kind == "branch" and depth < MAX_DEPTH:
        from ..sdk.interface import Interface

        cases = []
        for case in entity.cases:
            cond = case.condition
            cases.append({
                "condition": None if cond is None else _condition_text(cond),
                "fail": case.fail_message,
                # case nodes run beside the branch node, so they share its prefix
                "graph": _graph(list(case.builder.nodes), case.outputs, Interface({}, {}), prefix, depth + 1),
            })
        out["cases"] = cases
    return out


def _condition_text(cond: Any) -> str:
    left, right, op = getattr(cond, "left", None), getattr(cond, "right", None), getattr(cond, "op", "?")
    if left is None:
        return str(cond)

    def side(v: Any) -> str:
        if hasattr(v, "op"):
            return f"({_condition_text(v)})"
        if hasattr(v, "source"):
            return str(v.source)
        return repr(v)

    return f"{side(left)} {op} {side(right)}"
