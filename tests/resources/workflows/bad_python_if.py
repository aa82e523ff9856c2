"""A workflow that branches with a Python `if` on a workflow input."""

import plait as union


@union.task
def halve(n: int) -> int:
    return n // 2


@union.workflow
def halve_big_numbers(n: int) -> int:
    if n > 100:
        return halve(n=n)
    return n
