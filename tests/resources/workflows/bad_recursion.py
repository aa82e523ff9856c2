"""A recursive dynamic workflow whose base case is never reached."""

import plait as union


@union.task
def decrement(n: int) -> int:
    return n - 1


@union.dynamic
def countdown(n: int) -> int:
    # forgot `if n <= 0: return ...`
    return countdown(n=decrement(n=n))


@union.workflow
def run_countdown(n: int) -> int:
    return countdown(n=n)
