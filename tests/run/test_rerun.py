"""Partial re-runs of local executions: run again from chosen nodes, reuse everything upstream."""

from __future__ import annotations

import plait
import pytest
from plait.errors import InputError, TypeMismatchError, UserError
from plait.run.engine import CACHE_HIT, FAILED, REUSED, SKIPPED, SUCCEEDED, LocalExecution, execute

calls: list[str] = []  # "task:input" for every task body that ran
broken: set[int] = set()  # items `fragile` fails on, until the test "fixes" them


@pytest.fixture(autouse=True)
def _fresh() -> None:
    calls.clear()
    broken.clear()


@plait.task
def inc(x: int) -> int:
    calls.append(f"inc:{x}")
    return x + 1


@plait.task
def double(x: int) -> int:
    calls.append(f"double:{x}")
    return 2 * x


@plait.task
def add(x: int, y: int) -> int:
    calls.append(f"add:{x},{y}")
    return x + y


@plait.task
def rows(n: int) -> list[int]:
    calls.append(f"rows:{n}")
    return list(range(n))


@plait.task
def fragile(x: int) -> int:
    calls.append(f"fragile:{x}")
    if x in broken:
        raise ValueError(f"item {x} is broken")
    return 10 * x


@plait.task(cache=True, cache_version="1")
def cached_inc(x: int) -> int:
    calls.append(f"cached_inc:{x}")
    return x + 1


@plait.workflow
def chain(x: int = 0) -> int:
    return inc(x=inc(x=inc(x=inc(x=x))))


@plait.workflow
def diamond(x: int = 1) -> int:
    top = inc(x=x)  # n0
    left = double(x=top)  # n1
    right = inc(x=top)  # n2
    return add(x=left, y=right)  # n3


@plait.workflow
def two_inputs(a: int = 1, b: int = 2) -> int:
    return add(x=inc(x=a), y=double(x=b))  # n0 reads a, n1 reads b


@plait.workflow
def inner(x: int) -> int:
    return double(x=inc(x=x))  # n0, n1


@plait.workflow
def outer(x: int = 1) -> int:
    start = inc(x=x)  # n0
    mid = inner(x=start)  # n1 (n1-n0, n1-n1)
    return inc(x=mid)  # n2


@plait.dynamic
def fan(n: int) -> list[int]:
    return [double(x=i) for i in range(n)]


@plait.workflow
def with_dynamic(n: int = 3) -> list[int]:
    return fan(n=inc(x=n))  # n0, n1 (n1-n0 ...)


@plait.workflow
def mapped(n: int = 4) -> list[int | None]:
    # one failure is tolerated, so every item runs before the map fails on the second
    return plait.map(fragile, min_success_ratio=0.75)(x=rows(n=n))  # n0, n1 (items n1-0 ...)


@plait.workflow
def pipeline(n: int = 2) -> int:
    return inc(x=fragile(x=double(x=n)))


@plait.workflow
def with_cache(x: int = 1) -> int:
    return inc(x=cached_inc(x=x))


def ran(execution: LocalExecution) -> dict[str, str]:
    return {p: r.phase for p, r in execution.nodes.items()}


def test_a_rerun_from_a_middle_node_of_a_chain_runs_only_it_and_what_follows() -> None:
    first = execute(chain, {"x": 0})
    assert first.native() == 4 and len(calls) == 4
    calls.clear()
    again = plait.rerun(first, from_nodes=["n2"])
    assert again.native() == 4
    assert calls == ["inc:2", "inc:3"]  # the upstream bodies did not run again
    assert ran(again) == {"n0": REUSED, "n1": REUSED, "n2": SUCCEEDED, "n3": SUCCEEDED}
    assert again.nodes["n1"].outputs is first.nodes["n1"].outputs  # the same objects, no copy
    assert again.nodes["n1"].reused_from == (first.id, "n1")
    assert again.rerun_of == first.id and again.id != first.id


def test_a_rerun_from_two_nodes_of_a_diamond_reuses_the_top() -> None:
    first = execute(diamond, {"x": 1})
    calls.clear()
    again = plait.rerun(first, from_nodes=["n1", "n2"])
    assert again.native() == first.native() == 7
    assert sorted(calls) == ["add:4,3", "double:2", "inc:2"]
    assert ran(again) == {"n0": REUSED, "n1": SUCCEEDED, "n2": SUCCEEDED, "n3": SUCCEEDED}


def test_an_overridden_workflow_input_reruns_only_its_consumers() -> None:
    first = execute(two_inputs, {"a": 1, "b": 2})
    calls.clear()
    again = plait.rerun(first, inputs={"b": 5}, from_nodes=[])
    assert again.native() == 2 + 10
    assert calls == ["double:5", "add:2,10"]
    assert ran(again) == {"n0": REUSED, "n1": SUCCEEDED, "n2": SUCCEEDED}
    with pytest.raises(TypeMismatchError, match="input `b` expects `int`"):
        plait.rerun(first, inputs={"b": "five"}, from_nodes=["n2"])


def test_node_inputs_override_a_chosen_node() -> None:
    first = execute(chain, {"x": 0})
    calls.clear()
    again = plait.rerun(first, from_nodes=["n2"], node_inputs={"n2": {"x": 100}})
    assert again.native() == 102 and calls == ["inc:100", "inc:101"]
    with pytest.raises(InputError, match=r"node_inputs overrides inputs of chosen nodes only, and node 'n1'"):
        plait.rerun(first, from_nodes=["n2"], node_inputs={"n1": {"x": 1}})
    with pytest.raises(TypeMismatchError, match=r"node 'n2' \(`.*inc`\) input `x` expects `int`, got 'a'"):
        plait.rerun(first, from_nodes=["n2"], node_inputs={"n2": {"x": "a"}})
    with pytest.raises(InputError, match=r"node 'n2' \(`.*inc`\) has no input\(s\) \['y'\]"):
        plait.rerun(first, from_nodes=["n2"], node_inputs={"n2": {"y": 1}})


def test_a_node_inside_a_subworkflow_can_be_chosen() -> None:
    first = execute(outer, {"x": 1})
    assert first.native() == 2 * 3 + 1
    calls.clear()
    again = plait.rerun(first, from_nodes=["n1-n1"])
    assert again.native() == 7
    assert calls == ["double:3", "inc:6"]  # n0 and n1-n0 reused
    assert ran(again) == {"n0": REUSED, "n1": SUCCEEDED, "n1-n0": REUSED, "n1-n1": SUCCEEDED, "n2": SUCCEEDED}


def test_a_reused_subworkflow_brings_its_inner_nodes_along() -> None:
    first = execute(outer, {"x": 1})
    calls.clear()
    again = plait.rerun(first, from_nodes=["n2"])
    assert calls == ["inc:6"]
    assert ran(again) == {"n0": REUSED, "n1": REUSED, "n1-n0": REUSED, "n1-n1": REUSED, "n2": SUCCEEDED}


def test_a_chosen_dynamic_node_runs_again_with_its_children() -> None:
    first = execute(with_dynamic, {"n": 2})
    assert first.native() == [0, 2, 4]
    calls.clear()
    again = plait.rerun(first, from_nodes=["n1"])
    assert again.native() == [0, 2, 4]
    assert calls == ["double:0", "double:1", "double:2"]  # n0 (inc) reused
    assert ran(again) == {"n0": REUSED, "n1": SUCCEEDED, "n1-n0": SUCCEEDED, "n1-n1": SUCCEEDED,
                          "n1-n2": SUCCEEDED}
    calls.clear()
    child = plait.rerun(first, from_nodes=["n1-n2"])  # one child: the others are reused
    assert child.native() == [0, 2, 4] and calls == ["double:2"]
    assert child.nodes["n1-n0"].phase == REUSED and child.nodes["n1-n2"].phase == SUCCEEDED


def test_a_failed_map_is_rerun_for_its_failed_items_only() -> None:
    broken.update({1, 3})
    with pytest.raises(ValueError, match="item 1 is broken") as info:
        execute(mapped, {"n": 4}, max_parallelism=1)
    failed = info.value.execution  # type: ignore[attr-defined]
    assert isinstance(failed, LocalExecution) and failed.phase == FAILED
    assert failed.nodes["n0"].phase == SUCCEEDED and failed.nodes["n1"].phase == FAILED
    with pytest.raises(plait.PlaitError, match=f"execution {failed.id} .* failed .*plait.rerun"):
        failed.native()
    broken.clear()  # the cause is fixed
    calls.clear()
    again = plait.rerun(failed, map_items={"n1": "failed"})
    assert again.native() == [0, 10, 20, 30]
    assert sorted(calls) == ["fragile:1", "fragile:3"]  # rows (n0) and items 0, 2 are reused
    assert ran(again) == {"n0": REUSED, "n1": SUCCEEDED}
    calls.clear()
    listed = plait.rerun(again, map_items={"n1": [2]})
    assert listed.native() == [0, 10, 20, 30] and calls == ["fragile:2"]
    with pytest.raises(InputError, match=r"map_items\['n1'\] expects \"failed\" or a list of item indices 0..3"):
        plait.rerun(again, map_items={"n1": [7]})
    with pytest.raises(InputError, match="map_items names node 'n0' .* which is a task node"):
        plait.rerun(again, map_items={"n0": "failed"})


def test_a_failed_chain_is_rerun_from_the_failure() -> None:
    broken.add(2)
    with pytest.raises(ValueError, match="item 2 is broken") as info:
        pipeline(n=1)  # calling a workflow runs it locally, as execute does
    failed = info.value.execution  # type: ignore[attr-defined]
    assert ran(failed) == {"n0": SUCCEEDED, "n1": FAILED, "n2": SKIPPED}
    broken.clear()
    calls.clear()
    again = plait.rerun(failed, from_nodes=["n1"])
    assert again.native() == 21 and calls == ["fragile:2", "inc:20"]


def test_skipped_nodes_take_typed_outputs_and_do_not_run() -> None:
    done = execute(chain, {"x": 0}, skip={"n1": {"o0": 10}})
    assert done.native() == 12
    assert calls == ["inc:0", "inc:10", "inc:11"]
    assert done.nodes["n1"].phase == SKIPPED and done.nodes["n1"].outputs == {"o0": 10}
    assert done.nodes["n1"].reused_from is None
    calls.clear()
    with pytest.raises(TypeMismatchError, match=r"skip: node 'n1' \(`.*inc`\) output `o0` expects `int`, got 'ten'"):
        execute(chain, {"x": 0}, skip={"n1": {"o0": "ten"}})
    with pytest.raises(InputError, match=r"skip: node 'n1' \(`.*inc`\) has outputs \['o0'\]; the given outputs are missing"):
        execute(chain, {"x": 0}, skip={"n1": {}})
    with pytest.raises(InputError, match=r"skip: `.*chain` has no node 'n7'.*expected one of n0, n1, n2, n3"):
        execute(chain, {"x": 0}, skip={"n7": {"o0": 1}})
    assert calls == []  # refused before anything ran
    inside = execute(outer, {"x": 1}, skip={"n1-n0": {"o0": 5}})
    assert inside.native() == 11 and inside.nodes["n1-n0"].phase == SKIPPED


def test_the_cache_is_not_consulted_for_reused_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    first = execute(with_cache, {"x": 1})
    assert first.nodes["n0"].phase == SUCCEEDED
    from plait.run.local_cache import LocalCache

    looked_up: list[object] = []
    real_get = LocalCache.get
    monkeypatch.setattr(LocalCache, "get", lambda self, key: looked_up.append(key) or real_get(self, key))
    calls.clear()
    again = plait.rerun(first, from_nodes=["n1"])
    assert again.native() == 3 and calls == ["inc:2"]
    assert again.nodes["n0"].phase == REUSED and looked_up == []
    assert execute(with_cache, {"x": 1}).nodes["n0"].phase == CACHE_HIT and looked_up  # a new run does


def test_unknown_node_paths_are_refused_with_the_paths_there_are() -> None:
    first = execute(chain, {"x": 0})
    with pytest.raises(InputError, match=rf"execution {first.id} of `.*chain` has no node\(s\) 'n9'; "
                                         r"expected paths of its nodes: n0, n1, n2, n3"):
        plait.rerun(first, from_nodes=["n9"])
    with pytest.raises(UserError, match="name the nodes to run again with from_nodes"):
        plait.rerun(first)
    with pytest.raises(UserError, match="plait.rerun expects a local execution"):
        plait.rerun("local-123", from_nodes=["n1"])  # type: ignore[arg-type]


def test_a_rerun_of_a_rerun_points_at_the_original_producer() -> None:
    first = execute(chain, {"x": 0})
    second = plait.rerun(first, from_nodes=["n3"])
    calls.clear()
    third = plait.rerun(second, from_nodes=["n2"])
    assert third.native() == 4 and calls == ["inc:2", "inc:3"]
    assert third.nodes["n0"].reused_from == (first.id, "n0")  # not second's REUSED copy
    assert third.nodes["n1"].outputs is first.nodes["n1"].outputs
    assert third.rerun_of == second.id


def test_a_rerun_reports_reused_nodes_to_the_observer() -> None:
    from plait.run.progress import ProgressModel, planned_rows

    first = execute(chain, {"x": 0})
    model = ProgressModel("chain", planned_rows(chain))
    plait.rerun(first, from_nodes=["n3"], observer=model.observe)
    model.finish(SUCCEEDED)
    assert model.counts() == {REUSED: 3, SUCCEEDED: 1}
    rows, now = model.snapshot()
    assert "3 reused" in model.summary(rows, now)


@plait.workflow
def branching(x: int = 1) -> int:
    a = inc(x=x)  # n0
    b = plait.conditional("sign").if_(a > 1).then(double(x=a)).else_().then(inc(x=a))  # n1: n2 | n3
    return inc(x=b)  # n4


def test_a_node_in_the_taken_case_of_a_conditional_can_be_chosen() -> None:
    first = execute(branching, {"x": 1})
    assert first.native() == 5
    calls.clear()
    again = plait.rerun(first, from_nodes=["n2"])
    assert again.native() == 5 and calls == ["double:2", "inc:4"]
    assert ran(again) == {"n0": REUSED, "n1": SUCCEEDED, "n2": SUCCEEDED, "n3": SKIPPED, "n4": SUCCEEDED}
    calls.clear()
    last = plait.rerun(again, from_nodes=["n4"])  # a reused conditional brings its case's nodes along
    assert calls == ["inc:4"]
    assert ran(last) == {"n0": REUSED, "n1": REUSED, "n2": REUSED, "n3": SKIPPED, "n4": SUCCEEDED}


@plait.workflow
def planned_body(x: int) -> int:
    return double(x=x)


planned = plait.LaunchPlan.get_or_create(planned_body, name="test_rerun.planned")


@plait.workflow
def with_plan(x: int = 1) -> int:
    return inc(x=planned(x=x))  # n0 (n0-n0), n1


def test_a_reused_launch_plan_node_keeps_its_child_records() -> None:
    first = execute(with_plan, {"x": 1})
    calls.clear()
    again = plait.rerun(first, from_nodes=["n1"])
    assert again.native() == 3 and calls == ["inc:2"]
    assert ran(again) == {"n0": REUSED, "n0-n0": REUSED, "n1": SUCCEEDED}
    calls.clear()
    inside = plait.rerun(first, from_nodes=["n0-n0"])  # a launch plan runs again whole
    assert inside.native() == 3 and calls == ["double:1", "inc:2"]


def test_a_failed_runs_error_still_pickles_and_its_execution_says_where_to_rerun() -> None:
    import pickle

    @plait.task
    def broken(x: int) -> int:
        raise ValueError(f"bad {x}")

    @plait.workflow
    def wf(x: int) -> int:
        return broken(x=x)

    with pytest.raises(ValueError) as failed:
        wf(x=1)
    assert failed.value.execution.nodes  # here, it can be re-run
    copy = pickle.loads(pickle.dumps(failed.value))  # as a worker sends it back
    assert str(copy) == "bad 1" and copy.execution.phase == "FAILED" and copy.execution.id == failed.value.execution.id
    with pytest.raises(UserError, match="was run in another process"):
        plait.rerun(copy.execution, from_nodes=["n0"])
