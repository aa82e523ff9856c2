"""The local driver of an `@eager` body: each awaited entity is a node of the same run.

The body runs on its own event loop (`plait.sdk.eager.run_body`); a call in it
starts its node at once, at the next path under the eager node (`n0`, `n1`, ...
at the root, `n3-n0` under node `n3`), so paths follow the body's calls even
when `asyncio.gather` awaits several at once, as on the backend (where a call
is sent when it is made). Each node runs through
`run_entity` on a thread of the driver's pool (up to the run's
`max_parallelism` at once) with everything a graph node has: its record,
phases, attempts and retries, the cache, and its inputs and outputs kept for
`plait.rerun` and the displays. A failed node reaches the body as
EagerException, its error as the cause.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..sdk.eager import EagerException
from .engine import Execution, check_inputs, native_outputs, run_entity


def _what(entity: Any) -> str:
    """What an awaited entity is called in messages: task, workflow, launch plan, eager workflow."""
    return "eager workflow" if getattr(entity, "task_type", "") == "eager" else str(entity.kind).replace("_", " ")


class LocalDriver:
    """Runs the entities an eager body at node `path` of `exe` awaits."""

    def __init__(self, exe: Execution, path: str) -> None:
        self.exe = exe
        self.prefix = f"{path}-" if path else ""
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def call(self, entity: Any, inputs: dict[str, Any]) -> Any:
        """Start the node of one call now (its path in call order); the awaitable of its outputs."""
        with self._lock:
            path = f"{self.prefix}n{next(self._ids)}"
        checked = check_inputs(entity, inputs)  # a wrong input is the body's mistake: raised here
        return self._wait(entity, path, self._executor().submit(self._node, entity, path, checked))

    async def _wait(self, entity: Any, path: str, future: Any) -> Any:
        try:
            outputs = await asyncio.wrap_future(future)
        except Exception as exc:
            raise EagerException(
                f"{_what(entity)} `{entity.name}` (node {path}) failed: {type(exc).__name__}: {exc}",
                entity=entity.name, node=path,
            ) from exc
        return native_outputs(entity.interface, outputs)

    def _node(self, entity: Any, path: str, inputs: dict[str, Any]) -> dict[str, Any]:
        exe = self.exe
        try:
            outputs = run_entity(exe, path, entity, {}, inputs)
        finally:
            rec = exe.nodes.get(path)
            if rec is not None:
                rec.inputs = inputs
        rec = exe.nodes.get(path)
        if rec is not None:
            rec.outputs = outputs
        return outputs

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.exe.max_parallelism,
                                                thread_name_prefix="plait-eager-node")
            return self._pool

    def close(self) -> None:
        """Wait for nodes the body started and did not await (they are part of the run)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


class SendingDriver:
    """The driver of an eager body run outside the local engine (the backend's worker).

    Each call becomes a one-node graph spec, as a dynamic body's graph is written
    (`dynamic_spec`: literal inputs as value refs by `literal`, the entity's code
    by `code`), and is handed to `send(node id, spec)`, whose future ends with
    the node's outputs by name (values) or an exception naming the failure. The
    node ids are `n0`, `n1`, ... in call order; whoever runs them puts them
    under the eager node's path.
    """

    def __init__(self, owner: str, send: Any, literal: Any, code: Any, path: str = "") -> None:
        self.owner = owner
        self.prefix = f"{path}-" if path else ""  # of the nodes' paths in messages
        self.send, self.literal, self.code = send, literal, code
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._sent: list[Any] = []

    def call(self, entity: Any, inputs: dict[str, Any]) -> Any:
        from ..sdk.compiler import Graph, GraphBuilder, collect_outputs
        from .attempt import dynamic_spec

        with self._lock:
            number = next(self._ids)
        checked = check_inputs(entity, inputs)
        owner = f"eager workflow `{self.owner}`"
        builder = GraphBuilder(owner)
        builder._counter[0] = number  # the node's id is its place in the body's calls
        with builder:
            result = entity(**checked)
        graph = Graph(builder.nodes, collect_outputs(result, entity.interface, owner))
        spec = dynamic_spec(graph, entity, literal=self.literal, code=self.code)
        node_id = f"n{number}"
        future = self.send(node_id, spec, entity)
        self._sent.append(future)
        return self._wait(entity, node_id, future)

    async def _wait(self, entity: Any, node_id: str, future: Any) -> Any:
        try:
            outputs = await asyncio.wrap_future(future)
        except Exception as exc:
            raise EagerException(
                f"{_what(entity)} `{entity.name}` (node {self.prefix}{node_id}) failed: {exc}",
                entity=entity.name, node=f"{self.prefix}{node_id}",
            ) from exc
        return native_outputs(entity.interface, outputs)

    def close(self) -> None:
        """Wait for the calls the body made and did not await: they are nodes of the run."""
        for future in self._sent:
            try:
                future.result()
            except Exception:  # noqa: BLE001, S110 - not awaited: its failure is its node's, not the body's
                pass
