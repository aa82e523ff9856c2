"""Map tasks: flag the anomalous readings of a series, one task run per reading."""

import typing

import plait as union

THRESHOLD = 11
READINGS = [10, 12, 11, 10, 13, 12, 100, 11, 12, 10]


@union.task
def is_anomaly(reading: int) -> bool:
    return reading > THRESHOLD


@union.workflow
def flag_anomalies(data: list[int] = READINGS) -> list[bool]:
    return union.map(is_anomaly)(reading=data)


@union.workflow
def flag_anomalies_with_more_memory(data: list[int] = READINGS) -> list[bool]:
    return union.map(is_anomaly)(reading=data).with_overrides(
        requests=union.Resources(mem="2Gi")
    )


@union.workflow
def flag_anomalies_one_at_a_time(data: list[int] = READINGS) -> list[typing.Optional[bool]]:  # noqa: UP045
    return union.map(is_anomaly, concurrency=1, min_success_ratio=0.75)(reading=data)


@union.task
def checked_anomaly(reading: int) -> bool:
    """A sensor sends -1 when it could not measure; that item fails."""
    if reading < 0:
        raise ValueError(f"sensor error: reading {reading}")
    return reading > THRESHOLD


@union.workflow
def flag_with_sensor_errors(data: list[int]) -> list[typing.Optional[bool]]:  # noqa: UP045
    return union.map(checked_anomaly, concurrency=2, min_success_ratio=0.75)(reading=data)
