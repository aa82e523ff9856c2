"""Promises: the lazily evaluated values a workflow definition passes around.

A promise stands for an output of a node (or a workflow input) while the
workflow is compiled. Using one as a concrete Python value (`if`, `for`,
`len`, `bool`) cannot work and raises an error that says what to use instead.
Comparisons build condition expressions for `plait.conditional`.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from ..errors import CompileError, PromiseMisuseError
from ..typesys import describe, is_namedtuple, strip_annotated


class Promise:
    __slots__ = ("node", "output", "type", "path", "__weakref__")

    def __init__(self, node: Any, output: str, tp: Any, path: tuple[Any, ...] = ()) -> None:
        self.node = node  # compiler.Node, or None for a workflow input
        self.output = output
        self.type = tp
        self.path = path

    # ----------------------------------------------------------- description
    @property
    def source(self) -> str:
        """Where the value comes from, in the words of an error message."""
        suffix = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in self.path)
        if self.node is None:
            return f"workflow input `{self.output}`{suffix}"
        return f"output `{self.output}`{suffix} of `{self.node.entity_name}` (node {self.node.id})"

    def __repr__(self) -> str:
        return f"Promise({self.source}: {describe(self.type)})"

    # ------------------------------------------------------------ navigation
    def __getattr__(self, name: str) -> Promise:
        if name.startswith("__"):
            raise AttributeError(name)
        if self.node is not None and not self.path and name == self.output:
            return self  # `slope_value.slope` on a single named output
        base, _ = strip_annotated(self.type)
        hints: dict[str, Any] = {}
        if isinstance(base, type):
            try:
                hints = typing.get_type_hints(base)
            except Exception:  # noqa: BLE001 - a type without resolvable hints has no fields
                hints = {}
        if name in hints and not is_namedtuple(base):
            return Promise(self.node, self.output, hints[name], (*self.path, name))
        raise AttributeError(
            f"{self.source} of type {describe(self.type)} has no field `{name}`"
        )

    def __getitem__(self, key: Any) -> Promise:
        base, _ = strip_annotated(self.type)
        origin = typing.get_origin(base)
        args = typing.get_args(base)
        if origin is list and isinstance(key, int):
            return Promise(self.node, self.output, args[0] if args else Any, (*self.path, key))
        if origin is dict and isinstance(key, str):
            return Promise(self.node, self.output, args[1] if args else Any, (*self.path, key))
        raise CompileError(
            f"cannot index {self.source} of type {describe(self.type)} with {key!r}; "
            "only constant indices into lists and string keys into dicts are allowed"
        )

    # ---------------------------------------------------------- node helpers
    def with_overrides(self, **overrides: Any) -> Promise:
        _node_of(self).apply_overrides(overrides)
        return self

    def __rshift__(self, other: Any) -> Any:
        _node_of(other).add_upstream(_node_of(self))
        return other

    @property
    def ref(self) -> Any:
        return _node_of(self)

    # -------------------------------------------------------------- conditions
    def __eq__(self, other: Any) -> Comparison:  # type: ignore[override]
        return Comparison("==", self, other)

    def __ne__(self, other: Any) -> Comparison:  # type: ignore[override]
        return Comparison("!=", self, other)

    def __lt__(self, other: Any) -> Comparison:
        return Comparison("<", self, other)

    def __le__(self, other: Any) -> Comparison:
        return Comparison("<=", self, other)

    def __gt__(self, other: Any) -> Comparison:
        return Comparison(">", self, other)

    def __ge__(self, other: Any) -> Comparison:
        return Comparison(">=", self, other)

    __hash__ = object.__hash__

    def is_true(self) -> Comparison:
        return Comparison("==", self, True)

    def is_false(self) -> Comparison:
        return Comparison("==", self, False)

    def is_none(self) -> Comparison:
        return Comparison("is", self, None)

    # ------------------------------------------------------------ misuse
    def __bool__(self) -> bool:
        raise PromiseMisuseError(
            f"{self.source} is a promise: its value is not known while the workflow is "
            "compiled, so a Python `if`, `and`, `or`, `not` or `bool()` cannot use it. "
            "Branch with `plait.conditional(...).if_(...)`, or decide at run time "
            "inside a `@plait.dynamic` workflow or a task"
        )

    def __iter__(self) -> Any:
        raise PromiseMisuseError(
            f"{self.source} is a promise: a Python `for` loop or unpacking cannot iterate "
            "it while the workflow is compiled. Apply a task to every item with "
            "`plait.map(task)(...)`, or loop inside a `@plait.dynamic` workflow"
        )

    def __len__(self) -> int:
        raise PromiseMisuseError(
            f"{self.source} is a promise: `len()` is not known while the workflow is "
            "compiled; compute it in a task or a `@plait.dynamic` workflow"
        )

    def __index__(self) -> int:
        raise PromiseMisuseError(
            f"{self.source} is a promise and cannot be used as a number while the "
            "workflow is compiled (for example in `range()`); use `@plait.dynamic`"
        )

    def __int__(self) -> int:
        return self.__index__()

    def __float__(self) -> float:
        raise PromiseMisuseError(
            f"{self.source} is a promise and cannot be converted with float() while the "
            "workflow is compiled; do the arithmetic in a task"
        )

    def _arith(self, *_: Any) -> Any:
        raise PromiseMisuseError(
            f"{self.source} is a promise: arithmetic on it cannot run while the workflow "
            "is compiled; do the arithmetic in a task"
        )

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _arith
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _arith
    __mod__ = __rmod__ = __pow__ = __rpow__ = __matmul__ = __rmatmul__ = _arith
    __neg__ = __pos__ = __abs__ = __invert__ = _arith

    def __and__(self, other: Any) -> Any:
        raise PromiseMisuseError(
            f"{self.source}: `&` combines comparisons, e.g. `(x > 1) & (x < 5)`; "
            "compare the promise first"
        )

    __or__ = __and__


class VoidPromise:
    """What calling an entity with no outputs returns: a handle on its node."""

    __slots__ = ("node",)

    def __init__(self, node: Any) -> None:
        self.node = node

    def with_overrides(self, **overrides: Any) -> VoidPromise:
        self.node.apply_overrides(overrides)
        return self

    def __rshift__(self, other: Any) -> Any:
        _node_of(other).add_upstream(self.node)
        return other

    @property
    def ref(self) -> Any:
        return self.node

    def __repr__(self) -> str:
        return f"VoidPromise({self.node.entity_name}, node {self.node.id})"


class Outputs:
    """Several outputs of one node: unpack it, index it, or read a named output as an attribute.

    Not a tuple subclass, so output names such as `count` or `index` are not
    shadowed by tuple methods.
    """

    __slots__ = ("node", "names", "_promises")

    def __init__(self, node: Any, promises: list[Promise]) -> None:
        self.node = node
        self._promises = tuple(promises)
        self.names = tuple(p.output for p in promises)

    def __iter__(self) -> Any:
        return iter(self._promises)

    def __len__(self) -> int:
        return len(self._promises)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, str):
            return self.__getattr__(index)
        return self._promises[index]

    def __getattr__(self, name: str) -> Promise:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self.names:
            return self._promises[self.names.index(name)]
        raise AttributeError(f"node {self.node.id} has outputs {list(self.names)}, not `{name}`")

    def __repr__(self) -> str:
        return f"Outputs({self.node.entity_name}: {', '.join(self.names)})"

    def with_overrides(self, **overrides: Any) -> Outputs:
        self.node.apply_overrides(overrides)
        return self

    def __rshift__(self, other: Any) -> Any:
        _node_of(other).add_upstream(self.node)
        return other

    @property
    def ref(self) -> Any:
        return self.node


def _node_of(value: Any) -> Any:
    node = getattr(value, "node", None)
    if node is None and hasattr(value, "apply_overrides"):
        return value  # a Node itself (create_node)
    if node is None:
        raise CompileError(
            f"`>>` and with_overrides() work on the results of calling a task, workflow or "
            f"launch plan inside a workflow, not on {type(value).__name__}"
        )
    return node


# ---------------------------------------------------------------- conditions


@dataclass(frozen=True, eq=False)
class Comparison:
    op: str
    left: Any
    right: Any

    def __and__(self, other: Any) -> Conjunction:
        return Conjunction("and", self, _condition(other))

    def __or__(self, other: Any) -> Conjunction:
        return Conjunction("or", self, _condition(other))

    def __bool__(self) -> bool:
        raise PromiseMisuseError(
            "a comparison of promises cannot be decided while the workflow is compiled: "
            "use `&` and `|` (not `and`/`or`) to combine conditions, and pass the result "
            "to `plait.conditional(...).if_(...)`"
        )


@dataclass(frozen=True, eq=False)
class Conjunction:
    op: str  # "and" | "or"
    left: Any
    right: Any

    __and__ = Comparison.__and__
    __or__ = Comparison.__or__
    __bool__ = Comparison.__bool__


def _condition(value: Any) -> Any:
    if isinstance(value, (Comparison, Conjunction)):
        return value
    if isinstance(value, Promise):
        return value.is_true()
    raise CompileError(
        f"a condition must compare promises (e.g. `x > 5`), found {type(value).__name__}"
    )


def promises_in(value: Any) -> list[Promise]:
    """All promises inside a condition, a list or a dict."""
    if isinstance(value, Promise):
        return [value]
    if isinstance(value, (Comparison, Conjunction)):
        return promises_in(value.left) + promises_in(value.right)
    if isinstance(value, (list, tuple, Outputs)):
        return [p for v in value for p in promises_in(v)]
    if isinstance(value, dict):
        return [p for v in value.values() for p in promises_in(v)]
    return []
