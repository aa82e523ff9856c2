"""Entities for the lab's entity pages: a documented workflow with a launch plan of its own,
a plain task it runs, and a task with every run setting a page shows."""

import datetime as dt

import plait as union


@union.task
def normalise(values: list[float], scale: float = 1.0) -> list[float]:
    """Divide every value by the largest."""
    top = max(values) or 1.0
    return [scale * v / top for v in values]


@union.task(
    retries=2,
    cache=True,
    cache_version="1",
    timeout=dt.timedelta(minutes=1),
    requests=union.Resources(cpu="1", mem="200Mi"),
    limits=union.Resources(mem="1Gi"),
)
def fit(values: list[float]) -> float:
    """The mean of the values."""
    return sum(values) / len(values)


@union.workflow
def prepare(values: list[float], scale: float = 1.0) -> list[float]:
    """Normalise the values for training.

    Every value is divided by the largest, then multiplied by `scale`.
    """
    return normalise(values=values, scale=scale)


@union.workflow
def train(values: list[float]) -> float:
    """Fit the prepared values."""
    return fit(values=prepare(values=values))


prepare_nightly = union.LaunchPlan.get_or_create(prepare, name="prepare_nightly", default_inputs={"values": [1.0, 2.0]})
