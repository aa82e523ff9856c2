"""A map over two lists that do not have the same length."""

import plait as union


@union.task
def pay(hours: int, rate: float) -> float:
    return hours * rate


@union.workflow
def payroll(hours: list[int], rates: list[float]) -> list[float]:
    return union.map(pay)(hours=hours, rate=rates)
