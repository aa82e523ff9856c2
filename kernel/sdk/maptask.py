"""`map`: run a task (or launch plan) once per item of its list inputs, in one node.

Bound inputs (from `functools.partial` or `bound_inputs`) are the same for
every item. `concurrency` caps how many items run at once; with
`min_success_ratio` below 1 failed items become `None` and the node succeeds
while enough items did.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Iterable
from typing import Any

from ..errors import InputError, UserError
from ..model.keys import content_version
from .entity import Entity
from .interface import Interface, Param


class MapTask(Entity):
    """What `map(target)` makes: a node running `target` once per item (run by plait.run.nodes)."""

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
