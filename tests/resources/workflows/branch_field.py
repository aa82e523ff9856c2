"""A conditional whose case hands on a field of a task's output."""

from dataclasses import dataclass

import plait as union


@dataclass
class Summary:
    total: float
    count: int


@union.task
def summarise(values: list[float]) -> Summary:
    return Summary(sum(values), len(values))


@union.task
def mean(summary: Summary) -> float:
    return summary.total / summary.count


@union.workflow
def mean_or_total(values: list[float]) -> float:
    summary = summarise(values=values)
    return (
        union.conditional("enough")
        .if_(summary.count > 2)
        .then(mean(summary=summary))
        .else_()
        .then(summary.total)
    )
