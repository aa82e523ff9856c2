"""One attempt of one task: the call, with its environment and timeout, and its outputs.

The local engine (`plait.run.engine`) and the backend's worker
(`plait.backend.execution.worker`) both run task attempts through this module, so
an attempt means the same in a notebook and on a Dask worker:

- `call` runs the task's body once with its context pushed (what
  `current_context()` returns), its environment variables set, and, with a
  timeout, on a thread that `interrupt` stops when the time is up;
- `convert_outputs` checks what the body returned against the declared output
  types, persists files and directories, remembers the hashes of `HashMethod`
  outputs and records artifact versions;
- `Attempt` bundles both for a caller without a local run (the worker), and
  `expand` runs a dynamic task's body and answers with the graph it built as a
  spec (`dynamic_spec`);
- `find_entity` finds a task in the module of registered code.

The backend may import this module and nothing else of the engine.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import TaskTimeoutError, TypeMismatchError, UserError
from ..model.home import local_data_dir
from ..sdk import context as _ctx
from ..sdk.batch_size import batch_size_of as batch_size_of  # the backend's workers read it here
from ..sdk.compiler import LiteralWriter
from ..sdk.context import ExecutionId, ExecutionParameters
from ..sdk.entity import Entity
from ..sdk.model_files import is_model, persist_model_files
from ..typesys import ValueTypeError, checker, describe, strip_annotated, value_hash
from ..typesys.specs import is_tabular

UNWIND_S = 1.0  # how long a timed-out attempt may take to clean up

# `os.environ` is one per process: attempts that set variables take turns.
ENV_LOCK = threading.RLock()


class Scope:
    """The run an attempt belongs to, as the attempt sees it.

    `id` is the execution's id (artifacts record it), `data_dir(path)` the folder
    where node `path` persists the files and directories it outputs, and
    `hashes` the hashes of `HashMethod` outputs, which a downstream cached task
    reads instead of hashing the value again. The local engine's `Execution`
    is a Scope; the worker makes one per attempt, with its own `files_dir`.
    """

    def __init__(self, execution_id: ExecutionId, files_dir: Callable[[str], str] | None = None) -> None:
        self.id = execution_id
        # HashMethod outputs: id(value) -> (value, hash). The value is kept so the
        # id cannot be reused by another object during the run.
        self.hashes: dict[int, tuple[Any, str]] = {}
        self._files_dir = files_dir

    def record_artifacts(self, task: Any, outputs: dict[str, Any], inputs: dict[str, Any],
                         emitted: dict[str, Any] | None) -> None:
        """A finished attempt's artifact outputs become versions: in the local store here; a
        scope of the backend's worker keeps them for the attempt's answer instead."""
        from ..artifacts import record_outputs

        record_outputs(task, outputs, inputs, self.id, emitted)

    def data_dir(self, path: str) -> str:
        """The folder (created now) where node `path` keeps its output files."""
        if self._files_dir is not None:
            return self._files_dir(path)
        d = local_data_dir(self.id.name, path)
        d.mkdir(parents=True, exist_ok=True)
        return str(d)


class CollectingScope(Scope):
    """A scope whose attempts' artifact versions are kept in `artifacts` (see `pending_versions`),
    not stored: the backend records them with the node's success, exactly once."""

    def __init__(self, execution_id: ExecutionId, files_dir: Callable[[str], str] | None = None) -> None:
        super().__init__(execution_id, files_dir)
        self.artifacts: list[dict[str, Any]] = []

    def record_artifacts(self, task: Any, outputs: dict[str, Any], inputs: dict[str, Any],
                         emitted: dict[str, Any] | None) -> None:
        from ..artifacts import pending_versions

        self.artifacts.extend(pending_versions(task, outputs, inputs, emitted))


# ------------------------------------------------------------------ the call


def call(task: Any, inputs: dict[str, Any], ctx: ExecutionParameters, timeout: float | None = None,
         env: dict[str, str] | None = None) -> Any:
    """Run `task`'s body once with `inputs` and `ctx` as its context; return what it returned.

    `env` is set in `os.environ` for the call and restored after it (under
    `ENV_LOCK`, so attempts with an environment run one at a time). With
    `timeout` (seconds) the body runs on a thread that is interrupted when the
    time is up: TaskTimeoutError is raised, here and inside the body.
    """
    inputs = read_tabular_inputs(task, inputs)
    if env:
        with ENV_LOCK:
            saved = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            try:
                return _call_timed(task, inputs, ctx, timeout)
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
    return _call_timed(task, inputs, ctx, timeout)


def read_tabular_inputs(task: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs declared as data frames or StructuredDatasets, read as declared (columns, frame class).

    Workflow bindings are checked when the workflow compiles, so other inputs
    reach the body as they are; a StructuredDataset bound to `pd.DataFrame`
    (or to `Annotated[StructuredDataset, kwtypes(...)]`) must be opened first.
    """
    tabular = task.__dict__.get("_plait_tabular_inputs")
    if tabular is None:
        types = getattr(getattr(task, "interface", None), "input_types", None) or {}
        tabular = task.__dict__["_plait_tabular_inputs"] = [
            (n, checker(tp)) for n, tp in types.items() if is_tabular(strip_annotated(tp)[0])
        ]
    if not tabular:
        return inputs
    read = dict(inputs)
    for name, check in tabular:
        if name in read and read[name] is not None:
            read[name] = check(read[name])
    return read


def _call_timed(task: Any, inputs: dict[str, Any], ctx: ExecutionParameters, timeout: float | None) -> Any:
    """The call itself: on this thread, or on its own thread when it has a timeout."""
    if timeout is None:
        _ctx.push(ctx)
        try:
            return task.invoke(inputs)
        finally:
            _ctx.pop()
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        _ctx.push(ctx)
        try:
            box["value"] = task.invoke(inputs)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = exc
        finally:
            _ctx.pop()
            done.set()

    worker = threading.Thread(target=target, name=f"plait-{task.short_name}", daemon=True)
    worker.start()
    if not done.wait(timeout):
        interrupt(worker)
        # Give the attempt a moment to unwind, so its `finally` blocks (killing a
        # shell script, removing a container) run before the error is reported.
        done.wait(UNWIND_S)
        raise TaskTimeoutError(
            f"task `{task.name}` ran past its timeout of {timeout:g}s and was stopped; "
            "raise `timeout` or make the task faster"
        )
    if "error" in box:
        raise box["error"]
    return box.get("value")


def interrupt(thread: threading.Thread) -> None:
    """Stop the attempt running on `thread`: raise TaskTimeoutError inside it.

    The exception lands at the thread's next Python instruction; code blocked in
    C (a sleep, a read) sees it when that returns.
    """
    if thread.ident is None:
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(TaskTimeoutError)
    )


# ------------------------------------------------------------------ outputs


def output_plan(task: Any) -> tuple[list[str], list[Any], list[str]]:
    """Per task, once: output names, their checkers and the outputs with a HashMethod."""
    plan = task.__dict__.get("_plait_output_plan")
    if plan is None:
        outputs = task.interface.outputs
        names = list(outputs)
        hashed = [
            n for n, tp in outputs.items()
            if any(type(m).__name__ == "HashMethod" for m in strip_annotated(tp)[1])
        ]
        plan = task.__dict__["_plait_output_plan"] = (names, [checker(outputs[n]) for n in names], hashed)
    return plan  # type: ignore[no-any-return]


def declares_artifacts(task: Any) -> bool:
    """Per task, once: whether an output is annotated with a plait Artifact."""
    found = task.__dict__.get("_plait_declares_artifacts")
    if found is None:
        found = task.__dict__["_plait_declares_artifacts"] = any(
            hasattr(type(m), "__plait_artifact__")
            for tp in task.interface.outputs.values() for m in strip_annotated(tp)[1]
        )
    return found  # type: ignore[no-any-return]


def convert_outputs(
    scope: Scope, path: str, task: Any, raw: Any, ctx: ExecutionParameters, inputs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What the body of `task` returned (`raw`), as checked outputs by name.

    A single output is the value itself; several are a tuple of that length.
    Each value is checked (and converted, e.g. a path to a FlyteFile) against
    its declared type; files and directories the attempt made in its working
    directory are moved to `scope.data_dir(path)`; HashMethod outputs get their
    hashes remembered in `scope`; artifact outputs are recorded as new versions.
    Raises UserError or TypeMismatchError, naming the task and the output.
    """
    names, checks, hashed = output_plan(task)
    if not names:
        if raw is not None:
            raise UserError(
                f"task `{task.name}` returned {type(raw).__name__} but declares no outputs; "
                "add a return annotation (e.g. `-> int`) or return nothing"
            )
        return {}
    values: tuple[Any, ...] | list[Any]
    if len(names) == 1:
        values = (raw,)
    else:
        if not isinstance(raw, (tuple, list)) or len(raw) != len(names):
            found = f"{len(raw)} values" if isinstance(raw, (tuple, list)) else f"one {type(raw).__name__}"
            raise UserError(
                f"task `{task.name}` declares {len(names)} outputs {names} but returned "
                f"{found}; return a tuple of {len(names)} values"
            )
        values = raw
    outputs: dict[str, Any] = {}
    emitted: dict[str, Any] | None = None  # artifact outputs as the task returned them
    for name, check, value in zip(names, checks, values, strict=True):
        if hasattr(type(value), "__plait_artifact_unwrap__"):  # `Artifact.create_from(...)`
            emitted = {} if emitted is None else emitted
            emitted[name] = value
            value = value.__plait_artifact_unwrap__()
        try:
            value = check(value)
        except ValueTypeError as exc:
            tp = task.interface.outputs[name]
            raise TypeMismatchError(
                f"task `{task.name}` output `{name}` is declared `{describe(tp)}` but the "
                f"task returned {short_repr(value)} of type `{exc.found}`; return a "
                f"`{describe(tp)}` or change the annotation",
                entity=task.name, name=name, expected=describe(tp), found=exc.found,
            ) from None
        persist = getattr(value, "__plait_persist__", None)
        if persist is not None:
            value = persist(ctx, lambda: scope.data_dir(path))
        elif value.__class__ is list and value and hasattr(value[0], "__plait_persist__"):
            value = [v.__plait_persist__(ctx, lambda: scope.data_dir(path)) for v in value]
        elif is_model(value):  # a pydantic model: the files in its fields travel with it
            value = persist_model_files(value, ctx, lambda: scope.data_dir(path))
        outputs[name] = value
    for name in hashed:
        remember_hash(scope, task.interface.outputs[name], outputs[name])
    if emitted is not None or declares_artifacts(task):
        scope.record_artifacts(task, outputs, inputs or {}, emitted)
    return outputs


# Values that may be shared objects (small ints, interned strings): an identity
# map would hand their hash to unrelated inputs, so they are hashed by value.
_SHARED_IMMUTABLES = (int, float, str, bytes, bool, tuple, frozenset, type(None))


def remember_hash(scope: Scope, tp: Any, value: Any) -> None:
    """Keep the hash of a HashMethod output (of type `tp`) for the cache keys downstream."""
    if not isinstance(value, _SHARED_IMMUTABLES):
        scope.hashes[id(value)] = (value, value_hash(tp, value))


def short_repr(value: Any) -> str:
    """`repr(value)`, cut to 40 characters: for messages."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ------------------------------------------------------------------ outside the engine


class Attempt:
    """One attempt of a task run outside the local engine, as the backend's worker runs it.

        with Attempt(task, inputs, execution="x1", path="n0", number=2) as attempt:
            outputs = attempt.outputs(attempt.call(timeout=60.0, envs={"REGION": "eu"}))

    `scope` is the run it belongs to (`files_dir(path)` says where its output
    files go; by default the local data folder), `context` what
    `current_context()` returns inside the task. Leaving the `with` (or
    `close()`) removes the attempt's working directory. With `keep_artifacts`
    the artifact versions the attempt makes are kept in `artifacts` (the
    backend's worker answers with them) instead of going to the local store.
    """

    def __init__(
        self,
        task: Any,
        inputs: dict[str, Any],
        *,
        execution: str,
        path: str,
        number: int = 1,
        project: str = "local",
        domain: str = "development",
        files_dir: Callable[[str], str] | None = None,
        keep_artifacts: bool = False,
    ) -> None:
        self.task = task
        self.inputs = inputs
        self.path = path
        scope = CollectingScope if keep_artifacts else Scope
        self.scope = scope(ExecutionId(execution, project, domain), files_dir)
        self.context = ExecutionParameters(self.scope.id, task.name, number, path)

    @property
    def artifacts(self) -> list[dict[str, Any]]:
        """The artifact versions the attempt made (with `keep_artifacts`), as `pending_versions` gives them."""
        return list(getattr(self.scope, "artifacts", []))

    def call(self, timeout: float | None = None, envs: dict[str, str] | None = None) -> Any:
        """Run the task's body once (see `call`); `envs` apply over the task's own environment."""
        env = {**self.task.settings.environment, **(envs or {})} or None
        return call(self.task, self.inputs, self.context, timeout, env)

    def outputs(self, raw: Any) -> dict[str, Any]:
        """What the body returned, as checked outputs by name (see `convert_outputs`)."""
        return convert_outputs(self.scope, self.path, self.task, raw, self.context, self.inputs)

    def expand(self, *, literal: LiteralWriter, code: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        """Run a dynamic task's body; answer with the graph it built (see `dynamic_spec`)."""
        graph = self.task.compile_body(self.scope, self.path, self.inputs)
        return dynamic_spec(graph, self.task, literal=literal, code=code)

    def run_eager(self, send: Callable[..., Any], *, literal: LiteralWriter, code: Callable[[Any], dict[str, Any]],
                  envs: dict[str, str] | None = None) -> Any:
        """Run an eager workflow's body; each entity it awaits goes to `send` as a one-node
        graph (see `plait.run.eager.SendingDriver`), whose answer the body awaits."""
        from .eager import SendingDriver

        driver = SendingDriver(self.task.name, send, literal, code, self.path)
        self.context.eager_driver = driver  # type: ignore[attr-defined]
        return self.call(None, envs)

    def keep_checkpoints_in(self, store: Any, prefix: str, previous: Iterable[str] = ()) -> None:
        """Save this attempt's checkpoint under `prefix` of `store` (an object store) and read
        the earlier attempts' from the prefixes `previous`, the latest first: the backend's
        worker, so that a retry on another machine resumes where the last attempt saved."""
        from ..sdk.checkpoint import Checkpoint, StorePlace

        self.context.provide_checkpoint(Checkpoint(StorePlace(store, prefix), [StorePlace(store, p) for p in previous]))

    def close(self) -> None:
        self.context.cleanup()

    def __enter__(self) -> Attempt:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def dynamic_spec(graph: Any, task: Any, *, literal: LiteralWriter,
                 code: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """The graph a dynamic task's body built, as the spec the backend runs.

    `{"nodes": [...], "outputs": {...}, "entities": {name: spec}}`: the node and
    output bindings as in a workflow spec, except that each literal value is
    written by `literal(value, type)`; and the spec of every entity the nodes
    use, each with the code reference that `code(entity)` gives.
    """
    entities: dict[str, Any] = {}
    for node in graph.nodes:
        child = node.entity
        used = [child, *getattr(child, "entities", list)(), *getattr(child, "sub_entities", list)()]
        for e in used:
            if isinstance(e, Entity) and e.name not in entities and e.kind != "branch":
                spec = e.to_spec()
                spec["code"] = code(e)
                entities[e.name] = spec
    return {**graph.to_spec(task.interface.outputs, literal=literal), "entities": entities}


def find_entity(module: Any, name: str, qualname: str | None = None) -> Any:
    """The entity `name` defined in `module`: at `qualname`, else any module attribute
    (or an entity a workflow there uses) of that name; LookupError when there is none."""
    if qualname:
        obj: Any = module
        try:
            for part in qualname.split("."):
                obj = getattr(obj, part)
            if isinstance(obj, Entity) and obj.name == name:
                return obj
        except AttributeError:
            pass
    for value in vars(module).values():
        if isinstance(value, Entity):
            if value.name == name:
                return value
            for sub in getattr(value, "entities", list)():
                if getattr(sub, "name", None) == name:
                    return sub
    raise LookupError(f"`{name}` is not defined in module `{module.__name__}` of the registered code")
