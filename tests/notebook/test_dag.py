"""The DAG bundle and its SVG fallback, built from workflows as users write them."""

from __future__ import annotations

import functools
import json
import re

import plait
from plait.model.dag import text_of
from plait.notebook.dag import dag_of
from plait.notebook.svg import layers_of, render


@plait.task
def double(x: int) -> int:
    return 2 * x


@plait.task
def add(x: int, y: int) -> int:
    return x + y


@plait.workflow
def pair(x: int) -> int:
    return add(x=double(x=x), y=double(x=x))


@plait.workflow
def everything(a: int, b: int) -> tuple[int, list[int]]:
    d = double(x=a)
    p = pair(x=d)
    m = plait.map(functools.partial(add, y=1))(x=[a, b, d])
    c = plait.conditional("sign").if_(a > 0).then(double(x=p)).else_().then(add(x=p, y=b))
    last = add(x=c, y=b)
    d >> last
    return last, m


def test_nodes_edges_and_kinds_come_from_the_workflow() -> None:
    dag = dag_of(everything)
    assert dag["kind"] == "workflow" and dag["label"] == "everything"
    assert [(n["id"], n["kind"], n["label"]) for n in dag["nodes"]] == [
        ("n0", "task", "double"), ("n1", "workflow", "pair"), ("n2", "map", "map(add)"),
        ("n3", "branch", "sign"), ("n6", "task", "add"),
    ]
    edges = {(e["source"], e["target"], e["kind"]) for e in dag["edges"]}
    assert ("n0", "n1", "data") in edges and ("n0", "n2", "data") in edges
    assert ("n1", "n3", "data") in edges and ("n3", "n6", "data") in edges
    assert ("n0", "n6", "order") in edges  # `d >> last`
    assert [i["name"] for i in dag["inputs"]] == ["a", "b"]
    assert dag["outputs"][1] == {"name": "o1", "type": "list[int]", "source": {"node": "n2", "output": "o0"}}
    json.dumps(dag)  # plain JSON all the way down


def test_subworkflows_and_branch_cases_are_nested() -> None:
    dag = dag_of(everything)
    sub = dag["nodes"][1]["graph"]
    assert [n["path"] for n in sub["nodes"]] == ["n1-n0", "n1-n1", "n1-n2"]
    assert len(sub["edges"]) == 2
    cases = dag["nodes"][3]["cases"]
    assert [c["condition"] for c in cases] == ["workflow input `a` > 0", None]
    assert [n["label"] for c in cases for n in c["graph"]["nodes"]] == ["double", "add"]


def test_a_launch_plan_and_a_task_have_dags_too() -> None:
    lp = plait.LaunchPlan.get_or_create(pair, name="pair_lp")
    assert len(dag_of(lp)["nodes"]) == 3 and dag_of(lp)["kind"] == "launch_plan"
    single = dag_of(add)
    assert [n["label"] for n in single["nodes"]] == ["add"] and single["edges"] == []


def chain(n: int) -> object:
    def body(x: int) -> int:
        for _ in range(n):
            x = double(x=x)
        return x

    body.__annotations__ = {"x": int, "return": int}
    return plait.workflow(body)


def test_the_svg_draws_every_node_in_layers() -> None:
    dag = dag_of(chain(200))
    assert len(dag["nodes"]) == 200
    svg = render(dag)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert svg.count('class="plait-node"') == 202  # with the inputs and outputs pills
    xs = [float(x) for x in re.findall(r'<rect x="([\d.]+)"', svg)]
    assert len(set(xs)) == 202  # a chain: one column per node
    assert "&lt;" not in text_of(dag) and "… 170 more" not in text_of(dag)


def test_layers_follow_the_longest_path() -> None:
    layers = layers_of(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("a", "c"), ("d", "c")])
    assert layers == {"a": 0, "b": 1, "c": 2, "d": 0}


def test_labels_are_escaped_in_the_svg() -> None:
    dag = {"kind": "workflow", "label": "w", "inputs": [], "outputs": [], "edges": [],
           "nodes": [{"id": "n0", "label": "<b>&", "kind": "task", "entity": "x<y"}]}
    svg = render(dag)
    assert "&lt;b&gt;&amp;" in svg and "<b>" not in svg
