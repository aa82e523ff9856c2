"""Nodes that run a graph of their own: subworkflows, conditionals and dynamic expansions.

Each opens a scope (scope.py) owned by the node; the node completes when that
scope closes. A subworkflow's scope is its workflow's graph; a conditional runs
the nodes of the first case whose condition holds, beside its own (same
prefix); a dynamic node's attempt answers the graph its body built, which runs
under `<node path>-`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from plait.errors import SpecError, UserError
from plait.model.specs import NodeSpec, Spec, WorkflowSpec, parse_spec

from . import values
from .scope import Scope

if TYPE_CHECKING:
    from .run import ExecutionRun


class GraphNodes:
    """The graph-running nodes of one run."""

    def __init__(self, run: ExecutionRun) -> None:
        self.run = run
        self.dyn_depth: dict[str, int] = {}  # path of a dynamic node -> how many dynamic levels deep

    def start_subworkflow(self, scope: Scope, path: str, node: NodeSpec, inputs: dict[str, Any]) -> None:
        """Run a subworkflow's graph; it sees the entities of the scope around it."""
        run = self.run
        spec = run.specs.for_node(scope, node.kind, node.entity, WorkflowSpec)
        run.record_node(path, "RUNNING")
        run.open_scope(Scope.of_workflow(spec, f"{path}-", inputs, path, entities=scope.entities))

    def start_branch(self, scope: Scope, path: str, node: NodeSpec) -> None:
        """Take the first case whose condition holds; its nodes run beside the branch node's
        (same prefix) and the other cases' are SKIPPED. No case taken: the node is SKIPPED."""
        run = self.run
        if node.branch is None:
            raise UserError(f"conditional `{node.entity}` has no cases")
        run.record_node(path, "RUNNING")
        cases = node.branch.cases
        chosen = next((c for c in cases if c.condition is None or values.condition_holds(c.condition, scope.lookup)),
                      None)
        for case in cases:
            if case is chosen:
                continue
            for n in case.nodes:
                p = scope.path(n.id)
                run.spec_of[p] = n
                run.record_node(p, "SKIPPED")
        if chosen is None:
            run.complete(path, {}, record=True, phase="SKIPPED")
            return
        if chosen.fail is not None:
            run.node_failed(path, {"kind": "USER", "type": "UserError",
                                   "message": f"conditional `{node.entity}` failed: {chosen.fail}"})
            return
        outputs = {k: v for k, v in chosen.outputs.items() if v}
        run.open_scope(Scope(scope.prefix, {n.id: n for n in chosen.nodes}, {}, outputs, path,
                             entities=scope.entities, parent=scope))

    def expand_dynamic(self, path: str, dyn: dict[str, Any]) -> None:
        """A dynamic node answered the graph it built: run it as a scope that completes the node.

        The graph's entities are parsed once here; their names shadow stored entities
        within the expansion. Expansions nest at most `max_dynamic_depth` deep.
        """
        run = self.run
        run.host.storage.put_json(f"executions/{run.id}/{path}/dynamic.json", dyn)
        parent = run.scope_of[path]
        try:
            nodes = [NodeSpec.from_dict(n, f"dynamic node `{path}`") for n in dyn["nodes"]]
            entities: dict[str, Spec] = {name: parse_spec(spec) for name, spec in (dyn.get("entities") or {}).items()}
        except SpecError as exc:
            run.node_failed(path, {"kind": "USER", "type": "SpecError", "message": str(exc)})
            return
        scope = Scope(f"{path}-", {n.id: n for n in nodes}, {}, dyn["outputs"], path,
                      entities={**parent.entities, **entities})
        parts = path.split("-")
        parent_depth = next((self.dyn_depth["-".join(parts[:i])] for i in range(len(parts) - 1, 0, -1)
                             if "-".join(parts[:i]) in self.dyn_depth), 0)
        depth = self.dyn_depth[path] = parent_depth + 1
        limit = run.host.max_dynamic_depth
        if depth > limit:
            run.node_failed(path, {"kind": "USER", "type": "UserError", "message":
                                   f"dynamic workflows nested {depth} levels deep, past the limit of "
                                   f"{limit}; check the recursion's base case"})
            return
        run.open_scope(scope)
