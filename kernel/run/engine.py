"""The local engine: runs compiled graphs in the kernel with backend semantics.

Typed inputs and outputs are checked, retries are spent only on
`FlyteRecoverableException` (and timeouts), timeouts end the attempt, the
local cache is consulted, `>>` orders nodes, independent nodes run in
threads up to `max_parallelism`, and each node's phase is recorded (and sent
to an optional observer, which drives progress displays).
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from ..config.settings import TaskSettings, effective
from ..errors import (
    FlyteRecoverableException,
    InputError,
    PlaitError,
    TaskTimeoutError,
    TypeMismatchError,
    UserError,
)
from ..model.home import local_data_dir
from ..model.vocab import (  # node phases, the same names the backend records
    ABORTED as ABORTED,
)
from ..model.vocab import (
    CACHE_HIT as CACHE_HIT,
)
from ..model.vocab import (
    FAILED as FAILED,
)
from ..model.vocab import (
    QUEUED as QUEUED,
)
from ..model.vocab import (
    RUNNING as RUNNING,
)
from ..model.vocab import (
    SKIPPED as SKIPPED,
)
from ..model.vocab import (
    SUCCEEDED as SUCCEEDED,
)
from ..model.vocab import (
    TIMED_OUT as TIMED_OUT,
)
from ..sdk import context as _ctx
from ..sdk.compiler import DictOf, Graph, ListOf, Lit, Ref
from ..sdk.interface import NO_DEFAULT, Interface
from ..typesys import ValueTypeError, checker, describe, strip_annotated, value_hash
from .local_cache import MISS, LocalCache, cache_enabled, store_for_home

DEFAULT_MAX_PARALLELISM = 16
_UNWIND_S = 1.0  # how long a timed-out attempt may take to clean up
_FAST_NODE_S = 0.0005  # tasks quicker than this run inline: a thread would cost more
_FAST_TASKS: weakref.WeakSet[Any] = weakref.WeakSet()  # tasks last seen to run that quickly



@dataclass
class NodeRecord:
    path: str
    entity: str
    kind: str
    phase: str = QUEUED
    attempts: int = 0
    started: float | None = None
    ended: float | None = None
    error: str | None = None

    @property
    def duration(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return self.ended - self.started


Observer = Callable[[NodeRecord], None]


class Execution:
    """State of one local run: its id, options, node records and value hashes."""

    def __init__(
        self,
        *,
        name: str | None = None,
        overwrite_cache: bool = False,
        max_parallelism: int | None = None,
        envs: dict[str, str] | None = None,
        observer: Observer | None = None,
        interruptible: bool | None = None,
        project: str = "local",
        domain: str = "development",
        max_dynamic_depth: int = 32,
    ) -> None:
        self.id = _ctx.ExecutionId(name or f"local-{os.urandom(6).hex()}", project, domain)
        self.overwrite_cache = overwrite_cache
        self.max_parallelism = max_parallelism or DEFAULT_MAX_PARALLELISM
        self.envs = dict(envs or {})
        self.observer = observer
        self.interruptible = interruptible
        self.max_dynamic_depth = max_dynamic_depth
        self.nodes: dict[str, NodeRecord] = {}
        # HashMethod outputs: id(value) -> (value, hash). The value is kept so the
        # id cannot be reused by another object during the run.
        self.hashes: dict[int, tuple[Any, str]] = {}
        self._cache: LocalCache | None = None

    @property
    def cache(self) -> LocalCache:
        if self._cache is None:
            self._cache = store_for_home()
        return self._cache

    def record(self, path: str, entity: str, kind: str) -> NodeRecord:
        rec = NodeRecord(path, entity, kind)
        self.nodes[path] = rec
        if self.observer is not None:
            self.observer(rec)
        return rec

    def set_phase(self, rec: NodeRecord, phase: str, error: str | None = None) -> None:
        rec.phase = phase
        now = time.perf_counter()
        if phase == RUNNING and rec.started is None:
            rec.started = now
        elif phase not in (QUEUED, RUNNING):
            rec.ended = now
            if rec.started is None:
                rec.started = now
        if error is not None:
            rec.error = error
        if self.observer is not None:
            self.observer(rec)

    def data_dir(self, path: str) -> str:
        d = local_data_dir(self.id.name, path)
        d.mkdir(parents=True, exist_ok=True)
        return str(d)


@dataclass
class LocalExecution:
    """What `plait.run` returns: the execution, its outputs and node records."""

    id: str
    entity: Any
    outputs: dict[str, Any]
    nodes: dict[str, NodeRecord] = field(default_factory=dict)

    def native(self) -> Any:
        return native_outputs(self.entity.interface, self.outputs)

    @property
    def phase(self) -> str:
        return SUCCEEDED


def native_outputs(interface: Interface, outputs: dict[str, Any]) -> Any:
    """Outputs as the Python function would return them."""
    names = list(interface.outputs)
    if not names:
        return None
    if interface.output_tuple is not None:
        return interface.output_tuple(*(outputs[n] for n in names))
    if len(names) == 1:
        return outputs[names[0]]
    return tuple(outputs[n] for n in names)


# ------------------------------------------------------------------ entry point


def execute(entity: Any, inputs: dict[str, Any], **options: Any) -> LocalExecution:
    """Run any entity locally with `inputs`; raises the failing task's error."""
    exe = Execution(**options)
    checked = check_inputs(entity, inputs)
    outputs = run_entity(exe, "", entity, {}, checked)
    return LocalExecution(exe.id.name, entity, outputs, exe.nodes)


def check_inputs(entity: Any, inputs: dict[str, Any], fixed: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate run inputs against an interface; fill defaults."""
    interface: Interface = entity.interface
    unknown = [k for k in inputs if k not in interface.inputs]
    fixed_inputs = getattr(entity, "fixed_inputs", None)
    if unknown and fixed_inputs and any(k in fixed_inputs for k in unknown):
        entity.merged_inputs(inputs)  # raises: says which inputs the plan fixes
    if unknown:
        raise InputError(
            f"`{entity.name}` has no input(s) {unknown}; its inputs are "
            f"{list(interface.inputs) or 'none'}"
        )
    out: dict[str, Any] = {}
    for name, p in interface.inputs.items():
        if name in inputs:
            value = inputs[name]
        elif p.default is not NO_DEFAULT:
            value = p.default
            if hasattr(value, "is_artifact_query"):  # `Artifact.query(...)`: its latest match
                value = value.resolve(inputs)
        else:
            raise InputError(
                f"`{entity.name}` needs input `{name}: {describe(p.type)}`; pass {name}=..."
            )
        try:
            out[name] = checker(p.type)(value)
        except ValueTypeError as exc:
            raise TypeMismatchError(
                f"`{entity.name}` input `{name}` expects `{describe(p.type)}`, got "
                f"{_short(value)} of type `{exc.found}`",
                entity=entity.name, name=name, expected=describe(p.type), found=exc.found,
            ) from None
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ------------------------------------------------------------------- dispatch


def run_entity(exe: Execution, path: str, entity: Any, overrides: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """Run one node's entity with resolved inputs; returns its outputs by name."""
    kind = entity.kind
    if kind == "task":
        return run_task(exe, path, entity, effective(entity.settings, overrides), inputs, overrides.get("name"))
    runner = getattr(entity, "run_local", None)
    if runner is None:
        raise PlaitError(f"`{entity.name}` ({kind}) cannot run locally")
    cache = overrides.get("cache")
    if cache is not None and kind in ("workflow", "launch_plan") and cache_enabled():
        rec = exe.record(path, overrides.get("name") or entity.name, kind)  # replaced when it runs
        return _cached(exe, path, entity, cache, inputs, lambda: runner(exe, path, overrides, inputs), rec)
    return runner(exe, path, overrides, inputs)  # type: ignore[no-any-return]


# ----------------------------------------------------------------------- tasks

_env_lock = threading.RLock()


def run_task(
    exe: Execution,
    path: str,
    task: Any,
    settings: TaskSettings,
    inputs: dict[str, Any],
    display_name: str | None = None,
    record: bool = True,
) -> dict[str, Any]:
    rec = exe.record(path, display_name or task.name, "task") if record else None
    try:
        if settings.cache is not None and cache_enabled():
            outputs = _cached(exe, path, task, settings.cache, inputs,
                              lambda: _attempts(exe, path, task, settings, inputs, rec), rec)
        else:
            outputs = _attempts(exe, path, task, settings, inputs, rec)
    except TaskTimeoutError as exc:
        if rec is not None:
            exe.set_phase(rec, TIMED_OUT, str(exc))
        raise
    except BaseException as exc:
        if rec is not None:
            exe.set_phase(rec, FAILED, f"{type(exc).__name__}: {exc}")
        raise
    if rec is not None and rec.phase != CACHE_HIT:
        exe.set_phase(rec, SUCCEEDED)
    return outputs


def item_runner(exe: Execution, task: Any, settings: TaskSettings) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """A function running one map item of `task`; a lean path when nothing needs managing."""
    simple = (
        settings.retries == 0 and settings.timeout is None and settings.cache is None
        and not settings.environment and not exe.envs
    )
    if not simple:
        return lambda path, kwargs: run_task(exe, path, task, settings, kwargs, record=False)
    invoke = task.invoke
    push, pop, params = _ctx.push, _ctx.pop, _ctx.ExecutionParameters
    exe_id, name = exe.id, task.name

    def run(path: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        ctx = params(exe_id, name, 1, path)
        push(ctx)
        try:
            raw = invoke(kwargs)
            return _convert_outputs(exe, path, task, raw, ctx, kwargs)
        except BaseException as exc:
            _note(exc, task, path, exe, 1, 0)
            raise
        finally:
            pop()
            if ctx._workdir is not None:
                ctx.cleanup()

    return run


def _cached(
    exe: Execution,
    path: str,
    entity: Any,
    cache: Any,
    inputs: dict[str, Any],
    compute: Callable[[], dict[str, Any]],
    rec: NodeRecord | None = None,
) -> dict[str, Any]:
    from ..model.keys import cache_key

    types = entity.interface.input_types
    known = exe.hashes
    hashes = {}
    for name, v in inputs.items():
        if name in cache.ignored_inputs:
            continue
        entry = known.get(id(v)) if known else None
        hashes[name] = entry[1] if entry is not None and entry[0] is v else value_hash(types.get(name), v)
    version = _version_of(entity, cache)
    key = cache_key(version, _signature_of(entity), hashes, cache.ignored_inputs)
    store = exe.cache

    def lookup() -> Any:
        if exe.overwrite_cache:
            return MISS
        return store.get(key)

    def hit(outputs: dict[str, Any]) -> dict[str, Any]:
        if rec is not None:
            exe.set_phase(rec, CACHE_HIT)
        for name in _output_plan(entity)[2]:
            _remember_hash(exe, entity.interface.outputs[name], outputs[name])
        return outputs

    found = lookup()
    if found is not MISS:
        return hit(found)
    if cache.serialize:
        with store.reservation(key):
            found = lookup() if not exe.overwrite_cache else MISS
            if found is not MISS:
                return hit(found)
            outputs = compute()
            store.put(key, outputs)
            return outputs
    outputs = compute()
    store.put(key, outputs)
    return outputs


def _version_of(entity: Any, cache: Any) -> str:
    versions = entity.__dict__.setdefault("_cache_versions", {})
    v = versions.get(id(cache))
    if v is None:
        v = versions[id(cache)] = cache.get_version(entity)
    return v  # type: ignore[no-any-return]


def _signature_of(entity: Any) -> str:
    sig = entity.__dict__.get("_cache_signature")
    if sig is None:
        from ..config.cache import signature_text

        sig = entity.__dict__["_cache_signature"] = signature_text(entity)
    return sig  # type: ignore[no-any-return]


def _attempts(
    exe: Execution,
    path: str,
    task: Any,
    settings: TaskSettings,
    inputs: dict[str, Any],
    rec: NodeRecord | None,
) -> dict[str, Any]:
    retries = settings.retries
    attempt = 0
    env = {**settings.environment, **exe.envs} if (settings.environment or exe.envs) else None
    while True:
        attempt += 1
        if rec is not None:
            rec.attempts = attempt
            exe.set_phase(rec, RUNNING)
        ctx = _ctx.ExecutionParameters(exe.id, task.name, attempt, path)
        try:
            raw = _call(task, inputs, ctx, settings.timeout, env)
            outputs = _convert_outputs(exe, path, task, raw, ctx, inputs)
            return outputs
        except (FlyteRecoverableException, TaskTimeoutError) as exc:
            if attempt > retries:
                _note(exc, task, path, exe, attempt, retries)
                raise
        except BaseException as exc:
            _note(exc, task, path, exe, attempt, retries)
            raise
        finally:
            ctx.cleanup()


def _note(exc: BaseException, task: Any, path: str, exe: Execution, attempt: int, retries: int) -> None:
    if getattr(exc, "_plait_noted", False):
        return
    try:
        exc._plait_noted = True  # type: ignore[attr-defined]
        add_note = getattr(exc, "add_note", None)
        if add_note is not None:
            add_note(
                f"plait: in task `{task.name}` (node {path or 'root'}, execution "
                f"{exe.id.name}, attempt {attempt} of {retries + 1})"
            )
    except (AttributeError, TypeError):
        pass


def _call(task: Any, inputs: dict[str, Any], ctx: Any, timeout: float | None, env: dict[str, str] | None) -> Any:
    if env:
        with _env_lock:
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


def _call_timed(task: Any, inputs: dict[str, Any], ctx: Any, timeout: float | None) -> Any:
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
        _interrupt(worker)
        # Give the attempt a moment to unwind, so its `finally` blocks (killing a
        # shell script, removing a container) run before the error is reported.
        done.wait(_UNWIND_S)
        raise TaskTimeoutError(
            f"task `{task.name}` ran past its timeout of {timeout:g}s and was stopped; "
            "raise `timeout` or make the task faster"
        )
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _interrupt(thread: threading.Thread) -> None:
    """Stop a timed-out attempt: raise TaskTimeoutError inside its thread."""
    if thread.ident is None:
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(TaskTimeoutError)
    )


def _output_plan(task: Any) -> tuple[list[str], list[Any], list[str]]:
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


def _declares_artifacts(task: Any) -> bool:
    """Per task, once: whether an output is annotated with a plait Artifact."""
    found = task.__dict__.get("_plait_declares_artifacts")
    if found is None:
        found = task.__dict__["_plait_declares_artifacts"] = any(
            hasattr(type(m), "__plait_artifact__")
            for tp in task.interface.outputs.values() for m in strip_annotated(tp)[1]
        )
    return found  # type: ignore[no-any-return]


def _convert_outputs(
    exe: Execution, path: str, task: Any, raw: Any, ctx: Any, inputs: dict[str, Any] | None = None
) -> dict[str, Any]:
    names, checks, hashed = _output_plan(task)
    if not names:
        if raw is not None:
            raise UserError(
                f"task `{task.name}` returned {type(raw).__name__} but declares no outputs; "
                "add a return annotation (e.g. `-> int`) or return nothing"
            )
        return {}
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
                f"task returned {_short(value)} of type `{exc.found}`; return a "
                f"`{describe(tp)}` or change the annotation",
                entity=task.name, name=name, expected=describe(tp), found=exc.found,
            ) from None
        persist = getattr(value, "__plait_persist__", None)
        if persist is not None:
            value = persist(ctx, lambda: exe.data_dir(path))
        elif value.__class__ is list and value and hasattr(value[0], "__plait_persist__"):
            value = [v.__plait_persist__(ctx, lambda: exe.data_dir(path)) for v in value]
        outputs[name] = value
    for name in hashed:
        _remember_hash(exe, task.interface.outputs[name], outputs[name])
    if emitted is not None or _declares_artifacts(task):
        from ..artifacts import record_outputs

        record_outputs(task, outputs, inputs or {}, exe.id, emitted)
    return outputs


# Values that may be shared objects (small ints, interned strings): an identity
# map would hand their hash to unrelated inputs, so they are hashed by value.
_SHARED_IMMUTABLES = (int, float, str, bytes, bool, tuple, frozenset, type(None))


def _remember_hash(exe: Execution, tp: Any, value: Any) -> None:
    if not isinstance(value, _SHARED_IMMUTABLES):
        exe.hashes[id(value)] = (value, value_hash(tp, value))


# ----------------------------------------------------------------------- graphs


def resolve(binding: Any, wf_inputs: dict[str, Any], results: dict[str, dict[str, Any]]) -> Any:
    cls = binding.__class__
    if cls is Ref:
        if binding.node_id is None:
            value = wf_inputs[binding.output]
        else:
            value = results[binding.node_id][binding.output]
        for step in binding.path:
            value = value[step] if isinstance(step, int) or isinstance(value, dict) else getattr(value, step)
        return value
    if cls is Lit:
        return binding.value
    if cls is ListOf:
        return [resolve(b, wf_inputs, results) for b in binding.items]
    if cls is DictOf:
        return {k: resolve(b, wf_inputs, results) for k, b in binding.items}
    raise PlaitError(f"unknown binding {binding!r}")


def run_graph(
    exe: Execution,
    prefix: str,
    graph: Graph,
    wf_inputs: dict[str, Any],
    results: dict[str, dict[str, Any]] | None = None,
    *,
    fail_fast: bool = True,
) -> dict[str, dict[str, Any]]:
    """Run every node of `graph` in dependency order; returns outputs by node id."""
    results = {} if results is None else results
    nodes = graph.nodes
    if not nodes:
        return results
    pending = {n.id: len(n.upstream) for n in nodes}
    children: dict[str, list[Any]] = {}
    for n in nodes:
        for u in n.upstream:
            children.setdefault(u, []).append(n)
    ready = [n for n in nodes if not n.upstream]
    failures: list[BaseException] = []
    blocked: set[str] = set()

    fast = _FAST_TASKS

    def run_one(node: Any) -> dict[str, Any]:
        entity = node.entity
        if entity.kind == "branch":
            return entity.run_branch(exe, f"{prefix}{node.id}", wf_inputs, results)  # type: ignore[no-any-return]
        inputs = {name: resolve(b, wf_inputs, results) for name, b in node.bindings.items()}
        started = time.perf_counter()
        out = run_entity(exe, f"{prefix}{node.id}", entity, node.overrides, inputs)
        if entity.kind == "task":
            if time.perf_counter() - started < _FAST_NODE_S:
                fast.add(entity)
            else:
                fast.discard(entity)
        return out

    def run_inline(node: Any) -> None:
        try:
            out = run_one(node)
        except Exception as exc:  # noqa: BLE001 - handled by the failure policy
            finish(node, None, exc)
        else:
            finish(node, out, None)

    def finish(node: Any, outputs: dict[str, Any] | None, error: BaseException | None) -> None:
        if error is not None:
            failures.append(error)
            _block(node, children, blocked)
            return
        results[node.id] = outputs  # type: ignore[assignment]
        for child in children.get(node.id, ()):
            pending[child.id] -= 1
            if pending[child.id] == 0 and child.id not in blocked:
                ready.append(child)

    pool: ThreadPoolExecutor | None = None
    running: dict[Future[dict[str, Any]], Any] = {}
    try:
        while ready or running:
            if failures and fail_fast:
                ready.clear()
                if not running:
                    break
            if ready and not running and (len(ready) == 1 or exe.max_parallelism <= 1):
                run_inline(ready.pop(0))
                continue
            # Tasks already seen to take microseconds gain nothing from a thread.
            quick = [n for n in ready if n.entity in fast]
            if quick:
                for n in quick:
                    ready.remove(n)
                for n in quick:
                    if failures and fail_fast:
                        break
                    run_inline(n)
                continue
            while ready and len(running) < exe.max_parallelism:
                if pool is None:
                    pool = ThreadPoolExecutor(
                        max_workers=exe.max_parallelism, thread_name_prefix="plait-node"
                    )
                node = ready.pop(0)
                running[pool.submit(run_one, node)] = node
            if running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    node = running.pop(fut)
                    exc = fut.exception()
                    finish(node, None if exc else fut.result(), exc)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if failures:
        for n in nodes:
            if n.id not in results and f"{prefix}{n.id}" not in exe.nodes:
                exe.set_phase(exe.record(f"{prefix}{n.id}", n.entity_name, n.entity.kind), SKIPPED)
    if failures:
        raise failures[0]
    return results


def _block(node: Any, children: dict[str, list[Any]], blocked: set[str]) -> None:
    stack = [node]
    while stack:
        n = stack.pop()
        for child in children.get(n.id, ()):
            if child.id not in blocked:
                blocked.add(child.id)
                stack.append(child)


def collect(outputs: dict[str, Any], wf_inputs: dict[str, Any], results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {name: resolve(b, wf_inputs, results) for name, b in outputs.items()}
