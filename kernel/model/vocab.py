"""The words every part of plait spells the same way: phases, kinds, operators, media types.

The local engine, the backend, the client, the CLI, the magics and the lab
extension (through the OpenAPI schema, whose phase enums are built from these
tuples) all read them from here, so a new phase or kind is added once.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, Final, Literal, TypeAlias

# ------------------------------------------------------------------ phases

ExecutionPhase: TypeAlias = Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"]
NodePhase: TypeAlias = Literal[
    "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT", "SKIPPED", "CACHE_HIT", "REUSED", "WAITING"
]

QUEUED: Final = "QUEUED"
RUNNING: Final = "RUNNING"
SUCCEEDED: Final = "SUCCEEDED"
FAILED: Final = "FAILED"
ABORTED: Final = "ABORTED"
TIMED_OUT: Final = "TIMED_OUT"
SKIPPED: Final = "SKIPPED"  # a node: not run, because a branch was not taken or an upstream node failed
CACHE_HIT: Final = "CACHE_HIT"  # a node: outputs taken from the cache
REUSED: Final = "REUSED"  # a node of a re-run: outputs taken from the execution it re-runs, not run again
WAITING: Final = "WAITING"  # a gate node: waiting for its time, a signal or an approval

EXECUTION_PHASES: Final[tuple[ExecutionPhase, ...]] = (QUEUED, RUNNING, SUCCEEDED, FAILED, ABORTED, TIMED_OUT)
NODE_PHASES: Final[tuple[NodePhase, ...]] = (*EXECUTION_PHASES, SKIPPED, CACHE_HIT, REUSED, WAITING)
ATTEMPT_PHASES: Final[tuple[str, ...]] = (RUNNING, SUCCEEDED, FAILED, ABORTED, TIMED_OUT)

ENDED: Final = frozenset({SUCCEEDED, FAILED, ABORTED, TIMED_OUT})
"""An execution (or an attempt) in one of these phases will not change again."""
NODE_ENDED: Final = ENDED | {SKIPPED, CACHE_HIT, REUSED}
"""A node in one of these phases will not change again."""
COMPLETED: Final = frozenset({SUCCEEDED, CACHE_HIT, SKIPPED, REUSED})
"""A node in one of these phases lets the nodes after it run."""
FAILURES: Final = frozenset({FAILED, TIMED_OUT})
"""The node itself failed (not aborted from outside)."""
UNSUCCESSFUL: Final = FAILURES | {ABORTED}
"""An execution in one of these phases can be recovered."""

# ------------------------------------------------------------------ kinds

EntityKind: TypeAlias = Literal["task", "dynamic", "workflow", "launch_plan", "map", "branch", "gate"]
StoredKind: TypeAlias = Literal["task", "workflow", "launch_plan"]

ENTITY_KINDS: Final[tuple[EntityKind, ...]] = ("task", "dynamic", "workflow", "launch_plan", "map", "branch", "gate")
TASK_KINDS: Final = frozenset({"task", "dynamic", "map", "branch"})
"""Spec kinds that are tasks to the backend (their specs parse as `TaskSpec`)."""
STORED_KINDS: Final[tuple[StoredKind, ...]] = ("task", "workflow", "launch_plan")
KIND_PATHS: Final[dict[StoredKind, str]] = {"task": "tasks", "workflow": "workflows", "launch_plan": "launch_plans"}
"""The URL segment of each stored kind."""


def stored_kind(kind: str) -> str:
    """The kind an entity (or a node running it) is stored as: a dynamic, map or branch is a task."""
    return "task" if kind in TASK_KINDS else kind


# ------------------------------------------------------------------ conditions

COMPARISONS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge, "is": operator.is_,
}
"""The operators a branch condition may use, by the symbol a spec records."""

# ------------------------------------------------------------------ media types

DAG_MIME: Final = "application/vnd.plait.dag+json"
"""The DAG bundle (`plait.model.dag`), in notebook outputs and from the backend's DAG routes."""
