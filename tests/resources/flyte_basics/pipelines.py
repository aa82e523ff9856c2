"""A workflow calling a subworkflow, defined in a module of a package."""

from plait import task, workflow


@task
def total(amounts: list[int]) -> int:
    return sum(amounts)


@task
def label(value: int) -> str:
    return f"total sales: {value}"


@workflow
def summarize(amounts: list[int]) -> int:
    return total(amounts=amounts)


@workflow
def sales_report(amounts: list[int] = [3, 4, 5]) -> str:  # noqa: B006 - a Flyte default
    return label(value=summarize(amounts=amounts))
