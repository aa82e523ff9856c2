"""The shared model: typed, frozen views of the specs that cross boundaries.

Entities serialise themselves to plain JSON (`entity.to_spec()`); this module
parses that JSON into frozen dataclasses and back, checking its shape. The
backend validates what clients send with `parse_spec`, and the lab extension
and CLI render the same fields. Only the standard library is used here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, TypeAlias, cast

from ..errors import SpecError
from .vocab import TASK_KINDS

JSON: TypeAlias = Any  # a value made of dict, list, str, int, float, bool and None
TypeSpec: TypeAlias = dict[str, Any]  # {"kind": "integer"}, {"kind": "list", "of": {...}}, ...


def _need(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise SpecError(f"{where}: missing field `{key}`")
    value = data[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise SpecError(f"{where}: field `{key}` must be {names}, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class InputSpec:
    name: str
    type: TypeSpec
    required: bool
    default: JSON = None


@dataclass(frozen=True)
class InterfaceSpec:
    inputs: tuple[InputSpec, ...]
    outputs: tuple[tuple[str, TypeSpec], ...]
    output_tuple: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> InterfaceSpec:
        inputs = _need(data, "inputs", dict, where)
        outputs = _need(data, "outputs", dict, where)
        parsed = []
        for name, entry in inputs.items():
            if not isinstance(entry, dict) or "type" not in entry:
                raise SpecError(f"{where}: input `{name}` needs a `type`")
            parsed.append(InputSpec(name, entry["type"], bool(entry.get("required", True)), entry.get("default")))
        return cls(tuple(parsed), tuple(outputs.items()), data.get("output_tuple"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "inputs": {
                i.name: {"type": i.type, "required": i.required, **({} if i.required else {"default": i.default})}
                for i in self.inputs
            },
            "outputs": dict(self.outputs),
        }
        if self.output_tuple is not None:
            out["output_tuple"] = self.output_tuple
        return out

    def input(self, name: str) -> InputSpec | None:
        return next((i for i in self.inputs if i.name == name), None)


@dataclass(frozen=True)
class TaskSpec:
    name: str
    version: str
    kind: str
    task_type: str
    interface: InterfaceSpec
    settings: dict[str, Any]
    docs: dict[str, str] = field(default_factory=dict)
    deprecated: str = ""
    environment_name: str | None = None
    code: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # task-type specific fields

    _CORE = frozenset({"name", "version", "kind", "task_type", "interface", "settings", "docs",
                       "deprecated", "environment_name", "code"})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskSpec:
        where = f"task `{data.get('name', '?')}`"
        return cls(
            name=_need(data, "name", str, where),
            version=_need(data, "version", str, where),
            kind=_need(data, "kind", str, where),
            task_type=data.get("task_type", "python-task"),
            interface=InterfaceSpec.from_dict(_need(data, "interface", dict, where), where),
            settings=dict(data.get("settings") or {}),
            docs=dict(data.get("docs") or {}),
            deprecated=data.get("deprecated") or "",
            environment_name=data.get("environment_name"),
            code=dict(data.get("code") or {}),
            extra={k: v for k, v in data.items() if k not in cls._CORE},
        )

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k not in ("extra", "interface")}
        return {**d, "interface": self.interface.to_dict(), **self.extra}


@dataclass(frozen=True)
class MapSpec:
    """What a map node runs for each item: its target entity, and how the items are spread."""

    target: str
    target_kind: str = "task"
    concurrency: int | None = None  # at most this many items at once (None or 0: no limit)
    min_success_ratio: float = 1.0
    bound_inputs: tuple[str, ...] = ()  # inputs passed whole to every item, not mapped over
    bound_values: dict[str, Any] = field(default_factory=dict)  # bound input name -> JSON literal

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> MapSpec:
        return cls(
            target=_need(data, "target", str, where),
            target_kind=data.get("target_kind") or "task",
            concurrency=data.get("concurrency"),
            min_success_ratio=data.get("min_success_ratio", 1.0),
            bound_inputs=tuple(data.get("bound_inputs") or ()),
            bound_values=dict(data.get("bound_values") or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "target_kind": self.target_kind, "concurrency": self.concurrency,
                "min_success_ratio": self.min_success_ratio, "bound_inputs": list(self.bound_inputs),
                "bound_values": self.bound_values}


@dataclass(frozen=True)
class CaseSpec:
    """One case of a conditional: taken when `condition` holds (None: the `else` case).

    A taken case runs its `nodes` and answers `outputs`, or fails with the message `fail`.
    """

    condition: dict[str, Any] | None
    nodes: tuple[NodeSpec, ...]
    outputs: dict[str, Any] = field(default_factory=dict)  # output name -> binding
    fail: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> CaseSpec:
        condition = data.get("condition")
        if condition is not None and not isinstance(condition, dict):
            raise SpecError(f"{where}: a case's `condition` must be dict or null, got {type(condition).__name__}")
        fail = data.get("fail")
        return cls(
            condition=condition,
            nodes=tuple(NodeSpec.from_dict(n, where) for n in _need(data, "nodes", list, where)),
            outputs=dict(data.get("outputs") or {}),
            fail=None if fail is None else str(fail),
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"condition": self.condition, "nodes": [n.to_dict() for n in self.nodes]}
        if self.fail is not None:
            d["fail"] = self.fail
        else:
            d["outputs"] = self.outputs
        return d


@dataclass(frozen=True)
class BranchSpec:
    """A conditional node's cases, in order: the first whose condition holds is taken."""

    cases: tuple[CaseSpec, ...]

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> BranchSpec:
        cases = _need(data, "cases", list, where)
        return cls(tuple(CaseSpec.from_dict(_object(c, where, "case"), where) for c in cases))

    def to_dict(self) -> dict[str, Any]:
        return {"cases": [c.to_dict() for c in self.cases]}


def _object(value: Any, where: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SpecError(f"{where}: a {what} must be a JSON object, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class NodeSpec:
    id: str
    kind: str
    entity: str
    inputs: dict[str, Any]  # input name -> binding
    upstream: tuple[str, ...] = ()
    overrides: dict[str, Any] = field(default_factory=dict)
    map: MapSpec | None = None  # a map node's details
    branch: BranchSpec | None = None  # a conditional node's cases
    extra: dict[str, Any] = field(default_factory=dict)  # any other fields, kept as they came

    _CORE = frozenset({"id", "kind", "entity", "inputs", "upstream", "overrides", "map", "branch"})

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> NodeSpec:
        data = _object(data, where, "node")
        node_where = f"{where} node `{data.get('id', '?')}`"
        mapped = data.get("map")
        branch = data.get("branch")
        return cls(
            id=_need(data, "id", str, node_where),
            kind=_need(data, "kind", str, node_where),
            entity=_need(data, "entity", str, node_where),
            inputs=dict(_need(data, "inputs", dict, node_where)),
            upstream=tuple(data.get("upstream") or ()),
            overrides=dict(data.get("overrides") or {}),
            map=None if mapped is None else MapSpec.from_dict(_object(mapped, node_where, "`map`"), node_where),
            branch=None if branch is None else BranchSpec.from_dict(
                _object(branch, node_where, "`branch`"), node_where),
            extra={k: v for k, v in data.items() if k not in cls._CORE},
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "kind": self.kind, "entity": self.entity,
                             "inputs": self.inputs, "upstream": list(self.upstream)}
        if self.overrides:
            d["overrides"] = self.overrides
        if self.map is not None:
            d["map"] = self.map.to_dict()
        if self.branch is not None:
            d["branch"] = self.branch.to_dict()
        return {**d, **self.extra}


@dataclass(frozen=True)
class WorkflowSpec:
    name: str
    version: str
    interface: InterfaceSpec
    nodes: tuple[NodeSpec, ...]
    outputs: dict[str, Any]
    failure_policy: str = "FAIL_IMMEDIATELY"
    interruptible: bool = False
    on_failure: str | None = None
    docs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkflowSpec:
        where = f"workflow `{data.get('name', '?')}`"
        nodes = tuple(NodeSpec.from_dict(n, where) for n in _need(data, "nodes", list, where))
        ids = [n.id for n in nodes]
        if len(set(ids)) != len(ids):
            raise SpecError(f"{where}: node ids must be unique, got {ids}")
        known = set(ids)
        for n in nodes:
            missing = [u for u in n.upstream if u not in known]
            if missing:
                raise SpecError(f"{where}: node `{n.id}` depends on unknown node(s) {missing}")
        policy = data.get("failure_policy", "FAIL_IMMEDIATELY")
        if policy not in ("FAIL_IMMEDIATELY", "FAIL_AFTER_EXECUTABLE_NODES_COMPLETE"):
            raise SpecError(f"{where}: unknown failure_policy {policy!r}")
        return cls(
            name=_need(data, "name", str, where),
            version=_need(data, "version", str, where),
            interface=InterfaceSpec.from_dict(_need(data, "interface", dict, where), where),
            nodes=nodes,
            outputs=dict(_need(data, "outputs", dict, where)),
            failure_policy=policy,
            interruptible=bool(data.get("interruptible", False)),
            on_failure=data.get("on_failure"),
            docs=dict(data.get("docs") or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "workflow", "name": self.name, "version": self.version,
            "interface": self.interface.to_dict(), "nodes": [n.to_dict() for n in self.nodes],
            "outputs": self.outputs, "failure_policy": self.failure_policy,
            "interruptible": self.interruptible, "on_failure": self.on_failure, "docs": self.docs,
        }


@dataclass(frozen=True)
class LaunchPlanSpec:
    name: str
    version: str
    workflow: str
    interface: InterfaceSpec
    default_inputs: dict[str, Any]
    fixed_inputs: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)  # schedule, notifications, labels, ...

    _CORE = frozenset({"kind", "name", "version", "workflow", "interface", "default_inputs", "fixed_inputs"})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LaunchPlanSpec:
        where = f"launch plan `{data.get('name', '?')}`"
        return cls(
            name=_need(data, "name", str, where),
            version=_need(data, "version", str, where),
            workflow=data.get("workflow") or data.get("reference", {}).get("name", ""),
            interface=InterfaceSpec.from_dict(_need(data, "interface", dict, where), where),
            default_inputs=dict(data.get("default_inputs") or {}),
            fixed_inputs=dict(data.get("fixed_inputs") or {}),
            settings={k: v for k, v in data.items() if k not in cls._CORE},
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "launch_plan", "name": self.name, "version": self.version, "workflow": self.workflow,
            "interface": self.interface.to_dict(), "default_inputs": self.default_inputs,
            "fixed_inputs": self.fixed_inputs, **self.settings,
        }


Spec: TypeAlias = TaskSpec | WorkflowSpec | LaunchPlanSpec


def parse_spec(data: dict[str, Any]) -> Spec:
    """Parse any entity spec by its `kind`."""
    if not isinstance(data, dict):
        raise SpecError(f"a spec must be a JSON object, got {type(data).__name__}")
    kind = data.get("kind")
    if kind in TASK_KINDS:
        return TaskSpec.from_dict(data)
    if kind == "workflow":
        return WorkflowSpec.from_dict(data)
    if kind == "launch_plan":
        return LaunchPlanSpec.from_dict(data)
    raise SpecError(f"unknown spec kind {kind!r}; expected task, dynamic, workflow or launch_plan")


def spec_of(entity: Any) -> Spec:
    """The typed spec of a plait entity."""
    return parse_spec(cast(dict[str, Any], entity.to_spec()))
