"""A workflow that loops over a list input with a Python `for`."""

import plait as union


@union.task
def square(n: int) -> int:
    return n * n


@union.workflow
def squares(numbers: list[int]) -> list[int]:
    return [square(n=n) for n in numbers]
