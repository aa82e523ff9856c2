"""Pipelining: attempts handed to Dask before the attempts they wait for have ended.

Plain task nodes whose upstream tasks are still running are handed to Dask at
once, with the upstream attempts' answers as arguments: Dask then starts each
as soon as its inputs exist, without a round trip through the executor. What
can be queued behind one node (a whole chain, say) goes to Dask in one message.

The run still starts each node itself when its upstream nodes have succeeded
(`ExecutionRun._submit` takes the queued attempt instead of submitting a new
one); an attempt queued here only runs earlier. If an upstream attempt fails,
what was queued behind it is cancelled and waits for the retry like any node;
a queued attempt that runs anyway answers UPSTREAM_FAILED.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plait.errors import UserError
from plait.model.specs import TaskSpec

from ..store.errors import NotFound
from . import values
from .entities import with_overrides

if TYPE_CHECKING:
    from .ports import DaskFuture, Event
    from .run import ExecutionRun
    from .scope import Scope

WINDOW = 1000  # at most this many attempts of one run queued ahead


@dataclass
class QueuedAttempt:
    """An attempt queued on Dask behind the attempts `upstream` (futures or queued keys)."""

    path: str
    number: int
    key: str
    payload: dict[str, Any]
    upstream: list[Any]
    resources: dict[str, float]
    pool: str | None = None  # the pool it is routed to (cluster.py)

    def ref(self) -> Any:
        from dask.task_spec import TaskRef

        return TaskRef(self.key)


class Presubmit:
    """The attempts of one run that are on Dask ahead of their node's start."""

    def __init__(self, run: ExecutionRun) -> None:
        self.run = run
        self.queued: dict[str, tuple[DaskFuture, int]] = {}  # path -> (future, attempt number)
        self.early: dict[tuple[str, int], Event] = {}  # answers of queued attempts not yet started
        self.pools: dict[str, str] = {}  # path -> the pool its queued attempt is routed to

    def __contains__(self, path: str) -> bool:
        return path in self.queued

    def future(self, path: str) -> DaskFuture | None:
        """The future of the attempt queued for `path`, if any."""
        queued = self.queued.get(path)
        return None if queued is None else queued[0]

    def take(self, path: str) -> tuple[DaskFuture, int] | None:
        """The node at `path` starts: its queued attempt (future, number), if one is on Dask."""
        return self.queued.pop(path, None)

    def take_early(self, path: str, number: int) -> Event | None:
        """The answer of a taken attempt that ended before its node started (see `keep_early`)."""
        return self.early.pop((path, number), None)

    def after(self, path: str) -> None:
        """An attempt of `path` is on Dask: queue behind it what waits for it, and so on."""
        queued: list[QueuedAttempt] = []
        host = self.run.host
        try:
            self._queue_children(path, queued)
        finally:
            if queued:
                try:
                    futures = host.submit_queued(queued, priority=self.run.priority)
                except Exception:
                    for entry in queued:
                        self.queued.pop(entry.path, None)
                        self.pools.pop(entry.path, None)
                    raise
                for entry, fut in zip(queued, futures, strict=True):
                    self.queued[entry.path] = (fut, entry.number)
                for entry, fut in zip(queued, futures, strict=True):
                    host.watch_attempt(self.run, entry.path, entry.number, fut,
                                       poll=self.followed_on_dask(entry.path))

    def _queue_children(self, path: str, queued: list[QueuedAttempt]) -> None:
        """Queue what waits for `path`, then what waits for those, and so on (each entry of
        `queued` comes after the entries it waits for)."""
        scope_of = self.run.scope_of
        todo = collections.deque([path])
        while todo:
            current = todo.popleft()
            scope = scope_of.get(current)
            if scope is None or not scope.fail_fast:
                continue
            for child in scope.children(scope.node_id(current)):
                if len(self.queued) >= WINDOW:
                    return
                if self._queue(scope, child, queued):
                    todo.append(scope.path(child))

    def _queue(self, scope: Scope, nid: str, queued: list[QueuedAttempt]) -> bool:
        """Queue the next attempt of node `nid` behind its running upstream attempts, if it can be.

        Only a plain task node qualifies, not yet started, queued or known from before, not
        skipped and not given inputs of its own by a re-run,
        whose every upstream node has succeeded or is a task with an attempt on Dask, and
        whose task is not cached (a cache hit would make the attempt needless). Its inputs
        then refer to the upstream answers by position. Returns whether it was queued.
        """
        run = self.run
        path = scope.path(nid)
        node = scope.nodes[nid]
        if (node.kind != "task" or path in self.queued or path in run.futures
                or nid in scope.results or path in run.known or path in run.recover):
            return False
        if path in run.skip or (run.rerun is not None and path in run.rerun.node_inputs):
            return False  # skipped, or given other inputs than its upstream's: decided at its start
        refs: dict[str, Any] = {}  # upstream node id -> its future (or the key queued for it)
        for u in node.upstream:
            if u not in scope.nodes or u in scope.results:
                continue
            if scope.nodes[u].kind != "task":
                return False  # a dynamic node's answer is a graph, not outputs
            up = scope.path(u)
            fut = run.futures.get(up) or self.future(up)
            if fut is None:
                return False
            refs[u] = fut
        try:
            spec = with_overrides(run.specs.for_node(scope, node.kind, node.entity, TaskSpec), node.overrides)
        except (UserError, NotFound):
            return False
        if spec.settings.get("cache") or spec.task_type == "eager":
            return False  # an eager body goes to Dask at its start, holding no pool slot (eager.py)
        try:
            route = run.host.route(run, spec, node.overrides)
        except (UserError, LookupError):
            return False  # the run says why when the node starts
        if route.building:
            return False  # its pool's environment is still being built: it waits for its node's start
        order = {u: i for i, u in enumerate(refs)}

        def lookup(node_id: str | None, output: str) -> dict[str, Any]:
            if node_id in order:
                return {"upstream": order[node_id], "output": output}
            return scope.lookup(node_id, output)

        try:
            inputs = {k: values.resolve(b, lookup) for k, b in node.inputs.items()}
        except (UserError, KeyError):
            return False
        number = run.attempts.get(path, 0) + 1
        entry = QueuedAttempt(path, number, run.host.attempt_key(run.id, path, number),
                              run.task_payload(path, spec, inputs, number), list(refs.values()),
                              route.resources, route.pool)
        queued.append(entry)
        if route.pool is not None:
            self.pools[path] = route.pool
        self.queued[path] = (entry.ref(), number)  # the future once the batch is on Dask
        run.scope_of[path] = scope
        return True

    def followed_on_dask(self, path: str) -> bool:
        """Whether every node waiting for `path` is already on Dask behind it."""
        scope = self.run.scope_of.get(path)
        if scope is None:
            return False
        futures = self.run.futures
        children = [scope.path(c) for c in scope.children(scope.node_id(path))]
        return bool(children) and all(c in self.queued or c in futures for c in children)

    def keep_early(self, path: str, number: int, event: Event) -> bool:
        """Keep the answer of a queued attempt that ended before the run started it (its
        upstream's answer is still on its way); `take_early` hands it back then."""
        queued = self.queued.get(path)
        if queued is None or queued[1] != number:
            return False
        self.early[(path, number)] = event
        return True

    def drop_after(self, path: str) -> None:
        """An attempt of `path` failed: what was queued behind it must wait for the retry."""
        scope = self.run.scope_of.get(path)
        if scope is None:
            return
        stack = [scope.node_id(path)]
        while stack:
            for child in scope.children(stack.pop()):
                cp = scope.path(child)
                queued = self.queued.pop(cp, None)
                self.pools.pop(cp, None)
                if queued is not None:
                    queued[0].cancel()
                    self.early.pop((cp, queued[1]), None)
                    stack.append(child)

    def cancel_all(self) -> None:
        """The run ended: cancel every queued attempt."""
        for fut, _ in self.queued.values():
            fut.cancel()
        self.queued.clear()
        self.early.clear()
        self.pools.clear()
