"""Tasks that fail in the ways the "Retries and timeouts" chapter describes."""

import os
import time
from datetime import timedelta

import plait as union


def log_run(name: str) -> None:
    path = os.environ.get("RUN_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(name + "\n")


@union.task(retries=2)
def average_price(prices: list[float], busy_attempts: int) -> float:
    """The price service is busy for the first `busy_attempts` attempts."""
    attempt = union.current_context().attempt_number
    log_run(f"attempt-{attempt}")
    if attempt <= busy_attempts:
        raise union.FlyteRecoverableException(f"price service busy on attempt {attempt}")
    return sum(prices) / len(prices)


@union.task(retries=3)
def strict_average(prices: list[float]) -> float:
    log_run("strict_average")
    if not prices:
        raise ValueError("no prices to average")
    return sum(prices) / len(prices)


@union.task(timeout=timedelta(seconds=0.5))
def poll_forever(queue: str) -> int:
    polls = 0
    while True:
        polls += 1
        log_run("poll")
        time.sleep(0.05)


@union.task(timeout=0.5, retries=1)
def slow_on_first_attempt(message: str) -> str:
    attempt = union.current_context().attempt_number
    log_run(f"attempt-{attempt}")
    if attempt == 1:
        for _ in range(200):
            time.sleep(0.05)
    return f"{message} on attempt {attempt}"


@union.task
def fragile_average(prices: list[float], busy_attempts: int) -> float:
    """No retries of its own; a workflow may grant some with with_overrides."""
    attempt = union.current_context().attempt_number
    log_run(f"attempt-{attempt}")
    if attempt <= busy_attempts:
        raise union.FlyteRecoverableException("busy")
    return sum(prices) / len(prices)


@union.task
def nap(seconds: float) -> str:
    for _ in range(int(seconds / 0.05)):
        time.sleep(0.05)
    return "rested"


@union.workflow
def patient_pricing(prices: list[float]) -> float:
    return fragile_average(prices=prices, busy_attempts=2).with_overrides(retries=2)


@union.workflow
def impatient_nap() -> str:
    return nap(seconds=5.0).with_overrides(timeout="300ms")
