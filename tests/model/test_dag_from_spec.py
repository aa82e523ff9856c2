"""The DAG of a registered spec is the DAG `%plait dag` draws from the compiled workflow.

Every workflow and launch plan of the example programs (those that compile)
goes through JSON as the backend stores it; the resolver answers with the
specs of the entities it uses, as the backend answers from its table.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import plait
import pytest
from plait.errors import PlaitError
from plait.model.dag import dag_from_spec
from plait.model.vocab import stored_kind
from plait.notebook.dag import dag_of
from plait.sdk.entity import Entity

WORKFLOWS = Path(__file__).parents[1] / "resources" / "workflows"
_programs: dict[str, ModuleType] = {}


def program(file: str) -> ModuleType:
    """Import a user-like program from tests/resources/workflows once (as conftest's `resource` does)."""
    if file not in _programs:
        name = "res_dag_" + file.removesuffix(".py")
        spec = importlib.util.spec_from_file_location(name, WORKFLOWS / file)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _programs[file] = module
    return _programs[file]


def _used(entity: Any) -> list[Any]:
    """The entity and every entity it uses (subworkflows, plans, mapped targets), each once."""
    seen: dict[int, Any] = {}

    def visit(e: Any) -> None:
        if not isinstance(e, Entity) or id(e) in seen:
            return
        seen[id(e)] = e
        for sub in (*getattr(e, "entities", list)(), *getattr(e, "sub_entities", list)()):
            visit(sub)

    visit(entity)
    return list(seen.values())


def registered(entity: Any) -> tuple[dict[str, Any], Any]:
    """The entity's spec and a resolver over its sub-entities' specs, both through JSON."""
    specs = {
        (stored_kind(e.kind), e.name): json.loads(json.dumps(e.to_spec()))
        for e in _used(entity) if e.kind not in ("map", "branch")  # these live in their node's spec
    }
    asked: list[tuple[str, str, str | None]] = []

    def resolve(kind: str, name: str, version: str | None) -> dict[str, Any] | None:
        asked.append((kind, name, version))
        return specs.get((kind, name))

    resolve.asked = asked  # type: ignore[attr-defined]
    return json.loads(json.dumps(entity.to_spec())), resolve


def _examples() -> list[tuple[str, str]]:
    found = []
    for path in sorted(WORKFLOWS.glob("*.py")):
        try:
            module = program(path.name)
        except PlaitError:
            continue  # the bad_* programs fail to compile on purpose
        for attr, value in vars(module).items():
            if isinstance(value, Entity) and value.kind in ("workflow", "launch_plan"):
                try:
                    value.to_spec()
                except PlaitError:
                    continue  # compiles lazily, and fails on purpose
                found.append((path.name, attr))
    return found


EXAMPLES = _examples()


def test_there_are_examples_of_both_kinds() -> None:
    assert len(EXAMPLES) > 40
    kinds = {getattr(program(f), a).kind for f, a in EXAMPLES}
    assert kinds == {"workflow", "launch_plan"}


@pytest.mark.parametrize(("file", "attr"), EXAMPLES, ids=[f"{Path(f).stem}.{a}" for f, a in EXAMPLES])
def test_the_spec_gives_the_dag_of_the_compiled_entity(file: str, attr: str) -> None:
    entity = getattr(program(file), attr)
    spec, resolve = registered(entity)
    assert dag_from_spec(spec, resolve) == dag_of(entity)


# ------------------------------------------------------------------ what the examples do not show


@dataclasses.dataclass
class Point:
    x: int
    y: float


@plait.task
def double(x: int) -> int:
    return 2 * x


@plait.task
def add(x: int, y: int) -> int:
    return x + y


@plait.task
def place(p: Point, at: dt.datetime, span: tuple[int, str], xs: list[int], scale: float = 1.5,
          ids: dict[int, str] | None = None) -> Point:
    return p


@plait.workflow
def pair(x: int) -> int:
    return add(x=double(x=x), y=double(x=x))


@plait.workflow
def everything(a: int, b: int) -> tuple[int, list[int]]:
    d = double(x=a)
    p = pair(x=d)
    m = plait.map(functools.partial(add, y=1))(x=[a, b, d])
    c = plait.conditional("sign").if_((a > 0) & (d < 10)).then(double(x=p)).else_().then(add(x=p, y=b))
    last = add(x=c, y=b).with_overrides(name="last_add", retries=2)
    d >> last
    return last, m


@plait.workflow
def literals(a: int) -> Point:
    first = double(x=a)
    return place(p=Point(1, 2.5), at=dt.datetime(2024, 5, 1, 12), span=(3, "s"),
                 xs=[first, 2], ids={1: "one"})


@plait.workflow
def ordered(a: int) -> int:
    nodes = [double(x=a) for _ in range(11)]
    last = double(x=a)
    for n in reversed(nodes):  # order-only upstreams added out of id order
        n >> last
    return last


def test_maps_branches_overrides_and_order_edges_match() -> None:
    for entity in (everything, ordered, plait.LaunchPlan.get_or_create(pair, name="pair_plan"), double):
        spec, resolve = registered(entity)
        assert dag_from_spec(spec, resolve) == dag_of(entity), entity.name


def test_literals_are_shown_as_python_writes_them() -> None:
    spec, resolve = registered(literals)
    dag = dag_from_spec(spec, resolve)
    assert dag == dag_of(literals)
    sources = {i["name"]: i["source"] for i in dag["nodes"][1]["inputs"]}
    assert sources["p"] == {"literal": "Point(x=1, y=2.5)"}
    assert sources["at"] == {"literal": "datetime.datetime(2024, 5, 1, 12, 0)"}
    assert sources["span"] == {"literal": "(3, 's')"}
    assert sources["xs"] == {"collection": [{"node": "n0", "output": "o0"}, {"literal": "2"}]}
    assert sources["scale"] == {"literal": "1.5"} and sources["ids"] == {"literal": "{1: 'one'}"}


def test_every_lookup_names_the_version_of_the_dag() -> None:
    spec, resolve = registered(everything)
    dag_from_spec(spec, resolve, version="v7")
    assert resolve.asked and {v for _, _, v in resolve.asked} == {"v7"}
    assert {(k, n) for k, n, _ in resolve.asked} == {("task", double.name), ("task", add.name),
                                                     ("workflow", pair.name)}


def test_unknown_entities_show_unknown_types_and_no_nested_graph() -> None:
    spec, _ = registered(everything)
    dag = dag_from_spec(spec, lambda kind, name, version: None)
    assert [n["kind"] for n in dag["nodes"]] == ["task", "workflow", "map", "branch", "task"]
    first, sub = dag["nodes"][0], dag["nodes"][1]
    assert first["inputs"] == [{"name": "x", "type": "?", "source": {"input": "a"}}] and first["outputs"] == []
    assert "graph" not in sub
    assert dag["edges"] == dag_of(everything)["edges"]


def wrapping(inner: Any, level: int) -> Any:
    """A workflow that only calls `inner`."""

    def body(x: int) -> int:
        return inner(x=x)

    body.__annotations__ = {"x": int, "return": int}
    body.__qualname__ = body.__name__ = f"level{level}"
    return plait.workflow(body)


def test_nesting_stops_at_the_same_depth_as_dag_of() -> None:
    wf: Any = double
    for level in range(10):
        wf = wrapping(wf, level)
    spec, resolve = registered(wf)
    dag = dag_from_spec(spec, resolve)
    assert dag == dag_of(wf)
    depth, node = 0, dag["nodes"][0]
    while "graph" in node:
        depth, node = depth + 1, node["graph"]["nodes"][0]
    assert depth == 8 and node["kind"] == "workflow"
