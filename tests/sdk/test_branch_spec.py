"""A conditional's spec: its case outputs are bindings like any other, field accesses included."""

from __future__ import annotations

from dataclasses import dataclass

import plait


@dataclass
class Summary:
    total: float
    count: int


@plait.task
def summarise(values: list[float]) -> Summary:
    return Summary(sum(values), len(values))


@plait.task
def mean(summary: Summary) -> float:
    return summary.total / summary.count


@plait.workflow
def mean_or_total(values: list[float]) -> float:
    summary = summarise(values=values)
    return (
        plait.conditional("enough")
        .if_(summary.count > 2)
        .then(mean(summary=summary))
        .else_()
        .then(summary.total)
    )


def test_a_case_output_read_through_a_field_keeps_the_field_in_the_spec() -> None:
    branch = mean_or_total.to_spec()["nodes"][1]
    first, otherwise = branch["branch"]["cases"]
    assert first["outputs"] == {"o0": {"ref": {"node": "n2", "output": "o0"}}}
    assert otherwise["outputs"] == {"o0": {"ref": {"node": "n0", "output": "o0", "path": ["total"]}}}


def test_a_case_output_read_through_a_field_runs_locally() -> None:
    assert mean_or_total(values=[1.0, 2.0, 3.0]) == 2.0
    assert mean_or_total(values=[1.0, 2.0]) == 3.0
