"""`map`: run a task (or launch plan) once per item of its list inputs, in one node.

Bound inputs (from `functools.partial` or `bound_inputs`) are the same for
every item. `concurrency` caps how many items run at once; with
`min_success_ratio` below 1 failed items become `None` and the node succeeds
while enough items did.
"""

from __future__ import annotations

import functools
import math
import threading
import time
import typing
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import InputError, UserError
from ..model.keys import content_version
from .entity import Entity
from .interface import Interface, Param

# Items faster than this run in one loop: threads cannot speed up work that
# holds the GIL, and the loop keeps per-item overhead to a few microseconds.
_SERIAL_BELOW_S = 0.0002


class MapTask(Entity):
    kind = "map"

    def __init__(
        self,
        target: Any,
        concurrency: int | None = None,
        min_success_ratio: float = 1.0,
        bound_inputs: Iterable[str] | dict[str, Any] | None = None,
        min_successes: int | None = None,
    ) -> None:
        bound_values: dict[str, Any] = {}
        if isinstance(target, functools.partial):
            if target.args:
                raise UserError("map over functools.partial: bind inputs by name, e.g. partial(t, y=1)")
            bound_values.update(target.keywords)
            target = target.func
        if not isinstance(target, Entity) or target.kind not in ("task", "launch_plan"):
            raise UserError(
                f"map expects a @task, a launch plan or a functools.partial of one, got "
                f"{type(target).__name__}; wrap a workflow in LaunchPlan.get_or_create(wf) to map it"
            )
        if isinstance(bound_inputs, dict):
            bound_values.update(bound_inputs)
            bound_names: set[str] = set()
        else:
            bound_names = set(bound_inputs or ())
        # A bound value that is a promise (or holds one) is an ordinary scalar
        # input of the map node, passed for the caller when the node is added.
        from .promise import promises_in

        self.bound_promises = {n: v for n, v in bound_values.items() if promises_in([v])}
        for n in self.bound_promises:
            del bound_values[n]
            bound_names.add(n)
        unknown = (set(bound_values) | bound_names) - set(target.interface.inputs)
        if unknown:
            raise UserError(
                f"map over `{target.name}`: bound input(s) {sorted(unknown)} are not inputs of it; "
                f"its inputs are {list(target.interface.inputs)}"
            )
        if concurrency is not None and (not isinstance(concurrency, int) or concurrency < 0):
            raise InputError(f"map over `{target.name}`: concurrency expects a whole number >= 0, got {concurrency!r}")
        if not 0 <= float(min_success_ratio) <= 1:
            raise InputError(
                f"map over `{target.name}`: min_success_ratio expects a number in [0, 1], got {min_success_ratio!r}"
            )
        self.target = target
        self.concurrency = concurrency or None
        self.min_success_ratio = float(min_success_ratio)
        self.min_successes = min_successes
        self.bound_values = bound_values
        self.bound_names = bound_names
        self.name = f"{target.name}.map"
        inputs: dict[str, Param] = {}
        for n, p in target.interface.inputs.items():
            if n in bound_values:
                continue
            if n in bound_names:
                inputs[n] = p
            else:
                inputs[n] = Param(n, list[p.type])  # type: ignore[valid-type]
        optional = self.min_success_ratio < 1 or (min_successes is not None)
        outputs = {
            n: list[typing.Optional[t]] if optional else list[t]  # type: ignore[valid-type]  # noqa: UP045
            for n, t in target.interface.outputs.items()
        }
        self.interface = Interface(inputs, outputs)
        self.mapped = [n for n in inputs if n not in bound_names]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.bound_promises:
            clash = sorted(set(kwargs) & set(self.bound_promises))
            if clash:
                raise UserError(f"map over `{self.target.name}`: input(s) {clash} are already bound")
            kwargs = {**self.bound_promises, **kwargs}
        return super().__call__(*args, **kwargs)

    @property
    def settings(self) -> Any:
        return getattr(self.target, "settings", None)

    def run_local(self, exe: Any, path: str, overrides: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
        from ..config.settings import effective
        from ..run.engine import FAILED, RUNNING, SUCCEEDED, item_runner, run_entity

        rec = exe.record(path, overrides.get("name") or self.name, "map")
        exe.set_phase(rec, RUNNING)
        lists = {n: inputs[n] for n in self.mapped}
        lengths = {n: len(v) for n, v in lists.items()}
        if len(set(lengths.values())) > 1:
            err = InputError(
                f"map over `{self.target.name}`: mapped inputs have different lengths {lengths}; "
                "give every mapped list the same length or bind the constant ones"
            )
            exe.set_phase(rec, FAILED, str(err))
            raise err
        count = next(iter(lengths.values()), 0)
        fixed = {**self.bound_values, **{n: inputs[n] for n in self.bound_names}}
        target = self.target
        names = list(self.mapped)
        columns = [lists[n] for n in names]
        out_names = list(self.interface.outputs)
        results: list[dict[str, Any] | None] = [None] * count
        errors: dict[int, BaseException] = {}
        ratio = overrides.get("min_success_ratio", self.min_success_ratio)
        needed = self.min_successes if self.min_successes is not None else math.ceil(ratio * count - 1e-9)
        tolerate = count - needed
        stop = threading.Event()
        is_task = target.kind == "task"
        run_one = item_runner(exe, target, effective(target.settings, overrides)) if is_task else None
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

        concurrency = overrides.get("concurrency", self.concurrency)
        workers = min(count, concurrency or exe.max_parallelism)
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
        else:
            indices = iter(range(start, count))

            def worker() -> None:
                for i in indices:
                    if stop.is_set():
                        return
                    run_item(i)

            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="plait-map") as pool:
                for f in [pool.submit(worker) for _ in range(workers)]:
                    f.result()
        if len(errors) > tolerate:
            first = min(errors)
            exc = errors[first]
            message = (
                f"map over `{target.name}`: {len(errors)} of {count} item(s) failed "
                f"(at least {needed} must succeed); first failure at item {first}: "
                f"{type(exc).__name__}: {exc}"
            )
            exe.set_phase(rec, FAILED, message)
            if hasattr(exc, "add_note"):
                exc.add_note(message)
            raise exc
        outputs = {n: [r[n] if r is not None else None for r in results] for n in out_names}
        exe.set_phase(rec, SUCCEEDED)
        rec.error = f"{len(errors)} item(s) failed" if errors else None
        return outputs

    def node_spec(self) -> dict[str, Any]:
        return {
            "map": {
                "target": self.target.name,
                "target_kind": self.target.kind,
                "concurrency": self.concurrency,
                "min_success_ratio": self.min_success_ratio,
                "bound_inputs": sorted(self.bound_names | set(self.bound_values)),
                "bound_values": self._bound_literals(),
            }
        }

    def _bound_literals(self) -> dict[str, Any]:
        from ..typesys import to_literal

        types = self.target.interface.input_types
        out = {}
        for name, value in self.bound_values.items():
            try:
                out[name] = to_literal(types.get(name), value)
            except TypeError:
                out[name] = {"__unrepresentable__": type(value).__name__}
        return out

    def sub_entities(self) -> list[Any]:
        return [self.target, *getattr(self.target, "sub_entities", lambda: [])()]

    def to_spec(self) -> dict[str, Any]:
        body = {"kind": "map", "name": self.name, "interface": self.interface.to_spec(), **self.node_spec()}
        body["version"] = content_version(body)
        return body

    def __repr__(self) -> str:
        return f"MapTask({self.target.name}, mapped={self.mapped}, bound={sorted(self.bound_names | set(self.bound_values))})"


def map(  # noqa: A001 - the SDK's name
    target: Any,
    concurrency: int | None = None,
    min_success_ratio: float = 1.0,
    bound_inputs: Iterable[str] | dict[str, Any] | None = None,
    **kwargs: Any,
) -> MapTask:
    """Map `target` over list inputs: `plait.map(task)(x=[1, 2, 3])`."""
    min_successes = kwargs.pop("min_successes", None)
    if kwargs:
        raise UserError(f"map got unknown parameter(s) {sorted(kwargs)}")
    return MapTask(target, concurrency, min_success_ratio, bound_inputs, min_successes)


map_task = map
