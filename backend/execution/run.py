"""One execution being driven: its graph scopes, node states and their transitions.

A *scope* is one graph instance: the workflow itself, a subworkflow, a dynamic
expansion or a conditional case. Nodes become ready when their upstream nodes
finish; each transition is written to the database before the executor moves
on, so a restarted backend rebuilds the same state and reruns only what had
not finished.
"""

from __future__ import annotations

import collections
import logging
import math
import pickle
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plait.errors import FlyteError, UserError
from plait.model.keys import cache_key, signature_from_spec
from plait.model.vocab import COMPLETED, stored_kind

from ..store import queries as q
from ..store.errors import NotFound
from . import values

if TYPE_CHECKING:
    from .executor import Executor

log = logging.getLogger("plait.backend.execution.executor")

SYSTEM_RETRIES = 3
MAP_BATCH_TARGET_S = 0.05  # items per batch aim at about this much work


class NodeFailed(Exception):
    def __init__(self, path: str, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.path = path
        self.error = error


@dataclass
class Scope:
    prefix: str
    nodes: dict[str, dict[str, Any]]  # node id -> node spec
    inputs: dict[str, dict[str, Any]]  # workflow input name -> value ref
    outputs: dict[str, Any]  # output name -> binding
    owner: str | None  # path of the node this scope completes (None: the execution)
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    parent: Scope | None = None  # for conditional cases: where outer refs resolve
    fail_fast: bool = True
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # node id -> outputs
    pending: dict[str, int] = field(default_factory=dict)
    failed: list[NodeFailed] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    finished: set[str] = field(default_factory=set)
    closed: bool = False
    downstream: dict[str, list[str]] = field(default_factory=dict)  # node id -> nodes that wait for it

    def __post_init__(self) -> None:
        known = set(self.nodes)
        for nid, spec in self.nodes.items():
            upstream = [u for u in spec.get("upstream", []) if u in known]
            self.pending[nid] = len(upstream)
            for u in dict.fromkeys(upstream):
                self.downstream.setdefault(u, []).append(nid)

    def lookup(self, node_id: str | None, output: str) -> dict[str, Any]:
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
            scope = scope.parent  # type: ignore[assignment]
        raise UserError(f"node `{node_id}` has no recorded output `{output}`")

    def children(self, node_id: str) -> list[str]:
        return self.downstream.get(node_id, [])


@dataclass
class QueuedAttempt:
    """An attempt queued on Dask behind the attempts `upstream` (futures or queued keys)."""

    path: str
    number: int
    key: str
    payload: dict[str, Any]
    upstream: list[Any]
    resources: dict[str, float]

    def ref(self) -> Any:
        from dask.task_spec import TaskRef

        return TaskRef(self.key)


@dataclass
class MapState:
    path: str
    target: dict[str, Any]
    items: list[dict[str, dict[str, Any]]]
    concurrency: int
    min_success_ratio: float
    results: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    errors: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_index: int = 0
    in_flight: int = 0
    batch: int = 1


class ExecutionRun:
    """Drives one execution; all methods run on the executor's loop thread."""

    def __init__(self, executor: Executor, record: Any) -> None:
        self.ex = executor
        self.id = record.id
        self.record = record
        self.settings = dict(record.settings or {})
        self.project, self.domain = record.project, record.domain
        self.version = record.entity_version
        self.scopes: dict[str | None, Scope] = {}
        self.scope_of: dict[str, Scope] = {}  # node path -> its scope
        self.spec_of: dict[str, dict[str, Any]] = {}  # node path -> node spec
        self.attempts: dict[str, int] = {}  # node path -> attempts made (user + system)
        self.user_failures: dict[str, int] = {}
        self.system_failures: dict[str, int] = {}
        self.inputs_of: dict[str, dict[str, Any]] = {}
        self.maps: dict[str, MapState] = {}
        self.futures: dict[str, Any] = {}
        self.presubmitted: dict[str, tuple[Any, int]] = {}  # path -> (future, attempt number)
        self.early: dict[tuple[str, int], tuple[Any, ...]] = {}  # answers of queued attempts not yet started here
        self.waiting_children: dict[str, str] = {}  # child execution id -> node path
        self.waiting_cache: dict[str, tuple[str, float]] = {}  # path -> (cache key, retry at)
        self.reservations: dict[str, str] = {}  # path -> cache key this run holds (serialize=True)
        self.done = False
        self.dyn_depth: dict[str, int] = {}  # path of a dynamic node -> how many dynamic levels deep
        self.known: dict[str, Any] = {}  # node path -> stored node record (resume)
        self.recover: dict[str, Any] = {}

    # ------------------------------------------------------------------ start
    def start(self) -> None:
        with self.ex.db.session() as s:
            rec = q.get_execution(s, self.id)
            if rec.abort_requested:
                self._finish_execution(s, "ABORTED", error={"kind": "USER", "message": "aborted"})
                return
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
                    if n.phase in ("SUCCEEDED", "CACHE_HIT") and n.outputs is not None:
                        self.recover[n.path] = n
            if rec.phase == "QUEUED":
                q.set_execution_phase(s, self.id, "RUNNING")
            spec = self.entity_spec(s, rec.entity_kind, rec.entity_name, rec.entity_version)
        inputs = dict(rec.inputs or {})
        if rec.entity_kind == "launch_plan":
            with self.ex.db.session() as s:
                spec = self.entity_spec(s, "workflow", spec["workflow"], None)
        if rec.entity_kind in ("task", "dynamic"):
            spec = self._single_node_workflow(spec)
        for name, entry in spec["interface"]["inputs"].items():
            if name not in inputs and "default" in entry:
                inputs[name] = values.literal_ref(entry["default"], entry.get("type"))
        fail_fast = spec.get("failure_policy", "FAIL_IMMEDIATELY") == "FAIL_IMMEDIATELY"
        root = Scope("", {n["id"]: n for n in spec["nodes"]}, inputs, spec["outputs"], None, fail_fast=fail_fast)
        self.root_spec = spec
        self.scopes[None] = root
        self._open_scope(root)

    def _single_node_workflow(self, task_spec: dict[str, Any]) -> dict[str, Any]:
        inputs = {n: {"ref": {"node": None, "output": n}} for n in task_spec["interface"]["inputs"]}
        node = {"id": "n0", "kind": task_spec["kind"], "entity": task_spec["name"], "inputs": inputs, "upstream": []}
        outputs = {n: {"ref": {"node": "n0", "output": n}} for n in task_spec["interface"]["outputs"]}
        return {"name": task_spec["name"], "nodes": [node], "outputs": outputs,
                "interface": task_spec["interface"], "failure_policy": "FAIL_IMMEDIATELY"}

    def entity_spec(self, s: Any, kind: str, name: str, version: str | None) -> dict[str, Any]:
        key = f"{kind}:{name}"
        cached = self.ex.spec_cache.get((self.project, self.domain, key, version or self.version))
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        kinds = ("task",) if kind in ("task", "dynamic") else (kind,)
        rec = None
        for k in kinds:
            try:
                rec = q.get_entity(s, k, self.project, self.domain, name, version or self.version)
            except NotFound:
                rec = q.get_entity(s, k, self.project, self.domain, name, None)
        assert rec is not None
        spec = dict(rec.spec)
        spec.setdefault("code", {})
        if rec.bundle_digest and "bundle" not in spec["code"] and "pickle" not in spec["code"]:
            spec["code"] = {**spec["code"], "bundle": rec.bundle_digest}
        self.ex.spec_cache[(self.project, self.domain, key, version or self.version)] = spec
        return spec

    def spec_for_node(self, scope: Scope, node: dict[str, Any]) -> dict[str, Any]:
        name = node["entity"]
        if name in scope.entities:
            return scope.entities[name]
        parent = scope.parent
        while parent is not None:
            if name in parent.entities:
                return parent.entities[name]
            parent = parent.parent
        kind = stored_kind(node["kind"])
        cached = self.ex.spec_cache.get((self.project, self.domain, f"{kind}:{name}", self.version))
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        with self.ex.db.session(readonly=True) as s:
            return self.entity_spec(s, kind, name, None)

    # ------------------------------------------------------------------ scopes
    def _open_scope(self, scope: Scope) -> None:
        if not scope.nodes:
            self._close_scope(scope)
            return
        for nid, count in list(scope.pending.items()):
            if count == 0:
                self._start_node(scope, nid)

    def _close_scope(self, scope: Scope) -> None:
        if scope.closed:
            return
        scope.closed = True
        if scope.failed:
            failure = scope.failed[0]
            if scope.owner is None:
                self._fail_execution(failure)
            else:
                self._node_failed(scope.owner, failure.error, propagate_from=failure.path)
            return
        try:
            outputs = {k: values.resolve(b, scope.lookup) for k, b in scope.outputs.items()}
        except UserError as exc:
            err = {"kind": "USER", "type": "UserError", "message": str(exc)}
            if scope.owner is None:
                self._fail_execution(NodeFailed("", err))
            else:
                self._node_failed(scope.owner, err)
            return
        if scope.owner is None:
            with self.ex.db.session() as s:
                self._finish_execution(s, "SUCCEEDED", outputs=outputs)
        else:
            self._node_succeeded(scope.owner, outputs)

    # ------------------------------------------------------------------ nodes
    def path_of(self, scope: Scope, nid: str) -> str:
        return f"{scope.prefix}{nid}"

    def _start_node(self, scope: Scope, nid: str) -> None:
        if self.done:
            return
        node = scope.nodes[nid]
        path = self.path_of(scope, nid)
        self.scope_of[path] = scope
        self.spec_of[path] = node
        try:
            inputs = {k: values.resolve(b, scope.lookup) for k, b in node["inputs"].items()}
        except UserError as exc:
            self._node_failed(path, {"kind": "USER", "type": "UserError", "message": str(exc)})
            return
        self.inputs_of[path] = inputs
        known = self.known.get(path)
        if known is not None and known.phase in COMPLETED and known.outputs is not None:
            self._complete(path, known.outputs, record=False)
            return
        old = self.recover.get(path)
        if old is not None and node["kind"] in ("task", "map"):
            with self.ex.db.session() as s:
                q.upsert_node(s, self.id, path, entity_name=node["entity"], kind=node["kind"],
                              phase="SUCCEEDED", inputs=inputs, outputs=old.outputs)
            self._complete(path, old.outputs, record=False)
            return
        kind = node["kind"]
        try:
            if kind == "branch":
                self._start_branch(scope, path, node)
            elif kind == "workflow":
                self._start_subworkflow(scope, path, node, inputs)
            elif kind == "launch_plan":
                self._start_child(scope, path, node, inputs)
            elif kind == "map":
                self._start_map(scope, path, node, inputs)
            else:
                self._start_task(scope, path, node, inputs)
        except (UserError, NotFound) as exc:
            self._node_failed(path, {"kind": "USER", "type": type(exc).__name__, "message": str(exc)})

    def _record_node(self, path: str, phase: str, **kw: Any) -> None:
        node = self.spec_of[path]
        self.ex.note_node(self.id, path, phase, entity_name=node["entity"], kind=node["kind"],
                          inputs=self.inputs_of.get(path), **kw)

    def _start_attempt_record(self, path: str, number: int, inputs: dict[str, Any]) -> None:
        node = self.spec_of[path]
        self.ex.note_node(self.id, path, "RUNNING", entity_name=node["entity"], kind=node["kind"], inputs=inputs)
        self.ex.note_attempt(self.id, path, number)

    def _finish_attempt_record(self, path: str, number: int, phase: str, **kw: Any) -> None:
        self.ex.note_attempt(self.id, path, number, phase, **kw)

    # ---- tasks
    def _task_payload(self, path: str, spec: dict[str, Any], inputs: dict[str, Any], attempt: int) -> dict[str, Any]:
        settings = spec.get("settings", {})
        envs = {**(self.settings.get("envs") or {})}
        return {
            "execution_id": self.id, "project": self.project, "domain": self.domain,
            "node_path": path, "attempt": attempt, "storage_url": self.ex.storage_url,
            "name": spec["name"], "code": spec.get("code", {}), "inputs": inputs,
            "timeout": settings.get("timeout"), "envs": envs,
            "output_prefix": f"executions/{self.id}/{path}/{attempt}",
        }

    def _cache_key(self, spec: dict[str, Any], inputs: dict[str, Any], cache: dict[str, Any]) -> str:
        ignored = cache.get("ignored_inputs") or []
        types = {n: e["type"] for n, e in spec["interface"]["inputs"].items()}
        hashes = {}
        for n, ref in inputs.items():
            if n in ignored:
                continue
            if "literal" in ref and "path" not in ref:
                ref = values.literal_ref(ref["literal"], types.get(n))
            hashes[n] = values.ref_hash(ref)
        version = cache.get("resolved_version") or cache.get("version") or ""
        return cache_key(version, signature_from_spec(spec["name"], spec["interface"]), hashes, ignored)

    def _start_task(self, scope: Scope, path: str, node: dict[str, Any], inputs: dict[str, Any]) -> None:
        spec = self.spec_for_node(scope, node)
        overrides = node.get("overrides") or {}
        settings = {**spec.get("settings", {}), **{k: v for k, v in overrides.items() if k in ("retries", "timeout", "cache")}}
        spec = {**spec, "settings": settings}
        self.spec_of[path] = {**node, "_entity": spec}
        cache = settings.get("cache")
        if cache and not self.settings.get("overwrite_cache_disabled"):
            key = self._cache_key(spec, inputs, cache)
            if not self.settings.get("overwrite_cache"):
                with self.ex.db.session() as s:
                    hit = q.cache_get(s, self.project, self.domain, key)
                if hit is not None:
                    self._record_node(path, "CACHE_HIT", outputs=hit.outputs)
                    self._complete(path, hit.outputs, record=False)
                    return
            if cache.get("serialize"):
                with self.ex.db.session() as s:
                    held = q.cache_reserve(s, self.project, self.domain, key, self.ex.owner + "/" + self.id + "/" + path, self.ex.reservation_ttl)
                if not held:
                    self.waiting_cache[path] = (key, time.monotonic() + 0.2)
                    self._record_node(path, "QUEUED")
                    return
                self.reservations[path] = key  # extended by the executor while it runs
            self.spec_of[path]["_cache_key"] = key
        problem = self.ex.unsatisfiable(spec, overrides)
        if problem:
            self._node_failed(path, {"kind": "USER", "type": "ResourceError", "message": problem})
            return
        self._submit(path, spec, inputs)

    def extend_reservations(self) -> None:
        """Heartbeat: keep the cache reservations of running serialized nodes alive."""
        project, domain, ttl = self.project, self.domain, self.ex.reservation_ttl
        for path, key in list(self.reservations.items()):
            owner = self.ex.owner + "/" + self.id + "/" + path
            self.ex.write(lambda s, key=key, owner=owner: q.cache_extend(s, project, domain, key, owner, ttl))

    def retry_cache_waits(self) -> None:
        now = time.monotonic()
        for path, (_key, at) in list(self.waiting_cache.items()):
            if at > now:
                continue
            del self.waiting_cache[path]
            scope = self.scope_of[path]
            node = scope.nodes[path[len(scope.prefix):]]
            self._start_task(scope, path, node, self.inputs_of[path])

    def _submit(self, path: str, spec: dict[str, Any], inputs: dict[str, Any]) -> None:
        pre = self.presubmitted.pop(path, None)
        if pre is not None:
            # Already on Dask behind its upstream futures: it runs now that they succeeded.
            fut, number = pre
            self.attempts[path] = number
            self._start_attempt_record(path, number, inputs)
            self.futures[path] = fut  # watched since it was queued
            self._presubmit_after(path)
            early = self.early.pop((path, number), None)
            if early is not None:
                self.ex.events.put(early)  # it ended before its upstream's answer was handled
            return
        attempt = self.attempts.get(path, 0) + 1
        self.attempts[path] = attempt
        self._start_attempt_record(path, attempt, inputs)
        payload = self._task_payload(path, spec, inputs, attempt)
        self.ex.submit_attempt(self, path, attempt, payload, spec, self.spec_of[path].get("overrides") or {})
        self._presubmit_after(path)

    # Plain task nodes whose upstream tasks are still running are handed to Dask
    # at once, with the upstream attempts' answers as arguments: Dask then starts each
    # as soon as its inputs exist, without a round trip through the executor. What can
    # be queued behind one node (a whole chain, say) goes to Dask in one message.
    PRESUBMIT_WINDOW = 1000

    def _presubmit_after(self, path: str) -> None:
        queued: list[QueuedAttempt] = []
        try:
            self._queue_children(path, queued)
        finally:
            if queued:
                try:
                    futures = self.ex.submit_queued(queued)
                except Exception:
                    for entry in queued:
                        self.presubmitted.pop(entry.path, None)
                    raise
                for entry, fut in zip(queued, futures, strict=True):
                    self.presubmitted[entry.path] = (fut, entry.number)
                for entry, fut in zip(queued, futures, strict=True):
                    self.ex.watch_attempt(self, entry.path, entry.number, fut, poll=self.followed_on_dask(entry.path))

    def _queue_children(self, path: str, queued: list[QueuedAttempt]) -> None:
        """Queue what waits for `path`, then what waits for those, and so on (each entry of
        `queued` comes after the entries it waits for)."""
        todo = collections.deque([path])
        while todo:
            current = todo.popleft()
            scope = self.scope_of.get(current)
            if scope is None or not scope.fail_fast:
                continue
            for child in scope.children(current[len(scope.prefix):]):
                if len(self.presubmitted) >= self.PRESUBMIT_WINDOW:
                    return
                if self._queue(scope, child, queued):
                    todo.append(self.path_of(scope, child))

    def _queue(self, scope: Scope, nid: str, queued: list[QueuedAttempt]) -> bool:
        path = self.path_of(scope, nid)
        node = scope.nodes[nid]
        if (node["kind"] != "task" or path in self.presubmitted or path in self.futures
                or nid in scope.results or path in self.known or path in self.recover):
            return False
        upstream = [u for u in node.get("upstream", []) if u in scope.nodes]
        refs: dict[str, Any] = {}  # upstream node id -> its future (or the key queued for it)
        for u in upstream:
            up = self.path_of(scope, u)
            if u in scope.results:
                continue
            if scope.nodes[u]["kind"] != "task":
                return False  # a dynamic node's answer is a graph, not outputs
            fut = self.futures.get(up) or (self.presubmitted.get(up) or (None,))[0]
            if fut is None:
                return False
            refs[u] = fut
        try:
            spec = self.spec_for_node(scope, node)
        except (UserError, NotFound):
            return False
        overrides = node.get("overrides") or {}
        settings = {**spec.get("settings", {}), **{k: v for k, v in overrides.items() if k in ("retries", "timeout", "cache")}}
        if settings.get("cache"):
            return False
        order = {u: i for i, u in enumerate(refs)}

        def lookup(node_id: str | None, output: str) -> dict[str, Any]:
            if node_id in order:
                return {"upstream": order[node_id], "output": output}
            return scope.lookup(node_id, output)

        try:
            inputs = {k: values.resolve(b, lookup) for k, b in node["inputs"].items()}
        except (UserError, KeyError):
            return False
        spec = {**spec, "settings": settings}
        number = self.attempts.get(path, 0) + 1
        entry = QueuedAttempt(path, number, self.ex.attempt_key(self.id, path, number),
                              self._task_payload(path, spec, inputs, number), list(refs.values()),
                              self.ex.dask_resources(spec, overrides))
        queued.append(entry)
        self.presubmitted[path] = (entry.ref(), number)  # the future once the batch is on Dask
        self.scope_of[path] = scope
        return True

    def followed_on_dask(self, path: str) -> bool:
        """Whether every node waiting for `path` is already on Dask behind it."""
        scope = self.scope_of.get(path)
        if scope is None:
            return False
        children = [self.path_of(scope, c) for c in scope.children(path[len(scope.prefix):])]
        return bool(children) and all(c in self.presubmitted or c in self.futures for c in children)

    def keep_early(self, path: str, number: int, event: tuple[Any, ...]) -> bool:
        """Keep the answer of a queued attempt that ended before this run started it (its
        upstream's answer is still on its way); `_submit` hands it back then."""
        pre = self.presubmitted.get(path)
        if pre is None or pre[1] != number:
            return False
        self.early[(path, number)] = event
        return True

    def _drop_presubmitted(self, path: str) -> None:
        """An upstream attempt failed: what was queued behind it must wait for the retry."""
        scope = self.scope_of.get(path)
        if scope is None:
            return
        stack = [path[len(scope.prefix):]]
        while stack:
            for child in scope.children(stack.pop()):
                cp = self.path_of(scope, child)
                pre = self.presubmitted.pop(cp, None)
                if pre is not None:
                    pre[0].cancel()
                    self.early.pop((cp, pre[1]), None)
                    stack.append(child)

    def on_attempt_done(self, path: str, number: int, result: dict[str, Any] | None, system_error: str | None) -> None:
        if self.done or path not in self.spec_of or self.attempts.get(path) != number:
            return
        node = self.spec_of[path]
        spec = node["_entity"]
        usage = (result or {}).get("usage") or {}
        if result is not None and result.get("status") == "UPSTREAM_FAILED":
            return  # an upstream attempt failed first; its handling reschedules this node
        if system_error is not None:
            self._drop_presubmitted(path)
            self._finish_attempt_record(path, number, "FAILED", error_kind="SYSTEM",
                                        error={"message": system_error}, **_usage(usage))
            self.system_failures[path] = self.system_failures.get(path, 0) + 1
            if self.system_failures[path] <= SYSTEM_RETRIES:
                self._submit(path, spec, self.inputs_of[path])
            else:
                self._node_failed(path, {"kind": "SYSTEM", "type": "SystemError",
                                         "message": f"{system_error} (after {SYSTEM_RETRIES} system retries)"})
            return
        assert result is not None
        status = result["status"]
        logs = result.get("logs_uri")
        if status == "SUCCEEDED":
            outputs = result.get("outputs") or {}
            self._finish_attempt_record(path, number, "SUCCEEDED", outputs=outputs, logs_uri=logs,
                                        worker=result.get("worker"), **_usage(usage))
            if "dynamic" in result:
                self._expand_dynamic(path, result["dynamic"])
                return
            key = node.get("_cache_key")
            if key:
                project, domain, eid = self.project, self.domain, self.id
                owner = self.ex.owner + "/" + self.id + "/" + path
                serialize = spec["settings"]["cache"].get("serialize")

                overwrite = bool(self.settings.get("overwrite_cache"))

                def write(s: Any) -> None:
                    q.cache_put(s, project, domain, key, outputs, execution_id=eid, node_path=path,
                                overwrite=overwrite)
                    if serialize:
                        q.cache_release(s, project, domain, key, owner)

                self.reservations.pop(path, None)
                self.ex.write(write)
            self._node_succeeded(path, outputs)
            return
        error = result.get("error") or {"message": status}
        phase = "TIMED_OUT" if status == "TIMED_OUT" else "FAILED"
        self._drop_presubmitted(path)
        self._finish_attempt_record(path, number, phase, error_kind="USER", error=error, logs_uri=logs,
                                    worker=result.get("worker"), **_usage(usage))
        self.user_failures[path] = self.user_failures.get(path, 0) + 1
        retries = int(spec.get("settings", {}).get("retries") or 0)
        if error.get("recoverable") and self.user_failures[path] <= retries:
            self._submit(path, spec, self.inputs_of[path])
            return
        key = node.get("_cache_key")
        if key and spec["settings"]["cache"].get("serialize"):
            project, domain, owner = self.project, self.domain, self.ex.owner + "/" + self.id + "/" + path
            self.reservations.pop(path, None)
            self.ex.write(lambda s: q.cache_release(s, project, domain, key, owner))
        self._node_failed(path, {**error, "phase": phase})

    # ---- dynamic
    def _expand_dynamic(self, path: str, dyn: dict[str, Any]) -> None:
        self.ex.storage.put_json(f"executions/{self.id}/{path}/dynamic.json", dyn)
        parent = self.scope_of[path]
        scope = Scope(f"{path}-", {n["id"]: n for n in dyn["nodes"]}, {}, dyn["outputs"], path,
                      entities={**parent.entities, **(dyn.get("entities") or {})})
        parts = path.split("-")
        parent_depth = next((self.dyn_depth["-".join(parts[:i])] for i in range(len(parts) - 1, 0, -1)
                             if "-".join(parts[:i]) in self.dyn_depth), 0)
        depth = self.dyn_depth[path] = parent_depth + 1
        if depth > self.ex.max_dynamic_depth:
            self._node_failed(path, {"kind": "USER", "type": "UserError", "message":
                                     f"dynamic workflows nested {depth} levels deep, past the limit of "
                                     f"{self.ex.max_dynamic_depth}; check the recursion's base case"})
            return
        self._open_scope(scope)

    # ---- subworkflows, branches, child executions
    def _start_subworkflow(self, scope: Scope, path: str, node: dict[str, Any], inputs: dict[str, Any]) -> None:
        spec = self.spec_for_node(scope, node)
        self._record_node(path, "RUNNING")
        sub = Scope(f"{path}-", {n["id"]: n for n in spec["nodes"]}, inputs, spec["outputs"], path,
                    entities=scope.entities,
                    fail_fast=spec.get("failure_policy", "FAIL_IMMEDIATELY") == "FAIL_IMMEDIATELY")
        self._open_scope(sub)

    def _start_branch(self, scope: Scope, path: str, node: dict[str, Any]) -> None:
        self._record_node(path, "RUNNING")
        chosen = None
        for case in node["branch"]["cases"]:
            if case["condition"] is None or values.condition_holds(case["condition"], scope.lookup):
                chosen = case
                break
        for case in node["branch"]["cases"]:
            if case is chosen:
                continue
            for n in case["nodes"]:
                p = f"{scope.prefix}{n['id']}"
                self.spec_of[p] = n
                self._record_node(p, "SKIPPED")
        if chosen is None:
            self._complete(path, {}, record=True, phase="SKIPPED")
            return
        if "fail" in chosen:
            self._node_failed(path, {"kind": "USER", "type": "UserError",
                                     "message": f"conditional `{node['entity']}` failed: {chosen['fail']}"})
            return
        outputs = {k: v for k, v in (chosen.get("outputs") or {}).items() if v}
        case_scope = Scope(scope.prefix, {n["id"]: n for n in chosen["nodes"]}, {}, outputs, path,
                           entities=scope.entities, parent=scope)
        self._open_scope(case_scope)

    def _start_child(self, scope: Scope, path: str, node: dict[str, Any], inputs: dict[str, Any]) -> None:
        spec = self.spec_for_node(scope, node)
        child_id = f"{self.id}-{path}"
        with self.ex.db.session() as s:
            try:
                child = q.get_execution(s, child_id)
                if child.phase in ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"):
                    self.waiting_children[child_id] = path
                    self.ex.events.put(("child", self.id, child_id, child.phase, child.outputs, child.error))
                    return
            except NotFound:
                self._create_child(s, child_id, spec, inputs, path)
            q.upsert_node(s, self.id, path, entity_name=node["entity"], kind=node["kind"], phase="RUNNING", inputs=inputs)
        self.waiting_children[child_id] = path
        self.ex.submit(child_id)

    def _create_child(self, s: Any, child_id: str, lp: dict[str, Any], inputs: dict[str, Any], path: str) -> None:
        """A child execution of a launch plan: its workflow, run with the plan's inputs."""
        merged = {**{k: values.literal_ref(v) for k, v in (lp.get("default_inputs") or {}).items()},
                  **inputs,
                  **{k: values.literal_ref(v) for k, v in (lp.get("fixed_inputs") or {}).items()}}
        version = lp.get("version") or self.version
        q.create_execution(
            s, id=child_id, project=self.project, domain=self.domain, entity_kind="workflow",
            entity_name=lp.get("workflow") or lp["name"], entity_version=version,
            launch_plan_name=lp["name"], launch_plan_version=version, inputs=merged,
            settings={k: v for k, v in self.settings.items() if k in ("envs", "overwrite_cache")},
            parent_execution_id=self.id, parent_node_path=path)

    def on_child_done(self, child_id: str, phase: str, outputs: dict[str, Any] | None, error: Any) -> None:
        path = self.waiting_children.pop(child_id, None)
        if path is None:
            return
        if path in self.maps:
            index = int(child_id.rsplit("-", 1)[1])
            self._map_item_done(path, index, outputs if phase == "SUCCEEDED" else None,
                                None if phase == "SUCCEEDED" else (error or {"message": phase}))
            return
        if phase == "SUCCEEDED":
            self._node_succeeded(path, outputs or {})
        else:
            self._node_failed(path, error or {"kind": "USER", "message": f"child execution {child_id} {phase}"})

    # ---- map
    def _start_map(self, scope: Scope, path: str, node: dict[str, Any], inputs: dict[str, Any]) -> None:
        info = node["map"]
        target_kind = info.get("target_kind", "task")
        target = self.spec_for_node(scope, {**node, "entity": info["target"], "kind": target_kind})
        bound = set(info.get("bound_inputs") or [])
        mapped = [n for n in inputs if n not in bound]
        lists = {n: values.items_of(inputs[n]) for n in mapped}
        lengths = {n: len(v) for n, v in lists.items()}
        if len(set(lengths.values())) > 1:
            raise UserError(f"map over `{info['target']}`: mapped inputs have different lengths {lengths}")
        count = next(iter(lengths.values()), 0)
        fixed = {n: inputs[n] for n in inputs if n in bound}
        fixed.update({n: values.literal_ref(v) for n, v in (info.get("bound_values") or {}).items()})
        if target_kind == "task":
            overrides = node.get("overrides") or {}
            settings = {**target.get("settings", {}), **{k: v for k, v in overrides.items() if k in ("retries", "timeout")}}
            target = {**target, "settings": settings}
        items = [{**fixed, **{n: lists[n][i] for n in mapped}} for i in range(count)]
        concurrency = (node.get("overrides") or {}).get("concurrency") or info.get("concurrency") or 0
        ratio = (node.get("overrides") or {}).get("min_success_ratio", info.get("min_success_ratio", 1.0))
        state = MapState(path, target, items, int(concurrency), float(ratio))
        self.maps[path] = state
        self.spec_of[path] = {**node, "_entity": target}
        self._record_node(path, "RUNNING")
        if count == 0:
            self._finish_map(state)
            return
        state.batch = self.ex.map_batch_size(count, state.concurrency)
        self._pump_map(state)

    def _pump_map(self, state: MapState) -> None:
        window = self.ex.map_window(state.concurrency)
        while state.next_index < len(state.items) and state.in_flight < window:
            start = state.next_index
            size = 1 if state.concurrency else state.batch
            indices = list(range(start, min(start + size, len(state.items))))
            state.next_index = indices[-1] + 1
            state.in_flight += 1
            if state.target["kind"] == "launch_plan":
                for i in indices:
                    self._start_map_child(state, i)
            else:
                self.ex.submit_items(self, state, indices)

    def _start_map_child(self, state: MapState, index: int) -> None:
        child_id = f"{self.id}-{state.path}-{index}"
        with self.ex.db.session() as s:
            try:
                q.get_execution(s, child_id)
            except NotFound:
                self._create_child(s, child_id, state.target, state.items[index], f"{state.path}-{index}")
        self.waiting_children[child_id] = state.path
        self.ex.submit(child_id)

    def on_items_done(self, path: str, results: list[tuple[int, dict[str, Any] | None, str | None]],
                      batch: dict[str, Any] | None = None) -> None:
        state = self.maps.get(path)
        if state is None or self.done:
            return
        state.in_flight -= 1
        if batch is not None and results:
            self._record_batch(path, results, batch)
        retry: list[int] = []
        for index, result, system_error in results:
            if system_error is not None:
                retry.append(index)
                continue
            assert result is not None
            if result["status"] == "SUCCEEDED":
                state.results[index] = result.get("outputs") or {}
            else:
                err = result.get("error") or {}
                fails = self.user_failures.get(f"{path}-{index}", 0) + 1
                self.user_failures[f"{path}-{index}"] = fails
                if err.get("recoverable") and fails <= int(state.target.get("settings", {}).get("retries") or 0):
                    retry.append(index)
                else:
                    state.results[index] = None
                    state.errors[index] = err
        lost = [i for i, _, err in results if err is not None]
        if lost:
            # A lost batch is a SYSTEM failure of the map node: recorded as an attempt.
            number = self.attempts.get(path, 0) + 1
            self.attempts[path] = number
            node, eid = self.spec_of[path], self.id
            message = f"items {lost[0]}..{lost[-1]} lost their worker: {results[0][2]}"

            def write(s: Any) -> None:
                q.node_transition(s, eid, path, "RUNNING", entity_name=node["entity"], kind=node["kind"])
                attempt = q.attempt_begin(s, eid, path, number)
                q.attempt_end(s, attempt, "FAILED", error_kind="SYSTEM", error={"message": message})

            self.ex.write(write)
        if retry:
            sys_key = f"{path}-system"
            self.system_failures[sys_key] = self.system_failures.get(sys_key, 0) + 1
            if self.system_failures[sys_key] > SYSTEM_RETRIES * max(1, len(state.items) // 100 + 1):
                self._node_failed(path, {"kind": "SYSTEM", "message": "map items kept losing their workers"})
                return
            state.in_flight += 1
            self.ex.submit_items(self, state, retry)
        self._map_progress(state)

    def _record_batch(self, path: str, results: list[Any], batch: dict[str, Any]) -> None:
        """A batch of map items is a child node `<map>-<first item>`, with its log, worker and usage."""
        first, last = results[0][0], results[-1][0]
        child = f"{path}-{first}"
        number = self.attempts.get(child, 0) + 1
        self.attempts[child] = number
        node, eid = self.spec_of[path], self.id
        failed = [i for i, r, _ in results if r is None or r.get("status") != "SUCCEEDED"]
        phase = "FAILED" if failed else "SUCCEEDED"
        error = {"message": f"items {failed} of {first}..{last} failed"} if failed else None
        usage = _usage(batch.get("usage") or {})
        entity = node.get("_entity", {}).get("name") or node["entity"]

        def write(s: Any) -> None:
            q.node_transition(s, eid, child, "RUNNING", entity_name=f"{entity}[{first}..{last}]", kind="task")
            attempt = q.attempt_begin(s, eid, child, number)
            q.attempt_end(s, attempt, phase, error_kind="USER" if failed else None, error=error,
                          logs_uri=batch.get("logs_uri"), worker=batch.get("worker"), **usage)
            q.node_transition(s, eid, child, phase, error=error if failed else q.UNSET)

        self.ex.write(write)

    def _map_item_done(self, path: str, index: int, outputs: dict[str, Any] | None, error: Any) -> None:
        state = self.maps[path]
        state.in_flight -= 1
        state.results[index] = outputs
        if outputs is None:
            state.errors[index] = error or {}
        self._map_progress(state)

    def _map_progress(self, state: MapState) -> None:
        count = len(state.items)
        needed = math.ceil(state.min_success_ratio * count - 1e-9)
        if len(state.errors) > count - needed:
            first = min(state.errors)
            err = state.errors[first]
            self.maps.pop(state.path, None)
            self._node_failed(state.path, {
                "kind": err.get("kind", "USER"), "type": err.get("type", "Error"),
                "message": f"map over `{state.target['name']}`: {len(state.errors)} of {count} item(s) failed "
                           f"(at least {needed} must succeed); first failure at item {first}: {err.get('message', '')}",
            })
            return
        if len(state.results) == count:
            self._finish_map(state)
        else:
            self._pump_map(state)

    def _finish_map(self, state: MapState) -> None:
        self.maps.pop(state.path, None)
        names = list(state.target["interface"]["outputs"])
        outputs = {}
        for name in names:
            refs = []
            for i in range(len(state.items)):
                r = state.results.get(i)
                refs.append(r[name] if r is not None else {"literal": None, "hash": "N:None"})
            outputs[name] = values.combine_list(refs)
        self._node_succeeded(state.path, outputs)

    # ------------------------------------------------------------------ completion
    def _node_succeeded(self, path: str, outputs: dict[str, Any]) -> None:
        self._record_node(path, "SUCCEEDED", outputs=outputs)
        self._complete(path, outputs, record=False)

    def _complete(self, path: str, outputs: dict[str, Any], *, record: bool, phase: str = "SUCCEEDED") -> None:
        if record:
            self._record_node(path, phase, outputs=outputs)
        scope = self.scope_of[path]
        nid = path[len(scope.prefix):]
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

    def _node_failed(self, path: str, error: dict[str, Any], propagate_from: str | None = None) -> None:
        phase = error.get("phase", "FAILED")
        error = {k: v for k, v in error.items() if k != "phase"}
        if path in self.spec_of:
            self._record_node(path, phase if phase in ("FAILED", "TIMED_OUT") else "FAILED", error=error)
        scope = self.scope_of.get(path)
        failure = NodeFailed(propagate_from or path, {**error, "phase": phase})
        if scope is None:
            self._fail_execution(failure)
            return
        nid = path[len(scope.prefix):]
        scope.failed.append(failure)
        scope.finished.add(nid)
        stack = [nid]
        while stack:
            for child in scope.children(stack.pop()):
                if child not in scope.blocked:
                    scope.blocked.add(child)
                    self.spec_of[self.path_of(scope, child)] = scope.nodes[child]
                    self._record_node(self.path_of(scope, child), "SKIPPED")
                    stack.append(child)
        if scope.fail_fast:
            self._cancel_scope(scope)
            self._close_scope(scope)
        else:
            self._maybe_close(scope)

    def _cancel_scope(self, scope: Scope) -> None:
        for nid in scope.nodes:
            path = self.path_of(scope, nid)
            if nid in scope.finished or nid in scope.blocked:
                continue
            fut = self.futures.pop(path, None)
            if fut is not None:
                fut.cancel()
            if path in self.spec_of:
                self._record_node(path, "ABORTED")
            scope.blocked.add(nid)

    def _fail_execution(self, failure: NodeFailed) -> None:
        if self.done:
            return
        err = {k: v for k, v in failure.error.items() if k != "phase"}
        err["node"] = failure.path
        phase = "TIMED_OUT" if failure.error.get("phase") == "TIMED_OUT" else "FAILED"
        self._run_on_failure(err)
        with self.ex.db.session() as s:
            self._finish_execution(s, phase, error=err)

    def _run_on_failure(self, err: dict[str, Any]) -> None:
        handler = self.root_spec.get("on_failure") if hasattr(self, "root_spec") else None
        if not handler:
            return
        try:
            with self.ex.db.session() as s:
                spec = self.entity_spec(s, "task", handler, None)
            inputs = {k: v for k, v in self.scopes[None].inputs.items() if k in spec["interface"]["inputs"]}
            err_name = "err" if "err" in spec["interface"]["inputs"] else "error"
            blob = pickle.dumps(FlyteError(f"{err.get('type', 'Error')}: {err.get('message', '')}",
                                           failed_node_id=err.get("node", "")))
            uri = f"executions/{self.id}/on-failure/err.pkl"
            self.ex.storage.put_bytes(uri, blob)
            inputs[err_name] = {"uri": uri, "format": "pickle", "hash": "err"}
            self.ex.run_inline_attempt(self, "on-failure", spec, inputs)
        except Exception as exc:  # noqa: BLE001 - the handler's failure must not hide the workflow's
            err["on_failure_error"] = str(exc)

    def _finish_execution(self, s: Any, phase: str, *, outputs: Any = None, error: Any = None) -> None:
        if self.done:
            return
        self.done = True
        for fut in [*self.futures.values(), *(f for f, _ in self.presubmitted.values())]:
            fut.cancel()
        self.futures.clear()
        self.presubmitted.clear()
        eid = self.id
        self.ex.write(lambda s: q.set_execution_phase(s, eid, phase, outputs=outputs, error=error))
        self.ex.execution_finished(self, phase, outputs, error)

    def abort(self) -> None:
        if self.done:
            return
        from .worker import abort_marker

        # Workers poll for this object and give their slots back.
        self.ex.storage.put_bytes(abort_marker(self.id), b"aborted")
        for scope in list(self.scope_of.values()) + [self.scopes.get(None)]:
            if scope is not None:
                self._cancel_scope(scope)
        for child in list(self.waiting_children):
            try:
                with self.ex.db.session() as s:
                    q.request_abort(s, child)
            except Exception:  # noqa: BLE001 - the child may have ended meanwhile
                pass
            self.ex.abort(child)
        with self.ex.db.session() as s:
            self._finish_execution(s, "ABORTED", error={"kind": "USER", "message": "aborted by request"})


def _usage(usage: dict[str, Any]) -> dict[str, Any]:
    return {k: usage.get(k) for k in ("cpu_peak", "cpu_avg", "mem_peak", "mem_avg")}
