"""Two tasks that share no data: the engine runs them at the same time."""

import time

import plait as union


@union.task
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@union.workflow
def two_naps(seconds: float = 0.3) -> (float, float):
    first = nap(seconds=seconds)
    second = nap(seconds=seconds)
    return first, second
