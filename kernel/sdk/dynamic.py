"""`@dynamic`: a workflow whose graph is built at run time from real input values.

The body runs like a task (inputs are concrete values, so Python `if` and
`for` work), but the tasks it calls become nodes of a graph that the engine
then runs; recursion through dynamic workflows is bounded by a depth limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import context as _ctx
from .compiler import Graph, GraphBuilder, collect_outputs
from .tasks import PythonFunctionTask, build_task, check_params


class DynamicTask(PythonFunctionTask):
    """What `@dynamic` makes; plait.run.nodes runs it locally, the backend's worker expands it."""

    kind = "dynamic"
    task_type = "dynamic"

    def compile_body(self, exe: Any, path: str, inputs: dict[str, Any]) -> Graph:
        """Run the body with real `inputs` (as node `path` of run `exe`); the graph it built."""
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

def dynamic(_fn: Callable[..., Any] | None = None, **params: Any) -> Any:
    """Make a dynamic workflow: `@dynamic` or `@dynamic(cache=True, ...)`."""
    check_params("@dynamic", params)

    def wrap(fn: Callable[..., Any]) -> DynamicTask:
        return build_task(DynamicTask, fn, params, kind="dynamic workflow")  # type: ignore[no-any-return]

    return wrap(_fn) if _fn is not None else wrap
