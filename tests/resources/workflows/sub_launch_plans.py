"""Sub-launch plans: a parent workflow starts child executions through a launch plan.

A subworkflow shares its parent's execution; a sub-launch plan gets its own.
"""

import plait as union


@union.task
def add(a: int, b: int) -> int:
    return a + b


@union.workflow
def pair_sum(a: int, b: int) -> int:
    return add(a=a, b=b)


# The default launch plan of `pair_sum`.
pair_sum_lp = union.LaunchPlan.get_or_create(pair_sum)


@union.workflow
def both_ways() -> (int, int):
    embedded = pair_sum(a=3, b=4)  # a subworkflow: part of this execution
    launched = pair_sum_lp(a=1, b=2)  # a sub-launch plan: a child execution
    return embedded, launched


@union.task
def add_three(a: int, b: int, c: int) -> int:
    return a + b + c


@union.workflow
def triple_sum(a: int, b: int, c: int) -> int:
    return add_three(a=a, b=b, c=c)


triple_sum_lp = union.LaunchPlan.get_or_create(triple_sum)


@union.workflow
def fan_out() -> list[int]:
    return [triple_sum_lp(a=i, b=i, c=i) for i in [1, 2, 3]]


@union.task
def execution_name() -> str:
    return union.current_context().execution_id.name


@union.workflow
def report_execution() -> str:
    return execution_name()


report_execution_lp = union.LaunchPlan.get_or_create(report_execution)


@union.workflow
def compare_executions() -> (str, str, str):
    own = execution_name()
    as_subworkflow = report_execution()
    as_launch_plan = report_execution_lp()
    return own, as_subworkflow, as_launch_plan
