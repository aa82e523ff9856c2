"""Hourly readings: the time partition comes from the task at run time or from an input."""

from datetime import datetime
from typing import Annotated

import plait as union
from plait.artifacts import Granularity, Inputs

Readings = union.Artifact(
    name="sensor_readings",
    time_partitioned=True,
    time_partition_granularity=Granularity.HOUR,
)


@union.task
def read_sensors(taken_at: datetime, level: int) -> Annotated[list[int], Readings]:
    # the task decides the time partition when it returns
    return Readings.create_from([level, level + 1], time_partition=taken_at)


@union.workflow
def hourly(taken_at: datetime, level: int = 10) -> list[int]:
    return read_sensors(taken_at=taken_at, level=level)


DailyTotals = union.Artifact(name="daily_totals", time_partitioned=True)


@union.task
def total(day: datetime, values: list[int]) -> Annotated[int, DailyTotals(time_partition=Inputs.day)]:
    # the annotation binds the time partition to the `day` input
    return sum(values)


@union.workflow
def daily(day: datetime, values: list[int]) -> int:
    return total(day=day, values=values)


@union.task
def forgets_the_time(level: int) -> Annotated[list[int], Readings]:
    return [level]
