"""A small pipeline whose last step fails on some inputs: the debug workspace's subject.

`normalise` divides each reading by the total weight; a batch whose weights sum to
zero makes it fail with ZeroDivisionError, on the backend as in a debug workspace.
"""

import plait


@plait.task
def total_weight(weights: list[float]) -> float:
    return sum(weights)


@plait.task
def normalise(readings: dict[str, float], total: float, label: str) -> dict[str, float]:
    scale = 1.0 / total
    return {f"{label}:{key}": value * scale for key, value in readings.items()}


@plait.workflow
def scoring_wf(readings: dict[str, float], weights: list[float], label: str = "batch") -> dict[str, float]:
    total = total_weight(weights=weights)
    return normalise(readings=readings, total=total, label=label)
