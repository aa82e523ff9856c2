"""Tasks and workflows with several outputs, read by name or unpacked, as Flyte programs do."""

import typing

from plait import task, workflow


@task
def fit_line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    var = sum((x - mean_x) ** 2 for x in xs)
    slope = cov / var
    return slope, mean_y - slope * mean_x


class LineFit(typing.NamedTuple):
    slope: float
    intercept: float


@task
def fit_named(xs: list[float], ys: list[float]) -> LineFit:
    slope, intercept = fit_line(xs=xs, ys=ys)
    return LineFit(slope, intercept)


@task
def describe(slope: float, intercept: float) -> str:
    return f"y = {slope:g}x + {intercept:g}"


@workflow
def trend(xs: list[float], ys: list[float]) -> tuple[str, float]:
    slope, intercept = fit_line(xs=xs, ys=ys)
    return describe(slope=slope, intercept=intercept), slope
