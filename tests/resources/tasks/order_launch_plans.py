"""Launch plans for one workflow, as the "Launch plans" chapters define them."""

import os
from datetime import datetime, timedelta

import plait as union


def log_run(name: str) -> None:
    path = os.environ.get("RUN_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(name + "\n")


@union.task
def describe_order(count: int, item: str) -> str:
    return f"order: {count} x {item}"


@union.workflow
def place_order(count: int, item: str) -> str:
    return describe_order(count=count, item=item)


default_lp = union.LaunchPlan.get_or_create(workflow=place_order)

named_lp = union.LaunchPlan.get_or_create(workflow=place_order, name="orders_custom")

defaults_lp = union.LaunchPlan.get_or_create(
    workflow=place_order,
    name="orders_with_defaults",
    default_inputs={"count": 12, "item": "eggs"},
)

fixed_lp = union.LaunchPlan.get_or_create(
    workflow=place_order,
    name="orders_with_fixed",
    fixed_inputs={"count": 100},
)

combined_lp = union.LaunchPlan.get_or_create(
    workflow=place_order,
    name="orders_combined",
    default_inputs={"item": "flour"},
    fixed_inputs={"count": 200},
)

weekly_lp = union.LaunchPlan.get_or_create(
    workflow=place_order,
    name="orders_every_monday",
    default_inputs={"count": 1, "item": "coffee"},
    schedule=union.CronSchedule(schedule="0 10 * * 1"),
)

six_hourly_lp = union.LaunchPlan.get_or_create(
    workflow=place_order,
    name="orders_every_six_hours",
    default_inputs={"count": 1, "item": "milk"},
    schedule=union.FixedRate(duration=timedelta(hours=6)),
)

full_lp = union.LaunchPlan.get_or_create(
    workflow=place_order,
    name="orders_everything",
    default_inputs={"item": "tea"},
    fixed_inputs={"count": 42},
    schedule=union.CronSchedule(schedule="0 9 * * *"),
    notifications=[
        union.Email(
            phases=[union.WorkflowExecutionPhase.SUCCEEDED, union.WorkflowExecutionPhase.FAILED],
            recipients_email=["kitchen@example.com"],
        ),
        union.Slack(
            phases=[union.WorkflowExecutionPhase.TIMED_OUT],
            recipients_email=["orders-channel@example.slack.com"],
        ),
    ],
    labels=union.Labels({"env": "production", "team": "kitchen"}),
    annotations=union.Annotations({"description": "Daily order run", "owner": "sam"}),
    max_parallelism=20,
    overwrite_cache=False,
    auto_activate=True,
    auth_role=union.AuthRole(assumable_iam_role="arn:aws:iam::12345678:role/orders"),
    security_context=union.SecurityContext(
        run_as=union.SecurityContext.K8sServiceAccount(name="orders-runner")
    ),
    raw_output_data_config=union.RawOutputDataConfig(
        output_location_prefix="s3://orders-bucket/daily/"
    ),
)


@union.task
def stamp(moment: datetime, note: str) -> str:
    return f"{note} at {moment:%H:%M}"


@union.workflow
def stamped(moment: datetime, note: str = "tick") -> str:
    return stamp(moment=moment, note=note)


kickoff_lp = union.LaunchPlan.get_or_create(
    workflow=stamped,
    name="stamped_hourly",
    schedule=union.CronSchedule(schedule="@hourly", kickoff_time_input_arg="moment"),
)


# ---- sub-launch plans -------------------------------------------------------


@union.task
def add_three(a: int, b: int, c: int) -> int:
    return a + b + c


@union.workflow
def sum_flow(a: int, b: int, c: int) -> int:
    return add_three(a=a, b=b, c=c)


sum_lp = union.LaunchPlan.get_or_create(sum_flow)


@union.workflow
def sums_via_launch_plan() -> list[int]:
    return [sum_lp(a=i, b=i, c=i) for i in [1, 2, 3]]


@union.task
def execution_of_this_task() -> str:
    return union.current_context().execution_id.name


@union.workflow
def report_execution() -> str:
    return execution_of_this_task()


report_execution_lp = union.LaunchPlan.get_or_create(report_execution)


@union.workflow
def compare_executions() -> list[str]:
    return [execution_of_this_task(), report_execution(), report_execution_lp()]


@union.task(cache=union.Cache(version="1"))
def fresh_token(prefix: str) -> str:
    log_run("fresh_token")
    return prefix + os.urandom(4).hex()


@union.workflow
def token_flow(prefix: str) -> str:
    return fresh_token(prefix=prefix)


always_fresh_lp = union.LaunchPlan.get_or_create(
    token_flow, name="token_flow_fresh", overwrite_cache=True
)
