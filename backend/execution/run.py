"""One execution being driven: its graph scopes, node states and their transitions.

A *scope* (scope.py) is one graph instance: the workflow itself, a subworkflow,
a dynamic expansion or a conditional case. Nodes become ready when their
upstream nodes finish; each transition is written to the database before the
executor moves on, so a restarted backend rebuilds the same state and reruns
only what had not finished.

`ExecutionRun` keeps the run's state and decides its transitions. Its parts
keep their own state behind small interfaces: `specs` (entities.py) fetches
and parses entity specs, `cache` (caching.py) is the task output cache,
`presubmit` (presubmit.py) queues attempts on Dask ahead of time, `maps`
(maps.py) runs map nodes, `graphs` (graphs.py) subworkflows, conditionals and
dynamic expansions, and `children` (children.py) the child executions of
launch plan nodes. They call back into the run's transitions (`complete`,
`node_succeeded`, `node_failed`). What the run needs of its executor is
`RunHost` (ports.py).
"""

from __future__ import annotations

import logging
import pickle
from collections import deque
from typing import TYPE_CHECKING, Any, TypeVar

from plait.errors import FlyteError, UserError
from plait.model.specs import LaunchPlanSpec, NodeSpec, Spec, TaskSpec, WorkflowSpec
from plait.model.vocab import COMPLETED

from ..artifacts import catalog
from ..secrets import task_secrets
from ..store import queries as q
from ..store.errors import NotFound
from . import values
from .attempts import SYSTEM_RETRIES, last_system_retry, usage_fields
from .caching import TaskCache
from .children import ChildExecutions
from .eager import EagerNodes
from .entities import EntitySpecs, expect, single_node_workflow, with_overrides
from .gates import GateNodes
from .graphs import GraphNodes
from .maps import MapNodes
from .presubmit import Presubmit
from .references import pin_of, pinned_spec
from .reruns import Rerun
from .scope import NodeFailed, Scope

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..store.records import ExecutionRecord
    from .ports import RunHost

log = logging.getLogger(__name__)
S = TypeVar("S", bound=Spec)


def aborted_error(settings: dict[str, Any] | None) -> dict[str, Any]:
    """The error of an aborted execution: kind ABORTED (not a USER failure), with the reason
    its abort request gave (`queries.request_abort` keeps it in the settings)."""
    reason = (settings or {}).get("abort_reason")
    return {"kind": "ABORTED", "message": f"aborted: {reason}" if reason else "aborted by request"}


class ExecutionRun:
    """Drives one execution; all methods run on the executor's loop thread."""

    def __init__(self, host: RunHost, record: ExecutionRecord, priority: int = 0) -> None:
        self.host = host
        self.id = record.id
        self.record = record
        self.priority = priority  # of its attempts on Dask: higher goes first (the executor's claim order)
        self.settings: dict[str, Any] = dict(record.settings or {})
        self.project, self.domain = record.project, record.domain
        self.version = record.entity_version
        self.specs = EntitySpecs(host, self.project, self.domain, self.version)
        self.cache = TaskCache(host, self.project, self.domain, self.id, bool(self.settings.get("overwrite_cache")))
        self.presubmit = Presubmit(self)
        self.maps = MapNodes(self)
        self.children = ChildExecutions(self)
        self.graphs = GraphNodes(self)
        self.gates = GateNodes(self)
        self.eager = EagerNodes(self)
        self.root_spec: WorkflowSpec | None = None
        self.scopes: dict[str | None, Scope] = {}
        self.scope_of: dict[str, Scope] = {}  # node path -> its scope
        self.spec_of: dict[str, NodeSpec] = {}  # node path -> node spec
        self.task_of: dict[str, TaskSpec] = {}  # task node path -> its task, node overrides applied
        self.attempts: dict[str, int] = {}  # node path -> attempts made (user + system)
        self.user_failures: dict[str, int] = {}
        self.system_failures: dict[str, int] = {}
        self.inputs_of: dict[str, dict[str, Any]] = {}
        self.futures: dict[str, Any] = {}  # node path -> the future of its running attempt
        self.done = False
        # `max_parallelism`: at most this many task nodes have an attempt in flight at once;
        # the others wait, in the order they became ready (None: no bound).
        limit = self.settings.get("max_parallelism")
        self.parallelism: int | None = int(limit) if isinstance(limit, int) and limit > 0 else None
        self.in_flight: set[str] = set()  # task node paths with an attempt on Dask
        self.held: deque[tuple[str, TaskSpec, dict[str, Any]]] = deque()  # waiting for a place
        self._pumping = False
        # Where attempts write their outputs and logs: under the launch's raw output prefix
        # (a path in the object store, checked at launch) when it has one.
        raw = str(self.settings.get("raw_output_prefix") or "").strip("/")
        self.output_root = f"{raw}/executions/{self.id}" if raw else f"executions/{self.id}"
        self.known: dict[str, Any] = {}  # node path -> stored node record (resume)
        self.recover: dict[str, Any] = {}  # node path -> node record of the execution recovered from
        rerun_of = self.settings.get("rerun_of")
        self.rerun: Rerun | None = Rerun(rerun_of) if isinstance(rerun_of, dict) else None
        # `skip`: node path -> the outputs (value refs) a skipped node ends with, instead of running
        self.skip: dict[str, dict[str, Any]] = dict(self.settings.get("skip") or {})

    # ------------------------------------------------------------------ start
    def start(self) -> None:
        """Begin the execution, or resume it after a restart, from what the database holds.

        An execution whose abort was requested ends ABORTED at once. Otherwise the
        nodes recorded by an earlier executor are read back (see `_resume`), the
        execution is marked RUNNING and the root scope opens: the workflow's graph
        (for a launch plan, its workflow's; for a task, a one-node graph around it),
        with the interface's defaults for the inputs not given.
        """
        with self.host.db.session() as s:
            rec = q.get_execution(s, self.id)
            if rec.abort_requested:
                self.finish_execution(s, "ABORTED", error=aborted_error(rec.settings))
                return
            self._resume(s)
            if rec.phase == "QUEUED":
                q.set_execution_phase(s, self.id, "RUNNING")
            spec = self.specs.fetch(s, rec.entity_kind, rec.entity_name, rec.entity_version)
        inputs = dict(rec.inputs or {})
        if rec.entity_kind == "launch_plan":
            with self.host.db.session() as s:
                spec = self.specs.fetch(s, "workflow", expect(spec, LaunchPlanSpec, rec.entity_name).workflow, None)
        workflow = single_node_workflow(spec) if isinstance(spec, TaskSpec) else expect(spec, WorkflowSpec, spec.name)
        for entry in workflow.interface.inputs:
            if entry.name not in inputs and not entry.required:
                inputs[entry.name] = values.literal_ref(entry.default, entry.type)
        root = Scope.of_workflow(workflow, "", inputs, None)
        self.root_spec = workflow
        self.scopes[None] = root
        self.open_scope(root)

    def _resume(self, s: Session) -> None:
        """Read back what earlier executors recorded of this execution (and of the one it recovers).

        Attempts left RUNNING by a crash are failed as SYSTEM: their node runs again,
        counting them. Completed nodes are not run again (`known`). With the setting
        `recover_from`, the nodes that succeeded in that execution lend their outputs
        (`recover`); with `rerun_of`, the nodes of the execution it re-runs (reruns.py).
        """
        for n in q.list_nodes(s, self.id):
            self.known[n.path] = n
        for n in self.known.values():
            if n.phase == "RUNNING":
                for a in q.list_attempts(s, self.id, n.path):
                    if a.phase == "RUNNING":
                        q.finish_attempt(s, a.id, "FAILED", error_kind="SYSTEM",
                                         error={"message": "the backend restarted during this attempt"})
                self.attempts[n.path] = len(q.list_attempts(s, self.id, n.path))
                self.system_failures[n.path] = sum(
                    1 for a in q.list_attempts(s, self.id, n.path) if a.error_kind == "SYSTEM")
        recover_from = self.settings.get("recover_from")
        if recover_from:
            for n in q.list_nodes(s, recover_from):
                if n.phase in ("SUCCEEDED", "CACHE_HIT", "REUSED") and n.outputs is not None:
                    self.recover[n.path] = n
        if self.rerun is not None:
            self.rerun.load(s)

    # ------------------------------------------------------------------ scopes
    def open_scope(self, scope: Scope) -> None:
        if not scope.nodes:
            self._close_scope(scope)
            return
        for nid, count in list(scope.pending.items()):
            if count == 0:
                self._start_node(scope, nid)

    def _close_scope(self, scope: Scope) -> None:
        """Every node of the scope ended: answer its owner with the scope's outputs or first failure."""
        if scope.closed:
            return
        scope.closed = True
        if scope.on_close is not None:  # an eager body's call (eager.py): the body gets the answer
            scope.on_close(scope)
            return
        if scope.failed:
            failure = scope.failed[0]
            if scope.owner is None:
                self._fail_execution(failure)
            else:
                self.node_failed(scope.owner, failure.error, propagate_from=failure.path)
            return
        try:
            outputs = {k: values.resolve(b, scope.lookup) for k, b in scope.outputs.items()}
        except UserError as exc:
            err = {"kind": "USER", "type": "UserError", "message": str(exc)}
            if scope.owner is None:
                self._fail_execution(NodeFailed("", err))
            else:
                self.node_failed(scope.owner, err)
            return
        if scope.owner is None:
            with self.host.db.session() as s:
                self.finish_execution(s, "SUCCEEDED", outputs=outputs)
        else:
            self.node_succeeded(scope.owner, outputs)

    # ------------------------------------------------------------------ nodes
    def _start_node(self, scope: Scope, nid: str) -> None:
        """A node's upstream nodes are done: resolve its inputs and start it by kind.

        A node completed before a restart, or recovered from an earlier execution,
        completes at once with its recorded outputs; so does a node of a re-run that
        takes the original's outputs (REUSED), and a node skipped at launch (SKIPPED,
        with the outputs given for it).
        """
        if self.done:
            return
        node = scope.nodes[nid]
        path = scope.path(nid)
        self.scope_of[path] = scope
        self.spec_of[path] = node
        try:
            inputs = {k: values.resolve(b, scope.lookup) for k, b in node.inputs.items()}
        except UserError as exc:
            self.node_failed(path, {"kind": "USER", "type": "UserError", "message": str(exc)})
            return
        if self.rerun is not None:
            inputs = self.rerun.inputs_for(path, inputs)
        self.inputs_of[path] = inputs
        known = self.known.get(path)
        if known is not None and known.phase in COMPLETED and known.outputs is not None:
            if self.rerun is not None and known.phase in ("REUSED", "SKIPPED"):
                self.rerun.reused.add(path)  # resumed: what follows it is decided as before
            self.complete(path, known.outputs, record=False)
            return
        if path in self.skip:
            if self.rerun is not None:
                self.rerun.reused.add(path)  # skipped as in the original: not a reason to run what follows
            self.complete(path, self.skip[path], record=True, phase="SKIPPED")
            return
        if self.rerun is not None and self._reuse(scope, path, node, inputs):
            return
        old = self.recover.get(path)
        if old is not None and node.kind in ("task", "map"):
            with self.host.db.session() as s:
                q.upsert_node(s, self.id, path, entity_name=node.entity, kind=node.kind,
                              phase="SUCCEEDED", inputs=inputs, outputs=old.outputs)
            self.complete(path, old.outputs, record=False)
            return
        kind = node.kind
        try:
            if kind in ("workflow", "launch_plan") and self._from_node_cache(scope, path, node, inputs):
                return
            if kind == "branch":
                self.graphs.start_branch(scope, path, node)
            elif kind == "workflow":
                self.graphs.start_subworkflow(scope, path, node, inputs)
            elif kind == "launch_plan":
                self.children.start(scope, path, node, inputs)
            elif kind == "map":
                self.maps.start(scope, path, node, inputs)
            elif kind == "gate":
                self.gates.start(scope, path, node, inputs)
            else:
                self._start_task(scope, path, node, inputs)
        except (UserError, NotFound) as exc:
            self.node_failed(path, {"kind": "USER", "type": type(exc).__name__, "message": str(exc)})

    def _reuse(self, scope: Scope, path: str, node: NodeSpec, inputs: dict[str, Any]) -> bool:
        """A node of a re-run that takes the original node's outputs: True if it did (REUSED).

        Its outputs are the original's stored refs (no copy, no cache lookup), and
        `reused_from` names the node that produced them.
        """
        assert self.rerun is not None
        upstream = [scope.path(u) for u in node.upstream if u in scope.nodes]
        old = self.rerun.reusable(path, node.kind, inputs, scope.owner, upstream)
        if old is None:
            return False
        eid, source, outputs = self.id, self.rerun.source(old), old.outputs or {}
        self.record_node(path, "REUSED", outputs=outputs)  # in the turn's batch, in the order nodes start
        self.host.write(lambda s: q.upsert_node(s, eid, path, reused_from=source))
        self.complete(path, outputs, record=False)
        return True

    def _from_node_cache(self, scope: Scope, path: str, node: NodeSpec, inputs: dict[str, Any]) -> bool:
        """A subworkflow or launch plan node with a `cache` override (`with_overrides(cache=...)`)
        answers from the cache, as the local engine does: True if it did (CACHE_HIT).

        The key is the task cache's (the node's entity name, interface and input hashes) with
        the override's version, else the entity's registered version. On a miss (or when the
        run overwrites the cache) the node runs, and its outputs are stored when it succeeds.
        """
        cache = (node.overrides or {}).get("cache")
        if not isinstance(cache, dict):
            return False
        want: type[Spec] = WorkflowSpec if node.kind == "workflow" else LaunchPlanSpec
        spec = self.entity_for(scope, node, want)
        versioned = {**cache, "version": cache.get("version") or f"{node.kind}:{spec.version}"}
        key = self.cache.key(spec, inputs, versioned)  # type: ignore[arg-type]
        if not self.cache.overwrite:
            hit = self.cache.lookup(key)
            if hit is not None:
                self.record_node(path, "CACHE_HIT", outputs=hit.outputs)
                self.complete(path, hit.outputs, record=False)
                return True
        self.cache.key_of[path] = key
        return False

    def entity_for(self, scope: Scope, node: NodeSpec, want: type[S]) -> S:
        """The spec a node runs: a pinned reference's at exactly its version (references.py),
        else the entity found by name (the run's version, else the newest)."""
        pin = pin_of(node)
        if pin is None:
            return self.specs.for_node(scope, node.kind, node.entity, want)
        return expect(pinned_spec(self.host, pin), want, node.entity)

    def record_node(self, path: str, phase: str, **fields: Any) -> None:
        """Note a node's move to `phase`, with its entity, kind and inputs as the run knows them."""
        node = self.spec_of[path]
        self.host.note_node(self.id, path, phase, entity_name=node.entity, kind=node.kind,
                            inputs=self.inputs_of.get(path), **fields)

    # ---- tasks
    def task_payload(self, path: str, spec: TaskSpec, inputs: dict[str, Any], attempt: int) -> dict[str, Any]:
        """What a worker needs to run one attempt of a task (see worker.run_attempt).

        `inputs` are value refs; outputs and the log go under the attempt's prefix in
        the object store. The executor adds `items` for a batch of map items. A task that
        requests secrets gets their values from the store (`secrets`, sealed), or the reason
        it cannot (`secret_error`: the worker fails the attempt with it). A memory limit
        (the node's `limits` override, else the task's) goes as `limits`: the worker ends
        an attempt that uses more.
        """
        payload = {
            "execution_id": self.id, "project": self.project, "domain": self.domain,
            "node_path": path, "attempt": attempt, "storage_url": self.host.storage_url,
            "name": spec.name, "code": spec.code, "inputs": inputs,
            "timeout": spec.settings.get("timeout"), "envs": {**(self.settings.get("envs") or {})},
            "output_prefix": f"{self.output_root}/{path}/{attempt}",
            # intra-task checkpoints: this attempt's, then its predecessors' (latest first)
            "checkpoint": {"prefix": f"{self.output_root}/{path}/{attempt}/checkpoint",
                           "previous": [f"{self.output_root}/{path}/{n}/checkpoint" for n in range(attempt - 1, 0, -1)]},
        }
        if spec.settings.get("secret_requests"):
            payload.update(task_secrets(self.host.db, self.project, self.domain, spec))
        overrides = (self.spec_of[path].overrides or {}) if path in self.spec_of else {}
        limits = overrides.get("limits") or spec.settings.get("limits")
        if limits and limits.get("mem") is not None:
            payload["limits"] = {"mem": limits["mem"]}
        return payload

    def _start_task(self, scope: Scope, path: str, node: NodeSpec, inputs: dict[str, Any]) -> None:
        """Start a task (or dynamic) node: from the cache, or as an attempt on Dask.

        The task's settings take the node's overrides (retries, timeout, cache). With
        a `cache` setting, outputs stored under the same cache key complete the node
        as CACHE_HIT, unless the run overwrites the cache; with `serialize`, one run
        at a time computes a key, and a node whose key another run holds waits
        QUEUED (`retry_cache_waits` starts it again). A task asking for resources
        that no worker offers fails at once (USER) instead of waiting on Dask forever.
        """
        spec = with_overrides(self.entity_for(scope, node, TaskSpec), node.overrides)
        self.task_of[path] = spec
        self.cache.key_of.pop(path, None)
        cache = spec.settings.get("cache")
        if cache and not self.settings.get("overwrite_cache_disabled"):
            key = self.cache.key(spec, inputs, cache)
            if not self.cache.overwrite:
                hit = self.cache.lookup(key)
                if hit is not None:
                    self.record_node(path, "CACHE_HIT", outputs=hit.outputs)
                    catalog.link_cache_hit(self.host, self.id, path, hit)
                    self.complete(path, hit.outputs, record=False)
                    return
            if cache.get("serialize") and not self.cache.reserve(path, key):
                self.record_node(path, "QUEUED")
                return
            self.cache.key_of[path] = key
        problem = self.host.unsatisfiable(spec, node.overrides, run=self)
        if problem:
            self.node_failed(path, {"kind": "USER", "type": "ResourceError", "message": problem})
            return
        self._submit(path, spec, inputs)

    def extend_reservations(self) -> None:
        """Heartbeat: keep the cache reservations of running serialized nodes alive."""
        self.cache.extend()

    def retry_cache_waits(self) -> None:
        """Start again the nodes whose turn to look for another run's cached outputs has come."""
        for path in self.cache.due():
            scope = self.scope_of[path]
            self._start_task(scope, path, scope.nodes[scope.node_id(path)], self.inputs_of[path])

    def _submit(self, path: str, spec: TaskSpec, inputs: dict[str, Any]) -> None:
        """Start the next attempt of a task node: the one already queued on Dask, or a new one.

        Under `max_parallelism` a node that finds every place taken waits QUEUED until a
        running task node ends (`_release`); its retries keep its place. Attempts are then
        not queued on Dask ahead of their upstream nodes: that would start them past the bound.
        """
        if self.parallelism is not None and path not in self.in_flight:
            if len(self.in_flight) >= self.parallelism:
                self.held.append((path, spec, inputs))
                self.record_node(path, "QUEUED")
                return
            self.in_flight.add(path)
        queued = self.presubmit.take(path)
        if queued is not None:
            # Already on Dask behind its upstream futures: it runs now that they succeeded.
            fut, number = queued
            self.attempts[path] = number
            self._start_attempt_record(path, number, inputs)
            self.host.note_attempt(self.id, path, number, pool=self.presubmit.pools.pop(path, None))
            self.futures[path] = fut  # watched since it was queued
            self.presubmit.after(path)
            early = self.presubmit.take_early(path, number)
            if early is not None:
                self.host.post(early)  # it ended before its upstream's answer was handled
            return
        attempt = self.attempts.get(path, 0) + 1
        self.attempts[path] = attempt
        self._start_attempt_record(path, attempt, inputs)
        payload = self.task_payload(path, spec, inputs, attempt)
        self.futures[path] = self.host.submit_attempt(self, path, attempt, payload, spec, self.spec_of[path].overrides,
                                                      interruptible=self.interruptible_for(path))
        if self.parallelism is None:
            self.presubmit.after(path)

    def _release(self, path: str) -> None:
        """A task node under `max_parallelism` ended: its place goes to the next waiting node."""
        if path not in self.in_flight:
            return
        self.in_flight.discard(path)
        self._pump()

    def _pump(self) -> None:
        """Start waiting task nodes while `max_parallelism` has places for them."""
        if self._pumping or not self.held:
            return
        self._pumping = True
        try:
            while self.held and len(self.in_flight) < (self.parallelism or 0) and not self.done:
                waiting, spec, inputs = self.held.popleft()
                scope = self.scope_of.get(waiting)
                if scope is None or scope.closed:
                    continue
                nid = scope.node_id(waiting)
                if nid in scope.finished or nid in scope.blocked:
                    continue
                self._submit(waiting, spec, inputs)
        finally:
            self._pumping = False

    def interruptible_for(self, path: str) -> bool | None:
        """False for the last system retry of a node (it must not be preempted again: it runs
        on a pool that is not interruptible); None otherwise (the settings decide)."""
        return False if last_system_retry(self.system_failures.get(path, 0)) else None

    def _start_attempt_record(self, path: str, number: int, inputs: dict[str, Any]) -> None:
        node = self.spec_of[path]
        self.host.note_node(self.id, path, "RUNNING", entity_name=node.entity, kind=node.kind, inputs=inputs)
        self.host.note_attempt(self.id, path, number)

    def on_attempt_done(self, path: str, number: int, result: dict[str, Any] | None, system_error: str | None) -> None:
        """An attempt of a task node ended: record it, then succeed, retry or fail the node.

        Answers of attempts the run no longer waits for (a superseded attempt, a run
        that ended) are ignored, and so is UPSTREAM_FAILED: the attempt was queued
        behind one that failed first, whose handling reschedules this node.

        The blame decides the retry:
        - SYSTEM (`system_error`: no answer came back, the worker was lost or killed):
          retried up to SYSTEM_RETRIES times whatever the task's settings.
        - USER (the answer is FAILED or TIMED_OUT: the task itself raised or ran out
          of time): retried only if the error is recoverable, up to the task's
          `retries`; otherwise the node fails (TIMED_OUT stays its phase).
        Either way the attempts queued behind this one are dropped first. A success
        stores its outputs in the cache (if the task is cached) or, for a dynamic
        node, opens the graph it answered.
        """
        if self.done or path not in self.spec_of or self.attempts.get(path) != number:
            return
        spec = self.task_of[path]
        usage = (result or {}).get("usage") or {}
        if result is not None and result.get("status") == "UPSTREAM_FAILED":
            return  # an upstream attempt failed first; its handling reschedules this node
        if system_error is not None:
            self.presubmit.drop_after(path)
            self.host.note_attempt(self.id, path, number, "FAILED", error_kind="SYSTEM",
                                   error={"message": system_error}, **usage_fields(usage))
            self.system_failures[path] = self.system_failures.get(path, 0) + 1
            if self.system_failures[path] <= SYSTEM_RETRIES:
                self._submit(path, spec, self.inputs_of[path])
            else:
                self.node_failed(path, {"kind": "SYSTEM", "type": "SystemError",
                                        "message": f"{system_error} (after {SYSTEM_RETRIES} system retries)"})
            return
        assert result is not None
        status = result["status"]
        logs = result.get("logs_uri")
        if status == "SUCCEEDED":
            outputs = result.get("outputs") or {}
            self.host.note_attempt(self.id, path, number, "SUCCEEDED", outputs=outputs, logs_uri=logs,
                                   worker=result.get("worker"), pool=result.get("pool"), **usage_fields(usage))
            if "dynamic" in result:
                self._release(path)
                self.graphs.expand_dynamic(path, result["dynamic"])
                return
            if result.get("artifacts"):
                problem = catalog.type_problem(self.host.db, self.project, self.domain, spec.name, result["artifacts"])
                if problem:  # the attempt's versions would not fit the catalog: nothing is recorded
                    self.presubmit.drop_after(path)
                    self.node_failed(path, {"kind": "USER", "type": "ArtifactTypeError", "message": problem})
                    return
                catalog.record(self.host, self.project, self.domain, self.id, path, spec.version,
                               result["artifacts"], outputs)
            if self.cache.key_of.get(path):
                self.cache.store(path, outputs, serialize=bool(spec.settings["cache"].get("serialize")))
            self.node_succeeded(path, outputs)
            return
        error = result.get("error") or {"message": status}
        phase = "TIMED_OUT" if status == "TIMED_OUT" else "FAILED"
        self.presubmit.drop_after(path)
        self.host.note_attempt(self.id, path, number, phase, error_kind="USER", error=error, logs_uri=logs,
                               worker=result.get("worker"), pool=result.get("pool"), **usage_fields(usage))
        self.user_failures[path] = self.user_failures.get(path, 0) + 1
        retries = int(spec.settings.get("retries") or 0)
        if error.get("recoverable") and self.user_failures[path] <= retries:
            self._submit(path, spec, self.inputs_of[path])
            return
        if self.cache.key_of.get(path) and spec.settings["cache"].get("serialize"):
            self.cache.release(path)
        self.node_failed(path, {**error, "phase": phase})

    # ------------------------------------------------------------------ completion
    def node_succeeded(self, path: str, outputs: dict[str, Any]) -> None:
        """Record a node's success and let the nodes waiting for it go."""
        self._release(path)
        node = self.spec_of.get(path)
        if node is not None and node.kind in ("workflow", "launch_plan") and self.cache.key_of.get(path):
            self.cache.store(path, outputs, serialize=False)  # a node cached by its `cache` override
        self.record_node(path, "SUCCEEDED", outputs=outputs)
        self.complete(path, outputs, record=False)

    def complete(self, path: str, outputs: dict[str, Any], *, record: bool, phase: str = "SUCCEEDED") -> None:
        if record:
            self.record_node(path, phase, outputs=outputs)
        scope = self.scope_of[path]
        nid = scope.node_id(path)
        scope.results[nid] = outputs
        scope.finished.add(nid)
        for child in scope.children(nid):
            scope.pending[child] -= 1
            if scope.pending[child] == 0 and child not in scope.blocked:
                self._start_node(scope, child)
        self._maybe_close(scope)

    def _maybe_close(self, scope: Scope) -> None:
        if scope.closed:
            return
        if len(scope.finished) + len(scope.blocked) >= len(scope.nodes):
            self._close_scope(scope)

    def node_failed(self, path: str, error: dict[str, Any], propagate_from: str | None = None) -> None:
        """A node failed for good (retries spent): record it and fail what depends on it.

        `error["phase"]` (FAILED or TIMED_OUT) is the node's phase; `propagate_from`
        names the inner node whose failure this is (a subworkflow's, say). Every node
        downstream of it in its scope is SKIPPED. Under FAIL_IMMEDIATELY the scope's
        other nodes are ABORTED and the scope closes, failing its owner (up to the
        execution); otherwise the scope closes once its other nodes have ended.
        """
        self.in_flight.discard(path)  # its place is given once what it blocks is known (`_pump`)
        phase = error.get("phase", "FAILED")
        error = {k: v for k, v in error.items() if k != "phase"}
        if path in self.spec_of:
            self.record_node(path, phase if phase in ("FAILED", "TIMED_OUT") else "FAILED", error=error)
        scope = self.scope_of.get(path)
        failure = NodeFailed(propagate_from or path, {**error, "phase": phase})
        if scope is None:
            self._fail_execution(failure)
            return
        nid = scope.node_id(path)
        scope.failed.append(failure)
        scope.finished.add(nid)
        stack = [nid]
        while stack:
            for child in scope.children(stack.pop()):
                if child not in scope.blocked:
                    scope.blocked.add(child)
                    self.spec_of[scope.path(child)] = scope.nodes[child]
                    self.record_node(scope.path(child), "SKIPPED")
                    stack.append(child)
        if scope.fail_fast:
            self._cancel_scope(scope, f"stopped: node {path} failed and the workflow fails fast")
            self._close_scope(scope)
        else:
            self._maybe_close(scope)
        self._pump()

    def _cancel_scope(self, scope: Scope, why: str) -> None:
        """Stop every node of the scope that has not ended: its attempt is cancelled and ends
        ABORTED (with its end time and `why`), the node is ABORTED."""
        for nid in scope.nodes:
            path = scope.path(nid)
            if nid in scope.finished or nid in scope.blocked:
                continue
            fut = self.futures.pop(path, None)
            if fut is not None:
                fut.cancel()
                number = self.attempts.get(path)
                if number is not None:  # its answer, if one still comes, is ignored: the run is done
                    self.host.note_attempt(self.id, path, number, "ABORTED",
                                           error={"kind": "ABORTED", "message": why})
            if path in self.spec_of:
                self.record_node(path, "ABORTED")
            scope.blocked.add(nid)
            self.in_flight.discard(path)
        self._pump()

    def _fail_execution(self, failure: NodeFailed) -> None:
        if self.done:
            return
        err = {k: v for k, v in failure.error.items() if k != "phase"}
        err["node"] = failure.path
        phase = "TIMED_OUT" if failure.error.get("phase") == "TIMED_OUT" else "FAILED"
        self._run_on_failure(err)
        with self.host.db.session() as s:
            self.finish_execution(s, phase, error=err)

    def _run_on_failure(self, err: dict[str, Any]) -> None:
        """Run the workflow's failure handler (a task), if it has one, with the error as input."""
        handler = self.root_spec.on_failure if self.root_spec is not None else None
        if not handler:
            return
        try:
            with self.host.db.session() as s:
                spec = expect(self.specs.fetch(s, "task", handler, None), TaskSpec, handler)
            names = {i.name for i in spec.interface.inputs}
            inputs = {k: v for k, v in self.scopes[None].inputs.items() if k in names}
            err_name = next((n for n in ("err", "error") if n in names), None)
            if err_name is not None:  # a handler without `err` is not told the error, as in Flyte
                blob = pickle.dumps(FlyteError(f"{err.get('type', 'Error')}: {err.get('message', '')}",
                                               failed_node_id=err.get("node", "")))
                uri = f"executions/{self.id}/on-failure/err.pkl"
                self.host.storage.put_bytes(uri, blob)
                inputs[err_name] = {"uri": uri, "format": "pickle", "hash": "err"}
            self.host.run_inline_attempt(self, "on-failure", spec, inputs)
        except Exception as exc:  # noqa: BLE001 - the handler's failure must not hide the workflow's
            err["on_failure_error"] = str(exc)

    def finish_execution(self, s: Session, phase: str, *, outputs: Any = None, error: Any = None) -> None:
        """End the execution in `phase` (once): cancel what is still on Dask, record the end,
        and tell the executor (which tells a parent execution)."""
        if self.done:
            return
        self.done = True
        for fut in self.futures.values():
            fut.cancel()
        self.futures.clear()
        self.presubmit.cancel_all()
        eid = self.id
        self.host.write(lambda s: q.set_execution_phase(s, eid, phase, outputs=outputs, error=error))
        self.host.execution_finished(self, phase, outputs, error)

    def abort(self) -> None:
        """Stop the execution at a user's request: workers give their slots back, running
        nodes are ABORTED, child executions are aborted too, and the execution ends ABORTED."""
        if self.done:
            return
        from .worker import abort_marker

        with self.host.db.session() as s:
            error = aborted_error(q.get_execution(s, self.id).settings)
        # Workers poll for this object and give their slots back.
        self.host.storage.put_bytes(abort_marker(self.id), b"aborted")
        for scope in list(self.scope_of.values()) + [self.scopes.get(None)]:
            if scope is not None:
                self._cancel_scope(scope, f"stopped: the execution was {error['message']}")
        self.children.abort_all(f"its parent execution {self.id} was {error['message']}")
        with self.host.db.session() as s:
            self.finish_execution(s, "ABORTED", error=error)
