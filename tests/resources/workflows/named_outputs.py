"""Named outputs: NamedTuple return types name the outputs of tasks and workflows."""

from typing import NamedTuple

import plait as union

# Both NamedTuple spellings name outputs: the functional one ...
SlopeResult = NamedTuple("SlopeResult", [("slope", float)])  # noqa: UP014
InterceptResult = NamedTuple("InterceptResult", [("intercept", float)])  # noqa: UP014


# ... and the class one.
class LineResult(NamedTuple):
    slope: float
    intercept: float


@union.task
def slope(x: list[int], y: list[int]) -> SlopeResult:
    n = len(x)
    sum_xy = sum(xi * yi for xi, yi in zip(x, y, strict=True))
    sum_x_squared = sum(xi**2 for xi in x)
    return (n * sum_xy - sum(x) * sum(y)) / (n * sum_x_squared - sum(x) ** 2)


@union.task
def intercept(x: list[int], y: list[int], slope: float) -> InterceptResult:
    mean_x = sum(x) / len(x)
    mean_y = sum(y) / len(y)
    return mean_y - slope * mean_x


@union.workflow
def line_with_named_outputs(x: list[int] = [-3, 0, 3], y: list[int] = [7, 4, -2]) -> LineResult:
    m = slope(x=x, y=y)
    c = intercept(x=x, y=y, slope=m.slope)
    return LineResult(slope=m.slope, intercept=c.intercept)


class Stats(NamedTuple):
    mean: float
    spread: int


@union.task
def summarize(values: list[int]) -> Stats:
    return Stats(mean=sum(values) / len(values), spread=max(values) - min(values))


@union.task
def describe(mean: float, spread: int) -> str:
    return f"mean {mean:g}, spread {spread}"


@union.workflow
def describe_values(values: list[int]) -> str:
    stats = summarize(values=values)
    # outputs are read by name, in any order
    return describe(spread=stats.spread, mean=stats.mean)


@union.workflow
def unpack_values(values: list[int]) -> (float, int):
    mean, spread = summarize(values=values)
    return mean, spread
