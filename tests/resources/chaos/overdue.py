"""A task that runs far past its timeout, and a quick one to run after it."""

import time

import plait


@plait.task(timeout=1)
def sleepy(seconds: float) -> str:
    time.sleep(seconds)
    return "woke up"


@plait.task
def quick(x: int) -> int:
    return x + 1
