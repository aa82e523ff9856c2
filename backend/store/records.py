"""Frozen views of stored rows: what query functions return to routes and the executor.

Times are aware UTC datetimes. JSON fields (specs, value refs, errors,
settings) are plain dicts: treat them as read-only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from plait.model.vocab import (  # the phases and kinds rows hold are the model's
    ABORTED as ABORTED,
)
from plait.model.vocab import (
    ATTEMPT_PHASES as ATTEMPT_PHASES,
)
from plait.model.vocab import (
    CACHE_HIT as CACHE_HIT,
)
from plait.model.vocab import (
    EXECUTION_PHASES as EXECUTION_PHASES,
)
from plait.model.vocab import (
    FAILED as FAILED,
)
from plait.model.vocab import (
    NODE_ENDED as NODE_ENDED,
)
from plait.model.vocab import (
    NODE_PHASES as NODE_PHASES,
)
from plait.model.vocab import (
    QUEUED as QUEUED,
)
from plait.model.vocab import (
    REUSED as REUSED,
)
from plait.model.vocab import (
    RUNNING as RUNNING,
)
from plait.model.vocab import (
    SKIPPED as SKIPPED,
)
from plait.model.vocab import (
    STORED_KINDS as STORED_KINDS,
)
from plait.model.vocab import (
    SUCCEEDED as SUCCEEDED,
)
from plait.model.vocab import (
    TIMED_OUT as TIMED_OUT,
)
from plait.model.vocab import (
    WAITING as WAITING,
)

DOMAINS = ("development", "staging", "production")
DEFAULT_PROJECT = "default"
ERROR_KINDS = ("USER", "SYSTEM")


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    name: str
    description: str | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class BundleRecord:
    digest: str
    uri: str
    python_version: str | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class EntityRecord:
    id: int
    kind: str
    project: str
    domain: str
    name: str
    version: str
    digest: str
    spec: dict[str, Any]
    description: str | None
    bundle_digest: str | None
    archived: bool
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class EntitySummary:
    """One name in a listing: its latest version and how many versions it has."""

    latest: EntityRecord
    version_count: int


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    id: str
    project: str
    domain: str
    entity_kind: str
    entity_name: str
    entity_version: str
    launch_plan_name: str | None
    launch_plan_version: str | None
    phase: str
    inputs: dict[str, Any]
    outputs: dict[str, Any] | None
    error: dict[str, Any] | None
    settings: dict[str, Any]
    parent_execution_id: str | None
    parent_node_path: str | None
    abort_requested: bool
    lease_owner: str | None
    lease_expires_at: dt.datetime | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None

    @property
    def done(self) -> bool:
        return self.phase in NODE_ENDED


@dataclass(frozen=True, slots=True)
class ExecutionHeader:
    """An execution as lists show it: everything but its inputs, outputs and settings, which
    can be large (`list_executions` does not read them from the database)."""

    id: str
    project: str
    domain: str
    entity_kind: str
    entity_name: str
    entity_version: str
    launch_plan_name: str | None
    launch_plan_version: str | None
    phase: str
    error: dict[str, Any] | None
    parent_execution_id: str | None
    parent_node_path: str | None
    abort_requested: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class RecentRecord:
    """One of the latest executions of an entity (what a listing shows of it).

    For an entity that ran as a node of another execution, the phase and
    times are the node's, `node_path` its path and `workflow` what the
    execution ran; both are None for an execution of the entity itself.
    """

    id: str
    phase: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    node_path: str | None = None
    workflow: str | None = None


@dataclass(frozen=True, slots=True)
class NodeRecord:
    id: int
    execution_id: str
    path: str
    parent_path: str | None
    entity_name: str | None
    kind: str | None
    phase: str
    inputs: dict[str, Any] | None
    outputs: dict[str, Any] | None
    error: dict[str, Any] | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    reused_from: dict[str, Any] | None = None  # a REUSED node: {"execution_id", "path"} it took its outputs from


@dataclass(frozen=True, slots=True)
class Usage:
    """Resource use of one attempt: CPU in cores, memory in bytes; GPU utilisation in percent
    and GPU memory in bytes when its worker had a GPU."""

    cpu_peak: float | None = None
    cpu_avg: float | None = None
    mem_peak: float | None = None
    mem_avg: float | None = None
    gpu_util_avg: float | None = None
    gpu_util_peak: float | None = None
    gpu_mem_avg: float | None = None
    gpu_mem_peak: float | None = None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    id: int
    execution_id: str
    node_path: str
    number: int
    phase: str
    error_kind: str | None
    error: dict[str, Any] | None
    worker: str | None
    logs_uri: str | None
    outputs: dict[str, Any] | None
    usage: Usage
    started_at: dt.datetime
    ended_at: dt.datetime | None
    pool: str | None = None  # the worker pool it was routed to (compute/pools.py)


@dataclass(frozen=True, slots=True)
class CacheRecord:
    project: str
    domain: str
    key: str
    outputs: dict[str, Any]
    execution_id: str | None
    node_path: str | None
    created_at: dt.datetime
