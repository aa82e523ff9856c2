"""`@dynamic`: a workflow whose graph is built at run time from real input values.

The body runs like a task (inputs are concrete values, so Python `if` and
`for` work), but the tasks it calls become nodes of a graph that the engine
then runs; recursion through dynamic workflows is bounded by a depth limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import UserError
from . import context as _ctx
from .compiler import Graph, GraphBuilder, collect_outputs
from .tasks import PythonFunctionTask, build_task, check_params


class DynamicTask(PythonFunctionTask):
    kind = "dynamic"
    task_type = "dynamic"

    def compile_body(self, exe: Any, path: str, inputs: dict[str, Any]) -> Graph:
        owner = f"dynamic workflow `{self.name}`"
        builder = GraphBuilder(owner)
        ctx = _ctx.ExecutionParameters(exe.id, self.name, 1, path)
        _ctx.push(ctx)
        try:
            with builder:
                result = self.function(**inputs)
            outputs = collect_outputs(result, self.interface, owner)
        finally:
            _ctx.pop()
            ctx.cleanup()
        return Graph(builder.nodes, outputs)

    def run_local(self, exe: Any, path: str, overrides: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
        from ..config.settings import effective
        from ..run.engine import _cached
        from ..run.local_cache import cache_enabled

        settings = effective(self.settings, overrides)
        if settings.cache is not None and cache_enabled():
            return _cached(exe, path, self, settings.cache, inputs, lambda: self._expand(exe, path, overrides, inputs))
        return self._expand(exe, path, overrides, inputs)

    def _expand(self, exe: Any, path: str, overrides: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
        from ..run.engine import FAILED, RUNNING, SUCCEEDED, collect, run_graph

        rec = exe.record(path, overrides.get("name") or self.name, "dynamic")
        exe.set_phase(rec, RUNNING)
        depth = _depth(exe, path)
        try:
            if depth > exe.max_dynamic_depth:
                raise UserError(
                    f"dynamic workflow `{self.name}` is nested {depth} levels deep, past the limit "
                    f"of {exe.max_dynamic_depth}; make sure the recursion has a base case that "
                    "is reached (or raise max_dynamic_depth for this run)"
                )
            graph = self.compile_body(exe, path, inputs)
            rec.graph = graph  # type: ignore[attr-defined]  # for displays of the expanded DAG
            results = run_graph(exe, f"{path}-" if path else "", graph, {})
            outputs = collect(graph.outputs, {}, results)
        except Exception as exc:
            exe.set_phase(rec, FAILED, f"{type(exc).__name__}: {exc}")
            raise
        exe.set_phase(rec, SUCCEEDED)
        return outputs


def _depth(exe: Any, path: str) -> int:
    depths: dict[str, int] = exe.__dict__.setdefault("_dynamic_depths", {})
    parts = path.split("-")
    parent = 0
    for i in range(len(parts) - 1, 0, -1):
        d = depths.get("-".join(parts[:i]))
        if d is not None:
            parent = d
            break
    depths[path] = parent + 1
    return parent + 1


def dynamic(_fn: Callable[..., Any] | None = None, **params: Any) -> Any:
    """Make a dynamic workflow: `@dynamic` or `@dynamic(cache=True, ...)`."""
    check_params("@dynamic", params)

    def wrap(fn: Callable[..., Any]) -> DynamicTask:
        return build_task(DynamicTask, fn, params, kind="dynamic workflow")  # type: ignore[no-any-return]

    return wrap(_fn) if _fn is not None else wrap
