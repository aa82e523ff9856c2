"""The workflow chapters of the reference, run locally as a user would run them.

Each program in tests/resources/workflows/ starts with `import plait as union`;
the expected values are the ones the reference states or that its formulas give
(the regression data x=[-3, 0, 3], y=[7, 4, -2] has slope -1.5 and intercept 3).
"""

import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import plait
import pytest
from plait.errors import InputError, UserError
from plait.run.engine import execute

X = [-3, 0, 3]
Y = [7, 4, -2]


def phases_by_task(run) -> dict[str, list[str]]:
    """Short entity name -> phases of its node records, in record order."""
    out: dict[str, list[str]] = {}
    for rec in run.nodes.values():
        out.setdefault(rec.entity.rsplit(".", 1)[-1], []).append(rec.phase)
    return out


# ---------------------------------------------------------------- core concepts


def test_three_task_workflow(resource):
    wf = resource("workflows/three_tasks.py")

    # (1 + 2 + 3) - (4 * 5)
    assert wf.combine(a=1, b=2, c=3, m=4, n=5) == -14


def test_three_task_workflow_runs_the_last_task_after_both_others(resource):
    wf = resource("workflows/three_tasks.py")

    run = execute(wf.combine, {"a": 1, "b": 2, "c": 3, "m": 4, "n": 5})

    by_name = {rec.entity.rsplit(".", 1)[-1]: rec for rec in run.nodes.values()}
    assert {n: r.phase for n, r in by_name.items()} == {
        "total": "SUCCEEDED", "product": "SUCCEEDED", "difference": "SUCCEEDED",
    }
    last = by_name["difference"]
    assert last.started >= by_name["total"].ended
    assert last.started >= by_name["product"].ended
    assert run.outputs == {"o0": -14}


def test_running_a_workflow_without_a_required_input_names_it(resource):
    wf = resource("workflows/three_tasks.py")

    with pytest.raises(InputError, match=r"needs input `m: int`; pass m=\.\.\."):
        wf.combine(a=1, b=2, c=3, n=5)


# ------------------------------------------------- standard workflows, subworkflows


def test_subworkflow_returns_slope_and_intercept(resource):
    wf = resource("workflows/regression.py")

    assert wf.fit_line(x=X, y=Y) == (-1.5, 3.0)


def test_regression_line_uses_its_default_inputs(resource):
    wf = resource("workflows/regression.py")

    assert wf.predict() == -4.5  # -1.5 * 5 + 3
    assert wf.predict(val=1) == 1.5
    assert wf.predict(val=2, x=[0, 1, 2], y=[1, 3, 5]) == 5.0  # y = 2x + 1


def test_workflow_nesting_a_workflow_that_nests_a_workflow(resource):
    wf = resource("workflows/regression.py")

    assert wf.predict_at_five() == -4.5


def test_subworkflow_nodes_are_part_of_the_parent_execution(resource):
    wf = resource("workflows/regression.py")

    run = execute(wf.predict, {})

    kinds = {path: rec.kind for path, rec in run.nodes.items()}
    assert kinds["n0"] == "workflow"  # fit_line, embedded
    assert sorted(p for p in kinds if p.startswith("n0-")) == ["n0-n0", "n0-n1"]
    assert phases_by_task(run) == {
        "fit_line": ["SUCCEEDED"], "slope": ["SUCCEEDED"],
        "intercept": ["SUCCEEDED"], "point_on_line": ["SUCCEEDED"],
    }


def test_subworkflow_and_sub_launch_plan_give_the_same_results(resource):
    wf = resource("workflows/sub_launch_plans.py")

    assert wf.both_ways() == (7, 3)
    assert wf.fan_out() == [3, 6, 9]


def test_sub_launch_plan_runs_as_its_own_execution(resource):
    wf = resource("workflows/sub_launch_plans.py")

    own, as_subworkflow, as_launch_plan = wf.compare_executions()

    assert as_subworkflow == own
    assert as_launch_plan != own


# ------------------------------------------------------------------- dynamic


@pytest.mark.parametrize(
    ("s1", "s2", "common"),
    [("Pear", "Earth", 3), ("apple", "APPLE", 5), ("abc", "xyz", 0)],
)
def test_dynamic_workflow_counts_common_characters(resource, s1, s2, common):
    wf = resource("workflows/count_characters.py")

    assert wf.common_characters(s1=s1, s2=s2) == common


def test_dynamic_workflow_builds_one_node_per_character_at_run_time(resource):
    wf = resource("workflows/count_characters.py")

    run = execute(wf.common_characters, {"s1": "Pear", "s2": "Earth"})

    calls = Counter(rec.entity.rsplit(".", 1)[-1] for rec in run.nodes.values())
    assert calls == {"count_common": 1, "letter_index": 9, "bump": 9, "shared_count": 1}
    assert run.outputs == {"o0": 3}


def test_dynamic_workflow_called_outside_a_workflow_runs_locally(resource):
    wf = resource("workflows/count_characters.py")

    assert wf.count_common(s1="Pear", s2="Earth") == 3


def test_dynamic_workflow_defined_before_its_tasks_runs_as_a_script():
    script = Path(__file__).parents[1] / "resources" / "workflows" / "dynamic_first.py"

    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "14"  # 1 + 4 + 9


def test_merge_sort_by_recursive_dynamic_workflows(resource):
    wf = resource("workflows/merge_sort.py")
    numbers = [9, 3, 7, 1, 8, 2, 6, 4, 5, 0, 11, 10]

    assert wf.sort_numbers(numbers=numbers) == sorted(numbers)
    assert wf.merge_sort(numbers=[3, 1, 2]) == [1, 2, 3]


def test_merge_sort_recursion_stops_at_the_threshold(resource):
    wf = resource("workflows/merge_sort.py")
    numbers = [5, 4, 3, 2, 1, 0, -1, -2]

    run = execute(wf.sort_numbers, {"numbers": numbers, "threshold": 2})

    assert run.outputs == {"o0": sorted(numbers)}
    calls = Counter(rec.entity.rsplit(".", 1)[-1] for rec in run.nodes.values())
    # 8 -> 4 + 4 -> four pieces of 2, each sorted in one task
    assert calls["sort_here"] == 4
    assert calls["halves"] == 3
    assert calls["merge"] == 3


def test_merge_sort_below_the_threshold_sorts_in_one_task(resource):
    wf = resource("workflows/merge_sort.py")

    run = execute(wf.sort_numbers, {"numbers": [3, 1, 2]})

    calls = Counter(rec.entity.rsplit(".", 1)[-1] for rec in run.nodes.values())
    assert calls == {"merge_sort": 1, "sort_here": 1}


# ---------------------------------------------------------------- imperative


def test_imperative_workflow_computes_the_intercept(resource):
    wf = resource("workflows/imperative_regression.py")

    assert wf.line_wf(x=X, y=Y) == 3.0
    assert list(wf.line_wf.interface.inputs) == ["x", "y"]
    assert list(wf.line_wf.interface.outputs) == ["wf_output"]


def test_imperative_workflow_with_lists_of_inputs_and_outputs(resource):
    wf = resource("workflows/imperative_regression.py")

    assert wf.greeting_wf(first="Hello", second="World") == ["HELLO WORLD", "hello world"]


def test_imperative_workflow_can_be_a_subworkflow(resource):
    wf = resource("workflows/imperative_regression.py")

    @plait.workflow
    def two_intercepts(x: list[int], y: list[int], shifted_y: list[int]) -> list[float]:
        return [wf.line_wf(x=x, y=y), wf.line_wf(x=x, y=shifted_y)]

    # y = -1.5x + 3, and the same line moved up by 2
    assert two_intercepts(x=X, y=Y, shifted_y=[9, 6, 0]) == [3.0, 5.0]


# ------------------------------------------------------------------ map tasks

FLAGS = [False, True, False, False, True, True, True, False, True, False]


def test_map_task_flags_anomalies(resource):
    wf = resource("workflows/anomaly_map.py")

    assert wf.flag_anomalies() == FLAGS
    assert wf.flag_anomalies(data=[1, 50]) == [False, True]
    assert wf.flag_anomalies(data=[]) == []


def test_map_task_with_overrides_keeps_results_and_records_the_request(resource):
    wf = resource("workflows/anomaly_map.py")

    assert wf.flag_anomalies_with_more_memory() == FLAGS
    (node,) = wf.flag_anomalies_with_more_memory.to_spec()["nodes"]
    assert node["overrides"]["requests"]["mem"] == "2Gi"


def test_map_task_with_concurrency_and_min_success_ratio(resource):
    wf = resource("workflows/anomaly_map.py")

    assert wf.flag_anomalies_one_at_a_time() == FLAGS


def test_failed_map_items_become_none_when_enough_succeed(resource):
    wf = resource("workflows/anomaly_map.py")

    # 2 failures of 8: 75% succeeded, just enough
    flags = wf.flag_with_sensor_errors(data=[10, -1, 12, 13, 10, -1, 100, 11])

    assert flags == [False, None, True, True, False, None, True, False]


def test_map_fails_when_too_few_items_succeed(resource):
    wf = resource("workflows/anomaly_map.py")

    with pytest.raises(ValueError, match="sensor error: reading -1") as info:
        wf.flag_with_sensor_errors(data=[10, -1, -1, 13])

    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "2 of 4 item(s) failed (at least 3 must succeed)" in notes


def test_map_concurrency_caps_items_running_at_once():
    lock = threading.Lock()
    running = [0]
    peak = [0]

    @plait.task
    def slow_echo(n: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.03)
        with lock:
            running[0] -= 1
        return n

    @plait.workflow
    def echo_all(numbers: list[int]) -> list[int]:
        return plait.map(slow_echo, concurrency=2)(n=numbers)

    assert echo_all(numbers=list(range(8))) == list(range(8))
    assert peak[0] == 2


# ------------------------------------------------------ mapping over launch plans


def test_map_over_a_launch_plan(resource):
    wf = resource("workflows/interest_map.py")

    assert wf.interest_for_loans() == pytest.approx([50.0, 400.0, 900.0])


def test_map_over_a_launch_plan_with_a_bound_input(resource):
    wf = resource("workflows/interest_map.py")

    assert wf.interest_for_fixed_principal() == pytest.approx([50.0, 80.0, 90.0])


def test_each_mapped_launch_plan_item_is_a_launch_plan_run(resource):
    wf = resource("workflows/interest_map.py")

    run = execute(wf.interest_for_loans, {})

    items = sorted(p for p, rec in run.nodes.items() if rec.kind == "launch_plan")
    assert items == ["n0-0", "n0-1", "n0-2"]
    assert all(run.nodes[p].phase == "SUCCEEDED" for p in items)


# --------------------------------------------------------------------- partial


def test_partial_fixes_a_task_input_inside_a_workflow(resource):
    wf = resource("workflows/partial_slope.py")

    assert wf.slope_with_partial(x=X, y=Y) == -1.5


def test_partial_fixes_an_input_of_a_map(resource):
    wf = resource("workflows/partial_slope.py")

    assert wf.triple_each(values=[1, 2, 3]) == [3, 6, 9]


# --------------------------------------------------------------- named outputs


def test_workflow_returns_a_named_tuple(resource):
    wf = resource("workflows/named_outputs.py")

    line = wf.line_with_named_outputs()

    assert line == (-1.5, 3.0)
    assert (line.slope, line.intercept) == (-1.5, 3.0)
    assert type(line).__name__ == "LineResult"
    assert list(wf.line_with_named_outputs.interface.outputs) == ["slope", "intercept"]


def test_task_with_a_named_output_returns_its_named_tuple(resource):
    wf = resource("workflows/named_outputs.py")

    result = wf.slope(x=X, y=Y)

    assert result.slope == -1.5
    assert list(wf.slope.interface.outputs) == ["slope"]


def test_named_outputs_are_read_by_attribute_or_unpacked(resource):
    wf = resource("workflows/named_outputs.py")

    assert wf.describe_values(values=[1, 2, 6]) == "mean 3, spread 5"
    assert wf.unpack_values(values=[1, 2, 6]) == (3.0, 5)


# ----------------------------------------------------------------- conditionals


@pytest.mark.parametrize(("value", "expected"), [(0.5, 1.0), (1.0, 2.0), (3.0, 9.0), (0.05, 0.0025)])
def test_conditional_with_and(resource, value, expected):
    wf = resource("workflows/branching.py")

    assert wf.fraction_or_not(value=value) == pytest.approx(expected)


@pytest.mark.parametrize(("value", "expected"), [(0.5, 1.0), (1.0, 1.0), (3.0, 9.0), (10.0, 100.0)])
def test_conditional_with_elif(resource, value, expected):
    wf = resource("workflows/branching.py")

    assert wf.by_size(value=value) == expected


@pytest.mark.parametrize("value", [0.0, 20.0])
def test_conditional_else_fail_raises_its_message(resource, value):
    wf = resource("workflows/branching.py")

    with pytest.raises(UserError, match=r"conditional `size` failed: the value must be in \(0, 10\]"):
        wf.by_size(value=value)


@pytest.mark.parametrize(("value", "expected"), [(2.0, -2.0), (-2.0, 2.0), (0.5, 1.0)])
def test_conditional_with_or(resource, value, expected):
    wf = resource("workflows/branching.py")

    assert wf.outside_unit(value=value) == expected


def test_conditional_on_a_task_boolean_with_is_true(resource):
    wf = resource("workflows/branching.py")

    assert wf.parity(n=4) == "even"
    assert wf.parity(n=7) == "odd"


def test_conditional_on_an_optional_input_with_is_none(resource):
    wf = resource("workflows/branching.py")

    assert wf.greet() == "hello, stranger"
    assert wf.greet(name="Ada") == "hello, friend"


@pytest.mark.parametrize(("value", "expected"), [(3.0, 36.0), (1.0, 4.0), (-2.0, 4.0), (-6.0, 36.0)])
def test_conditional_output_feeds_the_next_conditional(resource, value, expected):
    wf = resource("workflows/branching.py")

    assert wf.doubled_then_squared(value=value) == expected


def test_conditional_branches_into_subworkflows(resource):
    wf = resource("workflows/branching.py")

    assert wf.nested_choice(value=3.0, strict=True) == 9.0
    assert wf.nested_choice(value=20.0, strict=False) == 400.0
    with pytest.raises(UserError, match="the value must be in"):
        wf.nested_choice(value=20.0, strict=True)


def test_untaken_branches_are_recorded_as_skipped(resource):
    wf = resource("workflows/branching.py")

    run = execute(wf.by_size, {"value": 3.0})

    assert run.outputs == {"o0": 9.0}
    assert phases_by_task(run) == {
        "size": ["SUCCEEDED"], "double": ["SKIPPED"], "square": ["SUCCEEDED"],
    }


def test_each_conditional_in_a_workflow_records_its_own_choice(resource):
    wf = resource("workflows/branching.py")

    run = execute(wf.doubled_then_squared, {"value": 3.0})  # 3 -> double 6 -> square 36

    assert run.outputs == {"o0": 36.0}
    assert Counter((rec.entity.rsplit(".", 1)[-1], rec.phase) for rec in run.nodes.values()) == {
        ("first", "SUCCEEDED"): 1, ("negate", "SKIPPED"): 1, ("double", "SUCCEEDED"): 1,
        ("second", "SUCCEEDED"): 1, ("double", "SKIPPED"): 1, ("square", "SUCCEEDED"): 1,
    }


# ---------------------------------------------------------------------- chaining


def test_chaining_orders_nodes_without_data_dependencies(resource, tmp_path):
    wf = resource("workflows/chaining.py")
    log = tmp_path / "log.txt"

    execute(wf.ordered_writes, {"path": str(log)}, max_parallelism=16)

    assert log.read_text().splitlines() == ["written first", "written second", "written third"]


def test_without_chaining_independent_writes_interleave(resource, tmp_path):
    wf = resource("workflows/chaining.py")
    log = tmp_path / "log.txt"

    execute(wf.unordered_writes, {"path": str(log)}, max_parallelism=16)

    # the fast write does not wait for the slow one defined before it
    assert log.read_text().splitlines() == ["fast", "slow"]


def test_create_node_chained_second_run_hits_the_cache(resource):
    wf = resource("workflows/chaining.py")

    run = execute(wf.run_twice_in_order, {"values": [1, 2, 3]})

    assert run.outputs == {"o0": True}
    assert phases_by_task(run)["doubled"] == ["SUCCEEDED", "CACHE_HIT"]


# --------------------------------------------------------------------- parallel


def test_independent_nodes_run_at_the_same_time(resource):
    wf = resource("workflows/parallel_naps.py")

    started = time.perf_counter()
    assert wf.two_naps(seconds=0.3) == (0.3, 0.3)
    elapsed = time.perf_counter() - started

    assert elapsed < 0.55  # one after the other would take at least 0.6 s


def test_node_records_of_a_run(resource):
    wf = resource("workflows/parallel_naps.py")

    run = execute(wf.two_naps, {"seconds": 0.01})

    assert sorted(run.nodes) == ["n0", "n1"]
    for rec in run.nodes.values():
        assert (rec.kind, rec.phase, rec.attempts) == ("task", "SUCCEEDED", 1)
        assert rec.duration is not None and rec.duration >= 0.01


def test_map_over_a_partial_bound_to_an_upstream_output() -> None:
    import functools

    @plait.task
    def offset() -> int:
        return 100

    @plait.task
    def shift(x: int, by: int) -> int:
        return x + by

    @plait.workflow
    def shifted(xs: list[int]) -> list[int]:
        return plait.map(functools.partial(shift, by=offset()))(x=xs)

    assert shifted(xs=[1, 2, 3]) == [101, 102, 103]
    spec = shifted.to_spec()
    map_node = next(n for n in spec["nodes"] if n["kind"] == "map")
    assert map_node["inputs"]["by"] == {"ref": {"node": "n0", "output": "o0"}}
