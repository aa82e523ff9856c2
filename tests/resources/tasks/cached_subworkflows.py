"""Caching a subworkflow and a sub-launch plan from the calling workflow."""

import os

import plait as union


def log_run(name: str) -> None:
    path = os.environ.get("RUN_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(name + "\n")


@union.task
def add_three(a: int, b: int, c: int) -> int:
    log_run("add_three")
    return a + b + c


@union.workflow
def child_wf(a: int, b: int, c: int) -> list[int]:
    return [add_three(a=a, b=b, c=c) for _ in range(2)]


child_lp = union.LaunchPlan.get_or_create(child_wf)


@union.workflow
def parent_with_subwf(start: int = 0) -> list[list[int]]:
    return [
        child_wf(a=start, b=3, c=4).with_overrides(
            cache=union.Cache(version="1.0", serialize=True, ignored_inputs=["a"])
        )
        for _ in range(3)
    ]


@union.workflow
def parent_with_sublp(start: int = 0) -> list[list[int]]:
    return [
        child_lp(a=start, b=1, c=2).with_overrides(
            cache=union.Cache(version="1.0", serialize=True, ignored_inputs=["a"])
        )
        for _ in range(3)
    ]


@union.workflow
def parent_uncached(start: int = 0) -> list[int]:
    return child_wf(a=start, b=3, c=4)
