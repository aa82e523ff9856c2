"""Re-runs and skipped nodes, as a launch sees them: checked before anything is stored.

`rerun_plan` turns a `RerunRequest` on an ended execution into the new
execution's version, inputs and `rerun_of` setting (the executor's rules are in
backend/execution/reruns.py); `skip_outputs` checks the outputs a launch gives
for the nodes it skips. Every refusal is an `InvalidField` (422) that names the
node and what is wrong with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plait.model import LaunchPlanSpec, TaskSpec, WorkflowSpec, parse_spec
from plait.model.literals import describe_type, validate_literal
from plait.model.specs import NodeSpec
from plait.model.vocab import ENDED, stored_kind

from ..execution.values import literal_ref
from ..store import queries
from ..store.errors import Conflict, NotFound
from .errors import InvalidField

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..store.records import EntityRecord, ExecutionRecord, NodeRecord
    from . import schemas as S

GRAPH_KINDS = ("task", "dynamic", "workflow", "launch_plan")
"""The node kinds whose entity a version change could change (maps and branches are compared as nodes)."""


@dataclass(frozen=True)
class RerunPlan:
    version: str
    inputs: dict[str, Any]
    rerun_of: dict[str, Any]

    def forces(self, path: str) -> bool:
        """Whether the node at `path` is chosen, or inside a chosen node."""
        return any(path == c or path.startswith(f"{c}-") for c in self.rerun_of["from_nodes"])


def _entity(s: Session, kind: str, project: str, domain: str, name: str, version: str) -> EntityRecord:
    """An entity at `version`, else its newest version: the one the executor runs."""
    try:
        return queries.get_entity(s, stored_kind(kind), project, domain, name, version)
    except NotFound:
        return queries.get_entity(s, stored_kind(kind), project, domain, name, None)


def _workflow(s: Session, record: ExecutionRecord, version: str) -> tuple[EntityRecord, WorkflowSpec | None]:
    """The entity an execution runs at `version` and, for a workflow, its spec."""
    target = queries.get_entity(s, record.entity_kind, record.project, record.domain, record.entity_name, version)
    spec = parse_spec(target.spec)
    return target, spec if isinstance(spec, WorkflowSpec) else None


def _reads_input(binding: Any, names: set[str]) -> bool:
    """Whether a node's binding reads one of the workflow inputs `names`."""
    if isinstance(binding, dict):
        ref = binding.get("ref")
        if isinstance(ref, dict) and ref.get("node") is None and ref.get("output") in names:
            return True
        return any(_reads_input(v, names) for v in binding.values())
    if isinstance(binding, list):
        return any(_reads_input(v, names) for v in binding)
    return False


def _runs_again(spec: WorkflowSpec, chosen: list[str], inputs: set[str]) -> set[str]:
    """Ids of the workflow's nodes that run again: chosen, containing a chosen node,
    reading an overridden input, or downstream of one of these."""
    top = {c.split("-", 1)[0] for c in chosen}
    again = {n.id for n in spec.nodes if n.id in top or _reads_input(n.inputs, inputs)}
    grew = True
    while grew:
        grew = False
        for n in spec.nodes:
            if n.id not in again and any(u in again for u in n.upstream):
                again.add(n.id)
                grew = True
    return again


def _comparable(spec: dict[str, Any]) -> dict[str, Any]:
    """A stored spec as a re-run compares versions of it: without its version, and without the
    digest of the bundle its code came in when the code has a source hash of its own (another
    function of the same file changing does not change this one)."""
    out = {k: v for k, v in spec.items() if k != "version"}
    code = out.get("code")
    if isinstance(code, dict) and code.get("source_hash"):
        out["code"] = {k: v for k, v in code.items() if k != "bundle"}
    return out


def _check_version(s: Session, old: ExecutionRecord, version: str, chosen: list[str], inputs: set[str]) -> None:
    """Refuse a re-run of `version` whose interface, or the spec of a node it would reuse, is not
    the original version's (a 422 that names the node)."""
    if version == old.entity_version:
        return
    before, old_wf = _workflow(s, old, old.entity_version)
    try:
        after, new_wf = _workflow(s, old, version)
    except NotFound:
        raise InvalidField(f"{old.entity_kind} `{old.entity_name}` has no version `{version}`; register it "
                           "first, or leave `version` out to re-run the original's", field="version") from None
    if before.spec.get("interface") != after.spec.get("interface"):
        raise InvalidField(f"{old.entity_kind} `{old.entity_name}` version `{version}` has another interface "
                           f"than version `{old.entity_version}` that ran; launch it instead of re-running",
                           field="version")
    if old_wf is None or new_wf is None:
        if _comparable(before.spec) != _comparable(after.spec):
            raise InvalidField(f"task `{old.entity_name}` changed in version `{version}`: there is nothing "
                               "to reuse; launch it instead", field="version")
        return
    _check_graph(s, old, version, old_wf, new_wf, chosen, inputs, "")


def _check_graph(s: Session, old: ExecutionRecord, version: str, old_wf: WorkflowSpec, new_wf: WorkflowSpec,
                 chosen: list[str], inputs: set[str], prefix: str) -> None:
    """Refuse if a node of this graph that the re-run would reuse changed; a subworkflow that
    contains a chosen node opens again, so its inside is compared the same way."""
    again = _runs_again(old_wf, chosen, inputs)
    new_nodes = {n.id: n for n in new_wf.nodes}
    for node in old_wf.nodes:
        path, new = f"{prefix}{node.id}", new_nodes.get(node.id)
        inner = [c[len(node.id) + 1:] for c in chosen if c.startswith(f"{node.id}-")]
        if inner and node.kind == "workflow" and new is not None and new.to_dict() == node.to_dict():
            try:
                a = parse_spec(_entity(s, "workflow", old.project, old.domain, node.entity, old.entity_version).spec)
                b = parse_spec(_entity(s, "workflow", old.project, old.domain, node.entity, version).spec)
            except NotFound:
                continue
            if isinstance(a, WorkflowSpec) and isinstance(b, WorkflowSpec):
                _check_graph(s, old, version, a, b, inner, set(), f"{path}-")
            continue
        if node.id in again:
            continue
        changed = _node_change(s, old, node, new, version)
        if changed:
            raise InvalidField(f"node `{path}` ({node.entity}) would be reused, but {changed} in version "
                               f"`{version}`; choose it in `from_nodes` to run it again, or re-run version "
                               f"`{old.entity_version}`", field="version")


def _node_change(s: Session, old: ExecutionRecord, node: NodeSpec, new: NodeSpec | None, version: str) -> str | None:
    """What changed of a node between the original version and `version`, or None."""
    if new is None:
        return "it is gone"
    if new.to_dict() != node.to_dict():
        return "its node spec (inputs, overrides or target) changed"
    names = [(node.kind, node.entity)] if node.kind in GRAPH_KINDS else []
    if node.map is not None:
        names.append((node.map.target_kind, node.map.target))
    for kind, name in names:
        try:
            a = _entity(s, kind, old.project, old.domain, name, old.entity_version)
            b = _entity(s, kind, old.project, old.domain, name, version)
        except NotFound:
            continue  # not registered (a reference elsewhere, a dynamic's own): nothing to compare
        if _comparable(a.spec) != _comparable(b.spec):
            return f"its {stored_kind(kind)} `{name}` changed (version `{a.version}` -> `{b.version}`)"
    return None


def _typed(s: Session, old: ExecutionRecord, node: NodeRecord) -> dict[str, Any]:
    """A node's input types by name (empty when its entity cannot be found)."""
    if not node.kind or not node.entity_name or node.kind not in GRAPH_KINDS:
        return {}
    try:
        spec = parse_spec(_entity(s, node.kind, old.project, old.domain, node.entity_name, old.entity_version).spec)
    except NotFound:
        return {}
    interface = getattr(spec, "interface", None)
    return {i.name: i.type for i in interface.inputs} if interface is not None else {}


def _node_inputs(s: Session, old: ExecutionRecord, nodes: dict[str, NodeRecord], chosen: list[str],
                 given: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path, values in given.items():
        if path not in chosen:
            raise InvalidField(f"`node_inputs` gives inputs to node `{path}`, which is not in `from_nodes` "
                               f"({', '.join(chosen)}); choose it too", field=f"node_inputs.{path}")
        node = nodes.get(path)
        if node is None:
            raise InvalidField(f"node `{path}` did not run in execution `{old.id}`; its inputs are not known, so "
                               "they cannot be overridden", field=f"node_inputs.{path}")
        types = _typed(s, old, node)
        names = list(types) or list(node.inputs or {})
        refs = {}
        for name, value in values.items():
            if name not in names:
                raise InvalidField(f"node `{path}` ({node.entity_name}) has no input `{name}`; its inputs: "
                                   f"{', '.join(names) or 'none'}", field=f"node_inputs.{path}.{name}")
            problem = validate_literal(types[name], value) if name in types else None
            if problem is not None:
                raise InvalidField(f"input `{name}` of node `{path}` ({node.entity_name}) expects "
                                   f"{describe_type(types[name])}: {problem}", field=f"node_inputs.{path}.{name}")
            refs[name] = literal_ref(value, types.get(name))
        out[path] = refs
    return out


def _inputs(s: Session, old: ExecutionRecord, version: str, given: dict[str, Any]) -> dict[str, Any]:
    """The original's inputs with the workflow inputs the re-run gives instead."""
    if not given:
        return dict(old.inputs)
    target = queries.get_entity(s, old.entity_kind, old.project, old.domain, old.entity_name, version)
    declared = {i.name: i.type for i in parse_spec(target.spec).interface.inputs}
    fixed: dict[str, Any] = {}
    if old.launch_plan_name and old.launch_plan_version:  # what the plan fixes stays fixed in its re-runs
        plan = queries.get_entity(s, "launch_plan", old.project, old.domain, old.launch_plan_name,
                                  old.launch_plan_version)
        spec = parse_spec(plan.spec)
        fixed = dict(spec.fixed_inputs) if isinstance(spec, LaunchPlanSpec) else {}
    out = dict(old.inputs)
    for name, value in given.items():
        if name not in declared:
            raise InvalidField(f"`{old.entity_name}` has no input `{name}`; its inputs: "
                               f"{', '.join(declared) or 'none'}", field=f"inputs.{name}")
        if name in fixed:
            raise InvalidField(f"input `{name}` is fixed to {fixed[name]!r} by launch plan "
                               f"`{old.launch_plan_name}` and cannot be overridden in its re-runs; leave it out, "
                               "or launch the workflow or another launch plan", field=f"inputs.{name}")
        problem = validate_literal(declared[name], value)
        if problem is not None:
            raise InvalidField(f"input `{name}` of `{old.entity_name}` expects {describe_type(declared[name])}: "
                               f"{problem}", field=f"inputs.{name}")
        out[name] = literal_ref(value, declared[name])
    return out


def rerun_plan(s: Session, old: ExecutionRecord, body: S.RerunRequest) -> RerunPlan:
    """What a re-run of `old` runs, or a refusal: 409 while `old` runs, 422 for an unknown
    node path, an input the entity or node does not have, or a changed spec of `version`."""
    if old.phase not in ENDED:
        raise Conflict(f"execution `{old.id}` is {old.phase}; re-run it once it has ended (or abort it first)",
                       kind="execution", name=old.id)
    nodes = {n.path: n for n in queries.list_nodes(s, old.id)}
    chosen = list(dict.fromkeys(body.from_nodes))
    if not chosen and not body.map_items:
        raise InvalidField("choose at least one node to run again in `from_nodes` (or items in `map_items`)",
                           field="from_nodes")
    _, workflow = _workflow(s, old, old.entity_version)
    planned = {n.id for n in workflow.nodes} if workflow is not None else set()  # a failure may leave some unrecorded
    for path in chosen:
        if path not in nodes and path not in planned:
            known = ", ".join(sorted(set(nodes) | planned)) or "none"
            raise InvalidField(f"execution `{old.id}` has no node `{path}`; its nodes: {known}", field="from_nodes")
    for path in body.map_items:
        if path not in nodes:
            known = ", ".join(p for p, n in sorted(nodes.items()) if n.kind == "map") or "none"
            raise InvalidField(f"execution `{old.id}` has no map node `{path}` that ran; its map nodes: {known}",
                               field=f"map_items.{path}")
        if nodes[path].kind != "map":
            raise InvalidField(f"`map_items` names node `{path}`, which is a {nodes[path].kind}, not a map",
                               field=f"map_items.{path}")
    version = body.version or old.entity_version
    _check_version(s, old, version, chosen, set(body.inputs))
    rerun_of: dict[str, Any] = {"execution_id": old.id, "from_nodes": chosen,
                                "node_inputs": _node_inputs(s, old, nodes, chosen, body.node_inputs),
                                "map_items": dict(body.map_items)}
    return RerunPlan(version, _inputs(s, old, version, body.inputs), rerun_of)


# ------------------------------------------------------------------ skip


def _node_at(s: Session, spec: WorkflowSpec, path: str, project: str, domain: str, version: str) -> NodeSpec | None:
    """The node at `path` (`n2-n1`: node n1 of subworkflow n2), or None."""
    head, _, rest = path.partition("-")
    node = next((n for n in spec.nodes if n.id == head), None)
    if node is None or not rest:
        return node
    if node.kind != "workflow":
        return None
    try:
        inner = parse_spec(_entity(s, "workflow", project, domain, node.entity, version).spec)
    except NotFound:
        return None
    return _node_at(s, inner, rest, project, domain, version) if isinstance(inner, WorkflowSpec) else None


def _paths(spec: WorkflowSpec) -> list[str]:
    return [n.id for n in spec.nodes]


def skip_outputs(s: Session, target: EntityRecord, skip: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The outputs (value refs) of the nodes a launch skips, checked against each node's output types."""
    if not skip:
        return {}
    spec = parse_spec(target.spec)
    if not isinstance(spec, WorkflowSpec):
        raise InvalidField(f"`settings.skip` skips nodes of a workflow; `{target.name}` is a {target.kind}",
                           field="settings.skip")
    out: dict[str, dict[str, Any]] = {}
    for path, given in skip.items():
        field = f"settings.skip.{path}"
        node = _node_at(s, spec, path, target.project, target.domain, target.version)
        if node is None:
            raise InvalidField(f"workflow `{target.name}` has no node `{path}`; its nodes: "
                               f"{', '.join(_paths(spec)) or 'none'}", field=field)
        if node.kind not in ("task", "workflow", "launch_plan"):
            raise InvalidField(f"node `{path}` is a {node.kind} node; only task, subworkflow and launch plan "
                               "nodes can be skipped", field=field)
        try:
            entity = parse_spec(_entity(s, node.kind, target.project, target.domain, node.entity, target.version).spec)
        except NotFound:
            raise InvalidField(f"node `{path}` runs `{node.entity}`, which is not registered here; it cannot be "
                               "skipped", field=field) from None
        if not isinstance(entity, (TaskSpec, WorkflowSpec, LaunchPlanSpec)):
            raise InvalidField(f"node `{path}` cannot be skipped", field=field)
        types = dict(entity.interface.outputs)
        missing = [n for n in types if n not in given]
        extra = [n for n in given if n not in types]
        if missing or extra:
            wanted = ", ".join(f"{n}: {describe_type(t)}" for n, t in types.items()) or "none"
            what = f"misses output `{missing[0]}`" if missing else f"gives output `{extra[0]}` it does not have"
            raise InvalidField(f"skipping node `{path}` ({node.entity}) {what}; give each of its outputs: {wanted}",
                               field=field)
        refs = {}
        for name, value in given.items():
            problem = validate_literal(types[name], value)
            if problem is not None:
                raise InvalidField(f"output `{name}` of skipped node `{path}` ({node.entity}) expects "
                                   f"{describe_type(types[name])}: {problem}", field=f"{field}.{name}")
            refs[name] = literal_ref(value, types[name])
        out[path] = refs
    return out
