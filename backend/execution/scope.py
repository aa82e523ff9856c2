"""A scope: one graph instance of a run, with its nodes' results, failures and waits.

The workflow itself is the root scope; a subworkflow, a dynamic expansion and a
taken conditional case each open another. A scope's nodes are named by path:
the scope's prefix and the node's id (`n1`, `n2-n0`, ...). A node waits for
the upstream nodes of its own scope; once every node has finished, failed or
been skipped, the scope closes and answers its owner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plait.errors import UserError
from plait.model.specs import NodeSpec, Spec, WorkflowSpec


class NodeFailed(Exception):
    """A node's failure, as it travels to its scope's owner (`path`: the node that failed)."""

    def __init__(self, path: str, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.path = path
        self.error = error


@dataclass
class Scope:
    prefix: str
    nodes: dict[str, NodeSpec]  # node id -> node spec
    inputs: dict[str, dict[str, Any]]  # workflow input name -> value ref
    outputs: dict[str, Any]  # output name -> binding
    owner: str | None  # path of the node this scope completes (None: the execution)
    entities: dict[str, Spec] = field(default_factory=dict)  # specs a dynamic expansion brought
    parent: Scope | None = None  # for conditional cases: where outer refs resolve
    fail_fast: bool = True
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # node id -> outputs
    pending: dict[str, int] = field(default_factory=dict)  # node id -> upstream nodes not finished
    failed: list[NodeFailed] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    finished: set[str] = field(default_factory=set)
    closed: bool = False
    downstream: dict[str, list[str]] = field(default_factory=dict)  # node id -> nodes that wait for it
    on_close: Any = None  # an eager call's scope: called when it closes, instead of answering its owner

    def __post_init__(self) -> None:
        known = self.nodes
        for nid, spec in self.nodes.items():
            upstream = [u for u in spec.upstream if u in known]
            self.pending[nid] = len(upstream)
            for u in dict.fromkeys(upstream):
                self.downstream.setdefault(u, []).append(nid)

    @classmethod
    def of_workflow(cls, spec: WorkflowSpec, prefix: str, inputs: dict[str, dict[str, Any]],
                    owner: str | None, entities: dict[str, Spec] | None = None) -> Scope:
        """The scope that runs a workflow's graph (its failure policy decides `fail_fast`)."""
        return cls(prefix, {n.id: n for n in spec.nodes}, inputs, spec.outputs, owner,
                   entities=entities if entities is not None else {},
                   fail_fast=spec.failure_policy == "FAIL_IMMEDIATELY")

    def path(self, nid: str) -> str:
        """The path of one of this scope's nodes."""
        return f"{self.prefix}{nid}"

    def node_id(self, path: str) -> str:
        """The id, in this scope, of the node at `path`."""
        return path[len(self.prefix):]

    def lookup(self, node_id: str | None, output: str) -> dict[str, Any]:
        """The value ref of a node's output (or, with no node, of a workflow input)."""
        if node_id is None:
            scope: Scope | None = self
            while scope is not None and scope.parent is not None and output not in scope.inputs:
                scope = scope.parent
            assert scope is not None
            return scope.inputs[output]
        scope = self
        while scope is not None:
            if node_id in scope.results:
                return scope.results[node_id][output]
            scope = scope.parent
        raise UserError(f"node `{node_id}` has no recorded output `{output}`")

    def children(self, node_id: str) -> list[str]:
        """The nodes that wait for `node_id`."""
        return self.downstream.get(node_id, [])
