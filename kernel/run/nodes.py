"""How nodes other than tasks run locally: workflows, launch plans, maps, branches, dynamics.

The SDK classes describe these nodes (interface, spec, compiled graph); this
module runs them, with the semantics the backend's executor gives them
(`plait.backend.execution.run`; `tests/backend/test_parity.py` keeps the two
equal). Each runner records the node, runs what the node stands for through the
engine and returns the node's outputs by name. `RUNNERS` maps an entity's kind
to its runner; `run_branch` is called by the graph scheduler, since a branch
reads the values of the graph around it rather than inputs of its own.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..config.settings import effective
from ..errors import FlyteError, InputError, UserError
from ..model.vocab import COMPARISONS, FAILED, FAILURES, RUNNING, SKIPPED, SUCCEEDED, WAITING
from ..sdk.compiler import Graph, ref_of
from ..sdk.launch_plan import ReferenceLaunchPlan
from ..sdk.promise import Conjunction, Promise
from ..sdk.workflows import WorkflowFailurePolicy
from .engine import (
    Execution,
    cached,
    check_inputs,
    collect,
    item_runner,
    resolve,
    run_entity,
    run_graph,
)
from .local_cache import cache_enabled

Runner = Callable[[Execution, str, Any, dict[str, Any], dict[str, Any]], dict[str, Any]]

# Map items faster than this run in one loop: threads cannot speed up work that
# holds the GIL, and the loop keeps per-item overhead to a few microseconds.
_SERIAL_BELOW_S = 0.0002


def _subpath(path: str) -> str:
    """The prefix of the nodes inside node `path` (none inside the root)."""
    return f"{path}-" if path else ""


# ------------------------------------------------------------------ workflows


def run_workflow(exe: Execution, path: str, wf: Any, overrides: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """Run a workflow's graph (as the root, or as a subworkflow node at `path`).

    Its failure policy says whether a failed node stops the others at once; its
    `on_failure` handler runs, with the workflow's inputs and the error, before
    the error is raised.
    """
    graph = wf.compile()
    if getattr(wf, "printed", ""):  # what the body printed while it was built, once per run
        sys.stdout.write(wf.printed)
    rec = exe.record(path, overrides.get("name") or wf.name, "workflow") if path else None
    if rec is not None:
        exe.set_phase(rec, RUNNING)
    fail_fast = wf.failure_policy is not WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
    try:
        results = run_graph(exe, _subpath(path), graph, inputs, fail_fast=fail_fast)
        outputs = collect(graph.outputs, inputs, results)
    except Exception as exc:
        if rec is not None:
            exe.set_phase(rec, FAILED, f"{type(exc).__name__}: {exc}")
        if wf.on_failure is not None:
            _handle_failure(exe, path, wf, inputs, exc)
        raise
    if rec is not None:
        exe.set_phase(rec, SUCCEEDED)
    return outputs


def _handle_failure(exe: Execution, path: str, wf: Any, inputs: dict[str, Any], exc: BaseException) -> None:
    """Run the workflow's on_failure handler with its inputs and `err` naming the failed node."""
    handler = wf.on_failure
    failed = next((r.path for r in reversed(exe.nodes.values()) if r.phase in FAILURES), "")
    kwargs = {k: v for k, v in inputs.items() if k in handler.interface.inputs}
    err_name = next((n for n in ("err", "error") if n in handler.interface.inputs), None)
    if err_name is not None:  # a handler without `err` is not told the error, as in Flyte
        kwargs[err_name] = FlyteError(f"{type(exc).__name__}: {exc}", failed_node_id=failed)
    run_entity(exe, f"{path}-on-failure" if path else "on-failure", handler, {}, kwargs)


# ------------------------------------------------------------------ launch plans


def run_launch_plan(exe: Execution, path: str, plan: Any, overrides: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """Run a launch plan's workflow with its default and fixed inputs merged in.

    As the root, its settings (overwrite_cache, max_parallelism) apply to this
    execution; as a node, it is a child execution with its own id, whose node
    records are kept under `path`.
    """
    if isinstance(plan, ReferenceLaunchPlan):
        raise UserError(
            f"reference launch plan `{plan.name}` (version {plan.reference['version']}) runs "
            "only on a plait backend where it is registered; run with `plait run --remote`"
        )
    merged = check_inputs(plan.workflow, plan.merged_inputs(inputs))
    if not path:
        if plan.overwrite_cache:
            exe.overwrite_cache = True
        if plan.max_parallelism:
            exe.max_parallelism = plan.max_parallelism
        return run_entity(exe, "", plan.workflow, {}, merged)
    rec = exe.record(path, overrides.get("name") or plan.name, "launch_plan")
    exe.set_phase(rec, RUNNING)
    child = Execution(
        overwrite_cache=bool(exe.overwrite_cache or plan.overwrite_cache),
        max_parallelism=plan.max_parallelism or exe.max_parallelism,
        envs=exe.envs,
        project=exe.id.project,
        domain=exe.id.domain,
    )
    rec.error = None
    try:
        outputs = run_entity(child, "", plan.workflow, {}, merged)
    except Exception as exc:
        exe.set_phase(rec, FAILED, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        for p, r in child.nodes.items():
            exe.nodes[f"{path}-{p}"] = r
    exe.set_phase(rec, SUCCEEDED)
    rec.child_execution = child.id.name  # type: ignore[attr-defined]
    return outputs


# ------------------------------------------------------------------ maps


def run_map(exe: Execution, path: str, mapped: Any, overrides: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """Run the map's target once per item of its mapped lists; outputs are lists in item order.

    Items are nodes `{path}-{i}`. Once more items failed than min_success_ratio
    (or min_successes) tolerates, no new item starts and the first failure is
    raised; otherwise a failed item's outputs are None. The record keeps each
    item's outputs (`items`); in a re-run that names this map in `map_items`,
    the items not chosen take the outputs the original run kept.
    """
    rec = exe.record(path, overrides.get("name") or mapped.name, "map")
    exe.set_phase(rec, RUNNING)
    lists = {n: inputs[n] for n in mapped.mapped}
    lengths = {n: len(v) for n, v in lists.items()}
    if len(set(lengths.values())) > 1:
        err = InputError(
            f"map over `{mapped.target.name}`: mapped inputs have different lengths {lengths}; "
            "give every mapped list the same length or bind the constant ones"
        )
        exe.set_phase(rec, FAILED, str(err))
        raise err
    count = next(iter(lengths.values()), 0)
    ratio = overrides.get("min_success_ratio", mapped.min_success_ratio)
    needed = mapped.min_successes if mapped.min_successes is not None else math.ceil(ratio * count - 1e-9)
    results: list[dict[str, Any] | None] = [None] * count
    errors: dict[int, BaseException] = {}
    stop = threading.Event()
    run_item = _item_function(exe, path, mapped, overrides, inputs, results, errors, count - needed, stop)
    kept = exe.hook.kept_items(path, count) if exe.hook is not None else None
    if kept:
        run_item = _keeping(run_item, kept, results)
    concurrency = overrides.get("concurrency", mapped.concurrency)
    _run_items(run_item, count, min(count, concurrency or exe.max_parallelism), stop)
    rec.items = results  # not changed after this: kept as it is
    if len(errors) > count - needed:
        first = min(errors)
        exc = errors[first]
        message = (
            f"map over `{mapped.target.name}`: {len(errors)} of {count} item(s) failed "
            f"(at least {needed} must succeed); first failure at item {first}: "
            f"{type(exc).__name__}: {exc}"
        )
        exe.set_phase(rec, FAILED, message)
        if hasattr(exc, "add_note"):
            exc.add_note(message)
        raise exc
    outputs = {n: [r[n] if r is not None else None for r in results] for n in mapped.interface.outputs}
    exe.set_phase(rec, SUCCEEDED)
    rec.error = f"{len(errors)} item(s) failed" if errors else None
    return outputs


def _item_function(
    exe: Execution, path: str, mapped: Any, overrides: dict[str, Any], inputs: dict[str, Any],
    results: list[dict[str, Any] | None], errors: dict[int, BaseException], tolerate: int,
    stop: threading.Event,
) -> Callable[[int], None]:
    """A function running item `i` of the map into `results[i]`, or its error into `errors[i]`
    (and setting `stop` once more than `tolerate` items failed)."""
    target = mapped.target
    fixed = {**mapped.bound_values, **{n: inputs[n] for n in mapped.bound_names}}
    names = list(mapped.mapped)
    columns = [inputs[n] for n in names]
    run_one = item_runner(exe, target, effective(target.settings, overrides)) if target.kind == "task" else None
    item_overrides = {k: v for k, v in overrides.items() if k not in ("concurrency", "min_success_ratio", "name")}

    def run_item(i: int) -> None:
        kwargs = dict(fixed)
        for n, col in zip(names, columns, strict=True):
            kwargs[n] = col[i]
        try:
            if run_one is not None:
                results[i] = run_one(f"{path}-{i}", kwargs)
            else:
                results[i] = run_entity(exe, f"{path}-{i}", target, item_overrides, kwargs)
        except Exception as exc:  # noqa: BLE001 - counted against min_success_ratio
            errors[i] = exc
            if len(errors) > tolerate:
                stop.set()

    return run_item


def _keeping(run_item: Callable[[int], None], kept: dict[int, dict[str, Any]],
             results: list[dict[str, Any] | None]) -> Callable[[int], None]:
    """`run_item`, except that the items in `kept` take those outputs instead of running."""

    def run_or_keep(i: int) -> None:
        found = kept.get(i)
        if found is None:
            run_item(i)
        else:
            results[i] = found

    return run_or_keep


def _run_items(run_item: Callable[[int], None], count: int, workers: int, stop: threading.Event) -> None:
    """Run items 0..count-1 on up to `workers` threads until `stop` is set.

    The first item runs alone: when it takes microseconds, threads would cost
    more than they give, and the rest run in one loop.
    """
    start = 0
    if count and workers > 1:
        t0 = time.perf_counter()
        run_item(0)
        start = 1
        if time.perf_counter() - t0 < _SERIAL_BELOW_S:
            workers = 1
    if workers <= 1:
        for i in range(start, count):
            if stop.is_set():
                break
            run_item(i)
        return
    indices = iter(range(start, count))

    def worker() -> None:
        for i in indices:
            if stop.is_set():
                return
            run_item(i)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="plait-map") as pool:
        for f in [pool.submit(worker) for _ in range(workers)]:
            f.result()


# ------------------------------------------------------------------ branches


def run_branch(exe: Execution, path: str, branch: Any, wf_inputs: dict[str, Any],
               results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Run the first case of `branch` whose condition holds; record the others' nodes SKIPPED.

    Conditions read the surrounding graph's values (`wf_inputs`, `results`); the
    chosen case's nodes run beside the branch node (same prefix), and their
    results join `results`. No case and no else_(): the branch is SKIPPED, or
    fails when it has outputs; a `fail(...)` case raises its message.
    """
    rec = exe.record(path, branch.name, "branch")
    exe.set_phase(rec, RUNNING)
    try:
        chosen = None
        for case in branch.cases:
            if case.condition is None or evaluate(case.condition, lambda b: resolve(b, wf_inputs, results)):
                chosen = case
                break
        prefix = path.rsplit("-", 1)[0] + "-" if "-" in path else ""
        for case in branch.cases:
            if case is not chosen:
                for n in case.builder.nodes:
                    exe.set_phase(exe.record(f"{prefix}{n.id}", n.entity_name, n.entity.kind), SKIPPED)
        if chosen is None:
            if branch.interface.outputs:
                raise UserError(
                    f"conditional `{branch.name}`: no case matched and there is no else_(); "
                    "add `.else_().then(...)` or `.else_().fail(...)`"
                )
            exe.set_phase(rec, SKIPPED)
            return {}
        if chosen.fail_message is not None:
            raise UserError(f"conditional `{branch.name}` failed: {chosen.fail_message}")
        graph = chosen.graph or Graph(chosen.builder.nodes, chosen.outputs)
        chosen.graph = graph
        run_graph(exe, prefix, graph, wf_inputs, results)
        outputs = collect(chosen.outputs, wf_inputs, results)
    except Exception as exc:
        exe.set_phase(rec, FAILED, f"{type(exc).__name__}: {exc}")
        raise
    exe.set_phase(rec, SUCCEEDED)
    return outputs


def evaluate(cond: Any, value_of: Callable[[Any], Any]) -> bool:
    """Whether a branch condition holds; `value_of(ref)` gives the value a promise stands for."""
    if isinstance(cond, Conjunction):
        left = evaluate(cond.left, value_of)
        if cond.op == "and":
            return left and evaluate(cond.right, value_of)
        return left or evaluate(cond.right, value_of)

    def operand(v: Any) -> Any:
        return value_of(ref_of(v)) if isinstance(v, Promise) else v

    return bool(COMPARISONS[cond.op](operand(cond.left), operand(cond.right)))


# ------------------------------------------------------------------ dynamic


def run_dynamic(exe: Execution, path: str, task: Any, overrides: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """Run a dynamic task: its body builds a graph from the input values, then the graph runs.

    With a cache, a hit skips both. Children are `{path}-{node}`; nesting deeper
    than the execution's max_dynamic_depth fails.
    """
    settings = effective(task.settings, overrides)
    if settings.cache is not None and cache_enabled():
        return cached(exe, path, task, settings.cache, inputs, lambda: _expand(exe, path, task, overrides, inputs))
    return _expand(exe, path, task, overrides, inputs)


def _expand(exe: Execution, path: str, task: Any, overrides: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    rec = exe.record(path, overrides.get("name") or task.name, "dynamic")
    exe.set_phase(rec, RUNNING)
    depth = _depth(exe, path)
    try:
        if depth > exe.max_dynamic_depth:
            raise UserError(
                f"dynamic workflow `{task.name}` is nested {depth} levels deep, past the limit "
                f"of {exe.max_dynamic_depth}; make sure the recursion has a base case that "
                "is reached (or raise max_dynamic_depth for this run)"
            )
        graph = task.compile_body(exe, path, inputs)
        rec.graph = graph  # type: ignore[attr-defined]  # for displays of the expanded DAG
        results = run_graph(exe, _subpath(path), graph, {})
        outputs = collect(graph.outputs, {}, results)
    except Exception as exc:
        exe.set_phase(rec, FAILED, f"{type(exc).__name__}: {exc}")
        raise
    exe.set_phase(rec, SUCCEEDED)
    return outputs


def _depth(exe: Execution, path: str) -> int:
    """How many dynamic nodes enclose node `path`, itself included."""
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


# ------------------------------------------------------------------ gates


def run_gate(exe: Execution, path: str, gate: Any, overrides: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """A gate node (`plait.sleep`, `wait_for_input`, `approve`): wait, then pass on.

    A signal's value comes from the run (`execute(..., signals={name: value})`), else
    from a prompt (a notebook's input box, or the terminal within the timeout), else
    the run fails saying how to give it. A rejected approval fails the node.
    """
    from .gates import signal_value

    rec = exe.record(path, gate.name, "gate")
    exe.set_phase(rec, WAITING)
    if gate.gate == "sleep":
        time.sleep(gate.seconds)
        exe.set_phase(rec, SUCCEEDED)
        return {}
    value = signal_value(exe, gate, inputs)
    if gate.gate == "approve":
        if not value:
            exe.set_phase(rec, FAILED, f"approval `{gate.signal}` was rejected")
            raise UserError(f"approval `{gate.signal}` was rejected; the nodes after it do not run")
        exe.set_phase(rec, SUCCEEDED)
        return {"o0": inputs["upstream"]}
    exe.set_phase(rec, SUCCEEDED)
    return {"o0": value}


RUNNERS: dict[str, Runner] = {
    "workflow": run_workflow,
    "launch_plan": run_launch_plan,
    "map": run_map,
    "dynamic": run_dynamic,
    "gate": run_gate,
}
