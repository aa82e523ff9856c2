"""The wire types of the HTTP API (pydantic v2); they generate the OpenAPI document.

The lab extension generates its TypeScript types from that document, so
every model and field here is named and described for a reader of the API,
not of the database. Values (inputs, outputs) are *value refs*:
`{"literal": <JSON literal>}` or `{"uri": ..., "format": ..., "hash": ..., "preview": ...}`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from plait.model.vocab import ExecutionPhase, NodePhase, StoredKind
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

Domain = Literal["development", "staging", "production"]
EntityKind = StoredKind

PROJECT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
EXECUTION_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,63}$"
DIGEST_PATTERN = r"^[0-9a-f]{64}$"
MAX_LIMIT = 500
MAX_OFFSET = 10_000_000

JSONValue = Any
ValueRef = dict[str, Any]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Response(BaseModel):
    model_config = ConfigDict(frozen=True)


# ------------------------------------------------------------------ errors


class InputProblem(Response):
    """One execution input that cannot be used."""

    input: str = Field(description="Name of the input.")
    expected: str | None = Field(description="The declared type, e.g. `list[int]`.")
    found: str | None = Field(description="What was given, e.g. `list[str]`; `nothing` when missing.")
    message: str


class FieldProblem(Response):
    """One request field that failed validation."""

    field: str = Field(description="Dotted path of the field, e.g. `settings.max_parallelism`.")
    message: str


class ErrorBody(Response):
    """The body of every error response (4xx, 503)."""

    error: str = Field(
        description="Machine-readable code: unauthorized, not_found, conflict, invalid_request, "
        "invalid_field, invalid_spec, invalid_input, type_mismatch, bad_request, too_large, busy, unavailable."
    )
    message: str = Field(description="What went wrong and how to fix it, for people.")
    field: str | None = Field(None, description="The request field at fault, when one is.")
    input: str | None = Field(None, description="For input errors: the (first) input at fault.")
    expected: str | None = Field(None, description="For input errors: the declared type.")
    found: str | None = Field(None, description="For input errors: what was given.")
    problems: list[InputProblem] | list[FieldProblem] | None = Field(
        None, description="Every problem found, when there are several."
    )


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong bearer token."},
    404: {"model": ErrorBody, "description": "No such object."},
    409: {"model": ErrorBody, "description": "The request conflicts with what is stored."},
    413: {"model": ErrorBody, "description": "The upload, or what it expands to, is larger than the server accepts."},
    422: {"model": ErrorBody, "description": "The request is not valid."},
    429: {"model": ErrorBody, "description": "Too many executions wait in the project; try again "
          "after the seconds the `Retry-After` header gives."},
}


# ------------------------------------------------------------------ health


class PoolStatus(Response):
    """One worker pool as the executor runs it."""

    name: str
    environment: str = Field(description="The pool's environment, in words (`ImageSpec <image name>`, "
                             "`the default environment`).")
    status: Literal["ready", "building", "failed"] = Field(
        description="`building` while its environment is built; `failed` when that build failed.")
    on_demand: bool = Field(description="Made for an environment that no declared pool has.")
    workers: list[str] = Field(description="Names of its live worker processes (scaled on load).")


class Health(Response):
    """The server and the Dask cluster it runs on."""

    status: Literal["ok", "degraded"] = Field(
        "ok", description="`degraded` while the executor is not driving executions (see `problem`).")
    problem: str | None = Field(None, description="Why the server is degraded, for people.")
    version: str = Field(description="plait version of the server.")
    server_python: str = Field(description="Python major.minor of the server process.")
    worker_python: str = Field(
        description="Python major.minor of the Dask workers; registrations must match it."
    )
    worker_resources: dict[str, float] = Field(
        description="Total resources of the workers (e.g. CPU, memory, GPU)."
    )
    dask_dashboard: str | None = Field(None, description="Link to the Dask dashboard, if any.")
    dask_scheduler: str | None = Field(None, description="Address of the Dask scheduler the executor uses.")
    pools: list[PoolStatus] = Field(
        default_factory=list, description="The worker pools attempts are routed to (none without a "
        "cluster file's pools, e.g. on an external Dask scheduler).")


# ------------------------------------------------------------------ projects


class ProjectCreate(Model):
    """A new project."""

    name: str = Field(
        pattern=PROJECT_PATTERN, description="1-64 lowercase letters, digits, `-` and `_`."
    )
    description: str = Field("", max_length=2000)


class Project(Response):
    name: str
    description: str
    created_at: dt.datetime


class ProjectList(Response):
    projects: list[Project]


# ------------------------------------------------------------------ secrets

SECRET_NAME_DOC = (
    "The name a task's `Secret` requests: its key (`API_KEY`) or group and key (`db/password`), "
    "each of letters, digits, `_`, `-` and `.`, starting with a letter, a digit or `_`; at most 255 characters."
)
SECRET_VALUE_DOC = "The value: 1 to 65,536 characters, no NUL. Stored encrypted; no route ever returns it."


class SecretCreate(Model):
    """A new secret. Without `domain`, every domain of the project can read it."""

    name: str = Field(max_length=1024, description=SECRET_NAME_DOC)
    value: str = Field(description=SECRET_VALUE_DOC)
    project: str = Field("default", pattern=PROJECT_PATTERN)
    domain: Domain | None = Field(None, description="The one domain whose tasks read it; null: every domain.")


class Secret(Response):
    """A stored secret: its name and scope, never its value."""

    name: str = Field(description=SECRET_NAME_DOC)
    project: str
    domain: Domain | None = Field(description="The one domain whose tasks read it; null: every domain.")
    created_at: dt.datetime
    updated_at: dt.datetime = Field(description="When its value was last set.")


class SecretList(Response):
    secrets: list[Secret]


# ------------------------------------------------------------------ bundles


class BundleUploaded(Response):
    """A code bundle (or a by-value function) now in the object store."""

    digest: str = Field(description="sha256 of the uploaded bytes, hex.")
    size: int = Field(description="Bytes received.")
    created: bool = Field(description="False when the same bytes were uploaded before.")


# ------------------------------------------------------------------ registration


class RegisterRequest(Model):
    """Specs of tasks, workflows and launch plans, registered together under one version."""

    project: str = Field("default", pattern=PROJECT_PATTERN)
    domain: Domain = "development"
    version: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$",
        description="Version of every entity registered; default: a hash of the specs and bundle.",
    )
    bundle_digest: str | None = Field(
        None, pattern=DIGEST_PATTERN, description="Digest of a bundle uploaded with PUT /api/v1/bundles/{digest}."
    )
    python_version: str = Field(
        pattern=r"^\d+\.\d+(\.\d+)?", description="Python of the client (major.minor), e.g. `3.11`."
    )
    specs: list[dict[str, Any]] = Field(
        min_length=1, description="Entity specs as `entity.to_spec()` writes them (see plait.model)."
    )


class EntityRef(Response):
    kind: EntityKind
    name: str
    version: str


class RegisteredEntity(EntityRef):
    created: bool = Field(description="False when this exact content was registered before.")


class RegisterResponse(Response):
    project: str
    domain: Domain
    version: str = Field(description="The version every entity of this registration has.")
    created: bool = Field(description="False when nothing new was registered (an idempotent repeat).")
    entities: list[RegisteredEntity]


# ------------------------------------------------------------------ entities


class EntitySummary(Response):
    """One version of a task, workflow or launch plan, without its spec."""

    kind: EntityKind
    project: str
    domain: Domain
    name: str
    version: str
    description: str = Field(description="First paragraph of the docstring.")
    archived: bool
    created_at: dt.datetime


class Entity(EntitySummary):
    """One version of an entity with its full spec."""

    digest: str = Field(description="Content hash of the spec and its code.")
    bundle_digest: str | None
    spec: dict[str, Any] = Field(description="The spec, as plait.model reads it.")


class RecentExecution(Response):
    """One of the latest executions of an entity, for a sparkline in a listing.

    A task (or workflow) that ran as a node of another execution shows as that
    execution, with the node's phase, times and path.
    """

    id: str = Field(description="The execution's name; GET /api/v1/executions/{id} has the rest.")
    phase: NodePhase = Field(
        description="The execution's phase; for a run as a node, the node's (CACHE_HIT: its outputs "
        "came from the cache)."
    )
    created_at: dt.datetime
    duration_s: float | None = Field(
        description="Seconds from start to end (or to now while running); null before it starts."
    )
    node_path: str | None = Field(
        None, description="The node that ran the entity within the execution; null when the execution "
        "ran the entity itself."
    )
    workflow: str | None = Field(
        None, description="With `node_path`: the workflow the execution ran."
    )


class EntityListItem(EntitySummary):
    """The newest version of an entity, how many versions it has, and its latest executions."""

    version_count: int
    recent: list[RecentExecution] = Field(
        description="Up to 10 latest executions, newest first, of any version: for a task or "
        "workflow those that run it (launched directly, through a launch plan, as a child "
        "execution, or as a node of another workflow's execution), for a launch plan those "
        "launched from it (directly, on its schedule, or as a launch plan node)."
    )
    last_execution_at: dt.datetime | None = Field(
        description="When the newest of those executions was created; null if there is none."
    )


class EntityList(Response):
    items: list[EntityListItem] = Field(description="Newest version of each matching entity, by name.")
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last page.")


class EntityVersionList(Response):
    items: list[EntitySummary] = Field(description="Versions, newest first.")
    limit: int
    offset: int
    next_offset: int | None


# ------------------------------------------------------------------ executions


class ExecutionSettings(Model):
    """How to run an execution; unset fields take the launch plan's values."""

    name: str | None = Field(
        None,
        pattern=EXECUTION_NAME_PATTERN,
        description="Unique execution name (its id): a lowercase letter, then letters, digits or `-`; "
        "default: generated.",
    )
    overwrite_cache: bool = Field(False, description="Run cached nodes again and replace their entries.")
    max_parallelism: int | None = Field(None, ge=1, le=10_000, description="Most nodes running at once.")
    envs: dict[str, str] = Field(default_factory=dict, description="Environment variables for every task.")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    raw_output_prefix: str | None = Field(None, max_length=1024, description="Where offloaded data goes.")
    interruptible: bool | None = Field(None, description="Allow spot/preemptible workers.")
    skip: dict[Annotated[str, Field(min_length=1, max_length=512)], dict[str, JSONValue]] = Field(
        default_factory=dict, description="Node path -> output name -> JSON literal: those nodes do not run "
        "and end SKIPPED with these outputs (checked against the node's output types), which the nodes "
        "after them take.")


class ExecutionCreate(Model):
    """Run a task, workflow or launch plan with the given inputs."""

    project: str = Field("default", pattern=PROJECT_PATTERN)
    domain: Domain = "development"
    kind: EntityKind
    name: str = Field(min_length=1, max_length=255)
    version: str | None = Field(None, max_length=128, description="Default: the newest version.")
    inputs: dict[str, JSONValue] = Field(
        default_factory=dict, description="Input name -> JSON literal (as plait.typesys.to_literal writes)."
    )
    settings: ExecutionSettings = Field(default_factory=ExecutionSettings)
    notifications: list[NotificationSpec] | None = Field(None, description="Notifications of this execution "
                                                         "instead of the launch plan's; `[]` turns them off.")


class RelaunchRequest(Model):
    """Options for a relaunch or recovery; everything else is copied from the original."""

    name: str | None = Field(
        None, pattern=EXECUTION_NAME_PATTERN, description="Name of the new execution; default: generated."
    )


class RerunRequest(Model):
    """Run an execution again from chosen nodes: every node that is not chosen, not inside a
    chosen node and whose inputs are unchanged takes the original's outputs (REUSED)."""

    from_nodes: list[Annotated[str, Field(min_length=1, max_length=512)]] = Field(
        default_factory=list, max_length=1000,
        description="Paths of the nodes to run again (`n3`, `n2-n1`); with what depends on them.")
    inputs: dict[str, JSONValue] = Field(
        default_factory=dict, description="Workflow inputs given instead of the original's (JSON literals); "
        "the nodes that consume them run again.")
    node_inputs: dict[str, dict[str, JSONValue]] = Field(
        default_factory=dict, description="Chosen node path -> input name -> JSON literal given to it "
        "instead of what its upstream nodes pass.")
    map_items: dict[str, Literal["failed"] | list[Annotated[int, Field(ge=0)]]] = Field(
        default_factory=dict, description="Map node path -> `failed` or item indices: only those items run "
        "again, the others' outputs are reused.")
    version: str | None = Field(
        None, max_length=128, description="Run this version of the workflow instead of the original's; "
        "refused when its interface or a reused node's spec changed.")
    name: str | None = Field(
        None, pattern=EXECUTION_NAME_PATTERN, description="Name of the new execution; default: generated.")


class AbortRequest(Model):
    """Why an execution is being aborted; shown in its error once it stops."""

    reason: str | None = Field(
        None, max_length=1000, description="Why it is aborted, in words (shown with the execution's error)."
    )


# What an execution, node or attempt that did not succeed says about why. Stored as the
# executor wrote it (older records, and failures of other kinds, have fewer keys), so the
# type stays an open object; the schema names the keys a reader can rely on.
ERROR_RECORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "ErrorRecord",
    "description": "Why it failed. More keys may appear; every key may be missing.",
    "properties": {
        "kind": {"type": "string", "description": "Whose failure: `USER` (the task's code or inputs), "
                 "`SYSTEM` (a worker was lost), `ABORTED`."},
        "type": {"type": "string", "description": "The exception's class name, e.g. `ValueError`."},
        "message": {"type": "string", "description": "The exception's message, secrets masked."},
        "traceback": {"type": "string", "description": "The traceback as its author reads it: the frames "
                      "of their code (and the libraries it called), files named as registered "
                      "(`workflows/train.py`), chained exceptions kept; every frame when none is the "
                      "user's. Secrets masked; a long one loses its middle."},
        "full_traceback": {"type": "string", "description": "Every frame, plait's own included; present "
                           "only when `traceback` leaves some out."},
        "folded_frames": {"type": "integer", "description": "How many frames of `full_traceback` "
                          "`traceback` leaves out."},
        "recoverable": {"type": "boolean", "description": "Whether the task's retries apply to it."},
        "node": {"type": "string", "description": "For an execution's error: the node that failed."},
    },
    "additionalProperties": True,
}
ErrorRecord = Annotated[dict[str, Any], WithJsonSchema(ERROR_RECORD_SCHEMA)]


class ExecutionSummary(Response):
    """An execution's header as lists show it: no input or output values (those can be large;
    `GET /executions/{id}` has them)."""

    id: str
    project: str
    domain: Domain
    entity: EntityRef = Field(description="The task or workflow that runs.")
    launch_plan: EntityRef | None = Field(description="The launch plan used, if any.")
    phase: ExecutionPhase
    error: ErrorRecord | None
    parent_execution_id: str | None
    parent_node_path: str | None
    abort_requested: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration_s: float | None = Field(description="Seconds from start to end (or to now while running).")


class RerunOf(Response):
    """What a re-run re-runs: its original execution and the nodes chosen to run again."""

    execution_id: str
    from_nodes: list[str]
    node_inputs: dict[str, dict[str, ValueRef]] = Field(
        default_factory=dict, description="Node path -> the inputs given to it instead of the original's.")
    map_items: dict[str, Literal["failed"] | list[int]] = Field(
        default_factory=dict, description="Map node path -> the items run again; the others are reused.")


class Execution(ExecutionSummary):
    """An execution's header with its inputs, outputs and settings."""

    inputs: dict[str, ValueRef]
    outputs: dict[str, ValueRef] | None
    settings: dict[str, Any]
    rerun_of: RerunOf | None = Field(
        description="For a re-run (`POST /executions/{id}/rerun`): the execution it re-runs and the "
        "nodes chosen to run again; null otherwise.")
    artifact_inputs: dict[str, ArtifactRef] = Field(
        default_factory=dict,
        description="The inputs found in the artifact catalog when the execution was created (a query "
        "default, or the version that triggered it), by input name.")


class ArtifactRef(Response):
    name: str
    version: str
    uri: str = Field(description="`plait://project/domain/name@version`.")


class ExecutionList(Response):
    items: list[ExecutionSummary] = Field(
        description="Executions, newest first, without their values (see `GET /executions/{id}`).")
    limit: int
    offset: int
    next_offset: int | None


class Attempt(Response):
    number: int = Field(description="1 for the first attempt.")
    phase: NodePhase
    error_kind: Literal["USER", "SYSTEM"] | None
    error: ErrorRecord | None
    worker: str | None
    pool: str | None = Field(
        default=None,
        description="The worker pool the attempt was routed to (the cluster file's `pools[].name`, "
        "or a pool made for the task's environment), as the worker that ran it confirms; null for "
        "attempts recorded before pools, or without them (an external Dask scheduler).")
    outputs: dict[str, ValueRef] | None
    cpu_peak: float | None
    cpu_avg: float | None
    mem_peak: float | None
    mem_avg: float | None
    gpu_util_avg: float | None = Field(None, description="GPU utilisation in percent, averaged over the "
                                       "attempt, of the devices its worker sees; null without a GPU.")
    gpu_util_peak: float | None = Field(None, description="The highest GPU utilisation sampled, percent.")
    gpu_mem_avg: float | None = Field(None, description="GPU memory in use, bytes, averaged over the attempt.")
    gpu_mem_peak: float | None = Field(None, description="The most GPU memory in use, bytes.")
    started_at: dt.datetime | None
    ended_at: dt.datetime | None


class ReusedFrom(Response):
    """The node a re-run's REUSED node took its outputs from."""

    execution_id: str
    path: str


class NodeExecution(Response):
    path: str = Field(description="Node path as the local engine spells it: `n0`, `n2-n1`, `n3-7`.")
    parent_path: str | None
    entity_name: str | None
    entity_version: str | None = Field(
        description="Registered version of that entity the node ran (fetch it with "
        "GET /api/v1/{tasks|workflows|launch_plans}/{entity_name}?version=...): the execution's "
        "version when the entity has it, else its newest version registered before the node "
        "was created, as the executor chose; null for branches, map nodes and their item batches, "
        "and entities that are not registered."
    )
    kind: str | None
    phase: NodePhase
    inputs: dict[str, ValueRef] | None
    outputs: dict[str, ValueRef] | None
    error: ErrorRecord | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    attempts: list[Attempt]
    reused_from: ReusedFrom | None = Field(
        description="For a REUSED node of a re-run: the node of the original execution whose "
        "stored outputs it took (the same value refs, not a copy); null otherwise.")


class NodeExecutionList(Response):
    execution_id: str
    nodes: list[NodeExecution]


class LogChunk(Response):
    """A piece of a node attempt's log; ask again from `next_offset` to follow it."""

    execution_id: str
    path: str
    attempt: int
    offset: int = Field(description="Byte offset the text starts at.")
    next_offset: int = Field(description="Byte offset to ask for next.")
    text: str
    complete: bool = Field(description="True when the attempt has ended and all its text was read.")


# ------------------------------------------------------------------ DAGs

# The bundle of plait.notebook.dag (MIME application/vnd.plait.dag+json, version 1),
# the one `%plait dag` sends to notebook frontends. Optional fields are absent
# (never null) where they do not apply.


class DagParam(Response):
    """A named value with its type: a workflow input, or a node's output."""

    name: str
    type: str = Field(description="The declared type as Python spells it, e.g. `list[int]`; `?` when unknown.")


class DagSource(Response):
    """Where a value comes from; exactly one of `input`, `node`, `literal`, `collection` is present."""

    input: str | None = Field(None, description="The workflow input of this name.")
    node: str | None = Field(None, description="The node (`id` in the same graph) whose output it is.")
    output: str | None = Field(None, description="With `node`: which output.")
    path: list[str] | None = Field(None, description="Fields or list indices read from that value, in order.")
    literal: str | None = Field(
        None, description="A constant as Python's repr writes it, cut to 40 characters; `?` when unknown."
    )
    collection: list[DagSource] | None = Field(
        None, description="A list or dict literal built from these sources (dict keys are not shown)."
    )


class DagInput(Response):
    """A node input: its declared type and what it is bound to."""

    name: str
    type: str = Field(description="The callee's declared type; `?` when the callee is unknown.")
    source: DagSource


class DagOutput(Response):
    """A graph output: its declared type and the value it is."""

    name: str
    type: str = Field(description="The declared type; `?` in branch cases, which declare none.")
    source: DagSource


class DagEdge(Response):
    """An edge between two nodes of the same graph."""

    source: str = Field(description="`id` of the upstream node.")
    target: str = Field(description="`id` of the downstream node.")
    kind: Literal["data", "order"] = Field(
        description="`data`: the target reads the source's outputs; `order`: only runs after it (`a >> b`)."
    )
    label: str = Field(description="The bindings the edge carries, e.g. `o0 → x, o1 → y`; empty for order.")


class DagCase(Response):
    """One case of a branch node, in order; the first whose condition holds runs."""

    condition: str | None = Field(description="The condition as text; null for `else_()`.")
    fail: str | None = Field(description="The message of a case that fails the branch (`.fail(...)`).")
    graph: DagGraph = Field(description="The nodes the case runs; their paths share the branch's prefix.")


class DagNode(Response):
    """A node of a graph."""

    id: str = Field(description="Unique in its graph; edges name it.")
    path: str = Field(description="The node's path in execution records (`n2-n0` inside node `n2`); empty "
                      "for the single node of a task's DAG.")
    label: str = Field(description="Short name to show: the entity's (or the override's) last dotted part, "
                       "`map(task)` for a map.")
    entity: str = Field(description="Full name of the entity the node runs.")
    kind: str = Field(description="task, dynamic, workflow, launch_plan, map or branch.")
    inputs: list[DagInput]
    outputs: list[DagParam]
    overrides: list[str] | None = Field(None, description="Names of the settings `with_overrides` changed.")
    graph: DagGraph | None = Field(
        None, description="A workflow or launch plan node: the graph it runs (nested at most 8 deep)."
    )
    cases: list[DagCase] | None = Field(None, description="A branch node: its cases.")
    target: str | None = Field(None, description="A map node: the full name of the mapped task or launch plan.")


class DagGraph(Response):
    """A graph: inputs, outputs, nodes and the edges between them."""

    name: str | None = Field(None, description="The workflow it is (absent in branch cases).")
    inputs: list[DagParam]
    outputs: list[DagOutput]
    nodes: list[DagNode]
    edges: list[DagEdge]


class Dag(Response):
    """The DAG of a task, workflow or launch plan, as `%plait dag` shows it (media type
    `application/vnd.plait.dag+json`, version 1)."""

    version: Literal[1] = Field(description="Version of this format.")
    name: str = Field(description="Full name of the entity.")
    label: str = Field(description="Its last dotted part.")
    kind: str = Field(description="task, dynamic, workflow or launch_plan.")
    workflow: str | None = Field(None, description="A launch plan: the workflow whose graph this is.")
    inputs: list[DagParam]
    outputs: list[DagOutput]
    nodes: list[DagNode] = Field(description="A task's DAG has one node, fed by the task's inputs.")
    edges: list[DagEdge]


# ------------------------------------------------------------------ launch plan activation and schedules

CatchUp = Literal["skip", "latest", "all"]
ScheduleOutcome = Literal["launched", "skipped", "failed", "missed"]


class LaunchPlanActivate(Model):
    """Options of an activation."""

    catch_up: CatchUp | None = Field(
        None, description="What the scheduler does with ticks it missed while the backend was down: "
        "`skip` (fire only a tick at most a grace period late; the default), `latest` (fire the newest "
        "missed tick), `all` (fire every missed tick, at most 100). Unset: the schedule's `catch_up`, "
        "else `skip`.")


class ScheduleView(Response):
    """A launch plan version's schedule, for people."""

    kind: Literal["cron", "fixed_rate"]
    description: str = Field(description="The schedule in words, e.g. `every day at 09:30 (UTC)`.")
    expression: str | None = Field(description="Cron: the five fields it fires on (aliases expanded).")
    time_zone: str = Field(description="The zone the cron fields are read in (UTC unless the schedule names one).")
    kickoff_time_input_arg: str | None = Field(description="The workflow input given the tick's time.")
    catch_up: CatchUp = Field(description="The catch-up policy in force.")
    next_times: list[dt.datetime] = Field(
        description="The next five ticks (UTC) if this version is, or were, active from now on; a fixed "
        "rate counts from the activation time (from now for a version that is not active).")


class LaunchPlanState(Response):
    """Which version of a launch plan is active, and its schedule."""

    project: str
    domain: Domain
    name: str
    active_version: str | None = Field(description="The active version; null when none is active.")
    activated_at: dt.datetime | None = Field(description="When the active version was activated.")
    version: str = Field(description="The version `schedule` describes: the active one, else the one "
                         "asked for, else the newest.")
    schedule: ScheduleView | None = Field(description="That version's schedule; null if it has none.")
    schedule_error: str | None = Field(None, description="Why the schedule cannot be followed, if it cannot.")
    last_tick: dt.datetime | None = Field(description="The newest tick the scheduler has handled.")


class ScheduleRun(Response):
    """One tick of a scheduled launch plan and what became of it."""

    name: str = Field(description="The launch plan.")
    version: str = Field(description="The version that was active at the tick.")
    tick: dt.datetime = Field(description="The scheduled time (UTC), given to `kickoff_time_input_arg`.")
    outcome: ScheduleOutcome = Field(
        description="`launched` (see execution_id), `skipped` (the concurrency policy refused it), "
        "`failed` (the launch was refused: detail says why), `missed` (the backend was not running at "
        "the tick and the catch-up policy did not fire it).")
    execution_id: str | None
    detail: str | None
    recorded_at: dt.datetime


class ScheduleRunList(Response):
    items: list[ScheduleRun] = Field(description="Ticks, newest first.")
    limit: int
    offset: int
    next_offset: int | None


# ------------------------------------------------------------------ notifications


class NotificationSpec(Model):
    """Who hears when the execution ends in one of `phases` (as `plait.Email`, `Slack`, `PagerDuty`
    write it)."""

    channel: Literal["email", "slack", "pager_duty"]
    phases: list[Literal["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"]] = Field(
        min_length=1, max_length=4, description="The end phases it fires on.")
    recipients_email: list[Annotated[str, Field(min_length=1, max_length=320)]] = Field(
        min_length=1, max_length=100, description="E-mail addresses; for Slack also incoming-webhook URLs, "
        "for PagerDuty also Events v2 routing keys.")

    def to_spec(self) -> dict[str, Any]:
        """The form launch plan specs and execution settings keep."""
        return {"channel": self.channel, "phases": list(dict.fromkeys(self.phases)),
                "recipients_email": list(self.recipients_email)}


ExecutionCreate.model_rebuild()


class NotificationDelivery(Response):
    """One notification of an execution (or of a scheduled run not launched) and how sending it went."""

    id: int
    execution_id: str | None
    launch_plan: str | None = Field(description="The launch plan whose notification this is, if any.")
    event: Literal["execution_ended", "schedule_skipped"]
    phase: ExecutionPhase | None = Field(description="The phase that fired it (execution_ended).")
    channel: Literal["email", "slack", "pager_duty"]
    sink: str = Field(description="What carried it: `email`, `slack`, `pagerduty`, or `log` when the "
                      "server has no sink for the channel (the server log and `notifications.log`).")
    recipients: list[str]
    subject: str = Field(description="The message's first line.")
    status: Literal["PENDING", "SENT", "FAILED"] = Field(
        description="PENDING until sent (or while retrying), SENT, or FAILED after the last attempt.")
    attempts: int = Field(description="Sends tried so far.")
    last_error: str | None = Field(description="Why the last failed attempt failed.")
    created_at: dt.datetime = Field(description="When the phase that fired it was committed.")
    next_attempt_at: dt.datetime | None = Field(description="When it is tried next (PENDING only).")
    sent_at: dt.datetime | None


class NotificationDeliveryList(Response):
    items: list[NotificationDelivery] = Field(description="Oldest first.")


# ------------------------------------------------------------------ artifacts


class ArtifactProducer(Response):
    execution_id: str
    node_path: str
    task: str | None
    task_version: str | None
    output: str
    inputs: dict[str, ValueRef] | None = Field(
        default=None, description="The producing node's inputs (value refs): in the answer for one version.")


class ArtifactCard(Response):
    kind: Literal["model", "data"]
    text: str = Field(description="Markdown.")


class ArtifactVersion(Response):
    """One version of an artifact (docs/artifacts.md)."""

    id: int = Field(description="The catalog's sequence: newer versions have larger ids.")
    project: str
    domain: str
    name: str
    version: str
    uri: str = Field(description="`plait://project/domain/name@version`.")
    partitions: dict[str, str]
    time_partition: str | None = Field(description="ISO date-time, cut to `granularity`.")
    granularity: Literal["MINUTE", "HOUR", "DAY", "MONTH"] | None
    type: dict[str, Any] = Field(description="The value's type spec.")
    type_name: str
    value: ValueRef = Field(description="The value ref: a literal, or a `uri` readable with `GET /data`.")
    preview: str = Field(description="A short text of the value.")
    cards: list[ArtifactCard]
    producer: ArtifactProducer | None = Field(description="The node that made it; null when created through the API.")
    created_at: dt.datetime


class ArtifactSummary(Response):
    project: str
    domain: str
    name: str
    versions: int
    partition_keys: list[str]
    time_partitioned: bool
    latest: ArtifactVersion


class ArtifactList(Response):
    items: list[ArtifactSummary]
    limit: int
    offset: int
    next_offset: int | None


class ArtifactVersionList(Response):
    items: list[ArtifactVersion]
    limit: int
    offset: int
    next_offset: int | None


class ArtifactCreate(Model):
    """A version made by a client (`Remote.create_artifact`): a literal, or a pickle."""

    project: str = Field("default", pattern=PROJECT_PATTERN)
    domain: Domain = "development"
    name: str = Field(min_length=1, max_length=255)
    partitions: dict[str, str] = Field(default_factory=dict)
    time_partition: dt.datetime | None = None
    granularity: Literal["MINUTE", "HOUR", "DAY", "MONTH"] | None = None
    type: dict[str, Any] = Field(description="The value's type spec, as the SDK writes it.")
    literal: Any = Field(default=None, description="The value as a literal (plain values).")
    pickle_b64: str | None = Field(default=None, max_length=64 * 1024 * 1024,
                                   description="The value pickled, base64 (anything else); never loaded by the server.")
    cards: list[ArtifactCard] = Field(default_factory=list)


class LineageNode(Response):
    id: str
    kind: Literal["artifact", "execution"]
    name: str | None = None
    version: str | None = None
    project: str | None = None
    domain: str | None = None
    partitions: dict[str, str] | None = None
    time_partition: str | None = None
    created_at: str | None = None
    type: dict[str, Any] | None = None
    execution_id: str | None = None
    entity_name: str | None = None
    phase: str | None = None


class LineageEdge(Response):
    source: str
    target: str
    kind: Literal["produced", "consumed"]
    node_path: str
    port: str


class Lineage(Response):
    nodes: list[LineageNode]
    edges: list[LineageEdge]


class ArtifactUse(Response):
    artifact: ArtifactVersion
    node_path: str = Field(description="The node; empty for the execution itself (a query default, a trigger).")
    port: str = Field(description="The output that made it, or the input it fed.")
    how: Literal["emitted", "query", "trigger", "cache_hit"]


class ExecutionArtifacts(Response):
    emitted: list[ArtifactUse]
    consumed: list[ArtifactUse]


class TriggerRun(Response):
    name: str
    version: str
    artifact: ArtifactRef
    outcome: Literal["launched", "skipped", "failed"]
    execution_id: str | None
    detail: str | None
    recorded_at: dt.datetime


class TriggerRunList(Response):
    items: list[TriggerRun]
    limit: int
    offset: int
    next_offset: int | None


# ------------------------------------------------------------------ gate signals


class Signal(Response):
    """A value a gate node (`wait_for_input`, `approve`) of an execution waits for."""

    name: str
    node_path: str
    gate: Literal["signal", "approve"]
    type: dict[str, Any] = Field(description="The value's type spec (an approval's is boolean).")
    type_name: str
    value: Any = Field(description="The value given (a literal); null while it waits.")
    is_set: bool
    created_at: dt.datetime
    timeout_at: dt.datetime | None = Field(description="When the gate fails if no value is set; null: never.")
    set_at: dt.datetime | None


class SignalList(Response):
    items: list[Signal]


class SignalSet(Model):
    value: Any = Field(description="The value, as a literal of the signal's type (true or false to approve).")


class Quantities(BaseModel):
    """CPU, memory and GPU as the spec wrote them (a workspace's resources, an app's limits)."""

    cpu: str | None = None
    mem: str | None = None
    gpu: str | None = None


class SessionLink(BaseModel):
    """A browser link to a proxied workspace or app, which cannot send the bearer header."""

    url: str = Field(description="A link relative to this server; it sets a cookie for `path` and works "
                                 "within its validity.")
    path: str
    expires_at: dt.datetime
