"""Workflow failure policies and on_failure handlers."""

from __future__ import annotations

import plait as union
import pytest
from plait.errors import CompileError, UserError


@pytest.fixture
def runs(tmp_path, monkeypatch):
    log = tmp_path / "runs.log"
    monkeypatch.setenv("RUN_LOG", str(log))
    return lambda: log.read_text().split() if log.exists() else []


def test_fail_immediately_stops_scheduling_the_independent_branch(resource, runs):
    prog = resource("tasks/nightly_report.py")
    with pytest.raises(ValueError, match="no orders file for monday"):
        prog.nightly(day="monday")
    # nothing new starts after the failure: the branch's second step never runs
    assert "publish_prices" not in runs()


def test_fail_after_executable_nodes_complete_runs_the_independent_branch(resource, runs):
    prog = resource("tasks/nightly_report.py")
    with pytest.raises(ValueError, match="no orders file for monday"):
        prog.nightly_finish_what_can_run(day="monday")
    assert sorted(runs()) == ["load_orders", "publish_prices", "refresh_prices"]


def test_failure_policy_is_carried_in_the_spec(resource):
    prog = resource("tasks/nightly_report.py")
    assert prog.nightly.to_spec()["failure_policy"] == "FAIL_IMMEDIATELY"
    assert (
        prog.nightly_finish_what_can_run.to_spec()["failure_policy"]
        == "FAIL_AFTER_EXECUTABLE_NODES_COMPLETE"
    )


def test_on_failure_handler_gets_the_inputs_and_the_error(resource, runs):
    prog = resource("tasks/nightly_report.py")
    with pytest.raises(ValueError, match="no orders file for friday"):
        prog.nightly_with_clean_up(day="friday")  # the workflow still fails
    log = runs()
    assert log[0] == "load_orders"
    assert log[1] == "clean_up:friday"
    assert log[2] == "error:ValueError:_no_orders_file_for_friday"
    assert log[3] == "failed_node:n0"
    assert prog.nightly_with_clean_up.to_spec()["on_failure"] == "res_tasks_nightly_report.clean_up"


def test_on_failure_handler_may_name_its_argument_error(resource, runs):
    prog = resource("tasks/nightly_report.py")
    with pytest.raises(ValueError):
        prog.nightly_failing_with_notice(day="sunday")
    assert runs() == ["load_orders", "notify_team:sunday"]


def test_on_failure_handler_is_not_called_on_success(resource, runs):
    prog = resource("tasks/nightly_report.py")
    assert prog.nightly_with_notice(day="tuesday") == 42
    assert runs() == ["count_customers"]


def test_on_failure_handler_must_match_the_workflow_inputs(resource):
    prog = resource("tasks/nightly_report.py")
    with pytest.raises(
        CompileError,
        match=r"on_failure handler `res_tasks_nightly_report.clean_up` must take the workflow's "
        r"inputs \['region'\] plus `err: FlyteError`",
    ):

        @union.workflow(on_failure=prog.clean_up)
        def regional(region: str) -> int:
            return prog.load_orders(day=region)


def test_on_failure_handler_must_be_a_task_or_workflow():
    def plain_function(err: union.FlyteError) -> None: ...

    with pytest.raises(UserError, match=r"on_failure expects a @task or @workflow, got function"):

        @union.workflow(on_failure=plain_function)
        def empty() -> None: ...
