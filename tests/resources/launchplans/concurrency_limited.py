"""Launch plans with a concurrency limit, and one launched from inside a workflow.

`nap_lp` allows three executions at once (counted across its versions);
`nap_lp_wide` is the same plan name registered later with room for five.
`twice_limited` starts two children of `one_at_a_time_lp`, which allows one:
the second is over the limit while the first runs.
"""

import time

import plait
from plait import ConcurrencyPolicy


@plait.task
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@plait.workflow
def napping(seconds: float = 1.0) -> float:
    return nap(seconds=seconds)


nap_lp = plait.LaunchPlan.get_or_create(
    napping, name="nap_lp", concurrency=ConcurrencyPolicy(max_concurrency=3),
)


def wider_nap_lp() -> plait.LaunchPlan:
    """The plan `nap_lp` as a later version would define it: five at once."""
    return plait.LaunchPlan(
        "nap_lp", napping, concurrency=ConcurrencyPolicy(max_concurrency=5),
    )


one_at_a_time_lp = plait.LaunchPlan.get_or_create(
    napping, name="one_at_a_time_lp", concurrency=ConcurrencyPolicy(max_concurrency=1),
)


@plait.workflow
def twice_limited(seconds: float = 3.0) -> tuple[float, float]:
    first = one_at_a_time_lp(seconds=seconds)
    second = one_at_a_time_lp(seconds=seconds)
    return first, second


@plait.workflow
def mapped_limited(seconds: list[float]) -> list[float]:
    """A map over `one_at_a_time_lp`: its items are launches of the plan, counted by its limit."""
    return plait.map(one_at_a_time_lp)(seconds=seconds)
