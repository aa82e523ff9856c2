"""The compiler: a workflow function called with promises becomes a typed graph.

Entities (tasks, workflows, launch plans, map tasks, ...) share `Entity.__call__`:
inside a workflow definition it adds a node and returns promises; outside, it
runs the entity locally. `GraphBuilder` records the nodes and checks every
binding against the callee's interface, so a mistake surfaces in the cell or
file that made it, naming the entity, the input and both types.
"""

from __future__ import annotations

import threading
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import CompileError, TypeMismatchError
from ..typesys import (
    ValueTypeError,
    checker,
    describe,
    is_assignable,
    strip_annotated,
    to_literal,
)
from .interface import NO_DEFAULT, Interface
from .promise import Comparison, Conjunction, Outputs, Promise, VoidPromise, promises_in

# ------------------------------------------------------------------- bindings


@dataclass(frozen=True, slots=True)
class Ref:
    """The output `output` of node `node_id` (None: a workflow input), then `path`."""

    node_id: str | None
    output: str
    path: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Lit:
    value: Any


@dataclass(frozen=True, slots=True)
class ListOf:
    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class DictOf:
    items: tuple[tuple[str, Any], ...]


Binding = Ref | Lit | ListOf | DictOf

# Writes a literal value of a declared type as its binding's JSON (see binding_spec).
LiteralWriter = Callable[[Any, Any], dict[str, Any]]


def binding_spec(b: Any, tp: Any = Any, literal: LiteralWriter | None = None) -> dict[str, Any]:
    """A binding as JSON for a spec: the one serialiser of bindings.

    A Ref is `{"ref": {"node", "output"[, "path"]}}`, a ListOf `{"list": [...]}`,
    a DictOf `{"dict": {...}}`. A literal value of declared type `tp` is
    `{"literal": ...}` by default; `literal(value, tp)`, when given, writes it
    instead (the worker stores a dynamic task's values as value refs).
    """
    if isinstance(b, Ref):
        spec: dict[str, Any] = {"ref": {"node": b.node_id, "output": b.output}}
        if b.path:
            spec["ref"]["path"] = list(b.path)
        return spec
    if isinstance(b, ListOf):
        item = typing.get_args(strip_annotated(tp)[0]) or (Any,)
        return {"list": [binding_spec(i, item[0], literal) for i in b.items]}
    if isinstance(b, DictOf):
        return {"dict": {k: binding_spec(v, Any, literal) for k, v in b.items}}
    if literal is not None:
        return literal(b.value, tp)
    try:
        return {"literal": to_literal(tp, b.value)}
    except TypeError:
        return {"literal": {"__unrepresentable__": type(b.value).__name__}}


def condition_spec(cond: Any) -> dict[str, Any]:
    if isinstance(cond, Conjunction):
        return {"op": cond.op, "left": condition_spec(cond.left), "right": condition_spec(cond.right)}
    assert isinstance(cond, Comparison)

    def operand(v: Any) -> dict[str, Any]:
        if isinstance(v, Promise):
            return binding_spec(ref_of(v))
        return binding_spec(Lit(v))

    return {"op": cond.op, "left": operand(cond.left), "right": operand(cond.right)}


def ref_of(p: Promise) -> Ref:
    return Ref(None if p.node is None else p.node.id, p.output, p.path)


# ----------------------------------------------------------------------- nodes

_OVERRIDE_KEYS = frozenset(
    {
        "requests", "limits", "accelerator", "cache", "cache_version", "cache_serialize",
        "retries", "timeout", "interruptible", "name", "node_name", "container_image",
        "task_config", "environment", "concurrency", "min_success_ratio",
    }
)


@dataclass(eq=False)
class Node:
    id: str
    entity: Any
    bindings: dict[str, Any]
    upstream: list[str] = field(default_factory=list)
    overrides: dict[str, Any] = field(default_factory=dict)
    builder: Any = None

    @property
    def entity_name(self) -> str:
        return str(self.overrides.get("name") or self.entity.name)

    @property
    def outputs(self) -> dict[str, Promise]:
        return {n: Promise(self, n, t) for n, t in self.entity.interface.outputs.items()}

    def __getattr__(self, name: str) -> Promise:
        outs = self.__dict__.get("entity")
        if outs is not None and name in outs.interface.outputs:
            return Promise(self, name, outs.interface.outputs[name])
        raise AttributeError(name)

    def add_upstream(self, other: Node) -> None:
        if other is self:
            raise CompileError(f"node {self.id} (`{self.entity_name}`) cannot run after itself")
        if other.id not in self.upstream:
            self.upstream.append(other.id)

    def __rshift__(self, other: Any) -> Any:
        from .promise import _node_of

        _node_of(other).add_upstream(self)
        return other

    def apply_overrides(self, overrides: dict[str, Any]) -> None:
        unknown = sorted(set(overrides) - _OVERRIDE_KEYS)
        if unknown:
            raise CompileError(
                f"with_overrides() on `{self.entity_name}` got unknown setting(s) {unknown}; "
                f"allowed: {sorted(_OVERRIDE_KEYS)}"
            )
        from ..config.settings import validate_overrides

        self.overrides.update(validate_overrides(self.entity_name, overrides))

    def with_overrides(self, **overrides: Any) -> Node:
        self.apply_overrides(overrides)
        return self

    def to_spec(self, literal: LiteralWriter | None = None) -> dict[str, Any]:
        """The node as JSON; `literal` writes its literal inputs (see binding_spec)."""
        types = self.entity.interface.input_types
        spec: dict[str, Any] = {
            "id": self.id,
            "kind": self.entity.kind,
            "entity": self.entity.name,
            "inputs": {k: binding_spec(b, types.get(k, Any), literal) for k, b in self.bindings.items()},
            "upstream": sorted(set(self.upstream)),
        }
        if self.overrides:
            from ..config.settings import overrides_spec

            spec["overrides"] = overrides_spec(self.overrides)
        extra = getattr(self.entity, "node_spec", None)
        if extra is not None:
            spec.update(extra())
        return spec


# ------------------------------------------------------------------- builders

_state = threading.local()


def current_builder() -> GraphBuilder | None:
    stack = getattr(_state, "stack", None)
    return stack[-1] if stack else None


class GraphBuilder:
    """Collects the nodes of one workflow (or dynamic body, or conditional case)."""

    def __init__(self, owner: str, parent: GraphBuilder | None = None) -> None:
        self.owner = owner
        self.parent = parent
        self.nodes: list[Node] = []
        self._counter: list[int] = parent._counter if parent is not None else [0]

    def __enter__(self) -> GraphBuilder:
        if not hasattr(_state, "stack"):
            _state.stack = []
        _state.stack.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        # Also drop builders left open above this one (a conditional case whose
        # `then(...)` raised), so a failed definition cannot leave later calls
        # building nodes instead of running.
        stack = _state.stack
        if any(b is self for b in stack):
            while stack.pop() is not self:
                pass

    def next_id(self) -> str:
        n = self._counter[0]
        self._counter[0] += 1
        return f"n{n}"

    def add(self, entity: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Add a node calling `entity`; return its promises."""
        if args:
            names = list(entity.interface.inputs)
            raise CompileError(
                f"`{entity.name}` was called with positional arguments in {self.owner}; "
                "inside a workflow every input is passed by name, e.g. "
                f"`{entity.short_name}({', '.join(f'{n}=...' for n in names[:3])})`"
            )
        bindings = bind_inputs(entity, kwargs, self.owner)
        node = Node(self.next_id(), entity, bindings, builder=self)
        for p in promises_in(list(kwargs.values())):
            if p.node is not None and p.node.id not in node.upstream:
                node.upstream.append(p.node.id)
        on_add = getattr(entity, "on_node_added", None)
        if on_add is not None:
            on_add(node)
        self.nodes.append(node)
        return node_outputs(node)


def node_outputs(node: Node) -> Any:
    outputs = node.entity.interface.outputs
    if not outputs:
        return VoidPromise(node)
    promises = [Promise(node, name, tp) for name, tp in outputs.items()]
    if len(promises) == 1:
        return promises[0]
    return Outputs(node, promises)


def bind_inputs(entity: Any, kwargs: dict[str, Any], owner: str) -> dict[str, Any]:
    interface: Interface = entity.interface
    unknown = [k for k in kwargs if k not in interface.inputs]
    if unknown:
        raise CompileError(
            f"`{entity.name}` has no input(s) {unknown} (called in {owner}); "
            f"its inputs are {list(interface.inputs) or 'none'}"
        )
    bindings: dict[str, Any] = {}
    for name, param in interface.inputs.items():
        if name in kwargs:
            bindings[name] = to_binding(kwargs[name], param.type, entity.name, name, owner)
        elif param.default is not NO_DEFAULT:
            bindings[name] = Lit(param.default)
    missing = [n for n, p in interface.inputs.items() if n not in bindings and p.required]
    if missing:
        raise CompileError(
            f"`{entity.name}` is missing required input(s) {missing} in {owner}; "
            f"pass them by name, e.g. `{entity.short_name}({missing[0]}=...)`"
        )
    return bindings


def to_binding(value: Any, tp: Any, entity: str, name: str, owner: str) -> Any:
    """Turn a call argument (promise, literal, or a collection of them) into a binding."""
    if isinstance(value, Promise):
        if not is_assignable(value.type, tp):
            raise TypeMismatchError(
                f"`{entity}` expects input `{name}: {describe(tp)}`, but {owner} passes "
                f"`{describe(value.type)}` from {value.source}; convert it in a task or "
                "change the annotation",
                entity=entity, name=name, expected=describe(tp), found=describe(value.type),
            )
        return ref_of(value)
    if isinstance(value, (VoidPromise,)):
        raise CompileError(
            f"`{entity}` input `{name}` is bound to `{value.node.entity_name}`, which has no "
            "outputs; to order the two, use `first >> second` instead"
        )
    if isinstance(value, Outputs):
        raise CompileError(
            f"`{entity}` input `{name}` is bound to all {len(value)} outputs of "
            f"`{value.node.entity_name}`; unpack them (`a, b = ...`) and pass one"
        )
    base, _ = strip_annotated(tp)
    if isinstance(value, (list, tuple)) and promises_in(value):
        args = typing.get_args(base)
        item = args[0] if typing.get_origin(base) is list and args else Any
        if typing.get_origin(base) not in (list, None) and base is not Any:
            raise TypeMismatchError(
                f"`{entity}` expects input `{name}: {describe(tp)}`, but {owner} passes a list",
                entity=entity, name=name, expected=describe(tp), found="list",
            )
        return ListOf(tuple(to_binding(v, item, entity, f"{name}[{i}]", owner) for i, v in enumerate(value)))
    if isinstance(value, dict) and promises_in(value):
        args = typing.get_args(base)
        val_tp = args[1] if typing.get_origin(base) is dict and len(args) == 2 else Any
        return DictOf(tuple((str(k), to_binding(v, val_tp, entity, f"{name}[{k!r}]", owner)) for k, v in value.items()))
    if type(value).__name__ == "ConditionalSection":
        raise CompileError(
            f"{owner}: conditional `{value.name}` is not finished, so it has no outputs to pass "
            f"to `{name}`; end it with `.else_().then(...)` or `.else_().fail(...)`"
        )
    if isinstance(value, (Comparison, Conjunction)):
        raise CompileError(
            f"`{entity}` input `{name}` got a comparison of promises; comparisons only "
            "work inside `plait.conditional(...).if_(...)`; compute booleans in a task"
        )
    try:
        return Lit(checker(tp)(value))
    except ValueTypeError as exc:
        raise TypeMismatchError(
            f"`{entity}` expects input `{name}: {describe(tp)}`, but {owner} passes the value "
            f"{_short(value)} of type `{exc.found}`; pass a value of type `{describe(tp)}`",
            entity=entity, name=name, expected=describe(tp), found=exc.found,
        ) from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# -------------------------------------------------------------- compiled graph


@dataclass(eq=False)
class Graph:
    """A compiled workflow body: nodes in definition order and output bindings."""

    nodes: list[Node]
    outputs: dict[str, Any]
    by_id: dict[str, Node] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {n.id: n for n in self.nodes}
        known = set(self.by_id)
        for n in self.nodes:
            # Upstream ids outside this graph (a conditional case reading its
            # parent's nodes) are satisfied before the graph starts.
            n.upstream = [u for u in n.upstream if u in known] if known else []

    def to_spec(self, output_types: dict[str, Any], literal: LiteralWriter | None = None) -> dict[str, Any]:
        """Nodes and output bindings as JSON; `literal` writes literal values (see binding_spec)."""
        return {
            "nodes": [n.to_spec(literal) for n in self.nodes],
            "outputs": {k: binding_spec(b, output_types.get(k, Any), literal) for k, b in self.outputs.items()},
        }


def collect_outputs(
    result: Any, interface: Interface, owner: str
) -> dict[str, Any]:
    """Bindings for a workflow's outputs from what its function returned."""
    names = list(interface.outputs)
    if not names:
        if result is None or isinstance(result, VoidPromise):
            return {}
        if isinstance(result, (list, tuple)) and all(isinstance(r, (VoidPromise, Promise)) or r is None for r in result):
            return {}  # e.g. a list of calls kept for their side effects
        raise CompileError(
            f"{owner} returns a value but declares no outputs; add a return annotation "
            "(e.g. `-> int`) or return nothing"
        )
    if type(result).__name__ == "ConditionalSection":
        raise CompileError(
            f"{owner} returns conditional `{result.name}`, which is not finished; end it with "
            "`.else_().then(...)` or `.else_().fail(...)` so that it has outputs"
        )
    if len(names) == 1:
        values = [result]
    elif isinstance(result, (tuple, Outputs)):
        values = list(result)
    else:
        raise CompileError(
            f"{owner} declares {len(names)} outputs {names} but returns one value "
            f"({type(result).__name__}); return a tuple of {len(names)} values"
        )
    if len(values) != len(names):
        raise CompileError(
            f"{owner} declares {len(names)} outputs {names} but returns {len(values)}; "
            "make the return statement match the annotation"
        )
    if result is None and len(names) == 1:
        raise CompileError(
            f"{owner} declares the output `{names[0]}: {describe(interface.outputs[names[0]])}` "
            "but returns nothing; return a value or remove the annotation"
        )
    bindings = {}
    for name, v in zip(names, values, strict=True):
        tp = interface.outputs[name]
        try:
            bindings[name] = to_binding(v, tp, owner, name, owner)
        except TypeMismatchError as exc:
            source = f" from {v.source}" if isinstance(v, Promise) else ""
            raise TypeMismatchError(
                f"{owner} declares output `{name}: {describe(tp)}` but returns `{exc.found}`"
                f"{source}; return a `{describe(tp)}` or change the return annotation",
                entity=owner, name=name, expected=describe(tp), found=exc.found,
            ) from None
    return bindings
