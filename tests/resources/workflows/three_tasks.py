"""Core concepts: three tasks wired into one workflow by their inputs and outputs."""

import plait as union


@union.task
def total(a: int, b: int, c: int) -> int:
    return a + b + c


@union.task
def product(m: int, n: int) -> int:
    return m * n


@union.task
def difference(x: int, y: int) -> int:
    return x - y


@union.workflow
def combine(a: int, b: int, c: int, m: int, n: int) -> int:
    summed = total(a=a, b=b, c=c)
    multiplied = product(m=m, n=n)
    return difference(x=summed, y=multiplied)
