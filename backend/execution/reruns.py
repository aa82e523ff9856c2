"""Re-runs: which nodes of a re-run take their outputs from the execution it re-runs.

A re-run (`POST /executions/{id}/rerun`) records `rerun_of` in its settings:
the original execution, the chosen nodes (`from_nodes`), inputs given to chosen
nodes instead of their upstream's (`node_inputs`, value refs) and map nodes of
which only some items run again (`map_items`). The run asks `reusable` for each
node as it becomes ready. A node runs again when it is chosen, inside a node
that runs again, downstream of a node that ran (even when that node's new
outputs equal the old ones: a chosen node's dependants always run), or when
its resolved inputs are not the original node's (an overridden workflow
input). A node that contains a chosen node opens again, so that its inside is
partly reused. Every other node that completed in the original run is REUSED:
its outputs are the original's stored refs, never recomputed and never looked
up in the cache.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from plait.model.vocab import CACHE_HIT, REUSED, SUCCEEDED

from ..store import queries as q

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..store.records import NodeRecord

REUSABLE = frozenset({SUCCEEDED, CACHE_HIT, REUSED})
"""The phases of an original node whose outputs a re-run may take."""


def same_refs(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two nodes' inputs are the same value refs (as stored: key order aside)."""
    return json.dumps(a or {}, sort_keys=True) == json.dumps(b or {}, sort_keys=True)


class Rerun:
    """What one re-run takes from its original execution (`settings["rerun_of"]`)."""

    def __init__(self, rerun_of: dict[str, Any]) -> None:
        self.original_id: str = rerun_of["execution_id"]
        self.chosen: tuple[str, ...] = tuple(rerun_of.get("from_nodes") or ())
        self.node_inputs: dict[str, dict[str, Any]] = dict(rerun_of.get("node_inputs") or {})
        self.map_items: dict[str, Any] = dict(rerun_of.get("map_items") or {})
        self.nodes: dict[str, NodeRecord] = {}  # node path -> the original's record
        self.reused: set[str] = set()  # paths that took the original's outputs (or were skipped alike)
        self.again: set[str] = set()  # paths that run again whole: what is inside or after them runs too

    def load(self, s: Session) -> None:
        """Read the original execution's nodes."""
        self.nodes = {n.path: n for n in q.list_nodes(s, self.original_id)}

    def forced(self, path: str, owner: str | None, upstream: list[str]) -> bool:
        """Whether the node runs again whatever its inputs: it is chosen or inside a chosen
        node, its scope's owner runs again, or one of its upstream nodes ran."""
        return (any(path == c or path.startswith(f"{c}-") for c in self.chosen)
                or (owner is not None and owner in self.again)
                or any(u not in self.reused for u in upstream))

    def opens(self, path: str) -> bool:
        """Whether the node contains a chosen node (or a map node with items to run again)."""
        return any(c.startswith(f"{path}-") for c in (*self.chosen, *self.map_items))

    def inputs_for(self, path: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """A node's inputs with those the re-run gives it instead (`node_inputs`)."""
        given = self.node_inputs.get(path)
        return {**inputs, **given} if given else inputs

    def reusable(self, path: str, kind: str, inputs: dict[str, Any], owner: str | None,
                 upstream: list[str]) -> NodeRecord | None:
        """The original node whose outputs this node takes, or None when it runs.

        `owner` is the path of the node whose scope this node is in (None at the top),
        `upstream` the paths of the nodes of its scope it waits for. A conditional
        always opens again: its condition reads values that are not its inputs, so
        each node of the case it takes is decided on its own.
        """
        if path in self.map_items or self.forced(path, owner, upstream):
            self.again.add(path)
            return None
        if kind == "branch" or self.opens(path):
            return None
        old = self.nodes.get(path)
        if old is None or old.phase not in REUSABLE or old.outputs is None or not same_refs(inputs, old.inputs):
            self.again.add(path)
            return None
        self.reused.add(path)
        return old

    def source(self, old: NodeRecord) -> dict[str, str]:
        """Where a reused node's outputs come from: the node that produced them (a node the
        original itself reused points further back)."""
        if old.phase == REUSED and old.reused_from:
            return dict(old.reused_from)
        return {"execution_id": self.original_id, "path": old.path}
