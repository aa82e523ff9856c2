"""`conditional`: branch nodes decided at run time from promise comparisons.

    result = (
        conditional("size")
        .if_((x > 0) & (x < 10)).then(small(x=x))
        .elif_(x >= 10).then(large(x=x))
        .else_().fail("x must be positive")
    )

The calls inside each `then(...)` are captured into that case; only the case
whose condition holds runs, the others are recorded as SKIPPED.
"""

from __future__ import annotations

from typing import Any

from ..errors import CompileError
from ..typesys import describe, is_assignable
from .compiler import (
    Graph,
    GraphBuilder,
    Node,
    binding_spec,
    condition_spec,
    current_builder,
    node_outputs,
    to_binding,
)
from .entity import Entity
from .interface import Interface
from .promise import Outputs, Promise, VoidPromise, _condition, promises_in


class _Case:
    def __init__(self, condition: Any, builder: GraphBuilder) -> None:
        self.condition = condition  # None for else
        self.builder = builder
        self.outputs: dict[str, Any] = {}
        self.fail_message: str | None = None
        self.graph: Graph | None = None


class BranchEntity(Entity):
    """A conditional's node: its cases, each a condition and a graph (run by plait.run.nodes)."""

    kind = "branch"

    def __init__(self, name: str) -> None:
        self.name = name
        self.interface = Interface({}, {})
        self.cases: list[_Case] = []

    def node_spec(self) -> dict[str, Any]:
        cases = []
        for case in self.cases:
            entry: dict[str, Any] = {
                "condition": condition_spec(case.condition) if case.condition is not None else None,
                "nodes": [n.to_spec() for n in case.builder.nodes],
            }
            if case.fail_message is not None:
                entry["fail"] = case.fail_message
            else:
                entry["outputs"] = {k: binding_spec(b) for k, b in case.outputs.items()}
            cases.append(entry)
        return {"branch": {"cases": cases}}

    def sub_entities(self) -> list[Any]:
        out = []
        for case in self.cases:
            for n in case.builder.nodes:
                out.append(n.entity)
                out.extend(getattr(n.entity, "sub_entities", lambda: [])())
        return out

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "branch", "name": self.name, "interface": self.interface.to_spec(), **self.node_spec()}


class ConditionalSection:
    """The builder returned by `conditional(name)`."""

    def __init__(self, name: str) -> None:
        parent = current_builder()
        if parent is None:
            raise CompileError(
                f"conditional `{name}` works only inside a @workflow; in plain Python or a "
                "@dynamic workflow, use an ordinary `if`"
            )
        self.name = name
        self.parent = parent
        self.entity = BranchEntity(name)
        self.node: Node | None = None
        self._open: _Case | None = None
        self._has_else = False
        self._done = False

    # ------------------------------------------------------------------ cases
    def _start(self, condition: Any, what: str) -> ConditionalSection:
        if self._done:
            raise CompileError(f"conditional `{self.name}` is complete; start a new conditional")
        if self._open is not None:
            raise CompileError(f"conditional `{self.name}`: call .then(...) before .{what}(...)")
        if self._has_else:
            raise CompileError(f"conditional `{self.name}`: else_() must come last")
        if condition is not None:
            if isinstance(condition, bool):
                raise CompileError(
                    f"conditional `{self.name}`: the condition is a plain bool ({condition}); "
                    "compare a promise instead (e.g. `x > 5`), and combine with `&` / `|`"
                )
            condition = _condition(condition)
        if self.node is None:
            self.node = Node(self.parent.next_id(), self.entity, {}, builder=self.parent)
            self.parent.nodes.append(self.node)
        for p in promises_in(condition):
            if p.node is not None:
                self.node.add_upstream(p.node)
        case = _Case(condition, GraphBuilder(f"conditional `{self.name}`", parent=self.parent))
        self._open = case
        case.builder.__enter__()
        return self

    def if_(self, condition: Any) -> ConditionalSection:
        if self.entity.cases or self._open is not None:
            raise CompileError(f"conditional `{self.name}`: if_() must come first; use elif_()")
        return self._start(condition, "if_")

    def elif_(self, condition: Any) -> ConditionalSection:
        if not self.entity.cases:
            raise CompileError(f"conditional `{self.name}`: start with if_() before elif_()")
        return self._start(condition, "elif_")

    def else_(self) -> ConditionalSection:
        if not self.entity.cases:
            raise CompileError(f"conditional `{self.name}`: start with if_() before else_()")
        self._start(None, "else_")
        self._has_else = True
        return self

    def _close(self) -> _Case:
        case = self._open
        if case is None:
            raise CompileError(f"conditional `{self.name}`: then()/fail() needs an if_(), elif_() or else_() first")
        case.builder.__exit__(None, None, None)
        self._open = None
        assert self.node is not None
        inner = {n.id for n in case.builder.nodes}
        for n in case.builder.nodes:
            for b in n.bindings.values():
                for ref in _refs(b):
                    if ref.node_id is not None and ref.node_id not in inner:
                        outer = self.parent_node(ref.node_id)
                        if outer is not None:
                            self.node.add_upstream(outer)
        self.entity.cases.append(case)
        return case

    def parent_node(self, node_id: str) -> Node | None:
        b: GraphBuilder | None = self.parent
        while b is not None:
            for n in b.nodes:
                if n.id == node_id:
                    return n
            b = b.parent
        return None

    def then(self, value: Any) -> Any:
        case = self._close()
        outputs = _value_outputs(value, self.name)
        if len(self.entity.cases) == 1:
            self.entity.interface = Interface({}, outputs)
        else:
            self._check_same(outputs)
        owner = f"conditional `{self.name}`"
        values = _promises_of(value)
        case.outputs = {
            name: to_binding(v, outputs[name], owner, name, owner)
            for name, v in zip(outputs, values, strict=True)
        }
        for v in values:
            if v.node is not None and v.node.id not in {n.id for n in case.builder.nodes}:
                outer = self.parent_node(v.node.id)
                if outer is not None:
                    self.node.add_upstream(outer)  # type: ignore[union-attr]
        if case.condition is None:
            return self._finish()
        return self

    def fail(self, message: str) -> Any:
        case = self._close()
        case.fail_message = message
        if case.condition is None:
            return self._finish()
        return self

    def _finish(self) -> Any:
        self._done = True
        assert self.node is not None
        return node_outputs(self.node)

    def _check_same(self, outputs: dict[str, Any]) -> None:
        first = self.entity.interface.outputs
        if not first and self.entity.cases[0].fail_message is not None:
            self.entity.interface = Interface({}, outputs)
            return
        if len(first) != len(outputs) or not all(
            is_assignable(outputs[b], first[a]) for a, b in zip(first, outputs, strict=False)
        ):
            raise CompileError(
                f"conditional `{self.name}`: every case must produce the same outputs; the first "
                f"gives {[describe(t) for t in first.values()]}, this one "
                f"{[describe(t) for t in outputs.values()]}"
            )

    # Nodes made from the section behave like nodes.
    def __rshift__(self, other: Any) -> Any:
        assert self.node is not None
        return self.node >> other


def _refs(binding: Any) -> list[Any]:
    from .compiler import DictOf, ListOf, Ref

    if isinstance(binding, Ref):
        return [binding]
    if isinstance(binding, ListOf):
        return [r for b in binding.items for r in _refs(b)]
    if isinstance(binding, DictOf):
        return [r for _, b in binding.items for r in _refs(b)]
    return []


def _promises_of(value: Any) -> list[Promise]:
    if isinstance(value, Promise):
        return [value]
    if isinstance(value, Outputs):
        return list(value)
    if isinstance(value, VoidPromise) or value is None:
        return []
    raise CompileError(
        f"then() expects the result of calling a task or workflow, got {type(value).__name__}"
    )


def _value_outputs(value: Any, name: str) -> dict[str, Any]:
    promises = _promises_of(value)
    if len(promises) == 1:
        return {"o0": promises[0].type}
    return {p.output: p.type for p in promises}


def conditional(name: str) -> ConditionalSection:
    """Start a branch inside a workflow: `conditional("name").if_(cond).then(...)`."""
    return ConditionalSection(name)
