"""`@eager`: an `async def` workflow whose body awaits tasks and uses their real values.

Unlike `@workflow` (a graph built once from promises) and `@dynamic` (a graph
built from its inputs, then run), an eager body keeps running while its tasks
run: `out = await add_one(x=x)` hands back the integer, so `if`, `for`,
`try/except EagerException` and `asyncio.gather` work as in any async code.

An eager workflow is a task to the engine (its own node, with retries, cache
and timeout), whose body runs on an event loop of its own. While it runs, a
call to a task, workflow, launch plan or eager workflow returns an awaitable
(see `Entity.__call__`): the *driver* of the run (`EagerDriver`) runs it as a
node of the same execution, `<eager node>-n0`, `-n1`, ... in call order, and
its outputs come back to the body. The local engine gives the body its driver
(`plait.run.eager.LocalDriver`), the backend's worker another that sends each
call to the executor (`SendingDriver`, docs/backend.md "Eager workflows"); a
failure of an awaited node reaches the body as `EagerException`.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from ..errors import UserError
from . import context as _ctx
from .entity import EAGER_DRIVER
from .tasks import PythonFunctionTask, build_task, check_params


class EagerException(UserError):
    """An awaited task (or subworkflow) of an eager workflow failed.

    Raised in the eager body where it awaited the node, so `try/except
    EagerException` recovers; uncaught, it fails the eager workflow with the
    node's error. `node` is the failed node's path, `entity` its name, and the
    original error is the exception's `__cause__`.
    """

    def __init__(self, message: str, *, entity: str = "", node: str = "") -> None:
        super().__init__(message)
        self.entity = entity
        self.node = node


class EagerDriver(Protocol):
    """What runs the entities an eager body awaits, as nodes of its execution."""

    def call(self, entity: Any, inputs: dict[str, Any]) -> Coroutine[Any, Any, Any]:
        """An awaitable of `entity`'s outputs (as the function returns them) for `inputs`;
        it raises EagerException if the node fails."""
        ...

    def close(self) -> None:
        """The body ended: wait for the nodes it started and did not await."""
        ...


class EagerWorkflow(PythonFunctionTask):
    """What `@eager` makes: a task whose async body awaits other entities as nodes."""

    kind = "task"
    task_type = "eager"

    def invoke(self, kwargs: dict[str, Any]) -> Any:
        ctx = _ctx.current_context()
        driver = getattr(ctx, "eager_driver", None)
        if driver is None:
            raise UserError(
                f"eager workflow `{self.name}` was started without a driver for the tasks it awaits; "
                "run it with the local engine (call it, or plait run) rather than as a plain function"
            )
        return run_body(self.function, kwargs, driver, ctx)


def run_body(function: Callable[..., Any], kwargs: dict[str, Any], driver: EagerDriver,
             ctx: _ctx.ExecutionParameters) -> Any:
    """Run the async body to its end on a new event loop, with `driver` for what it awaits.

    A thread that already runs a loop (a notebook's kernel) cannot run another: the
    body then runs on a thread of its own, with the attempt's context, and this one waits.
    """

    async def main() -> Any:
        EAGER_DRIVER.set(driver)  # the tasks gather() makes copy this context: they see it too
        try:
            return await function(**kwargs)
        finally:
            EAGER_DRIVER.set(None)

    def run() -> Any:
        try:
            return asyncio.run(main())
        finally:
            driver.close()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    box: dict[str, Any] = {}

    def target() -> None:
        _ctx.push(ctx)
        try:
            box["value"] = run()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = exc
        finally:
            _ctx.pop()

    thread = threading.Thread(target=target, name="plait-eager", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


# Flyte's experimental @eager took these to reach a cluster; plait's run knows its backend.
_FLYTE_CONNECTION_PARAMS = ("remote", "client_secret_group", "client_secret_key", "poll_interval",
                            "local_entrypoint", "client_secret_env_var")


def eager(_fn: Callable[..., Any] | None = None, **params: Any) -> Any:
    """Make an eager workflow from an `async def`: `@eager` or `@eager(retries=1, ...)`."""
    params = {k: v for k, v in params.items() if k not in _FLYTE_CONNECTION_PARAMS}
    check_params("@eager", params)

    def wrap(fn: Callable[..., Any]) -> EagerWorkflow:
        if not inspect.iscoroutinefunction(fn):
            raise UserError(
                f"@eager needs an `async def` function, but `{getattr(fn, '__qualname__', fn)}` is a "
                "plain function; write `async def` and `await` the tasks it calls"
            )
        return build_task(EagerWorkflow, fn, params, kind="eager")  # type: ignore[no-any-return]

    return wrap(_fn) if _fn is not None else wrap
