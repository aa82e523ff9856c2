"""Eager workflows on the backend: the body runs on a worker, what it awaits runs as nodes.

An eager workflow is a task node (`task_type` eager) whose attempt runs the async
body on a Dask worker, like a dynamic body. Each entity the body awaits is sent
to the executor through the object store, the one place both always reach (a
worker need not reach the API):

    <attempt prefix>/eager/n<k>.request.json   the call, as a one-node graph spec (worker)
    <attempt prefix>/eager/n<k>.answer.json    {status, outputs | error} (executor)

The graph spec is a dynamic body's (`plait.run.attempt.dynamic_spec`: literal
inputs as value refs, each entity's spec with its code), so the executor runs the
call exactly as it runs a dynamic expansion's node: at path `<eager node>-n<k>`,
with its retries, cache, resources and records, in a scope of its own whose
closing writes the answer instead of completing the eager node. The eager node
completes when its attempt answers (the body returned or raised).

Worker side: `run_eager_body` (called from `worker._run_called`); the Dask thread
waiting for the body secedes from the worker's pool, so the nodes the body
awaits can run on the same worker. Executor side: `EagerNodes`, polled by the
executor's loop like gates are.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from plait.errors import SpecError, UserError
from plait.model.specs import NodeSpec, Spec, parse_spec

from . import values
from .scope import Scope

if TYPE_CHECKING:
    from .run import ExecutionRun

POLL_EVERY_S = 0.1  # how often a body's driver looks for answers, and the executor for calls
SUPERSEDED = "SUPERSEDED"  # written for the earlier attempts of a node when a later one starts


def calls_dir(output_prefix: str) -> str:
    """Where one attempt of an eager node and the executor exchange its calls."""
    return f"{output_prefix}/eager"


class EagerFailure(Exception):
    """An awaited node failed; the message is its error's (the body sees EagerException)."""


# ------------------------------------------------------------------ worker side


class StoreCalls:
    """The worker's end: writes each call's request, and polls for the answers it waits for."""

    def __init__(self, store: Any, output_prefix: str, materialize: Any) -> None:
        self.store = store
        self.dir = calls_dir(output_prefix)
        self.materialize = materialize
        self.waiting: dict[str, tuple[Future[dict[str, Any]], Any]] = {}
        self.lock = threading.Lock()
        self.poller: threading.Thread | None = None

    def send(self, node_id: str, spec: dict[str, Any], entity: Any) -> Future[dict[str, Any]]:
        future: Future[dict[str, Any]] = Future()
        self.store.put_json(f"{self.dir}/{node_id}.request.json", spec)
        with self.lock:
            self.waiting[node_id] = (future, entity)
            if self.poller is None:
                self.poller = threading.Thread(target=self._poll, name="plait-eager-answers", daemon=True)
                self.poller.start()
        return future

    def _poll(self) -> None:
        while True:
            with self.lock:
                if not self.waiting:
                    self.poller = None
                    return
                pending = list(self.waiting.items())
            if self.store.exists(f"{self.dir}/{SUPERSEDED}"):  # a later attempt runs the body now
                with self.lock:
                    self.waiting.clear()
                    self.poller = None
                for _node_id, (future, _entity) in pending:
                    future.set_exception(EagerFailure("this attempt was superseded by a later one of its node"))
                return
            for node_id, (future, entity) in pending:
                answer_path = f"{self.dir}/{node_id}.answer.json"
                if not self.store.exists(answer_path):
                    continue
                with self.lock:
                    del self.waiting[node_id]
                self._settle(future, entity, self.store.get_json(answer_path))
            time.sleep(POLL_EVERY_S)

    def _settle(self, future: Future[dict[str, Any]], entity: Any, answer: dict[str, Any]) -> None:
        if answer.get("status") != "SUCCEEDED":
            error = answer.get("error") or {}
            future.set_exception(EagerFailure(f"{error.get('type', 'Error')}: {error.get('message', '')}"))
            return
        try:
            types = entity.interface.outputs
            outputs = {n: self.materialize(self.store, ref, types.get(n, Any))
                       for n, ref in (answer.get("outputs") or {}).items()}
        except Exception as exc:  # noqa: BLE001 - handed to the body as the node's failure
            future.set_exception(exc)
            return
        future.set_result(outputs)


def run_eager_body(store: Any, attempt: Any, payload: dict[str, Any], envs: dict[str, str], *,
                   to_ref: Any, materialize: Any) -> Any:
    """Run the eager body of `attempt` (a `plait.run.attempt.Attempt`); what it returned.

    Literal inputs of its calls are written as value refs under the attempt's prefix;
    entities given by value (defined in the body's module but not registered) go to
    `functions/` as pickles, beside the registered bundle.
    """
    import cloudpickle

    prefix = payload["output_prefix"]
    counter = [0]
    lock = threading.Lock()

    def literal(value: Any, tp: Any) -> dict[str, Any]:
        with lock:
            counter[0] += 1
            n = counter[0]
        return {"value": to_ref(store, f"{prefix}/eager", f"lit{n}", tp, value)}

    def code_of(child: Any) -> dict[str, Any]:
        blob = cloudpickle.dumps(child)
        digest = hashlib.sha256(blob).hexdigest()
        path = f"functions/{digest}.pkl"
        if not store.exists(path):
            store.put_bytes(path, blob)
        code: dict[str, Any] = {"pickle": digest}
        if payload["code"].get("bundle"):
            code["bundle"] = payload["code"]["bundle"]
        return code

    calls = StoreCalls(store, prefix, materialize)
    return attempt.run_eager(calls.send, literal=literal, code=code_of, envs=envs)


def seceded() -> Any:
    """A context in which this Dask task gives its thread slot back while it waits
    (its awaited nodes may need the slot); a no-op outside a Dask worker."""
    import contextlib

    @contextlib.contextmanager
    def scope() -> Any:
        try:
            from distributed import rejoin, secede

            secede()  # type: ignore[no-untyped-call]
        except (ImportError, ValueError):
            yield
            return
        try:
            yield
        finally:
            rejoin()  # type: ignore[no-untyped-call]

    return scope()


# ------------------------------------------------------------------ executor side


class EagerNodes:
    """The running eager nodes of one run: their calls become nodes, their answers are written."""

    def __init__(self, run: ExecutionRun) -> None:
        self.run = run
        self.next_call: dict[tuple[str, int], int] = {}  # (eager path, attempt) -> next call number
        self.polled_at = 0.0
        self.paths: set[str] = set()  # the eager nodes started so far
        self.scanned = 0  # how many of the run's task nodes were looked at for them

    def running(self) -> list[tuple[str, int]]:
        """(path, attempt) of the eager nodes whose attempt is on Dask now."""
        run = self.run
        if len(run.task_of) != self.scanned:  # task nodes only ever join `task_of`: look at the new ones
            for path, spec in itertools.islice(run.task_of.items(), self.scanned, None):
                if spec.task_type == "eager":
                    self.paths.add(path)
            self.scanned = len(run.task_of)
        return [(path, run.attempts[path]) for path in self.paths if path in run.futures and path in run.attempts]

    def due(self) -> bool:
        return time.monotonic() - self.polled_at >= POLL_EVERY_S and bool(self.running())

    def poll(self) -> None:
        """Start the calls the running eager bodies made since the last look, in call order."""
        self.polled_at = time.monotonic()
        run = self.run
        for path, attempt in self.running():
            folder = calls_dir(f"{run.output_root}/{path}/{attempt}")
            key = (path, attempt)
            if key not in self.next_call and attempt > 1:
                # An earlier attempt's body may still wait on its worker (its executor died, or its
                # answer was lost): it gives up, as no one answers its calls any more.
                for earlier in range(1, attempt):
                    run.host.storage.put_bytes(f"{calls_dir(f'{run.output_root}/{path}/{earlier}')}/{SUPERSEDED}", b"")
            n = self.next_call.setdefault(key, 0)
            while not run.done and run.host.storage.exists(f"{folder}/n{n}.request.json"):
                spec = run.host.storage.get_json(f"{folder}/n{n}.request.json")
                self.next_call[key] = n + 1
                self._start_call(path, folder, f"n{n}", spec)
                n += 1

    def _start_call(self, owner: str, folder: str, node_id: str, call: dict[str, Any]) -> None:
        """Run one call as node `<owner>-<node id>`, in a scope whose closing answers the body."""
        run = self.run
        parent = run.scope_of[owner]
        answer_path = f"{folder}/{node_id}.answer.json"
        try:
            nodes = [NodeSpec.from_dict(n, f"eager node `{owner}`") for n in call["nodes"]]
            entities: dict[str, Spec] = {name: parse_spec(s) for name, s in (call.get("entities") or {}).items()}
        except SpecError as exc:
            run.host.storage.put_json(answer_path, {"status": "FAILED", "error": {
                "kind": "USER", "type": "SpecError", "message": str(exc)}})
            return

        def answer(scope: Scope) -> None:
            if scope.failed:
                error = {k: v for k, v in scope.failed[0].error.items() if k != "phase"}
                run.host.storage.put_json(answer_path, {"status": "FAILED", "error": error})
                return
            try:
                outputs = {k: values.resolve(b, scope.lookup) for k, b in scope.outputs.items()}
            except UserError as exc:
                run.host.storage.put_json(answer_path, {"status": "FAILED", "error": {
                    "kind": "USER", "type": "UserError", "message": str(exc)}})
                return
            run.host.storage.put_json(answer_path, {"status": "SUCCEEDED", "outputs": outputs})

        scope = Scope(f"{owner}-", {n.id: n for n in nodes}, {}, call["outputs"], owner,
                      entities={**parent.entities, **entities}, fail_fast=False, on_close=answer)
        run.open_scope(scope)
