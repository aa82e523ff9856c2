"""A nightly job with a failing step, an independent branch and a clean-up handler."""

import os
import time

import plait as union


def log_run(name: str) -> None:
    path = os.environ.get("RUN_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(name + "\n")


@union.task
def load_orders(day: str) -> int:
    log_run("load_orders")
    raise ValueError(f"no orders file for {day}")


@union.task
def refresh_prices(day: str) -> str:
    time.sleep(0.3)
    log_run("refresh_prices")
    return day


@union.task
def publish_prices(day: str) -> None:
    log_run("publish_prices")


@union.task
def count_customers(day: str) -> int:
    log_run("count_customers")
    return 42


@union.workflow
def nightly(day: str) -> int:
    publish_prices(day=refresh_prices(day=day))
    return load_orders(day=day)


@union.workflow(
    failure_policy=union.WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
)
def nightly_finish_what_can_run(day: str) -> int:
    publish_prices(day=refresh_prices(day=day))
    return load_orders(day=day)


@union.task
def clean_up(day: str, err: union.FlyteError | None = None) -> None:
    log_run(f"clean_up:{day}")
    log_run("error:" + err.message.replace(" ", "_"))
    log_run(f"failed_node:{err.failed_node_id}")


@union.workflow(on_failure=clean_up)
def nightly_with_clean_up(day: str) -> int:
    return load_orders(day=day)


@union.task
def notify_team(day: str, error: union.FlyteError) -> None:
    log_run(f"notify_team:{day}")


@union.workflow(on_failure=notify_team)
def nightly_with_notice(day: str) -> int:
    return count_customers(day=day)


@union.workflow(on_failure=notify_team)
def nightly_failing_with_notice(day: str) -> int:
    return load_orders(day=day)
