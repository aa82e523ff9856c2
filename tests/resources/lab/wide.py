"""A 500-node workflow: what the lab's DAG must draw quickly."""

import plait as union


@union.task
def step(x: int) -> int:
    return x + 1


@union.workflow
def wide(x: int = 0) -> list[int]:
    """Twenty chains of twenty-five steps."""
    ends = []
    for _ in range(20):
        value = x
        for _ in range(25):
            value = step(x=value)
        ends.append(value)
    return ends
