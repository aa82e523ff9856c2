"""A map of 1,000 items that each take a few milliseconds and log their index
and the process that ran them."""

import os
import time

import plait


@plait.task(retries=0)
def square(path: str, n: int) -> int:
    time.sleep(0.005)
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{n} {os.getpid()}\n")
    return n * n


@plait.workflow
def squares(path: str, numbers: list[int]) -> list[int]:
    return plait.map(square, bound_inputs=["path"])(path=path, n=numbers)
