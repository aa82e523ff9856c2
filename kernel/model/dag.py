"""The DAG bundle: what `%plait dag`, the backend's DAG routes and the lab extension draw.

Media type `application/vnd.plait.dag+json` (`plait.model.vocab.DAG_MIME`),
shape (version 1)::

    {"version": 1, "name": "__main__.wf", "label": "wf", "kind": "workflow",
     "inputs":  [{"name": "a", "type": "int"}],
     "outputs": [{"name": "o0", "type": "int", "source": {"node": "n1", "output": "o0"}}],
     "nodes": [{"id": "n0", "path": "n0", "label": "add", "entity": "__main__.add",
                "kind": "task", "inputs": [{"name": "x", "type": "int",
                                            "source": {"input": "a"}}],
                "outputs": [{"name": "o0", "type": "int"}],
                "graph": {...}            # workflow / launch_plan: the nested DAG
                "cases": [{"condition": "...", "graph": {...}}],   # branch
                "target": "add"}],        # map: the mapped task
     "edges": [{"source": "n0", "target": "n1", "kind": "data", "label": "o0 → x"}]}

`path` is the node's id in execution records (`n2-n0` inside subworkflow
`n2`), so a frontend can colour the DAG from a run. `dag_from_spec` builds it
from registered specs (the backend's `GET /api/v1/{kind}/{name}/dag`);
`plait.notebook.dag.dag_of` builds the same bundle from a compiled workflow,
which knows a little more (see `dag_from_spec`). Only the standard library
is used here.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from .literals import describe_type
from .vocab import DAG_MIME as MIME
from .vocab import stored_kind

__all__ = ["MAX_DEPTH", "MIME", "Resolve", "count_nodes", "dag_from_spec", "short_name", "text_of"]

MAX_DEPTH = 8  # nested subworkflows shown; deeper ones are summarised


def short_name(name: str) -> str:
    """`pkg.module.fn` -> `fn`: a node's label."""
    return name.rsplit(".", 1)[-1]

Resolve = Callable[[str, str, str | None], dict[str, Any] | None]
"""`resolve(kind, name, version)`: the spec of a registered entity, or None when unknown.

`kind` is task, workflow or launch_plan (the backend's kinds: a dynamic task
is a task); `version` is the version the DAG's own entity was registered
with, which the backend tries first before the newest (as its executor does).
"""

_NO_INTERFACE: dict[str, Any] = {"inputs": {}, "outputs": {}}
_TAGGED: dict[str, Callable[[Any], Any]] = {  # the tagged literals of plait.typesys.to_literal
    "__datetime__": _dt.datetime.fromisoformat,
    "__date__": _dt.date.fromisoformat,
    "__duration__": lambda seconds: _dt.timedelta(seconds=seconds),
    "__bytes__": bytes.fromhex,
}


def dag_from_spec(spec: dict[str, Any], resolve: Resolve, *, version: str | None = None) -> dict[str, Any]:
    """The DAG of a registered spec: what `dag_of` gives for the entity the spec was written from.

    Node specs name their entities; `resolve` supplies the specs of those
    (tasks for types, subworkflows and launch plans for nested graphs, the
    mapped task for a map's interface), at most `MAX_DEPTH` levels deep.
    `version` (default: the spec's own) is passed to every `resolve` call.
    An entity `resolve` does not know shows as a node with `?` types and no
    nested graph.

    Where the spec keeps less than the compiled graph, the bundle says less:
    literal inputs are shown from their JSON form (a value that had none shows
    as `<TypeName>`; an enum as its value), a branch output read through a
    field access has type `?`, and a map with `min_successes` but a
    `min_success_ratio` of 1 shows non-optional item outputs.
    """
    return _FromSpec(resolve, spec.get("version") if version is None else version).dag(spec)


class _FromSpec:
    """One DAG built from specs; each referenced entity is resolved once."""

    def __init__(self, resolve: Resolve, version: str | None) -> None:
        self._resolve = resolve
        self._version = version
        self._specs: dict[tuple[str, str], dict[str, Any] | None] = {}

    def entity(self, kind: str, name: str) -> dict[str, Any] | None:
        if kind in ("map", "branch", "gate"):  # not registered: their nodes say it all
            return None
        key = (stored_kind(kind), name)
        if key not in self._specs:
            self._specs[key] = self._resolve(key[0], name, self._version)
        return self._specs[key]

    def dag(self, spec: dict[str, Any]) -> dict[str, Any]:
        kind, name = spec["kind"], spec["name"]
        head = {"version": 1, "name": name, "label": short_name(name), "kind": kind}
        if kind == "workflow":
            return {**head, **self.graph(spec["nodes"], spec["outputs"], spec["interface"], "", 0, {})}
        workflow = spec.get("workflow") if kind == "launch_plan" else None
        wf = self.entity("workflow", workflow) if workflow else None
        if wf is not None:  # a reference plan (no `workflow`) is drawn as one node, as dag_of does
            return {**self.dag(wf), "kind": kind, "name": name, "label": short_name(name), "workflow": workflow}
        # A task (or a plan without its workflow) on its own: one node fed by its inputs.
        inputs, outputs = _types(spec["interface"])
        node = {"id": "n0", "path": "", "label": short_name(name), "entity": name, "kind": kind,
                "inputs": [{"name": n, "type": describe_type(t), "source": {"input": n}} for n, t in inputs.items()],
                "outputs": [{"name": n, "type": describe_type(t)} for n, t in outputs.items()]}
        return {**head, "inputs": _spec_params(spec["interface"]), "nodes": [node], "edges": [],
                "outputs": [{"name": n, "type": describe_type(t), "source": {"node": "n0", "output": n}}
                            for n, t in outputs.items()]}

    def graph(self, nodes: list[dict[str, Any]], outputs: dict[str, Any], interface: dict[str, Any],
              prefix: str, depth: int, outer: dict[str, dict[str, Any]]) -> dict[str, Any]:
        # `scope`: every node a binding or condition here may name (a case reads its parent's nodes).
        scope = {**outer, **{n["id"]: n for n in nodes}}
        known = {n["id"] for n in nodes}
        edges: dict[tuple[str, str], dict[str, Any]] = {}
        for n in nodes:
            for name, b in n["inputs"].items():
                for ref in _spec_refs(b):
                    source = ref.get("node")
                    if source is None or source not in known:
                        continue
                    edge = edges.setdefault((source, n["id"]), {"source": source, "target": n["id"],
                                                                "kind": "data", "labels": []})
                    edge["labels"].append(f"{ref.get('output', '?')} → {name}")
            kind = "data" if n["kind"] == "branch" else "order"
            for up in n.get("upstream") or ():
                if up in known and (up, n["id"]) not in edges:
                    edges[(up, n["id"])] = {"source": up, "target": n["id"], "kind": kind, "labels": []}
        types = interface["outputs"]
        return {
            "inputs": _spec_params(interface),
            "outputs": [{"name": k, "type": describe_type(types[k]) if k in types else "?",
                         "source": _spec_source(b, types.get(k))} for k, b in outputs.items()],
            "nodes": [self.node(n, prefix, depth, scope) for n in nodes],
            "edges": [{"source": e["source"], "target": e["target"], "kind": e["kind"],
                       "label": ", ".join(e["labels"])} for e in edges.values()],
        }

    def node(self, n: dict[str, Any], prefix: str, depth: int, scope: dict[str, dict[str, Any]]) -> dict[str, Any]:
        kind, name = n["kind"], n["entity"]
        overrides = n.get("overrides") or {}
        known = self.interface(n, scope)
        inputs, outputs = known if known is not None else ({}, {})
        out: dict[str, Any] = {
            "id": n["id"],
            "path": f"{prefix}{n['id']}",
            "label": short_name(_node_name(n)),
            "entity": name,
            "kind": kind,
            "inputs": [{"name": k, "type": describe_type(inputs[k]) if k in inputs else "?",
                        "source": _spec_source(b, inputs.get(k))} for k, b in n["inputs"].items()],
            "outputs": [{"name": k, "type": describe_type(t)} for k, t in outputs.items()],
        }
        if overrides:
            out["overrides"] = sorted(overrides)
        path = f"{prefix}{n['id']}-"
        wf: dict[str, Any] | None = None
        if kind == "workflow" and depth < MAX_DEPTH:
            wf = self.entity("workflow", name)
        elif kind == "launch_plan" and depth < MAX_DEPTH:
            plan = self.entity("launch_plan", name)
            workflow = plan.get("workflow") if plan is not None else None
            wf = self.entity("workflow", workflow) if workflow else None
        elif kind == "map":
            target = str((n.get("map") or {}).get("target", name))
            out["label"] = f"map({short_name(target)})"
            out["target"] = target
        elif kind == "branch" and depth < MAX_DEPTH:
            out["cases"] = [
                {"condition": None if case.get("condition") is None else _spec_condition(case["condition"], scope),
                 "fail": case.get("fail"),
                 # case nodes run beside the branch node, so they share its prefix
                 "graph": self.graph(case.get("nodes") or [], case.get("outputs") or {}, _NO_INTERFACE,
                                     prefix, depth + 1, scope)}
                for case in _cases(n)
            ]
        if wf is not None:
            out["graph"] = {"name": wf["name"], **self.graph(wf["nodes"], wf["outputs"], wf["interface"],
                                                             path, depth + 1, {})}
        return out

    def interface(self, n: dict[str, Any], scope: dict[str, dict[str, Any]]
                  ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(input types, output types) of the entity a node calls; None when it is unknown."""
        kind = n["kind"]
        if kind == "branch":  # its outputs are those of the first case that does not fail
            for case in _cases(n):
                if "fail" in case:
                    continue
                inner = {**scope, **{c["id"]: c for c in case.get("nodes") or []}}
                return {}, {k: self.output_type(b, inner) for k, b in (case.get("outputs") or {}).items()}
            return {}, {}
        if kind == "map":  # MapTask's interface: lists of the target's, less what is bound
            info = n.get("map") or {}
            target = self.entity(str(info.get("target_kind", "task")), str(info.get("target")))
            if target is None:
                return None
            inputs, outputs = _types(target["interface"])
            values = info.get("bound_values") or {}
            bound = set(info.get("bound_inputs") or ())
            optional = float(info.get("min_success_ratio", 1.0)) < 1
            return (
                {k: t if k in bound else {"kind": "list", "of": t} for k, t in inputs.items() if k not in values},
                {k: {"kind": "list", "of": _optional(t) if optional else t} for k, t in outputs.items()},
            )
        spec = self.entity(kind, n["entity"])
        return _types(spec["interface"]) if spec is not None else None

    def output_type(self, binding: dict[str, Any], scope: dict[str, dict[str, Any]]) -> Any:
        ref = binding.get("ref") if isinstance(binding, dict) else None
        if not ref or ref.get("node") not in scope or ref.get("path"):
            return None
        known = self.interface(scope[ref["node"]], scope)
        return known[1].get(ref.get("output")) if known is not None else None


def _cases(n: dict[str, Any]) -> list[dict[str, Any]]:
    return list((n.get("branch") or {}).get("cases") or [])


def _types(interface: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return {n: e.get("type") for n, e in interface["inputs"].items()}, dict(interface["outputs"])


def _optional(tp: Any) -> Any:
    return tp if isinstance(tp, dict) and tp.get("kind") == "optional" else {"kind": "optional", "of": tp}


def _node_name(n: dict[str, Any]) -> str:
    return str((n.get("overrides") or {}).get("name") or n["entity"])


def _spec_params(interface: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": n, "type": describe_type(e.get("type"))} for n, e in interface["inputs"].items()]


def _spec_refs(binding: Any) -> list[dict[str, Any]]:
    if not isinstance(binding, dict):
        return []
    if "ref" in binding:
        return [binding["ref"]]
    if "list" in binding:
        return [r for b in binding["list"] for r in _spec_refs(b)]
    if "dict" in binding:
        return [r for b in binding["dict"].values() for r in _spec_refs(b)]
    return []


def _spec_source(binding: Any, tp: Any) -> dict[str, Any]:
    """`_source` of a binding spec (`{"ref"|"literal"|"list"|"dict": ...}`); `tp` its type spec."""
    if not isinstance(binding, dict):
        return {"literal": "?"}
    if "ref" in binding:
        ref = binding["ref"]
        output = ref.get("output", "?")
        src: dict[str, Any] = {"input": output} if ref.get("node") is None else {"node": ref["node"], "output": output}
        if ref.get("path"):
            src["path"] = [str(p) for p in ref["path"]]
        return src
    if "literal" in binding:
        text = _literal_text(binding["literal"], tp)
        return {"literal": text if len(text) <= 40 else text[:37] + "..."}
    if "list" in binding:
        item = tp.get("of") if isinstance(tp, dict) and tp.get("kind") == "list" else None
        return {"collection": [_spec_source(b, item) for b in binding["list"]]}
    if "dict" in binding:
        return {"collection": [_spec_source(b, None) for b in binding["dict"].values()]}
    return {"literal": "?"}


def _literal_text(lit: Any, tp: Any) -> str:
    """`repr` of the value a JSON literal of type spec `tp` stands for, as far as the spec tells."""
    tp = tp if isinstance(tp, dict) else {}
    kind = tp.get("kind")
    if kind == "optional" and lit is not None:
        return _literal_text(lit, tp.get("of"))
    if isinstance(lit, list):
        if kind == "tuple":
            items = list(tp.get("items") or [])
            parts = [_literal_text(v, items[i] if i < len(items) else None) for i, v in enumerate(lit)]
            return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
        of = tp.get("of") if kind == "list" else None
        return f"[{', '.join(_literal_text(v, of) for v in lit)}]"
    if isinstance(lit, dict):
        if len(lit) == 1:
            (tag, value), = lit.items()
            if tag in _TAGGED:
                try:
                    return repr(_TAGGED[tag](value))
                except (TypeError, ValueError):
                    return repr(lit)
            if tag == "__unrepresentable__":
                return f"<{value}>"
        if kind == "dataclass":
            fields = tp.get("fields") or {}
            args = ", ".join(f"{k}={_literal_text(lit.get(k), fields.get(k))}" for k in fields)
            return f"{short_name(str(tp.get('name', '')))}({args})"
        key_tp = tp.get("key") if kind == "dict" else None
        value_tp = tp.get("value") if kind == "dict" else None
        as_int = isinstance(key_tp, dict) and key_tp.get("kind") == "integer"
        return "{" + ", ".join(f"{_key_text(k, as_int)}: {_literal_text(v, value_tp)}"
                               for k, v in lit.items()) + "}"
    return repr(lit)


def _key_text(key: str, as_int: bool) -> str:
    """A dict key of a literal (always a string there) as the original key's repr."""
    if as_int and key.lstrip("-").isdigit():
        return str(int(key))
    return repr(key)


def _spec_ref_text(ref: dict[str, Any], scope: dict[str, dict[str, Any]]) -> str:
    """`Promise.source` of a ref spec."""
    path = ref.get("path") or ()
    suffix = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in path)
    node, output = ref.get("node"), ref.get("output", "?")
    if node is None:
        return f"workflow input `{output}`{suffix}"
    name = _node_name(scope[node]) if node in scope else node
    return f"output `{output}`{suffix} of `{name}` (node {node})"


def _spec_condition(cond: dict[str, Any], scope: dict[str, dict[str, Any]]) -> str:
    """`_condition_text` of a condition spec."""

    def side(v: Any) -> str:
        if isinstance(v, dict) and "op" in v:
            return f"({_spec_condition(v, scope)})"
        if isinstance(v, dict) and "ref" in v:
            return _spec_ref_text(v["ref"], scope)
        return _literal_text(v.get("literal") if isinstance(v, dict) else v, None)

    return f"{side(cond.get('left'))} {cond.get('op', '?')} {side(cond.get('right'))}"


def count_nodes(dag: dict[str, Any]) -> int:
    """Nodes at the top level of a DAG (nested graphs not counted)."""
    return len(dag.get("nodes", ()))


def text_of(dag: dict[str, Any], limit: int = 30) -> str:
    """A short text rendering for frontends that show only text/plain."""
    lines = [f"{dag['kind']} {dag['label']}: {len(dag['nodes'])} node(s)"]
    ins = ", ".join(f"{i['name']}: {i['type']}" for i in dag.get("inputs", ()))
    if ins:
        lines.append(f"  inputs: {ins}")
    downstream: dict[str, list[str]] = {}
    for e in dag["edges"]:
        downstream.setdefault(e["source"], []).append(e["target"])
    for node in dag["nodes"][:limit]:
        after = downstream.get(node["id"])
        arrow = f" -> {', '.join(after)}" if after else ""
        extra = f" [{len(node['graph']['nodes'])} nodes]" if "graph" in node else ""
        lines.append(f"  {node['id']} {node['label']} ({node['kind']}){extra}{arrow}")
    if len(dag["nodes"]) > limit:
        lines.append(f"  ... {len(dag['nodes']) - limit} more")
    outs = ", ".join(f"{o['name']}: {o['type']}" for o in dag.get("outputs", ()))
    if outs:
        lines.append(f"  outputs: {outs}")
    return "\n".join(lines)
