"""A chain of 200 quick steps; each appends its index to a file, so a reader can
tell which steps ran and how often."""

import time

import plait

STEPS = 200


@plait.task
def step(path: str, index: int, total: int) -> int:
    time.sleep(0.005)
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{index}\n")
    return total + index


@plait.workflow
def long_chain(path: str) -> int:
    total = 0
    for index in range(STEPS):
        total = step(path=path, index=index, total=total)
    return total
