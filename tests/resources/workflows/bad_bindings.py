"""A workflow that passes a task's `str` output where an `int` is expected."""

import plait as union


@union.task
def read_label() -> str:
    return "seven"


@union.task
def add_one(count: int) -> int:
    return count + 1


@union.workflow
def label_plus_one() -> int:
    return add_one(count=read_label())
