"""Standard workflows and subworkflows: a regression line from a nested workflow.

`fit_line` is a workflow of its own and also a subworkflow of `predict`,
which is itself nested inside `predict_at_five`.
"""

import plait as union


@union.task
def slope(x: list[int], y: list[int]) -> float:
    n = len(x)
    sum_xy = sum(xi * yi for xi, yi in zip(x, y, strict=True))
    sum_x_squared = sum(xi**2 for xi in x)
    return (n * sum_xy - sum(x) * sum(y)) / (n * sum_x_squared - sum(x) ** 2)


@union.task
def intercept(x: list[int], y: list[int], slope: float) -> float:
    mean_x = sum(x) / len(x)
    mean_y = sum(y) / len(y)
    return mean_y - slope * mean_x


@union.workflow
def fit_line(x: list[int], y: list[int]) -> (float, float):
    m = slope(x=x, y=y)
    c = intercept(x=x, y=y, slope=m)
    return m, c


@union.task
def point_on_line(val: int, slope_value: float, intercept_value: float) -> float:
    return slope_value * val + intercept_value


@union.workflow
def predict(val: int = 5, x: list[int] = [-3, 0, 3], y: list[int] = [7, 4, -2]) -> float:
    m, c = fit_line(x=x, y=y)
    return point_on_line(val=val, slope_value=m, intercept_value=c)


@union.workflow
def predict_at_five() -> float:
    return predict()
