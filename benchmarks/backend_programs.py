"""The programs the backend benchmark registers and runs."""

import plait


@plait.task
def inc(x: int) -> int:
    return x + 1


@plait.workflow
def chain(x: int) -> int:
    for _ in range(200):
        x = inc(x=x)
    return x


@plait.workflow
def short_chain(x: int) -> int:
    for _ in range(3):
        x = inc(x=x)
    return x


@plait.workflow
def mapped(xs: list[int]) -> list[int]:
    return plait.map(inc)(x=xs)
