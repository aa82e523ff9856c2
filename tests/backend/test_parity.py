"""One parity suite, two modes: the SDK's example programs run locally and on a real backend.

Each case names a program under tests/resources, an entity in it and its
inputs; the program runs in this process with the local engine
(`plait.run.engine.execute`) and on a `plait server` subprocess (SQLite, an
embedded Dask LocalCluster) through `plait.Remote`, and both must give the
same outputs, or fail the same way. The server starts once for the session
and each program is registered once. Programs that count their runs write to
the file named by $RUN_LOG: locally this process's variable, remotely an
execution environment variable, each naming its own file, so a test can read
what ran where.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import plait
import pytest
from plait.errors import InputError, TaskTimeoutError, UserError
from plait.remote import Remote, RemoteExecution, RemoteUserError, error_text
from plait.remote.bundle import collect
from plait.run import engine
from server_fixture import ServerProcess, running_server

pytestmark = pytest.mark.slow

RESOURCES = (Path(__file__).parent.parent / "resources").resolve()
WAIT_S = 90.0


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("plait-server-home")) as started:
        yield started


class Programs:
    """Register each program once; the module imported for registration also runs locally."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self._loaded: dict[str, ModuleType] = {}

    def __call__(self, relative: str) -> ModuleType:
        if relative not in self._loaded:
            registration = collect([RESOURCES / relative])
            self.remote.register_collected(registration)
            (name,) = registration.modules
            self._loaded[relative] = sys.modules[name]
        return self._loaded[relative]

    def forget(self) -> None:
        """Unimport the programs (registration imports them by their file names, as `three_tasks`)."""
        for module in self._loaded.values():
            sys.modules.pop(module.__name__, None)
        for folder in {str(RESOURCES / relative) for relative in ("tasks", "workflows")}:
            while folder in sys.path:
                sys.path.remove(folder)


@pytest.fixture(scope="session")
def remote(server: ServerProcess) -> Iterator[Remote]:
    with server.remote() as client:
        yield client


@pytest.fixture(scope="module")
def programs(remote: Remote) -> Iterator[Programs]:
    loaded = Programs(remote)
    yield loaded
    loaded.forget()


@dataclass(frozen=True)
class RunLogs:
    """The $RUN_LOG file of each mode; `envs` names the remote one for an execution."""

    local: Path
    remote: Path

    @property
    def envs(self) -> dict[str, str]:
        return {"RUN_LOG": str(self.remote)}


@pytest.fixture
def run_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunLogs:
    logs = RunLogs(tmp_path / "local-runs.log", tmp_path / "remote-runs.log")
    # In this process, not as the local execution's `envs`: the local engine runs
    # tasks one at a time while an execution sets envs, which would change what runs.
    monkeypatch.setenv("RUN_LOG", str(logs.local))
    return logs


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def run_locally(entity: Any, inputs: dict[str, Any], envs: dict[str, str] | None = None,
                **options: Any) -> dict[str, Any]:
    """Outputs by name from the local engine."""
    return engine.execute(entity, inputs, envs=envs, **options).outputs


def run_remotely(remote: Remote, entity: Any, inputs: dict[str, Any],
                 envs: dict[str, str] | None = None, **options: Any) -> RemoteExecution:
    return remote.execute(entity, inputs, wait=True, timeout=WAIT_S, envs=envs, **options)


def remote_outputs(run: RemoteExecution) -> dict[str, Any]:
    assert run.phase == "SUCCEEDED", f"{run.id} {run.phase}: {error_text(run.error)}"
    return run.outputs


# ------------------------------------------------------------------ the cases


def same(outputs: dict[str, Any]) -> Any:
    return outputs


def handed_report(outputs: dict[str, Any]) -> Any:
    count, report, _scratch = outputs["o0"], outputs["o1"], outputs["o2"]
    return count, Path(report).read_text()


def handed_bundle(outputs: dict[str, Any]) -> Any:
    contents, folder, _scratch = outputs["o0"], outputs["o1"], outputs["o2"]
    return contents, sorted((p.name, p.read_text()) for p in Path(folder).iterdir())


@dataclass(frozen=True)
class Case:
    program: str
    entity: str
    inputs: dict[str, Any] = field(default_factory=dict)
    expected: Any = None  # what `compare(outputs)` gives in both modes
    compare: Callable[[dict[str, Any]], Any] = same
    envs: dict[str, str] | None = None


X, Y = [-3, 0, 3], [7, 4, -2]
FLAGS = [False, True, False, False, True, True, True, False, True, False]

CASES = {
    # core concepts, subworkflows and defaults
    "three-tasks": Case("workflows/three_tasks.py", "combine", dict(a=1, b=2, c=3, m=4, n=5), {"o0": -14}),
    "regression-subworkflow": Case("workflows/regression.py", "fit_line", dict(x=X, y=Y),
                                   {"o0": -1.5, "o1": 3.0}),
    "regression-defaults": Case("workflows/regression.py", "predict", {}, {"o0": -4.5}),
    "regression-nested": Case("workflows/regression.py", "predict_at_five", {}, {"o0": -4.5}),
    "regression-task": Case("workflows/regression.py", "slope", dict(x=X, y=Y), {"o0": -1.5}),
    # named outputs
    "named-outputs": Case("workflows/named_outputs.py", "line_with_named_outputs", {},
                          {"slope": -1.5, "intercept": 3.0}),
    "named-outputs-by-name": Case("workflows/named_outputs.py", "describe_values",
                                  dict(values=[1, 2, 6]), {"o0": "mean 3, spread 5"}),
    "named-outputs-unpacked": Case("workflows/named_outputs.py", "unpack_values",
                                   dict(values=[1, 2, 6]), {"o0": 3.0, "o1": 5}),
    "named-outputs-task": Case("workflows/named_outputs.py", "summarize", dict(values=[1, 2, 6]),
                               {"mean": 3.0, "spread": 5}),
    # partial
    "partial": Case("workflows/partial_slope.py", "slope_with_partial", dict(x=X, y=Y), {"o0": -1.5}),
    "partial-map": Case("workflows/partial_slope.py", "triple_each", dict(values=[1, 2, 3]),
                        {"o0": [3, 6, 9]}),
    # imperative workflows
    "imperative": Case("workflows/imperative_regression.py", "line_wf", dict(x=X, y=Y),
                       {"wf_output": 3.0}),
    "imperative-lists": Case("workflows/imperative_regression.py", "greeting_wf",
                             dict(first="Hello", second="World"),
                             {"both": ["HELLO WORLD", "hello world"]}),
    # dynamic workflows and recursion
    "count-characters": Case("workflows/count_characters.py", "common_characters",
                             dict(s1="Pear", s2="Earth"), {"o0": 3}),
    "count-characters-dynamic": Case("workflows/count_characters.py", "count_common",
                                     dict(s1="apple", s2="APPLE"), {"o0": 5}),
    "merge-sort": Case("workflows/merge_sort.py", "sort_numbers",
                       dict(numbers=[9, 3, 7, 1, 8, 2, 6, 4, 5, 0, 11, 10], threshold=2),
                       {"o0": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]}),
    "merge-sort-below-threshold": Case("workflows/merge_sort.py", "merge_sort",
                                       dict(numbers=[3, 1, 2]), {"o0": [1, 2, 3]}),
    # map tasks
    "anomaly-map": Case("workflows/anomaly_map.py", "flag_anomalies", {}, {"o0": FLAGS}),
    "anomaly-map-empty": Case("workflows/anomaly_map.py", "flag_anomalies", dict(data=[]), {"o0": []}),
    "anomaly-map-overrides": Case("workflows/anomaly_map.py", "flag_anomalies_with_more_memory", {},
                                  {"o0": FLAGS}),
    "anomaly-map-one-at-a-time": Case("workflows/anomaly_map.py", "flag_anomalies_one_at_a_time", {},
                                      {"o0": FLAGS}),
    "anomaly-map-min-success-ratio": Case(
        "workflows/anomaly_map.py", "flag_with_sensor_errors",
        dict(data=[10, -1, 12, 13, 10, -1, 100, 11]),
        {"o0": [False, None, True, True, False, None, True, False]},
    ),
    # mapping over launch plans
    "interest-map": Case("workflows/interest_map.py", "interest_for_loans", {},
                         {"o0": [50.0, 400.0, 900.0]}),
    "interest-map-bound-inputs": Case("workflows/interest_map.py", "interest_for_fixed_principal", {},
                                      {"o0": [50.0, 80.0, 90.0]}),
    # conditionals
    "branch-and-then": Case("workflows/branching.py", "fraction_or_not", dict(value=0.5), {"o0": 1.0}),
    "branch-and-else": Case("workflows/branching.py", "fraction_or_not", dict(value=3.0), {"o0": 9.0}),
    "branch-elif": Case("workflows/branching.py", "by_size", dict(value=3.0), {"o0": 9.0}),
    "branch-or": Case("workflows/branching.py", "outside_unit", dict(value=-2.0), {"o0": 2.0}),
    "branch-on-task-output": Case("workflows/branching.py", "parity", dict(n=7), {"o0": "odd"}),
    "branch-is-none": Case("workflows/branching.py", "greet", {}, {"o0": "hello, stranger"}),
    "branch-is-not-none": Case("workflows/branching.py", "greet", dict(name="Ada"),
                               {"o0": "hello, friend"}),
    "branch-feeds-branch": Case("workflows/branching.py", "doubled_then_squared", dict(value=3.0),
                                {"o0": 36.0}),
    "branch-case-reads-a-field": Case("workflows/branch_field.py", "mean_or_total",
                                      dict(values=[1.0, 2.0]), {"o0": 3.0}),
    "branch-case-runs-a-task": Case("workflows/branch_field.py", "mean_or_total",
                                    dict(values=[1.0, 2.0, 3.0]), {"o0": 2.0}),
    "branch-into-subworkflow": Case("workflows/branching.py", "nested_choice",
                                    dict(value=20.0, strict=False), {"o0": 400.0}),
    # chaining and create_node
    "chained-cache": Case("workflows/chaining.py", "run_twice_in_order", dict(values=[4, 5, 6]),
                          {"o0": True}),
    # sub-launch plans
    "sub-launch-plan": Case("workflows/sub_launch_plans.py", "both_ways", {}, {"o0": 7, "o1": 3}),
    "sub-launch-plan-fan-out": Case("workflows/sub_launch_plans.py", "fan_out", {}, {"o0": [3, 6, 9]}),
    # launch plans with defaults and fixed inputs
    "launch-plan-defaults": Case("tasks/order_launch_plans.py", "defaults_lp", {},
                                 {"o0": "order: 12 x eggs"}),
    "launch-plan-fixed": Case("tasks/order_launch_plans.py", "fixed_lp", dict(item="pens"),
                              {"o0": "order: 100 x pens"}),
    "launch-plan-combined": Case("tasks/order_launch_plans.py", "combined_lp", {},
                                 {"o0": "order: 200 x flour"}),
    # environment variables
    "task-environment": Case("tasks/task_probes.py", "report_settings", {}, {"o0": "verbose/data-team"}),
    "execution-environment": Case("tasks/task_probes.py", "read_variable", dict(name="PARITY_GREETING"),
                                  {"o0": "bonjour"}, envs={"PARITY_GREETING": "bonjour"}),
    # retries and timeouts that end well
    "retry-until-success": Case("tasks/flaky_services.py", "average_price",
                                dict(prices=[1.0, 2.0, 6.0], busy_attempts=2), {"o0": 3.0}),
    "retries-override": Case("tasks/flaky_services.py", "patient_pricing", dict(prices=[2.0, 4.0]),
                             {"o0": 3.0}),
    "timeout-then-retry": Case("tasks/flaky_services.py", "slow_on_first_attempt", dict(message="done"),
                               {"o0": "done on attempt 2"}),
    # files
    "file-handoff": Case("tasks/file_handoff.py", "report_pipeline", dict(lines=["a", "b", "c"]),
                         (3, "a\nb\nc"), handed_report),
    "directory-handoff": Case("tasks/file_handoff.py", "bundle_pipeline", dict(names=["x", "y"]),
                              (["X", "Y"], [("x.txt", "X"), ("y.txt", "Y")]), handed_bundle),
    # shell tasks
    "shell-task": Case("tasks/shell_and_prints.py", "word_count_in_bash",
                       dict(words=["one", "two", "three"]), {"o0": 3}),
    # eager workflows: awaited tasks and subworkflows, gather, nesting, a caught failure
    "eager-loop-and-branch": Case("eager/orders.py", "order_total", dict(items=["melon", "pear"]), {"o0": 6.75}),
    "eager-gather-nested": Case("eager/fanout.py", "sum_of_squares", dict(count=3), {"o0": 5}),
    "eager-caught-failure": Case("eager/recovery.py", "safe_reading", dict(value=-1.0), {"o0": "invalid reading"}),
}


# Known differences between the modes, each a bug to fix where the reason says.
XFAIL: dict[str, str] = {}  # case name -> why it is expected to fail


def params(cases: dict[str, Any]) -> list[Any]:
    return [
        pytest.param(case, id=name, marks=[pytest.mark.xfail(strict=True, reason=XFAIL[name])]
                     if name in XFAIL else [])
        for name, case in cases.items()
    ]


@pytest.mark.parametrize("case", params(CASES))
def test_same_outputs_locally_and_remotely(case: Case, programs: Programs, remote: Remote) -> None:
    entity = getattr(programs(case.program), case.entity)

    local = case.compare(run_locally(entity, case.inputs, case.envs))
    run = run_remotely(remote, entity, case.inputs, case.envs)

    assert local == case.expected
    assert case.compare(remote_outputs(run)) == local


# ------------------------------------------------------------------ failures, both ways


@dataclass(frozen=True)
class Failing:
    program: str
    entity: str
    inputs: dict[str, Any]
    error: type[BaseException]  # what the local run raises
    message: str  # a regex both the local error and the remote error match
    phase: str = "FAILED"


FAILING = {
    "branch-fail": Failing("workflows/branching.py", "by_size", dict(value=20.0), UserError,
                           r"conditional `size` failed: the value must be in \(0, 10\]"),
    "branch-fail-in-subworkflow": Failing("workflows/branching.py", "nested_choice",
                                          dict(value=20.0, strict=True), UserError,
                                          r"the value must be in \(0, 10\]"),
    "map-below-min-success-ratio": Failing("workflows/anomaly_map.py", "flag_with_sensor_errors",
                                           dict(data=[10, -1, -1, 13]), ValueError,
                                           "sensor error: reading -1"),
    "retries-spent": Failing("tasks/flaky_services.py", "average_price",
                             dict(prices=[1.0], busy_attempts=5), plait.FlyteRecoverableException,
                             "busy on attempt 3"),
    "not-recoverable": Failing("tasks/flaky_services.py", "strict_average", dict(prices=[]), ValueError,
                               "no prices to average"),
    "timeout": Failing("tasks/flaky_services.py", "poll_forever", dict(queue="orders"), TaskTimeoutError,
                       r"poll_forever` ran past its timeout of 0.5s", "TIMED_OUT"),
    "timeout-override": Failing("tasks/flaky_services.py", "impatient_nap", {}, TaskTimeoutError,
                                r"timeout of 0.3s", "TIMED_OUT"),
    "eager-uncaught-failure": Failing("eager/recovery.py", "strict_reading", dict(value=-3.0), plait.EagerException,
                                      r"check_reading` \(node (n0-)?n0\) failed: .*a reading cannot be negative"),
}


@pytest.mark.parametrize("case", params(FAILING))
def test_same_failure_locally_and_remotely(case: Failing, programs: Programs, remote: Remote) -> None:
    entity = getattr(programs(case.program), case.entity)

    with pytest.raises(case.error, match=case.message):
        run_locally(entity, case.inputs)
    run = run_remotely(remote, entity, case.inputs)

    assert run.phase == case.phase, error_text(run.error)
    assert re.search(case.message, error_text(run.error))


# ------------------------------------------------------------------ what runs where


def test_failure_policy_runs_the_independent_branch_in_both_modes(
        programs: Programs, remote: Remote, run_logs: RunLogs) -> None:
    prog = programs("tasks/nightly_report.py")

    with pytest.raises(ValueError, match="no orders file for monday"):
        run_locally(prog.nightly_finish_what_can_run, {"day": "monday"})
    run = run_remotely(remote, prog.nightly_finish_what_can_run, {"day": "monday"}, run_logs.envs)

    assert sorted(lines(run_logs.local)) == ["load_orders", "publish_prices", "refresh_prices"]
    assert run.phase == "FAILED"
    assert "no orders file for monday" in error_text(run.error)
    assert sorted(lines(run_logs.remote)) == sorted(lines(run_logs.local))


def test_fail_immediately_starts_nothing_new_in_both_modes(
        programs: Programs, remote: Remote, run_logs: RunLogs) -> None:
    prog = programs("tasks/nightly_report.py")

    with pytest.raises(ValueError):
        run_locally(prog.nightly, {"day": "monday"})
    run = run_remotely(remote, prog.nightly, {"day": "monday"}, run_logs.envs)

    assert run.phase == "FAILED"
    assert "publish_prices" not in lines(run_logs.local)
    assert "publish_prices" not in lines(run_logs.remote)


def test_on_failure_handler_runs_remotely_with_the_inputs_and_the_error(
        programs: Programs, remote: Remote, run_logs: RunLogs) -> None:
    prog = programs("tasks/nightly_report.py")

    with pytest.raises(ValueError, match="no orders file for friday"):
        run_locally(prog.nightly_with_clean_up, {"day": "friday"})
    run = run_remotely(remote, prog.nightly_with_clean_up, {"day": "friday"}, run_logs.envs)

    assert lines(run_logs.local) == [
        "load_orders", "clean_up:friday", "error:ValueError:_no_orders_file_for_friday", "failed_node:n0",
    ]
    assert run.phase == "FAILED"  # the workflow still fails
    assert lines(run_logs.remote) == lines(run_logs.local)


def test_on_failure_handler_is_not_called_on_success_in_both_modes(
        programs: Programs, remote: Remote, run_logs: RunLogs) -> None:
    prog = programs("tasks/nightly_report.py")

    local = run_locally(prog.nightly_with_notice, {"day": "tuesday"})
    run = run_remotely(remote, prog.nightly_with_notice, {"day": "tuesday"}, run_logs.envs)

    assert remote_outputs(run) == local == {"o0": 42}
    assert lines(run_logs.remote) == lines(run_logs.local) == ["count_customers"]


def test_chaining_orders_writes_in_both_modes(programs: Programs, remote: Remote, tmp_path: Path) -> None:
    prog = programs("workflows/chaining.py")
    local_file, remote_file = tmp_path / "local.txt", tmp_path / "remote.txt"

    run_locally(prog.ordered_writes, {"path": str(local_file)}, max_parallelism=16)
    run = run_remotely(remote, prog.ordered_writes, {"path": str(remote_file)})

    assert run.phase == "SUCCEEDED", error_text(run.error)
    expected = ["written first", "written second", "written third"]
    assert local_file.read_text().splitlines() == expected
    assert remote_file.read_text().splitlines() == expected


def children_of(remote: Remote, run: RemoteExecution) -> list[RemoteExecution]:
    found = [e for e in remote.list_executions(limit=200) if e.record.get("parent_execution_id") == run.id]
    return sorted(found, key=lambda e: e.id)


def test_sub_launch_plans_are_child_executions_remotely(programs: Programs, remote: Remote) -> None:
    prog = programs("workflows/sub_launch_plans.py")

    own, as_subworkflow, as_launch_plan = run_locally(prog.compare_executions, {}).values()
    run = run_remotely(remote, prog.compare_executions, {})

    assert as_subworkflow == own != as_launch_plan
    r_own, r_subworkflow, r_launch_plan = remote_outputs(run).values()
    assert r_own == r_subworkflow == run.id
    (child,) = children_of(remote, run)
    assert (child.id, child.phase) == (r_launch_plan, "SUCCEEDED")
    (node,) = [n for n in run.nodes() if n.path == child.record["parent_node_path"]]
    assert node.kind == "launch_plan"


def test_a_mapped_launch_plan_makes_one_child_execution_per_item(programs: Programs, remote: Remote) -> None:
    prog = programs("workflows/interest_map.py")

    run = run_remotely(remote, prog.interest_for_loans, {})

    assert remote_outputs(run) == run_locally(prog.interest_for_loans, {})
    children = children_of(remote, run)
    assert [c.phase for c in children] == ["SUCCEEDED"] * 3
    assert sorted(c.outputs["o0"] for c in children) == [50.0, 400.0, 900.0]


def test_child_executions_name_their_workflow_and_launch_plan(programs: Programs, remote: Remote) -> None:
    prog = programs("workflows/interest_map.py")

    top = run_remotely(remote, prog.interest_lp, {"principal": 1000, "rate": 0.05, "time": 12})
    run = run_remotely(remote, prog.interest_for_loans, {})

    assert (top.entity["name"], top.record["launch_plan"]["name"]) == (prog.interest.name, "interest_lp")
    children = children_of(remote, run)
    assert [(c.entity["kind"], c.entity["name"]) for c in children] == [("workflow", prog.interest.name)] * 3
    assert [c.record["launch_plan"]["name"] for c in children] == ["interest_lp"] * 3
    assert [c.record["parent_node_path"] for c in children] == ["n0-0", "n0-1", "n0-2"]


def test_execution_environment_reaches_a_sub_launch_plan(programs: Programs, remote: Remote) -> None:
    prog = programs("tasks/env_through_launch_plans.py")
    envs = {"PARITY_REGION": "eu-west"}

    local = run_locally(prog.read_in_child, {"name": "PARITY_REGION"}, envs)
    run = run_remotely(remote, prog.read_in_child, {"name": "PARITY_REGION"}, envs)

    assert remote_outputs(run) == local == {"o0": "eu-west"}


def test_execution_environment_reaches_mapped_launch_plans(programs: Programs, remote: Remote) -> None:
    prog = programs("tasks/env_through_launch_plans.py")
    envs = {"PARITY_REGION": "eu-west"}
    inputs = {"names": ["PARITY_REGION", "PARITY_REGION"]}

    local = run_locally(prog.read_in_mapped_children, inputs, envs)
    run = run_remotely(remote, prog.read_in_mapped_children, inputs, envs)

    assert local == {"o0": ["eu-west", "eu-west"]}
    assert remote_outputs(run) == local


# ------------------------------------------------------------------ caching


def test_cache_hits_on_the_second_execution_and_overwrite_cache_reruns(
        programs: Programs, remote: Remote) -> None:
    prog = programs("tasks/cached_tasks.py")
    customer = f"c{uuid.uuid4().hex[:6]}"  # keys nobody has cached yet

    first_local = run_locally(prog.ticket, {"customer": customer})
    assert run_locally(prog.ticket, {"customer": customer}) == first_local
    assert run_locally(prog.ticket, {"customer": customer}, overwrite_cache=True) != first_local

    first = run_remotely(remote, prog.ticket, {"customer": customer})
    second = run_remotely(remote, prog.ticket, {"customer": customer})
    fresh = run_remotely(remote, prog.ticket, {"customer": customer}, overwrite_cache=True)

    assert remote_outputs(second) == remote_outputs(first)
    assert [n.phase for n in first.nodes()] == ["SUCCEEDED"]
    assert [n.phase for n in second.nodes()] == ["CACHE_HIT"]
    assert [n.phase for n in fresh.nodes()] == ["SUCCEEDED"]
    assert remote_outputs(fresh) != remote_outputs(first)


def test_overwrite_cache_replaces_the_entry_in_both_modes(programs: Programs, remote: Remote) -> None:
    prog = programs("tasks/cached_tasks.py")
    customer = f"c{uuid.uuid4().hex[:6]}"

    run_locally(prog.ticket, {"customer": customer})
    fresh_local = run_locally(prog.ticket, {"customer": customer}, overwrite_cache=True)
    assert run_locally(prog.ticket, {"customer": customer}) == fresh_local

    run_remotely(remote, prog.ticket, {"customer": customer})
    fresh = run_remotely(remote, prog.ticket, {"customer": customer}, overwrite_cache=True)
    after = run_remotely(remote, prog.ticket, {"customer": customer})
    assert remote_outputs(after) == remote_outputs(fresh)


def test_cached_nodes_in_a_workflow_hit_on_the_second_execution(
        programs: Programs, remote: Remote, run_logs: RunLogs) -> None:
    prog = programs("tasks/order_launch_plans.py")
    prefix = f"p{uuid.uuid4().hex[:6]}-"
    envs = run_logs.envs

    first = run_remotely(remote, prog.token_flow, {"prefix": prefix}, envs)
    second = run_remotely(remote, prog.token_flow, {"prefix": prefix}, envs)

    assert remote_outputs(second) == remote_outputs(first)
    assert {n.entity: n.phase for n in second.nodes()} == {prog.fresh_token.name: "CACHE_HIT"}
    assert lines(run_logs.remote) == ["fresh_token"]


def test_a_launch_plan_with_overwrite_cache_reruns_remotely(
        programs: Programs, remote: Remote, run_logs: RunLogs) -> None:
    prog = programs("tasks/order_launch_plans.py")
    prefix = f"q{uuid.uuid4().hex[:6]}-"
    envs = run_logs.envs

    first = run_remotely(remote, prog.token_flow, {"prefix": prefix}, envs)
    fresh = run_remotely(remote, prog.always_fresh_lp, {"prefix": prefix}, envs)

    assert remote_outputs(fresh) != remote_outputs(first)
    assert lines(run_logs.remote) == ["fresh_token", "fresh_token"]


# ------------------------------------------------------------------ attempts and logs


def test_a_recoverable_failure_is_retried_and_both_attempts_are_recorded(
        programs: Programs, remote: Remote, run_logs: RunLogs) -> None:
    prog = programs("tasks/flaky_services.py")
    inputs = {"prices": [5.0, 7.0], "busy_attempts": 1}

    local = run_locally(prog.average_price, inputs)
    run = run_remotely(remote, prog.average_price, inputs, run_logs.envs)

    assert remote_outputs(run) == local == {"o0": 6.0}
    assert lines(run_logs.remote) == lines(run_logs.local) == ["attempt-1", "attempt-2"]
    (node,) = run.nodes()
    assert [(a["number"], a["phase"], a["error_kind"]) for a in node.attempts] == [
        (1, "FAILED", "USER"), (2, "SUCCEEDED", None)
    ]
    assert "price service busy on attempt 1" in error_text(node.attempts[0]["error"])


def test_a_timed_out_attempt_is_recorded_as_timed_out(programs: Programs, remote: Remote) -> None:
    prog = programs("tasks/flaky_services.py")

    run = run_remotely(remote, prog.slow_on_first_attempt, {"message": "hi"})

    assert remote_outputs(run) == {"o0": "hi on attempt 2"}
    (node,) = run.nodes()
    assert [(a["number"], a["phase"]) for a in node.attempts] == [(1, "TIMED_OUT"), (2, "SUCCEEDED")]


def test_printed_lines_come_back_from_the_logs_endpoint(programs: Programs, remote: Remote) -> None:
    prog = programs("tasks/shell_and_prints.py")

    run = run_remotely(remote, prog.count_down, {"start": 3})

    assert remote_outputs(run) == run_locally(prog.count_down, {"start": 3}) == {"o0": 3}
    (node,) = run.nodes()
    log = run.logs(node)
    assert log.splitlines() == ["countdown 3", "countdown 2", "countdown 1", "liftoff"]
    assert "".join(run.logs(node, follow=True)) == log


def test_a_shell_tasks_output_comes_back_from_the_logs_endpoint(programs: Programs, remote: Remote) -> None:
    prog = programs("tasks/shell_and_prints.py")

    run = run_remotely(remote, prog.word_count_in_bash, {"words": ["a", "b"]})

    assert remote_outputs(run) == {"o0": 2}
    (shell_node,) = [n for n in run.nodes() if n.entity == prog.count_words.name]
    assert "counting the words of text.txt" in run.logs(shell_node)


# ------------------------------------------------------------------ input validation


def test_a_bad_input_is_refused_by_the_server_naming_the_input(
        programs: Programs, server: ServerProcess) -> None:
    prog = programs("workflows/three_tasks.py")
    # A client that has not seen the local entity cannot check the inputs itself:
    # the server's 422 must say what is wrong.
    with server.remote() as fresh:
        combine = fresh.fetch_workflow(prog.combine.name)
        good = dict(a=1, b=2, c=3, m=4, n=5)

        with pytest.raises(RemoteUserError, match=r"input `m`.*expected int, got str") as wrong_type:
            fresh.execute(combine, {**good, "m": "four"})
        with pytest.raises(RemoteUserError, match=r"needs input `n` \(int\)") as missing:
            fresh.execute(combine, {k: v for k, v in good.items() if k != "n"})
        # an unknown input: the client checks names against the fetched interface, so ask directly
        body = {"kind": "workflow", "name": combine.name, "version": combine.version,
                "inputs": {**good, "z": 1}}
        with pytest.raises(RemoteUserError, match=r"`z`") as unknown:
            fresh.request("POST", "/api/v1/executions", json_body=body)

    assert wrong_type.value.status == missing.value.status == unknown.value.status == 422
    # the local engine refuses the same inputs, naming the same input
    with pytest.raises(UserError, match=r"input `m` expects `int`"):
        run_locally(prog.combine, {**good, "m": "four"})
    with pytest.raises(InputError, match=r"needs input `n: int`"):
        run_locally(prog.combine, {k: v for k, v in good.items() if k != "n"})


def test_a_bad_input_to_a_local_entity_is_refused_before_it_is_sent(
        programs: Programs, remote: Remote) -> None:
    prog = programs("workflows/three_tasks.py")

    with pytest.raises(UserError, match=r"`three_tasks.combine` input `m` expects `int`"):
        remote.execute(prog.combine, dict(a=1, b=2, c=3, m="four", n=5))
