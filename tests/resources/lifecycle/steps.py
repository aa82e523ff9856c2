"""Programs for the execution lifecycle tests: abort, relaunch, recover, logs, resources."""

import os
import time

import plait


@plait.task
def slow(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@plait.task
def chatty(lines: int, pause: float) -> int:
    for i in range(lines):
        print(f"line {i}", flush=True)
        time.sleep(pause)
    return lines


@plait.task
def record(path: str, step: str) -> str:
    with open(path, "a") as fh:
        fh.write(step + "\n")
    return step


@plait.task
def flaky_step(path: str, flag: str, previous: str) -> str:
    """Fails until the file `flag` exists (the user "fixes" things, then recovers)."""
    if not os.path.exists(flag):
        raise RuntimeError("the input data is not there yet")
    with open(path, "a") as fh:
        fh.write("second\n")
    return previous + "+second"


@plait.workflow
def two_steps(path: str, flag: str) -> str:
    first = record(path=path, step="first")
    return flaky_step(path=path, flag=flag, previous=first)


@plait.task(limits=plait.Resources(gpu=1))
def needs_gpu(x: int) -> int:
    return x


@plait.task
def hungry(megabytes: int) -> int:
    block = bytearray(megabytes * 1024 * 1024)
    time.sleep(0.6)
    return len(block) // (1024 * 1024)
