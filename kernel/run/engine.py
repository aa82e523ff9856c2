"""The local engine: runs compiled graphs in the kernel with backend semantics.

Typed inputs and outputs are checked, retries are spent only on
`FlyteRecoverableException` (and timeouts), timeouts end the attempt, the
local cache is consulted, `>>` orders nodes, independent nodes run in
threads up to `max_parallelism`, and each node's phase is recorded (and sent
to an optional observer, which drives progress displays).

This module holds the run's state (`Execution`), the task nodes (attempts,
retries, the cache) and the graph `Scheduler`. One attempt's call and output
checks are in `attempt.py`, which the backend's worker shares; the other node
kinds (workflow, launch plan, map, branch, dynamic) run in `nodes.py`.
"""

from __future__ import annotations

import collections
import functools
import keyword
import os
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
)
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
    REUSED as REUSED,
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
from ..sdk.entity import version_for_cache
from ..sdk.interface import NO_DEFAULT, Interface
from ..typesys import ValueTypeError, checker, describe, value_hash
from .attempt import Scope, call, convert_outputs, output_plan, remember_hash, short_repr
from .local_cache import MISS, LocalCache, cache_enabled, store_for_home

DEFAULT_MAX_PARALLELISM = 16
_FAST_NODE_S = 0.0005  # tasks quicker than this run inline: a thread would cost more
_FAST_TASKS: weakref.WeakSet[Any] = weakref.WeakSet()  # tasks last seen to run that quickly


@dataclass
class NodeRecord:
    """What a run knows of one node: its phase, attempts, start and end, and error.

    `inputs` and `outputs` are the node's values by name (the Python objects
    themselves, not copies) once it ran, so `plait.rerun` can take them instead
    of running the node again; a map node's `items` are its items' outputs in
    order (None where an item failed or did not start). `reused_from` is
    (execution id, path) of the node that computed a REUSED node's outputs.
    """

    path: str
    entity: str
    kind: str
    phase: str = QUEUED
    attempts: int = 0
    started: float | None = None
    ended: float | None = None
    error: str | None = None
    inputs: dict[str, Any] | None = field(default=None, repr=False)
    outputs: dict[str, Any] | None = field(default=None, repr=False)
    items: list[dict[str, Any] | None] | None = field(default=None, repr=False)
    reused_from: tuple[str, str] | None = None

    @property
    def duration(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return self.ended - self.started


Observer = Callable[[NodeRecord], None]


class Execution(Scope):
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
        signals: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(_ctx.ExecutionId(name or f"local-{os.urandom(6).hex()}", project, domain))
        self.signals = dict(signals or {})  # gate values given with the run, by signal name
        self.overwrite_cache = overwrite_cache
        self.max_parallelism = max_parallelism or DEFAULT_MAX_PARALLELISM
        self.envs = dict(envs or {})
        self.observer = observer
        self.interruptible = interruptible
        self.max_dynamic_depth = max_dynamic_depth
        self.nodes: dict[str, NodeRecord] = {}
        self.hook: Any = None  # a `plait.run.reruns.Reuse` when nodes are reused or skipped
        self._cache: LocalCache | None = None

    @property
    def cache(self) -> LocalCache:
        """The local cache, opened on first use."""
        if self._cache is None:
            self._cache = store_for_home()
        return self._cache

    def record(self, path: str, entity: str, kind: str) -> NodeRecord:
        """A new record for node `path` (replacing any earlier one), shown to the observer."""
        rec = NodeRecord(path, entity, kind)
        self.nodes[path] = rec
        if self.observer is not None:
            self.observer(rec)
        return rec

    def set_phase(self, rec: NodeRecord, phase: str, error: str | None = None) -> None:
        """Move a node to `phase` (timing its start and end), shown to the observer."""
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


@dataclass
class LocalExecution:
    """What a local run leaves: the execution, its outputs and node records.

    A failed run leaves one too, as the `execution` attribute of the error it
    raises (phase FAILED, the nodes that completed with their outputs), so
    `plait.rerun` can run it again from the failure. `inputs` are the checked
    workflow inputs; `options` the engine options a re-run uses again.
    """

    id: str
    entity: Any
    outputs: dict[str, Any]
    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict, repr=False)
    phase: str = SUCCEEDED
    error: str | None = None
    options: dict[str, Any] = field(default_factory=dict, repr=False)
    skip: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    rerun_of: str | None = None

    def native(self) -> Any:
        """The outputs as the Python function would return them."""
        if self.phase != SUCCEEDED:
            raise PlaitError(
                f"execution {self.id} of `{self.entity.name}` {self.phase.lower()} ({self.error}); "
                "it has no outputs: fix the cause and run it again with plait.rerun(execution, ...)"
            )
        return native_outputs(self.entity.interface, self.outputs)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled (an error crossing to another process), it keeps its id, phase and error only:
        its entity and node values belong to the process that ran it, and may not pickle."""
        return (_detached, (self.id, self.phase, self.error))


def _detached(id: str, phase: str, error: str | None) -> LocalExecution:
    """A LocalExecution that came from another process: nothing to re-run from (`plait.rerun` says so)."""
    return LocalExecution(id, None, {}, {}, {}, phase, error)


def native_outputs(interface: Interface, outputs: dict[str, Any]) -> Any:
    """Outputs as the Python function would return them."""
    names = list(interface.outputs)
    if not names:
        return None
    if interface.output_tuple is not None:
        return interface.output_tuple(*(outputs[n] for n in names))
    if len(names) == 1:
        return outputs[names[0]]
    values = tuple(outputs[n] for n in names)
    if not all(n.isidentifier() and not n.startswith("_") and not keyword.iskeyword(n) for n in names):
        return values  # names a namedtuple cannot have (from kwtypes): a plain tuple
    return named_outputs(tuple(names))._make(values)


@functools.lru_cache(maxsize=256)
def named_outputs(names: tuple[str, ...]) -> Any:
    """The tuple type of several outputs called `names`, as Flyte hands them back from a local run:
    `result.o0`, `result.slope`, unpacked like a tuple and equal to the plain tuple of the values.
    It pickles by its names and values, so it survives a trip to another process."""
    base = collections.namedtuple("DefaultNamedTupleOutput", names)  # type: ignore[misc]

    def __reduce__(self: Any) -> tuple[Any, tuple[Any, ...]]:
        return (_rebuild_outputs, (names, tuple(self)))

    return type("DefaultNamedTupleOutput", (base,), {"__slots__": (), "__reduce__": __reduce__})


def _rebuild_outputs(names: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    return named_outputs(names)._make(values)


# ------------------------------------------------------------------ entry point


_last: list[LocalExecution] = []  # the last top-level local run, for `%plait rerun`


def execute(entity: Any, inputs: dict[str, Any], *, skip: dict[str, dict[str, Any]] | None = None,
            **options: Any) -> LocalExecution:
    """Run any entity locally with `inputs`; raises the failing task's error.

    `skip={path: {output: value}}` does not run those nodes: their outputs are
    the given values, checked against the nodes' output types before anything
    runs (`plait.run.reruns`).
    """
    exe = Execution(**options)
    checked = check_inputs(entity, inputs)
    if skip:
        from .reruns import Reuse  # rerun bookkeeping imports this module: imported here

        exe.hook = Reuse(entity, skip=skip)
    return run_root(exe, entity, checked, options)


def run_root(exe: Execution, entity: Any, inputs: dict[str, Any], options: dict[str, Any],
             rerun_of: str | None = None) -> LocalExecution:
    """Run `entity` as the root of `exe`; its LocalExecution, also on the error a failure raises."""
    kept = {k: v for k, v in options.items() if k not in ("name", "observer")}
    skip = exe.hook.skip if exe.hook is not None else {}
    try:
        outputs = run_entity(exe, "", entity, {}, inputs)
    except Exception as exc:
        failed = LocalExecution(exe.id.name, entity, {}, exe.nodes, inputs, FAILED,
                                f"{type(exc).__name__}: {exc}", kept, skip, rerun_of)
        _last[:] = [failed]
        try:
            exc.execution = failed  # type: ignore[attr-defined]
        except (AttributeError, TypeError):  # an exception type that takes no attributes
            pass
        raise
    root = exe.nodes.get("")
    if root is not None:  # a task, map or dynamic run as the root
        root.inputs, root.outputs = inputs, outputs
    done = LocalExecution(exe.id.name, entity, outputs, exe.nodes, inputs, SUCCEEDED, None, kept, skip, rerun_of)
    _last[:] = [done]
    return done


def last_execution() -> LocalExecution | None:
    """The last local run this process made (succeeded or failed), or None."""
    return _last[0] if _last else None


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
                f"{short_repr(value)} of type `{exc.found}`",
                entity=entity.name, name=name, expected=describe(p.type), found=exc.found,
            ) from None
    return out


# ------------------------------------------------------------------- dispatch


def run_entity(exe: Execution, path: str, entity: Any, overrides: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """Run one node's entity with resolved inputs; returns its outputs by name.

    Tasks run here; workflows, launch plans, maps and dynamic tasks through
    their runners in `plait.run.nodes`. A workflow or launch plan node with a
    `cache` override is looked up in the local cache first.
    """
    kind = entity.kind
    mocked = entity.__dict__.get("_plait_test_mock")
    if mocked is not None:  # plait.testing.task_mock stands in for this workflow, launch plan or dynamic
        return _run_mocked(exe, path, entity, overrides, inputs, mocked)
    if kind == "task":
        return run_task(exe, path, entity, effective(entity.settings, overrides), inputs, overrides.get("name"))
    # The node runners run graphs with this module: imported here, so imports go one way.
    from .nodes import RUNNERS

    node_runner = RUNNERS.get(kind)
    if node_runner is None:
        raise PlaitError(f"`{entity.name}` ({kind}) cannot run locally")
    cache = overrides.get("cache")
    if cache is not None and kind in ("workflow", "launch_plan") and cache_enabled():
        rec = exe.record(path, overrides.get("name") or entity.name, kind)  # replaced when it runs
        return cached(exe, path, entity, cache, inputs, lambda: node_runner(exe, path, entity, overrides, inputs), rec)
    return node_runner(exe, path, entity, overrides, inputs)


def _run_mocked(exe: Execution, path: str, entity: Any, overrides: dict[str, Any], inputs: dict[str, Any],
                mocked: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """A workflow, launch plan or dynamic task replaced by a test's mock: its return value is the outputs."""
    rec = exe.record(path, overrides.get("name") or entity.name, entity.kind)
    exe.set_phase(rec, RUNNING)
    raw = mocked(dict(inputs))
    names = list(entity.interface.outputs)
    values = [raw] if len(names) == 1 else list(raw or ())
    exe.set_phase(rec, SUCCEEDED)
    return dict(zip(names, values, strict=False))


# ----------------------------------------------------------------------- tasks


def run_task(
    exe: Execution,
    path: str,
    task: Any,
    settings: TaskSettings,
    inputs: dict[str, Any],
    display_name: str | None = None,
    record: bool = True,
) -> dict[str, Any]:
    """Run a task node: from the cache when it has one, else attempts until one succeeds.

    The node's record (unless `record` is False, as for map items) ends
    SUCCEEDED, CACHE_HIT, FAILED or TIMED_OUT; the task's error is raised.
    """
    rec = exe.record(path, display_name or task.name, "task") if record else None
    try:
        if settings.cache is not None and cache_enabled():
            outputs = cached(exe, path, task, settings.cache, inputs,
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
            return convert_outputs(exe, path, task, raw, ctx, kwargs)
        except BaseException as exc:
            _note(exc, task, path, exe, 1, 0)
            raise
        finally:
            pop()
            if ctx._workdir is not None:
                ctx.cleanup()

    return run


def cached(
    exe: Execution,
    path: str,
    entity: Any,
    cache: Any,
    inputs: dict[str, Any],
    compute: Callable[[], dict[str, Any]],
    rec: NodeRecord | None = None,
) -> dict[str, Any]:
    """The outputs of `entity` for `inputs`: from the local cache, or `compute()` stored there.

    The key is the entity's cache version and signature with the hashes of its
    inputs (less `cache.ignored_inputs`; a HashMethod output upstream lends its
    hash). A hit marks `rec` CACHE_HIT and remembers the hashes of its HashMethod
    outputs. `exe.overwrite_cache` computes again and replaces the entry. With
    `cache.serialize`, one computation per key runs at a time and the others
    wait for its result.
    """
    from ..model.keys import cache_key

    types = entity.interface.input_types
    known = exe.hashes
    hashes = {}
    for name, v in inputs.items():
        if name in cache.ignored_inputs:
            continue
        entry = known.get(id(v)) if known else None
        hashes[name] = entry[1] if entry is not None and entry[0] is v else value_hash(types.get(name), v)
    version = version_for_cache(entity, cache)
    key = cache_key(version, _signature_of(entity), hashes, cache.ignored_inputs)
    store = exe.cache

    def lookup() -> Any:
        if exe.overwrite_cache:
            return MISS
        return store.get(key)

    def hit(outputs: dict[str, Any]) -> dict[str, Any]:
        if rec is not None:
            exe.set_phase(rec, CACHE_HIT)
        for name in output_plan(entity)[2]:
            remember_hash(exe, entity.interface.outputs[name], outputs[name])
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


def _signature_of(entity: Any) -> str:
    """The entity's interface as text for cache keys, worked out once per entity."""
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
    """Attempt `task` until one attempt succeeds; retries go only to recoverable errors and timeouts."""
    retries = settings.retries
    attempt = 0
    env = {**settings.environment, **exe.envs} if (settings.environment or exe.envs) else None
    while True:
        attempt += 1
        if rec is not None:
            rec.attempts = attempt
            exe.set_phase(rec, RUNNING)
        ctx = _ctx.ExecutionParameters(exe.id, task.name, attempt, path)
        if getattr(task, "task_type", "") == "eager":  # its body awaits entities that run as nodes of this run
            from .eager import LocalDriver  # imports this module

            ctx.eager_driver = LocalDriver(exe, path)  # type: ignore[attr-defined]
        try:
            raw = call(task, inputs, ctx, settings.timeout, env)
            outputs = convert_outputs(exe, path, task, raw, ctx, inputs)
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
    """Add a note to the task's error naming the task, node, execution and attempt (once)."""
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


# ----------------------------------------------------------------------- graphs


def resolve(binding: Any, wf_inputs: dict[str, Any], results: dict[str, dict[str, Any]]) -> Any:
    """The value of a binding, from the workflow's inputs and the outputs of finished nodes."""
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
    """Run every node of `graph` in dependency order; returns outputs by node id.

    Node paths are `{prefix}{node id}`; `results` may hold the outputs of nodes
    outside the graph that it reads (a conditional case reads its parent's).
    """
    results = {} if results is None else results
    if not graph.nodes:
        return results
    return Scheduler(exe, prefix, graph, wf_inputs, results, fail_fast).run()


class Scheduler:
    """Runs the nodes of one graph in dependency order, as threads allow.

    A node is ready once all its upstream nodes succeeded. One ready node with
    nothing running, or a task last seen to take microseconds, runs inline on
    this thread; the others go to a pool of up to `max_parallelism` threads. A
    failure blocks every node downstream of it; with `fail_fast` no new node
    starts after it, otherwise the nodes that do not depend on it still run.
    At the end, nodes that never ran are recorded SKIPPED and the first failure
    is raised.
    """

    __slots__ = ("exe", "prefix", "nodes", "wf_inputs", "results", "fail_fast", "pending", "children",
                 "ready", "failures", "blocked", "running", "pool")

    def __init__(self, exe: Execution, prefix: str, graph: Graph, wf_inputs: dict[str, Any],
                 results: dict[str, dict[str, Any]], fail_fast: bool) -> None:
        self.exe, self.prefix, self.wf_inputs, self.results = exe, prefix, wf_inputs, results
        self.fail_fast = fail_fast
        self.nodes = nodes = graph.nodes
        self.pending = {n.id: len(n.upstream) for n in nodes}  # upstream nodes not yet succeeded
        self.children: dict[str, list[Any]] = {}
        for n in nodes:
            for u in n.upstream:
                self.children.setdefault(u, []).append(n)
        self.ready = [n for n in nodes if not n.upstream]
        self.failures: list[BaseException] = []
        self.blocked: set[str] = set()  # downstream of a failure: never ready
        self.running: dict[Future[dict[str, Any]], Any] = {}
        self.pool: ThreadPoolExecutor | None = None

    def run(self) -> dict[str, dict[str, Any]]:
        """Run until no node is ready or running; returns the outputs by node id."""
        ready, running, failures = self.ready, self.running, self.failures
        serial = self.exe.max_parallelism <= 1
        try:
            while ready or running:
                if failures and self.fail_fast:
                    ready.clear()
                    if not running:
                        break
                if ready and not running and (serial or len(ready) == 1):
                    self.run_inline(ready.pop(0))
                elif not self.run_quick_ones():
                    self.submit_ready()
                    self.wait_for_one()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
        if failures:
            self.skip_the_rest()
            raise failures[0]
        return self.results

    def run_node(self, node: Any) -> dict[str, Any]:
        """Run one node (on whichever thread) and return its outputs, kept on its record.

        With a rerun or skip hook on the execution, the node may instead take
        the outputs it reuses or is given.
        """
        entity = node.entity
        exe, path = self.exe, f"{self.prefix}{node.id}"
        hook = exe.hook
        wf_inputs, results = self.wf_inputs, self.results
        if entity.kind == "branch":
            inputs: dict[str, Any] = {}
        else:
            inputs = {name: resolve(b, wf_inputs, results) for name, b in node.bindings.items()}
        if hook is not None:
            taken = hook.take(exe, path, node, inputs, self.prefix)
            if taken is not None:
                return taken  # type: ignore[no-any-return]
        started = time.perf_counter()
        try:
            if entity.kind == "branch":
                from .nodes import run_branch  # imported here, as RUNNERS is in run_entity

                out = run_branch(exe, path, entity, wf_inputs, results)
            else:
                out = run_entity(exe, path, entity, node.overrides, inputs)
        except BaseException:
            rec = exe.nodes.get(path)
            if rec is not None:
                rec.inputs = inputs
            raise
        rec = exe.nodes.get(path)
        if rec is not None:
            rec.inputs, rec.outputs = inputs, out
        if entity.kind == "task":
            if time.perf_counter() - started < _FAST_NODE_S:
                _FAST_TASKS.add(entity)
            else:
                _FAST_TASKS.discard(entity)
        return out

    def run_inline(self, node: Any) -> None:
        """Run `node` on this thread and take its result."""
        try:
            out = self.run_node(node)
        except Exception as exc:  # noqa: BLE001 - handled by the failure policy
            self.finish(node, None, exc)
        else:
            self.finish(node, out, None)

    def run_quick_ones(self) -> bool:
        """Run inline the ready tasks already seen to take microseconds (a thread would cost more)."""
        quick = [n for n in self.ready if n.entity in _FAST_TASKS]
        if not quick:
            return False
        for n in quick:
            self.ready.remove(n)
        for n in quick:
            if self.failures and self.fail_fast:
                break
            self.run_inline(n)
        return True

    def submit_ready(self) -> None:
        """Start ready nodes on the pool, up to max_parallelism running at once."""
        limit = self.exe.max_parallelism
        while self.ready and len(self.running) < limit:
            if self.pool is None:
                self.pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="plait-node")
            node = self.ready.pop(0)
            self.running[self.pool.submit(self.run_node, node)] = node

    def wait_for_one(self) -> None:
        """Wait until a running node ends, and take the results of those that did."""
        if not self.running:
            return
        done, _ = wait(list(self.running), return_when=FIRST_COMPLETED)
        for fut in done:
            node = self.running.pop(fut)
            exc = fut.exception()
            self.finish(node, None if exc else fut.result(), exc)

    def finish(self, node: Any, outputs: dict[str, Any] | None, error: BaseException | None) -> None:
        """Take a node's outputs (its children may become ready) or its error (blocking them)."""
        if error is not None:
            self.failures.append(error)
            self.block_downstream(node)
            return
        self.results[node.id] = outputs  # type: ignore[assignment]
        pending, blocked, ready = self.pending, self.blocked, self.ready
        for child in self.children.get(node.id, ()):
            pending[child.id] -= 1
            if pending[child.id] == 0 and child.id not in blocked:
                ready.append(child)

    def block_downstream(self, node: Any) -> None:
        """Mark every node downstream of `node` blocked: none of them will run."""
        stack = [node]
        while stack:
            n = stack.pop()
            for child in self.children.get(n.id, ()):
                if child.id not in self.blocked:
                    self.blocked.add(child.id)
                    stack.append(child)

    def skip_the_rest(self) -> None:
        """Record SKIPPED the nodes that did not run (downstream of a failure, or not started)."""
        exe, prefix = self.exe, self.prefix
        for n in self.nodes:
            if n.id not in self.results and f"{prefix}{n.id}" not in exe.nodes:
                exe.set_phase(exe.record(f"{prefix}{n.id}", n.entity_name, n.entity.kind), SKIPPED)


def collect(outputs: dict[str, Any], wf_inputs: dict[str, Any], results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The values of output bindings by name."""
    return {name: resolve(b, wf_inputs, results) for name, b in outputs.items()}
