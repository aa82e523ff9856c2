"""Launch plans: default and named plans, default and fixed inputs, run settings
carried in the spec, and launch plans called from workflows."""

from __future__ import annotations

from datetime import datetime, timedelta

import plait as union
import pytest
from plait.errors import CompileError, InputError, UserError
from plait.run.engine import execute


@pytest.fixture
def runs(tmp_path, monkeypatch):
    log = tmp_path / "runs.log"
    monkeypatch.setenv("RUN_LOG", str(log))
    return lambda: log.read_text().split() if log.exists() else []


@pytest.fixture
def orders(resource):
    return resource("tasks/order_launch_plans.py")


# ---- default and named launch plans ------------------------------------------------


def test_default_launch_plan_is_named_after_its_workflow(orders):
    assert orders.default_lp.name == orders.place_order.name == (
        "res_tasks_order_launch_plans.place_order"
    )
    assert orders.default_lp.workflow is orders.place_order
    assert orders.default_lp.to_spec()["default_inputs"] == {}
    assert orders.default_lp(count=2, item="pears") == "order: 2 x pears"


def test_default_launch_plan_needs_every_input(orders):
    with pytest.raises(InputError, match=r"needs input `item: str`; pass item=..."):
        orders.default_lp(count=2)


def test_get_or_create_returns_the_same_plan(orders):
    assert union.LaunchPlan.get_or_create(orders.place_order) is orders.default_lp
    again = union.LaunchPlan.get_or_create(workflow=orders.place_order, name="orders_custom")
    assert again is orders.named_lp
    assert orders.named_lp.name == "orders_custom"


def test_get_default_launch_plan(orders):
    ctx = union.current_context()
    assert union.LaunchPlan.get_default_launch_plan(ctx, orders.place_order) is orders.default_lp


def test_workflow_defaults_apply_through_the_default_launch_plan(orders):
    lp = union.LaunchPlan.get_or_create(orders.stamped)
    assert lp(moment=datetime(2024, 5, 1, 7, 30)) == "tick at 07:30"


def test_a_name_cannot_be_reused_with_other_settings(orders):
    with pytest.raises(UserError, match=r"launch plan `orders_custom` already exists for workflow .* other settings"):
        union.LaunchPlan.get_or_create(
            workflow=orders.place_order, name="orders_custom", default_inputs={"count": 3}
        )


def test_settings_need_a_name(orders):
    with pytest.raises(UserError, match=r"settings \['default_inputs'\] need a name"):
        union.LaunchPlan.get_or_create(orders.place_order, default_inputs={"count": 3})


def test_create_makes_a_new_plan_once(orders):
    lp = union.LaunchPlan.create("orders_created", orders.place_order, default_inputs={"count": 5})
    assert lp(item="rice") == "order: 5 x rice"
    with pytest.raises(UserError, match=r"launch plan `orders_created` already exists; use get_or_create"):
        union.LaunchPlan.create("orders_created", orders.place_order)


def test_a_launch_plan_needs_a_workflow(orders):
    with pytest.raises(UserError, match=r"expected a @workflow, got PythonFunctionTask; wrap a task"):
        union.LaunchPlan.get_or_create(orders.describe_order, name="orders_of_a_task")


# ---- default and fixed inputs ------------------------------------------------------


def test_default_inputs_are_used_and_can_be_overridden(orders):
    assert orders.defaults_lp() == "order: 12 x eggs"
    assert orders.defaults_lp(item="ham") == "order: 12 x ham"
    assert orders.defaults_lp(count=1, item="ham") == "order: 1 x ham"


def test_fixed_inputs_are_used_and_cannot_be_overridden(orders):
    assert orders.fixed_lp(item="nails") == "order: 100 x nails"
    with pytest.raises(
        InputError,
        match=r"launch plan `orders_with_fixed` fixes input\(s\) \['count'\]; they cannot be overridden",
    ):
        orders.fixed_lp(count=5, item="nails")


def test_fixed_inputs_cannot_be_overridden_inside_a_workflow(orders):
    with pytest.raises(CompileError, match=r"`orders_with_fixed` fixes input\(s\) \['count'\]"):

        @union.workflow
        def reorder() -> str:
            return orders.fixed_lp(count=1, item="bolts")


def test_fixed_inputs_cannot_be_overridden_on_a_run(orders):
    with pytest.raises(InputError, match=r"fixes input\(s\) \['count'\] \(count=100\)"):
        execute(orders.fixed_lp, {"count": 1, "item": "bolts"})


def test_combined_default_and_fixed_inputs(orders):
    assert orders.combined_lp() == "order: 200 x flour"
    assert orders.combined_lp(item="sugar") == "order: 200 x sugar"
    spec = orders.combined_lp.to_spec()
    assert spec["default_inputs"] == {"item": "flour"}
    assert spec["fixed_inputs"] == {"count": 200}
    # a fixed input is not an input of the plan at all
    assert list(spec["interface"]["inputs"]) == ["item"]
    assert spec["interface"]["inputs"]["item"]["required"] is False


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"default_inputs": {"count": "many"}}, r"default_inputs\['count'\] expects `int`, got 'many'"),
        ({"fixed_inputs": {"colour": "red"}}, r"fixed_inputs names `colour`, which is not an input"),
        ({"default_inputs": {"count": 1}, "fixed_inputs": {"count": 2}}, r"\['count'\] are both fixed and defaulted"),
        ({"max_parallelism": -1}, r"max_parallelism expects a whole number >= 0"),
    ],
    ids=["wrong-type", "unknown-input", "fixed-and-default", "negative-parallelism"],
)
def test_bad_launch_plan_inputs_are_explained(orders, settings, message):
    with pytest.raises(InputError, match=message):
        union.LaunchPlan.get_or_create(orders.place_order, name="orders_careless", **settings)


# ---- settings carried in the spec ----------------------------------------------------


def test_schedules_are_carried_in_the_spec(orders):
    assert orders.weekly_lp.to_spec()["schedule"] == {
        "kind": "cron",
        "schedule": "0 10 * * 1",
        "cron_expression": None,
        "kickoff_time_input_arg": None,
    }
    fixed_rate = orders.six_hourly_lp.to_spec()["schedule"]
    assert fixed_rate["kind"] == "fixed_rate"
    assert (fixed_rate["value"], fixed_rate["unit"]) == (6, "HOUR")
    assert orders.kickoff_lp.to_spec()["schedule"]["kickoff_time_input_arg"] == "moment"


def test_kickoff_time_input_must_be_a_datetime_input(orders):
    with pytest.raises(InputError, match=r"kickoff_time_input_arg `item` must name a `datetime` input"):
        union.LaunchPlan.get_or_create(
            orders.place_order,
            name="orders_bad_kickoff",
            schedule=union.FixedRate(duration=timedelta(hours=1), kickoff_time_input_arg="item"),
        )


def test_everything_together_is_carried_in_the_spec(orders):
    spec = orders.full_lp.to_spec()
    assert spec["workflow"] == orders.place_order.name
    assert spec["fixed_inputs"] == {"count": 42}
    assert spec["default_inputs"] == {"item": "tea"}
    assert spec["schedule"]["schedule"] == "0 9 * * *"
    assert spec["notifications"] == [
        {"channel": "email", "phases": ["SUCCEEDED", "FAILED"],
         "recipients_email": ["kitchen@example.com"]},
        {"channel": "slack", "phases": ["TIMED_OUT"],
         "recipients_email": ["orders-channel@example.slack.com"]},
    ]
    assert spec["labels"] == {"values": {"env": "production", "team": "kitchen"}}
    assert spec["annotations"]["values"]["owner"] == "sam"
    assert spec["max_parallelism"] == 20
    assert spec["overwrite_cache"] is False
    assert spec["auto_activate"] is True
    assert spec["auth_role"]["assumable_iam_role"] == "arn:aws:iam::12345678:role/orders"
    assert spec["security_context"]["run_as"]["k8s_service_account"] == "orders-runner"
    assert spec["raw_output_data_config"] == {"output_location_prefix": "s3://orders-bucket/daily/"}
    assert orders.full_lp() == "order: 42 x tea"


def test_a_changed_plan_has_a_new_version(orders):
    before = orders.defaults_lp.to_spec()["version"]
    changed = union.LaunchPlan(
        "orders_with_defaults", orders.place_order, default_inputs={"count": 13, "item": "eggs"}
    )
    assert changed.to_spec()["version"] != before
    same = union.LaunchPlan(
        "orders_with_defaults", orders.place_order, default_inputs={"count": 12, "item": "eggs"}
    )
    assert same.to_spec()["version"] == before


def test_overwrite_cache_on_a_launch_plan_recomputes_every_run(orders, runs):
    first = orders.token_flow(prefix="t-")
    assert orders.token_flow(prefix="t-") == first  # the workflow alone hits the cache
    fresh = orders.always_fresh_lp(prefix="t-")
    assert fresh != first
    assert runs() == ["fresh_token", "fresh_token"]
    assert orders.always_fresh_lp.to_spec()["overwrite_cache"] is True


# ---- sub-launch plans ----------------------------------------------------------------


def test_launch_plan_called_from_a_workflow(orders):
    assert orders.sums_via_launch_plan() == [3, 6, 9]
    nodes = orders.sums_via_launch_plan.to_spec()["nodes"]
    assert [n["kind"] for n in nodes] == ["launch_plan"] * 3
    assert {n["entity"] for n in nodes} == {orders.sum_flow.name}


def test_sub_launch_plan_runs_as_its_own_execution(orders):
    own, subworkflow, sub_launch_plan = orders.compare_executions()
    assert subworkflow == own  # a subworkflow shares the parent's execution
    assert sub_launch_plan != own  # a sub-launch plan is a new execution
