"""A workflow body that prints while it is being built, as Flyte examples sometimes do."""

from plait import task, workflow


@task
def double(n: int) -> int:
    return n * 2


@workflow
def chatty(n: int = 2) -> int:
    print("building chatty")
    return double(n=double(n=n))
