"""Squares computed at once with asyncio.gather, then summed by a nested eager workflow."""

import asyncio
import time

from plait import eager, task


@task
def slow_square(n: int) -> int:
    time.sleep(0.5)
    return n * n


@task
def add_all(values: list[int]) -> int:
    return sum(values)


@eager
async def sum_up(values: list[int]) -> int:
    return await add_all(values=values)


@eager
async def sum_of_squares(count: int) -> int:
    squares = await asyncio.gather(*(slow_square(n=n) for n in range(count)))
    return await sum_up(values=list(squares))
