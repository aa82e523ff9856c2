"""Use `functools.partial` to fix some inputs of a task inside a workflow."""

import functools

import plait as union


@union.task
def slope(x: list[int], y: list[int]) -> float:
    n = len(x)
    sum_xy = sum(xi * yi for xi, yi in zip(x, y, strict=True))
    sum_x_squared = sum(xi**2 for xi in x)
    return (n * sum_xy - sum(x) * sum(y)) / (n * sum_x_squared - sum(x) ** 2)


@union.workflow
def slope_with_partial(x: list[int], y: list[int]) -> float:
    slope_of_x = functools.partial(slope, x=x)
    return slope_of_x(y=y)


@union.task
def scale(value: int, factor: int) -> int:
    return value * factor


@union.workflow
def triple_each(values: list[int]) -> list[int]:
    # partial also fixes an input for every item of a map
    return union.map(functools.partial(scale, factor=3))(value=values)
