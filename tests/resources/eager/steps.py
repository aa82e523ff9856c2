"""An eager loop of 40 short steps; each appends its index to a file, so a reader can
tell which steps ran and how often (a backend may die in the middle)."""

import time

from plait import eager, task

STEPS = 40


@task
def step(path: str, index: int, total: int) -> int:
    time.sleep(0.05)
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{index}\n")
    return total + index


@eager
async def step_by_step(path: str) -> int:
    total = 0
    for index in range(STEPS):
        total = await step(path=path, index=index, total=total)
    return total
