"""Failures in an eager body: one caught with EagerException, one left to fail the run."""

from plait import FlyteRecoverableException, eager, task
from plait.exceptions.eager import EagerException

calls = {"flaky": 0}


@task
def check_reading(value: float) -> float:
    if value < 0:
        raise ValueError(f"a reading cannot be negative: {value}")
    return value


@task(retries=2)
def flaky_sensor() -> float:
    calls["flaky"] += 1
    if calls["flaky"] < 2:
        raise FlyteRecoverableException("sensor busy, try again")
    return 21.5


@eager
async def safe_reading(value: float) -> str:
    try:
        checked = await check_reading(value=value)
    except EagerException:
        return "invalid reading"
    return f"reading {checked}"


@eager
async def strict_reading(value: float) -> float:
    return await check_reading(value=value)


@eager
async def sensor_reading() -> float:
    return await flaky_sensor()
