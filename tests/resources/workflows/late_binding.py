"""A workflow written above the task it calls, as notebook cells often are."""

import plait as union


@union.workflow
def tripled(n: int) -> int:
    return triple(n=n)


@union.task
def triple(n: int) -> int:
    return n * 3
