"""The executor's two interfaces, written down: what the API routes use, and what a run uses.

- `ExecutorPort` is the executor as the routes see it (`Services.executor`). The
  executor process hands them its `Executor`; an API worker process hands them an
  `ExecutorProxy`; API tests hand them a recording fake. All three implement it.
- `RunHost` is what an `ExecutionRun` calls on the executor that drives it: the
  database and object store, the journal of transitions, Dask submission and the
  parts of the cluster's shape a run asks about. `Executor` implements it.

Neither names an implementation; both are structural (`typing.Protocol`).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

if TYPE_CHECKING:
    from plait.model import Spec, TaskSpec
    from sqlalchemy.orm import Session

    from ..storage import ObjectStore
    from ..store import Database
    from .cluster import Route
    from .maps import MapState
    from .presubmit import QueuedAttempt
    from .run import ExecutionRun

DaskFuture: TypeAlias = Any
"""A `distributed.Future` (or the key of one queued in the same graph); kept opaque here."""

SpecKey: TypeAlias = tuple[str, str, str, str]
"""(project, domain, "kind:name", version): an entity version in the executor's spec cache."""

Event: TypeAlias = tuple[Any, ...]
"""An event for the executor's loop, e.g. ("child", parent id, child id, phase, outputs, error)."""


@runtime_checkable
class ExecutorPort(Protocol):
    """The executor as the API routes use it: hand over executions, and describe the cluster."""

    def submit(self, execution_id: str) -> None:
        """Claim and run a committed QUEUED execution (the executor also claims on its own)."""

    def abort(self, execution_id: str) -> None:
        """Stop an execution whose abort the API has recorded."""

    def worker_python(self) -> str:
        """The `major.minor` Python version of the Dask workers."""

    def worker_resources(self) -> dict[str, float]:
        """What the workers offer in total: `cpu`, `mem` (bytes) and their custom resources."""

    def pool_states(self) -> list[dict[str, Any]]:
        """The worker pools: name, environment, status (ready, building, failed), whether made
        on demand, and the names of their live workers."""

    @property
    def scheduler_address(self) -> str | None:
        """The Dask scheduler's address, if known."""

    @property
    def dashboard_link(self) -> str | None:
        """Where users open the Dask dashboard (the API's proxy path), if there is one."""

    @property
    def dashboard_upstream(self) -> str | None:
        """The dashboard's own base URL, which only the API's proxy opens; None without one."""

    def problem(self) -> str | None:
        """Why the executor is not driving executions now (health says "degraded"), or None."""


@runtime_checkable
class RunHost(Protocol):
    """What an `ExecutionRun` (and its map and presubmit parts) may call on its executor.

    All of it runs on the executor's loop thread. Writes are noted or queued and
    committed by the executor at the end of the loop's turn, in order.
    """

    @property
    def db(self) -> Database:
        """The metadata store, for the reads a run makes (and the few writes it cannot defer)."""

    @property
    def storage(self) -> ObjectStore:
        """The object store: abort markers, dynamic graphs, failure-handler inputs."""

    @property
    def storage_url(self) -> str:
        """Where workers find the object store (goes into every attempt's payload)."""

    @property
    def owner(self) -> str:
        """This executor's lease owner name; cache reservations are held in its name."""

    @property
    def reservation_ttl(self) -> float:
        """Seconds a cache reservation lasts unless extended."""

    @property
    def max_dynamic_depth(self) -> int:
        """How deeply dynamic workflows may nest."""

    @property
    def spec_cache(self) -> MutableMapping[SpecKey, Spec]:
        """Parsed entity specs, shared by all runs: each entity version is parsed once."""

    def post(self, event: Event) -> None:
        """Put an event on the loop's queue, to be handled on a later turn."""

    def note_node(self, execution_id: str, path: str, phase: str, **fields: Any) -> None:
        """Note a node's move to `phase` (with its fields), written at the end of the turn."""

    def note_attempt(self, execution_id: str, path: str, number: int, phase: str = "RUNNING",
                     **fields: Any) -> None:
        """Note that an attempt starts (RUNNING) or ends (any other phase, with its fields)."""

    def write(self, op: Callable[[Session], object]) -> None:
        """Queue a database write (a function of a session), run after the notes."""

    def submit(self, execution_id: str) -> None:
        """Claim and run an execution (a child execution the run created)."""

    def abort(self, execution_id: str) -> None:
        """Stop an execution (a child of an aborted run)."""

    def attempt_key(self, execution_id: str, path: str, number: int) -> str:
        """A Dask key for an attempt, unique across executors."""

    def dask_resources(self, spec: TaskSpec, overrides: dict[str, Any]) -> dict[str, float]:
        """The Dask resources a task's attempts ask for (without pools)."""

    def unsatisfiable(self, spec: TaskSpec, overrides: dict[str, Any], *,
                      run: ExecutionRun | None = None) -> str | None:
        """Why no pool (or worker) could ever run this task (in `run`), or None."""

    def route(self, run: ExecutionRun | None, spec: TaskSpec, overrides: dict[str, Any], *,
              interruptible: bool | None = None) -> Route:
        """The pool an attempt of this task goes to, and the Dask resources it asks for."""

    def submit_attempt(self, run: ExecutionRun, path: str, number: int, payload: dict[str, Any],
                       spec: TaskSpec, overrides: dict[str, Any], *,
                       interruptible: bool | None = None) -> DaskFuture:
        """Hand an attempt to Dask and watch it; its future. `interruptible` False sends it to a
        pool that is not interruptible whatever the settings say (a last system retry)."""

    def submit_queued(self, queued: list[QueuedAttempt], *, priority: int = 0) -> list[DaskFuture]:
        """Hand attempts queued behind others to Dask (at a run's `priority`); their futures, in order."""

    def watch_attempt(self, run: ExecutionRun, path: str, number: int, fut: DaskFuture, *,
                      poll: bool = False) -> None:
        """Have the loop learn when an attempt ends (by callback, or by polling with `poll`)."""

    def submit_items(self, run: ExecutionRun, state: MapState, indices: list[int]) -> None:
        """Hand a batch of a map's items to Dask as one attempt."""

    def map_window(self, concurrency: int) -> int:
        """How many batches of a map may be on Dask at once."""

    def map_batch_size(self, count: int, concurrency: int) -> int:
        """How many of a map's `count` items go into one batch."""

    def run_inline_attempt(self, run: ExecutionRun, path: str, spec: TaskSpec,
                           inputs: dict[str, Any]) -> dict[str, Any]:
        """Run one attempt and wait for its answer (a workflow's failure handler)."""

    def execution_finished(self, run: ExecutionRun, phase: str, outputs: Any, error: Any) -> None:
        """A run ended: its parent execution, if any, hears of it on a later turn."""
